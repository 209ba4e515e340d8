package fields

import (
	"encoding/binary"
	"math/bits"
)

// The scanner: just enough JSON to find members and skip values. It trusts
// its input to be valid and never reads out of bounds when it is not.

// skipWS returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// Bytes repeated in a word, for finding them eight at a time.
const (
	ones    = 0x0101010101010101
	highs   = 0x8080808080808080
	quotes  = ones * '"'
	slashes = ones * '\\'
)

// stringEnd returns the index just past the closing quote of the string
// whose opening quote is at b[i].
func stringEnd(b []byte, i int) (int, bool) {
	j := i + 1
	for {
		// Skip eight bytes at a time while none is a quote or a backslash.
		for j+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[j:])
			q, s := x^quotes, x^slashes
			// The lowest high bit set marks the first zero byte of q or s.
			if m := ((q-ones)&^q | (s-ones)&^s) & highs; m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		if j >= len(b) {
			return 0, false
		}
		switch b[j] {
		case '"':
			return j + 1, true
		case '\\':
			j += 2
		default:
			j++
		}
	}
}

// valueEnd returns the index just past the value starting at b[i].
func valueEnd(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return stringEnd(b, i)
	case c == '{' || c == '[':
		return nestedEnd(b, i)
	case c == 't':
		return literalEnd(b, i, "true")
	case c == 'f':
		return literalEnd(b, i, "false")
	case c == 'n':
		return literalEnd(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		j := i + 1
		for j < len(b) && numberByte(b[j]) {
			j++
		}
		return j, true
	}
	return 0, false
}

func numberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func literalEnd(b []byte, i int, lit string) (int, bool) {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit), true
	}
	return 0, false
}

// structural marks the bytes nestedEnd stops at.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// nestedEnd returns the index just past the object or array starting at
// b[i], counting brackets outside strings.
func nestedEnd(b []byte, i int) (int, bool) {
	depth := 0
	for i < len(b) {
		switch b[i] {
		case '"':
			j, ok := stringEnd(b, i)
			if !ok {
				return 0, false
			}
			i = j
		case '{', '[':
			depth++
			i++
		case '}', ']':
			depth--
			i++
			if depth == 0 {
				return i, true
			}
		default:
			i++
		}
		for i < len(b) && !structural[b[i]] {
			i++
		}
	}
	return 0, false
}

// members iterates over the members of an object.
type members struct {
	b    []byte
	i    int
	n    int  // members read so far
	done bool // the closing brace was read, or the input is broken
	bad  bool // the input is not an object
}

// newMembers starts iterating over the object in b.
func newMembers(b []byte) members {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return members{done: true, bad: true}
	}
	return members{b: b, i: i + 1}
}

// next returns the next member's raw key (without quotes) and raw value.
// It returns ok false at the end of the object or at the first thing that
// is not JSON, and then m.bad tells which.
func (m *members) next() (key, value []byte, ok bool) {
	if m.done {
		return nil, nil, false
	}
	b := m.b
	i := skipWS(b, m.i)
	if i < len(b) && b[i] == '}' && m.n == 0 {
		m.done = true
		return nil, nil, false
	}
	if m.n > 0 {
		if i < len(b) && b[i] == '}' {
			m.done = true
			return nil, nil, false
		}
		if i >= len(b) || b[i] != ',' {
			return m.fail()
		}
		i = skipWS(b, i+1)
	}
	if i >= len(b) || b[i] != '"' {
		return m.fail()
	}
	ke, ok := stringEnd(b, i)
	if !ok {
		return m.fail()
	}
	key = b[i+1 : ke-1]
	i = skipWS(b, ke)
	if i >= len(b) || b[i] != ':' {
		return m.fail()
	}
	i = skipWS(b, i+1)
	ve, ok := valueEnd(b, i)
	if !ok {
		return m.fail()
	}
	m.i = ve
	m.n++
	return key, b[i:ve], true
}

func (m *members) fail() ([]byte, []byte, bool) {
	m.done, m.bad = true, true
	return nil, nil, false
}

// isObject tells whether a raw value is an object (by its first byte).
func isObject(v []byte) bool { return len(v) > 0 && v[0] == '{' }
