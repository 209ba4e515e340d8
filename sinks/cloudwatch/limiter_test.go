package cloudwatch

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestLimiterAIMD(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m, _ := newMetrics(nil)
		l := newLimiter(10, m)
		ctx := context.Background()
		fill := func() int {
			n := 0
			for {
				c, cancel := context.WithTimeout(ctx, time.Millisecond)
				err := l.acquire(c)
				cancel()
				if err != nil {
					return n
				}
				n++
			}
		}
		if n := fill(); n != initialLimit {
			t.Fatalf("acquired %d slots; want the initial limit %d", n, initialLimit)
		}
		// Successes at full use grow the limit by about one per round trip.
		for range 200 {
			l.release(outcomeOK, 20*time.Millisecond)
			fill()
		}
		if got := l.current(); got != 10 {
			t.Errorf("limit after 200 saturated successes = %d; want the cap 10", got)
		}
		// A burst of throttles within one round trip decreases once.
		for range 4 {
			l.release(outcomeCongested, 20*time.Millisecond)
		}
		if got := l.current(); got != 7 {
			t.Errorf("limit after a burst of throttles = %d; want 7 (one decrease)", got)
		}
		time.Sleep(time.Second)
		l.release(outcomeCongested, 20*time.Millisecond)
		if got := l.current(); got != 4 {
			t.Errorf("limit after a later throttle = %d; want 4", got)
		}
		// A round trip far above the average counts as congestion.
		time.Sleep(time.Second)
		l.release(outcomeOK, 2*time.Second)
		if got := l.current(); got != 3 {
			t.Errorf("limit after a slow round trip = %d; want 3", got)
		}
		// Errors that say nothing about capacity change nothing.
		time.Sleep(time.Second)
		for range l.inflight {
			l.release(outcomeOther, time.Millisecond)
		}
		if got := l.current(); got != 3 || l.inflight != 0 {
			t.Errorf("limit %d, in flight %d; want 3, 0", got, l.inflight)
		}
	})
}
