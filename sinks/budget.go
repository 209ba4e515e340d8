package sinks

import (
	"context"
	"sync"
)

// DefaultBufferBytes is the default byte budget of a sink: records batched
// plus records in flight.
const DefaultBufferBytes = 64 << 20

// Budget is a byte semaphore: the memory a sink may hold for records that
// are batched or in flight. Acquire blocks while the budget is full, which
// is the backpressure that reaches the readers; waiters are served in
// arrival order, so a large request is not starved by small ones.
//
// A Budget is safe for concurrent use.
type Budget struct {
	mu      sync.Mutex
	limit   int64
	used    int64
	waiters []*budgetWaiter
	idle    chan struct{} // closed while used == 0; replaced when it grows
	full    chan struct{} // signalled when a caller starts waiting
}

type budgetWaiter struct {
	n     int64
	ready chan struct{}
}

// NewBudget returns a budget of limit bytes; limit <= 0 means
// DefaultBufferBytes.
func NewBudget(limit int64) *Budget {
	if limit <= 0 {
		limit = DefaultBufferBytes
	}
	idle := make(chan struct{})
	close(idle)
	return &Budget{limit: limit, idle: idle, full: make(chan struct{}, 1)}
}

// Limit returns the budget's size in bytes.
func (b *Budget) Limit() int64 { return b.limit }

// Used returns the bytes acquired and not yet released.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Waiting returns how many callers are blocked in Acquire.
func (b *Budget) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiters)
}

// Clamp returns n limited to the budget's size: what one request of n bytes
// is charged, so that a single request larger than the whole budget can
// still pass once the budget is empty.
func (b *Budget) Clamp(n int64) int64 {
	return min(n, b.limit)
}

// Acquire takes n bytes (n <= Limit; see Clamp), blocking until they are
// free or ctx is done. On error nothing is taken.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	n = b.Clamp(n)
	if n <= 0 {
		return nil
	}
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.limit {
		b.take(n)
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()
	select {
	case b.full <- struct{}{}:
	default:
	}

	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready:
			// Granted while we were giving up: give it back.
			b.mu.Unlock()
			b.Release(n)
		default:
			for i, x := range b.waiters {
				if x == w {
					b.waiters = append(b.waiters[:i], b.waiters[i+1:]...)
					break
				}
			}
			// The head may fit now that we left the queue.
			b.grant()
			b.mu.Unlock()
		}
		return ctx.Err()
	}
}

// Release returns n bytes taken by Acquire.
func (b *Budget) Release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	if b.used < 0 {
		b.mu.Unlock()
		panic("sinks: budget released more than acquired")
	}
	b.grant()
	if b.used == 0 {
		close(b.idle)
	}
	b.mu.Unlock()
}

// Idle returns a channel that is closed once nothing is held. The channel
// is only valid for the state at the time of the call: call Idle again
// after it closes to wait for the next idle moment.
func (b *Budget) Idle() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.idle
}

// Full returns a channel that receives a value when a caller starts to
// wait in Acquire: the sink's cue to send what it holds now instead of at
// its next flush interval.
func (b *Budget) Full() <-chan struct{} { return b.full }

// take must be called with mu held.
func (b *Budget) take(n int64) {
	if b.used == 0 {
		b.idle = make(chan struct{})
	}
	b.used += n
}

// grant wakes waiters, in order, while the head one fits. mu must be held.
func (b *Budget) grant() {
	for len(b.waiters) > 0 {
		w := b.waiters[0]
		if b.used+w.n > b.limit {
			return
		}
		b.take(w.n)
		b.waiters[0] = nil
		b.waiters = b.waiters[1:]
		close(w.ready)
	}
}
