package tailer

import "unicode/utf8"

// The JSON reader of docker json-file lines: flat objects, strings
// unescaped without allocating when they hold no escapes.

// jsonPlain tells the bytes a JSON string holds as they are: not a quote, a
// backslash or a control character.
var jsonPlain = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

// jsonScanner is a minimal JSON reader for docker's flat log objects.
type jsonScanner struct {
	b []byte
	i int
}

func (p *jsonScanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// rawString returns a string's bytes when it holds no escapes.
func (p *jsonScanner) rawString() ([]byte, bool) {
	if !p.eat('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < 0x20:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// unquote appends a JSON string's decoded value to dst.
func (p *jsonScanner) unquote(dst []byte) ([]byte, bool) {
	if !p.eat('"') {
		return dst, false
	}
	for p.i < len(p.b) {
		// Copy the run of plain bytes in one go.
		j := p.i
		for j < len(p.b) && jsonPlain[p.b[j]] {
			j++
		}
		dst = append(dst, p.b[p.i:j]...)
		p.i = j
		if j == len(p.b) {
			return dst, false
		}
		switch c := p.b[j]; {
		case c == '"':
			p.i++
			return dst, true
		case c < 0x20:
			return dst, false
		}
		// An escape.
		if j+1 >= len(p.b) {
			return dst, false
		}
		e := p.b[j+1]
		p.i = j + 2
		switch e {
		case '"', '\\', '/':
			dst = append(dst, e)
		case 'n':
			dst = append(dst, '\n')
		case 't':
			dst = append(dst, '\t')
		case 'r':
			dst = append(dst, '\r')
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return dst, false
			}
			if r >= 0xD800 && r < 0xDC00 {
				// A high surrogate: pair it with the low one if present.
				save := p.i
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					p.i += 2
					if r2, ok := p.hex4(); ok && r2 >= 0xDC00 && r2 < 0xE000 {
						r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
					} else {
						p.i = save
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			} else if r >= 0xDC00 && r < 0xE000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
		default:
			return dst, false
		}
	}
	return dst, false
}

func (p *jsonScanner) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	p.i += 4
	return r, true
}

// skipValue skips any JSON value (docker's "attrs" object, for one).
func (p *jsonScanner) skipValue(depth int) bool {
	if depth > 32 || p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, ok := p.unquote(nil)
		return ok
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		p.i++
		p.ws()
		if p.eat(closing) {
			return true
		}
		for {
			p.ws()
			if c == '{' {
				if _, ok := p.unquote(nil); !ok {
					return false
				}
				p.ws()
				if !p.eat(':') {
					return false
				}
				p.ws()
			}
			if !p.skipValue(depth + 1) {
				return false
			}
			p.ws()
			if p.eat(',') {
				continue
			}
			return p.eat(closing)
		}
	default:
		// A number, true, false or null.
		start := p.i
		for p.i < len(p.b) && isScalarByte(p.b[p.i]) {
			p.i++
		}
		return p.i > start
	}
}

func isScalarByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c == '-' || c == '+' || c == '.' || c == 'E'
}
