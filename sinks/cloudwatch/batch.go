package cloudwatch

import (
	"slices"
	"sync"
	"time"
	"unsafe"

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

// event is one message in a batch's blocks, escaped as the inside of a
// JSON string, ready for the request body: the bytes in the block, then
// the batch's tail when tail is set.
type event struct {
	ts    int64  // milliseconds since the epoch
	block uint16 // which of the batch's blocks holds it (at most MaxBatchEvents+1)
	ns    uint16 // the record's namespace, as costs index it
	off   int32  // where the escaped message starts in the block
	en    int32  // escaped length in the block
	n     int32  // the message's own length (what CloudWatch counts)
	tail  bool   // the message goes on with the batch's tail
}

// batch is a request being filled for one stream, then sent.
type batch struct {
	d      *dest
	blocks [][]byte // the escaped messages, a block after another
	// tail is the end the encoder gave the batch's first message (its
	// container's kubernetes object): kept once, not in every message of
	// a busy container, it was 45% of the bytes a batch held.
	tail   []byte
	events []event
	acks   sinks.Acks
	size   int   // message bytes + EventOverhead per event
	charge int64 // bytes taken from the budget
	minTS  int64
	maxTS  int64
	born   time.Time
	probe  bool // the batch that tries a paused destination again
}

// Messages are stored in blocks of blockBytes, taken from a free list that
// every batch shares and given back when the batch is delivered: steady
// shipping neither allocates nor copies to grow a buffer, and at most
// maxFreeBlocks wait unused. A batch's first block is sized like its
// stream's last batch when that is smaller, and the blocks after a small
// one double until a full block, so a node with a thousand quiet containers
// holds a thousand small blocks, not a thousand full ones (at a start, when
// no stream's size is known, 1,000 streams took 32 MiB of full blocks). A
// sync.Pool keeps what it is given until the second garbage collection
// after, which at 10,000 lines/s held more memory than the batches; plain
// allocations cost page faults and the scavenger's madvise calls.
const (
	blockBytes    = 32 << 10
	minBlockBytes = 256
	maxFreeBlocks = 128 // 4 MiB
)

var freeBlocks struct {
	sync.Mutex
	list [][]byte
}

// getBlock returns an empty block of blockBytes.
func getBlock() []byte {
	freeBlocks.Lock()
	defer freeBlocks.Unlock()
	if n := len(freeBlocks.list); n > 0 {
		b := freeBlocks.list[n-1]
		freeBlocks.list[n-1] = nil
		freeBlocks.list = freeBlocks.list[:n-1]
		return b
	}
	return make([]byte, 0, blockBytes)
}

// putBlocks keeps the full-size blocks of bs for later batches.
func putBlocks(bs [][]byte) {
	freeBlocks.Lock()
	defer freeBlocks.Unlock()
	for _, b := range bs {
		if cap(b) == blockBytes && len(freeBlocks.list) < maxFreeBlocks {
			freeBlocks.list = append(freeBlocks.list, b[:0])
		}
	}
}

// newBatch starts a batch for d, its events sized like d's last batch.
func newBatch(d *dest, now time.Time) *batch {
	return &batch{d: d, born: now, events: make([]event, 0, max(min(d.lastEvents+d.lastEvents/8, MaxBatchEvents), 4))}
}

// recycle gives b's blocks back and resets its acknowledgements; b must
// not be used after.
func (b *batch) recycle() {
	putBlocks(b.blocks)
	b.blocks, b.events, b.tail = nil, nil, nil
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

// add appends an escaped message of n bytes, esc followed by tail (which
// may be empty), of the namespace at index ns; the caller checked fits.
// A tail other than the batch's is copied after esc.
func (b *batch) add(esc, tail []byte, n int, ts int64, ns uint16) {
	shared := len(tail) > 0 && (len(b.tail) == 0 || sameBytes(tail, b.tail))
	if shared {
		b.tail, tail = tail, nil
	}
	if len(b.events) == 0 {
		b.minTS, b.maxTS = ts, ts
	}
	b.minTS, b.maxTS = min(b.minTS, ts), max(b.maxTS, ts)
	m := len(esc) + len(tail) // what goes into the block
	last := len(b.blocks) - 1
	if last < 0 || len(b.blocks[last])+m > cap(b.blocks[last]) {
		var blk []byte
		switch {
		case m > blockBytes:
			blk = make([]byte, 0, m) // a message of its own
		case last < 0 && b.d.lastBytes < blockBytes/2:
			blk = make([]byte, 0, max(m, b.d.lastBytes+b.d.lastBytes/4, minBlockBytes))
		case last >= 0 && cap(b.blocks[last]) < blockBytes/4:
			// Outgrew a small first block: the next is twice as large, so
			// that a stream's first batch after a start (nothing known of
			// its size) holds about what it carries, not a full block.
			blk = make([]byte, 0, max(m, 2*cap(b.blocks[last])))
		default:
			blk = getBlock()
		}
		b.blocks = append(b.blocks, blk)
		last++
	}
	blk := b.blocks[last]
	b.events = append(b.events, event{ts: ts, block: uint16(last), ns: ns, off: int32(len(blk)), en: int32(m), n: int32(n), tail: shared})
	b.blocks[last] = append(append(blk, esc...), tail...)
	b.size += n + EventOverhead
	b.charge += int64(n + EventOverhead)
}

// escaped returns e's message as it goes into a JSON string: head, then
// tail (nil unless e.tail).
func (b *batch) escaped(e event) (head, tail []byte) {
	head = b.blocks[e.block][e.off : e.off+e.en]
	if e.tail {
		tail = b.tail
	}
	return head, tail
}

// escapedLen is the length of e's escaped message.
func (b *batch) escapedLen(e event) int {
	if e.tail {
		return int(e.en) + len(b.tail)
	}
	return int(e.en)
}

// sameBytes reports whether x and y are the same slice of memory.
func sameBytes(x, y []byte) bool {
	return len(x) == len(y) && unsafe.SliceData(x) == unsafe.SliceData(y)
}

// seal puts the events in time order, keeping arrival order for equal
// times.
func (b *batch) seal() {
	b.d.lastEvents = len(b.events)
	b.d.lastBytes = 0
	for _, blk := range b.blocks {
		b.d.lastBytes += len(blk)
	}
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
