package multiline

// stepNode joins Node.js errors, as util.inspect prints them (console.error
// of an Error, its extra properties and [cause]) and as the runtime prints an
// uncaught exception or unhandled rejection before exiting:
//
//	/app/index.js:9
//	  return raw.order.id;
//	                   ^
//
//	TypeError: Cannot read properties of undefined (reading 'id')
//	    at parse (/app/index.js:9:20)
//	    at node:internal/main/run_main_module:28:49
//
//	Node.js v20.20.2
//
// The uncaught layout starts at its source location line ("/app/index.js:9",
// "node:internal/process/promises:389", "[eval]:1"); the source line, the
// caret line, one blank line and the next line (the error, whatever its
// form) follow it. "Node.js vN" ends the group (Last). An ordinary line
// starts a group, and indented lines ("    at ...", properties, "[cause]:")
// continue any group, so "request failed: Error: boom" followed by its
// frames is one record; so are a closing "}" and the "(Use `node
// --trace-warnings ...`)" hint. An error line after another error's frames
// starts a new group: console.error prints the message on the error's first
// line, never on a line of its own.
func stepNode(s uint8, line []byte) (verdict, uint8) {
	line = trimCR(line)
	blank := isBlank(line)
	switch s {
	case sNodeSrc:
		// The source line, which may be anything, even blank.
		return vJoin, sNodeCaret
	case sNodeCaret:
		if blank {
			return vJoin, sNodeAfter
		}
		if isCaret(line) {
			return vJoin, sNodeCaret2
		}
	case sNodeCaret2:
		if blank {
			return vJoin, sNodeAfter
		}
		// A thrown primitive may follow the caret line directly.
		if !nodeEnd(line) {
			return vJoin, sNodeTrace
		}
	case sNodeAfter:
		if blank {
			return vJoin, sNodeAfter
		}
		if !nodeEnd(line) {
			return vJoin, sNodeTrace
		}
	case sNodeTrace:
		if blank {
			return vJoin, sNodeBlank
		}
		if isClosing(line) {
			return vJoin, sNodeTrace
		}
	case sLine:
		if isClosing(line) {
			return vJoin, sLine
		}
	}
	if blank {
		return vAlone, sIdle
	}
	if isSpace(line[0]) {
		return vJoin, sNodeTrace
	}
	switch line[0] {
	case 'N':
		if nodeEnd(line) {
			return vEnd, sIdle
		}
	case '(':
		if hasPrefix(line, "(Use `node --") {
			return vJoin, sNodeTrace
		}
	case '{':
		if isJSONObject(line) {
			return vAlone, sIdle
		}
	}
	if nodeSource(line) {
		return vNew, sNodeSrc
	}
	return vNew, sLine
}

// nodeEnd reports whether line is "Node.js v20.20.2", the last line Node
// writes before exiting on an uncaught error.
func nodeEnd(line []byte) bool {
	const p = "Node.js v"
	return hasPrefix(line, p) && len(line) > len(p) && isDigit(line[len(p)])
}

// nodeSource reports whether line is the location line that starts an
// uncaught error's report: a path or "node:" or "[eval]" module, a colon and
// a line number, nothing else ("/app/index.js:9", "file:///app/x.mjs:3",
// "node:internal/process/promises:389", "C:\app\x.js:2").
func nodeSource(line []byte) bool {
	if !(line[0] == '/' || line[0] == '[' || hasPrefix(line, "node:") || hasPrefix(line, "file:") ||
		len(line) > 2 && isLetter(line[0]) && line[1] == ':' && line[2] == '\\') {
		return false
	}
	i := len(line)
	for i > 0 && isDigit(line[i-1]) {
		i--
	}
	if i == len(line) || i < 2 || line[i-1] != ':' {
		return false
	}
	for _, c := range line[:i] {
		if isSpace(c) {
			return false
		}
	}
	return true
}
