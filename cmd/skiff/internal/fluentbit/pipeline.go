package fluentbit

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// inputKind is what a Fluent Bit input reads, as skiff sees it.
type inputKind uint8

const (
	kindContainers inputKind = iota // tail on /var/log/containers or /var/log/pods
	kindHostFile                    // tail on /var/log/dmesg, messages or secure
	kindPlain                       // tail on other files
	kindJournal                     // systemd
	kindOther                       // anything else: not translated
)

// hostFiles are Container Insights' host log files, and the default
// journal input of skiff's that ships the same entries to the same stream.
var hostFiles = map[string]string{
	"/var/log/dmesg":    "host-dmesg",
	"/var/log/messages": "host-messages",
	"/var/log/secure":   "host-secure",
}

// fbInput is one Fluent Bit input and where its records go.
type fbInput struct {
	s         *Section
	plugin    string
	tag       string
	templates []string // its tags, "*" for the part that varies
	kind      inputKind
	paths     []string // tail: Path; Exclude_Path
	excludes  []string
	outs      []*fbOutput // the outputs that take all of its records
	rewritten bool        // a rewrite_tag filter routes its records anew
	filters   []*fbFilter // the filters that act on all of them, in order
	sk        *skInput    // what it became
}

// fbOutput is one Fluent Bit output.
type fbOutput struct {
	s          *Section
	m          matcher
	plugin     string
	cloudwatch bool
	ins        []*fbInput
}

// fbFilter is one Fluent Bit filter.
type fbFilter struct {
	s      *Section
	m      matcher
	plugin string
	ins    []*fbInput
}

// isContainerPath reports whether a tail path reads the kubelet's
// container log files.
func isContainerPath(p string) bool {
	return strings.HasPrefix(p, "/var/log/containers/") || strings.HasPrefix(p, "/var/log/pods/")
}

// collect reads the inputs, filters and outputs, and routes each input's
// records: which outputs and filters take all of them.
func (t *translator) collect() {
	for _, s := range t.cfg.Of("output") {
		o := &fbOutput{s: s, m: matcherOf(s), plugin: s.Plugin()}
		o.cloudwatch = o.plugin == "cloudwatch_logs" || o.plugin == "cloudwatch"
		t.outputs = append(t.outputs, o)
	}
	for _, s := range t.cfg.Of("filter") {
		t.filters = append(t.filters, &fbFilter{s: s, m: matcherOf(s), plugin: s.Plugin()})
	}
	count := map[string]int{}
	for _, s := range t.cfg.Of("input") {
		in := &fbInput{s: s, plugin: s.Plugin()}
		in.tag = s.Value("tag")
		if in.tag == "" { // Fluent Bit's default tag is the instance's name
			in.tag = fmt.Sprintf("%s.%d", in.plugin, count[in.plugin])
		}
		count[in.plugin]++
		switch in.plugin {
		case "tail":
			for _, e := range s.All("path") {
				in.paths = append(in.paths, splitList(e.Value)...)
			}
			for _, e := range s.All("exclude_path") {
				in.excludes = append(in.excludes, splitList(e.Value)...)
			}
			in.kind = kindPlain
			if len(in.paths) > 0 && !slices.ContainsFunc(in.paths, func(p string) bool { return !isContainerPath(p) }) {
				in.kind = kindContainers
			} else if len(in.paths) == 1 && hostFiles[in.paths[0]] != "" {
				in.kind = kindHostFile
			}
			for _, p := range in.paths {
				in.templates = append(in.templates, strings.ReplaceAll(in.tag, "*", pathTag(starGlob(p))))
			}
		case "systemd":
			in.kind = kindJournal
			units := 0
			filters := s.All("systemd_filter")
			for _, e := range filters {
				if f, v, _ := strings.Cut(e.Value, "="); f == "_SYSTEMD_UNIT" && strings.Contains(in.tag, "*") {
					in.templates = append(in.templates, strings.ReplaceAll(in.tag, "*", v))
					units++
				}
			}
			if units == 0 || units < len(filters) {
				in.templates = append(in.templates, in.tag)
			}
		default:
			in.kind = kindOther
			in.templates = []string{in.tag}
		}
		t.inputs = append(t.inputs, in)
	}
	for _, in := range t.inputs {
		for _, o := range t.outputs {
			if o.plugin == "null" {
				continue // discards: as if no output took the records
			}
			switch o.m.routes(in.templates) {
			case routeAll:
				in.outs = append(in.outs, o)
				o.ins = append(o.ins, in)
			case routePart:
				t.item(o.s, &o.m.entry, NotTranslated, "takes only some of the records of %s (tag %s), by file name or unit: skiff routes by input; give those files an input of their own", in.s.Label(), in.tag)
			}
		}
		for _, f := range t.filters {
			switch f.m.routes(in.templates) {
			case routeAll:
				in.filters = append(in.filters, f)
				f.ins = append(f.ins, in)
				in.rewritten = in.rewritten || f.plugin == "rewrite_tag"
			case routePart:
				t.item(f.s, &f.m.entry, NotTranslated, "acts on only some of the records of %s (tag %s), by file name or unit: skiff's filters choose by input, namespace, pod and container", in.s.Label(), in.tag)
			}
		}
	}
}

// cloudwatchOut returns the first CloudWatch output that takes all of in's
// records, and reports the others that do as not translated: skiff ships
// a record to one destination.
func (t *translator) cloudwatchOut(in *fbInput) *fbOutput {
	var first *fbOutput
	for _, o := range in.outs {
		if !o.cloudwatch {
			continue
		}
		if first == nil {
			first = o
			continue
		}
		t.item(o.s, &o.m.entry, NotTranslated, "%s's records also go to %s at %s: skiff ships each record to one destination", in.s.Label(), first.s.Label(), relPos(t.cfg.Path, first.s.Pos))
	}
	return first
}

// tagExpr is in's tag as a skiff template: "*" is skiff's {tag}, which
// holds what Fluent Bit's tail puts there (the path with dots) and its
// systemd input (the unit).
func (in *fbInput) tagExpr() (string, error) {
	if strings.ContainsAny(in.tag, "<>") {
		return "", fmt.Errorf("tag %s is made with Tag_Regex: skiff's {tag} is the path with dots", in.tag)
	}
	if strings.ContainsAny(in.tag, "{}|") {
		return "", fmt.Errorf("tag %s has characters a skiff template cannot hold", in.tag)
	}
	return strings.Replace(in.tag, "*", "{tag}", 1), nil
}

// globSubsumes reports whether every file glob b matches, glob a matches
// too. In /var/log/containers every file ends in ".log" (the kubelet
// names them so), so "*.log" there covers any name.
func globSubsumes(a, b string) bool {
	if a == b {
		return true
	}
	if filepath.Dir(a) != filepath.Dir(b) || strings.ContainsAny(filepath.Dir(a), "*?[") {
		return false
	}
	base := filepath.Base(a)
	return base == "*" || base == "*.log" && filepath.Dir(a) == "/var/log/containers" ||
		globCovers(starGlob(base), starGlob(filepath.Base(b)))
}
