package cloudwatch

import (
	"sync"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/tailer"
)

// routeCacheMax bounds the cached routes; the cache starts over when full.
const routeCacheMax = 8192

type routeKey struct {
	file   *tailer.FileMeta
	pod    *tailer.PodMeta
	stream tailer.Stream
}

type route struct {
	group, stream, key string
	ns                 uint16 // the records' namespace, as costs index it
}

// routeTemplates are an input's destination.
type routeTemplates struct{ group, stream *Template }

// route returns the group and stream of rec, from the cache when possible.
func (s *Sink) route(rec *tailer.Record) *route {
	k := routeKey{file: rec.File, pod: rec.Pod}
	if s.byStream {
		k.stream = rec.Stream
	}
	m := s.routes.Load()
	if v, ok := m.Load(k); ok {
		return v.(*route)
	}
	gt, st := s.group, s.stream
	if rt, ok := s.inputs[rec.File.Input]; ok {
		gt, st = rt.group, rt.stream
	}
	if p := rec.Pod; p != nil {
		gt = s.override(p.Controls.LogGroup, gt)
		st = s.override(p.Controls.LogStream, st)
	}
	r := &route{
		group:  SanitizeGroup(gt.appendRender(nil, rec, s.env)),
		stream: SanitizeStream(st.appendRender(nil, rec, s.env)),
	}
	r.key = r.group + "\x00" + r.stream
	r.ns = s.cm.cost.index(sinks.KubernetesOf(rec.File, rec.Pod, "").NamespaceName)
	if s.routeN.Add(1) > routeCacheMax {
		s.routeN.Store(1)
		m = new(sync.Map)
		s.routes.Store(m)
	}
	m.Store(k, r)
	return r
}

// override returns the template of a pod's annotation, or def when the
// annotation is empty or invalid (logged once).
func (s *Sink) override(src string, def *Template) *Template {
	if src == "" {
		return def
	}
	if v, ok := s.overrides.Load(src); ok {
		if t := v.(*Template); t != nil {
			return t
		}
		return def
	}
	t, err := ParseTemplate(src)
	if err != nil {
		s.log.Warn("pod annotation names an invalid log group or stream template; using the default", "template", src, "err", err)
		t = nil
	}
	s.overrides.Store(src, t)
	if t == nil {
		return def
	}
	return t
}
