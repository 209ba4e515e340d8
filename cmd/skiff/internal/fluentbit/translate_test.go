package fluentbit

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
)

func TestGlobs(t *testing.T) {
	for _, c := range []struct {
		p, t          string
		covers, meets bool
	}{
		{"application.*", "application.var.log.containers.*.log", true, true},
		{"*", "anything.*", true, true},
		{"kube.*", "kube", false, false},
		{"kube.*", "application.var.*", false, false},
		{"kube.var.log.containers.myapp*", "kube.var.log.containers.*.log", false, true},
		{"host.messages", "host.messages", true, true},
		{"host.messages", "host.*", false, true},
		{"a*b*c", "a*c", false, true},
		{"**", "*", true, true},
	} {
		if got := globCovers(c.p, c.t); got != c.covers {
			t.Errorf("globCovers(%q, %q) = %v; want %v", c.p, c.t, got, c.covers)
		}
		if got := globsMeet(c.p, c.t); got != c.meets {
			t.Errorf("globsMeet(%q, %q) = %v; want %v", c.p, c.t, got, c.meets)
		}
	}
	long := strings.Repeat("a", 2000)
	if globCovers(long, long) || !globsMeet(long, "b"+long) {
		t.Error("beyond maxGlobWork the answers must be the cautious ones")
	}
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"/var/log/containers/*.log", "/var/log/containers/fluent-bit*", true},
		{"/var/log/containers/*", "/var/log/containers/x.log", true},
		{"/var/log/pods/*.log", "/var/log/pods/x*", false},
		{"/var/log/containers/fluent-bit*", "/var/log/containers/*.log", false},
		{"/var/log/*.log", "/var/log/x/y.log", false},
	} {
		if got := globSubsumes(c.a, c.b); got != c.want {
			t.Errorf("globSubsumes(%q, %q) = %v; want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestRoutes(t *testing.T) {
	tail := []string{"kube.var.log.containers.*.log"}
	for _, c := range []struct {
		section string
		want    route
	}{
		{"[OUTPUT]\n    Name null\n    Match kube.*\n", routeAll},
		{"[OUTPUT]\n    Name null\n    Match *\n", routeAll},
		{"[OUTPUT]\n    Name null\n    Match host.*\n", routeNone},
		{"[OUTPUT]\n    Name null\n    Match kube.var.log.containers.web*\n", routePart},
		{"[OUTPUT]\n    Name null\n    Match_Regex ^kube\\.\n", routeAll},
		{"[OUTPUT]\n    Name null\n    Match_Regex ^host\\.\n", routeNone},
		{"[OUTPUT]\n    Name null\n", routeNone},
	} {
		cfg, err := Load("f.conf", memFS{"f.conf": c.section}.options())
		if err != nil {
			t.Fatal(err)
		}
		if got := matcherOf(cfg.Sections[0]).routes(tail); got != c.want {
			t.Errorf("routes(%q) = %v; want %v", c.section, got, c.want)
		}
	}
}

func TestTemplate(t *testing.T) {
	in := &fbInput{tag: "kube.*", templates: []string{"kube.var.log.containers.*.log"}}
	tr := &translator{}
	for _, c := range []struct {
		in, want, err string
	}{
		{in: "/aws/containerinsights/${CLUSTER_NAME}/application", want: "/aws/containerinsights/{cluster}/application"},
		{in: "${HOST_NAME}-", want: "{host}-"},
		{in: "${TEAM}/x", want: "${TEAM}/x"},
		{in: "/eks/$kubernetes['namespace_name']/$kubernetes['labels']['app']", want: "/eks/{kubernetes.namespace_name}/{kubernetes.labels.app}"},
		{in: "$(kubernetes['host'])/$(kubernetes['pod_name'])", want: "{host}/{kubernetes.pod_name}"},
		{in: "$TAG", want: "kube.{tag}"},
		{in: "$(tag)", want: "kube.{tag}"},
		{in: "$TAG[0]-$(tag[1])-$TAG[3]", want: "kube-var-containers"},
		{in: "cost$5", want: "cost$5"},
		{in: "$TAG[4]", err: "comes from the file's name"},
		{in: "$(ecs_task_id)", err: "no such field"},
		{in: "$kubernetes['namespace_labels']['team']", err: "no such field"},
		{in: "a{b}", err: "brace"},
		{in: "${bad name}", err: "not a variable"},
	} {
		got, _, err := tr.template(Entry{Value: c.in}, in)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("template(%q) = %q, %v; want an error with %q", c.in, got, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("template(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestSkiffText(t *testing.T) {
	for in, want := range map[string]string{
		"plain":        "plain",
		"^a$":          "^a$",
		"${HOME}/x":    "${HOME}/x", // a reference: skiff expands it
		"$${HOME}":     "$$${HOME}", // a "$", then the reference
		"$$":           "$$$",       // skiff reads "$$" as "$", and a last "$" as itself
		"${bad name}":  "$${bad name}",
		"${unclosed":   "$${unclosed",
		"cost: $5 ${A": "cost: $5 $${A",
	} {
		got := skiffText(in)
		if got != want {
			t.Errorf("skiffText(%q) = %q; want %q", in, got, want)
		}
		back, err := config.Expand(got, func(string) string { return "" })
		if err != nil && !strings.Contains(in, "${") {
			t.Errorf("Expand(%q): %v", got, err)
		}
		if !strings.Contains(in, "${") && back != in {
			t.Errorf("Expand(skiffText(%q)) = %q", in, back)
		}
	}
}

func TestSmallPieces(t *testing.T) {
	for _, c := range []struct {
		terms []string
		want  string
		ok    bool
	}{
		{[]string{"PRIORITY=0", "PRIORITY=1", "PRIORITY=2", "PRIORITY=3", "PRIORITY=4", "PRIORITY=5", "PRIORITY=6"}, "0..6", true},
		{[]string{"PRIORITY=3"}, "3", true},
		{[]string{"PRIORITY=0", "PRIORITY=2"}, "", false},
		{[]string{"PRIORITY=1", "_SYSTEMD_UNIT=a"}, "", false},
		{nil, "", false},
	} {
		if got, ok := priorityRange(c.terms); got != c.want || ok != c.ok {
			t.Errorf("priorityRange(%v) = %q, %v; want %q, %v", c.terms, got, ok, c.want, c.ok)
		}
	}
	for in, want := range map[string]string{"/a/": "a", "/a/i": "(?i)a", "a": "a", "/": "/", "//": ""} {
		if got := fbRegex(in); got != want {
			t.Errorf("fbRegex(%q) = %q; want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{`"start_state" "/^\d/" "cont"`: `start_state|/^\d/|cont`, `a  "b c"  d`: `a|b c|d`, `"x\"y"`: `x"y`, `"open`: `open`} {
		if got := strings.Join(ruleTokens(in), "|"); got != want {
			t.Errorf("ruleTokens(%q) = %q; want %q", in, got, want)
		}
	}
}

// A configuration exercising every way a [MULTILINE_PARSER] goes.
func TestCustomMultiline(t *testing.T) {
	cfg, err := Load("/p.conf", memFS{"/p.conf": `[MULTILINE_PARSER]
    name two
    type regex
    rule "start_state" "/^\d/" "cont"
    rule "cont" "/^\s/" "cont"
[MULTILINE_PARSER]
    name java
    type regex
    rule "start_state" "/^\d/" "cont"
    rule "start_state" "/^E/" "cont"
    rule "cont" "/^\s/" "cont"
[MULTILINE_PARSER]
    name three
    type regex
    rule "start_state" "/^a/" "b"
    rule "b" "/^b/" "c"
    rule "c" "/^c/" "c"
[MULTILINE_PARSER]
    name back
    type regex
    rule "start_state" "/^a/" "cont"
    rule "cont" "/^b/" "start_state"
[MULTILINE_PARSER]
    name onig
    type regex
    rule "start_state" "/^(?<!x)a/" "cont"
    rule "cont" "/^b/" "cont"
[MULTILINE_PARSER]
    name byparser
    type parser
    parser go
`}.options())
	if err != nil {
		t.Fatal(err)
	}
	tr := &translator{used: map[*Section]bool{}}
	want := map[string]string{
		"two":      "two ^\\d ^\\s",
		"java":     "java-custom (?:^\\d)|(?:^E) ^\\s",
		"three":    "more states",
		"back":     "more states",
		"onig":     "not an RE2",
		"byparser": "type parser",
	}
	for _, p := range cfg.Of("multiline_parser") {
		r := tr.customMultiline(p)
		got := r.problem
		if got == "" {
			got = r.name + " " + r.start + " " + r.cont
		}
		if w := want[p.Value("name")]; !strings.Contains(got, w) {
			t.Errorf("customMultiline(%s) = %q; want %q", p.Value("name"), got, w)
		}
	}
}

// Any Fluent Bit configuration translates to one skiff validate takes;
// what cannot be translated is reported, and makes the report
// incomplete.
func TestTranslateSmall(t *testing.T) {
	for _, c := range []struct {
		name, conf string
		incomplete bool
		yaml       []string // lines the translation must hold
	}{
		{"stdout only", "[INPUT]\n    Name tail\n    Path /var/log/containers/*.log\n    Tag kube.*\n[OUTPUT]\n    Name stdout\n    Match *\n",
			false, []string{"output: stdout"}},
		{"a forward input", "[INPUT]\n    Name forward\n[OUTPUT]\n    Name cloudwatch_logs\n    Match *\n    log_group_name g\n    log_stream_prefix p-\n",
			true, nil},
		{"relative paths", "[INPUT]\n    Name tail\n    Path logs/*.log\n[OUTPUT]\n    Name cloudwatch_logs\n    Match *\n    log_group_name g\n    log_stream_name s\n",
			true, nil},
		{"a plain file", "[INPUT]\n    Name tail\n    Path /var/log/app.log\n    Tag app\n[OUTPUT]\n    Name cloudwatch_logs\n    Match app\n    log_group_name /apps/${CLUSTER_NAME}\n    log_stream_name ${HOST_NAME}\n    log_key log\n",
			true, []string{"  app:", "    format: plain", "    log_group: /apps/{cluster}", "    log_stream: '{host}'", "  format: raw"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load("/fb/f.conf", memFS{"/fb/f.conf": c.conf}.options())
			if err != nil {
				t.Fatal(err)
			}
			res, err := Translate(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := config.Load("skiff.yaml", res.YAML, res.Getenv); err != nil {
				t.Errorf("the translation does not validate: %v\n%s", err, res.YAML)
			}
			var report strings.Builder
			_, _ = res.Report.WriteTo(&report)
			if res.Report.Incomplete() != c.incomplete {
				t.Errorf("Incomplete() = %v; want %v\n%s", res.Report.Incomplete(), c.incomplete, report.String())
			}
			for _, l := range c.yaml {
				if !strings.Contains(string(res.YAML), l+"\n") {
					t.Errorf("the translation has no line %q:\n%s", l, res.YAML)
				}
			}
		})
	}
}

// The report says what became of every setting: each entry of each
// section of the real configurations has a line (Name is the section's).
func TestReportCoversEverySetting(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/migrate/*/fluent-bit.*")
	if len(paths) < 5 {
		t.Fatalf("testdata: %v", paths)
	}
	for _, p := range paths {
		cfg, err := Load(p, Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := Translate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		reported := map[Pos]bool{}
		for _, it := range res.Report.Items {
			reported[it.Pos] = true
		}
		for _, s := range cfg.Sections {
			if !reported[s.Pos] && !slices.ContainsFunc(s.Entries, func(e Entry) bool { return reported[e.Pos] }) {
				t.Errorf("%s: %s %s: nothing reported", p, s.Pos, s.Label())
			}
			for _, e := range s.Entries {
				if !reported[e.Pos] && !strings.EqualFold(e.Key, "name") && !skipped(res.Report, s) {
					t.Errorf("%s: %s %s %s: not reported", p, e.Pos, s.Label(), e.Key)
				}
			}
		}
	}
}

// skipped reports whether a whole section was reported with one line,
// changed or not translated (a parser nobody uses, an unsupported output),
// and none of its entries.
func skipped(r *Report, s *Section) bool {
	return slices.ContainsFunc(r.Items, func(it Item) bool {
		return it.Pos == s.Pos && it.Setting == "" && it.Status != Translated
	}) && !slices.ContainsFunc(r.Items, func(it Item) bool {
		return it.Setting != "" && slices.ContainsFunc(s.Entries, func(e Entry) bool { return e.Pos == it.Pos })
	})
}
