package parse

import (
	"unicode/utf16"
	"unicode/utf8"
)

// Quoted values in logfmt and klog lines are written by Go programs with strconv.Quote (slog's
// TextHandler, logrus, klog) or with JSON-style escapes (go-logfmt). The decoder here accepts both: the
// escapes \a \b \f \n \r \t \v \\ \" \' \/, \xHH and three octal digits (a byte: one below 0x80 is
// that character, one above becomes U+FFFD), \uHHHH (a UTF-16 surrogate pair is joined, a lone surrogate
// becomes U+FFFD) and \UHHHHHHHH. Any other escape makes the quoted string, and so the line, invalid.

// skipQuoted returns the index just past the quoted string that starts at s[i] == '"', and whether the
// string is closed and its escapes are valid.
func skipQuoted(s []byte, i int) (int, bool) {
	for i++; i < len(s); {
		switch s[i] {
		case '"':
			return i + 1, true
		case '\\':
			_, n, ok := decodeEscape(s, i)
			if !ok {
				return i, false
			}
			i += n
		default:
			i++
		}
	}
	return i, false
}

// appendUnquoted decodes the quoted string that starts at s[i] == '"' and appends it to dst as a JSON
// string. It returns the extended dst, the index just past the closing quote, and false if the string is
// not closed or has an invalid escape (dst then holds a partial string: the caller truncates it).
func appendUnquoted(dst, s []byte, i int) ([]byte, int, bool) {
	dst = append(dst, '"')
	i++
	start := i
	for i < len(s) {
		switch s[i] {
		case '"':
			dst = appendEscaped(dst, s[start:i])
			return append(dst, '"'), i + 1, true
		case '\\':
			dst = appendEscaped(dst, s[start:i])
			r, n, ok := decodeEscape(s, i)
			if !ok {
				return dst, i, false
			}
			dst = appendRune(dst, r)
			i += n
			start = i
		default:
			i++
		}
	}
	return dst, i, false
}

// decodeEscape decodes the escape sequence at s[i] == '\\': the rune it stands for and its length.
func decodeEscape(s []byte, i int) (rune, int, bool) {
	if i+1 >= len(s) {
		return 0, 0, false
	}
	switch c := s[i+1]; c {
	case 'a':
		return '\a', 2, true
	case 'b':
		return '\b', 2, true
	case 'f':
		return '\f', 2, true
	case 'n':
		return '\n', 2, true
	case 'r':
		return '\r', 2, true
	case 't':
		return '\t', 2, true
	case 'v':
		return '\v', 2, true
	case '\\', '"', '\'', '/':
		return rune(c), 2, true
	case 'x':
		v, ok := hexValue(s, i+2, 2)
		if !ok {
			return 0, 0, false
		}
		return byteRune(v), 4, true
	case 'u':
		v, ok := hexValue(s, i+2, 4)
		if !ok {
			return 0, 0, false
		}
		r := rune(v)
		if !utf16.IsSurrogate(r) {
			return r, 6, true
		}
		if i+12 <= len(s) && s[i+6] == '\\' && s[i+7] == 'u' {
			if lo, ok := hexValue(s, i+8, 4); ok {
				if pair := utf16.DecodeRune(r, rune(lo)); pair != utf8.RuneError {
					return pair, 12, true
				}
			}
		}
		return utf8.RuneError, 6, true
	case 'U':
		v, ok := hexValue(s, i+2, 8)
		if !ok {
			return 0, 0, false
		}
		if v > utf8.MaxRune {
			return utf8.RuneError, 10, true
		}
		return rune(v), 10, true
	case '0', '1', '2', '3', '4', '5', '6', '7':
		if i+4 > len(s) {
			return 0, 0, false
		}
		var v uint32
		for _, d := range s[i+1 : i+4] {
			if d < '0' || d > '7' {
				return 0, 0, false
			}
			v = v<<3 | uint32(d-'0')
		}
		return byteRune(v), 4, true
	}
	return 0, 0, false
}

// byteRune is the rune a single escaped byte stands for: itself if ASCII, else U+FFFD (a lone byte above
// 0x7F is not UTF-8).
func byteRune(v uint32) rune {
	if v < utf8.RuneSelf {
		return rune(v)
	}
	return utf8.RuneError
}

// hexValue parses the n hex digits at s[i:].
func hexValue(s []byte, i, n int) (uint32, bool) {
	if i+n > len(s) {
		return 0, false
	}
	var v uint32
	for _, c := range s[i : i+n] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint32(c)
	}
	return v, true
}
