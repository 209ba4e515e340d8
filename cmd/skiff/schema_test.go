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
// rules between keys) are listed in skiffOnly, each with its reason. Maps
// of sections (config.inputs) are probed whole, and key by key under each
// name the chart's values give, with the keys the values set for it.
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
		// As in the pod: in a cluster, where the default inputs are on.
		return map[string]string{"AWS_REGION": "eu-west-1", "NODE_NAME": "node-1", "KUBERNETES_SERVICE_HOST": "10.100.0.1", "CLUSTER_NAME": "prod"}[k]
	}
	defaults := chartDefaults(t)
	used := map[string]bool{}
	n := 0
	for key, l := range s.leaves("", config, defaults) {
		sub := l.schema
		probes := append(s.probes(sub), keyProbes[key]...)
		if l.generic != key {
			probes = append(probes, keyProbes[l.generic]...)
		}
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
			if why, ok := templateOnly[probe(key, v)]; ok && schemaOK && !skiffOK {
				t.Logf("%s: %s (the chart's templates refuse it: %s)", key, msg, why)
				continue
			}
			t.Errorf("config.%s = %s: the schema says valid=%v, skiff validate says valid=%v %s", key, jsonText(v), schemaOK, skiffOK, msg)
		}
	}
	for _, known := range []map[string]string{skiffOnly, chartOnly, templateOnly} {
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
	"cloudwatch.merge_key":           mergeKeyProbes,
	"file.merge_key":                 mergeKeyProbes,
	"stdout.merge_key":               mergeKeyProbes,
	"journal.dirs":                   {[]any{}, []any{"/var/log/journal"}, []any{"var/log/journal"}, []any{"${SKIFF_PROBE:-/run/log/journal}"}},
	"inputs": {
		map[string]any{"app": newInput}, map[string]any{"app": newInputNoDestination},
		map[string]any{"app": withKey(newInput, "bogus", "x")}, map[string]any{"application": newInput},
		map[string]any{"a.b": newInput}, map[string]any{"a b": newInput},
		map[string]any{"dataplane": map[string]any{"enabled": false}}, map[string]any{},
	},
	// Keys of the inputs, whatever their name.
	"inputs.*.include":     {[]any{}, []any{"/var/log/containers/coredns*"}, []any{"relative/*.log"}, []any{"/a/["}},
	"inputs.*.exclude":     {[]any{}, []any{"/var/log/containers/coredns*"}, []any{"relative/*.log"}, []any{"/a/["}},
	"inputs.*.match":       journalTermProbes,
	"inputs.*.not":         journalTermProbes,
	"inputs.*.priority":    {"", "3", "err", "0..6", "emerg..info", "8", "warn", "6..0", "ERR", "0..", "${SKIFF_PROBE}"},
	"inputs.*.fields":      {map[string]any{}, map[string]any{"message": "MESSAGE"}, map[string]any{"message": ""}, map[string]any{"": "MESSAGE"}, map[string]any{"message": "${SKIFF_PROBE:-MESSAGE}"}},
	"tail.multiline":       {"", "java", "cobol"},
	"tail.parser":          {"", "logfmt", "k8s-nginx-ingress", "yaml"},
	"redact.rules":         {[]any{}, []any{"email"}, []any{"ssn"}},
	"redact.custom":        {map[string]any{"password": `password=(?P<secret>\S+)`}, map[string]any{"bad": "(["}},
	"multiline.custom":     {map[string]any{"app": map[string]any{"start": `^\d`, "continuation": `^\s`}}, map[string]any{"app": map[string]any{"start": `^\d`}}},
	"parsers.custom":       {map[string]any{"mine": map[string]any{"regex": `^(?P<level>\w+)`}}, map[string]any{"mine": map[string]any{"regex": `^\w+`}}},
	"multiline.containers": {[]any{map[string]any{"namespace": "shop", "rule": "java"}}, []any{map[string]any{"namespace": "shop", "rule": "cobol"}}},
	"parsers.containers":   {[]any{map[string]any{"labels": "app=web", "parser": "nginx"}}, []any{map[string]any{"labels": "app in (", "parser": "nginx"}}},
	"filters": {
		[]any{map[string]any{"name": "no-health", "field": "log", "regex": "GET /healthz", "action": "drop"}},
		[]any{map[string]any{"name": "tidy", "remove": []any{"password"}, "add": map[string]any{"team": "shop"}}},
		[]any{map[string]any{"name": "x", "namespace": "noisy"}}, []any{map[string]any{"name": "x", "action": "purge"}},
	},
	"limits": {
		[]any{map[string]any{"namespace": "batch", "lines_per_second": 500.0, "burst": "2s"}},
		[]any{map[string]any{"namespace": "batch"}}, []any{map[string]any{"namespace": "batch", "lines_per_second": 5.0, "action": "queue"}},
	},
	"inputs.*.log_group":  {"/aws/containerinsights/{cluster}/other", "{nope}", ""},
	"inputs.*.log_stream": {"{host}.other.{tag}", "{nope}", ""},
}

var mergeKeyProbes = []any{"", "log_processed", "parsed", "log", "kubernetes", "time", "stream"}

var journalTermProbes = []any{[]any{}, []any{"_SYSTEMD_UNIT=kubelet.service"}, []any{"PRIORITY="}, []any{"lower=x"},
	[]any{"NOEQUALS"}, []any{"=x"}, []any{"1A=x"}, []any{"${SKIFF_PROBE:-_TRANSPORT=kernel}"}}

// newInput is a complete new input; newInputNoDestination lacks the
// log_group and log_stream that only the default inputs have already.
var (
	newInput = map[string]any{"type": "files", "include": []any{"/var/log/app/*.log"}, "format": "plain",
		"log_group": "/aws/containerinsights/{cluster}/app", "log_stream": "{host}.app"}
	newInputNoDestination = map[string]any{"type": "files", "include": []any{"/var/log/app/*.log"}}
)

func withKey(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{k: v}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// The chart's default inputs, by type.
var (
	journalInputs = []string{"dataplane", "host-dmesg", "host-messages", "host-secure"}
	filesInputs   = []string{"dataplane-containers"}
	allInputs     = append(slices.Clone(journalInputs), filesInputs...)
)

// forInputs lists the same difference for key under each of names.
func forInputs(m map[string]string, names []string, key string, v any, why string) {
	for _, n := range names {
		m[probe("inputs."+n+"."+key, v)] = why
	}
}

var keyPatternProbes = []any{[]any{}, []any{"app"}, []any{"example.com/*"}, []any{"*"}, []any{"a*b*"}, []any{""}}

// skiffOnly are the values the schema accepts and skiff refuses, because
// no JSON schema can say why: they fail at the pods' start, with a
// file:line message, never silently.
var skiffOnly = map[string]string{
	probe("tail.max_line_bytes", "64M"):                                                         "a range of sizes written with units",
	probe("tail.max_line_bytes", "64Mi"):                                                        "a range of sizes written with units",
	probe("tail.max_line_bytes", "64MiB"):                                                       "a range of sizes written with units",
	probe("tail.max_line_bytes", "1 GiB"):                                                       "a range of sizes written with units",
	probe("tail.read_budget", "1 GiB"):                                                          "a range of sizes written with units",
	probe("tail.read_budget", "1Ki"):                                                            "a range of sizes written with units",
	probe("cloudwatch.batch_bytes", "64M"):                                                      "a range of sizes written with units",
	probe("cloudwatch.batch_bytes", "64Mi"):                                                     "a range of sizes written with units",
	probe("cloudwatch.batch_bytes", "64MiB"):                                                    "a range of sizes written with units",
	probe("cloudwatch.batch_bytes", "1 GiB"):                                                    "a range of sizes written with units",
	probe("cloudwatch.buffer_bytes", "65536"):                                                   "a range of sizes written as strings",
	probe("file.max_bytes", "65536"):                                                            "a range of sizes written as strings",
	probe("cloudwatch.buffer_bytes", "1Ki"):                                                     "a range of sizes written with units",
	probe("file.max_bytes", "1Ki"):                                                              "a range of sizes written with units",
	probe("cloudwatch.log_group", "{nope}"):                                                     "a template's fields",
	probe("cloudwatch.log_stream", "{nope}"):                                                    "a template's fields",
	probe("cloudwatch.external_id", "x"):                                                        "a rule between keys: external_id needs role_arn",
	probe("tail.include", "/a/["):                                                               "glob syntax",
	probe("tail.exclude", "/a/["):                                                               "glob syntax",
	probe("inputs", map[string]any{"app": newInputNoDestination}):                               "a rule between names and keys: a new input needs log_group and log_stream, a default one has them",
	probe("tail.multiline", "cobol"):                                                            "a rule's name: the built-ins and the file's custom rules",
	probe("tail.parser", "yaml"):                                                                "a parser's name: the built-ins and the file's custom parsers",
	probe("multiline.containers", []any{map[string]any{"namespace": "shop", "rule": "cobol"}}):  "a rule's name: the built-ins and the file's custom rules",
	probe("multiline.custom", map[string]any{"app": map[string]any{"start": `^\d`}}):            "a rule needs both patterns",
	probe("parsers.containers", []any{map[string]any{"labels": "app in (", "parser": "nginx"}}): "label selector syntax",
	probe("parsers.custom", map[string]any{"mine": map[string]any{"regex": `^\w+`}}):            "a regex parser needs a named group",
	probe("redact.custom", map[string]any{"bad": "(["}):                                         "RE2 syntax",
	probe("filters", []any{map[string]any{"name": "x", "namespace": "noisy"}}):                  "a rule between keys: a filter drops, keeps or changes something",
	probe("limits", []any{map[string]any{"namespace": "batch"}}):                                "a rule between keys: a limit needs a rate",
}

func init() {
	between := "a rule between keys: the input's other keys are of the other type"
	forInputs(skiffOnly, journalInputs, "type", "files", between)
	forInputs(skiffOnly, filesInputs, "type", "journal", between)
	forInputs(skiffOnly, filesInputs, "include", "/a/[", "glob syntax")
	forInputs(skiffOnly, filesInputs, "exclude", "/a/[", "glob syntax")
	for _, k := range []string{"log_group", "log_stream"} {
		forInputs(skiffOnly, allInputs, k, "{nope}", "a template's fields")
	}
	forInputs(skiffOnly, []string{"dataplane", "host-messages"}, "priority", "6..0", "the order of a range of priorities")
	forInputs(chartOnly, []string{"dataplane", "host-messages"}, "priority", "ERR",
		"the chart takes priority names in lower case, as journalctl -p documents them")
}

// chartOnly are the values skiff takes and the chart refuses, for the
// chart's own reasons.
var chartOnly = map[string]string{
	probe("kubernetes.namespace_metadata", "${SKIFF_PROBE:-true}"): "the chart grants RBAC on namespaces from it, so it must be a boolean",
	probe("http.listen", ""): "the chart takes the container port from it",
}

// templateOnly are the values the schema accepts and skiff refuses that the
// chart's templates refuse when rendering, with a message a schema could
// not give.
var templateOnly = map[string]string{
	probe("cluster", ""): "the chart requires config.cluster and says how to set it (--set config.cluster=NAME)",
}

// chartDefaults are the chart's values under config:, by dotted key: every
// mapping (such as inputs and inputs.dataplane) as well as every leaf.
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
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				walk(strings.TrimPrefix(prefix+"."+k, "."), e)
			}
		}
		out[prefix] = jsonNumbers(v)
	}
	walk("", values["config"])
	return out
}

// jsonNumbers turns YAML's ints into JSON's float64, as the probes are.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = jsonNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonNumbers(e)
		}
		return out
	}
	return v
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

// leaf is the schema of one key to probe, and the key with "*" for the
// name of its section in a map of sections (inputs.*.match for
// inputs.dataplane.match), for keyProbes.
type leaf struct {
	schema  map[string]any
	generic string
}

// leaves returns every key under sub to probe, by dotted key: the leaves of
// its properties, and each map of sections (an object whose
// additionalProperties have properties, as inputs) as a whole and, for
// every name the chart's values give it, each key the values set for that
// name.
func (s *schema) leaves(prefix string, sub map[string]any, defaults map[string]any) map[string]leaf {
	out := map[string]leaf{}
	join := func(a, b string) string { return strings.TrimPrefix(a+"."+b, ".") }
	if ap, ok := sub["additionalProperties"].(map[string]any); ok {
		if section, _ := s.resolve(ap); section["properties"] != nil {
			out[prefix] = leaf{sub, prefix}
			names, _ := defaults[prefix].(map[string]any)
			props := section["properties"].(map[string]any)
			for name := range names {
				for k, ks := range props {
					key := join(join(prefix, name), k)
					if _, set := defaults[key]; !set {
						continue
					}
					for lk, l := range s.leaves(key, ks.(map[string]any), defaults) {
						out[lk] = leaf{l.schema, join(join(prefix, "*"), k) + strings.TrimPrefix(lk, key)}
					}
				}
			}
			return out
		}
	}
	props, ok := sub["properties"].(map[string]any)
	if !ok {
		out[prefix] = leaf{sub, prefix}
		return out
	}
	for k, ks := range props {
		for lk, l := range s.leaves(join(prefix, k), ks.(map[string]any), defaults) {
			out[lk] = l
		}
	}
	return out
}

// schema evaluates the part of JSON Schema the chart uses: $ref into
// $defs, type, enum, not, pattern, minimum, maximum, minLength, minItems,
// oneOf, items, properties, additionalProperties, propertyNames.
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
	if not, ok := sub["not"].(map[string]any); ok && s.valid(not, v) {
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
		props, _ := sub["properties"].(map[string]any)
		for k, it := range o {
			if names, ok := sub["propertyNames"].(map[string]any); ok && !s.valid(names, k) {
				return false
			}
			if ps, ok := props[k].(map[string]any); ok {
				if !s.valid(ps, it) {
					return false
				}
				continue
			}
			switch ap := sub["additionalProperties"].(type) {
			case bool:
				if !ap {
					return false
				}
			case map[string]any:
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
