package fluentbit

import (
	"bytes"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
)

// PodEnv is the environment skiff's chart gives the DaemonSet, with
// placeholder values: the translation is compared with skiff's defaults,
// and validated, as skiff would see it on a node.
func PodEnv(name string) string {
	return map[string]string{
		"KUBERNETES_SERVICE_HOST": "10.100.0.1",
		"CLUSTER_NAME":            "cluster",
		"NODE_NAME":               "node",
		"AWS_REGION":              "us-east-1",
	}[name]
}

// doc is the skiff configuration being written: only the keys whose value
// differs from skiff's default, each with the Fluent Bit settings it comes
// from, and the filters in order.
type doc struct {
	defaults map[string]any // config.Default in a pod, as YAML values
	keys     map[string]*docKey
	filters  []docFilter
	src      string // the main file, for relative positions
}

type docKey struct {
	path  []string
	value any // string, bool, int, []string, map[string]string
	from  []string
}

// docFilter is one entry of filters:, its keys in order.
type docFilter struct {
	from string
	keys []string
	vals map[string]any
}

func newDoc(src string) *doc {
	d := &doc{keys: map[string]*docKey{}, src: src}
	def := config.Default(PodEnv)
	data, err := yaml.Marshal(def)
	if err == nil {
		err = yaml.Unmarshal(data, &d.defaults)
	}
	if err != nil {
		panic(fmt.Sprintf("fluentbit: skiff's defaults do not marshal: %v", err)) // a bug of ours
	}
	// What the environment gives is nobody's default: a value written
	// for these keys is always kept.
	delete(d.defaults, "cluster")
	delete(d.defaults, "node_name")
	if cw, ok := d.defaults["cloudwatch"].(map[string]any); ok {
		delete(cw, "region")
	}
	return d
}

// from is the comment above a key: "from fluent-bit.conf:12 [OUTPUT]
// cloudwatch_logs log_group_name".
func (d *doc) from(s *Section, e *Entry) string {
	if e == nil {
		return fmt.Sprintf("from %s %s", relPos(d.src, s.Pos), s.Label())
	}
	return fmt.Sprintf("from %s %s %s", relPos(d.src, e.Pos), s.Label(), e.Key)
}

// defaultOf returns skiff's default at path, and whether there is one.
func (d *doc) defaultOf(path []string) (any, bool) {
	var cur any = d.defaults
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// isDefault reports whether v is skiff's default at path. Lists are
// compared as sets: in skiff's lists (globs, journal terms) the order
// does not matter.
func (d *doc) isDefault(path []string, v any) bool {
	def, ok := d.defaultOf(path)
	if !ok {
		return false
	}
	if l, ok := v.([]string); ok {
		dl, _ := def.([]any)
		if len(dl) != len(l) {
			return false
		}
		for _, x := range dl {
			if s, ok := x.(string); !ok || !slices.Contains(l, s) {
				return false
			}
		}
		return true
	}
	return yamlText(def) == yamlText(v)
}

func yamlText(v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// set writes v at path unless it is skiff's default (then it removes a
// value set before), and reports whether it is the default.
func (d *doc) set(path []string, v any, from string) (isDefault bool) {
	k := strings.Join(path, "\x00")
	if d.isDefault(path, v) {
		delete(d.keys, k)
		return true
	}
	if dk, ok := d.keys[k]; ok {
		dk.value = v
		if !slices.Contains(dk.from, from) {
			dk.from = append(dk.from, from)
		}
		return false
	}
	d.keys[k] = &docKey{path: path, value: v, from: []string{from}}
	return false
}

// addFilter appends an entry to filters:; keys gives the order of vals.
func (d *doc) addFilter(from string, keys []string, vals map[string]any) {
	d.filters = append(d.filters, docFilter{from: from, keys: keys, vals: vals})
}

// encode writes the document: header comment lines, then the keys in the
// order of skiff's configuration struct (map keys sorted).
func (d *doc) encode(header []string) ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range d.keys {
		insert(root, reflect.TypeOf(config.Config{}), k.path, k)
	}
	if len(d.filters) > 0 {
		seq := &yaml.Node{Kind: yaml.SequenceNode}
		for _, f := range d.filters {
			m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle, HeadComment: f.from}
			for _, k := range f.keys {
				m.Content = append(m.Content, scalar(k), valueNode(f.vals[k]))
			}
			seq.Content = append(seq.Content, m)
		}
		insert(root, reflect.TypeOf(config.Config{}), []string{"filters"}, &docKey{path: []string{"filters"}, value: seq})
	}
	out := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: strings.Join(header, "\n"), Content: []*yaml.Node{root}}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// insert puts k at path under m, creating the maps on the way, keeping
// the keys in the order of t's fields (or sorted, for a map).
func insert(m *yaml.Node, t reflect.Type, path []string, k *docKey) {
	name := path[0]
	var child *yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == name {
			child = m.Content[i+1]
		}
	}
	ct := childType(t, name)
	if len(path) == 1 {
		key := scalar(name)
		key.HeadComment = strings.Join(k.from, "\n")
		v, ok := k.value.(*yaml.Node)
		if !ok {
			v = valueNode(k.value)
		}
		placeKey(m, t, key, v)
		return
	}
	if child == nil {
		child = &yaml.Node{Kind: yaml.MappingNode}
		placeKey(m, t, scalar(name), child)
	}
	insert(child, ct, path[1:], k)
}

// childType is the type of the value at key name under type t.
func childType(t reflect.Type, name string) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == nil:
		return nil
	case t.Kind() == reflect.Map:
		return t.Elem()
	case t.Kind() == reflect.Struct:
		if i := fieldIndex(t, name); i >= 0 {
			return t.Field(i).Type
		}
	}
	return nil
}

func fieldIndex(t reflect.Type, name string) int {
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag == name {
			return i
		}
	}
	return -1
}

// placeKey inserts key: v into the mapping m at its place in t's order.
func placeKey(m *yaml.Node, t reflect.Type, key, v *yaml.Node) {
	rank := func(name string) (int, string) {
		if t != nil && t.Kind() == reflect.Struct {
			if i := fieldIndex(t, name); i >= 0 {
				return i, ""
			}
			return 1 << 20, name
		}
		return 0, name
	}
	ri, rs := rank(key.Value)
	at := len(m.Content)
	for i := 0; i+1 < len(m.Content); i += 2 {
		oi, os := rank(m.Content[i].Value)
		if oi > ri || oi == ri && os > rs {
			at = i
			break
		}
	}
	m.Content = slices.Insert(m.Content, at, key, v)
}

func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

// valueNode is the YAML of one value. Strings escape "$$" so that
// skiff's ${VAR} expansion gives back the text; a "${NAME}" left in a
// value is a reference Fluent Bit would have read from its environment,
// and skiff expands it the same way.
func valueNode(v any) *yaml.Node {
	switch v := v.(type) {
	case string:
		return scalar(skiffText(v))
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
	case []string:
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, s := range v {
			n.Content = append(n.Content, valueNode(s))
		}
		return n
	case map[string]string:
		n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		for _, k := range slices.Sorted(maps.Keys(v)) {
			n.Content = append(n.Content, scalar(k), valueNode(v[k]))
		}
		return n
	}
	return scalar(fmt.Sprint(v))
}

// relPos names p's file relative to the main file's directory when it is
// inside it.
func relPos(main string, p Pos) Pos {
	if r, err := filepath.Rel(filepath.Dir(main), p.File); err == nil && !strings.HasPrefix(r, "..") {
		p.File = r
	}
	return p
}

// skiffText escapes s for skiff's ${VAR} expansion: a "${NAME}" stays a
// reference (Fluent Bit read it from its environment, skiff will too);
// any other "$" that skiff would read as the start of one ("$$", "${")
// is doubled, so that skiff gives back the text.
func skiffText(s string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			b.WriteByte(s[i])
			continue
		}
		if strings.HasPrefix(s[i:], "${") {
			if end := strings.IndexByte(s[i:], '}'); end > 0 && varName(s[i+2:i+end]) {
				b.WriteString(s[i : i+end+1])
				i += end
				continue
			}
		}
		if i+1 < len(s) && (s[i+1] == '$' || s[i+1] == '{') {
			b.WriteString("$$")
			continue
		}
		b.WriteByte('$')
	}
	return b.String()
}

// varName reports whether skiff expands ${name}: letters, digits and
// underscores, not starting with a digit.
func varName(name string) bool {
	for i, r := range name {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return name != ""
}
