package cloudwatch

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// endpointState is the sink's view of the endpoint, the value of the state
// label of skiff_output_endpoint_state.
type endpointState uint8

const (
	stateOK       endpointState = iota // the last requests succeeded
	stateDegraded                      // some recent requests failed, most succeed
	stateProbing                       // most requests fail: one request at a time
)

var stateNames = [...]string{stateOK: "ok", stateDegraded: "degraded", stateProbing: "probing"}

func (st endpointState) String() string { return stateNames[st] }

const (
	// probeAfter consecutive failures with no success between them make the
	// failure correlated (an outage), not noise: at 20% random errors that
	// happens once in hundreds of millions of requests.
	probeAfter = 12
)

// health is one view of the endpoint's health, shared by every request.
// Failures are errors that say the endpoint (not one request or one
// destination) is failing: 5xx, network errors, bad credentials.
// Throttling and per-destination errors are not failures of the endpoint.
//
// While probing, admit lets one request (the probe) through at a time, on
// the slow curve; every other request waits in admit without spinning.
// The first success of any request ends probing and releases them all at
// once; the limiter then bounds how fast they go.
//
// A health is safe for concurrent use.
type health struct {
	mu         sync.Mutex
	state      endpointState
	consec     int    // failures since the last success
	recent     uint64 // the last 64 outcomes, 1 = failure: any makes it degraded
	probeOut   bool   // a probe is in flight
	probeFails int    // failed probes since probing began
	nextProbe  time.Time
	maxDelay   time.Duration // > 0 while draining: the longest wait between probes
	changed    chan struct{} // closed and replaced on every change waiters care about
	curve      func(attempt int) time.Duration
	onState    func(endpointState)
	lastOK     atomic.Int64 // unix nanos of the last success; 0 before it
}

func newHealth(curve func(int) time.Duration, onState func(endpointState)) *health {
	h := &health{changed: make(chan struct{}), curve: curve, onState: onState}
	onState(stateOK)
	return h
}

// admit waits until a request may be sent. probe reports that it is the
// one request of the probing state; its outcome must be reported with
// probe set (result, neutral or cancel).
func (h *health) admit(ctx context.Context) (probe bool, err error) {
	for {
		h.mu.Lock()
		if h.state != stateProbing {
			h.mu.Unlock()
			return false, nil
		}
		now := time.Now()
		if !h.probeOut && !now.Before(h.nextProbe) {
			h.probeOut = true
			h.mu.Unlock()
			return true, nil
		}
		ch := h.changed
		var t *time.Timer
		var wait <-chan time.Time
		if !h.probeOut {
			t = time.NewTimer(h.nextProbe.Sub(now))
			wait = t.C
		}
		h.mu.Unlock()
		select {
		case <-ch:
		case <-wait:
		case <-ctx.Done():
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
	}
}

// success records a request the endpoint answered well. It ends probing.
func (h *health) success(probe bool) {
	h.lastOK.Store(time.Now().UnixNano())
	h.mu.Lock()
	defer h.mu.Unlock()
	h.consec = 0
	h.recent <<= 1
	if probe {
		h.probeOut = false
	}
	if h.state == stateProbing {
		h.probeFails = 0
		h.broadcast()
	}
	h.setState()
}

// failure records a failure of the endpoint. It reports whether the
// endpoint is probing now: the failure is correlated.
func (h *health) failure(probe bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.consec++
	h.recent = h.recent<<1 | 1
	now := time.Now()
	switch {
	case h.state != stateProbing && h.consec >= probeAfter:
		h.state = stateProbing
		h.probeFails = 0
		h.nextProbe = now.Add(h.delay(0))
	case probe:
		h.probeFails++
		h.nextProbe = now.Add(h.delay(h.probeFails))
	}
	if probe {
		h.probeOut = false
		h.broadcast()
	}
	h.setState()
	return h.state == stateProbing
}

// neutral ends a request whose outcome says nothing about the endpoint's
// health (throttled, a destination's own error, cancelled).
func (h *health) neutral(probe bool) {
	if !probe {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.probeOut = false
	h.broadcast()
}

// drain makes the next probe go now and caps the wait between probes at d
// from then on: during shutdown the probes must use the remaining time.
func (h *health) drain(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.maxDelay = d
	if now := time.Now(); h.nextProbe.After(now) {
		h.nextProbe = now
	}
	h.broadcast()
}

// current returns the state.
func (h *health) current() endpointState {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state
}

// sinceSuccess returns the time since the last success, or since start
// when there was none.
func (h *health) sinceSuccess(start time.Time) time.Duration {
	if t := h.lastOK.Load(); t != 0 {
		return time.Since(time.Unix(0, t))
	}
	return time.Since(start)
}

func (h *health) delay(attempt int) time.Duration {
	d := h.curve(attempt)
	if h.maxDelay > 0 {
		d = min(d, h.maxDelay)
	}
	return d
}

// setState derives ok or degraded from the recent outcomes when not
// probing. mu must be held.
func (h *health) setState() {
	if h.state != stateProbing || h.consec == 0 {
		h.state = stateOK
		if h.recent != 0 {
			h.state = stateDegraded
		}
	}
	h.onState(h.state)
}

// broadcast wakes every waiter of admit. mu must be held.
func (h *health) broadcast() {
	close(h.changed)
	h.changed = make(chan struct{})
}
