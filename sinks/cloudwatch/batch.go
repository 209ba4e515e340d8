package cloudwatch

import (
	"slices"
	"sync"
	"time"

	"github.com/skiff-agent/skiff/sinks"
)

// PutLogEvents limits.
const (
	// MaxBatchBytes bounds a request: the sum over its events of the UTF-8
	// message bytes plus EventOverhead.
	MaxBatchBytes = 1_048_576
	// EventOverhead is what CloudWatch adds to each message's size.
	EventOverhead = 26
	// MaxEventBytes is the largest message: one event alone fills a batch.
	// (The documentation said 256 KB until 2025; it says 1 MB since.)
	MaxEventBytes = MaxBatchBytes - EventOverhead
	// MaxBatchEvents bounds the events of a request.
	MaxBatchEvents = 10_000
	// MaxBatchSpan bounds the time between a request's first and last event;
	// a batch is kept strictly below it.
	MaxBatchSpan = 24 * time.Hour
)

// event is one message in a batch's arena. The arena holds it escaped as
// the inside of a JSON string, ready for the request body.
type event struct {
	ts  int64 // milliseconds since the epoch
	off int32 // where the escaped message starts in the arena
	en  int32 // escaped length
	n   int32 // the message's own length (what CloudWatch counts)
}

// batch is a request being filled for one stream, then sent.
type batch struct {
	d      *dest
	arena  []byte
	events []event
	acks   sinks.Acks
	size   int   // message bytes + EventOverhead per event
	charge int64 // bytes taken from the budget
	minTS  int64
	maxTS  int64
	born   time.Time
	probe  bool // the batch that tries a paused destination again
}

// Pooled batch storage: a finished batch's arena and events are reused by
// the next batch, so steady shipping allocates little. Arenas larger than a
// batch can need are not kept. New storage starts small and grows by append:
// every stream has a batch of its own, and a node with a thousand quiet
// containers would otherwise hold a thousand mostly empty 16 KiB arenas.
var (
	arenaPool  = sync.Pool{New: func() any { b := make([]byte, 0, 1<<10); return &b }}
	eventsPool = sync.Pool{New: func() any { e := make([]event, 0, 8); return &e }}
)

func newBatch(d *dest, now time.Time) *batch {
	return &batch{d: d, born: now, arena: (*arenaPool.Get().(*[]byte))[:0], events: (*eventsPool.Get().(*[]event))[:0]}
}

// recycle returns b's storage to the pools; b must not be used after.
func (b *batch) recycle() {
	if a := b.arena[:0]; cap(a) <= 2*MaxBatchBytes {
		arenaPool.Put(&a)
	}
	if e := b.events[:0]; cap(e) <= MaxBatchEvents {
		eventsPool.Put(&e)
	}
	b.arena, b.events = nil, nil
	b.acks.Reset()
}

// fits reports whether a message of n bytes at ts can join b.
func (b *batch) fits(n int, ts int64) bool {
	if len(b.events) == 0 {
		return true
	}
	if len(b.events) >= MaxBatchEvents || b.size+n+EventOverhead > MaxBatchBytes {
		return false
	}
	lo, hi := min(b.minTS, ts), max(b.maxTS, ts)
	return hi-lo < MaxBatchSpan.Milliseconds()
}

// add appends an escaped message of n bytes; the caller checked fits.
func (b *batch) add(esc []byte, n int, ts int64) {
	if len(b.events) == 0 {
		b.minTS, b.maxTS = ts, ts
	}
	b.minTS, b.maxTS = min(b.minTS, ts), max(b.maxTS, ts)
	b.events = append(b.events, event{ts: ts, off: int32(len(b.arena)), en: int32(len(esc)), n: int32(n)})
	b.arena = append(b.arena, esc...)
	b.size += n + EventOverhead
	b.charge += int64(n + EventOverhead)
}

// escaped returns e's message as it goes into a JSON string.
func (b *batch) escaped(e event) []byte { return b.arena[e.off : e.off+e.en] }

// seal puts the events in time order, keeping arrival order for equal
// times.
func (b *batch) seal() {
	slices.SortStableFunc(b.events, func(x, y event) int {
		switch {
		case x.ts < y.ts:
			return -1
		case x.ts > y.ts:
			return 1
		}
		return 0
	})
}
