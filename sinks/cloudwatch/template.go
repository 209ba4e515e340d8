package cloudwatch

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/tailer"
)

// Name limits of CloudWatch Logs.
const (
	MaxNameLen = 512 // log group and log stream names, in bytes here
	// MissingValue is what a field without a value and without a fallback
	// renders as.
	MissingValue = "unknown"
)

// Template is a parsed log group or log stream name template: literal text
// with fields in braces, {field} or {field|fallback}. A field with no value
// renders as its fallback, or MissingValue when it has none. Fields:
//
//	{cluster} {host} {stream} {input} {tag}
//	{kubernetes.namespace_name} {kubernetes.pod_name} {kubernetes.container_name}
//	{kubernetes.pod_id} {kubernetes.docker_id} {kubernetes.container_image}
//	{kubernetes.owner_kind} {kubernetes.owner_name}
//	{kubernetes.labels.KEY} {kubernetes.annotations.KEY}
//	{file.namespace} {file.pod} {file.pod_uid} {file.container}
//	{file.container_id} {file.restart}
//
// {input} is the name of the record's input and {tag} what Fluent Bit's
// tail input puts in place of "*" in a tag (var.log.containers.<file>; a
// journal entry's unit). kubernetes.* fields fall back to what the file's path says when the pod's
// metadata is unknown. Rendered names are sanitized to CloudWatch's rules,
// never rejected.
type Template struct {
	src   string
	parts []part
}

type part struct {
	lit      string // literal text, when field == fieldNone
	field    field
	key      string // label or annotation key
	fallback string
}

type field uint8

const (
	fieldNone field = iota
	fieldCluster
	fieldHost
	fieldStream
	fieldInput
	fieldTag
	fieldNamespace
	fieldPod
	fieldContainer
	fieldPodID
	fieldDockerID
	fieldImage
	fieldOwnerKind
	fieldOwnerName
	fieldLabel
	fieldAnnotation
	fieldFileNamespace
	fieldFilePod
	fieldFilePodUID
	fieldFileContainer
	fieldFileContainerID
	fieldFileRestart
)

var fieldNames = map[string]field{
	"cluster":                      fieldCluster,
	"host":                         fieldHost,
	"stream":                       fieldStream,
	"input":                        fieldInput,
	"tag":                          fieldTag,
	"kubernetes.namespace_name":    fieldNamespace,
	"kubernetes.pod_name":          fieldPod,
	"kubernetes.container_name":    fieldContainer,
	"kubernetes.pod_id":            fieldPodID,
	"kubernetes.docker_id":         fieldDockerID,
	"kubernetes.container_image":   fieldImage,
	"kubernetes.owner_kind":        fieldOwnerKind,
	"kubernetes.owner_name":        fieldOwnerName,
	"file.namespace":               fieldFileNamespace,
	"file.pod":                     fieldFilePod,
	"file.pod_uid":                 fieldFilePodUID,
	"file.container":               fieldFileContainer,
	"file.container_id":            fieldFileContainerID,
	"file.restart":                 fieldFileRestart,
	"kubernetes.labels.<key>":      fieldLabel,
	"kubernetes.annotations.<key>": fieldAnnotation,
}

// ErrTemplate is wrapped by every template syntax error.
var ErrTemplate = errors.New("invalid template")

// ParseTemplate parses a name template; the error says what and where.
func ParseTemplate(src string) (*Template, error) {
	t := &Template{src: src}
	rest := src
	for rest != "" {
		open := strings.IndexAny(rest, "{}")
		if open < 0 {
			t.parts = append(t.parts, part{lit: rest})
			break
		}
		if rest[open] == '}' {
			return nil, fmt.Errorf("%w %q: '}' at byte %d without '{'", ErrTemplate, src, len(src)-len(rest)+open)
		}
		if open > 0 {
			t.parts = append(t.parts, part{lit: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("%w %q: '{' at byte %d is not closed", ErrTemplate, src, len(src)-len(rest)+open)
		}
		p, err := parseField(rest[open+1 : open+end])
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", ErrTemplate, src, err)
		}
		t.parts = append(t.parts, p)
		rest = rest[open+end+1:]
	}
	if len(t.parts) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrTemplate)
	}
	return t, nil
}

func parseField(s string) (part, error) {
	name, fallback, _ := strings.Cut(s, "|")
	name = strings.TrimSpace(name)
	if strings.ContainsAny(name, "{") || strings.ContainsAny(fallback, "{") {
		return part{}, fmt.Errorf("nested '{' in {%s}", s)
	}
	p := part{fallback: fallback}
	switch {
	case name == "":
		return part{}, errors.New("empty field {}")
	case strings.HasPrefix(name, "kubernetes.labels."):
		p.field, p.key = fieldLabel, strings.TrimPrefix(name, "kubernetes.labels.")
	case strings.HasPrefix(name, "kubernetes.annotations."):
		p.field, p.key = fieldAnnotation, strings.TrimPrefix(name, "kubernetes.annotations.")
	default:
		f, ok := fieldNames[name]
		if !ok || f == fieldLabel || f == fieldAnnotation {
			return part{}, fmt.Errorf("unknown field {%s}", name)
		}
		p.field = f
	}
	if (p.field == fieldLabel || p.field == fieldAnnotation) && p.key == "" {
		return part{}, fmt.Errorf("{%s} needs a key", name)
	}
	return p, nil
}

// CheckLogGroup judges src, a log group that comes from a pod annotation:
// a template as ParseTemplate takes it whose literal text is 1 to 512 of
// the characters of log group names ([.-_/#A-Za-z0-9]). The fields it uses
// are sanitized when rendered, as those of the configured template are;
// literal text is refused rather than rewritten, since a person typed it.
func CheckLogGroup(src string) error {
	return checkOverride(src, "log group names", func(lit string) string {
		for i := 0; i < len(lit); i++ {
			if !groupByte[lit[i]] {
				return "hold only letters, digits and . - _ / #"
			}
		}
		return ""
	})
}

// CheckLogStream judges src, a log stream that comes from a pod
// annotation: a template as ParseTemplate takes it whose literal text is
// valid UTF-8 without ':' or '*', 1 to 512 bytes.
func CheckLogStream(src string) error {
	return checkOverride(src, "log stream names", func(lit string) string {
		if !utf8.ValidString(lit) {
			return "must be valid UTF-8"
		}
		if strings.ContainsAny(lit, ":*") {
			return "cannot contain : or *"
		}
		return ""
	})
}

// checkOverride parses src and checks its literal text with lit.
func checkOverride(src, what string, lit func(string) string) error {
	t, err := ParseTemplate(src)
	if err != nil {
		return err
	}
	n := 0
	for _, p := range t.parts {
		if p.field != fieldNone {
			continue
		}
		n += len(p.lit)
		if why := lit(p.lit); why != "" {
			return fmt.Errorf("%w %q: %s %s", ErrTemplate, src, what, why)
		}
	}
	if n > MaxNameLen {
		return fmt.Errorf("%w %q: %s are at most %d bytes", ErrTemplate, src, what, MaxNameLen)
	}
	return nil
}

// String returns the template's source.
func (t *Template) String() string { return t.src }

// UsesStream reports whether the template renders {stream}.
func (t *Template) UsesStream() bool {
	for _, p := range t.parts {
		if p.field == fieldStream {
			return true
		}
	}
	return false
}

// env is what templates read besides the record.
type env struct {
	cluster, host string
}

// appendRender appends the template rendered for rec, unsanitized.
func (t *Template) appendRender(dst []byte, rec *tailer.Record, e env) []byte {
	for _, p := range t.parts {
		if p.field == fieldNone {
			dst = append(dst, p.lit...)
			continue
		}
		v := p.value(rec, e)
		if v == "" {
			v = p.fallback
			if v == "" {
				v = MissingValue
			}
		}
		dst = append(dst, v...)
	}
	return dst
}

func (p part) value(rec *tailer.Record, e env) string {
	f, pod, key := rec.File, rec.Pod, p.key
	if f == nil {
		f = &tailer.FileMeta{}
	}
	// kube is the kubernetes.* view the JSON shape writes too.
	kube := func() sinks.Kubernetes { return sinks.KubernetesOf(rec.File, pod, e.host) }
	fromPod := func(v func(*tailer.PodMeta) string) string {
		if pod == nil {
			return ""
		}
		return v(pod)
	}
	switch p.field {
	case fieldCluster:
		return e.cluster
	case fieldStream:
		return rec.Stream.String()
	case fieldInput:
		return rec.File.Input
	case fieldTag:
		return rec.File.Tag
	case fieldHost:
		return kube().Host
	case fieldNamespace:
		return kube().NamespaceName
	case fieldPod:
		return kube().PodName
	case fieldContainer:
		return kube().ContainerName
	case fieldPodID:
		return kube().PodID
	case fieldDockerID:
		return kube().DockerID
	case fieldImage:
		return kube().ContainerImage
	case fieldOwnerKind:
		return fromPod(func(p *tailer.PodMeta) string { return p.OwnerKind })
	case fieldOwnerName:
		return fromPod(func(p *tailer.PodMeta) string { return p.OwnerName })
	case fieldLabel:
		return fromPod(func(p *tailer.PodMeta) string { return p.Labels[key] })
	case fieldAnnotation:
		return fromPod(func(p *tailer.PodMeta) string { return p.Annotations[key] })
	case fieldFileNamespace:
		return f.Namespace
	case fieldFilePod:
		return f.Pod
	case fieldFilePodUID:
		return f.PodUID
	case fieldFileContainer:
		return f.Container
	case fieldFileContainerID:
		return f.ContainerID
	case fieldFileRestart:
		if f.Restart < 0 {
			return ""
		}
		return strconv.Itoa(f.Restart)
	}
	return ""
}

// groupByte[c] is true for the bytes a log group name may hold.
var groupByte = func() (t [256]bool) {
	for _, c := range []byte("._-/#") {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	return t
}()

// SanitizeGroup maps a rendered name onto the log group rules: characters
// outside [.-_/#A-Za-z0-9] become '_' (one per character), at most 512
// bytes, never empty.
func SanitizeGroup(name []byte) string {
	out := make([]byte, 0, min(len(name), MaxNameLen))
	for i := 0; i < len(name) && len(out) < MaxNameLen; {
		c := name[i]
		if groupByte[c] {
			out = append(out, c)
			i++
			continue
		}
		_, size := utf8.DecodeRune(name[i:])
		out = append(out, '_')
		i += size
	}
	if len(out) == 0 {
		return MissingValue
	}
	return string(out)
}

// SanitizeStream maps a rendered name onto the log stream rules: ':' and
// '*' become '_', invalid UTF-8 becomes U+FFFD, at most 512 bytes cut at a
// character boundary, never empty.
func SanitizeStream(name []byte) string {
	s := strings.ToValidUTF8(string(name), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r == ':' || r == '*' {
			return '_'
		}
		return r
	}, s)
	if len(s) > MaxNameLen {
		cut := MaxNameLen
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	if s == "" {
		return MissingValue
	}
	return s
}

// Destination returns the log group and log stream that cfg's templates
// (or the pod's log group and log stream annotations, when set and valid)
// name for rec, sanitized as the sink sends them.
func Destination(cfg Config, rec *tailer.Record) (group, stream string, err error) {
	cfg.setDefaults()
	groupSrc, streamSrc := cfg.LogGroup, cfg.LogStream
	if p := rec.Pod; p != nil {
		if v := p.Controls.LogGroup; v != "" && CheckLogGroup(v) == nil {
			groupSrc = v
		}
		if v := p.Controls.LogStream; v != "" && CheckLogStream(v) == nil {
			streamSrc = v
		}
	}
	g, err := ParseTemplate(groupSrc)
	if err != nil {
		return "", "", fmt.Errorf("log group: %w", err)
	}
	st, err := ParseTemplate(streamSrc)
	if err != nil {
		return "", "", fmt.Errorf("log stream: %w", err)
	}
	e := env{cluster: cfg.Cluster, host: cfg.Host}
	return SanitizeGroup(g.appendRender(nil, rec, e)), SanitizeStream(st.appendRender(nil, rec, e)), nil
}
