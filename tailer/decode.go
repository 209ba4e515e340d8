package tailer

import (
	"bytes"
	"time"
	"unicode/utf8"
)

// format is the way a file's lines are encoded.
type format uint8

const (
	formatUnknown format = iota // not detected yet (no complete line seen)
	formatCRI                   // <time> <stream> <P|F> <message>
	formatDocker                // {"log":"...","stream":"...","time":"..."}
)

// detectFormat guesses a file's format from its first line: docker
// json-file lines are JSON objects, everything else is decoded as CRI
// (and lines that are not CRI come out malformed).
func detectFormat(line []byte) format {
	for _, c := range line {
		switch c {
		case ' ', '\t', '\r':
			continue
		case '{':
			return formatDocker
		}
		return formatCRI
	}
	return formatUnknown
}

// decoded is one physical line, decoded.
type decoded struct {
	time    time.Time
	stream  Stream
	partial bool   // more of the same logical line follows
	msg     []byte // the message bytes
}

// parseCRI decodes one CRI line without its trailing newline. The message
// aliases line.
func parseCRI(line []byte, tc *timeCache) (decoded, error) {
	var d decoded
	sp := bytes.IndexByte(line, ' ')
	if sp < 0 {
		return d, errSyntax
	}
	t, ok := tc.parse(line[:sp])
	if !ok {
		return d, errTime
	}
	d.time = t
	rest := line[sp+1:]
	switch {
	case len(rest) >= 7 && string(rest[:7]) == "stdout ":
		d.stream = Stdout
	case len(rest) >= 7 && string(rest[:7]) == "stderr ":
		d.stream = Stderr
	default:
		return d, errStream
	}
	rest = rest[7:]
	// The tag is everything up to the next space; the kubelet uses the
	// part before the first ':'.
	tagEnd := bytes.IndexByte(rest, ' ')
	var tag []byte
	if tagEnd < 0 {
		tag, rest = rest, nil
	} else {
		tag, rest = rest[:tagEnd], rest[tagEnd+1:]
	}
	if i := bytes.IndexByte(tag, ':'); i >= 0 {
		tag = tag[:i]
	}
	switch {
	case len(tag) == 1 && tag[0] == 'F':
	case len(tag) == 1 && tag[0] == 'P':
		d.partial = true
	default:
		return d, errTag
	}
	d.msg = rest
	return d, nil
}

// parseDocker decodes one docker json-file line without its trailing
// newline. The unescaped message is appended to scratch; the returned
// scratch is the extended buffer and d.msg aliases its tail.
func parseDocker(line, scratch []byte, tc *timeCache) (d decoded, _ []byte, err error) {
	p := jsonScanner{b: line}
	p.ws()
	if !p.eat('{') {
		return d, scratch, errJSON
	}
	var haveLog, haveStream, haveTime bool
	start := len(scratch)
	p.ws()
	if p.eat('}') {
		return d, scratch, errNoField
	}
	for {
		p.ws()
		key, ok := p.rawString()
		if !ok {
			return d, scratch[:start], errJSON
		}
		p.ws()
		if !p.eat(':') {
			return d, scratch[:start], errJSON
		}
		p.ws()
		switch string(key) {
		case "log":
			scratch = scratch[:start]
			scratch, ok = p.unquote(scratch)
			if !ok {
				return d, scratch[:start], errJSON
			}
			haveLog = true
		case "stream":
			v, ok := p.rawString()
			if !ok {
				return d, scratch[:start], errJSON
			}
			switch string(v) {
			case "stdout":
				d.stream = Stdout
			case "stderr":
				d.stream = Stderr
			default:
				return d, scratch[:start], errStream
			}
			haveStream = true
		case "time":
			v, ok := p.rawString()
			if !ok {
				return d, scratch[:start], errJSON
			}
			if d.time, ok = tc.parse(v); !ok {
				return d, scratch[:start], errTime
			}
			haveTime = true
		default:
			if !p.skipValue(0) {
				return d, scratch[:start], errJSON
			}
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			break
		}
		return d, scratch[:start], errJSON
	}
	p.ws()
	if p.i != len(p.b) {
		return d, scratch[:start], errJSON
	}
	if !haveLog {
		return d, scratch[:start], errNoField
	}
	if !haveStream {
		return d, scratch[:start], errStream
	}
	if !haveTime {
		return d, scratch[:start], errTime
	}
	msg := scratch[start:]
	if n := len(msg); n > 0 && msg[n-1] == '\n' {
		msg = msg[:n-1]
		if n := len(msg); n > 0 && msg[n-1] == '\r' {
			msg = msg[:n-1]
		}
	} else {
		d.partial = true
	}
	d.msg = msg
	return d, scratch, nil
}

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

// parseTime parses an RFC 3339 timestamp with an optional fraction of 1 to 9
// digits (containerd trims trailing zeros) and a Z or ±hh:mm offset (CRI-O
// writes +00:00). It does not allocate.
func parseTime(b []byte) (time.Time, bool) {
	var c timeCache
	return c.parse(b)
}

// timeCache remembers the last "2006-01-02T15:04:05" prefix it parsed:
// consecutive lines mostly share it.
type timeCache struct {
	key  [19]byte
	unix int64
	ok   bool
}

// parse is parseTime with the cache.
func (c *timeCache) parse(b []byte) (time.Time, bool) {
	// 2006-01-02T15:04:05Z is the shortest form.
	if len(b) < 20 {
		return time.Time{}, false
	}
	if !c.ok || string(b[:19]) != string(c.key[:]) {
		unix, ok := parseSeconds(b)
		if !ok {
			return time.Time{}, false
		}
		copy(c.key[:], b[:19])
		c.unix, c.ok = unix, true
	}
	i := 19
	nsec := 0
	if b[i] == '.' {
		i++
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if n < 9 {
				nsec = nsec*10 + int(b[i]-'0')
			}
			n++
			i++
		}
		if n == 0 || n > 9 {
			return time.Time{}, false
		}
		for ; n < 9; n++ {
			nsec *= 10
		}
	}
	offset := 0
	switch {
	case i == len(b)-1 && (b[i] == 'Z' || b[i] == 'z'):
	case i == len(b)-6 && (b[i] == '+' || b[i] == '-') && b[i+3] == ':':
		oh, ok1 := digits(b[i+1 : i+3])
		om, ok2 := digits(b[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = oh*3600 + om*60
		if b[i] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	return time.Unix(c.unix-int64(offset), int64(nsec)).UTC(), true
}

// parseSeconds returns the Unix time of the "2006-01-02T15:04:05" at the
// start of b, read as UTC.
func parseSeconds(b []byte) (int64, bool) {
	if b[4] != '-' || b[7] != '-' || (b[10] != 'T' && b[10] != 't') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	year, ok1 := digits(b[0:4])
	month, ok2 := digits(b[5:7])
	day, ok3 := digits(b[8:10])
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || month < 1 || month > 12 || day < 1 ||
		day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 60 {
		return 0, false
	}
	return daysFromCivil(year, month, day)*86400 + int64(hour*3600+minute*60+sec), true
}

func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days since 1970-01-01 of a proleptic
// Gregorian date.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era*146097 + doe - 719468)
}
