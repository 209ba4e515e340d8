package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// keyPaths flattens a YAML mapping into dotted key paths of its leaves
// (lists and maps of user data such as tags count as leaves).
func keyPaths(prefix string, v any, out map[string]bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 || prefix == "cloudwatch.tags" {
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
		keyPaths(p, e, out)
	}
}

// schemaPaths flattens the config part of values.schema.json the same way.
func schemaPaths(prefix string, s map[string]any, out map[string]bool) {
	props, ok := s["properties"].(map[string]any)
	if !ok || prefix == "cloudwatch.tags" {
		out[prefix] = true
		return
	}
	for k, e := range props {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		schemaPaths(p, e.(map[string]any), out)
	}
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
	exampleKeys := map[string]bool{}
	keyPaths("", readYAML(t, example), exampleKeys)
	// The example leaves keys whose default depends on the environment
	// commented out ("# enabled: true"); they are still keys.
	data, _ := os.ReadFile(example)
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		if len(line) > 0 && line[0] != ' ' && line[0] != '#' {
			section, _, _ = strings.Cut(line, ":")
		}
		if k, ok := strings.CutPrefix(line, "  # "); ok && section != "" {
			if name, _, ok := strings.Cut(k, ": "); ok && !strings.Contains(name, " ") {
				exampleKeys[section+"."+name] = true
			}
		}
	}

	valuesKeys := map[string]bool{}
	keyPaths("", readYAML(t, filepath.Join(chartDir, "values.yaml"))["config"], valuesKeys)

	raw, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	schemaKeys := map[string]bool{}
	schemaPaths("", schema["properties"].(map[string]any)["config"].(map[string]any), schemaKeys)

	for k := range valuesKeys {
		if !exampleKeys[k] {
			t.Errorf("values.yaml config.%s is not a key of skiff.example.yaml", k)
		}
		if !schemaKeys[k] {
			t.Errorf("values.yaml config.%s is missing from values.schema.json", k)
		}
	}
	for k := range exampleKeys {
		if !valuesKeys[k] {
			t.Errorf("skiff.example.yaml key %s is missing from values.yaml config", k)
		}
	}
	for k := range schemaKeys {
		if !valuesKeys[k] {
			t.Errorf("values.schema.json config.%s is not in values.yaml", k)
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
