package fluentbit

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
)

// skInput is a skiff input being made: the application input (tail.*,
// cloudwatch.log_group and log_stream) or one of inputs.<name>.
type skInput struct {
	name             string // config.ApplicationInput for the application input
	typ              string // files or journal
	deflt            bool   // one of skiff's default inputs, taken over
	members          []*fbInput
	include, exclude []string
	format           string
	multiline        string
	parser           string
	match, not       []string
	priority         string
	fields           map[string]string
	group, stream    string
	ec2              bool
	from             map[string][]string // key → the Fluent Bit settings it comes from
}

func (sk *skInput) addFrom(key, from string) {
	if !slices.Contains(sk.from[key], from) {
		sk.from[key] = append(sk.from[key], from)
	}
}

// path is where a key of the input lives in skiff's configuration.
func (sk *skInput) path(key string) []string {
	if sk.name != config.ApplicationInput {
		return []string{"inputs", sk.name, key}
	}
	switch key {
	case "log_group", "log_stream":
		return []string{"cloudwatch", key}
	}
	return []string{"tail", key}
}

func (sk *skInput) key(key string) string { return strings.Join(sk.path(key), ".") }

// buildInputs makes skiff's inputs of Fluent Bit's and reports their
// settings.
func (t *translator) buildInputs() {
	t.defaults = map[string]*skInput{}
	var containers []*fbInput
	for _, in := range t.inputs {
		if len(in.outs) == 0 && !in.rewritten {
			t.item(in.s, nil, Changed, "no output takes its records (tag %s): Fluent Bit discards them, so there is nothing to ship: left out", in.tag)
			continue
		}
		if why := badGlobs(in); why != "" {
			t.item(in.s, nil, NotTranslated, "%s", why)
			continue
		}
		switch in.kind {
		case kindContainers:
			containers = append(containers, in)
		case kindOther:
			t.item(in.s, nil, NotTranslated, "skiff reads container log files, other files and the journal: a %s input is not translated", in.plugin)
		case kindJournal:
			t.journalInput(in)
		case kindHostFile:
			t.hostFileInput(in)
		case kindPlain:
			sk := t.newInput(t.newName(in), config.InputFiles, in)
			sk.include, sk.exclude, sk.format = in.paths, in.excludes, "plain"
			t.destination(sk, in)
			t.fileKeys(sk, in)
		}
	}
	t.containerInputs(containers)
	t.readFroms()
	if t.skiffApp() == nil {
		s := &Section{Kind: "input", Pos: Pos{File: t.cfg.Path}}
		if len(t.cfg.Of("input")) > 0 {
			s = t.cfg.Of("input")[0]
		}
		t.item(s, nil, NotTranslated, "no Fluent Bit input reads container log files, but skiff's application input always does (tail.include, /var/log/containers/*.log by default): set tail.include to the files it should read")
	}
}

// skiffApp returns the application input, or nil.
func (t *translator) skiffApp() *skInput {
	for _, sk := range t.skiff {
		if sk.name == config.ApplicationInput {
			return sk
		}
	}
	return nil
}

func (t *translator) newInput(name, typ string, in *fbInput) *skInput {
	sk := &skInput{name: name, typ: typ, from: map[string][]string{}}
	if def, ok := config.DefaultInputs(true)[name]; ok && name != config.ApplicationInput {
		sk.deflt = true
		sk.include, sk.exclude, sk.format = def.Include, def.Exclude, def.Format
		sk.match, sk.not, sk.priority, sk.fields = def.Match, def.Not, def.Priority, maps.Clone(def.Fields)
		sk.group, sk.stream = def.LogGroup, def.LogStream
		t.defaults[name] = sk
	}
	if name == config.ApplicationInput {
		def := config.Default(PodEnv)
		sk.group, sk.stream = def.CloudWatch.LogGroup, def.CloudWatch.LogStream
	}
	t.skiff = append(t.skiff, sk)
	t.addMember(sk, in)
	return sk
}

func (t *translator) addMember(sk *skInput, in *fbInput) {
	sk.members = append(sk.members, in)
	in.sk = sk
}

// newName names an input after its tag ("host.*" is host), never after
// one of skiff's default inputs it does not take over.
func (t *translator) newName(in *fbInput) string {
	base := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r == '.', r == '_', r == '-', r == ' ':
			return '-'
		}
		return -1
	}, strings.ToLower(in.tag))
	for strings.Contains(base, "--") {
		base = strings.ReplaceAll(base, "--", "-")
	}
	base = strings.Trim(base, "-")
	if base == "" {
		base = in.plugin
	}
	taken := func(n string) bool {
		if n == config.ApplicationInput {
			return true
		}
		if _, ok := config.DefaultInputs(true)[n]; ok {
			return true
		}
		return slices.ContainsFunc(t.skiff, func(sk *skInput) bool { return sk.name == n })
	}
	name := base
	for i := 2; taken(name); i++ {
		name = fmt.Sprintf("%s-%d", base, i)
	}
	return name
}

// takeover returns the name of a default input of skiff's that in can
// be, when it is free: one with the same destination, or the candidate
// given.
func (t *translator) takeover(typ, group, stream, candidate string) string {
	for _, name := range slices.Sorted(maps.Keys(config.DefaultInputs(true))) {
		def := config.DefaultInputs(true)[name]
		if t.defaults[name] == nil && def.Type == typ && def.LogGroup == group && def.LogStream == stream {
			return name
		}
	}
	if candidate != "" && t.defaults[candidate] == nil {
		return candidate
	}
	return ""
}

// containerInputs makes the application input of the tail inputs that
// read container logs, merging those that differ only in the files they
// read, and a files input of each of the others.
func (t *translator) containerInputs(ins []*fbInput) {
	if len(ins) == 0 {
		return
	}
	first := slices.IndexFunc(ins, func(in *fbInput) bool { return slices.Contains(in.paths, "/var/log/containers/*.log") })
	first = max(first, 0)
	app := t.newInput(config.ApplicationInput, config.InputFiles, ins[first])
	app.include, app.exclude = slices.Clone(ins[first].paths), slices.Clone(ins[first].excludes)
	var rest []*fbInput
	for i, in := range ins {
		if i == first {
			continue
		}
		if signature(in) == signature(ins[first]) && t.merge(app, in) {
			continue
		}
		rest = append(rest, in)
	}
	app.include = simplify(app.include)
	t.destination(app, ins[first])
	for _, in := range app.members {
		t.fileKeys(app, in)
	}
	for _, in := range rest {
		d := t.dest(t.cw(in), in)
		name := t.takeover(config.InputFiles, d.group, d.stream, "")
		if def := config.DefaultInputs(true)["dataplane-containers"]; name == "" && sameSet(in.paths, def.Include) {
			name = t.takeover(config.InputFiles, "", "", "dataplane-containers")
		}
		if name == "" {
			name = t.newName(in)
		}
		sk := t.newInput(name, config.InputFiles, in)
		sk.include, sk.exclude, sk.format = in.paths, in.excludes, "auto"
		t.destination(sk, in)
		t.fileKeys(sk, in)
		t.checkOverlap(app, sk)
	}
}

// signature is what must be the same for two tail inputs to be one skiff
// input: the tag's shape, the outputs and filters, the multi-line and
// parser settings.
func signature(in *fbInput) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|", strings.Replace(in.tag, "*", "", 1))
	for _, o := range in.outs {
		fmt.Fprintf(&b, "o%p,", o)
	}
	for _, f := range in.filters {
		fmt.Fprintf(&b, "f%p,", f)
	}
	for _, k := range []string{"multiline.parser", "parser", "multiline", "parser_firstline", "key"} {
		fmt.Fprintf(&b, "|%s", strings.ToLower(strings.ReplaceAll(in.s.Value(k), " ", "")))
	}
	return b.String()
}

// merge adds in's files to app's when one include and exclude list reads
// exactly the files the two did: an exclude of one that the other
// includes goes, and no exclude left may take files the other reads.
func (t *translator) merge(app *skInput, in *fbInput) bool {
	covered := func(e string, includes []string) bool {
		return slices.ContainsFunc(includes, func(i string) bool { return globSubsumes(i, e) })
	}
	var excl []string
	for _, e := range app.exclude {
		if !covered(e, in.paths) {
			excl = append(excl, e)
		}
	}
	mine := len(excl)
	for _, e := range in.excludes {
		if !covered(e, app.include) && !slices.Contains(excl, e) {
			excl = append(excl, e)
		}
	}
	meets := func(e string, includes, excludes []string) bool {
		if slices.Contains(excludes, e) {
			return false
		}
		return slices.ContainsFunc(includes, func(i string) bool { return globsMeet(starGlob(e), starGlob(i)) })
	}
	for i, e := range excl {
		if i < mine && meets(e, in.paths, in.excludes) || i >= mine && meets(e, app.include, app.exclude) {
			return false
		}
	}
	app.include = append(app.include, in.paths...)
	app.exclude = excl
	t.addMember(app, in)
	return true
}

// simplify drops the globs another glob of the list covers (of two that
// cover each other, the first stays).
func simplify(globs []string) []string {
	var out []string
	for i, g := range globs {
		if slices.Contains(out, g) {
			continue
		}
		drop := false
		for j, o := range globs {
			if o == g || !globSubsumes(o, g) || globSubsumes(g, o) && j > i {
				continue
			}
			drop = true
			break
		}
		if !drop {
			out = append(out, g)
		}
	}
	return out
}

// checkOverlap reports an input whose files the application input also
// reads: Fluent Bit reads such a file twice, skiff once (for the
// application input, which comes first).
func (t *translator) checkOverlap(app, sk *skInput) {
	for _, inc := range sk.include {
		excluded := slices.ContainsFunc(app.exclude, func(e string) bool { return globSubsumes(e, inc) })
		if excluded {
			continue
		}
		if slices.ContainsFunc(app.include, func(a string) bool { return globsMeet(starGlob(a), starGlob(inc)) }) {
			in := sk.members[0]
			t.item(in.s, nil, NotTranslated, "%s is also read by the application input (%s): Fluent Bit reads such a file twice, skiff once, for the first input that includes it; exclude it from tail.include to give it to inputs.%s", inc, show(app.include), sk.name)
			return
		}
	}
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(s string) bool { return !slices.Contains(b, s) })
}

// badGlobs says why a tail input's paths are not globs skiff takes
// (absolute, well formed), or "".
func badGlobs(in *fbInput) string {
	if in.plugin != "tail" {
		return ""
	}
	if len(in.paths) == 0 {
		return "no Path: Fluent Bit refuses such an input"
	}
	for _, p := range append(slices.Clone(in.paths), in.excludes...) {
		if !filepath.IsAbs(p) {
			return fmt.Sprintf("%s: skiff reads absolute paths (Fluent Bit's relative ones depend on the directory it starts in)", p)
		}
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Sprintf("%s: %v", p, err)
		}
	}
	return ""
}
