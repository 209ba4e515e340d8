package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// chartSchema is the Helm chart's values schema: `helm install` refuses
// values it rejects, before any pod starts.
const chartSchema = "../../deploy/helm/skiff/values.schema.json"

// TestChartSchemaAgreesWithValidate holds the chart's schema and skiff's
// own rules equal: every key of config: in the schema is probed with
// values of its kind (the schema's enums and examples, and the usual
// mistakes), and the schema must accept a value exactly when `skiff
// validate` does, so that a value helm installs does not crash-loop the
// pods and a value skiff takes is not refused by helm. The few rules a
// JSON schema cannot state (ranges of sizes written with units, templates,
// rules between keys) are listed in skiffOnly, each with its reason.
func TestChartSchemaAgreesWithValidate(t *testing.T) {
	raw, err := os.ReadFile(chartSchema)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatalf("%s: %v", chartSchema, err)
	}
	s := &schema{root: root}
	config := root["properties"].(map[string]any)["config"].(map[string]any)
	dir := t.TempDir()
	getenv := func(k string) string {
		return map[string]string{"AWS_REGION": "eu-west-1", "NODE_NAME": "node-1"}[k]
	}
	defaults := chartDefaults(t)
	used := map[string]bool{}
	n := 0
	for key, sub := range leaves("", config) {
		probes := append(s.probes(sub), keyProbes[key]...)
		if d, ok := defaults[key]; ok {
			probes = append(probes, d)
			// The same from the environment, except for choices, which the
			// chart keeps literal, the port the chart reads, and values
			// with braces, which ${VAR:-default} cannot hold.
			_, choice := sub["enum"]
			if str, ok := d.(string); ok && str != "" && !choice && key != "http.listen" && !strings.ContainsAny(str, "${}") {
				probes = append(probes, "${SKIFF_PROBE:-"+str+"}")
			}
		}
		for _, v := range probes {
			n++
			schemaOK := s.valid(sub, v)
			skiffOK, msg := validateValue(t, dir, getenv, key, v)
			if schemaOK == skiffOK {
				continue
			}
			used[probe(key, v)] = true
			if why, ok := skiffOnly[probe(key, v)]; ok && schemaOK && !skiffOK {
				t.Logf("%s: %s (skiff only: %s)", key, msg, why)
				continue
			}
			if why, ok := chartOnly[probe(key, v)]; ok && !schemaOK && skiffOK {
				t.Logf("%s = %s: refused by the chart only: %s", key, jsonText(v), why)
				continue
			}
			t.Errorf("config.%s = %s: the schema says valid=%v, skiff validate says valid=%v %s", key, jsonText(v), schemaOK, skiffOK, msg)
		}
	}
	for _, known := range []map[string]string{skiffOnly, chartOnly} {
		for p := range known {
			if !used[p] {
				t.Errorf("%s is listed as a known difference but never probed", p)
			}
		}
	}
	if n < 100 {
		t.Errorf("only %d probes; want the schema's config keys probed", n)
	}
}

// keyProbes are the values and mistakes particular to a key, besides the
// probes of its kind.
var keyProbes = map[string][]any{
	"cluster":                        {"prod", ""},
	"node_name":                      {"node-1", "${NODE_NAME}"},
	"http.listen":                    {"0.0.0.0:2021", "127.0.0.1:0", "off", "", "localhost", ":x"},
	"tail.include":                   {[]any{}, []any{"/var/log/containers/*.log"}, []any{"relative/*.log"}, []any{"/a/["}},
	"tail.exclude":                   {[]any{}, []any{"/var/log/containers/skiff-*"}, []any{"relative/*.log"}, []any{"/a/["}},
	"tail.state_dir":                 {"", "/var/lib/skiff"},
	"kubernetes.kubeconfig":          {"", "/root/.kube/config"},
	"kubernetes.include_labels":      keyPatternProbes,
	"kubernetes.exclude_labels":      keyPatternProbes,
	"kubernetes.include_annotations": keyPatternProbes,
	"kubernetes.exclude_annotations": keyPatternProbes,
	"cloudwatch.region":              {"eu-west-1"},
	"cloudwatch.endpoint":            {"", "http://127.0.0.1:4566", "https://logs.eu-west-1.amazonaws.com", "localhost:4566"},
	"cloudwatch.log_group":           {"/aws/{cluster}/app", "{nope}", ""},
	"cloudwatch.log_stream":          {"{kubernetes.pod_name}", "{nope}", ""},
	"cloudwatch.kms_key_id":          {"", "arn:aws:kms:eu-west-1:111122223333:key/k"},
	"cloudwatch.role_arn":            {"", "arn:aws:iam::111122223333:role/skiff"},
	"cloudwatch.external_id":         {"", "x"},
	"file.path":                      {"/var/log/skiff.log"},
}

var keyPatternProbes = []any{[]any{}, []any{"app"}, []any{"example.com/*"}, []any{"*"}, []any{"a*b*"}, []any{""}}

// skiffOnly are the values the schema accepts and skiff refuses, because
// no JSON schema can say why: they fail at the pods' start, with a
// file:line message, never silently.
var skiffOnly = map[string]string{
	probe("tail.max_line_bytes", "64M"):       "a range of sizes written with units",
	probe("tail.max_line_bytes", "64Mi"):      "a range of sizes written with units",
	probe("tail.max_line_bytes", "64MiB"):     "a range of sizes written with units",
	probe("tail.max_line_bytes", "1 GiB"):     "a range of sizes written with units",
	probe("tail.read_budget", "1 GiB"):        "a range of sizes written with units",
	probe("tail.read_budget", "1Ki"):          "a range of sizes written with units",
	probe("cloudwatch.buffer_bytes", "65536"): "a range of sizes written as strings",
	probe("file.max_bytes", "65536"):          "a range of sizes written as strings",
	probe("cloudwatch.buffer_bytes", "1Ki"):   "a range of sizes written with units",
	probe("file.max_bytes", "1Ki"):            "a range of sizes written with units",
	probe("cloudwatch.log_group", "{nope}"):   "a template's fields",
	probe("cloudwatch.log_stream", "{nope}"):  "a template's fields",
	probe("cloudwatch.external_id", "x"):      "a rule between keys: external_id needs role_arn",
	probe("tail.include", "/a/["):             "glob syntax",
	probe("tail.exclude", "/a/["):             "glob syntax",
}

// chartOnly are the values skiff takes and the chart refuses, for the
// chart's own reasons.
var chartOnly = map[string]string{
	probe("kubernetes.namespace_metadata", "${SKIFF_PROBE:-true}"): "the chart grants RBAC on namespaces from it, so it must be a boolean",
	probe("http.listen", ""): "the chart takes the container port from it",
}

// chartDefaults are the chart's values under config:, by dotted key.
func chartDefaults(t *testing.T) map[string]any {
	data, err := os.ReadFile("../../deploy/helm/skiff/values.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if m, ok := v.(map[string]any); ok && prefix != "cloudwatch.tags" {
			for k, e := range m {
				walk(strings.TrimPrefix(prefix+"."+k, "."), e)
			}
			return
		}
		if n, ok := v.(int); ok {
			v = float64(n)
		}
		out[prefix] = v
	}
	walk("", values["config"])
	return out
}

func probe(key string, v any) string { return key + "=" + jsonText(v) }

func jsonText(v any) string {
	if l, ok := v.([]any); ok && len(l) == 1 {
		v = l[0] // a list of one probes its item
	}
	b, _ := json.Marshal(v)
	return strings.Trim(string(b), `"`)
}

// validateValue runs `skiff validate` on a file that sets key to v and
// nothing else (besides a path for the file output, so that output: file
// is complete).
func validateValue(t *testing.T, dir string, getenv func(string) string, key string, v any) (bool, string) {
	t.Helper()
	doc := map[string]any{}
	m := doc
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next := map[string]any{}
		m[p] = next
		m = next
	}
	m[parts[len(parts)-1]] = v
	if key != "file.path" {
		f, _ := doc["file"].(map[string]any)
		if f == nil {
			f = map[string]any{}
			doc["file"] = f
		}
		f["path"] = filepath.Join(dir, "out.log")
	}
	data, err := yaml.Marshal(integral(doc))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "probe.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"validate", "--config", path}, getenv, &stdout, &stderr)
	return code == exitOK, strings.TrimSpace(stderr.String())
}

// integral turns whole float64 numbers (JSON's) into int64, so that they
// are written as Helm writes them: 1048550, not 1.04855e+06.
func integral(v any) any {
	switch x := v.(type) {
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = integral(e)
		}
	case []any:
		for i, e := range x {
			x[i] = integral(e)
		}
	}
	return v
}

// leaves returns the schema of every leaf key under s, by dotted key.
func leaves(prefix string, s map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	props, ok := s["properties"].(map[string]any)
	if !ok {
		out[prefix] = s
		return out
	}
	for k, sub := range props {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		for lk, ls := range leaves(key, sub.(map[string]any)) {
			out[lk] = ls
		}
	}
	return out
}

// schema evaluates the part of JSON Schema the chart uses: $ref into
// $defs, type, enum, pattern, minimum, maximum, minLength, minItems, oneOf, items,
// additionalProperties.
type schema struct{ root map[string]any }

func (s *schema) resolve(sub map[string]any) (map[string]any, string) {
	ref, ok := sub["$ref"].(string)
	if !ok {
		return sub, ""
	}
	name := strings.TrimPrefix(ref, "#/$defs/")
	return s.root["$defs"].(map[string]any)[name].(map[string]any), name
}

func (s *schema) valid(sub map[string]any, v any) bool {
	sub, _ = s.resolve(sub)
	if alts, ok := sub["oneOf"].([]any); ok {
		n := 0
		for _, a := range alts {
			if s.valid(a.(map[string]any), v) {
				n++
			}
		}
		return n == 1
	}
	if enum, ok := sub["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return jsonText(e) == jsonText(v) && fmt.Sprintf("%T", e) == fmt.Sprintf("%T", v) }) {
		return false
	}
	switch typ, _ := sub["type"].(string); typ {
	case "string":
		str, ok := v.(string)
		if !ok {
			return false
		}
		if min, ok := sub["minLength"].(float64); ok && float64(len(str)) < min {
			return false
		}
		if p, ok := sub["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			return false
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != float64(int64(f)) {
			return false
		}
		if min, ok := sub["minimum"].(float64); ok && f < min {
			return false
		}
		if max, ok := sub["maximum"].(float64); ok && f > max {
			return false
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return false
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			return false
		}
		if min, ok := sub["minItems"].(float64); ok && float64(len(l)) < min {
			return false
		}
		if items, ok := sub["items"].(map[string]any); ok {
			for _, it := range l {
				if !s.valid(items, it) {
					return false
				}
			}
		}
	case "object":
		o, ok := v.(map[string]any)
		if !ok {
			return false
		}
		if ap, ok := sub["additionalProperties"].(map[string]any); ok {
			for _, it := range o {
				if !s.valid(ap, it) {
					return false
				}
			}
		}
	}
	return true
}

// probes returns the values to try for a key whose schema is sub: its
// enum and examples, and the usual values and mistakes of its kind.
func (s *schema) probes(sub map[string]any) []any {
	var out []any
	raw := sub
	sub, def := s.resolve(sub)
	for _, k := range []string{"enum", "examples"} {
		for _, e := range [][]any{toList(raw[k]), toList(sub[k])} {
			out = append(out, e...)
		}
	}
	env := "${SKIFF_PROBE:-%s}"
	switch {
	case def == "duration":
		out = append(out, "1s", "250ms", "1m30s", "0s", "0", "25", "-5s", "soon", fmt.Sprintf(env, "2s"))
	case def == "size" || s.sizeLike(sub):
		out = append(out, 65536.0, 0.0, 2097152.0, "65536", "64M", "64Mi", "64MiB", "1 GiB", "1Ki", "1.5Gi", "64X", "-1")
	case def == "boolOrEnv" || sub["type"] == "boolean":
		out = append(out, true, false, "maybe", fmt.Sprintf(env, "true"))
	case def == "intOrEnv":
		out = append(out, 0.0, 1.0, 30.0, 45.0, -1.0, 1.5, "many", fmt.Sprintf(env, "1"))
	case def == "stringMap":
		out = append(out, map[string]any{"team": "a"})
	case sub["enum"] != nil:
		out = append(out, "not-a-choice", true)
	}
	return out
}

// sizeLike reports whether sub is a size with bounds of its own: an
// integer or the string form of $defs/size.
func (s *schema) sizeLike(sub map[string]any) bool {
	size := s.root["$defs"].(map[string]any)["size"].(map[string]any)["oneOf"].([]any)[1].(map[string]any)
	for _, alt := range toList(sub["oneOf"]) {
		if alt.(map[string]any)["pattern"] == size["pattern"] {
			return true
		}
	}
	return false
}

func toList(v any) []any {
	l, _ := v.([]any)
	return l
}
