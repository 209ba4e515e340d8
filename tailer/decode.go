package tailer

import (
	"bytes"
	"time"
)

// format is the way a file's lines are encoded.
type format uint8

const (
	formatUnknown format = iota // not detected yet (no complete line seen)
	formatCRI                   // <time> <stream> <P|F> <message>
	formatDocker                // {"log":"...","stream":"...","time":"..."}
	formatPlain                 // text lines
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
