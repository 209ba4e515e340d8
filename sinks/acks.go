package sinks

import (
	"sync/atomic"

	"github.com/skiff-agent/skiff/tailer"
)

// AckRun is n consecutive records that share one Acker.
type AckRun struct {
	Acker tailer.Acker
	N     int
}

// Acks collects the acknowledgements a batch owes, coalescing consecutive
// records with the same Acker into one run, so that a batch of records
// read from one file costs one Ack(n) call. The zero value is empty and
// ready to use. An Acks is not safe for concurrent use.
type Acks struct {
	runs []AckRun
}

// Add records that p is owed an acknowledgement. Positions without an
// Acker need none and are ignored.
func (a *Acks) Add(p tailer.Position) {
	a.AddN(p.Acker, 1)
}

// AddN records that acker is owed n acknowledgements.
func (a *Acks) AddN(acker tailer.Acker, n int) {
	if acker == nil || n <= 0 {
		return
	}
	if k := len(a.runs); k > 0 && a.runs[k-1].Acker == acker {
		a.runs[k-1].N += n
		return
	}
	a.runs = append(a.runs, AckRun{Acker: acker, N: n})
}

// Append adds every run of b to a.
func (a *Acks) Append(b *Acks) {
	for _, r := range b.runs {
		a.AddN(r.Acker, r.N)
	}
}

// Len returns the number of records owed.
func (a *Acks) Len() int {
	n := 0
	for _, r := range a.runs {
		n += r.N
	}
	return n
}

// Done acknowledges every run, then empties a (keeping its storage).
func (a *Acks) Done() {
	for i, r := range a.runs {
		r.Acker.Ack(r.N)
		a.runs[i] = AckRun{}
	}
	a.runs = a.runs[:0]
}

// Reset empties a without acknowledging anything.
func (a *Acks) Reset() {
	clear(a.runs)
	a.runs = a.runs[:0]
}

// SplitAcker acknowledges one record once all the pieces it was cut into
// have been acknowledged, whichever order their batches finish in.
type SplitAcker struct {
	pos     tailer.Position
	pending atomic.Int64
}

// NewSplitAcker returns an Acker for a record cut into pieces pieces: the
// record's Position is acknowledged when pieces acknowledgements have
// arrived.
func NewSplitAcker(pos tailer.Position, pieces int) *SplitAcker {
	s := &SplitAcker{pos: pos}
	s.pending.Store(int64(pieces))
	return s
}

// Ack records that n pieces were accepted.
func (s *SplitAcker) Ack(n int) {
	if s.pending.Add(-int64(n)) == 0 {
		s.pos.Ack()
	}
}
