package enrich

import (
	"context"
	"sync"
	"time"

	"github.com/skiff-agent/skiff/tailer"
)

// store is the pod metadata cache, keyed by pod UID. It reads no clock:
// every method that depends on time is given the current time, and await
// takes a deadline (its timer is the only use of time), so its behaviour
// can be driven step by step and under testing/synctest. It is safe for
// concurrent use.
type store struct {
	wait  time.Duration // per-pod bound on waiting for metadata
	grace time.Duration // how long deleted pods stay

	mu   sync.RWMutex
	pods map[string]entry
	// asked holds pods that records asked for before their metadata was
	// known: when each was first asked for (which fixes its one deadline)
	// and last asked for (for sweeping).
	asked map[string]asked
	// changed is closed and replaced whenever a pod is put or removed.
	changed chan struct{}
	deleted int // entries with a deletion time
	// namespaces holds the (filtered) labels and annotations of the
	// namespaces known to the namespace informer; empty when it is off.
	namespaces map[string]NamespaceMeta
}

type entry struct {
	// base is the metadata built from the Pod alone; meta is what is
	// published: base, or a copy of it with its namespace's metadata.
	base, meta *tailer.PodMeta
	deleted    time.Time // zero while the pod exists
}

type asked struct {
	first, last time.Time
}

func newStore(wait, grace time.Duration) *store {
	return &store{
		wait:       wait,
		grace:      grace,
		pods:       make(map[string]entry),
		asked:      make(map[string]asked),
		changed:    make(chan struct{}),
		namespaces: make(map[string]NamespaceMeta),
	}
}

// put publishes base, with its namespace's metadata when known, as the
// metadata of pod base.UID. base is never modified. If the cached metadata
// is the same, the cached pointer stays, so sinks keep their encodings. It
// returns the pointer now published.
func (s *store) put(base *tailer.PodMeta) *tailer.PodMeta {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.pods[base.UID]
	if ok && !old.deleted.IsZero() {
		s.deleted--
	}
	m := s.withNamespace(base)
	if ok && sameMeta(old.meta, m) {
		m = old.meta
	}
	s.pods[base.UID] = entry{base: base, meta: m}
	delete(s.asked, base.UID)
	s.signal()
	return m
}

// setNamespace records the labels and annotations of namespace name (or,
// when !ok, that it is gone) and publishes new metadata for each cached pod
// of that namespace whose metadata changes. Published values are never
// modified.
func (s *store) setNamespace(name string, ns NamespaceMeta, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		s.namespaces[name] = ns
	} else {
		delete(s.namespaces, name)
	}
	changed := false
	for uid, e := range s.pods {
		if e.base.Namespace != name {
			continue
		}
		if m := s.withNamespace(e.base); !sameMeta(e.meta, m) {
			e.meta = m
			s.pods[uid] = e
			changed = true
		}
	}
	if changed {
		s.signal()
	}
}

// withNamespace returns base, or a copy of it carrying its namespace's
// labels and annotations when there are any. s.mu is held.
func (s *store) withNamespace(base *tailer.PodMeta) *tailer.PodMeta {
	ns, ok := s.namespaces[base.Namespace]
	if !ok || (len(ns.Labels) == 0 && len(ns.Annotations) == 0) {
		return base
	}
	m := *base
	m.NamespaceLabels, m.NamespaceAnnotations = ns.Labels, ns.Annotations
	return &m
}

// signal wakes everything waiting on a change. s.mu is held.
func (s *store) signal() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// updated returns a channel closed at the next change of the cache.
func (s *store) updated() <-chan struct{} {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.changed
}

// remove marks pod uid deleted at now; its metadata stays until sweep runs
// after the grace period.
func (s *store) remove(uid string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.pods[uid]
	if !ok || !e.deleted.IsZero() {
		return
	}
	e.deleted = now
	s.pods[uid] = e
	s.deleted++
	s.signal()
}

// sweep forgets pods deleted more than the grace period before now, and
// pods asked for but not seen for as long. It returns how many pods it
// forgot.
func (s *store) sweep(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if s.deleted > 0 {
		for uid, e := range s.pods {
			if !e.deleted.IsZero() && now.Sub(e.deleted) >= s.grace {
				delete(s.pods, uid)
				s.deleted--
				n++
			}
		}
	}
	for uid, a := range s.asked {
		if now.Sub(a.last) >= s.grace {
			delete(s.asked, uid)
		}
	}
	return n
}

// get returns the cached metadata of pod uid, or nil.
func (s *store) get(uid string) *tailer.PodMeta {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pods[uid].meta
}

// attach sets Pod on every record whose pod is cached, under one read lock.
// It returns how many records it enriched, how many have no pod UID, and
// whether any record's pod is unknown.
func (s *store) attach(recs []tailer.Record) (hits, noUID int, unknown bool) {
	var lastUID string
	var last *tailer.PodMeta
	s.mu.RLock()
	defer s.mu.RUnlock()
	for i := range recs {
		uid := ""
		if recs[i].File != nil {
			uid = recs[i].File.PodUID
		}
		switch {
		case uid == "":
			noUID++
			continue
		case uid != lastUID:
			lastUID, last = uid, s.pods[uid].meta
		}
		recs[i].Pod = last // also clears a stale value in a reused record
		if last == nil {
			unknown = true
			continue
		}
		hits++
	}
	return hits, noUID, unknown
}

// deadline records that pod uid was asked for at now and returns the time
// until which its records may wait: the first time it was asked for plus
// the wait bound. first is true for the call that set that time.
func (s *store) deadline(uid string, now time.Time) (deadline time.Time, first bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.asked[uid]
	if !ok {
		a.first = now
	}
	a.last = now
	s.asked[uid] = a
	return a.first.Add(s.wait), !ok
}

// await returns the metadata of pod uid as soon as it is cached, or nil
// once deadline has passed. It returns early with ctx's error.
func (s *store) await(ctx context.Context, uid string, deadline time.Time) (*tailer.PodMeta, error) {
	for {
		s.mu.RLock()
		m, changed := s.pods[uid].meta, s.changed
		s.mu.RUnlock()
		if m != nil {
			return m, nil
		}
		d := time.Until(deadline)
		if d <= 0 {
			return nil, nil
		}
		t := time.NewTimer(d)
		select {
		case <-changed:
			t.Stop()
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

// counts returns how many pods are cached, and how many of them are
// deleted ones kept for the grace period.
func (s *store) counts() (live, deleted int) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.pods) - s.deleted, s.deleted
}
