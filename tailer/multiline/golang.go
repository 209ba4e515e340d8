package multiline

// stepGo joins the Go runtime's panics, fatal errors and goroutine dumps:
//
//	panic: runtime error: invalid memory address or nil pointer dereference
//	[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a09fa]
//
//	goroutine 1 [running]:
//	main.(*server).handle(...)
//		/app/main.go:18
//	main.main()
//		/app/main.go:41 +0x23a
//
// "panic: ", "fatal error: ", "runtime: ", "unexpected fault address" and
// "SIGQUIT: quit" (any "SIGxxx: " line) start a group: the runtime writes
// them, never a logger, so they do not join the line before. Inside a trace,
// blank lines, indented lines, "goroutine N [...]:" headers, function lines,
// "created by", "[signal ...]", "PC=0x...", register dumps ("rax    0x0"),
// "runtime stack:" and "...additional frames elided..." continue it, as do
// "fatal error: " and "runtime: " lines right after a panic line; "exit
// status N" (printed by go run) ends it. A "goroutine N [...]:" line joins an
// ordinary line before it (debug.Stack after a log message, net/http's "http:
// panic serving ..."), and so do function lines and indented lines (zap's
// console stack traces), which otherwise start a group.
func stepGo(s uint8, line []byte) (verdict, uint8) {
	line = trimCR(line)
	inTrace := s == sGoPanic || s == sGoTrace
	if isBlank(line) {
		if inTrace {
			return vJoin, sGoTrace
		}
		return vAlone, sIdle
	}
	if isSpace(line[0]) {
		if inTrace {
			return vJoin, s
		}
		return vJoin, sGoTrace
	}
	switch line[0] {
	case 'p':
		if hasPrefix(line, "panic: ") {
			return vNew, sGoPanic
		}
	case 'f':
		if hasPrefix(line, "fatal error: ") {
			if s == sGoPanic {
				return vJoin, sGoPanic
			}
			return vNew, sGoPanic
		}
	case 'r':
		if hasPrefix(line, "runtime: ") {
			if inTrace {
				return vJoin, s
			}
			return vNew, sGoPanic
		}
		if inTrace && hasPrefix(line, "runtime stack:") {
			return vJoin, sGoTrace
		}
	case 'u':
		if hasPrefix(line, "unexpected fault address ") {
			return vNew, sGoPanic
		}
	case 'S':
		if goSignal(line) {
			if inTrace {
				return vJoin, sGoTrace
			}
			return vNew, sGoPanic
		}
	case 'g':
		if goGoroutine(line) {
			return vJoin, sGoTrace
		}
	case 'c':
		if hasPrefix(line, "created by ") {
			return vJoin, sGoTrace
		}
	case 'P':
		if inTrace && hasPrefix(line, "PC=0x") {
			return vJoin, sGoTrace
		}
	case '[', '.':
		// "[signal SIGSEGV: ...]", "[originating from goroutine 1]:",
		// "...additional frames elided...".
		if inTrace {
			return vJoin, s
		}
	case 'e':
		if inTrace && hasPrefix(line, "exit status ") {
			return vEnd, sIdle
		}
	case '{':
		if isJSONObject(line) {
			return vAlone, sIdle
		}
	}
	if inTrace && (goFunc(line, false) || goRegister(line)) {
		return vJoin, sGoTrace
	}
	if s == sLine && goFunc(line, true) {
		return vJoin, sGoTrace
	}
	return vNew, sLine
}

// goSignal reports whether line is "SIGQUIT: quit" or another "SIGxxx: "
// line, which starts a signal's goroutine dump.
func goSignal(line []byte) bool {
	if !hasPrefix(line, "SIG") {
		return false
	}
	i := 3
	for i < len(line) && 'A' <= line[i] && line[i] <= 'Z' {
		i++
	}
	return i > 3 && hasPrefix(line[i:], ": ")
}

// goGoroutine reports whether line is a goroutine header: "goroutine 1
// [running]:", "goroutine 7 gp=0x... m=nil [chan receive, 2 minutes]:".
func goGoroutine(line []byte) bool {
	const p = "goroutine "
	return hasPrefix(line, p) && len(line) > len(p) && isDigit(line[len(p)]) && line[len(line)-1] == ':'
}

// goFunc reports whether line is a function line of a stack: "main.main()",
// "main.(*server).handle(...)", "panic({0x4ab5e0?, 0x4d1528?})", or, without
// arguments, zap's "main.main" and "go.uber.org/zap.(*Logger).Error". Strict
// asks for a dot in the name, and for a letter after the last dot when there
// are no arguments, so that ordinary one-word lines ("Done.", "v1.2.3") do
// not pass.
func goFunc(line []byte, strict bool) bool {
	dot := -1
	for i, c := range line {
		switch c {
		case ' ', '\t':
			return false
		case '.':
			dot = i
		case '(':
			if i == 0 || strict && dot < 0 {
				return false
			}
			return line[len(line)-1] == ')'
		}
	}
	if dot < 0 || dot == len(line)-1 {
		return false
	}
	return !strict || isLetter(line[dot+1])
}

// goRegister reports whether line is a register of a signal's dump: a short
// lowercase name, spaces, a hexadecimal value ("rax    0x0", "rflags 0x212",
// "r8     0x1").
func goRegister(line []byte) bool {
	i := 0
	for i < len(line) && i <= 8 && ('a' <= line[i] && line[i] <= 'z' || isDigit(line[i])) {
		i++
	}
	if i == 0 || i >= len(line) || line[i] != ' ' {
		return false
	}
	for i < len(line) && line[i] == ' ' {
		i++
	}
	if !hasPrefix(line[i:], "0x") || i+2 == len(line) {
		return false
	}
	for _, c := range line[i+2:] {
		if !isDigit(c) && !('a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
