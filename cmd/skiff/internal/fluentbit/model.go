package fluentbit

import (
	"fmt"
	"strings"
)

// Pos is where a setting was written: a file and a 1-based line.
type Pos struct {
	File string
	Line int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d", p.File, p.Line) }

// Entry is one setting of a section: a key and its value, as written. A
// key written twice is two entries (Systemd_Filter, rule, Rename).
type Entry struct {
	Key   string
	Value string
	Pos   Pos
	// Unresolved lists the ${NAME} references of Value that neither the
	// file (@SET, env:) nor Options.Lookup defines. They are kept in Value
	// as written: Fluent Bit would read them from its environment when it
	// starts, and so can skiff.
	Unresolved []string
}

// Section is one [INPUT], [FILTER], [OUTPUT], [SERVICE], [PARSER],
// [MULTILINE_PARSER] (or any other) section, or its YAML equivalent.
type Section struct {
	// Kind is the section's name in lower case: service, input, filter,
	// output, parser, multiline_parser, plugins, upstream, custom, ...
	Kind    string
	Pos     Pos
	Entries []Entry
	// Groups are nested sections: a classic section's indented [GROUP]
	// lines, or a YAML plugin's nested maps (processors).
	Groups []*Section
}

// Get returns the last entry of key (keys are case-insensitive): Fluent
// Bit takes the last of a single-valued key written twice.
func (s *Section) Get(key string) (Entry, bool) {
	for i := len(s.Entries) - 1; i >= 0; i-- {
		if strings.EqualFold(s.Entries[i].Key, key) {
			return s.Entries[i], true
		}
	}
	return Entry{}, false
}

// Value returns the value of key, or "".
func (s *Section) Value(key string) string {
	e, _ := s.Get(key)
	return e.Value
}

// All returns every entry of key, in order.
func (s *Section) All(key string) []Entry {
	var out []Entry
	for _, e := range s.Entries {
		if strings.EqualFold(e.Key, key) {
			out = append(out, e)
		}
	}
	return out
}

// Plugin is the section's Name in lower case: tail, kubernetes,
// cloudwatch_logs.
func (s *Section) Plugin() string { return strings.ToLower(strings.TrimSpace(s.Value("name"))) }

// Label is how the report names the section: "[OUTPUT] cloudwatch_logs".
func (s *Section) Label() string {
	l := "[" + strings.ToUpper(s.Kind) + "]"
	if p := s.Plugin(); p != "" && s.Kind != "parser" && s.Kind != "multiline_parser" {
		l += " " + p
	} else if p != "" {
		l += " " + s.Value("name")
	}
	return l
}

// Config is a Fluent Bit configuration with its includes read and its
// variables expanded.
type Config struct {
	// Path is the main file as given; Files are all the files read, the
	// main one first, in the order they were read.
	Path  string
	Files []string
	// Sections are in the order Fluent Bit reads them: a file's sections
	// where it is included.
	Sections []*Section
	// Vars are the variables the files define (@SET, env:).
	Vars map[string]string
	// Format is "classic" or "yaml", the main file's.
	Format string
	// MissingParsers are the Parsers_File entries whose file could not be
	// read.
	MissingParsers []Entry
}

// Of returns the sections of a kind, in order.
func (c *Config) Of(kind string) []*Section {
	var out []*Section
	for _, s := range c.Sections {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	return out
}

// isOn is Fluent Bit's boolean: on, true, yes, 1 (any case).
func isOn(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "yes", "1":
		return true
	}
	return false
}

// isBool reports whether v is one of Fluent Bit's boolean words.
func isBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on", "true", "yes", "1", "off", "false", "no", "0":
		return true
	}
	return false
}

// splitList splits a comma-separated value (Path, Exclude_Path,
// multiline.parser) into trimmed, non-empty items.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
