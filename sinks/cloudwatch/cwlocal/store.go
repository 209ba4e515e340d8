package cwlocal

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"sync"
)

// eventOverhead is what the service counts per event on top of its message
// bytes; the store counts the same toward Options.MaxBytes.
const eventOverhead = 26

// Chunk sizes of a stream's message arena: small streams stay small, large
// ones grow in 1 MiB chunks so that no append copies old messages.
const (
	minChunk = 4 << 10
	maxChunk = 1 << 20
)

// store holds every log group in memory. One mutex guards it all: requests
// decode outside the lock and hold it only to look up and copy.
type store struct {
	mu       sync.Mutex
	groups   map[string]*group
	bytes    int64 // message bytes + eventOverhead per stored event
	maxBytes int64
	discard  bool   // count events but keep no messages
	seq      uint64 // sequence tokens
	streamID uint64 // stream ordinals, for event ids
	journal  *journal
}

type group struct {
	name       string
	created    int64
	retention  int32 // days; 0 = never expire
	class      string
	kmsKeyID   string
	protection bool
	tags       map[string]string
	streams    map[string]*stream
	bytes      int64
}

type stream struct {
	name       string
	id         uint64
	created    int64
	firstTS    int64
	lastTS     int64
	lastIngest int64
	hasEvents  bool
	sorted     bool // evs is in timestamp order
	evs        []storedEvent
	chunks     [][]byte
	bytes      int64
}

// storedEvent is one event: its times and where its message lives.
type storedEvent struct {
	ts, ingest int64
	chunk      uint32
	off        uint32
	n          uint32
}

func newStore(maxBytes int64, discard bool) *store {
	return &store{groups: make(map[string]*group), maxBytes: maxBytes, discard: discard}
}

// errStoreFull is answered when an accepted batch would grow the store past its cap.
func (s *store) errFull(need int64) *apiError {
	return &apiError{http.StatusBadRequest, "LimitExceededException", fmt.Sprintf(
		"cwlocal store is full: %d of %d bytes used, %d more needed; delete log groups or raise --max-bytes",
		s.bytes, s.maxBytes, need)}
}

func (s *store) nextSeq() string {
	s.seq++
	return fmt.Sprintf("49%054d", s.seq)
}

// message returns the bytes of e's message (valid while the store lock is held
// and the stream is not deleted; stored bytes are never overwritten).
func (st *stream) message(e *storedEvent) []byte {
	if st.chunks == nil {
		return nil
	}
	return st.chunks[e.chunk][e.off : e.off+e.n]
}

// appendMessage copies m into the stream's arena and returns its location.
func (st *stream) appendMessage(m []byte) (chunk, off uint32) {
	if n := len(st.chunks); n > 0 {
		last := st.chunks[n-1]
		if cap(last)-len(last) >= len(m) {
			st.chunks[n-1] = append(last, m...)
			return uint32(n - 1), uint32(len(last))
		}
	}
	size := minChunk
	if n := len(st.chunks); n > 0 {
		size = min(2*cap(st.chunks[n-1]), maxChunk)
	}
	size = max(size, len(m))
	c := make([]byte, 0, size)
	st.chunks = append(st.chunks, append(c, m...))
	return uint32(len(st.chunks) - 1), 0
}

// sortEvents puts the events in timestamp order (stable: arrival order among
// equal timestamps), as the service returns them.
func (st *stream) sortEvents() {
	if st.sorted {
		return
	}
	slices.SortStableFunc(st.evs, func(a, b storedEvent) int {
		switch {
		case a.ts < b.ts:
			return -1
		case a.ts > b.ts:
			return 1
		}
		return 0
	})
	st.sorted = true
}

// timeRange returns the index range [lo, hi) of sorted events with
// start <= ts < end; nil bounds are open.
func (st *stream) timeRange(start, end *int64) (lo, hi int) {
	st.sortEvents()
	lo, hi = 0, len(st.evs)
	if start != nil {
		lo = sort.Search(len(st.evs), func(i int) bool { return st.evs[i].ts >= *start })
	}
	if end != nil {
		hi = sort.Search(len(st.evs), func(i int) bool { return st.evs[i].ts >= *end })
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// lookup returns the group and stream, or the service's ResourceNotFoundException.
func (s *store) lookup(groupName, streamName string) (*group, *stream, *apiError) {
	g := s.groups[groupName]
	if g == nil {
		return nil, nil, errGroupNotFound
	}
	st := g.streams[streamName]
	if st == nil {
		return g, nil, errStreamNotFound
	}
	return g, st, nil
}

// sortedGroupNames returns the group names in the service's (byte) order.
func (s *store) sortedGroupNames() []string {
	names := make([]string, 0, len(s.groups))
	for n := range s.groups {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func (s *store) deleteGroup(g *group) {
	s.bytes -= g.bytes
	delete(s.groups, g.name)
}

func (s *store) deleteStream(g *group, st *stream) {
	s.bytes -= st.bytes
	g.bytes -= st.bytes
	delete(g.streams, st.name)
}

func (s *store) createGroup(g *group) {
	g.streams = make(map[string]*stream)
	s.groups[g.name] = g
}

func (s *store) createStream(g *group, name string, created int64) *stream {
	s.streamID++
	st := &stream{name: name, id: s.streamID, created: created, sorted: true}
	g.streams[name] = st
	return st
}

// appendEvents stores accepted events. The caller checked the byte cap.
func (s *store) appendEvents(g *group, st *stream, evs []inEvent, ingest int64) {
	var n int64
	if !st.hasEvents && len(evs) > 0 {
		st.firstTS, st.lastTS, st.hasEvents = evs[0].ts, evs[0].ts, true
	}
	if len(evs) > 0 {
		if !s.discard && len(st.evs) > 0 && evs[0].ts < st.evs[len(st.evs)-1].ts {
			st.sorted = false
		}
		st.firstTS = min(st.firstTS, evs[0].ts)
		st.lastTS = max(st.lastTS, evs[len(evs)-1].ts)
		st.lastIngest = ingest
	}
	if need := len(st.evs) + len(evs); !s.discard && need > cap(st.evs) {
		// Double: append's growth for large slices (1.25x) would copy the
		// index several times over as a stream grows.
		grown := make([]storedEvent, len(st.evs), max(need, 2*cap(st.evs), 1024))
		copy(grown, st.evs)
		st.evs = grown
	}
	for i := range evs {
		e := &evs[i]
		n += int64(len(e.msg)) + eventOverhead
		if s.discard {
			continue
		}
		c, off := st.appendMessage(e.msg)
		st.evs = append(st.evs, storedEvent{ts: e.ts, ingest: ingest, chunk: c, off: off, n: uint32(len(e.msg))})
	}
	if !s.discard {
		st.bytes += n
		g.bytes += n
		s.bytes += n
	}
}
