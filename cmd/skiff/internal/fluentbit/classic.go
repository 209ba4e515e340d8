package fluentbit

import (
	"fmt"
	"strings"
)

// Error is a problem that stops Fluent Bit reading a configuration: a
// syntax error, a missing or circular include.
type Error struct {
	Pos Pos
	Msg string
	Err error // what it wraps, if anything
}

func (e *Error) Error() string {
	if e.Pos.Line == 0 {
		return e.Pos.File + ": " + e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// itemKind tells the lines of a classic file apart.
type itemKind uint8

const (
	itemSection itemKind = iota // [NAME] at the start of a line
	itemGroup                   // an indented [NAME]: a group inside the section
	itemEntry                   // an indented "Key value" line
	itemInclude                 // @INCLUDE path
	itemSet                     // @SET key=value
)

// classicItem is one meaningful line of a classic file.
type classicItem struct {
	kind  itemKind
	pos   Pos
	name  string // section or group name; include path; variable name
	key   string // entry key
	value string // entry or variable value
	group bool   // an entry indented twice: it belongs to the current group
	// section is a complete section (the YAML format's): no entries follow.
	section *Section
}

// parseClassic splits one file of Fluent Bit's classic format into its
// items, with the rules of Fluent Bit's own reader (flb_cf_fluentbit.c):
//
//   - "[NAME]" at the start of a line opens a section (case-insensitive);
//   - entries are indented, all with the same indentation as the file's
//     first indented line; an entry is a key, white space, and a value
//     running to the end of the line (trimmed, never empty);
//   - a line indented twice belongs to the group opened by an indented
//     "[NAME]" line; any other deeper indentation is an error;
//   - "#" lines are comments (at the start, or after the indentation);
//     there are no end-of-line comments and no continuation lines: a
//     trailing backslash is part of the value;
//   - "@INCLUDE path" and "@SET key=value" start at the start of a line.
//
// It does no I/O: includes and variables are the loader's.
func parseClassic(file string, data []byte) ([]classicItem, error) {
	var items []classicItem
	indent := "" // the file's indentation, set by its first indented line
	for i, line := range strings.Split(string(data), "\n") {
		pos := Pos{File: file, Line: i + 1}
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || line[0] == '#' {
			continue
		}
		bad := func(format string, args ...any) error {
			return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
		}
		switch line[0] {
		case '@':
			cmd, arg, _ := strings.Cut(line, " ")
			arg = strings.TrimSpace(arg)
			switch strings.ToUpper(cmd) {
			case "@INCLUDE":
				if arg == "" {
					return nil, bad("@INCLUDE without a file")
				}
				items = append(items, classicItem{kind: itemInclude, pos: pos, name: arg})
			case "@SET":
				k, v, ok := strings.Cut(arg, "=")
				if k = strings.TrimSpace(k); !ok || k == "" {
					return nil, bad("@SET %q: want @SET KEY=VALUE", arg)
				}
				items = append(items, classicItem{kind: itemSet, pos: pos, name: k, value: strings.TrimSpace(v)})
			default:
				return nil, bad("unknown command %q: only @INCLUDE and @SET", cmd)
			}
			continue
		case '[':
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, bad("bad section header %q: no closing ]", line)
			}
			name := strings.TrimSpace(line[1:end])
			if name == "" {
				return nil, bad("empty section name []")
			}
			items = append(items, classicItem{kind: itemSection, pos: pos, name: strings.ToLower(name)})
			continue
		case ' ', '\t':
		default:
			return nil, bad("%q: an entry must be indented under its [SECTION]", line)
		}
		if indent == "" {
			indent = line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		}
		rest, ok := strings.CutPrefix(line, indent)
		if !ok {
			return nil, bad("invalid indentation: the file's entries are indented by %q", indent)
		}
		group := false
		if rest[0] == ' ' || rest[0] == '\t' {
			// Deeper: only a group's content, indented exactly twice.
			if r, ok := strings.CutPrefix(rest, indent); !ok || r == "" || r[0] == ' ' || r[0] == '\t' {
				return nil, bad("invalid indentation: extra indentation level")
			} else {
				rest, group = r, true
			}
		}
		if rest[0] == '#' {
			continue
		}
		if rest[0] == '[' {
			end := strings.IndexByte(rest, ']')
			if end < 0 || strings.TrimSpace(rest[1:end]) == "" {
				return nil, bad("expected a valid group name: [..]")
			}
			items = append(items, classicItem{kind: itemGroup, pos: pos, name: strings.ToLower(strings.TrimSpace(rest[1:end]))})
			continue
		}
		key, value := rest, ""
		if i := strings.IndexAny(rest, " \t"); i >= 0 {
			key, value = rest[:i], strings.TrimSpace(rest[i+1:])
		}
		if value == "" {
			return nil, bad("key %q has no value", key)
		}
		items = append(items, classicItem{kind: itemEntry, pos: pos, key: key, value: value, group: group})
	}
	return items, nil
}
