package fluentbit

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
)

// dest is where a CloudWatch output sends an input's records, as skiff
// templates ("" where it could not be translated, with the reason).
type dest struct {
	group, stream           string
	groupAt, streamAt       *Entry
	groupErr, streamErr     string
	groupNotes, streamNotes []string // how references were translated
}

// dest translates o's log group and stream for in's records; o may be nil.
func (t *translator) dest(o *fbOutput, in *fbInput) dest {
	var d dest
	if o == nil {
		return d
	}
	s := o.s
	tmpl := func(e Entry, notes *[]string) (string, string) {
		v, n, err := t.template(e, in)
		*notes = append(*notes, n...)
		if err != nil {
			return "", err.Error()
		}
		return v, ""
	}
	for _, k := range []string{"log_group_template", "log_group_name"} {
		if e, ok := s.Get(k); ok {
			d.groupAt = &e
			d.group, d.groupErr = tmpl(e, &d.groupNotes)
			break
		}
	}
	if d.groupAt == nil {
		d.groupErr = "no log_group_name: Fluent Bit refuses such an output"
	}
	for _, k := range []string{"log_stream_template", "log_stream_name", "log_stream_prefix"} {
		e, ok := s.Get(k)
		if !ok {
			continue
		}
		d.streamAt = &e
		d.stream, d.streamErr = tmpl(e, &d.streamNotes)
		if k == "log_stream_prefix" && d.streamErr == "" {
			tag, err := in.tagExpr()
			if err != nil {
				d.stream, d.streamErr = "", err.Error()
			} else {
				d.stream += tag
			}
		}
		break
	}
	if d.streamAt == nil {
		d.streamErr = "no log_stream_name or log_stream_prefix: Fluent Bit refuses such an output"
	}
	return d
}

// cw returns the CloudWatch output of in's records (see cloudwatchOut),
// once.
func (t *translator) cw(in *fbInput) *fbOutput {
	if t.cws == nil {
		t.cws = map[*fbInput]*fbOutput{}
	}
	if o, ok := t.cws[in]; ok {
		return o
	}
	o := t.cloudwatchOut(in)
	t.cws[in] = o
	return o
}

// destination sets sk's log group and stream from in's CloudWatch
// output. Without one (or where it cannot be translated) the application
// input and skiff's default inputs keep their default destination, and a
// new input gets one in Container Insights' layout; both are reported.
func (t *translator) destination(sk *skInput, in *fbInput) {
	o := t.cw(in)
	d := t.dest(o, in)
	if d.group != "" {
		sk.group = d.group
		sk.addFrom("log_group", t.doc.from(o.s, d.groupAt))
	}
	if d.stream != "" {
		sk.stream = d.stream
		sk.addFrom("log_stream", t.doc.from(o.s, d.streamAt))
	}
	if sk.group != "" && sk.stream != "" {
		switch {
		case o == nil && in.rewritten:
			t.item(in.s, nil, Changed, "rewrite_tag gives its records new tags (not translated): skiff ships them to its default destination for %s: %s, stream %s", sk.key("log_group"), sk.group, sk.stream)
		case o == nil:
			t.item(in.s, nil, Changed, "no cloudwatch_logs output takes its records: skiff ships them to its default destination for %s: %s, stream %s", sk.key("log_group"), sk.group, sk.stream)
		}
		return
	}
	tag, err := in.tagExpr()
	if err != nil {
		tag = "{tag}"
	}
	if sk.group == "" {
		sk.group = "/aws/containerinsights/{cluster}/" + sk.name
	}
	if sk.stream == "" {
		sk.stream = "{host}-" + tag
	}
	t.item(in.s, nil, Changed, "no (translated) cloudwatch_logs destination: skiff ships its records to %s, stream %s (names of skiff migrate's choosing, in Container Insights' layout: edit them)", sk.group, sk.stream)
}

// tagIndex and tagPart match $TAG[n] and the tag[n] of $(tag[n]).
var (
	tagIndex = regexp.MustCompile(`^\$TAG\[\d+\]`)
	tagPart  = regexp.MustCompile(`^tag\[(\d+)\]$`)
)

// labelKey matches the label and annotation keys a template can name.
var labelKey = regexp.MustCompile(`^[A-Za-z0-9_./-]+$`)

// recordAccessor matches Fluent Bit's record accessor: $key['sub']['sub'].
var recordAccessor = regexp.MustCompile(`^\$([A-Za-z_][A-Za-z0-9_.-]*)((?:\['[^']*'\])*)`)

// template translates a log group or stream name of Fluent Bit's into a
// skiff template: ${CLUSTER_NAME} is {cluster}, ${HOST_NAME} and
// ${NODE_NAME} are {host} (the node's name in skiff's chart and in
// Container Insights'), other ${VAR}s stay for skiff to expand when it
// starts; the cloudwatch_logs plugin's record accessors
// ($kubernetes['pod_name'], $TAG, $TAG[n]) and the cloudwatch plugin's
// $(...) become skiff's fields.
func (t *translator) template(e Entry, in *fbInput) (string, []string, error) {
	v := e.Value
	var b strings.Builder
	var notes []string
	for len(v) > 0 {
		i := strings.IndexAny(v, "${}")
		if i < 0 {
			b.WriteString(v)
			break
		}
		b.WriteString(v[:i])
		v = v[i:]
		switch {
		case v[0] != '$':
			return "", nil, fmt.Errorf("%q: a brace cannot be in a CloudWatch name", e.Value)
		case strings.HasPrefix(v, "${"):
			end := strings.IndexByte(v, '}')
			if end < 0 {
				return "", nil, fmt.Errorf("%q: ${ without }", e.Value)
			}
			name := v[2:end]
			if !varName(name) {
				return "", nil, fmt.Errorf("%q: ${%s} is not a variable skiff can expand", e.Value, name)
			}
			switch name {
			case "CLUSTER_NAME":
				b.WriteString("{cluster}")
				notes = append(notes, "${CLUSTER_NAME} is {cluster} (skiff's cluster, $CLUSTER_NAME by default)")
			case "HOST_NAME", "NODE_NAME":
				b.WriteString("{host}")
				notes = append(notes, "${"+name+"} is {host} (the node's name, $NODE_NAME in skiff's chart)")
			default:
				b.WriteString(v[:end+1])
				notes = append(notes, "${"+name+"} stays: skiff expands it from its environment when it starts")
			}
			v = v[end+1:]
		case strings.HasPrefix(v, "$("):
			end := strings.IndexByte(v, ')')
			if end < 0 {
				return "", nil, fmt.Errorf("%q: $( without )", e.Value)
			}
			f, err := t.field(v[2:end], in)
			if err != nil {
				return "", nil, err
			}
			b.WriteString(f)
			v = v[end+1:]
		case strings.HasPrefix(v, "$TAG"):
			n := 4
			if m := tagIndex.FindString(v); m != "" {
				n = len(m)
			}
			f, err := t.field(strings.ToLower(v[1:n]), in)
			if err != nil {
				return "", nil, err
			}
			b.WriteString(f)
			v = v[n:]
		default:
			m := recordAccessor.FindString(v)
			if m == "" {
				b.WriteByte('$')
				v = v[1:]
				continue
			}
			f, err := t.field(m[1:], in)
			if err != nil {
				return "", nil, err
			}
			b.WriteString(f)
			v = v[len(m):]
		}
	}
	return b.String(), notes, nil
}

// field translates one record accessor (kubernetes['pod_name'], tag,
// tag[2]) into a skiff template field.
func (t *translator) field(acc string, in *fbInput) (string, error) {
	acc = strings.TrimSpace(acc)
	if acc == "tag" {
		return in.tagExpr()
	}
	if m := tagPart.FindStringSubmatch(acc); m != nil {
		n, _ := strconv.Atoi(m[1])
		parts := strings.Split(in.templates[0], ".")
		for i, p := range parts {
			if strings.Contains(p, "*") {
				break
			}
			if i == n {
				return p, nil
			}
		}
		return "", fmt.Errorf("$TAG[%d]: that part of tag %s comes from the file's name, and skiff has no field for parts of it", n, in.tag)
	}
	name, rest, _ := strings.Cut(acc, "[")
	var keys []string
	for _, k := range strings.Split(strings.TrimSuffix(rest, "]"), "][") {
		if k = strings.Trim(k, `'"`); k != "" {
			keys = append(keys, k)
		}
	}
	if name == "kubernetes" && len(keys) == 1 {
		switch keys[0] {
		case "namespace_name", "pod_name", "container_name", "pod_id", "docker_id", "container_image":
			return "{kubernetes." + keys[0] + "}", nil
		case "host":
			return "{host}", nil
		}
	}
	if name == "kubernetes" && len(keys) == 2 && (keys[0] == "labels" || keys[0] == "annotations") && labelKey.MatchString(keys[1]) {
		return "{kubernetes." + keys[0] + "." + keys[1] + "}", nil
	}
	return "", fmt.Errorf("%s: skiff's templates have no such field (they have {cluster}, {host}, {tag}, {kubernetes.namespace_name}, {kubernetes.pod_name}, {kubernetes.container_name}, labels and annotations, ...)", acc)
}

// translateOutputs reports every output, and translates the settings of
// the CloudWatch outputs that skiff keeps once (region, retention, ...).
func (t *translator) translateOutputs() {
	haveCW := slices.ContainsFunc(t.outputs, func(o *fbOutput) bool { return o.cloudwatch && len(o.ins) > 0 })
	for _, o := range t.outputs {
		switch {
		case o.plugin == "null":
			t.item(o.s, nil, Changed, "discards the records it takes: skiff ships nothing for them either")
			continue
		case len(o.ins) == 0 && slices.ContainsFunc(t.filters, func(f *fbFilter) bool { return f.plugin == "rewrite_tag" }):
			t.item(o.s, nil, Changed, "takes no input's records, only records rewrite_tag gives a new tag (not translated: see rewrite_tag)")
			continue
		case len(o.ins) == 0:
			t.item(o.s, nil, Changed, "takes no input's records: left out")
			continue
		case o.plugin == "stdout" && !haveCW:
			t.set(o.s, nil, []string{"output"}, config.OutputStdout, "")
			continue
		case o.plugin == "stdout":
			t.item(o.s, nil, Changed, "a debugging copy: skiff has one output; skiff tail prints records as it would ship them")
			continue
		case !o.cloudwatch:
			t.item(o.s, nil, NotTranslated, "skiff ships to CloudWatch Logs only: this output of the records of %s is not translated", labels(o.ins))
			continue
		}
		t.cloudwatchOutput(o)
	}
}

// labels names inputs for the report.
func labels(ins []*fbInput) string {
	var l []string
	for _, in := range ins {
		l = append(l, in.s.Label()+" ("+in.tag+")")
	}
	return strings.Join(l, ", ")
}
