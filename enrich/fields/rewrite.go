package fields

import (
	"cmp"
	"slices"
)

// OpKind says what an Op does.
type OpKind uint8

// The kinds of Op. Every kind but Remove acts on the top-level member whose
// key is exactly Key; an Op whose Key names no member does nothing.
const (
	// Remove deletes the member at the path Key (see the package doc), so
	// it may reach into nested objects: "http.headers.authorization".
	Remove OpKind = iota + 1
	// Rename gives the member Key the key To, in its position. A member
	// already named To is removed.
	Rename
	// Lift replaces the member Key, when its value is an object, by that
	// object's members, in their order and in its position, each key
	// prefixed by Prefix. Members already named like a lifted one are
	// removed; of two lifted members with the same key the later one stays.
	// A member whose value is not an object is left as it is; one whose
	// value is {} disappears.
	Lift
	// Set gives the member Key the string value To, in its position, or
	// adds it at the end when there is no such member.
	Set
)

// String returns the kind's name.
func (k OpKind) String() string {
	switch k {
	case Remove:
		return "remove"
	case Rename:
		return "rename"
	case Lift:
		return "lift"
	case Set:
		return "set"
	}
	return "unknown"
}

// Op is one rewrite of an object's top-level members. Ops of an unknown
// Kind are ignored.
type Op struct {
	Kind   OpKind
	Key    string // the member's key; for Remove a path
	To     string // Rename: the new key; Set: the value
	Prefix string // Lift: prefix of the lifted keys, may be ""
}

// Stack sizes: Rewrite keeps this many members, and nested removals in
// play, in arrays on its stack before it allocates.
const (
	stackMembers = 32
	stackDrops   = 8
)

// Rewrite appends obj with ops applied in order to dst and returns it. The
// top-level keys of the result are unique: when obj repeats a key, the
// last member stays, in its own position; every other conflict is settled
// as the OpKind docs say. Members are written without whitespace between
// them; their values are copied unchanged. When obj cannot be read as an
// object, Rewrite appends it unchanged. It allocates nothing but dst's
// growth for objects of up to 32 members (and up to 8 nested removals per
// member).
func Rewrite(dst, obj []byte, ops []Op) []byte {
	var ents [stackMembers]entry
	var drops [stackDrops]drop
	s := state{ents: ents[:0], drops: drops[:0]}
	s, ok := s.parse(obj)
	if !ok {
		return append(dst, obj...)
	}
	for _, op := range ops {
		switch op.Kind {
		case Remove:
			s = s.remove(op.Key)
		case Rename:
			s = s.rename(op.Key, op.To)
		case Lift:
			s = s.lift(op.Key, op.Prefix)
		case Set:
			s = s.set(op.Key, op.To)
		}
	}
	return s.write(dst)
}

// entry is one member of the object being rewritten. Its decoded key is
// plain followed by raw decoded.
type entry struct {
	plain string // a Lift prefix, or the whole key after Rename or Set
	raw   []byte // the key as written in the object, still escaped
	hash  uint64 // hashKey(plain, raw)
	value []byte // the raw value, unless set
	str   string // the value given by Set
	set   bool
	// id identifies the entry while entries move: the later an entry was
	// added, the higher its id. Dead entries have -1.
	id int32
}

// drop is a removal inside the object value of entry id, at path.
type drop struct {
	id   int32
	path string
}

// state is the object being rewritten. Its methods take and return it by
// value so that the slices may live in Rewrite's stack arrays.
type state struct {
	ents  []entry
	drops []drop
	ids   int32
}

func (s state) add(e entry) state {
	e.id = s.ids
	s.ids++
	s.ents = append(s.ents, e)
	return s
}

func (s state) removeAt(i int) state {
	s.ents = append(s.ents[:i], s.ents[i+1:]...)
	return s
}

// find returns the index of the entry whose decoded key is plain+raw.
func (s state) find(plain string, raw []byte, h uint64) int {
	for i := range s.ents {
		e := &s.ents[i]
		if e.hash == h && equalKeys(e.plain, e.raw, plain, raw) {
			return i
		}
	}
	return -1
}

// parse reads obj's members, keeping the last of each key.
func (s state) parse(obj []byte) (state, bool) {
	m := newMembers(obj)
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		s = s.add(entry{raw: k, hash: hashKey("", k), value: v})
	}
	return s.dedupe(), !m.bad
}

// dedupe keeps, of the entries with the same key, the one with the
// highest id (the latest one added), in its position.
func (s state) dedupe() state {
	dead := false
	if len(s.ents) <= stackMembers {
		// Compare with the earlier entries only when a one-word Bloom
		// filter of their hashes says there may be a match.
		var seen uint64
		for i := range s.ents {
			e := &s.ents[i]
			bit := uint64(1) << (e.hash & 63)
			if seen&bit != 0 {
				for j := range i {
					dead = s.settle(j, i) || dead
				}
			}
			seen |= bit
		}
	} else {
		// Sort the positions by hash and compare within runs of equal
		// hashes.
		idx := make([]int, len(s.ents))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(s.ents[a].hash, s.ents[b].hash) })
		for i := 0; i < len(idx); {
			j := i + 1
			for j < len(idx) && s.ents[idx[j]].hash == s.ents[idx[i]].hash {
				j++
			}
			for x := i; x < j; x++ {
				for y := i; y < x; y++ {
					dead = s.settle(idx[y], idx[x]) || dead
				}
			}
			i = j
		}
	}
	if !dead {
		return s
	}
	n := 0
	for _, e := range s.ents {
		if e.id >= 0 {
			s.ents[n] = e
			n++
		}
	}
	s.ents = s.ents[:n]
	return s
}

// settle marks the older of entries i and j dead (id -1) when both live
// and have the same key, and tells whether it did.
func (s state) settle(i, j int) bool {
	a, b := &s.ents[i], &s.ents[j]
	if a.id < 0 || b.id < 0 || a.hash != b.hash || !equalKeys(a.plain, a.raw, b.plain, b.raw) {
		return false
	}
	if a.id < b.id {
		a.id = -1
	} else {
		b.id = -1
	}
	return true
}

func (s state) remove(path string) state {
	best, n := -1, -1
	for i := range s.ents {
		e := &s.ents[i]
		if l, ok := matchPrefix(e.plain, e.raw, path); ok && l > n {
			best, n = i, l
		}
	}
	switch {
	case best < 0:
		return s
	case n == len(path):
		return s.removeAt(best)
	}
	if e := &s.ents[best]; !e.set && isObject(e.value) {
		s.drops = append(s.drops, drop{id: e.id, path: path[n+1:]})
	}
	return s
}

func (s state) rename(key, to string) state {
	i := s.find(key, nil, hashKey(key, nil))
	if i < 0 {
		return s
	}
	h := hashKey(to, nil)
	if j := s.find(to, nil, h); j >= 0 && j != i {
		s = s.removeAt(j)
		if j < i {
			i--
		}
	}
	e := &s.ents[i]
	e.plain, e.raw, e.hash = to, nil, h
	return s
}

func (s state) set(key, value string) state {
	h := hashKey(key, nil)
	if i := s.find(key, nil, h); i >= 0 {
		e := &s.ents[i]
		e.set, e.str, e.value = true, value, nil
		return s
	}
	return s.add(entry{plain: key, hash: h, set: true, str: value})
}

func (s state) lift(key, prefix string) state {
	i := s.find(key, nil, hashKey(key, nil))
	if i < 0 || s.ents[i].set || !isObject(s.ents[i].value) {
		return s
	}
	parent := s.ents[i]
	// The children go at the end first, then rotate into place.
	first, firstID := len(s.ents), s.ids
	m := newMembers(parent.value)
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		s = s.add(entry{plain: prefix, raw: k, hash: hashKey(prefix, k), value: v})
	}
	if m.bad {
		s.ents, s.ids = s.ents[:first], firstID
		return s
	}
	s = s.dropChildren(parent.id, first)
	rotate(s.ents[i:], first-i)
	s = s.removeAt(i + len(s.ents) - first)
	// The children have the highest ids, the later the higher: they beat
	// the other members and the earlier children of their name.
	return s.dedupe()
}

// dropChildren applies the removals inside the object of entry id to its
// lifted members, s.ents[first:]: a removal of a child removes it, one
// deeper becomes a removal inside the child.
func (s state) dropChildren(id int32, first int) state {
	for d := 0; d < len(s.drops); d++ {
		if s.drops[d].id != id {
			continue
		}
		path := s.drops[d].path
		n := -1
		for j := first; j < len(s.ents); j++ {
			if l, ok := matchPrefix("", s.ents[j].raw, path); ok && l > n {
				n = l
			}
		}
		if n < 0 {
			continue
		}
		for j := first; j < len(s.ents); j++ {
			e := &s.ents[j]
			if l, ok := matchPrefix("", e.raw, path); !ok || l != n {
				continue
			}
			if n == len(path) {
				s = s.removeAt(j)
				j--
			} else if isObject(e.value) {
				s.drops = append(s.drops, drop{id: e.id, path: path[n+1:]})
			}
		}
	}
	return s
}

// rotate moves e[k:] before e[:k].
func rotate(e []entry, k int) {
	reverse(e[:k])
	reverse(e[k:])
	reverse(e)
}

func reverse(e []entry) {
	for i, j := 0, len(e)-1; i < j; i, j = i+1, j-1 {
		e[i], e[j] = e[j], e[i]
	}
}

// write appends the object to dst.
func (s state) write(dst []byte) []byte {
	dst = append(dst, '{')
	for i := range s.ents {
		e := &s.ents[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = appendEscaped(dst, e.plain)
		dst = append(dst, e.raw...)
		dst = append(dst, '"', ':')
		if e.set {
			dst = append(dst, '"')
			dst = appendEscaped(dst, e.str)
			dst = append(dst, '"')
			continue
		}
		var paths pathSet
		for _, d := range s.drops {
			if d.id == e.id {
				paths.add(d.path)
			}
		}
		if paths.n == 0 {
			dst = append(dst, e.value...)
			continue
		}
		dst = appendFiltered(dst, e.value, paths)
	}
	return append(dst, '}')
}

// pathSet is a few paths, passed by value so that the recursion of
// appendFiltered keeps them on the stack.
type pathSet struct {
	n    int
	arr  [stackDrops]string
	more []string // all the paths, once there are more than arr holds
}

func (s *pathSet) add(p string) {
	if s.more == nil && s.n < len(s.arr) {
		s.arr[s.n] = p
		s.n++
		return
	}
	if s.more == nil {
		s.more = append([]string(nil), s.arr[:s.n]...)
	}
	s.more = append(s.more, p)
	s.n++
}

func (s *pathSet) list() []string {
	if s.more != nil {
		return s.more
	}
	return s.arr[:s.n]
}

// appendFiltered appends the object obj to dst without the members at
// the paths.
func appendFiltered(dst, obj []byte, paths pathSet) []byte {
	list := paths.list()
	// Resolve each path against obj's keys first: the longest match wins.
	var bestBuf [stackDrops]int
	best := bestBuf[:0]
	for _, p := range list {
		n := -1
		m := newMembers(obj)
		for {
			k, _, ok := m.next()
			if !ok {
				break
			}
			if l, ok := matchPrefix("", k, p); ok && l > n {
				n = l
			}
		}
		best = append(best, n)
	}
	dst = append(dst, '{')
	first := true
	m := newMembers(obj)
	for {
		k, v, ok := m.next()
		if !ok {
			break
		}
		var sub pathSet
		keep := true
		for j, p := range list {
			l, ok := matchPrefix("", k, p)
			if !ok || l != best[j] {
				continue
			}
			if l == len(p) {
				keep = false
				break
			}
			sub.add(p[l+1:])
		}
		if !keep {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, '"')
		dst = append(dst, k...)
		dst = append(dst, '"', ':')
		if sub.n > 0 && isObject(v) {
			dst = appendFiltered(dst, v, sub)
		} else {
			dst = append(dst, v...)
		}
	}
	return append(dst, '}')
}
