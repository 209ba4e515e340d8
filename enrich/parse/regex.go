package parse

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
)

var (
	errNoName         = errors.New("parser name is empty")
	errNoNamedGroup   = errors.New("regexp has no named group (?P<name>...) or (?<name>...)")
	errDuplicateGroup = errors.New("group name used twice")
	errUnknownType    = errors.New("unknown type, want integer, float, bool or string")
	errNoSuchGroup    = errors.New("regexp has no group of that name")
)

// fieldType is how a regular-expression field is written in JSON.
type fieldType uint8

const (
	typeString fieldType = iota
	typeInteger
	typeFloat
	typeBool
)

var fieldTypes = map[string]fieldType{
	"string":  typeString,
	"integer": typeInteger,
	"float":   typeFloat,
	"bool":    typeBool,
}

// regexParser turns the named groups of a regular expression into fields.
type regexParser struct {
	name   string
	re     *regexp.Regexp
	fields []regexField // in group order
}

// regexField is one named group.
type regexField struct {
	group int
	name  string
	key   string // `"name":`
	typ   fieldType
}

// NewRegex returns a parser from an RE2 expression with named groups (?P<name>...) or (?<name>...);
// each named group that matched becomes a string field (unnamed groups are ignored). Types: optional map
// from field name to "integer", "float" or "bool" ("string" is accepted and is the default): such a field
// is written as a JSON number/bool when it parses as one, else as a string. Errors say what is wrong: no
// named group, bad regexp, unknown type, type for a field the regexp has no group for.
//
// As in Fluent Bit, the expression is not anchored unless it says so (^...$), and a group that matched
// the empty string or did not take part in the match is left out (Fluent Bit's Skip_Empty_Values). Two
// groups may not share a name, so that keys are unique. Integers are written in canonical form (+07 is
// 7); floats (what strconv.ParseFloat reads) as written when that is a JSON number, else in shortest
// form (.5 is 0.5, 1_0 is 10); infinities, NaN and out-of-range numbers stay strings. Bools accept what
// strconv.ParseBool does (1, t, TRUE, ...).
func NewRegex(name, expr string, types map[string]string) (Parser, error) {
	if name == "" {
		return nil, errNoName
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("parser %q: %w", name, err)
	}
	p := &regexParser{name: name, re: re}
	for group, field := range re.SubexpNames() {
		if field == "" {
			continue
		}
		if slices.ContainsFunc(p.fields, func(f regexField) bool { return f.name == field }) {
			return nil, fmt.Errorf("parser %q: group %q: %w", name, field, errDuplicateGroup)
		}
		key := string(appendString(nil, []byte(field))) + ":"
		p.fields = append(p.fields, regexField{group: group, name: field, key: key})
	}
	if len(p.fields) == 0 {
		return nil, fmt.Errorf("parser %q: %w", name, errNoNamedGroup)
	}
	for _, field := range slices.Sorted(maps.Keys(types)) {
		typ, ok := fieldTypes[types[field]]
		if !ok {
			return nil, fmt.Errorf("parser %q: field %q: type %q: %w", name, field, types[field], errUnknownType)
		}
		i := slices.IndexFunc(p.fields, func(f regexField) bool { return f.name == field })
		if i < 0 {
			return nil, fmt.Errorf("parser %q: type %q for field %q: %w", name, types[field], field, errNoSuchGroup)
		}
		p.fields[i].typ = typ
	}
	return p, nil
}

// mustRegex is NewRegex for the builtins, whose expressions are constants checked by the tests.
func mustRegex(name, expr string) Parser {
	p, err := NewRegex(name, expr, nil)
	if err != nil {
		panic(err)
	}
	return p
}

func (p *regexParser) Name() string { return p.name }

// Parse allocates one slice of submatch indexes when the line matches: the regexp package has no way to
// match into a caller's buffer.
func (p *regexParser) Parse(dst, line []byte) ([]byte, bool) {
	m := p.re.FindSubmatchIndex(line)
	if m == nil {
		return dst, false
	}
	dst = append(dst, '{')
	more := false
	for _, f := range p.fields {
		start, end := m[2*f.group], m[2*f.group+1]
		if start >= end {
			continue // empty, or the group did not take part (-1, -1)
		}
		if more {
			dst = append(dst, ',')
		}
		more = true
		dst = append(dst, f.key...)
		dst = appendTyped(dst, line[start:end], f.typ)
	}
	return append(dst, '}'), true
}

// appendTyped appends v as typ if it parses as one, else as a string.
func appendTyped(dst, v []byte, typ fieldType) []byte {
	switch typ {
	case typeInteger:
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return strconv.AppendInt(dst, n, 10)
		}
	case typeFloat:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			break
		}
		if skipJSONNumber(v, 0) == len(v) {
			return append(dst, v...)
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64)
	case typeBool:
		if b, err := strconv.ParseBool(string(v)); err == nil {
			return strconv.AppendBool(dst, b)
		}
	}
	return appendString(dst, v)
}
