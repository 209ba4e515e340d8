package parse

// stackPairs is how many key/value pairs the logfmt and klog parsers track without allocating; a line with
// more pairs costs allocations (a heap slice and a map to find duplicate keys).
const stackPairs = 32

// valueKind says how a pair's value is written in the line.
type valueKind uint8

const (
	valueBare   valueKind = iota // a key alone, no '=': written as true
	valueRaw                     // an unquoted value, maybe empty: written as a string
	valueQuoted                  // a quoted value, decoded by appendUnquoted
)

// pair is a key/value pair found in a line, by byte offsets into it.
type pair struct {
	keyStart, keyEnd int
	valStart, valEnd int
	kind             valueKind
	clean            bool // the key is valid UTF-8
}

// appendPairs appends the pairs as members of a JSON object (without braces), after a comma if more is
// true. A key that occurs more than once gets the value of its last occurrence, at the position of its
// first one, so keys are unique. It returns false if a quoted value does not decode, which the caller
// has checked with skipQuoted already.
func appendPairs(dst, line []byte, pairs []pair, more bool) ([]byte, bool) {
	if len(pairs) > stackPairs {
		return appendManyPairs(dst, line, pairs, more)
	}
	var ok bool
	for i := range pairs {
		p := &pairs[i]
		if indexKey(line, pairs[:i], p) >= 0 {
			continue // written at its first occurrence
		}
		last := p
		for j := len(pairs) - 1; j > i; j-- {
			if samePairKey(line, &pairs[j], p) {
				last = &pairs[j]
				break
			}
		}
		if dst, ok = appendMember(dst, line, p, last, more); !ok {
			return dst, false
		}
		more = true
	}
	return dst, true
}

// appendManyPairs is appendPairs for lines with many pairs, where a quadratic search for duplicates
// could take long: it finds them with a map.
func appendManyPairs(dst, line []byte, pairs []pair, more bool) ([]byte, bool) {
	last := make(map[string]int, len(pairs))
	for i := range pairs {
		last[pairKey(line, &pairs[i])] = i
	}
	var ok bool
	for i := range pairs {
		k := pairKey(line, &pairs[i])
		j := last[k]
		if j < 0 {
			continue
		}
		last[k] = -1
		if dst, ok = appendMember(dst, line, &pairs[i], &pairs[j], more); !ok {
			return dst, false
		}
		more = true
	}
	return dst, true
}

// pairKey is p's key as it is written in JSON, unescaped.
func pairKey(line []byte, p *pair) string {
	k := line[p.keyStart:p.keyEnd]
	if p.clean {
		return string(k)
	}
	return string(appendValidUTF8(nil, k))
}

// indexKey returns the index of the first pair in pairs with p's key, or -1.
func indexKey(line []byte, pairs []pair, p *pair) int {
	for i := range pairs {
		if samePairKey(line, &pairs[i], p) {
			return i
		}
	}
	return -1
}

func samePairKey(line []byte, a, b *pair) bool {
	if a.keyEnd-a.keyStart != b.keyEnd-b.keyStart && a.clean && b.clean {
		return false
	}
	return sameKey(line[a.keyStart:a.keyEnd], line[b.keyStart:b.keyEnd], a.clean && b.clean)
}

// appendMember appends `"key":value` with k's key and v's value.
func appendMember(dst, line []byte, k, v *pair, more bool) ([]byte, bool) {
	if more {
		dst = append(dst, ',')
	}
	dst = appendString(dst, line[k.keyStart:k.keyEnd])
	dst = append(dst, ':')
	switch v.kind {
	case valueBare:
		return append(dst, "true"...), true
	case valueQuoted:
		dst, _, ok := appendUnquoted(dst, line[:v.valEnd], v.valStart)
		return dst, ok
	}
	return appendString(dst, line[v.valStart:v.valEnd]), true
}
