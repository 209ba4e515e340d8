package sinks

import (
	"encoding/binary"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// plain[c] is true for the bytes that appear in a JSON string as they are:
// printable ASCII except '"' and '\\'. Bytes >= 0x80 are checked as UTF-8.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// special8 reports whether any of the 8 bytes in x needs a look in a JSON
// string: below 0x20, '"', '\\', or 0x80 and above.
func special8(x uint64) bool {
	ctl := (x - lsb*0x20) & ^x & msb
	q := x ^ (lsb * '"')
	bs := x ^ (lsb * '\\')
	return (ctl | ((q - lsb) &^ q & msb) | ((bs - lsb) &^ bs & msb) | (x & msb)) != 0
}

// AppendJSONString appends s to dst as a quoted JSON string. Invalid UTF-8
// is replaced by U+FFFD, one per invalid byte, as the AWS SDK does; repaired
// reports whether that happened.
func AppendJSONString(dst, s []byte) (out []byte, repaired bool) {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && !special8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			repaired = true
			i++
			start = i
			continue
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
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"'), repaired
}

// AppendValidUTF8 appends s to dst with every invalid UTF-8 byte replaced by
// U+FFFD; repaired reports whether that happened.
func AppendValidUTF8(dst, s []byte) (out []byte, repaired bool) {
	if utf8.Valid(s) {
		return append(dst, s...), false
	}
	start := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r != utf8.RuneError || size != 1 {
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, "\uFFFD"...)
		i++
		start = i
	}
	return append(dst, s[start:]...), true
}

// AppendEscaped appends s as the inside of a JSON string (escaped, without
// the quotes), with invalid UTF-8 replaced by U+FFFD. n is the length of
// the unescaped (repaired) text.
func AppendEscaped(dst, s []byte) (out []byte, n int, repaired bool) {
	start := len(dst)
	dst, repaired = AppendJSONString(dst, s)
	// The quotes were added by AppendJSONString; drop them.
	copy(dst[start:], dst[start+1:len(dst)-1])
	dst = dst[:len(dst)-2]
	n = len(s)
	if repaired {
		n = 0
		for i := 0; i < len(s); {
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				n += 3
			} else {
				n += size
			}
			i += size
		}
	}
	return dst, n, repaired
}

// appendEscapedTwice appends escape(quote(escape(s))): the JSON string of s,
// itself written inside a JSON string, in one pass. n is the length of the
// JSON string of s (quotes included), which is what it adds to the message.
func appendEscapedTwice(dst, s []byte) (out []byte, n int, repaired bool) {
	dst = append(dst, '\\', '"')
	n = 2
	start := 0
	for i := 0; i < len(s); {
		for i+8 <= len(s) && !special8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if plain[c] {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			n += i - start + 3
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\uFFFD"...)
			repaired = true
			i++
			start = i
			continue
		}
		n += i - start
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, `\\\"`...)
			n += 2
		case '\\':
			dst = append(dst, `\\\\`...)
			n += 2
		case '\n':
			dst = append(dst, `\\n`...)
			n += 2
		case '\r':
			dst = append(dst, `\\r`...)
			n += 2
		case '\t':
			dst = append(dst, `\\t`...)
			n += 2
		default:
			dst = append(dst, '\\', '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			n += 6
		}
		i++
		start = i
	}
	n += len(s) - start
	dst = append(dst, s[start:]...)
	return append(dst, '\\', '"'), n, repaired
}
