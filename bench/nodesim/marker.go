package nodesim

import (
	"strconv"
	"strings"
	"time"
)

// MarkerPrefix starts every marker. Messages carry it once, first thing.
const MarkerPrefix = "nsim="

// Marker identifies one written line: "nsim=<stream>:<seq>:<unix ns>:<len>;".
type Marker struct {
	// Stream is the index of the pod container that wrote the line.
	Stream int
	// Seq is the line's number in its stream, from 0.
	Seq int64
	// Written is when the line was written.
	Written time.Time
	// Len is the length of the whole message in bytes.
	Len int
}

// AppendMarker appends m in its text form.
func AppendMarker(b []byte, m Marker) []byte {
	b = append(b, MarkerPrefix...)
	b = strconv.AppendInt(b, int64(m.Stream), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, m.Seq, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, m.Written.UnixNano(), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(m.Len), 10)
	return append(b, ';')
}

// FindMarker returns the first marker in s, wherever it is (the agent may
// have wrapped the message in JSON).
func FindMarker(s string) (Marker, bool) {
	i := strings.Index(s, MarkerPrefix)
	if i < 0 {
		return Marker{}, false
	}
	s = s[i+len(MarkerPrefix):]
	var f [4]int64
	for k := range f {
		end := ':'
		if k == len(f)-1 {
			end = ';'
		}
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 || j > 19 || j >= len(s) || rune(s[j]) != end {
			return Marker{}, false
		}
		v, err := strconv.ParseInt(s[:j], 10, 64)
		if err != nil {
			return Marker{}, false
		}
		f[k] = v
		s = s[j+1:]
	}
	return Marker{Stream: int(f[0]), Seq: f[1], Written: time.Unix(0, f[2]), Len: int(f[3])}, true
}
