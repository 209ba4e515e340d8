package fluentbit

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
)

// Result is a translation: the skiff configuration and the report.
type Result struct {
	// YAML is skiff.yaml: the keys that differ from skiff's defaults,
	// each under a comment naming the Fluent Bit setting it comes from.
	YAML   []byte
	Report *Report
}

// varRef finds the ${NAME}s a translation leaves for skiff to expand.
var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-[^}]*)?\}`)

// Getenv is the environment to validate the translation in: PodEnv, and a
// placeholder ("/unset", which fits a path, a name and a pattern) for
// each ${NAME} the translation leaves for skiff to expand, since Fluent
// Bit read them from its environment, where skiff will run.
func (r *Result) Getenv(name string) string {
	if v := PodEnv(name); v != "" {
		return v
	}
	for _, m := range varRef.FindAllSubmatch(r.YAML, -1) {
		if string(m[1]) == name {
			return "/unset"
		}
	}
	return ""
}

// Translate turns a Fluent Bit configuration into skiff's. It fails only
// where Fluent Bit itself would refuse the configuration (an input or
// output without a Name); everything it cannot translate is in the
// report, and Report.Incomplete says whether any of it matters.
func Translate(cfg *Config) (*Result, error) {
	t := &translator{
		cfg:       cfg,
		doc:       newDoc(cfg.Path),
		rep:       &Report{Source: cfg.Path, Files: cfg.Files},
		parsers:   map[string]*Section{},
		mlParsers: map[string]*Section{},
		used:      map[*Section]bool{},
		decoders:  map[*Section]bool{},
		globals:   map[string]global{},
	}
	for _, kind := range []string{"input", "filter", "output"} {
		for _, s := range cfg.Of(kind) {
			if s.Plugin() == "" {
				return nil, &Error{Pos: s.Pos, Msg: fmt.Sprintf("[%s] without a Name", strings.ToUpper(kind))}
			}
		}
	}
	for _, s := range cfg.Of("parser") {
		t.parsers[s.Value("name")] = s
	}
	for _, s := range cfg.Of("multiline_parser") {
		t.mlParsers[s.Value("name")] = s
	}
	t.collect()
	t.buildInputs()
	t.translateFilters()
	t.translateOutputs()
	t.translateService()
	t.translateParsers()
	t.otherSections()
	t.disableDefaults()
	t.summarize()
	y, err := t.doc.encode(t.header())
	if err != nil {
		return nil, fmt.Errorf("encode skiff.yaml: %w", err)
	}
	return &Result{YAML: y, Report: t.rep}, nil
}

type translator struct {
	cfg       *Config
	doc       *doc
	rep       *Report
	inputs    []*fbInput
	outputs   []*fbOutput
	filters   []*fbFilter
	skiff     []*skInput // the skiff inputs made, the application input first
	parsers   map[string]*Section
	mlParsers map[string]*Section
	used      map[*Section]bool   // parsers and multiline parsers asked for
	decoders  map[*Section]bool   // parsers of container files: skiff's decoding
	globals   map[string]global   // skiff keys that several sections set
	kube      *Section            // the kubernetes filter used
	notes     []string            // paragraphs for the report
	defaults  map[string]*skInput // default inputs taken over, by name
	cws       map[*fbInput]*fbOutput
	oldRules  map[string]mlRule // rules made of tail's Parser_Firstline
}

// global is a key several Fluent Bit sections may set.
type global struct {
	value any
	at    Pos
}

// item adds a line to the report about entry e of s (nil: the section).
func (t *translator) item(s *Section, e *Entry, st Status, format string, args ...any) {
	it := Item{Pos: s.Pos, Section: s.Label(), Status: st, Note: fmt.Sprintf(format, args...)}
	if e != nil {
		it.Pos, it.Setting = e.Pos, e.Key+" "+e.Value
	}
	t.rep.Items = append(t.rep.Items, it)
}

// set writes a skiff key from entry e of s and reports it as translated,
// naming the key and value (or saying it is skiff's default).
func (t *translator) set(s *Section, e *Entry, path []string, v any, why string) {
	key := strings.Join(path, ".")
	if t.doc.set(path, v, t.doc.from(s, e)) {
		t.item(s, e, Translated, "%s: %s (skiff's default)%s", key, show(v), why)
		return
	}
	t.item(s, e, Translated, "%s: %s%s", key, show(v), why)
}

// setGlobal is set for a key of skiff's that Fluent Bit sets per section:
// the first section's value holds, a different one later is not
// translated.
func (t *translator) setGlobal(s *Section, e *Entry, path []string, v any, why string) {
	key := strings.Join(path, ".")
	if g, ok := t.globals[key]; ok {
		if yamlText(g.value) == yamlText(v) {
			t.item(s, e, Translated, "%s: %s, as at %s", key, show(v), relPos(t.cfg.Path, g.at))
			return
		}
		t.item(s, e, NotTranslated, "skiff has one %s; it is %s, from %s", key, show(g.value), relPos(t.cfg.Path, g.at))
		return
	}
	at := s.Pos
	if e != nil {
		at = e.Pos
	}
	t.globals[key] = global{value: v, at: at}
	t.set(s, e, path, v, why)
}

// show is a value as the report quotes it.
func show(v any) string {
	switch v := v.(type) {
	case string:
		if v == "" {
			return `""`
		}
		return v
	case []string:
		return "[" + strings.Join(v, ", ") + "]"
	case map[string]string:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, k+": "+v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// common reports the keys every plugin takes that skiff needs no
// equivalent of, and says whether e was one.
func (t *translator) common(s *Section, e *Entry) bool {
	k := strings.ToLower(e.Key)
	switch {
	case k == "name":
		return true // reported with the section
	case k == "alias", k == "log_level", k == "threaded", k == "workers", k == "log_suppress_interval",
		strings.HasPrefix(k, "net."), strings.HasPrefix(k, "tls"):
		t.item(s, e, Changed, "not needed: a tuning or naming knob of Fluent Bit's; skiff has no equivalent")
	case k == "mem_buf_limit":
		t.item(s, e, Changed, "not needed: skiff's memory is bounded by cloudwatch.buffer_bytes (64MiB), and reading pauses when it is full")
	case strings.HasPrefix(k, "storage."):
		t.item(s, e, Changed, "not needed: the files are the buffer, and deleted files the spool (tail.max_spool_bytes); nothing is held in memory beyond cloudwatch.buffer_bytes")
	case k == "retry_limit":
		if v := strings.ToLower(e.Value); v == "false" || v == "no_limits" {
			t.item(s, e, Translated, "skiff retries until shutdown (cloudwatch.max_retry_duration: 0s, the default)")
		} else {
			t.item(s, e, Changed, "skiff retries a batch until shutdown, with backoff, unless cloudwatch.max_retry_duration is set; set it to give up after a time instead of a count")
		}
	default:
		return false
	}
	return true
}

// header is the comment at the top of skiff.yaml.
func (t *translator) header() []string {
	h := []string{
		fmt.Sprintf("skiff configuration translated from Fluent Bit's %s by skiff migrate.", relPos(t.cfg.Path, Pos{File: t.cfg.Path}).File),
		"Only what differs from skiff's defaults is written: skiff example-config lists every key",
		"and its default, and skiff's defaults are Container Insights' layout (log groups",
		"/aws/containerinsights/{cluster}/application, /dataplane and /host). Each key says which",
		"Fluent Bit setting it comes from; the report (on stderr) says what became of every setting.",
		"Check it with: skiff validate FILE, and skiff config --config FILE.",
	}
	if n := t.rep.Count(NotTranslated); n > 0 {
		h = append(h, fmt.Sprintf("INCOMPLETE: %d setting(s) could not be translated; see the report.", n))
	}
	return h
}

// otherSections reports the sections that are neither pipeline nor
// parsers.
func (t *translator) otherSections() {
	for _, s := range t.cfg.Sections {
		switch s.Kind {
		case "service", "input", "filter", "output", "parser", "multiline_parser":
			continue
		case "plugins":
			t.item(s, nil, Changed, "not needed: external plugins are reported where the pipeline uses them")
		case "upstream", "node":
			t.item(s, nil, Changed, "not needed: upstream servers are for the forward output")
		default:
			t.item(s, nil, Changed, "not translated, and not part of the log pipeline: left out")
		}
	}
}

// summarize adds the notes at the top of the report.
func (t *translator) summarize() {
	app := t.skiffApp()
	if app != nil {
		def := config.Default(PodEnv)
		if app.group == def.CloudWatch.LogGroup && app.stream == def.CloudWatch.LogStream {
			t.notes = append([]string{"The application input's destination is skiff's default: skiff's defaults ARE Container Insights' layout, so the translated file holds only what differs from it."}, t.notes...)
		}
	}
	t.rep.Notes = t.notes
}
