package cloudwatch

import (
	"context"
	"sync"
	"time"
)

// limiter bounds concurrent requests with an adaptive limit (AIMD): the
// limit grows by about one per round trip while requests succeed and a
// queue stands (requests have been waiting for a slot for longer than
// patience without the queue emptying), and shrinks by decreaseFactor on
// congestion (the sender reports 5xx only while the endpoint is down) or a
// round trip far above the average; at most one decrease per round trip,
// so that a burst of errors from one moment counts once. After decreases
// for congestion, successes with a standing queue raise the limit by one
// each (it doubles per round trip) back to where it was: the backlog of an
// outage goes at full speed soon after the endpoint is back, and a round
// trip far above the average (the endpoint is slow, not down) ends that.
//
// Growth follows need, not use: the flush tick seals many streams'
// batches at once, and a burst that the current limit clears within
// patience is no reason for more connections (each one an idle TLS
// session, buffers and goroutines kept between bursts). Once no queue has
// stood for decayAfter, the limit steps back down toward the initial one.
type limiter struct {
	mu       sync.Mutex
	limit    float64
	max      float64
	target   float64 // the limit before congestion, regained fast
	patience time.Duration

	inflight  int
	waiting   int       // acquirers waiting for a slot
	queuedAt  time.Time // when the queue last went from empty to not
	stoodAt   time.Time // when a standing queue was last seen
	decayedAt time.Time
	changed   chan struct{} // closed and replaced when a slot frees
	rtt       float64       // EWMA of successful round trips, seconds
	samples   int
	lastDown  time.Time
	m         *metrics
}

const (
	initialLimit   = 4
	decreaseFactor = 0.7
	rttAlpha       = 0.1
	slowFactor     = 3 // a round trip this many times the average counts as congestion
	// decayAfter without a standing queue (the transport's idle
	// connection timeout) lowers the limit by decayFactor, at most once
	// per decayAfter, down to initialLimit.
	decayAfter  = 30 * time.Second
	decayFactor = 0.75
)

// outcome is how a request ended, for the limiter.
type outcome uint8

const (
	outcomeOK        outcome = iota
	outcomeCongested         // throttled or 5xx
	outcomeOther             // neither: no signal about capacity
)

// newLimiter returns a limiter capped at maxLimit that grows once requests
// have queued for patience.
func newLimiter(maxLimit int, patience time.Duration, m *metrics) *limiter {
	now := time.Now()
	l := &limiter{limit: min(initialLimit, float64(maxLimit)), max: float64(maxLimit), patience: patience,
		stoodAt: now, decayedAt: now, changed: make(chan struct{}), m: m}
	m.limit.Set(l.limit)
	return l
}

// acquire waits for a request slot.
func (l *limiter) acquire(ctx context.Context) error {
	queued := false
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.inflight < int(l.limit) {
			if queued {
				l.waiting--
			}
			l.inflight++
			l.m.inflight.Inc()
			return nil
		}
		if !queued {
			queued = true
			if l.waiting == 0 {
				l.queuedAt = time.Now()
			}
			l.waiting++
		}
		ch := l.changed
		l.mu.Unlock()
		select {
		case <-ch:
			l.mu.Lock()
		case <-ctx.Done():
			l.mu.Lock()
			l.waiting--
			return ctx.Err()
		}
	}
}

// release frees a slot and adapts the limit to how the request went.
func (l *limiter) release(o outcome, rtt time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	full := l.inflight >= int(l.limit)
	l.inflight--
	l.m.inflight.Dec()
	now := time.Now()
	sec := rtt.Seconds()
	standing := full && l.waiting > 0 && now.Sub(l.queuedAt) >= l.patience
	if standing {
		l.stoodAt = now
	}
	switch o {
	case outcomeOK:
		slow := l.samples >= 20 && sec > slowFactor*l.rtt && sec > 0.05
		if l.samples == 0 {
			l.rtt = sec
		} else {
			l.rtt += rttAlpha * (sec - l.rtt)
		}
		l.samples++
		switch {
		case slow:
			l.target = 0
			l.decrease(now)
		case standing && l.limit < l.target:
			l.limit = min(l.target, l.limit+1)
		case standing:
			l.limit = min(l.max, l.limit+1/l.limit)
		case l.limit > initialLimit && now.Sub(l.stoodAt) >= decayAfter && now.Sub(l.decayedAt) >= decayAfter:
			l.decayedAt = now
			l.limit = max(initialLimit, l.limit*decayFactor)
			l.target = min(l.target, l.limit)
		}
	case outcomeCongested:
		l.target = max(l.target, l.limit)
		l.decrease(now)
	}
	l.m.limit.Set(float64(int(l.limit)))
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *limiter) decrease(now time.Time) {
	window := time.Duration(max(l.rtt, 0.1) * float64(time.Second))
	if now.Sub(l.lastDown) < window {
		return
	}
	l.lastDown = now
	l.limit = max(1, l.limit*decreaseFactor)
}

// current returns the limit in force.
func (l *limiter) current() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.limit)
}
