package journal

import (
	"fmt"
	"strings"
)

// Filter selects entries: an entry passes when it satisfies any one of the
// Matches (journalctl's "+" between groups of matches). An empty Filter
// passes every entry.
//
// The host group of Container Insights, for example, is
//
//	Filter{
//		{Fields: []string{"_TRANSPORT=kernel"}},
//		{Priorities: PriorityRange(0, 6), Not: []string{"SYSLOG_FACILITY=2", "SYSLOG_FACILITY=9", "SYSLOG_FACILITY=10"}},
//		{Fields: []string{"SYSLOG_FACILITY=10"}},
//	}
type Filter []Match

// Match is one group of conditions, all of which must hold.
type Match struct {
	// Fields are "FIELD=value" terms. Terms on the same field are
	// alternatives; terms on different fields must all hold, as with
	// journalctl _SYSTEMD_UNIT=kubelet.service _SYSTEMD_UNIT=containerd.service.
	Fields []string
	// Priorities, when not zero, admits only entries whose PRIORITY field
	// is in the set; entries without a valid PRIORITY fail, as with
	// journalctl -p.
	Priorities PrioritySet
	// Not are "FIELD=value" terms the entry must not have.
	Not []string
}

// PrioritySet is a set of syslog priorities, 0 (emerg) to 7 (debug): bit p
// stands for priority p. The zero set means "any".
type PrioritySet uint8

// PriorityRange returns the set of priorities from lo to hi, inclusive,
// clamped to 0-7.
func PriorityRange(lo, hi int) PrioritySet {
	var s PrioritySet
	for p := max(lo, 0); p <= min(hi, 7); p++ {
		s |= 1 << p
	}
	return s
}

// Has reports whether priority p is in the set.
func (s PrioritySet) Has(p int) bool { return p >= 0 && p <= 7 && s&(1<<p) != 0 }

// Validate reports the first malformed term.
func (f Filter) Validate() error {
	_, err := f.Compile()
	return err
}

// Compile checks the filter and returns a Matcher for it.
func (f Filter) Compile() (*Matcher, error) {
	m := &Matcher{}
	for i, mt := range f {
		var c conj
		c.prio = mt.Priorities
		for _, t := range mt.Fields {
			name, value, err := parseTerm(t)
			if err != nil {
				return nil, fmt.Errorf("%w: match %d: %w", ErrConfig, i, err)
			}
			g := -1
			for j := range c.groups {
				if c.groups[j].name == name {
					g = j
				}
			}
			if g < 0 {
				c.groups = append(c.groups, group{name: name})
				g = len(c.groups) - 1
			}
			c.groups[g].values = append(c.groups[g].values, value)
		}
		for _, t := range mt.Not {
			name, value, err := parseTerm(t)
			if err != nil {
				return nil, fmt.Errorf("%w: match %d: not: %w", ErrConfig, i, err)
			}
			c.not = append(c.not, term{name, value})
		}
		m.any = append(m.any, c)
	}
	return m, nil
}

// parseTerm splits "FIELD=value" and checks the name as journald does:
// upper-case letters, digits and underscores, not starting with a digit.
func parseTerm(t string) (name string, value []byte, err error) {
	name, v, ok := strings.Cut(t, "=")
	if !ok {
		return "", nil, fmt.Errorf("%q is not FIELD=value", t)
	}
	if name == "" || len(name) > 64 || name[0] >= '0' && name[0] <= '9' {
		return "", nil, fmt.Errorf("%q: bad field name", t)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return "", nil, fmt.Errorf("%q: bad field name", t)
		}
	}
	return name, []byte(v), nil
}

// Matcher is a compiled Filter. It is safe for concurrent use.
type Matcher struct{ any []conj }

type conj struct {
	groups []group
	prio   PrioritySet
	not    []term
}

type group struct {
	name   string
	values [][]byte
}

type term struct {
	name  string
	value []byte
}

// Match reports whether the entry passes the filter. It does not allocate.
func (m *Matcher) Match(e *Entry) bool {
	if m == nil || len(m.any) == 0 {
		return true
	}
	for i := range m.any {
		if m.any[i].match(e) {
			return true
		}
	}
	return false
}

func (c *conj) match(e *Entry) bool {
	if c.prio != 0 {
		p, ok := e.Priority()
		if !ok || !c.prio.Has(p) {
			return false
		}
	}
	for _, t := range c.not {
		if e.Has(t.name, t.value) {
			return false
		}
	}
	for _, g := range c.groups {
		if !g.match(e) {
			return false
		}
	}
	return true
}

func (g *group) match(e *Entry) bool {
	for _, v := range g.values {
		if e.Has(g.name, v) {
			return true
		}
	}
	return false
}

// priorityNames are syslog's priority names, as journalctl -p takes them.
var priorityNames = []string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// ParsePriorities parses a priority or a range of priorities as journalctl
// -p does: "3", "err", "0..6", "emerg..info". A single priority means it
// and every more urgent one ("err" is 0..3).
func ParsePriorities(s string) (PrioritySet, error) {
	one := func(v string) (int, error) {
		v = strings.TrimSpace(v)
		for i, n := range priorityNames {
			if strings.EqualFold(v, n) {
				return i, nil
			}
		}
		if len(v) == 1 && v[0] >= '0' && v[0] <= '7' {
			return int(v[0] - '0'), nil
		}
		return 0, fmt.Errorf("%q is not a priority: 0 to 7 or %s", v, strings.Join(priorityNames, ", "))
	}
	lo, hi, isRange := strings.Cut(s, "..")
	if !isRange {
		p, err := one(s)
		return PriorityRange(0, p), err
	}
	a, err := one(lo)
	if err != nil {
		return 0, err
	}
	b, err := one(hi)
	if err != nil {
		return 0, err
	}
	if a > b {
		return 0, fmt.Errorf("%q: the range goes from the more urgent priority to the less", s)
	}
	return PriorityRange(a, b), nil
}
