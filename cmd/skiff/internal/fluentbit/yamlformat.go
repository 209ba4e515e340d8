package fluentbit

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlSections maps the top-level keys of Fluent Bit's YAML format that
// hold lists of plugins to the kind of their sections.
var yamlSections = map[string]string{
	"parsers":           "parser",
	"multiline_parsers": "multiline_parser",
	"customs":           "custom",
	"custom":            "custom",
	"upstream_servers":  "upstream",
}

// yamlPipeline maps the keys under pipeline: to section kinds.
var yamlPipeline = map[string]string{"inputs": "input", "filters": "filter", "outputs": "output"}

// parseYAML reads one file of Fluent Bit's YAML format into the items the
// loader takes: complete sections (section set), includes and variables,
// in the order written. A key whose value is a list is written as that
// many entries (a classic key written several times); a multiline
// parser's rules become classic "rule" entries; other nested maps
// (processors) become groups. Keys are case-insensitive.
func parseYAML(file string, data []byte) ([]classicItem, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{Pos: Pos{File: file}, Msg: err.Error()}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{Pos: Pos{File: file, Line: root.Line}, Msg: "the top level must be a map (service:, pipeline:, ...)"}
	}
	y := &yamlReader{file: file}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := strings.ToLower(k.Value)
		switch {
		case key == "env":
			y.env(v)
		case key == "includes" || key == "include":
			for _, n := range y.scalars(v) {
				y.items = append(y.items, classicItem{kind: itemInclude, pos: y.pos(n), name: n.Value})
			}
		case key == "service":
			y.section("service", k, v)
		case key == "pipeline":
			if !y.want(v, yaml.MappingNode, "pipeline") {
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				kind, ok := yamlPipeline[strings.ToLower(v.Content[j].Value)]
				if !ok {
					y.fail(v.Content[j], "pipeline.%s: not inputs, filters or outputs", v.Content[j].Value)
					continue
				}
				y.list(kind, v.Content[j+1])
			}
		case yamlSections[key] != "":
			y.list(yamlSections[key], v)
		default: // plugins, stream_processor, extensions, ...: kept, reported
			y.section(key, k, v)
		}
	}
	if y.err != nil {
		return nil, y.err
	}
	return y.items, nil
}

type yamlReader struct {
	file  string
	items []classicItem
	err   error // the first problem
}

func (y *yamlReader) pos(n *yaml.Node) Pos { return Pos{File: y.file, Line: n.Line} }

func (y *yamlReader) fail(n *yaml.Node, format string, args ...any) {
	if y.err == nil {
		y.err = &Error{Pos: y.pos(n), Msg: fmt.Sprintf(format, args...)}
	}
}

func (y *yamlReader) want(n *yaml.Node, kind yaml.Kind, what string) bool {
	if n.Kind != kind {
		y.fail(n, "%s: want a %s", what, map[yaml.Kind]string{yaml.MappingNode: "map", yaml.SequenceNode: "list", yaml.ScalarNode: "value"}[kind])
		return false
	}
	return true
}

// scalars returns a scalar, or the scalars of a list.
func (y *yamlReader) scalars(n *yaml.Node) []*yaml.Node {
	if n.Kind == yaml.ScalarNode {
		return []*yaml.Node{n}
	}
	var out []*yaml.Node
	if y.want(n, yaml.SequenceNode, "value") {
		for _, c := range n.Content {
			if y.want(c, yaml.ScalarNode, "list item") {
				out = append(out, c)
			}
		}
	}
	return out
}

func (y *yamlReader) env(n *yaml.Node) {
	if !y.want(n, yaml.MappingNode, "env") {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if y.want(v, yaml.ScalarNode, "env."+k.Value) {
			y.items = append(y.items, classicItem{kind: itemSet, pos: y.pos(k), name: k.Value, value: v.Value})
		}
	}
}

// list reads a list of plugin maps, each a section.
func (y *yamlReader) list(kind string, n *yaml.Node) {
	if !y.want(n, yaml.SequenceNode, kind+"s") {
		return
	}
	for _, m := range n.Content {
		y.section(kind, m, m)
	}
}

// section reads one map into a section of kind.
func (y *yamlReader) section(kind string, at, n *yaml.Node) {
	if !y.want(n, yaml.MappingNode, kind) {
		return
	}
	s := y.mapping(kind, at, n)
	y.items = append(y.items, classicItem{kind: itemSection, pos: s.Pos, name: kind, section: s})
}

func (y *yamlReader) mapping(kind string, at, n *yaml.Node) *Section {
	s := &Section{Kind: kind, Pos: y.pos(at)}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case kind == "multiline_parser" && strings.EqualFold(k.Value, "rules"):
			if !y.want(v, yaml.SequenceNode, "rules") {
				continue
			}
			for _, r := range v.Content {
				if !y.want(r, yaml.MappingNode, "rule") {
					continue
				}
				rule := y.mapping("rule", r, r)
				s.Entries = append(s.Entries, Entry{Key: "rule", Pos: y.pos(r),
					Value: quoteRule(rule.Value("state")) + " " + quoteRule(rule.Value("regex")) + " " + quoteRule(rule.Value("next_state"))})
			}
		case v.Kind == yaml.MappingNode:
			s.Groups = append(s.Groups, y.mapping(strings.ToLower(k.Value), k, v))
		case v.Kind == yaml.SequenceNode && len(v.Content) > 0 && v.Content[0].Kind == yaml.MappingNode:
			for _, m := range v.Content { // processors: logs: [...]
				if y.want(m, yaml.MappingNode, k.Value) {
					s.Groups = append(s.Groups, y.mapping(strings.ToLower(k.Value), m, m))
				}
			}
		default:
			for _, c := range y.scalars(v) {
				s.Entries = append(s.Entries, Entry{Key: k.Value, Value: c.Value, Pos: y.pos(k)})
			}
		}
	}
	return s
}

// quoteRule quotes one field of a classic multiline rule.
func quoteRule(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}
