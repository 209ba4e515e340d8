package tailer

import (
	"time"

	"github.com/skiff-agent/skiff/tailer/multiline"
)

// DefaultMultilineQuiet is how long a multi-line group waits for its next
// line before it is shipped as it is.
const DefaultMultilineQuiet = time.Second

// DefaultMultilineWait is how long a newly opened file waits for its
// multi-line rule to be known (its pod's metadata).
const DefaultMultilineWait = 2 * time.Second

// rule returns f's multi-line rule, and whether it is decided.
func (f *follower) rule() (*multiline.Rule, bool) {
	if f.d.multiline == nil {
		return nil, true
	}
	return f.d.multiline(f.meta)
}

// ruleUndecided reports whether f waits before its first read for its
// multi-line rule to be known, at most ruleWait after it was opened.
func (f *follower) ruleUndecided() bool {
	if f.ruleKnown {
		return false
	}
	if _, ok := f.rule(); ok || time.Since(f.opened) >= f.d.ruleWait {
		f.ruleKnown = true
	}
	return !f.ruleKnown
}

// group is a multi-line record being joined on one stream: a stack trace
// whose lines come one by one. Its first line's offset bounds the file's
// safe offset, so its lines are acknowledged only through the joined
// record, and a restart in the middle reads the whole group again.
type group struct {
	partial
	st    multiline.State
	last  time.Time // read time of its last line
	end   int64     // offset just past its last line
	lines int
	// extra is the acknowledgement a rotated file handed over with the
	// group's first lines: the joined record acknowledges it too.
	extra Acker
}

// setRule takes the multi-line rule for the lines that follow; groups
// joined under another rule are shipped first.
func (a *assembler) setRule(r *multiline.Rule) {
	if r == a.rule {
		return
	}
	if a.groups == nil {
		a.groups = new([3]group)
	}
	if a.rule == nil {
		// The first rule: groups a rotated file handed over wait for it.
		a.rule = r
		return
	}
	a.endGroups()
	a.rule = r
}

// complete takes a complete line, which starts at start and ends at end:
// alone, or into its stream's group under the multi-line rule. With copy,
// msg is only valid during the call.
func (a *assembler) complete(t time.Time, s Stream, flags Flags, msg []byte, start, end int64, copy bool) {
	if a.rule == nil || flags&(Malformed|Split) != 0 {
		if a.rule != nil {
			a.endGroup(s)
		}
		a.single(t, s, flags, msg, end, copy)
		return
	}
	g := &a.groups[s]
	st := g.st
	switch a.rule.Step(&st, msg) {
	case multiline.Single:
		a.endGroup(s)
		a.single(t, s, flags, msg, end, copy)
	case multiline.Start:
		a.endGroup(s)
		g.begin(start, t)
		g.plain = flags&Plain != 0
		g.lines = 0
		a.joinLine(g, s, flags, msg, end)
	case multiline.Continue:
		a.joinLine(g, s, flags, msg, end)
	case multiline.Last:
		a.joinLine(g, s, flags, msg, end)
		a.endGroup(s)
	}
	g.st = st
}

// single emits a line that is a record on its own.
func (a *assembler) single(t time.Time, s Stream, flags Flags, msg []byte, end int64, copy bool) {
	if copy {
		a.emitCopy(t, s, flags, msg, end)
	} else {
		a.emit(t, s, flags, msg, end)
	}
}

// joinLine adds a line to g; past the line limit the group is split (or
// its tail dropped) like a long line.
func (a *assembler) joinLine(g *group, s Stream, flags Flags, msg []byte, end int64) {
	if g.lines > 0 && !g.truncated {
		a.appendPart(&g.partial, s, newline)
	}
	split := g.split
	a.appendPart(&g.partial, s, msg)
	if g.split && !split {
		a.stats.groupsSplit++
	}
	if flags&Truncated != 0 {
		g.truncated = true
	}
	g.lines++
	g.end = end
	g.last = a.now
}

var newline = []byte{'\n'}

// endGroup ships s's group, if one is being joined.
func (a *assembler) endGroup(s Stream) {
	if a.groups == nil {
		return
	}
	g := &a.groups[s]
	if !g.active {
		return
	}
	if g.lines > 1 {
		a.stats.groups++
	}
	a.finish(&g.partial, s, g.end)
	if g.extra != nil {
		a.extras = append(a.extras, extraAck{rec: len(a.recs) - 1, acker: g.extra})
		g.extra = nil
	}
	g.st = multiline.State{}
	g.lines = 0
}

// endGroups ships every group being joined, oldest first.
func (a *assembler) endGroups() {
	if a.groups == nil {
		return
	}
	for {
		var oldest *group
		var s Stream
		for i := range a.groups {
			if g := &a.groups[i]; g.active && (oldest == nil || g.start < oldest.start) {
				oldest, s = g, Stream(i)
			}
		}
		if oldest == nil {
			return
		}
		a.endGroup(s)
	}
}

// groupsDue ships the groups whose last line is older than quiet.
func (a *assembler) groupsDue(now time.Time, quiet time.Duration) {
	if a.groups == nil {
		return
	}
	for i := range a.groups {
		if g := &a.groups[i]; g.active && now.Sub(g.last) >= quiet {
			a.endGroup(Stream(i))
		}
	}
}

// groupWait returns how long until the first group being joined has been
// quiet for quiet; 0 or less when it has.
func (a *assembler) groupWait(now time.Time, quiet time.Duration) time.Duration {
	wait := quiet
	if a.groups == nil {
		return wait
	}
	for i := range a.groups {
		if g := &a.groups[i]; g.active {
			wait = min(wait, quiet-now.Sub(g.last))
		}
	}
	return wait
}

// grouping reports whether a group is being joined.
func (a *assembler) grouping() bool {
	if a.groups == nil {
		return false
	}
	for i := range a.groups {
		if a.groups[i].active {
			return true
		}
	}
	return false
}

// takeGroups removes the groups being joined and returns them.
func (a *assembler) takeGroups() []carried {
	var out []carried
	if a.groups == nil {
		return nil
	}
	for i := range a.groups {
		g := &a.groups[i]
		if !g.active {
			continue
		}
		c := carried{s: Stream(i), g: *g}
		c.g.buf = append([]byte(nil), g.buf...)
		out = append(out, c)
		g.active = false
		g.buf = g.buf[:0]
		g.st = multiline.State{}
		g.lines = 0
	}
	return out
}

// adopt takes groups a rotated file handed over as the groups being
// joined, as if they had started at off.
func (a *assembler) adopt(cs []carried, off int64, now time.Time) {
	if len(cs) > 0 && a.groups == nil {
		a.groups = new([3]group)
	}
	for _, c := range cs {
		g := &a.groups[c.s]
		if g.active {
			a.endGroup(c.s) // cannot happen before the first read
		}
		*g = c.g
		g.start, g.end = off, off
		g.last = now
		g.extra = c.acker
	}
}

// partialPending reports whether a line (not a group) is being joined.
func (a *assembler) partialPending() bool {
	for i := range a.part {
		if a.part[i].active {
			return true
		}
	}
	return a.long
}
