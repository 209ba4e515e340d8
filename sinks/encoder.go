package sinks

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiff-agent/skiff/tailer"
)

// Formats and parsers an Encoder knows.
const (
	FormatJSON = "json" // the Fluent Bit kubernetes-filter shape
	FormatRaw  = "raw"  // the line alone
	ParseJSON  = "json" // merge a JSON object line into the record
	// DefaultPlainFieldsKey is where a plain text record's parsed fields
	// go when there is no merge key.
	DefaultPlainFieldsKey = "fields"
)

// metaCacheMax bounds the number of per-container entries an Encoder keeps;
// when it is reached the cache starts over (entries are cheap to rebuild).
const metaCacheMax = 8192

// EncoderConfig says how records become messages. The zero value encodes
// the JSON shape with labels and annotations left out.
type EncoderConfig struct {
	// Format is FormatJSON (default) or FormatRaw.
	Format string
	// Parse is "" (default: the line is a string) or ParseJSON: a line that
	// is a JSON object has its members merged into the record. A pod can ask
	// for the same with its parser annotation (Controls.Parser).
	Parse string
	// MergeKey, when set, puts a parsed line's object under this key and
	// keeps the line in "log", as Fluent Bit's Merge_Log_Key does
	// (Container Insights uses log_processed); "" merges the members at
	// the top level in place of "log".
	MergeKey string
	// Labels and Annotations include the pod's labels and annotations under
	// "kubernetes" (default false in the zero value; sinks' own configs
	// default them to true), and likewise its namespace's, when enrichment
	// attached them, as "namespace_labels" and "namespace_annotations".
	Labels, Annotations bool
	// Host is the node name written when the pod's metadata is unknown.
	Host string
	// InputFields are fields added to the records of an input (by
	// FileMeta.Input), after "kubernetes" or "message": az and
	// ec2_instance_id, as Fluent Bit's aws filter adds them.
	InputFields map[string][][2]string
}

// Validate reports a format or parser the Encoder does not know, each a
// *FieldError, joined.
func (c EncoderConfig) Validate() error {
	var errs []error
	switch c.Format {
	case "", FormatJSON, FormatRaw:
	default:
		errs = append(errs, &FieldError{Field: "Format", Msg: fmt.Sprintf("%q is not one of %s, %s", c.Format, FormatJSON, FormatRaw)})
	}
	switch c.Parse {
	case "", ParseJSON:
	default:
		errs = append(errs, &FieldError{Field: "Parse", Msg: fmt.Sprintf("%q is not one of \"\", %s", c.Parse, ParseJSON)})
	}
	if k := c.MergeKey; k != "" && (k == "time" || k == "stream" || k == "log" || k == "kubernetes") {
		errs = append(errs, &FieldError{Field: "MergeKey", Msg: fmt.Sprintf("%q is a key of the record itself", k)})
	}
	return errors.Join(errs...)
}

// Encoder turns records into messages. The "kubernetes" object of each
// container is encoded once, cached by the identity of the record's
// immutable FileMeta and PodMeta, and reused for every line, so encoding a
// line allocates nothing in steady state.
//
// An Encoder is safe for concurrent use.
type Encoder struct {
	cfg   EncoderConfig
	raw   bool
	parse bool

	cache   atomic.Pointer[sync.Map] // metaKey -> *kubeEnc
	entries atomic.Int64
	extra   map[string][]byte // per input: `,"key":"value"...`

	repaired    atomic.Uint64
	parseErrors atomic.Uint64

	lastSecond atomic.Pointer[secondText] // the last second formatted
}

// secondText is a second formatted as RFC 3339 without its fraction.
type secondText struct {
	unix int64
	text []byte
}

// kubeEnc is a container's `,"kubernetes":{…}` as it goes into a message,
// or escaped as it goes into a JSON string (an entry of its own, so that a
// sink that uses one form keeps only that one); rawLen is the length of
// the message form. The escaped form ends with the message's closing `}`,
// so that it is the whole tail that AppendEscapedHead returns.
type kubeEnc struct {
	b      []byte
	rawLen int
}

type metaKey struct {
	file    *tailer.FileMeta
	pod     *tailer.PodMeta
	escaped bool
}

// NewEncoder returns an Encoder for cfg.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	e := &Encoder{cfg: cfg, raw: cfg.Format == FormatRaw, parse: cfg.Parse == ParseJSON}
	e.cache.Store(new(sync.Map))
	for in, fields := range cfg.InputFields {
		if e.extra == nil {
			e.extra = make(map[string][]byte)
		}
		e.extra[in] = AppendFields(nil, fields)
	}
	return e, nil
}

// Repaired returns how many records had invalid UTF-8 replaced by U+FFFD.
func (e *Encoder) Repaired() uint64 { return e.repaired.Load() }

// ParseErrors returns how many lines were to be parsed as JSON, started
// with '{' and were not a valid JSON object (they were sent as a plain
// "log" string). Lines that do not start like an object are not parsed.
func (e *Encoder) ParseErrors() uint64 { return e.parseErrors.Load() }

// Append appends rec's message to dst and returns the extended slice. The
// message is valid UTF-8; its length is what the destination counts.
func (e *Encoder) Append(dst []byte, rec *tailer.Record) []byte {
	var repaired bool
	if e.raw || rec.Flags&tailer.Encoded != 0 {
		dst, repaired = AppendValidUTF8(dst, rec.Message)
		if repaired {
			e.repaired.Add(1)
		}
		return dst
	}
	if rec.Flags&tailer.Plain != 0 {
		dst = append(dst, `{"message":`...)
		dst, repaired = AppendJSONString(dst, rec.Message)
		if repaired {
			e.repaired.Add(1)
		}
		if rec.Fields != nil {
			dst = append(dst, ',')
			dst, _ = AppendJSONString(dst, []byte(cmp.Or(e.cfg.MergeKey, DefaultPlainFieldsKey)))
			dst = append(dst, ':')
			dst, _ = AppendValidUTF8(dst, rec.Fields)
		}
		dst = append(dst, e.extra[rec.File.Input]...)
		dst = append(dst, rec.Extra...)
		return append(dst, '}')
	}
	kube := e.kubernetes(rec.File, rec.Pod, false).b
	if rec.Fields != nil {
		if e.cfg.MergeKey != "" {
			return e.appendLine(dst, rec, rec.Fields, kube)
		}
		return e.appendMerged(dst, rec, rec.Fields, kube)
	}
	if e.parses(rec) && looksLikeObject(rec.Message) {
		if obj, ok := jsonObject(rec.Message); ok {
			if e.cfg.MergeKey != "" {
				return e.appendLine(dst, rec, obj, kube)
			}
			return e.appendMerged(dst, rec, obj, kube)
		}
		e.parseErrors.Add(1)
	}
	return e.appendLine(dst, rec, nil, kube)
}

// appendLine writes the record with the line in "log" and, when obj is not
// nil, the line's JSON object under the merge key, as Fluent Bit's
// Merge_Log_Key does.
func (e *Encoder) appendLine(dst []byte, rec *tailer.Record, obj, kube []byte) []byte {
	dst = append(dst, `{"time":"`...)
	dst = e.appendTime(dst, rec.Time)
	dst = append(dst, `","stream":"`...)
	dst = append(dst, rec.Stream.String()...)
	dst = append(dst, `","log":`...)
	dst, repaired := AppendJSONString(dst, rec.Message)
	if obj != nil {
		dst = append(dst, ',')
		dst, _ = AppendJSONString(dst, []byte(e.cfg.MergeKey))
		dst = append(dst, ':')
		var bad bool
		dst, bad = AppendValidUTF8(dst, obj)
		repaired = repaired || bad
	}
	if repaired {
		e.repaired.Add(1)
	}
	dst = append(dst, kube...)
	dst = append(dst, rec.Extra...)
	return append(dst, '}')
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// AppendEscaped appends rec's message, escaped as the inside of a JSON
// string, to dst, and returns the message's own length: what Append would
// write, in the form a request body carries it. Sinks that send JSON
// requests (CloudWatch) escape each message once here instead of at send
// time, and the common JSON shape is escaped twice in one pass.
func (e *Encoder) AppendEscaped(dst []byte, rec *tailer.Record) ([]byte, int) {
	dst, n, tail := e.AppendEscapedHead(dst, rec)
	return append(dst, tail...), n
}

// AppendEscapedHead is AppendEscaped, except that it may leave the end of
// the message out and return it as tail: the container's escaped
// kubernetes object and the closing brace, the same bytes (one shared
// slice, never to be modified) for every record of a container. The
// message is what it appends followed by tail. A sink that holds many
// messages of one container keeps tail once instead of in every message.
func (e *Encoder) AppendEscapedHead(dst []byte, rec *tailer.Record) (out []byte, n int, tail []byte) {
	if e.raw || rec.Flags&tailer.Encoded != 0 {
		out, n, repaired := AppendEscaped(dst, rec.Message)
		if repaired {
			e.repaired.Add(1)
		}
		return out, n, nil
	}
	if e.cfg.MergeKey != "" && rec.Flags&tailer.Plain == 0 && rec.Fields != nil {
		return e.appendEscapedLine(dst, rec, rec.Fields)
	}
	if e.cfg.MergeKey != "" && rec.Flags&tailer.Plain == 0 && e.parses(rec) && looksLikeObject(rec.Message) {
		if obj, ok := jsonObject(rec.Message); ok {
			return e.appendEscapedLine(dst, rec, obj)
		}
		e.parseErrors.Add(1)
		return e.appendEscapedLine(dst, rec, nil)
	}
	if rec.Flags&tailer.Plain != 0 || rec.Fields != nil || (e.parses(rec) && looksLikeObject(rec.Message)) {
		// Rare enough: build the message, then escape it.
		sp := scratchPool.Get().(*[]byte)
		msg := e.Append((*sp)[:0], rec)
		out, n, _ := AppendEscaped(dst, msg)
		*sp = msg[:0]
		scratchPool.Put(sp)
		return out, n, nil
	}
	return e.appendEscapedLine(dst, rec, nil)
}

// appendEscapedLine is AppendEscapedHead of appendLine's record, escaped
// as it is written: the line twice (a string in a string), its object, when
// there is one, once. It returns the message's own length and, unless the
// record has extra fields, the kubernetes object and closing brace as tail.
func (e *Encoder) appendEscapedLine(dst []byte, rec *tailer.Record, obj []byte) ([]byte, int, []byte) {
	kube := e.kubernetes(rec.File, rec.Pod, true)
	start := len(dst)
	dst = append(dst, `{\"time\":\"`...)
	dst = e.appendTime(dst, rec.Time)
	tlen := len(dst) - start - len(`{\"time\":\"`)
	dst = append(dst, `\",\"stream\":\"`...)
	st := rec.Stream.String()
	dst = append(dst, st...)
	dst = append(dst, `\",\"log\":`...)
	dst, logLen, repaired := appendEscapedTwice(dst, rec.Message)
	n := len(`{"time":"`) + tlen + len(`","stream":"`) + len(st) + len(`","log":`) + logLen + kube.rawLen + 1
	if obj != nil {
		dst = append(dst, `,`...)
		var keyLen, objLen int
		var bad bool
		dst, keyLen, _ = appendEscapedTwice(dst, []byte(e.cfg.MergeKey))
		dst = append(dst, ':')
		dst, objLen, bad = AppendEscaped(dst, obj)
		repaired = repaired || bad
		n += len(`,`) + keyLen + len(`:`) + objLen
	}
	if repaired {
		e.repaired.Add(1)
	}
	if len(rec.Extra) == 0 {
		return dst, n, kube.b
	}
	dst = append(dst, kube.b[:len(kube.b)-1]...)
	var extraLen int
	dst, extraLen, _ = AppendEscaped(dst, rec.Extra)
	return append(dst, '}'), n + extraLen, nil
}

// appendTime appends t in UTC as time.RFC3339Nano does. Lines come in
// bursts within one second, so the date and clock part is formatted once
// per second and reused.
func (e *Encoder) appendTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	sec := t.Unix()
	st := e.lastSecond.Load()
	if st == nil || st.unix != sec {
		if y := t.Year(); y < 0 || y > 9999 || (st != nil && sec < st.unix) {
			// Older than the cached second (a backlog): format it fully
			// rather than thrash the cache.
			return t.AppendFormat(dst, time.RFC3339Nano)
		}
		st = &secondText{unix: sec, text: t.Truncate(time.Second).AppendFormat(nil, "2006-01-02T15:04:05")}
		e.lastSecond.Store(st)
	}
	dst = append(dst, st.text...)
	if ns := t.Nanosecond(); ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i >= 1; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		dst = append(dst, frac[:n]...)
	}
	return append(dst, 'Z')
}

// Reserved top-level keys: a member of a merged line with one of these names
// replaces skiff's own.
const (
	keyTime = 1 << iota
	keyStream
	keyKubernetes
)

// appendMerged writes the members of the JSON object obj as the record's
// top-level keys, then skiff's keys that the line does not already have.
func (e *Encoder) appendMerged(dst []byte, rec *tailer.Record, obj, kube []byte) []byte {
	members := bytes.TrimSpace(obj[1 : len(obj)-1])
	keys := topLevelKeys(obj)
	dst = append(dst, '{')
	sep := false
	if keys&keyTime == 0 {
		dst = append(dst, `"time":"`...)
		dst = e.appendTime(dst, rec.Time)
		dst = append(dst, '"')
		sep = true
	}
	if keys&keyStream == 0 {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"stream":"`...)
		dst = append(dst, rec.Stream.String()...)
		dst = append(dst, '"')
		sep = true
	}
	if len(members) > 0 {
		if sep {
			dst = append(dst, ',')
		}
		var repaired bool
		dst, repaired = AppendValidUTF8(dst, members)
		if repaired {
			e.repaired.Add(1)
		}
		sep = true
	}
	if keys&keyKubernetes == 0 && len(kube) > 0 {
		if !sep {
			kube = kube[1:] // drop the leading comma
		}
		dst = append(dst, kube...)
		sep = true
	}
	if extra := rec.Extra; len(extra) > 0 {
		if !sep {
			extra = extra[1:]
		}
		dst = append(dst, extra...)
	}
	return append(dst, '}')
}

// parses reports whether rec's line is to be parsed as JSON.
func (e *Encoder) parses(rec *tailer.Record) bool {
	return e.parse || (rec.Pod != nil && rec.Pod.Controls.Parser == ParseJSON)
}

// looksLikeObject reports whether msg starts like a JSON object: other
// lines are not parsed, and not counted as parse errors, as with Fluent
// Bit's Merge_Log.
func looksLikeObject(msg []byte) bool {
	for _, c := range msg {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c == '{'
	}
	return false
}

// jsonObject returns msg without surrounding blanks when it is a valid JSON
// object.
func jsonObject(msg []byte) ([]byte, bool) {
	obj := bytes.TrimSpace(msg)
	if len(obj) < 2 || obj[0] != '{' || obj[len(obj)-1] != '}' {
		return nil, false
	}
	return obj, json.Valid(obj)
}

// topLevelKeys reports which reserved keys the valid JSON object obj has.
func topLevelKeys(obj []byte) (mask int) {
	depth, expectKey := 0, false
	for i := 0; i < len(obj); i++ {
		switch c := obj[i]; c {
		case '"':
			j := i + 1
			for j < len(obj) && obj[j] != '"' {
				if obj[j] == '\\' {
					j++
				}
				j++
			}
			if depth == 1 && expectKey {
				switch string(obj[i+1 : min(j, len(obj))]) {
				case "time":
					mask |= keyTime
				case "stream":
					mask |= keyStream
				case "kubernetes":
					mask |= keyKubernetes
				}
				expectKey = false
			}
			i = j
		case '{', '[':
			depth++
			if depth == 1 && c == '{' {
				expectKey = true
			}
		case '}', ']':
			depth--
		case ',':
			if depth == 1 {
				expectKey = true
			}
		}
	}
	return mask
}

// kubernetes returns `,"kubernetes":{…}` for a record's metadata, escaped
// or not, from the cache when possible.
func (e *Encoder) kubernetes(file *tailer.FileMeta, pod *tailer.PodMeta, escaped bool) *kubeEnc {
	k := metaKey{file, pod, escaped}
	m := e.cache.Load()
	if v, ok := m.Load(k); ok {
		return v.(*kubeEnc)
	}
	raw := e.buildKubernetes(file, pod)
	b := &kubeEnc{b: raw, rawLen: len(raw)}
	if escaped {
		b.b, _, _ = AppendEscaped(make([]byte, 0, len(raw)+len(raw)/4+1), raw)
		b.b = slices.Clip(append(b.b, '}')) // shared: an append must copy
	}
	if e.entries.Add(1) > metaCacheMax {
		e.entries.Store(1)
		m = new(sync.Map)
		e.cache.Store(m)
	}
	m.Store(k, b)
	return b
}

func (e *Encoder) buildKubernetes(file *tailer.FileMeta, pod *tailer.PodMeta) []byte {
	k := KubernetesOf(file, pod, e.cfg.Host)
	b := []byte(`,"kubernetes":{`)
	b = appendField(b, "pod_name", k.PodName, true)
	b = appendField(b, "namespace_name", k.NamespaceName, false)
	b = appendField(b, "pod_id", k.PodID, false)
	b = appendField(b, "host", k.Host, false)
	b = appendField(b, "pod_ip", k.PodIP, false)
	b = appendField(b, "container_name", k.ContainerName, false)
	b = appendField(b, "docker_id", k.DockerID, false)
	b = appendField(b, "container_hash", k.ContainerHash, false)
	b = appendField(b, "container_image", k.ContainerImage, false)
	if pod != nil && len(pod.OwnerReferences) > 0 {
		b = appendOwnerReferences(b, pod.OwnerReferences)
	}
	if pod != nil && e.cfg.Labels && len(pod.Labels) > 0 {
		b = appendMap(b, "labels", pod.Labels)
	}
	if pod != nil && e.cfg.Annotations && len(pod.Annotations) > 0 {
		b = appendMap(b, "annotations", pod.Annotations)
	}
	if pod != nil && e.cfg.Labels && len(pod.NamespaceLabels) > 0 {
		b = appendMap(b, "namespace_labels", pod.NamespaceLabels)
	}
	if pod != nil && e.cfg.Annotations && len(pod.NamespaceAnnotations) > 0 {
		b = appendMap(b, "namespace_annotations", pod.NamespaceAnnotations)
	}
	b = append(b, '}')
	if file != nil {
		b = append(b, e.extra[file.Input]...)
	}
	return b
}

// AppendFields appends `,"key":"value"` for each field, as members that
// follow others in a JSON object.
func AppendFields(dst []byte, fields [][2]string) []byte {
	for _, f := range fields {
		dst = append(dst, ',')
		dst, _ = AppendJSONString(dst, []byte(f[0]))
		dst = append(dst, ':')
		dst, _ = AppendJSONString(dst, []byte(f[1]))
	}
	return dst
}

// appendField appends "key":"value", omitting an empty value unless always.
func appendField(b []byte, key, value string, first bool) []byte {
	if value == "" && !first {
		return b
	}
	if !first {
		b = append(b, ',')
	}
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, `":`...)
	b, _ = AppendJSONString(b, []byte(value))
	return b
}

// appendOwnerReferences appends ,"ownerReferences":[…] in the API's shape,
// as Fluent Bit's owner_references writes them.
func appendOwnerReferences(b []byte, refs []tailer.OwnerReference) []byte {
	b = append(b, `,"ownerReferences":[`...)
	for i, r := range refs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendField(b, "apiVersion", r.APIVersion, true)
		b = appendField(b, "kind", r.Kind, false)
		b = appendField(b, "name", r.Name, false)
		b = appendField(b, "uid", r.UID, false)
		b = append(b, `,"controller":`...)
		b = strconv.AppendBool(b, r.Controller)
		b = append(b, `,"blockOwnerDeletion":`...)
		b = strconv.AppendBool(b, r.BlockOwnerDeletion)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendMap appends ,"key":{…} with the map's keys in sorted order.
func appendMap(b []byte, key string, m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, `,"`...)
	b = append(b, key...)
	b = append(b, `":{`...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b, _ = AppendJSONString(b, []byte(k))
		b = append(b, ':')
		b, _ = AppendJSONString(b, []byte(m[k]))
	}
	return append(b, '}')
}
