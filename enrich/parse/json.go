package parse

import "unicode/utf8"

// maxJSONDepth is how deeply arrays and objects may nest in a line for the json parser, the same limit as
// encoding/json's.
const maxJSONDepth = 10000

// jsonParser accepts a line that is a JSON object (after trimming JSON blanks) and appends it as it is,
// only replacing invalid UTF-8 inside its strings with U+FFFD.
type jsonParser struct{}

func (jsonParser) Name() string { return "json" }

func (jsonParser) Parse(dst, line []byte) ([]byte, bool) {
	obj := trimJSONSpace(line)
	if len(obj) == 0 || obj[0] != '{' || !validJSON(obj) {
		return dst, false
	}
	if utf8.Valid(obj) {
		return append(dst, obj...), true
	}
	return appendValidUTF8(dst, obj), true
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func trimJSONSpace(s []byte) []byte {
	for len(s) > 0 && isJSONSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isJSONSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// jsonStringStop[c] is true for the bytes that end a run of plain string content: '"', '\\' and the
// control characters, which are not allowed raw in a string.
var jsonStringStop = func() (t [256]bool) {
	for c := range ' ' {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// validJSON reports whether s is exactly one JSON value (blanks around it allowed), nested at most
// maxJSONDepth deep. Like encoding/json, it does not check UTF-8 inside strings. It does not allocate:
// the kind of each open container is a bit on a stack array.
func validJSON(s []byte) bool {
	const (
		wantValue = iota // a value: at the start, after '[', ',' in an array, ':'
		wantKey          // a member's key: after ',' in an object
		wantNext         // after a value: ',', a closing bracket, or the end
	)
	var objects [maxJSONDepth/64 + 1]uint64 // bit d set: the container at depth d is an object
	depth := 0
	state := wantValue
	i := 0
	for {
		for i < len(s) && isJSONSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return state == wantNext && depth == 0
		}
		c := s[i]
		switch state {
		case wantKey:
			if c != '"' {
				return false
			}
			var ok bool
			if i, ok = skipJSONString(s, i); !ok {
				return false
			}
			for i < len(s) && isJSONSpace(s[i]) {
				i++
			}
			if i == len(s) || s[i] != ':' {
				return false
			}
			i++
			state = wantValue
			continue
		case wantNext:
			if depth == 0 {
				return false // something after the value
			}
			inObject := objects[(depth-1)/64]&(1<<((depth-1)%64)) != 0
			switch {
			case c == ',':
				i++
				if inObject {
					state = wantKey
				} else {
					state = wantValue
				}
			case c == '}' && inObject, c == ']' && !inObject:
				i++
				depth--
			default:
				return false
			}
			continue
		}
		// state == wantValue
		switch {
		case c == '{' || c == '[':
			if depth == maxJSONDepth {
				return false
			}
			w, b := depth/64, uint64(1)<<(depth%64)
			if c == '{' {
				objects[w] |= b
			} else {
				objects[w] &^= b
			}
			depth++
			i++
			for i < len(s) && isJSONSpace(s[i]) {
				i++
			}
			if i < len(s) && (s[i] == '}' && c == '{' || s[i] == ']' && c == '[') {
				i++
				depth--
				state = wantNext
			} else if c == '{' {
				state = wantKey
			}
			continue
		case c == '"':
			var ok bool
			if i, ok = skipJSONString(s, i); !ok {
				return false
			}
		case c == 't':
			if !hasPrefixAt(s, i, "true") {
				return false
			}
			i += 4
		case c == 'f':
			if !hasPrefixAt(s, i, "false") {
				return false
			}
			i += 5
		case c == 'n':
			if !hasPrefixAt(s, i, "null") {
				return false
			}
			i += 4
		case c == '-' || '0' <= c && c <= '9':
			if i = skipJSONNumber(s, i); i < 0 {
				return false
			}
		default:
			return false
		}
		state = wantNext
	}
}

func hasPrefixAt(s []byte, i int, prefix string) bool {
	return len(s)-i >= len(prefix) && string(s[i:i+len(prefix)]) == prefix
}

// skipJSONString returns the index just past the JSON string that starts at s[i] == '"'.
func skipJSONString(s []byte, i int) (int, bool) {
	for i++; i < len(s); i++ {
		c := s[i]
		if !jsonStringStop[c] {
			continue
		}
		switch {
		case c == '"':
			return i + 1, true
		case c == '\\':
			i++
			if i == len(s) {
				return i, false
			}
			switch s[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if _, ok := hexValue(s, i+1, 4); !ok {
					return i, false
				}
				i += 4
			default:
				return i, false
			}
		default:
			return i, false // a control character
		}
	}
	return i, false
}

// skipJSONNumber returns the index just past the JSON number that starts at s[i], or -1.
func skipJSONNumber(s []byte, i int) int {
	if s[i] == '-' {
		i++
	}
	switch {
	case i == len(s):
		return -1
	case s[i] == '0':
		i++
	case '1' <= s[i] && s[i] <= '9':
		i = skipDigits(s, i)
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		j := skipDigits(s, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := skipDigits(s, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func skipDigits(s []byte, i int) int {
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return i
}
