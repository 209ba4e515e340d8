package fields

// Get returns the raw JSON value at path in obj, a JSON object, with
// surrounding whitespace trimmed; ok is false when there is no such value
// or obj is not a valid object along the way. Path syntax is in the
// package doc. Get does not allocate; raw aliases obj.
func Get(obj []byte, path string) (raw []byte, ok bool) {
	for {
		v, n, ok := lookup(obj, path)
		if !ok {
			return nil, false
		}
		if n == len(path) {
			return v, true
		}
		obj, path = v, path[n+1:]
	}
}

// lookup finds the member of obj whose key is the longest match for the
// start of path (see matchPrefix), the last one when the key repeats. It
// returns the member's value and how much of path its key covers.
func lookup(obj []byte, path string) (value []byte, n int, ok bool) {
	n = -1
	m := newMembers(obj)
	for {
		k, v, more := m.next()
		if !more {
			break
		}
		if l, match := matchPrefix("", k, path); match && l >= n {
			value, n = v, l
		}
	}
	if m.bad || n < 0 {
		return nil, 0, false
	}
	return value, n, true
}

// String appends the value at path to dst as text: a JSON string decoded,
// a number, true, false or null as written. It returns dst unchanged and
// ok false when the value is absent, an object or an array.
func String(dst, obj []byte, path string) ([]byte, bool) {
	raw, ok := Get(obj, path)
	if !ok {
		return dst, false
	}
	switch raw[0] {
	case '"':
		return appendUnquoted(dst, raw[1:len(raw)-1]), true
	case '{', '[':
		return dst, false
	}
	return append(dst, raw...), true
}

// Members calls fn for each top-level member of obj in order, with its raw
// key (still escaped, without the quotes) and its raw value, until fn
// returns false. On input that is not a valid object it stops at the first
// thing it cannot read. The slices alias obj.
func Members(obj []byte, fn func(key, value []byte) bool) {
	m := newMembers(obj)
	for {
		k, v, ok := m.next()
		if !ok || !fn(k, v) {
			return
		}
	}
}
