package tailer

import (
	"bytes"
	"context"
	"io"
	"sync"
	"time"
)

// roundBuf holds what one read round needs: the bytes read and the records
// that point into them. It returns to a pool once the consumer is done.
type roundBuf struct {
	data  []byte
	recs  []Record
	arena []byte
	class int // index in roundBufs
}

// roundBufs pools round buffers in size classes from minRoundBuf up to the
// read budget, four times larger each: a round takes the smallest that
// holds what the look saw appended, so that a node of quiet files does not
// keep read-budget buffers (256 KiB each by default) for a few lines each.
type roundBufs struct {
	budget int
	sizes  []int
	pools  []sync.Pool
}

// minRoundBuf is the smallest round buffer.
const minRoundBuf = 16 << 10

func (p *roundBufs) init(budget int) {
	p.budget = budget
	for size := minRoundBuf; size < budget; size *= 4 {
		p.sizes = append(p.sizes, size)
	}
	p.sizes = append(p.sizes, budget)
	p.pools = make([]sync.Pool, len(p.sizes))
}

// get returns a buffer of at least need bytes (at most the budget).
func (p *roundBufs) get(need int) *roundBuf {
	c := 0
	for c < len(p.sizes)-1 && p.sizes[c] < need {
		c++
	}
	if rb, ok := p.pools[c].Get().(*roundBuf); ok {
		return rb
	}
	return &roundBuf{data: make([]byte, p.sizes[c]), class: c}
}

func (p *roundBufs) put(rb *roundBuf) {
	p.pools[rb.class].Put(rb)
}

// round reads at most one read budget, decodes it and hands the records to
// the consumer. It returns the bytes consumed. With final, an unterminated
// last line is taken as complete (the file will not grow any more).
func (f *follower) round(ctx context.Context, final bool) (int, error) {
	// Read no further than the size the look saw: ReadAt stops only at a
	// full buffer or the end of the file, so a buffer larger than what is
	// there costs a second pread that finds the end. What was written
	// since is for the next look. A final round reads to the end: its
	// last unterminated line is taken as complete.
	budget := f.d.bufs.budget
	want := budget
	if left := f.size.Load() - f.off; !final && left > 0 && left < int64(budget) {
		want = int(left)
	}
	rb := f.begin(want)
	defer f.end(rb)
	a := f.asm
	buf := rb.data[:want]
	n, err := f.file.ReadAt(buf, f.off)
	if err != nil && err != io.EOF {
		return 0, nil // retried at the next poll
	}
	if n > 0 {
		// Truncated and rewritten while we read? Then these bytes belong
		// to the new content at the wrong offset: drop them and let the
		// next check start over at 0.
		if same, err := f.fingerprint().matches(f.file); err == nil && !same {
			f.verify = true
			f.notify()
			return 0, nil
		}
		if !f.coverFingerprint(rb.data[:n]) {
			f.verify = true
			f.notify()
			return 0, nil
		}
	}
	data := rb.data[:n]
	pos := 0
	for {
		i := bytes.IndexByte(data[pos:], '\n')
		if i < 0 {
			break
		}
		end := pos + i
		a.line(data[pos:end], f.off+int64(pos), f.off+int64(end)+1)
		pos = end + 1
	}
	switch {
	case pos == 0 && n == budget:
		// No newline in a whole budget: a line longer than that.
		if a.long {
			a.longMore(data)
		} else {
			a.longStart(data, f.off)
		}
		pos = n
	case final && pos < n:
		a.line(data[pos:], f.off+int64(pos), f.off+int64(n))
		pos = n
	}
	f.off += int64(pos)
	f.readOff.Store(f.off)
	return pos, f.hand(ctx, pos, rb)
}

// flush ships every unfinished line as it is.
func (f *follower) flush(ctx context.Context) error {
	if !f.asm.pending() {
		return nil
	}
	rb := f.begin(0)
	defer f.end(rb)
	a := f.asm
	a.flush(f.off)
	return f.hand(ctx, 0, rb)
}

// shipGroups ships the multi-line groups that waited their quiet period,
// or all of them.
func (f *follower) shipGroups(ctx context.Context, all bool) error {
	if !f.asm.grouping() {
		return nil
	}
	rb := f.begin(0)
	defer f.end(rb)
	if all {
		f.asm.endGroups()
	} else {
		f.asm.groupsDue(time.Now(), f.d.quiet)
	}
	return f.hand(ctx, 0, rb)
}

// hand registers the round's records with the ack tracker and writes them
// to the consumer; blocking there is the backpressure.
func (f *follower) hand(ctx context.Context, read int, rb *roundBuf) error {
	a := f.asm
	f.d.m.add(a.stats, read, f.meta.input)
	a.stats = assembleStats{}
	safe := a.safeOffset(f.off)
	if len(a.recs) == 0 && safe <= f.lastSafe {
		return nil
	}
	f.lastSafe = max(safe, f.lastSafe)
	c := f.acks.Load().chunk(len(a.recs), f.lastSafe)
	if len(a.recs) == 0 {
		return nil
	}
	for i := range a.recs {
		a.recs[i].Pos.Acker = c
	}
	for _, x := range a.extras {
		a.recs[x.rec].Pos.Acker = &bothAcker{c, x.acker}
	}
	if err := f.d.out.Write(ctx, a.recs); err != nil {
		// The consumer may have taken part of the batch. Keep it to send
		// again (resend) rather than leave a hole that only the next start
		// would fill by reading everything after it again.
		f.unsent, f.unsentChunk = rb, c
		return err
	}
	return nil
}

// begin takes a round buffer of at least need bytes for the assembler's
// records.
func (f *follower) begin(need int) *roundBuf {
	rb := f.d.bufs.get(need)
	a := f.asm
	a.recs, a.arena = rb.recs[:0], rb.arena[:0]
	a.startRound(time.Now())
	if f.d.multiline != nil {
		r, _ := f.rule()
		a.setRule(r)
	}
	return rb
}

// end gives the round buffer back, unless its records are kept to be sent
// again.
func (f *follower) end(rb *roundBuf) {
	a := f.asm
	if f.unsent == rb {
		rb.recs, rb.arena = a.recs, a.arena
	} else {
		clear(a.recs)
		rb.recs, rb.arena = a.recs[:0], a.arena[:0]
		f.d.bufs.put(rb)
	}
	a.recs, a.arena = nil, nil
}

// resend writes the batch a cancelled Write left behind, under a fresh ack
// chunk in the old one's place: records the consumer had taken come twice,
// none is missing.
func (f *follower) resend(ctx context.Context) error {
	rb := f.unsent
	if rb == nil {
		return nil
	}
	c := f.acks.Load().replace(f.unsentChunk, len(rb.recs))
	for i := range rb.recs {
		if both, ok := rb.recs[i].Pos.Acker.(*bothAcker); ok {
			rb.recs[i].Pos.Acker = &bothAcker{c, both.b}
			continue
		}
		rb.recs[i].Pos.Acker = c
	}
	if err := f.d.out.Write(ctx, rb.recs); err != nil {
		f.unsentChunk = c
		return err
	}
	f.unsent, f.unsentChunk = nil, nil
	clear(rb.recs)
	rb.recs, rb.arena = rb.recs[:0], rb.arena[:0]
	f.d.bufs.put(rb)
	return nil
}
