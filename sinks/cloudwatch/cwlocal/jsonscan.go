package cwlocal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is a strict, allocation-free JSON reader for the PutLogEvents hot
// path. Strings without escapes are returned as slices of the input; escaped
// ones are decoded into out, whose capacity must be at least len(in)+8 so
// that earlier results never move (a decoded string is never longer than its
// JSON) and eight-byte stores always fit.
type scanner struct {
	in  []byte
	i   int
	out []byte
}

var errSyntax = errors.New("malformed JSON")

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errSyntax, s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.in) {
		switch s.in[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.i < len(s.in) {
		return s.in[s.i]
	}
	return 0
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.errorf("expected %q", c)
	}
	s.i++
	return nil
}

// literal consumes "null", "true" or "false".
func (s *scanner) literal(word string) bool {
	if len(s.in)-s.i >= len(word) && string(s.in[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// null consumes a null if one is next.
func (s *scanner) null() bool {
	return s.peek() == 'n' && s.literal("null")
}

// object calls field for each member of an object; field must consume the value.
func (s *scanner) object(field func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.i++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.errorf("expected a member name")
		}
		key, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return s.errorf("expected ',' or '}'")
		}
	}
}

// array calls elem for each element of an array; elem must consume it.
func (s *scanner) array(elem func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return s.errorf("expected ',' or ']'")
		}
	}
}

// str reads a string. The result aliases the input or s.out.
func (s *scanner) str() ([]byte, error) {
	if s.peek() != '"' {
		return nil, s.errorf("expected a string")
	}
	s.i++
	start := s.i
	i := skipPlain(s.in, start)
	if i < len(s.in) && s.in[i] == '"' {
		v := s.in[start:i]
		if !utf8.Valid(v) {
			return nil, s.errorf("string is not valid UTF-8")
		}
		s.i = i + 1
		return v, nil
	}
	return s.strEscaped(start, i)
}

// SWAR constants: one byte per lane.
const (
	lanes1 = 0x0101010101010101
	lanes8 = 0x8080808080808080
)

// skipPlain returns the index of the first '"', '\\' or control character
// at or after i (len(b) if none), looking at eight bytes at a time.
func skipPlain(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		q := w ^ ('"' * lanes1)
		bs := w ^ ('\\' * lanes1)
		// The lowest flagged lane is exact: borrows only flag lanes above a real hit.
		if m := ((q-lanes1)&^q | (bs-lanes1)&^bs | (w-0x20*lanes1)&^w) & lanes8; m != 0 {
			return i + bits.TrailingZeros64(m)/8
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}

// strEscaped decodes a string that starts at start; i is the first special
// byte in it (a backslash, a control character, or the end of input). It
// scans and copies eight bytes at a time, writing straight into s.out's
// spare capacity: cap(s.out) >= len(s.in)+8 and the output never gets ahead
// of the input, so every eight-byte store fits.
func (s *scanner) strEscaped(start, i int) ([]byte, error) {
	in := s.in
	o := len(s.out)
	out := s.out[:cap(s.out)]
	w := o + copy(out[o:], in[start:i])
	for {
		for i+8 <= len(in) {
			x := binary.LittleEndian.Uint64(in[i:])
			binary.LittleEndian.PutUint64(out[w:], x)
			q := x ^ ('"' * lanes1)
			bs := x ^ ('\\' * lanes1)
			if m := ((q-lanes1)&^q | (bs-lanes1)&^bs | (x-0x20*lanes1)&^x) & lanes8; m != 0 {
				k := bits.TrailingZeros64(m) / 8
				i += k
				w += k
				break
			}
			i += 8
			w += 8
		}
		for i < len(in) {
			c := in[i]
			if c == '"' || c == '\\' || c < 0x20 {
				break
			}
			out[w] = c
			i++
			w++
		}
		if i >= len(in) {
			s.i = len(in)
			return nil, s.errorf("unterminated string")
		}
		c := in[i]
		if c == '"' {
			s.out = out[:w]
			v := out[o:w]
			if !utf8.Valid(v) {
				return nil, s.errorf("string is not valid UTF-8")
			}
			s.i = i + 1
			return v, nil
		}
		if c < 0x20 || i+1 >= len(in) {
			s.i = i
			return nil, s.errorf("control character or end of input in string")
		}
		switch e := in[i+1]; e {
		case '"', '\\', '/':
			out[w] = e
		case 'b':
			out[w] = '\b'
		case 'f':
			out[w] = '\f'
		case 'n':
			out[w] = '\n'
		case 'r':
			out[w] = '\r'
		case 't':
			out[w] = '\t'
		case 'u':
			r, n := hex4(in[i+2:])
			if n < 0 {
				s.i = i
				return nil, s.errorf("invalid \\u escape")
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, n2 := rune(-1), -1
				if i+1 < len(in) && in[i] == '\\' && in[i+1] == 'u' {
					r2, n2 = hex4(in[i+2:])
				}
				if d := utf16.DecodeRune(r, r2); n2 >= 0 && d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			w += utf8.EncodeRune(out[w:], r)
			continue
		default:
			s.i = i
			return nil, s.errorf("invalid escape \\%c", e)
		}
		w++
		i += 2
	}
}

func hex4(b []byte) (rune, int) {
	if len(b) < 4 {
		return 0, -1
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, -1
		}
	}
	return r, 4
}

// number reads a JSON number token and returns its text.
func (s *scanner) number() ([]byte, error) {
	s.ws()
	start := s.i
	in := s.in
	i := s.i
	if i < len(in) && in[i] == '-' {
		i++
	}
	digits := i
	for i < len(in) && in[i] >= '0' && in[i] <= '9' {
		i++
	}
	if i == digits || in[digits] == '0' && i-digits > 1 {
		return nil, s.errorf("expected a number")
	}
	if i < len(in) && in[i] == '.' {
		i++
		f := i
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == f {
			return nil, s.errorf("malformed number")
		}
	}
	if i < len(in) && (in[i] == 'e' || in[i] == 'E') {
		i++
		if i < len(in) && (in[i] == '+' || in[i] == '-') {
			i++
		}
		f := i
		for i < len(in) && in[i] >= '0' && in[i] <= '9' {
			i++
		}
		if i == f {
			return nil, s.errorf("malformed number")
		}
	}
	s.i = i
	return in[start:i], nil
}

// int64 reads a number that must be an integer in int64's range (as the
// service reads a long: 1.5e3 is 1500; 1.5 is an error).
func (s *scanner) int64() (int64, error) {
	tok, err := s.number()
	if err != nil {
		return 0, err
	}
	if v, err := strconv.ParseInt(string(tok), 10, 64); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(string(tok), 64)
	if err != nil || f != float64(int64(f)) {
		return 0, fmt.Errorf("%w: %s is not a long", errSyntax, tok)
	}
	return int64(f), nil
}

// skip consumes any value, checking its syntax.
func (s *scanner) skip() error {
	switch c := s.peek(); {
	case c == '{':
		return s.object(func([]byte) error { return s.skip() })
	case c == '[':
		return s.array(s.skip)
	case c == '"':
		o := len(s.out)
		_, err := s.str()
		s.out = s.out[:o]
		return err
	case c == 't':
		if s.literal("true") {
			return nil
		}
	case c == 'f':
		if s.literal("false") {
			return nil
		}
	case c == 'n':
		if s.literal("null") {
			return nil
		}
	case c == '-' || c >= '0' && c <= '9':
		_, err := s.number()
		return err
	}
	return s.errorf("unexpected character")
}

// end checks that only white space follows.
func (s *scanner) end() error {
	if s.peek() != 0 || s.i < len(s.in) {
		return s.errorf("unexpected data after the top-level value")
	}
	return nil
}
