package cloudwatch

import (
	"context"
	"sync"
	"time"
)

// pacer is the shared token bucket that turns throttling into a request
// rate. Without dense throttling it lets everything through. When more
// than paceDense of the requests of a window were throttled, the quota is
// what limits: the rate is set just above the rate that succeeded in that
// window, so that the quota is used and few requests are refused; while a
// rate is in force, a window with more than paceOver throttled sets it
// again the same way. Windows without throttling raise the rate by paceUp
// until it is no limit again. Scattered throttles (a busy region refuses
// some requests whatever the rate) are retried and leave the rate alone.
//
// Throttling that does not depend on the rate would otherwise lower it
// window after window (each time to the share that succeeded), starving
// shipping: under a quota, a rate just above the rate that succeeds brings
// the throttled share down at once, to about 5%. So when paceStuck windows
// in a row stay above paceStuckOver while a rate is in force, the share is
// taken as noise: the limit is lifted, and only throttling beyond that
// share counts from then on. Noise fades by paceFade per window. paceStuck
// is small because each window above paceOver lowers the rate again: with
// eight windows above paceOver, a sender of 50 requests a second under 30%
// random throttling was held to a few a second, in windows too small for
// eight in a row to come; with two above paceOver, a quota of 20 requests
// a second (windows of 16) was taken for noise every few seconds.
//
// A pacer is safe for concurrent use.
type pacer struct {
	mu       sync.Mutex
	rate     float64 // requests per second; 0: no limit
	tokens   float64
	last     time.Time
	winStart time.Time
	ok, thr  int     // outcomes in the current window
	noise    float64 // throttled share that does not depend on the rate
	stuck    int     // windows in a row above paceStuckOver while a rate is in force
	onRate   func(float64)
}

const (
	paceWindow     = 500 * time.Millisecond
	paceMinSamples = 16   // outcomes a window needs to be judged (it lasts up to 4 windows otherwise)
	paceDense      = 0.5  // throttled share of a window, beyond noise, that means "over quota"
	paceOver       = 0.1  // the same, once a rate is in force
	paceStuck      = 2    // windows in a row above paceStuckOver that make the share noise
	paceStuckOver  = 0.2  // a throttled share no quota leaves under a rate just above it
	paceFade       = 0.98 // noise kept per window
	paceHeadroom   = 1.05 // the rate set, over the rate that succeeded
	paceUp         = 1.25 // per window without throttling
	paceNoLimit    = 50000
	paceBurst      = 0.05 // seconds of the rate that may go at once
)

func newPacer(onRate func(float64)) *pacer {
	p := &pacer{onRate: onRate}
	onRate(0)
	return p
}

// wait blocks until the rate allows one more request.
func (p *pacer) wait(ctx context.Context) error {
	for {
		p.mu.Lock()
		now := time.Now()
		p.roll(now)
		if p.rate == 0 {
			p.mu.Unlock()
			return nil
		}
		p.tokens = min(max(2, p.rate*paceBurst), p.tokens+now.Sub(p.last).Seconds()*p.rate)
		p.last = now
		if p.tokens >= 1 {
			p.tokens--
			p.mu.Unlock()
			return nil
		}
		// At least a microsecond: rounding can leave a token a hair short
		// of whole, and a zero wait would never add to it.
		d := max(time.Microsecond, time.Duration((1-p.tokens)/p.rate*float64(time.Second)))
		p.mu.Unlock()
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// limiting reports whether a rate is in force.
func (p *pacer) limiting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate > 0
}

// done records how a request ended: throttled or answered.
func (p *pacer) done(throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.roll(time.Now())
	if throttled {
		p.thr++
	} else {
		p.ok++
	}
}

// roll closes the window when it is over and adapts the rate. mu must be
// held.
func (p *pacer) roll(now time.Time) {
	if p.winStart.IsZero() {
		p.winStart = now
	}
	el := now.Sub(p.winStart)
	total := p.ok + p.thr
	if el < paceWindow || total < paceMinSamples && el < 4*paceWindow {
		return
	}
	share := 0.0
	if total > 0 {
		share = float64(p.thr) / float64(total)
	}
	over := share - p.noise // throttling beyond the rate-independent share
	if p.rate > 0 && total > 0 && over > paceStuckOver {
		p.stuck++
	} else {
		p.stuck = 0
	}
	switch {
	case total == 0:
	case p.stuck >= paceStuck:
		// Lowering the rate did not lower the throttled share: it does
		// not depend on the rate.
		p.noise, p.rate, p.stuck = share, 0, 0
	case p.rate == 0 && over > paceDense*(1-p.noise) || p.rate > 0 && over > paceOver:
		r := max(1, float64(p.ok)/el.Seconds()*paceHeadroom)
		if p.rate == 0 || r < p.rate {
			p.rate = r
			p.tokens = min(p.tokens, 1)
			p.last = now
		}
	case p.rate > 0 && (p.thr == 0 || share <= p.noise):
		if p.rate *= paceUp; p.rate > paceNoLimit {
			p.rate = 0
		}
	}
	p.noise *= paceFade
	p.onRate(p.rate)
	p.winStart, p.ok, p.thr = now, 0, 0
}
