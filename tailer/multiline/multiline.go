package multiline

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
)

// Action says what to do with a line.
type Action uint8

const (
	// Single: the line is not part of a group. The group being joined, if
	// any, is done; this line is a record alone.
	Single Action = iota
	// Start: the line starts a new group. The group being joined, if any,
	// is done first.
	Start
	// Continue: the line joins the group being joined. Returned only when a
	// group is active.
	Continue
	// Last: the line joins the group being joined and ends it; ship it now,
	// without waiting for the next line or the quiet period.
	Last
)

// String returns the name of a, for tests and logs.
func (a Action) String() string {
	switch a {
	case Single:
		return "Single"
	case Start:
		return "Start"
	case Continue:
		return "Continue"
	case Last:
		return "Last"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// State is the per-stream state of a rule; the zero value means no group is
// being joined. It is one byte, copyable, and meaningful only to the rule
// whose Step produced it. Whoever ships a group for another reason than
// Step's answer (quiet period, size cap, end of file) resets the stream's
// State to the zero value.
type State struct {
	s uint8
}

// Active reports whether a group is being joined.
func (s State) Active() bool { return s.s != sIdle }

// Rule decides how lines join. A *Rule is immutable and safe for concurrent
// use; each stream keeps its own State.
type Rule struct {
	name string
	step stepFunc
}

// Name returns the rule's name: the built-in name or the one given to New.
func (r *Rule) Name() string { return r.name }

// Step classifies line given the stream's state and updates the state. Line
// is one logical line without its newline; Step does not keep it.
//
// With !st.Active(), Step returns Single or Start; Continue and Last come only
// when st.Active() on entry. After Single or Last, st is not active; after
// Start or Continue, it is. Step does not allocate.
func (r *Rule) Step(st *State, line []byte) Action {
	v, next := r.step(st.s, line)
	active := st.s != sIdle
	switch v {
	case vJoin:
		if next == sIdle {
			next = sLine
		}
		st.s = next
		if active {
			return Continue
		}
		return Start
	case vNew:
		if next == sIdle {
			next = sLine
		}
		st.s = next
		return Start
	case vEnd:
		st.s = sIdle
		if active {
			return Last
		}
		return Single
	default:
		st.s = sIdle
		return Single
	}
}

var (
	// ErrEmptyPattern is wrapped by New's error when a pattern is empty.
	ErrEmptyPattern = errors.New("empty pattern")
	// ErrEmptyName is wrapped by New's error when the rule's name is empty.
	ErrEmptyName = errors.New("empty name")
)

// New returns a user rule. A line matching start (RE2, regexp package syntax)
// starts a group; while a group is active, a line matching continuation
// continues it, even when it also matches start; any other line is Single, or
// Start if it matches start. RE2 has no lookahead: to make a line that
// matches both start a new group, write continuation so that it does not
// match it (for example `^\s` rather than `.*`).
//
// Errors say which pattern is wrong and why:
// `multiline rule "name": start: error parsing regexp: ...`.
func New(name, start, continuation string) (*Rule, error) {
	if name == "" {
		return nil, fmt.Errorf("multiline rule: %w", ErrEmptyName)
	}
	re := func(what, pattern string) (*regexp.Regexp, error) {
		if pattern == "" {
			return nil, fmt.Errorf("multiline rule %q: %s: %w", name, what, ErrEmptyPattern)
		}
		r, err := regexp.Compile(pattern)
		if err != nil {
			return nil, fmt.Errorf("multiline rule %q: %s: %w", name, what, err)
		}
		return r, nil
	}
	startRE, err := re("start", start)
	if err != nil {
		return nil, err
	}
	contRE, err := re("continuation", continuation)
	if err != nil {
		return nil, err
	}
	return &Rule{name: name, step: func(s uint8, line []byte) (verdict, uint8) {
		if s != sIdle && contRE.Match(line) {
			return vJoin, sLine
		}
		if startRE.Match(line) {
			return vNew, sLine
		}
		return vAlone, sIdle
	}}, nil
}

// builtins holds the built-in rules by name. Fluent Bit's built-in "java",
// "python", "go" and "ruby" have the same names here.
var builtins = map[string]*Rule{
	"dotnet": {name: "dotnet", step: stepDotnet},
	"go":     {name: "go", step: stepGo},
	"java":   {name: "java", step: stepJava},
	"nodejs": {name: "nodejs", step: stepNode},
	"python": {name: "python", step: stepPython},
	"ruby":   {name: "ruby", step: stepRuby},
}

// Builtin returns the built-in rule of that name: "dotnet", "go", "java"
// (also Scala, Kotlin, Clojure and other JVM languages), "nodejs", "python"
// or "ruby".
func Builtin(name string) (*Rule, bool) {
	r, ok := builtins[name]
	return r, ok
}

// Builtins returns the built-in names, sorted.
func Builtins() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// stepFunc is a rule's transition: from state s and line, what to do and the
// next state (ignored for vAlone and vEnd). Step turns it into an Action, so
// that the Action contract holds for every rule by construction.
type stepFunc func(s uint8, line []byte) (verdict, uint8)

// verdict is a rule's answer before the state is taken into account.
type verdict uint8

const (
	vAlone verdict = iota // Single
	vNew                  // Start, whatever the state
	vJoin                 // Continue when a group is active, else Start
	vEnd                  // Last when a group is active, else Single
)

// States. The zero state is idle; the rest mean a group is active. Each
// built-in rule uses sLine and its own states.
const (
	sIdle uint8 = iota
	// sLine: an ordinary line, which may be the message a logger writes on
	// the line before a trace.
	sLine

	sJavaHead // after an exception line ("x.y.FooException: msg", "Caused by: ...")
	sJavaBody // after frames or other indented lines

	sPyIndent // indented lines after an ordinary line
	sPyTrace  // in a traceback's frames
	sPyExc    // after the exception line ending a traceback
	sPyChain  // after "During handling of the above exception..."

	sGoPanic // after "panic:", "fatal error:", "SIGQUIT: quit", before the goroutines
	sGoTrace // in goroutine stacks

	sNodeSrc    // after "/app/index.js:3", the first line of an uncaught error
	sNodeCaret  // after the source line
	sNodeCaret2 // after the caret line
	sNodeAfter  // after the blank line that follows the source excerpt
	sNodeTrace  // in an error's stack or properties
	sNodeBlank  // after a blank line that follows a stack

	sRubyHead  // after "app.rb:3:in 'foo': boom (RuntimeError)"
	sRubyTrace // in "\tfrom app.rb:7:in '<main>'" frames

	sNetHead  // after "System.InvalidOperationException: msg"
	sNetBody  // after "   at ..." frames or other indented lines
	sNetBlank // after a blank line that follows frames
)

// hasPrefix is bytes.HasPrefix for a string prefix, without allocating.
func hasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

// trimCR drops one trailing carriage return, left by applications that write
// CRLF line ends.
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// isSpace reports whether c is a space or a tab.
func isSpace(c byte) bool { return c == ' ' || c == '\t' }

// trimLeft drops leading spaces and tabs.
func trimLeft(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// isBlank reports whether b holds only spaces and tabs.
func isBlank(b []byte) bool { return len(trimLeft(b)) == 0 }

// isJSONObject reports whether b looks like a one-line JSON object: such a
// line carries its own stack trace, if any, in a field, so it is a record
// alone.
func isJSONObject(b []byte) bool {
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	for i := len(b) - 1; i > 0; i-- {
		if !isSpace(b[i]) {
			return b[i] == '}'
		}
	}
	return false
}

// isClosing reports whether b starts with a closing bracket, as the last line
// of a pretty-printed object does.
func isClosing(b []byte) bool {
	return len(b) > 0 && (b[0] == '}' || b[0] == ']' || b[0] == ')')
}

// isCaret reports whether b is a caret line ("    ^^^^" or "   ~~^~~"), which
// points into the source line above it.
func isCaret(b []byte) bool {
	b = trimLeft(b)
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c != '^' && c != '~' && !isSpace(c) {
			return false
		}
	}
	return true
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isLetter reports whether c is an ASCII letter.
func isLetter(c byte) bool { return 'A' <= c&^0x20 && c&^0x20 <= 'Z' }

// isIdent reports whether c may appear in a Java, C# or Python identifier
// (ASCII only).
func isIdent(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' || c == '$' }

// className returns the length of the dotted name at the start of b
// ("java.lang.IllegalStateException", "ValueError"), and where its last
// component starts. n is 0 if b does not start with a letter, '_' or '$'.
func className(b []byte) (n, last int) {
	if len(b) == 0 || isDigit(b[0]) || !isIdent(b[0]) {
		return 0, 0
	}
	for n < len(b) {
		c := b[n]
		switch {
		case isIdent(c):
		case c == '.' && n+1 < len(b) && isIdent(b[n+1]) && !isDigit(b[n+1]):
			last = n + 1
		default:
			return n, last
		}
		n++
	}
	return n, last
}

// endsName reports whether b[n:] is what follows an exception's class name in
// its printed form: nothing, or ": " and a message.
func endsName(b []byte, n int) bool {
	return n == len(b) || b[n] == ':' && (n+1 == len(b) || b[n+1] == ' ')
}

// contains is bytes.Contains for a string, without allocating.
func contains(b []byte, s string) bool {
	n := len(s)
	for i := 0; i+n <= len(b); i++ {
		if b[i] == s[0] && string(b[i:i+n]) == s {
			return true
		}
	}
	return false
}
