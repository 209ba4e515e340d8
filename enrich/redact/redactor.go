package redact

import (
	"bytes"
	"fmt"
	"slices"
)

// DefaultMarker replaces secrets when NewRedactor is given no marker.
const DefaultMarker = "[REDACTED]"

// maxPasses bounds how often Redact looks for matches in its own output
// (see the package doc).
const maxPasses = 4

// stackSpans is how many matches Redact keeps on its stack before it
// allocates.
const stackSpans = 16

// Redactor replaces the matches of a list of rules. It is immutable and
// safe for concurrent use.
type Redactor struct {
	rules  []*Rule
	marker []byte
}

// NewRedactor returns a Redactor replacing every match of rules with
// marker, DefaultMarker when marker is "". It fails when a rule is nil or
// matches text inside the marker (ErrMarkerMatches).
func NewRedactor(rules []*Rule, marker string) (*Redactor, error) {
	if marker == "" {
		marker = DefaultMarker
	}
	r := &Redactor{rules: slices.Clone(rules), marker: []byte(marker)}
	for i, rule := range r.rules {
		if rule == nil {
			return nil, fmt.Errorf("redact: rule %d is nil", i)
		}
		for _, s := range rule.appendSpans(nil, r.marker, i) {
			if s.end-s.start < len(marker) {
				return nil, fmt.Errorf("redact: marker %q: %s: %w", marker, rule.name, ErrMarkerMatches)
			}
		}
	}
	return r, nil
}

// Redact replaces every match in line with the marker.
//
// When nothing matches, it returns line itself and false, without
// allocating or copying. Otherwise it appends the redacted line to dst and
// returns the extended slice and true; dst must not overlap line. Passing
// dst[:0] of a buffer kept by the caller makes the matching case free of
// allocations too, unless a rule is a user rule (regexp matching
// allocates) or a line holds more than 16 matches.
//
// counts, when not nil, must have an element per rule given to NewRedactor
// (Redact panics otherwise): counts[i] is increased by the number of
// matches of rule i that were replaced, in every pass. Matches of several
// rules merged into one marker count for each of them.
func (r *Redactor) Redact(dst, line []byte, counts []int) (out []byte, changed bool) {
	var buf [stackSpans]span
	spans := r.find(buf[:0], line, counts)
	if len(spans) == 0 {
		return line, false
	}
	base := len(dst)
	out = r.replace(dst, line, spans)
	for pass := 1; pass < maxPasses; pass++ {
		spans = r.find(spans[:0], out[base:], counts)
		if len(spans) == 0 {
			break
		}
		// Write the new version after the old one, then move it down.
		mid := len(out)
		out = r.replace(out, out[base:mid], spans)
		n := copy(out[base:], out[mid:])
		out = out[:base+n]
	}
	return out, true
}

// find appends the matches of every rule in b to spans, sorted by start,
// and counts them. Matches that are exactly the marker are left out.
func (r *Redactor) find(spans []span, b []byte, counts []int) []span {
	for i, rule := range r.rules {
		n := len(spans)
		spans = rule.appendSpans(spans, b, i)
		// Drop the matches that are a marker already.
		k := n
		for _, s := range spans[n:] {
			if !bytes.Equal(b[s.start:s.end], r.marker) {
				spans[k] = s
				k++
			}
		}
		spans = spans[:k]
		if counts != nil {
			counts[i] += k - n
		}
	}
	if len(spans) > 1 {
		slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	}
	return spans
}

// replace appends b to dst with each span replaced by the marker; spans
// that overlap become one marker.
func (r *Redactor) replace(dst, b []byte, spans []span) []byte {
	last := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start < end; i++ {
			end = max(end, spans[i].end)
		}
		dst = append(dst, b[last:start]...)
		dst = append(dst, r.marker...)
		last = end
	}
	return append(dst, b[last:]...)
}
