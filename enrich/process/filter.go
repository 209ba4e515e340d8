package process

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/skiff-agent/skiff/enrich/fields"
	"github.com/skiff-agent/skiff/tailer"
)

// Field names a filter reads besides the parsed fields.
const (
	fieldLog       = "log"
	fieldMessage   = "message"
	fieldStream    = "stream"
	fieldNamespace = "kubernetes.namespace_name"
	fieldPod       = "kubernetes.pod_name"
	fieldContainer = "kubernetes.container_name"
	prefixLabels   = "kubernetes.labels."
)

// filter runs the filters on rec and reports whether it is kept.
func (s *Stage) filter(w *work, rec *tailer.Record) bool {
	for i := range s.cfg.Filters {
		f := &s.cfg.Filters[i]
		if !f.Select.Matches(rec) {
			continue
		}
		hit := f.Regex == nil || s.match(w, rec, f.Field, f.Regex)
		switch f.Action {
		case Drop:
			if hit {
				s.m.filterDropped[i].Inc()
				return false
			}
		case Keep:
			if !hit {
				s.m.filterDropped[i].Inc()
				return false
			}
		default:
			if hit {
				s.modify(w, rec, f, &s.added[i])
			}
		}
	}
	return true
}

// match reports whether field has a text in rec that re matches.
func (s *Stage) match(w *work, rec *tailer.Record, field string, re *regexp.Regexp) bool {
	if rec.Flags&tailer.Encoded != 0 {
		var ok bool
		w.text, ok = fields.String(w.text[:0], rec.Message, field)
		return ok && re.Match(w.text)
	}
	ns, pod, container := names(rec)
	switch field {
	case fieldLog, fieldMessage:
		return re.Match(rec.Message)
	case fieldStream:
		return re.MatchString(rec.Stream.String())
	case fieldNamespace:
		return ns != "" && re.MatchString(ns)
	case fieldPod:
		return pod != "" && re.MatchString(pod)
	case fieldContainer:
		return container != "" && re.MatchString(container)
	}
	if key, ok := strings.CutPrefix(field, prefixLabels); ok {
		if rec.Pod == nil {
			return false
		}
		v, ok := rec.Pod.Labels[key]
		return ok && re.MatchString(v)
	}
	if rec.Fields == nil {
		return false
	}
	if k := s.cfg.FieldsKey; k != "" {
		if rest, ok := strings.CutPrefix(field, k+"."); ok {
			field = rest
		}
	}
	var ok bool
	w.text, ok = fields.String(w.text[:0], rec.Fields, field)
	return ok && re.Match(w.text)
}

// added is a filter's Add, prepared once: as top-level members, and as
// its Ops followed by Set ops for an encoded record.
type added struct {
	members    []byte // `,"k":"v"...`
	encodedOps []fields.Op
}

func newAdded(f *Filter) added {
	a := added{encodedOps: f.Ops}
	for _, kv := range f.Add {
		a.members = append(a.members, ',')
		a.members = appendJSONString(a.members, kv[0])
		a.members = append(a.members, ':')
		a.members = appendJSONString(a.members, kv[1])
		a.encodedOps = append(a.encodedOps[:len(a.encodedOps):len(a.encodedOps)], fields.Op{Kind: fields.Set, Key: kv[0], To: kv[1]})
	}
	return a
}

// modify applies f's changes to rec: its ops to the parsed fields (to the
// record itself when it is encoded), its added fields at the top level.
func (s *Stage) modify(w *work, rec *tailer.Record, f *Filter, add *added) {
	if rec.Flags&tailer.Encoded != 0 {
		start := len(w.arena)
		w.arena = fields.Rewrite(w.arena, rec.Message, add.encodedOps)
		rec.Message = w.arena[start:len(w.arena):len(w.arena)]
		return
	}
	if rec.Fields != nil && len(f.Ops) > 0 {
		start := len(w.arena)
		w.arena = fields.Rewrite(w.arena, rec.Fields, f.Ops)
		rec.Fields = w.arena[start:len(w.arena):len(w.arena)]
	}
	if len(add.members) > 0 {
		start := len(w.arena)
		w.arena = append(w.arena, rec.Extra...)
		w.arena = append(w.arena, add.members...)
		rec.Extra = w.arena[start:len(w.arena):len(w.arena)]
	}
}

func appendJSONString(dst []byte, s string) []byte {
	b, _ := json.Marshal(s) // config strings, once at New
	return append(dst, b...)
}

// redactRecord replaces secrets in rec's line; in an encoded record, in
// each of its string values.
func (s *Stage) redactRecord(w *work, rec *tailer.Record) {
	clear(w.counts)
	start := len(w.arena)
	out, changed := s.redactor.Redact(w.arena, rec.Message, w.counts)
	if !changed {
		return
	}
	if rec.Flags&tailer.Encoded != 0 {
		// The matches were found in the JSON text; redact the values
		// themselves, so that the record stays valid JSON.
		clear(w.counts)
		out = s.redactObject(w.arena, rec.Message, w.counts)
	}
	w.arena = out
	rec.Message = out[start:len(out):len(out)]
	s.m.redacted(w.counts)
}

// redactObject appends the JSON object obj with secrets replaced in each
// string value (nested objects and arrays included).
func (s *Stage) redactObject(dst, obj []byte, counts []int) []byte {
	var v any
	d := json.NewDecoder(bytes.NewReader(obj))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		out, _ := s.redactor.Redact(dst, obj, counts)
		return out
	}
	v = s.redactValue(v, counts)
	b, err := json.Marshal(v)
	if err != nil {
		out, _ := s.redactor.Redact(dst, obj, counts)
		return out
	}
	return append(dst, b...)
}

func (s *Stage) redactValue(v any, counts []int) any {
	switch x := v.(type) {
	case string:
		out, changed := s.redactor.Redact(nil, []byte(x), counts)
		if changed {
			return string(out)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = s.redactValue(e, counts)
		}
	case []any:
		for i, e := range x {
			x[i] = s.redactValue(e, counts)
		}
	}
	return v
}
