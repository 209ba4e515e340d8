package config

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is one problem in the configuration, located by file, line and key.
type Error struct {
	// Where is "file:line", "file" when the key is not in the file (a
	// default), or "flag --name" when a flag set it.
	Where string
	// Key is the dotted key path, or "" for a problem with the file itself.
	Key string
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.Where + ": " + e.Msg
	}
	return e.Where + ": " + e.Key + ": " + e.Msg
}

// Source remembers where each key's value came from, to locate errors.
type Source struct {
	name    string
	origins map[string]string // key path -> "file:line" or "flag --x"
	// decodeErrs are the problems decoding found; Check reports them with
	// the ones Validate finds.
	decodeErrs []*Error
	syntax     bool // the file is not YAML: nothing was decoded
}

// Syntax reports whether the file could not be parsed as YAML at all.
func (s *Source) Syntax() bool { return s.syntax }

// Where returns where key was set: "file:line", "flag --x", or the file
// name alone for a default.
func (s *Source) Where(key string) string {
	for k := key; k != ""; {
		if w, ok := s.origins[k]; ok {
			return w
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return s.name
}

// SetFlag records that a flag set key.
func (s *Source) SetFlag(key, flag string) { s.origins[key] = "flag --" + flag }

// Override sets key of cfg to val as the flag --flag gave it, decoded as
// the file's values are (a comma-separated val is a list for list keys),
// and records the flag as the key's origin. A value that does not decode
// is reported by Check, located at the flag.
func (s *Source) Override(cfg *Config, key, flag, val string) {
	s.SetFlag(key, flag)
	d := &decoder{src: s, getenv: func(string) string { return "" }, where: "flag --" + flag}
	v := reflect.ValueOf(cfg).Elem()
	for _, name := range strings.Split(key, ".") {
		f, ok := fieldByTag(v.Type(), name)
		if !ok {
			d.fail(nil, key, "no such key")
			v = reflect.Value{}
			break
		}
		v = v.Field(f)
	}
	if v.IsValid() {
		n := &yaml.Node{Kind: yaml.ScalarNode, Value: val}
		if v.Kind() == reflect.Slice {
			n = &yaml.Node{Kind: yaml.SequenceNode}
			for _, item := range strings.Split(val, ",") {
				n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: item})
			}
		}
		d.value(n, v, key)
	}
	s.decodeErrs = append(s.decodeErrs, d.errs...)
}

// fieldByTag returns the index of the field of t whose yaml tag is name.
func fieldByTag(t reflect.Type, name string) (int, bool) {
	if t.Kind() != reflect.Struct {
		return 0, false
	}
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("yaml") == name {
			return i, true
		}
	}
	return 0, false
}

// Errorf returns an *Error for key.
func (s *Source) Errorf(key, format string, args ...any) *Error {
	return &Error{Where: s.Where(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// Check locates the problems Validate found and adds those decoding
// found; it returns nil when there are none, else every problem joined, one
// per line, in file order (problems with defaults and flags come last). A
// key that could not be decoded kept its default, so what Validate says
// about it is left out.
func (s *Source) Check(fes []*FieldError) error {
	bad := map[string]bool{}
	for _, e := range s.decodeErrs {
		bad[e.Key] = true
	}
	located := append([]*Error(nil), s.decodeErrs...)
	for _, fe := range fes {
		if !bad[fe.Key] {
			located = append(located, s.Errorf(fe.Key, "%s", fe.Msg))
		}
	}
	slices.SortStableFunc(located, func(a, b *Error) int { return cmp.Compare(lineOf(a.Where), lineOf(b.Where)) })
	errs := make([]error, len(located))
	for i, e := range located {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// lineOf is the line of "file:line", or a large number for anything else.
func lineOf(where string) int {
	if i := strings.LastIndexByte(where, ':'); i >= 0 && !strings.HasPrefix(where, "flag ") {
		if n, err := strconv.Atoi(where[i+1:]); err == nil {
			return n
		}
	}
	return math.MaxInt
}

// Parse decodes data, the contents of the file called name, over
// Default(getenv). It expands ${VAR} and ${VAR:-default} in values with
// getenv. It does not call Validate, so that flags can be applied first.
// Every decoding problem is returned, joined, each an *Error.
func Parse(name string, data []byte, getenv func(string) string) (Config, *Source, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	cfg := Default(getenv)
	src := &Source{name: name, origins: map[string]string{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		src.syntax = true
		return cfg, src, syntaxError(name, err)
	}
	if len(doc.Content) == 0 { // empty file: all defaults
		return cfg, src, nil
	}
	d := &decoder{src: src, getenv: getenv}
	d.value(doc.Content[0], reflect.ValueOf(&cfg).Elem(), "")
	src.decodeErrs = d.errs
	errs := make([]error, len(d.errs))
	for i, e := range d.errs {
		errs[i] = e
	}
	return cfg, src, errors.Join(errs...)
}

// Load is Parse followed by Validate: it returns every problem of the
// file at once (or the syntax error that stopped parsing).
func Load(name string, data []byte, getenv func(string) string) (Config, error) {
	cfg, src, err := Parse(name, data, getenv)
	if src.Syntax() {
		return cfg, err
	}
	return cfg, src.Check(cfg.Validate())
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// syntaxError turns yaml's "yaml: line 3: msg" into "file:3: msg".
func syntaxError(name string, err error) error {
	var errs []error
	for _, line := range strings.Split(err.Error(), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line == "yaml: unmarshal errors:" {
			continue
		}
		if m := yamlLine.FindStringSubmatch(line); m != nil {
			errs = append(errs, &Error{Where: name + ":" + m[1], Msg: m[2]})
			continue
		}
		errs = append(errs, &Error{Where: name, Msg: strings.TrimPrefix(line, "yaml: ")})
	}
	return errors.Join(errs...)
}

type decoder struct {
	src    *Source
	getenv func(string) string
	where  string // where the values come from when not the file: "flag --x"
	errs   []*Error
}

func (d *decoder) at(n *yaml.Node) string {
	if d.where != "" || n == nil {
		return cmp.Or(d.where, d.src.name)
	}
	return fmt.Sprintf("%s:%d", d.src.name, n.Line)
}

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{Where: d.at(n), Key: key, Msg: fmt.Sprintf(format, args...)})
}

// mustExpand are the keys whose default is no answer when the file asks
// for a variable that is unset: the default cluster name would mix this
// cluster's logs with every other cluster's that made the same mistake.
var mustExpand = map[string]bool{"cluster": true}

var (
	durationType = reflect.TypeFor[Duration]()
	sizeType     = reflect.TypeFor[Size]()
)

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	return "a value"
}

// value decodes n into v, whose key path is key.
func (d *decoder) value(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // "key:" with no value keeps the default
	}
	switch {
	case v.Kind() == reflect.Struct:
		d.mapping(n, v, key)
	case v.Kind() == reflect.Slice:
		d.list(n, v, key)
	case v.Kind() == reflect.Map && v.Type().Elem().Kind() == reflect.Struct:
		d.structMap(n, v, key)
	case v.Kind() == reflect.Map:
		d.stringMap(n, v, key)
	default:
		d.scalar(n, v, key)
	}
}

func (d *decoder) mapping(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		what := "the file"
		if key != "" {
			what = "this key"
		}
		d.fail(n, key, "%s must be a mapping of keys, got %s", what, kindName(n))
		return
	}
	fields := map[string]int{}
	t := v.Type()
	for i := range t.NumField() {
		fields[t.Field(i).Tag.Get("yaml")] = i
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		path := join(key, kn.Value)
		if line, dup := seen[kn.Value]; dup {
			d.fail(kn, path, "set twice (first at line %d)", line)
			continue
		}
		seen[kn.Value] = kn.Line
		idx, ok := fields[kn.Value]
		if !ok {
			d.fail(kn, path, "unknown key%s", suggest(kn.Value, key, fields))
			continue
		}
		d.src.origins[path] = fmt.Sprintf("%s:%d", d.src.name, kn.Line)
		d.value(vn, v.Field(idx), path)
	}
}

func (d *decoder) list(n *yaml.Node, v reflect.Value, key string) {
	items := n.Content
	if n.Kind == yaml.ScalarNode { // a single value is a list of one
		items = []*yaml.Node{n}
	} else if n.Kind != yaml.SequenceNode {
		d.fail(n, key, "want a list, got %s", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		path := fmt.Sprintf("%s[%d]", key, i)
		if v.Type().Elem().Kind() == reflect.Struct {
			d.src.origins[path] = fmt.Sprintf("%s:%d", d.src.name, item.Line)
			d.mapping(item, out.Index(i), path)
			continue
		}
		d.scalar(item, out.Index(i), path)
	}
	v.Set(out)
}

func (d *decoder) stringMap(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "want a mapping, got %s", kindName(n))
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		elem := reflect.New(v.Type().Elem()).Elem()
		d.scalar(vn, elem, join(key, kn.Value))
		out.SetMapIndex(reflect.ValueOf(kn.Value), elem)
	}
	v.Set(out)
}

// structMap decodes a mapping of names to sections: a name the map
// already has (a default) is changed key by key; a new name starts from
// newSection's value.
func (d *decoder) structMap(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "want a mapping of names, got %s", kindName(n))
		return
	}
	out := reflect.MakeMapWithSize(v.Type(), v.Len()+len(n.Content)/2)
	iter := v.MapRange()
	for iter.Next() {
		out.SetMapIndex(iter.Key(), iter.Value())
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn, vn := n.Content[i], n.Content[i+1]
		path := join(key, kn.Value)
		d.src.origins[path] = fmt.Sprintf("%s:%d", d.src.name, kn.Line)
		elem := reflect.New(v.Type().Elem()).Elem()
		if old := out.MapIndex(reflect.ValueOf(kn.Value)); old.IsValid() {
			elem.Set(old)
		} else if ns, ok := elem.Addr().Interface().(interface{ newSection() }); ok {
			ns.newSection()
		}
		if vn.Kind == yaml.ScalarNode && vn.Tag == "!!null" {
			out.SetMapIndex(reflect.ValueOf(kn.Value), elem)
			continue
		}
		d.mapping(vn, elem, path)
		out.SetMapIndex(reflect.ValueOf(kn.Value), elem)
	}
	v.Set(out)
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, key string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, key, "want a single value, got %s", kindName(n))
		return
	}
	s, err := Expand(n.Value, d.getenv)
	if err != nil {
		d.fail(n, key, "%v", err)
		return
	}
	from := ""
	if s != n.Value {
		if s == "" && mustExpand[key] {
			d.fail(n, key, "%q expanded to nothing: set the variable, or name a fallback as in ${VAR:-name}", n.Value)
			return
		}
		if s == "" {
			return // an unset variable keeps the default
		}
		from = fmt.Sprintf(" (expanded from %q)", n.Value)
	}
	switch {
	case v.Type() == durationType:
		var x Duration
		if x, err = ParseDuration(s); err == nil {
			v.SetInt(int64(x))
		}
	case v.Type() == sizeType:
		var x Size
		if x, err = ParseSize(s); err == nil {
			v.SetInt(int64(x))
		}
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Bool:
		switch strings.ToLower(s) {
		case "true":
			v.SetBool(true)
		case "false":
			v.SetBool(false)
		default:
			err = fmt.Errorf("%q is not true or false", s)
		}
	case v.Kind() == reflect.Int:
		var x int
		if x, err = strconv.Atoi(s); err == nil {
			v.SetInt(int64(x))
		} else {
			err = fmt.Errorf("%q is not a whole number", s)
		}
	default:
		err = fmt.Errorf("cannot decode into %s", v.Type())
	}
	if err != nil {
		d.fail(n, key, "%v%s", err, from)
	}
}

func join(key, name string) string {
	if key == "" {
		return name
	}
	return key + "." + name
}

// sections maps each key of a nested section to the section, to suggest
// "cloudwatch.region" for a top-level "region".
var sections = func() map[string]string {
	m := map[string]string{}
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type.Kind() != reflect.Struct || f.Type == durationType {
			continue
		}
		for j := range f.Type.NumField() {
			name := f.Type.Field(j).Tag.Get("yaml")
			if _, dup := m[name]; !dup {
				m[name] = f.Tag.Get("yaml") + "." + name
			}
		}
	}
	return m
}()

// suggest returns ` (did you mean "x"?)` for a misspelt or misplaced key.
func suggest(name, section string, fields map[string]int) string {
	best, bestDist := "", 3
	for f := range fields {
		if dist := editDistance(name, f); dist < bestDist || dist == bestDist && f < best {
			best, bestDist = f, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", join(section, best))
	}
	if section == "" {
		if full, ok := sections[name]; ok {
			return fmt.Sprintf(" (did you mean %q?)", full)
		}
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
