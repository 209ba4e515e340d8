package parse

import "unicode/utf8"

// replacement is U+FFFD in UTF-8, written for every invalid input byte.
const replacement = "\uFFFD"

const hexDigits = "0123456789abcdef"

// plain[c] is true for the ASCII bytes that go into a JSON string as they are.
var plain = func() (t [utf8.RuneSelf]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendString appends s to dst as a quoted JSON string.
func appendString(dst, s []byte) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// appendEscaped appends s to dst escaped for the inside of a JSON string: quotes, backslashes and control
// characters are escaped, every invalid UTF-8 byte becomes U+FFFD.
func appendEscaped(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if plain[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscapedASCII(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, replacement...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// appendEscapedASCII appends the JSON escape of the ASCII byte c, which is not plain.
func appendEscapedASCII(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// appendRune appends r escaped for the inside of a JSON string; an invalid rune becomes U+FFFD.
func appendRune(dst []byte, r rune) []byte {
	if r < utf8.RuneSelf {
		if plain[r] {
			return append(dst, byte(r))
		}
		return appendEscapedASCII(dst, byte(r))
	}
	return utf8.AppendRune(dst, r) // AppendRune writes U+FFFD for surrogates and out-of-range values.
}

// appendValidUTF8 appends s with every invalid UTF-8 byte replaced by U+FFFD.
func appendValidUTF8(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, replacement...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(dst, s[start:]...)
}

// sameKey reports whether the keys a and b are the same once written as JSON (invalid bytes read as
// U+FFFD). clean says that both are known to be valid UTF-8.
func sameKey(a, b []byte, clean bool) bool {
	if string(a) == string(b) {
		return true
	}
	if clean {
		return false
	}
	for len(a) > 0 && len(b) > 0 {
		ra, na := utf8.DecodeRune(a)
		rb, nb := utf8.DecodeRune(b)
		if ra != rb {
			return false
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) == 0 && len(b) == 0
}
