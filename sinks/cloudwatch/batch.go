package cloudwatch

import (
	"slices"
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

// newBatch starts a batch for d sized like d's last one: a busy stream's
// batch is one allocation rather than a series of doublings, and a quiet
// stream's stays small. Storage is not pooled or kept: a pool holds freed
// buffers until the second garbage collection after, and a spare per
// stream holds one more batch per stream; at 10,000 lines/s either held
// more memory than the batches themselves (bench steady, heap in use).
func newBatch(d *dest, now time.Time) *batch {
	return &batch{
		d:      d,
		born:   now,
		arena:  make([]byte, 0, max(min(d.lastArena+d.lastArena/8, MaxBatchBytes), 512)),
		events: make([]event, 0, max(min(d.lastEvents+d.lastEvents/8, MaxBatchEvents), 4)),
	}
}

// recycle drops b's storage and resets its acknowledgements; b must not be
// used after.
func (b *batch) recycle() {
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
	b.d.lastArena, b.d.lastEvents = len(b.arena), len(b.events)
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
