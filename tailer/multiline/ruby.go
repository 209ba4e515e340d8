package multiline

// stepRuby joins Ruby backtraces, as the interpreter prints an uncaught
// exception (old backtick quotes and Ruby 3.4's single quotes with the
// method's owner) with its causes:
//
//	app.rb:4:in 'Object#load': order {} is incomplete (RuntimeError)
//		from app.rb:9:in '<main>'
//	app.rb:2:in 'Hash#fetch': key not found: :id (KeyError)
//		from app.rb:2:in 'Object#load'
//
// and as Logger prints an exception's backtrace: one bare frame a line after
// the message. A frame line with a message ("file:N:in 'm': msg (Class)")
// starts a group, or continues one after frames (a cause); blank and
// indented lines right after it continue it (error_highlight's snippet and
// carets, did_you_mean's suggestions). "\tfrom file:N:in ..." frames, bare
// "file:N:in 'm'" frames and other indented lines continue any group, so
// they join the ordinary line (a logger's message) before them.
func stepRuby(s uint8, line []byte) (verdict, uint8) {
	line = trimCR(line)
	if isBlank(line) {
		if s == sRubyHead {
			return vJoin, sRubyHead
		}
		return vAlone, sIdle
	}
	if isSpace(line[0]) {
		t := trimLeft(line)
		if hasPrefix(t, "from ") && rubyFrame(t[len("from "):]) != 0 {
			return vJoin, sRubyTrace
		}
		if s == sRubyHead {
			return vJoin, sRubyHead
		}
		return vJoin, sRubyTrace
	}
	if line[0] == '{' && isJSONObject(line) {
		return vAlone, sIdle
	}
	switch rubyFrame(line) {
	case rubyBare:
		return vJoin, sRubyTrace
	case rubyMessage:
		if s == sRubyTrace {
			return vJoin, sRubyHead
		}
		return vNew, sRubyHead
	}
	if s == sRubyHead && (isCaret(line) || hasPrefix(line, "Did you mean?")) {
		return vJoin, sRubyHead
	}
	return vNew, sLine
}

// Kinds of Ruby frame lines.
const (
	rubyNone    = iota
	rubyBare    // app.rb:7:in '<main>'
	rubyMessage // app.rb:3:in 'foo': boom (RuntimeError)
)

// rubyFrame tells whether line is a backtrace frame, "path:N:in 'method'"
// (or `method'), and whether a message follows it. The path has no spaces.
func rubyFrame(line []byte) int {
	for i := 0; i < len(line); i++ {
		c := line[i]
		if isSpace(c) {
			return rubyNone
		}
		if c != ':' || i == 0 {
			continue
		}
		j := i + 1
		for j < len(line) && isDigit(line[j]) {
			j++
		}
		if j == i+1 || !hasPrefix(line[j:], ":in ") {
			continue
		}
		rest := line[j+len(":in "):]
		if len(rest) == 0 || rest[0] != '`' && rest[0] != '\'' {
			return rubyNone
		}
		if contains(rest, "': ") {
			return rubyMessage
		}
		return rubyBare
	}
	return rubyNone
}
