package cloudwatch

import (
	"fmt"
	"time"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/tailer"
)

// Shares of the byte budget that paused destinations may hold: each one,
// and all of them together. Past its share, Writes of records routed to a
// paused destination are refused (sinks.ErrPaused) without taking
// anything, so the files routed there wait on disk while every other
// destination has the rest of the budget.
const (
	pausedShareOne = 8 // 1/8 of the budget per paused destination
	pausedShareAll = 4 // 1/4 of the budget for all of them
)

// pause is the state of a destination that refuses records for a reason
// that retrying soon cannot fix (an IAM policy that does not cover its log
// group, a KMS key the service cannot use, a missing group that may not be
// created). Its batches are parked, not retried in a loop: one of them,
// the probe, is tried again on a long backoff, and when it is accepted
// the parked batches are sent.
type pause struct {
	reason   string
	err      error
	since    time.Time
	attempts int // failed probes
	retryAt  time.Time
	probing  bool // the probe is on its way
	parked   []*batch
}

// pauseLocked parks b, whose destination refused it with err, and pauses
// the destination (or schedules its next probe). mu must be held.
func (s *Sink) pauseLocked(b *batch, err error) {
	d := b.d
	now := time.Now()
	reason := destReason(err)
	s.cm.destErrors.WithLabelValues(reason).Inc()
	p := d.pause
	if p == nil {
		p = &pause{reason: reason, err: err, since: now, retryAt: now.Add(s.snd.pauseFor(0))}
		d.pause = p
		s.paused[d.key] = d
		s.pausedN.Store(int32(len(s.paused)))
		s.cm.pausedDests.Set(float64(len(s.paused)))
		s.log.Error("a log destination refuses records; pausing it: its files wait and other destinations go on",
			"group", d.group, "stream", d.stream, "reason", reason, "err", err)
	}
	if b.probe {
		b.probe = false
		p.probing = false
		p.attempts++
		p.err = err
		p.retryAt = now.Add(s.snd.pauseFor(p.attempts))
	}
	// The probe goes first next time.
	p.parked = append([]*batch{b}, p.parked...)
}

// resumeLocked sends the parked batches of d, whose destination accepted
// a request again. mu must be held.
func (s *Sink) resumeLocked(d *dest) {
	p := d.pause
	d.pause = nil
	delete(s.paused, d.key)
	s.pausedN.Store(int32(len(s.paused)))
	s.cm.pausedDests.Set(float64(len(s.paused)))
	s.log.Info("a paused log destination accepts records again", "group", d.group, "stream", d.stream,
		"reason", p.reason, "paused_for", time.Since(p.since).Round(time.Millisecond), "probes", p.attempts+1)
	if len(p.parked) > 0 {
		s.ready = append(p.parked, s.ready...)
		s.signal()
	}
}

// releaseDue sends the probe of every paused destination whose backoff
// has passed.
func (s *Sink) releaseDue(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.paused {
		p := d.pause
		if p.probing || len(p.parked) == 0 || now.Before(p.retryAt) {
			continue
		}
		b := p.parked[0]
		p.parked = p.parked[1:]
		b.probe, p.probing = true, true
		s.ready = append([]*batch{b}, s.ready...)
	}
}

// retryPausedNow makes every paused destination due for a probe.
func (s *Sink) retryPausedNow() {
	s.mu.Lock()
	now := time.Now()
	for _, d := range s.paused {
		d.pause.retryAt = now
	}
	s.mu.Unlock()
	s.signal()
}

// pausedHeld returns the budget held for paused destinations, how many
// there are, and whether none of them has a probe due or on its way.
func (s *Sink) pausedHeld() (held int64, n int, settled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	settled = true
	for _, d := range s.paused {
		held += d.held
		if p := d.pause; p.probing || len(p.parked) > 0 && !now.Before(p.retryAt) {
			settled = false
		}
	}
	return held, len(s.paused), settled
}

// refusePaused returns an error wrapping sinks.ErrPaused when a record of
// recs is routed to a paused destination that holds its share of the
// budget, or when paused destinations together hold theirs.
func (s *Sink) refusePaused(recs []tailer.Record) error {
	var last *route
	s.mu.Lock()
	defer s.mu.Unlock()
	limit := s.b.Limit()
	var all int64
	for _, d := range s.paused {
		all += d.held
	}
	for i := range recs {
		r := s.route(&recs[i])
		if r == last {
			continue
		}
		last = r
		d := s.dests[r.key]
		if d == nil || d.pause == nil {
			continue
		}
		if d.held >= limit/pausedShareOne || all >= limit/pausedShareAll {
			s.cm.pausedWrites.Inc()
			return fmt.Errorf("log group %s, stream %s refuses records (%s since %s): %w",
				d.group, d.stream, d.pause.reason, d.pause.since.Format(time.RFC3339), sinks.ErrPaused)
		}
	}
	return nil
}

// signal wakes Run.
func (s *Sink) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
