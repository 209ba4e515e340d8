package deploy

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// keyPaths flattens a YAML mapping into dotted key paths of its leaves:
// it descends into mappings except where isLeaf says the path is a key
// (maps of user data such as cloudwatch.tags, lists, scalars).
func keyPaths(prefix string, v any, isLeaf func(string) bool, out map[string]bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 || (prefix != "" && isLeaf(prefix)) {
		if prefix != "" {
			out[prefix] = true
		}
		return
	}
	for k, e := range m {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		keyPaths(p, e, isLeaf, out)
	}
}

// schemaPaths flattens the config part of values.schema.json the same way,
// resolving $ref into $defs. A map of sections (an object whose
// additionalProperties have properties, as inputs) contributes its
// sections' keys under "*", as in inputs.*.match.
func schemaPaths(root map[string]any, prefix string, s map[string]any, out map[string]bool) {
	resolve := func(s map[string]any) map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			return root["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
		return s
	}
	s = resolve(s)
	if ap, ok := s["additionalProperties"].(map[string]any); ok {
		if ap = resolve(ap); ap["properties"] != nil {
			schemaPaths(root, prefix+".*", ap, out)
			return
		}
	}
	props, ok := s["properties"].(map[string]any)
	if !ok {
		out[prefix] = true
		return
	}
	for k, e := range props {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		schemaPaths(root, p, e.(map[string]any), out)
	}
}

// pathMatch reports whether a dotted key path matches a schema path, whose
// "*" segments match any one segment.
func pathMatch(pattern, path string) bool {
	p, k := strings.Split(pattern, "."), strings.Split(path, ".")
	if len(p) != len(k) {
		return false
	}
	for i := range p {
		if p[i] != "*" && p[i] != k[i] {
			return false
		}
	}
	return true
}

func readYAML(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// The chart's values under config: are named like skiff.yaml's keys: the
// commented example, the chart's values and its schema list the same keys.
func TestChartConfigKeys(t *testing.T) {
	example := filepath.Join("..", "cmd", "skiff", "skiff.example.yaml")
	if _, err := os.Stat(example); err != nil {
		t.Fatalf("%s: %v", example, err)
	}
	raw, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	schemaKeys := map[string]bool{}
	schemaPaths(schema, "", schema["properties"].(map[string]any)["config"].(map[string]any), schemaKeys)
	inSchema := func(path string) bool {
		for p := range schemaKeys {
			if pathMatch(p, path) {
				return true
			}
		}
		return false
	}

	exampleKeys := map[string]bool{}
	keyPaths("", readYAML(t, example), inSchema, exampleKeys)
	// The example leaves keys whose default depends on the environment
	// commented out ("# cluster: ${CLUSTER_NAME}", "  # enabled: true");
	// they are still keys, when the schema knows them (prose such as "# it:
	// the application input" is not).
	data, _ := os.ReadFile(example)
	section, sub := "", ""
	for _, line := range strings.Split(string(data), "\n") {
		if len(line) > 0 && line[0] != ' ' && line[0] != '#' {
			section, _, _ = strings.Cut(line, ":")
			sub = ""
		}
		if rest, ok := strings.CutPrefix(line, "  "); ok && len(rest) > 0 && rest[0] != ' ' && rest[0] != '#' {
			sub, _, _ = strings.Cut(rest, ":")
		}
		prefix := ""
		k, ok := strings.CutPrefix(line, "# ")
		if !ok && section != "" {
			k, ok = strings.CutPrefix(line, "  # ")
			prefix = section + "."
		}
		if !ok && section != "" && sub != "" {
			k, ok = strings.CutPrefix(line, "    # ")
			prefix = section + "." + sub + "."
		}
		if name, _, found := strings.Cut(k, ": "); ok && found && !strings.Contains(name, " ") && inSchema(prefix+name) {
			exampleKeys[prefix+name] = true
		}
	}

	valuesKeys := map[string]bool{}
	keyPaths("", readYAML(t, filepath.Join(chartDir, "values.yaml"))["config"], inSchema, valuesKeys)

	for k := range valuesKeys {
		if !exampleKeys[k] {
			t.Errorf("values.yaml config.%s is not a key of skiff.example.yaml", k)
		}
		if !inSchema(k) {
			t.Errorf("values.yaml config.%s is missing from values.schema.json", k)
		}
	}
	for k := range exampleKeys {
		if !valuesKeys[k] {
			t.Errorf("skiff.example.yaml key %s is missing from values.yaml config", k)
		}
	}
	for p := range schemaKeys {
		if !slices.ContainsFunc(slices.Collect(maps.Keys(valuesKeys)), func(k string) bool { return pathMatch(p, k) }) {
			t.Errorf("values.schema.json config.%s is not in values.yaml", p)
		}
	}
	if t.Failed() {
		t.Logf("example keys: %v", slices.Sorted(func(y func(string) bool) {
			for k := range exampleKeys {
				if !y(k) {
					return
				}
			}
		}))
	}
}
