package multiline

const (
	pyTraceback  = "Traceback (most recent call last):"
	pyStack      = "Stack (most recent call last):" // logging's stack_info=True
	pyGroup      = "+ Exception Group Traceback (most recent call last):"
	pyDuring     = "During handling of the above exception, another exception occurred:"
	pyDirect     = "The above exception was the direct cause of the following exception:"
	pyFrameStart = `File "`
)

// stepPython joins Python tracebacks, chained ones included:
//
//	2024-05-01 12:00:00 ERROR orders: request failed
//	Traceback (most recent call last):
//	  File "/app/orders.py", line 30, in load
//	    return parse(raw)
//	           ^^^^^^^^^^
//	KeyError: 'qty'
//
//	The above exception was the direct cause of the following exception:
//
//	Traceback (most recent call last):
//	  ...
//	OrderError: order {'id': '42'} is incomplete
//
// An ordinary line starts a group, and "Traceback (most recent call last):"
// joins it: logging.exception writes its message on the line before. The
// traceback then continues through indented lines (frames, source, carets,
// exception groups' "  | " lines) and its exception line ("KeyError: 'qty'",
// "KeyboardInterrupt"). After the exception line, blank lines, indented lines
// and the two chaining sentences continue the group, and the next
// "Traceback" joins it; the exception line is therefore Continue, not Last.
// A `  File "..."` line that follows an ordinary line starts a group: it is
// the runtime's own report of a SyntaxError, which has no "Traceback" line.
func stepPython(s uint8, line []byte) (verdict, uint8) {
	line = trimCR(line)
	if isBlank(line) {
		switch s {
		case sPyTrace, sPyExc:
			return vJoin, sPyExc
		case sPyChain:
			return vJoin, sPyChain
		}
		return vAlone, sIdle
	}
	if isSpace(line[0]) {
		t := trimLeft(line)
		switch {
		case hasPrefix(t, pyFrameStart):
			if s == sPyTrace {
				return vJoin, sPyTrace
			}
			return vNew, sPyTrace
		case hasPrefix(t, pyGroup):
			if s == sPyExc {
				return vNew, sPyTrace
			}
			return vJoin, sPyTrace
		}
		switch s {
		case sPyTrace, sPyExc, sPyChain:
			return vJoin, s
		}
		return vJoin, sPyIndent
	}
	if line[0] == '{' && isJSONObject(line) {
		return vAlone, sIdle
	}
	switch {
	case line[0] == 'T' && hasPrefix(line, pyTraceback), line[0] == 'S' && hasPrefix(line, pyStack):
		switch s {
		case sLine, sPyIndent, sPyChain:
			return vJoin, sPyTrace
		}
		return vNew, sPyTrace
	case s == sPyTrace || s == sPyExc || s == sPyChain:
		if hasPrefix(line, pyDuring) || hasPrefix(line, pyDirect) {
			return vJoin, sPyChain
		}
		if s == sPyTrace && pyException(line) {
			return vJoin, sPyExc
		}
	}
	return vNew, sLine
}

// pyException reports whether line is the last line of a traceback: an
// exception's dotted class name, then ": message" or nothing.
func pyException(line []byte) bool {
	n, _ := className(line)
	return n > 0 && endsName(line, n)
}
