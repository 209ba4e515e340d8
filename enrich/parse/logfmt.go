package parse

import "unicode/utf8"

// logfmtParser parses logfmt lines: `level=info msg="a \"quoted\" value" took=1.5ms cached`.
//
// The grammar is go-logfmt's: pairs separated by blanks (any byte up to ' '); a key is a run of bytes
// above ' ' other than '=' and '"'; a pair is `key=value`, `key=` or a bare `key`; a value is either a
// run of bytes above ' ' other than '"' ('=' is allowed, as in base64 padding), or a quoted string with
// Go or JSON escapes (see quoted.go).
//
// Decisions, documented on Builtin too:
//   - A bare key is true (as in Fluent Bit); `key=` is the empty string; every other value is a string.
//   - A key given twice keeps its last value, at the position of its first occurrence.
//   - A line with no `key=value` pair at all is not logfmt (plain text would otherwise become
//     {"Hello":true,"world":true}), and neither is a malformed one: an unterminated quote, an invalid
//     escape, a '"' inside a key or an unquoted value, a quoted value not followed by a blank, a '='
//     with no key before it.
type logfmtParser struct{}

func (logfmtParser) Name() string { return "logfmt" }

func (logfmtParser) Parse(dst, line []byte) ([]byte, bool) {
	var stack [stackPairs]pair
	pairs, ok := scanLogfmt(stack[:0], line)
	if !ok {
		return dst, false
	}
	mark := len(dst)
	dst = append(dst, '{')
	if dst, ok = appendPairs(dst, line, pairs, false); !ok {
		return dst[:mark], false
	}
	return append(dst, '}'), true
}

// scanKey reads the key starting at s[i]: up to a blank, '=' or '"'. It
// returns the pair with its key set and the index just past the key.
func scanKey(s []byte, i int) (pair, int) {
	p := pair{keyStart: i, clean: true}
	for i < len(s) && s[i] > ' ' && s[i] != '=' && s[i] != '"' {
		if s[i] >= utf8.RuneSelf {
			p.clean = false
		}
		i++
	}
	p.keyEnd = i
	if !p.clean {
		p.clean = utf8.Valid(s[p.keyStart:p.keyEnd])
	}
	return p, i
}

// scanLogfmt appends the pairs of the logfmt line s to pairs. It returns false if s is malformed or has
// no pair with a '='.
func scanLogfmt(pairs []pair, s []byte) ([]pair, bool) {
	withValue := false
	i := 0
	for {
		for i < len(s) && s[i] <= ' ' {
			i++
		}
		if i == len(s) {
			return pairs, withValue
		}
		var p pair
		p, i = scanKey(s, i)
		if p.keyEnd == p.keyStart {
			return pairs, false // '=' or '"' where a key starts
		}
		switch {
		case i == len(s) || s[i] <= ' ':
			p.kind = valueBare
		case s[i] == '"':
			return pairs, false
		default: // '='
			i++
			withValue = true
			p.valStart = i
			if i < len(s) && s[i] == '"' {
				end, ok := skipQuoted(s, i)
				if !ok || end < len(s) && s[end] > ' ' {
					return pairs, false
				}
				p.kind = valueQuoted
				i = end
			} else {
				for i < len(s) && s[i] > ' ' {
					if s[i] == '"' {
						return pairs, false
					}
					i++
				}
				p.kind = valueRaw
			}
			p.valEnd = i
		}
		pairs = append(pairs, p)
	}
}
