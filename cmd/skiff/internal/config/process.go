package config

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/skiff-agent/skiff/enrich/fields"
	"github.com/skiff-agent/skiff/enrich/parse"
	"github.com/skiff-agent/skiff/enrich/process"
	"github.com/skiff-agent/skiff/enrich/redact"
	"github.com/skiff-agent/skiff/tailer"
	"github.com/skiff-agent/skiff/tailer/multiline"
)

// Multiline joins the lines of a stack trace into one record. A file's
// rule is its pod's skiff.io/multiline annotation, else the first of
// containers that matches, else its input's multiline key.
type Multiline struct {
	// Quiet is how long a record being joined waits for its next line
	// before it is shipped. Default 1s.
	Quiet Duration `yaml:"quiet"`
	// Custom are rules of your own, by name: a line matching start begins a
	// record, the lines matching continuation that follow join it.
	Custom map[string]MultilineRule `yaml:"custom"`
	// Containers choose a rule by namespace, pod and container.
	Containers []MultilineChoice `yaml:"containers"`
}

// MultilineRule is a rule of your own: two RE2 patterns.
type MultilineRule struct {
	Start        string `yaml:"start"`
	Continuation string `yaml:"continuation"`
}

// MultilineChoice is the rule of the containers it matches.
type MultilineChoice struct {
	// Namespace, Pod and Container are glob patterns; empty matches all.
	Namespace string `yaml:"namespace"`
	Pod       string `yaml:"pod"`
	Container string `yaml:"container"`
	// Rule names a built-in or custom rule.
	Rule string `yaml:"rule"`
}

// Parsers are parsers of your own and the choice of a parser per
// container. A record's parser is its pod's skiff.io/parser (or
// fluentbit.io/parser) annotation, else the first of containers that
// matches, else its input's parser key.
type Parsers struct {
	// Custom are regex parsers by name.
	Custom map[string]ParserRule `yaml:"custom"`
	// Containers choose a parser by namespace, pod, container and labels.
	Containers []ParserChoice `yaml:"containers"`
}

// ParserRule is a regex parser: each named group becomes a field.
type ParserRule struct {
	// Regex is an RE2 pattern with named groups, (?P<name>...).
	Regex string `yaml:"regex"`
	// Types makes fields numbers or booleans: integer, float or bool.
	Types map[string]string `yaml:"types"`
}

// ParserChoice is the parser of the containers it matches.
type ParserChoice struct {
	Namespace string `yaml:"namespace"`
	Pod       string `yaml:"pod"`
	Container string `yaml:"container"`
	// Labels is a label selector, as kubectl -l takes.
	Labels string `yaml:"labels"`
	// Parser names a built-in or custom parser.
	Parser string `yaml:"parser"`
}

// Filter keeps, drops or changes records. It acts on the records its
// input, namespace, pod, container, stream and labels match (all, when
// none is set); field and regex narrow that to the records whose field
// matches.
type Filter struct {
	// Name labels the filter's drops in skiff_filter_dropped_records_total.
	// Required.
	Name      string `yaml:"name"`
	Input     string `yaml:"input"`
	Namespace string `yaml:"namespace"`
	Pod       string `yaml:"pod"`
	Container string `yaml:"container"`
	Stream    string `yaml:"stream"`
	Labels    string `yaml:"labels"`
	// Field is log, stream, kubernetes.namespace_name, kubernetes.pod_name,
	// kubernetes.container_name, kubernetes.labels.<key>, or a parsed
	// field (level, log_processed.level, http.status).
	Field string `yaml:"field"`
	// Regex is an RE2 pattern the field's text must match.
	Regex string `yaml:"regex"`
	// Action is drop (the records matched), keep (only the records
	// matched, of those the filter acts on), or empty: change the
	// records matched with lift, rename, remove and add.
	Action string `yaml:"action"`
	// Lift moves the members of a parsed object field to the top of the
	// parsed fields, with LiftPrefix before their names.
	Lift       string `yaml:"lift"`
	LiftPrefix string `yaml:"lift_prefix"`
	// Rename renames parsed fields: old: new.
	Rename map[string]string `yaml:"rename"`
	// Remove removes parsed fields.
	Remove []string `yaml:"remove"`
	// Add adds fields with fixed values to the record.
	Add map[string]string `yaml:"add"`
}

// Redact replaces secrets with a marker before anything leaves the node.
type Redact struct {
	// Rules are built-in rules: aws_access_key_id, aws_secret_access_key,
	// bearer_token, credit_card, email, jwt, private_key. Default none.
	Rules []string `yaml:"rules"`
	// Custom are rules of your own, by name: an RE2 pattern whose matches
	// (or whose group named secret) are replaced.
	Custom map[string]string `yaml:"custom"`
	// Marker replaces each match. Default [REDACTED].
	Marker string `yaml:"marker"`
}

// Limit bounds the rate of each pod's (or container's) records.
type Limit struct {
	Name      string `yaml:"name"`
	Namespace string `yaml:"namespace"`
	Pod       string `yaml:"pod"`
	Container string `yaml:"container"`
	Labels    string `yaml:"labels"`
	// Per is pod (default) or container.
	Per string `yaml:"per"`
	// LinesPerSecond and BytesPerSecond are the rates; 0 is no bound.
	LinesPerSecond int  `yaml:"lines_per_second"`
	BytesPerSecond Size `yaml:"bytes_per_second"`
	// Burst is how much of the rate may pass at once. Default 1s.
	Burst Duration `yaml:"burst"`
	// Action is drop (default: counted by namespace) or hold (the pod's
	// files wait).
	Action string `yaml:"action"`
}

// selector parses a label selector; "" is none.
func selector(s string) (labels.Selector, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	return labels.Parse(s)
}

// processSelect builds a Select, reporting a bad selector under key.
func processSelect(key string, sel process.Select, lbl string, errs *[]*FieldError) process.Select {
	ls, err := selector(lbl)
	if err != nil {
		*errs = append(*errs, &FieldError{Key: key + ".labels", Msg: err.Error()})
	}
	sel.Labels = ls
	if err := sel.Validate(); err != nil {
		*errs = append(*errs, &FieldError{Key: key, Msg: err.Error()})
	}
	return sel
}

// parsers returns every parser a name can ask for: the built-ins and the
// custom ones.
func (c *Config) parsers(errs *[]*FieldError) map[string]parse.Parser {
	out := map[string]parse.Parser{}
	for _, name := range parse.Builtins() {
		p, _ := parse.Builtin(name)
		out[name] = p
	}
	for _, name := range slices.Sorted(maps.Keys(c.Parsers.Custom)) {
		r := c.Parsers.Custom[name]
		key := "parsers.custom." + name
		if _, builtin := out[name]; builtin {
			*errs = append(*errs, &FieldError{Key: key, Msg: "a built-in parser has this name"})
			continue
		}
		p, err := parse.NewRegex(name, r.Regex, r.Types)
		if err != nil {
			*errs = append(*errs, &FieldError{Key: key, Msg: err.Error()})
			continue
		}
		out[name] = p
	}
	return out
}

// inputParsers returns the parser key of every input, by input name.
func (c *Config) inputParsers() map[string]string {
	out := map[string]string{}
	if c.Tail.Parser != "" {
		out[ApplicationInput] = c.Tail.Parser
	}
	for name, in := range c.Inputs {
		if in.Parser != "" {
			out[name] = in.Parser
		}
	}
	return out
}

// ProcessConfig is the configuration of the stages between enrichment and
// the sink, without its Logger and Registerer, and what is wrong in it.
// The stages are off (Empty) unless the file configures one.
func (c *Config) ProcessConfig() (process.Config, []*FieldError) {
	var errs []*FieldError
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	pc := process.Config{Marker: c.Redact.Marker, FieldsKey: c.mergeKey()}
	named := c.parsers(&errs)
	// A pod may name any of them in its annotation.
	pc.Named = named
	for i, ch := range c.Parsers.Containers {
		key := fmt.Sprintf("parsers.containers[%d]", i)
		p, ok := named[ch.Parser]
		if !ok {
			bad(key+".parser", "%q is not a parser: %s", ch.Parser, strings.Join(slices.Sorted(maps.Keys(named)), ", "))
			continue
		}
		sel := processSelect(key, process.Select{Namespace: ch.Namespace, Pod: ch.Pod, Container: ch.Container}, ch.Labels, &errs)
		pc.Parsers = append(pc.Parsers, process.ParserChoice{Select: sel, Parser: p})
	}
	inputs := c.inputParsers()
	for _, in := range slices.Sorted(maps.Keys(inputs)) {
		key := "inputs." + in + ".parser"
		if in == ApplicationInput {
			key = "tail.parser"
		}
		p, ok := named[inputs[in]]
		if !ok {
			bad(key, "%q is not a parser: %s", inputs[in], strings.Join(slices.Sorted(maps.Keys(named)), ", "))
			continue
		}
		pc.Parsers = append(pc.Parsers, process.ParserChoice{Select: process.Select{Input: in}, Parser: p})
	}

	for _, name := range c.Redact.Rules {
		r, ok := redact.Builtin(name)
		if !ok {
			bad("redact.rules", "%q is not a rule: %s", name, strings.Join(redact.Builtins(), ", "))
			continue
		}
		pc.Redact = append(pc.Redact, r)
	}
	for _, name := range slices.Sorted(maps.Keys(c.Redact.Custom)) {
		r, err := redact.New(name, c.Redact.Custom[name])
		if err != nil {
			bad("redact.custom."+name, "%v", err)
			continue
		}
		pc.Redact = append(pc.Redact, r)
	}

	for i, f := range c.Filters {
		key := fmt.Sprintf("filters[%d]", i)
		reported := len(errs)
		pf := process.Filter{Name: f.Name, Field: f.Field}
		pf.Select = processSelect(key, process.Select{Input: f.Input, Namespace: f.Namespace, Pod: f.Pod, Container: f.Container, Stream: f.Stream}, f.Labels, &errs)
		if f.Stream != "" && f.Stream != "stdout" && f.Stream != "stderr" {
			bad(key+".stream", "%q is not stdout or stderr", f.Stream)
		}
		if f.Regex != "" {
			re, err := regexp.Compile(f.Regex)
			if err != nil {
				bad(key+".regex", "%v", err)
			}
			pf.Regex = re
		}
		switch f.Action {
		case "":
			pf.Action = process.Modify
		case "drop":
			pf.Action = process.Drop
		case "keep":
			pf.Action = process.Keep
		default:
			bad(key+".action", "%q is not drop, keep or empty (change records)", f.Action)
		}
		if f.Lift != "" {
			pf.Ops = append(pf.Ops, fields.Op{Kind: fields.Lift, Key: f.Lift, Prefix: f.LiftPrefix})
		}
		for _, old := range slices.Sorted(maps.Keys(f.Rename)) {
			pf.Ops = append(pf.Ops, fields.Op{Kind: fields.Rename, Key: old, To: f.Rename[old]})
		}
		for _, k := range f.Remove {
			pf.Ops = append(pf.Ops, fields.Op{Kind: fields.Remove, Key: k})
		}
		for _, k := range slices.Sorted(maps.Keys(f.Add)) {
			pf.Add = append(pf.Add, [2]string{k, f.Add[k]})
		}
		if err := pf.Validate(); err != nil && reported == len(errs) {
			for _, e := range strings.Split(err.Error(), "\n") {
				bad(key, "%s", e)
			}
		}
		pc.Filters = append(pc.Filters, pf)
	}

	for i, l := range c.Limits {
		key := fmt.Sprintf("limits[%d]", i)
		pl := process.Limit{Name: l.Name, Lines: float64(l.LinesPerSecond), Bytes: float64(l.BytesPerSecond), Burst: l.Burst.Std()}
		pl.Select = processSelect(key, process.Select{Namespace: l.Namespace, Pod: l.Pod, Container: l.Container}, l.Labels, &errs)
		switch l.Per {
		case "", "pod":
		case "container":
			pl.PerContainer = true
		default:
			bad(key+".per", "%q is not pod or container", l.Per)
		}
		switch l.Action {
		case "", "drop":
		case "hold":
			pl.Hold = true
		default:
			bad(key+".action", "%q is not drop or hold", l.Action)
		}
		if err := pl.Validate(); err != nil {
			for _, e := range strings.Split(err.Error(), "\n") {
				bad(key, "%s", e)
			}
		}
		pc.Limits = append(pc.Limits, pl)
	}
	return pc, errs
}

// mergeKey is the output's merge key.
func (c *Config) mergeKey() string {
	switch c.Output {
	case OutputStdout:
		return c.Stdout.MergeKey
	case OutputFile:
		return c.File.MergeKey
	}
	return c.CloudWatch.MergeKey
}

// usesLabels reports whether a choice, filter or limit selects by pod
// labels, which enrichment must then keep whatever kubernetes.labels says.
func (c *Config) usesLabels() bool {
	for _, ch := range c.Parsers.Containers {
		if ch.Labels != "" {
			return true
		}
	}
	for _, f := range c.Filters {
		if f.Labels != "" || strings.HasPrefix(f.Field, "kubernetes.labels.") {
			return true
		}
	}
	for _, l := range c.Limits {
		if l.Labels != "" {
			return true
		}
	}
	return false
}

// MultilineRules chooses the multi-line rule of files.
type MultilineRules struct {
	named      map[string]*multiline.Rule
	containers []multilineChoice
	inputs     map[string]*multiline.Rule
}

type multilineChoice struct {
	sel  process.Select
	rule *multiline.Rule
}

// Empty reports whether no file can have a rule.
func (m *MultilineRules) Empty() bool {
	return len(m.containers) == 0 && len(m.inputs) == 0 && len(m.named) == 0
}

// Rule returns the rule of a file whose pod (nil when unknown) asks for
// annotation: the annotation's rule, else the first container choice that
// matches, else the file's input's.
func (m *MultilineRules) Rule(file *tailer.FileMeta, pod *tailer.PodMeta) *multiline.Rule {
	if pod != nil && pod.Controls.Multiline != "" {
		if r := m.named[pod.Controls.Multiline]; r != nil {
			return r
		}
	}
	if len(m.containers) > 0 {
		rec := tailer.Record{File: file, Pod: pod}
		for i := range m.containers {
			if m.containers[i].sel.Matches(&rec) {
				return m.containers[i].rule
			}
		}
	}
	return m.inputs[file.Input]
}

// Names returns the names a pod's annotation may use.
func (m *MultilineRules) Names() []string { return slices.Sorted(maps.Keys(m.named)) }

// MultilineRules builds the multi-line choice, and says what is wrong in it.
func (c *Config) MultilineRules() (*MultilineRules, []*FieldError) {
	var errs []*FieldError
	m := &MultilineRules{named: map[string]*multiline.Rule{}, inputs: map[string]*multiline.Rule{}}
	for _, name := range multiline.Builtins() {
		r, _ := multiline.Builtin(name)
		m.named[name] = r
	}
	for _, name := range slices.Sorted(maps.Keys(c.Multiline.Custom)) {
		key := "multiline.custom." + name
		if _, builtin := m.named[name]; builtin {
			errs = append(errs, &FieldError{Key: key, Msg: "a built-in rule has this name"})
			continue
		}
		r, err := multiline.New(name, c.Multiline.Custom[name].Start, c.Multiline.Custom[name].Continuation)
		if err != nil {
			errs = append(errs, &FieldError{Key: key, Msg: err.Error()})
			continue
		}
		m.named[name] = r
	}
	rule := func(key, name string) *multiline.Rule {
		r, ok := m.named[name]
		if !ok {
			errs = append(errs, &FieldError{Key: key, Msg: fmt.Sprintf("%q is not a rule: %s", name, strings.Join(m.Names(), ", "))})
		}
		return r
	}
	for i, ch := range c.Multiline.Containers {
		key := fmt.Sprintf("multiline.containers[%d]", i)
		r := rule(key+".rule", ch.Rule)
		sel := processSelect(key, process.Select{Namespace: ch.Namespace, Pod: ch.Pod, Container: ch.Container}, "", &errs)
		if r != nil {
			m.containers = append(m.containers, multilineChoice{sel: sel, rule: r})
		}
	}
	if c.Tail.Multiline != "" {
		if r := rule("tail.multiline", c.Tail.Multiline); r != nil {
			m.inputs[ApplicationInput] = r
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Inputs)) {
		if in := c.Inputs[name]; in.Multiline != "" {
			if r := rule("inputs."+name+".multiline", in.Multiline); r != nil {
				m.inputs[name] = r
			}
		}
	}
	if !c.Kubernetes.Enabled && len(m.containers) == 0 && len(m.inputs) == 0 {
		m.named = nil // no pod can ask
	}
	if c.Multiline.Quiet <= 0 {
		errs = append(errs, &FieldError{Key: "multiline.quiet", Msg: fmt.Sprintf("must be positive, got %s", c.Multiline.Quiet)})
	}
	return m, errs
}
