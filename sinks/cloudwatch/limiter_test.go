package cloudwatch

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// load runs workers goroutines, each sending requests of round trip rtt
// through l one after the other until n requests went (n < 0: until stop
// is closed), every one a success.
func load(l *limiter, workers, n int, rtt time.Duration, stop <-chan struct{}) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range workers {
		wg.Go(func() {
			for {
				mu.Lock()
				if n == 0 {
					mu.Unlock()
					return
				}
				n--
				mu.Unlock()
				select {
				case <-stop:
					return
				default:
				}
				if err := l.acquire(context.Background()); err != nil {
					return
				}
				time.Sleep(rtt)
				l.release(outcomeOK, rtt)
			}
		})
	}
	wg.Wait()
}

func TestLimiterGrowsWithNeed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newMetrics(nil)
		l := newLimiter(10, 100*time.Millisecond, m)
		// A burst the initial limit clears within patience (a flush tick
		// sealing twelve streams at once) is no reason to grow.
		for range 20 {
			load(l, 12, 12, 20*time.Millisecond, nil)
			time.Sleep(time.Second)
		}
		if got := l.current(); got != initialLimit {
			t.Fatalf("limit after bursts that drain within patience = %d; want %d", got, initialLimit)
		}
		// A queue that stands grows the limit to the cap.
		stop := make(chan struct{})
		time.AfterFunc(5*time.Second, func() { close(stop) })
		load(l, 30, -1, 20*time.Millisecond, stop)
		if got := l.current(); got != 10 {
			t.Fatalf("limit after 5 s of a standing queue = %d; want the cap 10", got)
		}
		// Bursts that need no more than the initial limit bring it back
		// down once no queue stood for decayAfter.
		for range 240 {
			load(l, 4, 4, 20*time.Millisecond, nil)
			time.Sleep(time.Second)
		}
		if got := l.current(); got != initialLimit {
			t.Errorf("limit after 4 min without a standing queue = %d; want %d", got, initialLimit)
		}
		if l.inflight != 0 || l.waiting != 0 {
			t.Errorf("in flight %d, waiting %d after the load; want 0, 0", l.inflight, l.waiting)
		}
	})
}

func TestLimiterCongestion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newMetrics(nil)
		l := newLimiter(10, 100*time.Millisecond, m)
		stop := make(chan struct{})
		time.AfterFunc(5*time.Second, func() { close(stop) })
		load(l, 30, -1, 20*time.Millisecond, stop)
		if got := l.current(); got != 10 {
			t.Fatalf("limit after a standing queue = %d; want the cap 10", got)
		}
		hold := func(n int) {
			for range n {
				if err := l.acquire(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		}
		// A burst of throttles within one round trip decreases once.
		hold(4)
		for range 4 {
			l.release(outcomeCongested, 20*time.Millisecond)
		}
		if got := l.current(); got != 7 {
			t.Errorf("limit after a burst of throttles = %d; want 7 (one decrease)", got)
		}
		time.Sleep(time.Second)
		hold(1)
		l.release(outcomeCongested, 20*time.Millisecond)
		if got := l.current(); got != 4 {
			t.Errorf("limit after a later throttle = %d; want 4", got)
		}
		// With a standing queue it regains what it had fast: doubling per
		// round trip, not one per round trip.
		stop = make(chan struct{})
		time.AfterFunc(250*time.Millisecond, func() { close(stop) })
		load(l, 30, -1, 20*time.Millisecond, stop)
		if got := l.current(); got != 10 {
			t.Errorf("limit 250 ms after the congestion ended = %d; want 10 regained", got)
		}
		// A round trip far above the average counts as congestion.
		time.Sleep(time.Second)
		hold(1)
		l.release(outcomeOK, 2*time.Second)
		if got := l.current(); got != 7 {
			t.Errorf("limit after a slow round trip = %d; want 7", got)
		}
		// Errors that say nothing about capacity change nothing.
		time.Sleep(time.Second)
		hold(7)
		for range 7 {
			l.release(outcomeOther, time.Millisecond)
		}
		if got := l.current(); got != 7 || l.inflight != 0 {
			t.Errorf("limit %d, in flight %d; want 7, 0", got, l.inflight)
		}
		// A waiter that gives up leaves the queue.
		hold(7)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := l.acquire(ctx); err == nil {
			t.Fatal("acquire past the limit succeeded")
		}
		if l.waiting != 0 {
			t.Errorf("waiting %d after a waiter gave up; want 0", l.waiting)
		}
	})
}
