package journal

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Entry is one journal entry: its metadata and its fields.
//
// Field names and values are views into the Entry's own buffer, valid until
// the Entry is filled again (the next File.Next or Reader.Read given it, or
// the return of the Consumer.Write that received it). A caller that keeps
// a value must copy it. An Entry is reused without allocating once its
// buffers have grown to the size of the largest entry it held.
type Entry struct {
	// Seqnum is the entry's sequence number within SeqnumID.
	Seqnum uint64
	// SeqnumID names the sequence Seqnum counts in: every file of one
	// journald instance shares it.
	SeqnumID ID128
	// Realtime is the wall-clock time the entry was received, in
	// microseconds since the Unix epoch.
	Realtime uint64
	// Monotonic is the receive time on BootID's monotonic clock, in
	// microseconds.
	Monotonic uint64
	// BootID is the boot the entry was received in.
	BootID ID128
	// XorHash is the XOR of the Jenkins hashes of the entry's fields, as
	// stored by the writer.
	XorHash uint64

	fields []fieldSpan
	buf    []byte
}

// fieldSpan locates one FIELD=value in Entry.buf.
type fieldSpan struct{ start, eq, end int }

// reset empties e for refilling, keeping its buffers.
func (e *Entry) reset() {
	e.fields = e.fields[:0]
	e.buf = e.buf[:0]
}

// addField records buf[start:] as one FIELD=value payload. It reports false
// when the payload has no "=" or an empty name.
func (e *Entry) addField(start int) bool {
	eq := bytes.IndexByte(e.buf[start:], '=')
	if eq <= 0 {
		e.buf = e.buf[:start]
		return false
	}
	e.fields = append(e.fields, fieldSpan{start: start, eq: start + eq, end: len(e.buf)})
	return true
}

// Len returns the number of fields. A field name may occur more than once.
func (e *Entry) Len() int { return len(e.fields) }

// Field returns the i-th field's name and value, in the order the writer
// stored them (journald sorts them by the offset of their data).
func (e *Entry) Field(i int) (name, value []byte) {
	f := e.fields[i]
	return e.buf[f.start:f.eq:f.eq], e.buf[f.eq+1 : f.end : f.end]
}

// Value returns the value of the first field called name, and whether
// there is one. It does not allocate.
func (e *Entry) Value(name string) ([]byte, bool) {
	for _, f := range e.fields {
		if string(e.buf[f.start:f.eq]) == name {
			return e.buf[f.eq+1 : f.end : f.end], true
		}
	}
	return nil, false
}

// Has reports whether the entry has the field name=value.
func (e *Entry) Has(name string, value []byte) bool {
	for _, f := range e.fields {
		if string(e.buf[f.start:f.eq]) == name && bytes.Equal(e.buf[f.eq+1:f.end], value) {
			return true
		}
	}
	return false
}

// Message returns the MESSAGE field, or nil.
func (e *Entry) Message() []byte {
	v, _ := e.Value("MESSAGE")
	return v
}

// Priority returns the PRIORITY field (0, emerg, to 7, debug) and whether
// it is present and valid.
func (e *Entry) Priority() (int, bool) {
	v, ok := e.Value("PRIORITY")
	if !ok || len(v) != 1 || v[0] < '0' || v[0] > '7' {
		return 0, false
	}
	return int(v[0] - '0'), true
}

// Time returns Realtime as a time.Time.
func (e *Entry) Time() time.Time { return time.UnixMicro(int64(e.Realtime)) }

// Cursor returns the entry's position, to resume after it.
func (e *Entry) Cursor() Cursor {
	return Cursor{
		SeqnumID:  e.SeqnumID,
		Seqnum:    e.Seqnum,
		BootID:    e.BootID,
		Monotonic: e.Monotonic,
		Realtime:  e.Realtime,
		XorHash:   e.XorHash,
	}
}

// CopyTo makes dst an independent copy of e, reusing dst's buffers.
func (e *Entry) CopyTo(dst *Entry) {
	buf, fields := dst.buf, dst.fields
	*dst = *e
	dst.buf = append(buf[:0], e.buf...)
	dst.fields = append(fields[:0], e.fields...)
}

// Cursor identifies an entry durably, across restarts, rotation and
// renames: by the sequence it belongs to and its number in it. The boot ID,
// timestamps and hash place it among entries of other sequences and check
// that a found entry is the same.
//
// Its text form is journald's cursor ("s=…;i=…;b=…;m=…;t=…;x=…"), which
// journalctl --after-cursor accepts. The zero Cursor means "no position".
type Cursor struct {
	SeqnumID  ID128
	Seqnum    uint64
	BootID    ID128
	Monotonic uint64
	Realtime  uint64
	XorHash   uint64
}

// IsZero reports whether c is the zero Cursor.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// String returns the cursor in journald's format.
func (c Cursor) String() string {
	b, _ := c.MarshalText()
	return string(b)
}

// MarshalText returns the cursor in journald's format; the zero Cursor is
// empty.
func (c Cursor) MarshalText() ([]byte, error) {
	if c.IsZero() {
		return []byte{}, nil
	}
	b := make([]byte, 0, 128)
	b = append(b, "s="...)
	b = append(b, c.SeqnumID.String()...)
	b = append(b, ";i="...)
	b = strconv.AppendUint(b, c.Seqnum, 16)
	b = append(b, ";b="...)
	b = append(b, c.BootID.String()...)
	b = append(b, ";m="...)
	b = strconv.AppendUint(b, c.Monotonic, 16)
	b = append(b, ";t="...)
	b = strconv.AppendUint(b, c.Realtime, 16)
	b = append(b, ";x="...)
	b = strconv.AppendUint(b, c.XorHash, 16)
	return b, nil
}

// UnmarshalText parses a cursor; see ParseCursor.
func (c *Cursor) UnmarshalText(b []byte) error {
	p, err := ParseCursor(string(b))
	if err != nil {
		return err
	}
	*c = p
	return nil
}

// ParseCursor parses journald's cursor format. The seqnum ID and seqnum
// (s= and i=) are required; unknown keys are ignored, as journald does. ""
// is the zero Cursor.
func ParseCursor(s string) (Cursor, error) {
	var c Cursor
	if s == "" {
		return c, nil
	}
	var haveS, haveI bool
	for part := range strings.SplitSeq(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok || len(k) != 1 {
			return Cursor{}, fmt.Errorf("%w: %q", ErrBadCursor, part)
		}
		var err error
		switch k {
		case "s":
			c.SeqnumID, err = ParseID128(v)
			haveS = true
		case "b":
			c.BootID, err = ParseID128(v)
		case "i":
			c.Seqnum, err = strconv.ParseUint(v, 16, 64)
			haveI = true
		case "m":
			c.Monotonic, err = strconv.ParseUint(v, 16, 64)
		case "t":
			c.Realtime, err = strconv.ParseUint(v, 16, 64)
		case "x":
			c.XorHash, err = strconv.ParseUint(v, 16, 64)
		}
		if err != nil {
			return Cursor{}, fmt.Errorf("%w: %q: %w", ErrBadCursor, part, err)
		}
	}
	if !haveS || !haveI {
		return Cursor{}, fmt.Errorf("%w: %q lacks s= or i=", ErrBadCursor, s)
	}
	return c, nil
}
