package tailer

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// carryWait bounds how long a rotation's new file waits for the rotated
// one to say whether it hands over a multi-line group.
const carryWait = 2 * time.Second

// A stack trace the runtime writes while the kubelet rotates the file ends
// up in two files: its first lines in the rotated one, the rest in the new
// one. To ship it as one record, the new file's follower (the successor)
// waits, before its first read, until the rotated file's follower (the
// predecessor) has read to its end; the predecessor then hands over the
// groups it was joining, with an acknowledgement chunk of its own that the
// joined record acknowledges together with the successor's. The
// predecessor keeps its file (and its spool copy) until then, like any
// unacknowledged bytes.

// carried is a group handed over by a rotated file.
type carried struct {
	s     Stream
	g     group
	acker Acker
}

// carry is the handover between a rotated file's follower and its
// successor, guarded by the predecessor's carryMu.
type carry struct {
	succ     *follower     // the successor, while it waits
	resolved chan struct{} // closed once the predecessor decided
	groups   []carried     // what it handed over
}

// link makes f the successor of pred, the file its path led to before a
// rotation, when f's lines may join. Called before f starts.
func (f *follower) link(pred *follower) {
	// A rule not known yet (a start, before the pod's metadata) may be
	// one: link, the wait is bounded.
	if r, decided := f.rule(); f.d.multiline == nil || (r == nil && decided) {
		return
	}
	pred.carryMu.Lock()
	defer pred.carryMu.Unlock()
	if pred.carry != nil {
		return // linked already
	}
	pred.carry = &carry{succ: f, resolved: make(chan struct{})}
	f.pred = pred
}

// successorWaits reports whether a successor waits for f to resolve.
func (f *follower) successorWaits() bool {
	f.carryMu.Lock()
	defer f.carryMu.Unlock()
	return f.carry != nil && f.carry.succ != nil
}

// resolve is called by a detached follower that has read to its end: it
// hands its groups over to its successor, if one waits and the file holds
// no unfinished line, and lets the successor go on.
func (f *follower) resolve() {
	f.carryMu.Lock()
	defer f.carryMu.Unlock()
	c := f.carry
	if c == nil || c.succ == nil {
		return
	}
	if f.asm.grouping() && !f.asm.partialPending() {
		c.groups = f.asm.takeGroups()
		f.lastSafe = max(f.lastSafe, f.asm.safeOffset(f.off))
		ack := f.acks.Load().chunk(len(c.groups), f.lastSafe)
		for i := range c.groups {
			c.groups[i].acker = ack
		}
	}
	c.succ = nil
	close(c.resolved)
}

// adopt waits (at most carryWait) for f's predecessor to decide, and takes
// the groups it hands over. It reports false when ctx ended first.
func (f *follower) adopt(ctx context.Context) bool {
	p := f.pred
	if p == nil {
		return true
	}
	f.pred = nil
	p.carryMu.Lock()
	c := p.carry
	p.carryMu.Unlock()
	t := time.NewTimer(carryWait)
	defer t.Stop()
	done := true
	select {
	case <-c.resolved:
	case <-t.C:
	case <-ctx.Done():
		done = false
	}
	p.carryMu.Lock()
	defer p.carryMu.Unlock()
	select {
	case <-c.resolved:
		f.asm.adopt(c.groups, f.off, time.Now())
		if len(c.groups) > 0 {
			f.d.m.carried.Add(float64(len(c.groups)))
		}
		c.groups = nil
	default:
		c.succ = nil // too late: the predecessor ships its groups itself
	}
	return done
}

// bothAcker acknowledges a record joined from two files.
type bothAcker struct{ a, b Acker }

func (x *bothAcker) Ack(n int) {
	x.a.Ack(n)
	x.b.Ack(n)
}

// linkResumed links, at a start, the files resumed in the middle of a
// rotation chain: the rotated files of a live file of byPath (on disk as
// <target>.<suffix>, or in the spool under its target), oldest first, then
// the live file. A file is linked to the one before it only when it is
// read from its start.
func linkResumed(byPath map[string]*follower, fs []*follower) {
	liveByTarget := map[string]*follower{}
	for _, f := range byPath {
		if !f.detached.Load() {
			liveByTarget[f.meta.Target] = f
		}
	}
	chains := map[*follower][]*follower{}
	for _, f := range fs {
		if !f.detached.Load() {
			continue
		}
		live := liveByTarget[f.meta.Target]
		for name := f.meta.Target; live == nil; {
			dot := strings.LastIndexByte(name, '.')
			if dot <= strings.LastIndexByte(name, '/') {
				break
			}
			name = name[:dot]
			live = liveByTarget[name]
		}
		if live != nil && live != f {
			chains[live] = append(chains[live], f)
		}
	}
	for live, chain := range chains {
		// The kubelet deletes the oldest rotated files first: spool entries
		// (deleted files) come before the files still on disk, then the
		// last writes decide, then the names (timestamps).
		slices.SortFunc(chain, func(a, b *follower) int {
			if a.fromSpool != b.fromSpool {
				if a.fromSpool {
					return -1
				}
				return 1
			}
			return cmp.Or(cmp.Compare(a.detachAt.Load(), b.detachAt.Load()), cmp.Compare(a.meta.Target, b.meta.Target))
		})
		chain = append(chain, live)
		for i := 1; i < len(chain); i++ {
			if chain[i].off == 0 {
				chain[i].link(chain[i-1])
			}
		}
	}
}
