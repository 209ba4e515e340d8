package parse

// klogParser parses the text format of k8s.io/klog (and glog), which Kubernetes components write:
//
//	I0102 15:04:05.123456    1 file.go:123] message
//	I1025 16:06:02.237647       1 server.go:150] "Golang settings" GOGC="" GOMAXPROCS=""
//
// The header is a severity letter (I, W, E, F), the date and time without a year, the thread id
// (right-aligned in 7 columns), the source file and line, and ']'. The field names are the ones of the
// Fluentd kubernetes (glog) parser: severity ("I"), time ("0102 15:04:05.123456"), pid, source
// ("file.go:123") and message.
//
// A structured line (klog.InfoS, ErrorS) has a quoted message followed by key=value pairs: the message
// is unquoted and each pair becomes a field after it. Quoted values are unquoted; other values (numbers,
// JSON or %+v renderings of structs, which may hold blanks inside brackets) are kept as strings. A pair
// named like a header field is dropped; a repeated key keeps its last value. If the text after the
// quoted message is not a list of pairs, the whole text after "] " is the message, as for a printf-style
// line.
type klogParser struct{ name string }

func (p klogParser) Name() string { return p.name }

// klogHeader holds the offsets of the header fields in a line.
type klogHeader struct {
	timeEnd          int // time is line[1:timeEnd]
	pidStart, pidEnd int
	srcStart, srcEnd int
	msgStart         int
}

func (p klogParser) Parse(dst, line []byte) ([]byte, bool) {
	h, ok := parseKlogHeader(line)
	if !ok {
		return dst, false
	}
	dst = append(dst, `{"severity":`...)
	dst = appendString(dst, line[:1])
	dst = append(dst, `,"time":`...)
	dst = appendString(dst, line[1:h.timeEnd])
	dst = append(dst, `,"pid":`...)
	dst = appendString(dst, line[h.pidStart:h.pidEnd])
	dst = append(dst, `,"source":`...)
	dst = appendString(dst, line[h.srcStart:h.srcEnd])
	dst = append(dst, `,"message":`...)
	if h.msgStart < len(line) && line[h.msgStart] == '"' {
		var stack [stackPairs]pair
		if pairs, ok := scanKlogPairs(stack[:0], line, h.msgStart); ok {
			mark := len(dst)
			dst, _, ok = appendUnquoted(dst, line, h.msgStart)
			if ok {
				dst, ok = appendPairs(dst, line, pairs, true)
			}
			if ok {
				return append(dst, '}'), true
			}
			dst = dst[:mark]
		}
	}
	dst = appendString(dst, line[h.msgStart:])
	return append(dst, '}'), true
}

// parseKlogHeader parses `Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` at the start of s.
func parseKlogHeader(s []byte) (klogHeader, bool) {
	var h klogHeader
	// "I0102 15:04:05" is 14 bytes; the pid, source and ']' need at least 6 more.
	if len(s) < 20 {
		return h, false
	}
	switch s[0] {
	case 'I', 'W', 'E', 'F':
	default:
		return h, false
	}
	const layout = "d0000 00:00:00" // 0: a digit; others: that byte; d: the severity, checked above
	for i := 1; i < len(layout); i++ {
		if c := s[i]; layout[i] == '0' && (c < '0' || c > '9') || layout[i] != '0' && c != layout[i] {
			return h, false
		}
	}
	i := len(layout)
	if s[i] == '.' {
		j := skipDigits(s, i+1)
		if j == i+1 {
			return h, false
		}
		i = j
	}
	h.timeEnd = i
	j := i
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j == i {
		return h, false
	}
	h.pidStart = j
	j = skipDigits(s, j)
	if j == h.pidStart || j == len(s) || s[j] != ' ' {
		return h, false
	}
	h.pidEnd = j
	j++
	h.srcStart = j
	colon := -1
	for j < len(s) && s[j] > ' ' && s[j] != ']' {
		if s[j] == ':' {
			colon = j
		}
		j++
	}
	// The source is file:line.
	if j == len(s) || s[j] != ']' || colon <= h.srcStart || skipDigits(s, colon+1) != j || colon+1 == j {
		return h, false
	}
	h.srcEnd = j
	j++
	if j < len(s) {
		if s[j] != ' ' {
			return h, false
		}
		j++
	}
	h.msgStart = j
	return h, true
}

// klogHeaderKeys are the header's field names; a pair with one of them is dropped.
var klogHeaderKeys = [...]string{"severity", "time", "pid", "source", "message"}

// scanKlogPairs checks that s[i:] is a quoted message followed by blank-separated key=value pairs, and
// appends the pairs to pairs.
func scanKlogPairs(pairs []pair, s []byte, i int) ([]pair, bool) {
	i, ok := skipQuoted(s, i)
	if !ok {
		return pairs, false
	}
	for {
		if i == len(s) {
			return pairs, true
		}
		if s[i] > ' ' {
			return pairs, false // pairs are separated by blanks
		}
		for i < len(s) && s[i] <= ' ' {
			i++
		}
		if i == len(s) {
			return pairs, true
		}
		var p pair
		p, i = scanKey(s, i)
		if p.keyEnd == p.keyStart || i == len(s) || s[i] != '=' {
			return pairs, false
		}
		i++
		p.valStart = i
		if i < len(s) && s[i] == '"' {
			if i, ok = skipQuoted(s, i); !ok {
				return pairs, false
			}
			p.kind = valueQuoted
		} else {
			if i, ok = skipKlogValue(s, i); !ok {
				return pairs, false
			}
			p.kind = valueRaw
		}
		p.valEnd = i
		if !isKlogHeaderKey(s[p.keyStart:p.keyEnd]) {
			pairs = append(pairs, p)
		}
	}
}

func isKlogHeaderKey(k []byte) bool {
	for _, h := range klogHeaderKeys {
		if string(k) == h {
			return true
		}
	}
	return false
}

// skipKlogValue returns the index just past the unquoted value at s[i:]: up to a blank outside
// brackets, so that `{"a":"b c"}`, `&{Name:x Type:y}` and `[a b]` are one value each. It returns false
// if a bracket or a quoted string inside brackets is not closed.
func skipKlogValue(s []byte, i int) (int, bool) {
	depth := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c <= ' ' && depth == 0:
			return i, true
		case c == '{' || c == '[':
			depth++
		case (c == '}' || c == ']') && depth > 0:
			depth--
		case c == '"' && depth > 0:
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			if i >= len(s) {
				return i, false
			}
		}
		i++
	}
	return i, depth == 0
}
