package tailer

import (
	"sync"
	"sync/atomic"
)

// ackTracker keeps one file's acknowledged watermark: the highest offset
// below which every record handed out has been acknowledged.
//
// Records are handed out in chunks, one chunk per Consumer.Write call. A
// chunk knows how many of its records are still unacknowledged and the
// offset where it ends; the watermark advances over the leading chunks that
// are fully acknowledged, so acks may arrive in any order. A chunk's end is
// never inside a line that is still being joined or split: it is the offset
// where the follower could restart without losing part of a line.
type ackTracker struct {
	mu      sync.Mutex
	acked   int64       // the watermark
	handed  int64       // end of the last chunk registered
	pending []*ackChunk // registered, not yet fully acknowledged, in order
	// onIdle, when set, is called (without the lock) each time the last
	// pending chunk is acknowledged.
	onIdle func()
}

func newAckTracker(start int64, onIdle func()) *ackTracker {
	return &ackTracker{acked: start, handed: start, onIdle: onIdle}
}

// ackChunk is the Acker of the records of one Write call.
type ackChunk struct {
	tr   *ackTracker
	left atomic.Int64
	end  int64
}

// Ack implements Acker.
func (c *ackChunk) Ack(n int) {
	if c.left.Add(-int64(n)) <= 0 {
		c.tr.advance()
	}
}

// chunk registers the next n records, which end at offset end. With n == 0
// the watermark moves to end as soon as the chunks before it are acked.
func (tr *ackTracker) chunk(n int, end int64) *ackChunk {
	c := &ackChunk{tr: tr, end: end}
	c.left.Store(int64(n))
	tr.mu.Lock()
	if end > tr.handed {
		tr.handed = end
	}
	tr.pending = append(tr.pending, c)
	tr.mu.Unlock()
	if n == 0 {
		tr.advance()
	}
	return c
}

// replace puts a new chunk of n records in old's place, for a batch sent
// again. Acks still arriving for old no longer count.
func (tr *ackTracker) replace(old *ackChunk, n int) *ackChunk {
	c := &ackChunk{tr: tr, end: old.end}
	c.left.Store(int64(n))
	tr.mu.Lock()
	found := false
	for i, p := range tr.pending {
		if p == old {
			tr.pending[i], found = c, true
			break
		}
	}
	if !found {
		tr.pending = append(tr.pending, c)
	}
	tr.mu.Unlock()
	if n == 0 {
		tr.advance()
	}
	return c
}

func (tr *ackTracker) advance() {
	tr.mu.Lock()
	i := 0
	for ; i < len(tr.pending) && tr.pending[i].left.Load() <= 0; i++ {
		c := tr.pending[i]
		if c.end > tr.acked {
			tr.acked = c.end
		}
		tr.pending[i] = nil
	}
	if i > 0 {
		n := copy(tr.pending, tr.pending[i:])
		clear(tr.pending[n:])
		tr.pending = tr.pending[:n]
	}
	idle := i > 0 && len(tr.pending) == 0
	onIdle := tr.onIdle
	tr.mu.Unlock()
	if idle && onIdle != nil {
		onIdle()
	}
}

// handOver gives the tracker to another follower, woken by onIdle.
func (tr *ackTracker) handOver(onIdle func()) {
	tr.mu.Lock()
	tr.onIdle = onIdle
	tr.mu.Unlock()
}

// writeOff moves the watermark to end whatever is pending: the bytes
// before it are given up (and were counted as such by the caller). Acks
// still arriving for the dropped chunks no longer count.
func (tr *ackTracker) writeOff(end int64) {
	tr.mu.Lock()
	clear(tr.pending)
	tr.pending = tr.pending[:0]
	tr.acked = max(tr.acked, end)
	tr.handed = max(tr.handed, tr.acked)
	tr.mu.Unlock()
}

// watermark returns the acknowledged offset.
func (tr *ackTracker) watermark() int64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.acked
}

// unacked returns the bytes handed out and not yet acknowledged.
func (tr *ackTracker) unacked() int64 {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.handed - tr.acked
}

// idle reports whether every chunk handed out has been acknowledged.
func (tr *ackTracker) idle() bool {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.pending) == 0
}
