package fields

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Keys are compared by their decoded bytes, produced one at a time by a
// keyStream so that nothing is allocated. Decoding follows encoding/json:
// escapes are decoded, a lone surrogate becomes U+FFFD and so does every
// byte of invalid UTF-8.

// keyStream yields the decoded bytes of plain (a Go string) followed by
// those of raw (the inside of a JSON string, still escaped).
type keyStream struct {
	plain  string
	raw    []byte
	buf    [utf8.UTFMax]byte
	bi, bn int
}

// pending tells whether part of a decoded rune is still to be yielded.
func (k *keyStream) pending() bool { return k.bi < k.bn }

// next returns the next decoded byte, ok false at the end.
func (k *keyStream) next() (c byte, ok bool) {
	if k.bi < k.bn {
		c = k.buf[k.bi]
		k.bi++
		return c, true
	}
	if k.plain != "" {
		c = k.plain[0]
		if c < utf8.RuneSelf {
			k.plain = k.plain[1:]
			return c, true
		}
		r, n := utf8.DecodeRuneInString(k.plain)
		k.plain = k.plain[n:]
		return k.emit(r), true
	}
	if len(k.raw) > 0 {
		c = k.raw[0]
		if c < utf8.RuneSelf && c != '\\' {
			k.raw = k.raw[1:]
			return c, true
		}
		var r rune
		var n int
		if c == '\\' {
			r, n = unescape(k.raw)
		} else {
			r, n = utf8.DecodeRune(k.raw)
		}
		k.raw = k.raw[n:]
		return k.emit(r), true
	}
	return 0, false
}

func (k *keyStream) emit(r rune) byte {
	k.bn = utf8.EncodeRune(k.buf[:], r)
	k.bi = 1
	return k.buf[0]
}

// unescape decodes the escape at the start of s (s[0] is a backslash) and
// returns the rune and the number of bytes it took. A broken escape, only
// possible in invalid JSON, stands for the backslash itself.
func unescape(s []byte) (rune, int) {
	if len(s) < 2 {
		return '\\', 1
	}
	switch s[1] {
	case '"', '\\', '/', '\'':
		return rune(s[1]), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r := hex4(s)
		if r < 0 {
			return '\\', 1
		}
		if !utf16.IsSurrogate(r) {
			return r, 6
		}
		if d := utf16.DecodeRune(r, hex4(s[6:])); d != utf8.RuneError {
			return d, 12
		}
		return utf8.RuneError, 6
	}
	return '\\', 1
}

// hex4 decodes the \uXXXX at the start of s, or returns -1.
func hex4(s []byte) rune {
	if len(s) < 6 || s[0] != '\\' || s[1] != 'u' {
		return -1
	}
	var r rune
	for _, c := range s[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r*16 + rune(c)
	}
	return r
}

// matchPrefix compares the decoded key plain+raw with the start of path.
// It returns the number of bytes of path the key covers when the key is
// the whole of path or the part of it before a dot; ok is false otherwise.
func matchPrefix(plain string, raw []byte, path string) (n int, ok bool) {
	// Fast path: a plain ASCII raw key without escapes compares bytewise.
	if plain == "" {
		i := 0
		for i < len(raw) && i < len(path) {
			c := raw[i]
			if c >= utf8.RuneSelf || c == '\\' {
				break
			}
			if c != path[i] {
				return 0, false
			}
			i++
		}
		if i == len(raw) {
			return i, i == len(path) || path[i] == '.'
		}
		if i == len(path) {
			return 0, false
		}
		// The rest needs decoding; both sides are at a rune boundary.
		n, ok = matchStreams(keyStream{raw: raw[i:]}, path[i:])
		return i + n, ok
	}
	return matchStreams(keyStream{plain: plain, raw: raw}, path)
}

func matchStreams(k keyStream, path string) (int, bool) {
	p := keyStream{plain: path}
	for {
		c, ok := k.next()
		if !ok {
			break
		}
		d, ok := p.next()
		if !ok || c != d {
			return 0, false
		}
	}
	if p.pending() {
		return 0, false
	}
	n := len(path) - len(p.plain)
	return n, n == len(path) || path[n] == '.'
}

// equalKeys tells whether two keys, each plain+raw, decode to the same bytes.
func equalKeys(aPlain string, aRaw []byte, bPlain string, bRaw []byte) bool {
	a := keyStream{plain: aPlain, raw: aRaw}
	b := keyStream{plain: bPlain, raw: bRaw}
	for {
		c, ok := a.next()
		d, ok2 := b.next()
		if ok != ok2 || c != d {
			return false
		}
		if !ok {
			return true
		}
	}
}

// hashKey returns the FNV-1a hash of the decoded key plain+raw.
func hashKey(plain string, raw []byte) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	if plain == "" {
		// Fast path for the usual escape-free ASCII key.
		i := 0
		for ; i < len(raw); i++ {
			c := raw[i]
			if c >= utf8.RuneSelf || c == '\\' {
				break
			}
			h = (h ^ uint64(c)) * prime
		}
		raw = raw[i:]
	}
	k := keyStream{plain: plain, raw: raw}
	for {
		c, ok := k.next()
		if !ok {
			return h
		}
		h = (h ^ uint64(c)) * prime
	}
}

// appendUnquoted appends the decoded inside of a JSON string to dst.
func appendUnquoted(dst, raw []byte) []byte {
	for len(raw) > 0 {
		// Copy the run of bytes that need no decoding in one go.
		i := 0
		for i < len(raw) && raw[i] < utf8.RuneSelf && raw[i] != '\\' {
			i++
		}
		dst = append(dst, raw[:i]...)
		raw = raw[i:]
		if len(raw) == 0 {
			break
		}
		var r rune
		var n int
		if raw[0] == '\\' {
			r, n = unescape(raw)
		} else {
			r, n = utf8.DecodeRune(raw)
		}
		dst = utf8.AppendRune(dst, r)
		raw = raw[n:]
	}
	return dst
}

const hexDigits = "0123456789abcdef"

// appendEscaped appends s escaped for the inside of a JSON string. Invalid
// UTF-8 is written as \ufffd.
func appendEscaped(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || n != 1 {
				i += n
				continue
			}
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			if c >= utf8.RuneSelf {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
		}
		i++
		start = i
	}
	return append(dst, s[start:]...)
}
