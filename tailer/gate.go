package tailer

import (
	"context"
	"sync"
)

// fairGate lets a fixed number of followers read at once and queues the
// others in arrival order, so that a busy file that comes back for another
// round waits behind every file already waiting.
type fairGate struct {
	slots   int
	mu      sync.Mutex
	free    int
	waiters []chan struct{}
}

func newFairGate(n int) *fairGate { return &fairGate{slots: n, free: n} }

func (g *fairGate) acquire(ctx context.Context) error {
	g.mu.Lock()
	if g.free > 0 && len(g.waiters) == 0 {
		g.free--
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	g.waiters = append(g.waiters, ch)
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		for i, w := range g.waiters {
			if w == ch {
				g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
				g.mu.Unlock()
				return ctx.Err()
			}
		}
		g.mu.Unlock()
		// The slot was handed over meanwhile: give it back.
		g.release()
		return ctx.Err()
	}
}

func (g *fairGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiters) > 0 {
		close(g.waiters[0])
		g.waiters = g.waiters[1:]
		return
	}
	g.free++
}
