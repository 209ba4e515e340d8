package tailer

import (
	"time"
	"unicode/utf8"

	"github.com/skiff-agent/skiff/tailer/multiline"
)

// assembler turns the physical lines of one file into records: it decodes
// them, joins partial chunks per stream until the final one, and applies the
// line limit. It does no I/O; the follower feeds it lines with their offsets.
//
// Records appended to recs point into the line buffer the follower read or
// into arena; both stay untouched until the follower has handed the round's
// records to the consumer and reset them with startRound.
type assembler struct {
	maxLine  int
	truncate bool
	format   format
	meta     *FileMeta

	now   time.Time // read time of the round, the time of malformed records
	recs  []Record
	arena []byte
	part  [3]partial // by Stream; StreamUnknown holds an overlong malformed line

	rule *multiline.Rule // joins lines into multi-line records; nil: none
	// groups are the multi-line groups by Stream, allocated with the first
	// rule or carried group: nil for the many files without either.
	groups *[3]group
	extras []extraAck // records of the round that acknowledge a rotated file too

	long     bool   // inside a physical line longer than the read buffer
	longPart bool   // that line is a partial chunk
	longS    Stream // and the stream it belongs to

	times timeCache
	stats assembleStats
}

// assembleStats are counted by the assembler and moved into metrics by the
// follower after each round.
type assembleStats struct {
	records, malformed, split, truncated int
	groups, groupsSplit                  int // multi-line records of several lines; split at the line limit
}

// partial is a logical line being joined.
type partial struct {
	active    bool
	start     int64 // offset of its first physical line
	time      time.Time
	buf       []byte
	split     bool // pieces were already emitted
	truncated bool // the tail is being dropped
	malformed bool
	plain     bool // a line of a plain text file
}

// bigPartial is the capacity above which a joined line's buffer is released
// once the line is done, so that one long line does not pin memory forever.
const bigPartial = 64 << 10

func newAssembler(meta *FileMeta, maxLine int, truncate bool) *assembler {
	return &assembler{meta: meta, maxLine: maxLine, truncate: truncate, format: meta.format}
}

// startRound forgets the records of the previous round.
func (a *assembler) startRound(now time.Time) {
	clear(a.recs)
	a.recs = a.recs[:0]
	a.arena = a.arena[:0]
	clear(a.extras)
	a.extras = a.extras[:0]
	a.now = now
}

// extraAck is a record that also acknowledges a rotated file's chunk.
type extraAck struct {
	rec   int
	acker Acker
}

// safeOffset returns the offset where reading could restart without cutting
// a line that is still being joined: the start of the oldest unfinished
// line, or readOff when there is none.
func (a *assembler) safeOffset(readOff int64) int64 {
	for i := range a.part {
		if p := &a.part[i]; p.active && p.start < readOff {
			readOff = p.start
		}
	}
	if a.groups != nil {
		for i := range a.groups {
			if g := &a.groups[i]; g.active && g.start < readOff {
				readOff = g.start
			}
		}
	}
	return readOff
}

// pending reports whether a line is being joined.
func (a *assembler) pending() bool {
	for i := range a.part {
		if a.part[i].active {
			return true
		}
	}
	return a.grouping()
}

// line takes one complete physical line without its newline, which starts
// at start and ends (newline included) at end.
func (a *assembler) line(b []byte, start, end int64) {
	if a.long {
		a.longEnd(b, end)
		return
	}
	if a.format == formatUnknown {
		a.format = detectFormat(b)
	}
	if a.format == formatPlain {
		a.rawLine(b, start, end, Plain)
		return
	}
	var d decoded
	var err error
	mark := len(a.arena)
	if a.format == formatDocker {
		d, a.arena, err = parseDocker(b, a.arena, &a.times)
	} else {
		d, err = parseCRI(b, &a.times)
	}
	if err != nil {
		a.arena = a.arena[:mark]
		a.malformedLine(b, start, end)
		return
	}
	p := &a.part[d.stream]
	if !p.active {
		if !d.partial && len(d.msg) <= a.maxLine {
			a.complete(d.time, d.stream, 0, d.msg, start, end, false)
			return
		}
		p.begin(start, d.time)
	}
	a.appendPart(p, d.stream, d.msg)
	if !d.partial {
		a.finish(p, d.stream, end)
	}
}

// longStart takes the first len(b) bytes of a physical line that does not
// fit the read buffer. The line starts at start.
func (a *assembler) longStart(b []byte, start int64) {
	a.long = true
	if a.format == formatUnknown {
		a.format = detectFormat(b)
	}
	if a.format == formatCRI {
		if d, err := parseCRI(b, &a.times); err == nil {
			a.longPart = d.partial
			a.longS = d.stream
			p := &a.part[d.stream]
			if !p.active {
				p.begin(start, d.time)
			}
			a.appendPart(p, d.stream, d.msg)
			return
		}
	}
	// Docker lines cannot be decoded in pieces: ship the raw bytes.
	a.longPart = false
	a.longS = StreamUnknown
	p := &a.part[StreamUnknown]
	p.begin(start, a.now)
	p.malformed = a.format != formatPlain
	p.plain = a.format == formatPlain
	a.appendPart(p, StreamUnknown, b)
}

// longMore takes the next bytes of an overlong physical line.
func (a *assembler) longMore(b []byte) {
	a.appendPart(a.longTarget(), a.longStream(), b)
}

// longEnd takes the last bytes of an overlong physical line.
func (a *assembler) longEnd(b []byte, end int64) {
	p, s := a.longTarget(), a.longStream()
	a.long = false
	a.appendPart(p, s, b)
	if !a.longPart {
		a.finish(p, s, end)
	}
}

func (a *assembler) longStream() Stream { return a.longS }

func (a *assembler) longTarget() *partial {
	p := &a.part[a.longStream()]
	if !p.active {
		// Cannot happen: longStart activated one. Keep the bytes anyway.
		p.begin(0, a.now)
		p.malformed = true
	}
	return p
}

func (p *partial) begin(start int64, t time.Time) {
	*p = partial{active: true, start: start, time: t, buf: p.buf[:0]}
}

// appendPart adds msg to a joined line, emitting or dropping what goes past
// the line limit.
func (a *assembler) appendPart(p *partial, s Stream, msg []byte) {
	for len(msg) > 0 {
		if p.truncated {
			return
		}
		room := a.maxLine - len(p.buf)
		if len(msg) <= room {
			p.buf = append(p.buf, msg...)
			return
		}
		p.buf = append(p.buf, msg[:room]...)
		msg = msg[room:]
		if a.truncate {
			p.buf = p.buf[:runeCut(p.buf)]
			p.truncated = true
			a.stats.truncated++
			return
		}
		if a.rule != nil && p != &a.groups[s].partial {
			a.endGroup(s) // the stream's records stay in order
		}
		cut := runeCut(p.buf)
		flags := Split
		if p.malformed {
			flags |= Malformed
		}
		if p.plain {
			flags |= Plain
		}
		// The piece ends inside an unfinished line: its offset is the
		// line's start, so acknowledging it does not move the watermark.
		a.emitCopy(p.time, s, flags, p.buf[:cut], p.start)
		if !p.split {
			a.stats.split++
		}
		p.split = true
		n := copy(p.buf, p.buf[cut:])
		p.buf = p.buf[:n]
	}
}

// runeCut returns where to cut b so that a UTF-8 character is not split,
// unless b does not end in one.
func runeCut(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) && i > 0 {
				return i
			}
			break
		}
	}
	return len(b)
}

// finish emits a joined line that ends at end.
func (a *assembler) finish(p *partial, s Stream, end int64) {
	var flags Flags
	if p.split {
		flags |= Split
	}
	if p.truncated {
		flags |= Truncated
	}
	if p.malformed {
		flags |= Malformed
		a.stats.malformed++
	}
	if p.plain {
		flags |= Plain
	}
	if a.groups != nil && p == &a.groups[s].partial {
		a.emitCopy(p.time, s, flags, p.buf, end)
	} else {
		a.complete(p.time, s, flags, p.buf, p.start, end, true)
	}
	p.active = false
	if cap(p.buf) > bigPartial {
		p.buf = nil
	}
	p.buf = p.buf[:0]
}

// flush emits every unfinished line and group as it is, ending at end: the
// file will not grow any more, or its content was replaced.
func (a *assembler) flush(end int64) {
	a.long = false
	defer a.endGroups()
	for {
		var p *partial
		var s Stream
		for i := range a.part {
			if q := &a.part[i]; q.active && (p == nil || q.start < p.start) {
				p, s = q, Stream(i)
			}
		}
		if p == nil {
			return
		}
		a.finish(p, s, end)
	}
}

// malformedLine emits a line that could not be decoded, raw.
func (a *assembler) malformedLine(b []byte, start, end int64) {
	a.stats.malformed++
	a.rawLine(b, start, end, Malformed)
}

// rawLine emits a line as it is, split or truncated when it is too long.
func (a *assembler) rawLine(b []byte, start, end int64, flags Flags) {
	if len(b) > a.maxLine {
		if a.rule != nil {
			a.endGroup(StreamUnknown) // the stream's records stay in order
		}
		if a.truncate {
			a.stats.truncated++
			a.emit(a.now, StreamUnknown, flags|Truncated, b[:runeCut(b[:a.maxLine])], end)
			return
		}
		a.stats.split++
		flags |= Split
		for len(b) > a.maxLine {
			cut := runeCut(b[:a.maxLine])
			a.emit(a.now, StreamUnknown, flags, b[:cut], end)
			b = b[cut:]
		}
	}
	a.complete(a.now, StreamUnknown, flags, b, start, end, false)
}

func (a *assembler) emitCopy(t time.Time, s Stream, flags Flags, msg []byte, off int64) {
	start := len(a.arena)
	a.arena = append(a.arena, msg...)
	a.emit(t, s, flags, a.arena[start:len(a.arena):len(a.arena)], off)
}

func (a *assembler) emit(t time.Time, s Stream, flags Flags, msg []byte, off int64) {
	a.stats.records++
	a.recs = append(a.recs, Record{
		Time:    t,
		Stream:  s,
		Flags:   flags,
		Message: msg,
		File:    a.meta,
		Pos:     Position{Offset: off},
	})
}

// reset forgets every unfinished line (after flush) and the format, for a
// file whose content was replaced.
func (a *assembler) reset() {
	for i := range a.part {
		a.part[i].active = false
		a.part[i].buf = a.part[i].buf[:0]
	}
	if a.groups != nil {
		for i := range a.groups {
			a.groups[i] = group{partial: partial{buf: a.groups[i].buf[:0]}}
		}
	}
	a.long = false
	a.format = a.meta.format
}
