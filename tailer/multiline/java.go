package multiline

// stepJava joins JVM stack traces (Java, Scala, Kotlin, Clojure) as
// Throwable.printStackTrace and the logging libraries print them:
//
//	2024-05-01 12:00:00.001 ERROR [main] c.e.OrderService - order x42 failed
//	java.lang.IllegalStateException: request failed
//		at Trace.handle(Trace.java:32)
//		Suppressed: java.io.IOException: close failed
//			... 8 more
//	Caused by: java.lang.IllegalArgumentException: bad order id x42
//		at Trace.load(Trace.java:24)
//		... 8 more
//
// An ordinary line starts a group, since loggers write their message on the
// line before the exception; an exception line ("java.lang.Foo: msg") joins
// that line, or the exception line before it, and starts a group otherwise.
// "Exception in thread "main" ..." comes from the JVM's default handler, not
// a logger, and always starts a group. Indented lines (frames, "... 8 more",
// "Suppressed:", thread dump entries) and "Caused by:" continue any group; a
// blank line continues only right after an exception line (a message ending
// with a newline).
func stepJava(s uint8, line []byte) (verdict, uint8) {
	line = trimCR(line)
	if isBlank(line) {
		if s == sJavaHead {
			return vJoin, sJavaHead
		}
		return vAlone, sIdle
	}
	if isSpace(line[0]) {
		t := trimLeft(line)
		if hasPrefix(t, "Caused by: ") || hasPrefix(t, "Suppressed: ") || hasPrefix(t, "nested exception is:") {
			return vJoin, sJavaHead
		}
		return vJoin, sJavaBody
	}
	switch line[0] {
	case 'C':
		if hasPrefix(line, "Caused by: ") {
			return vJoin, sJavaHead
		}
	case 'W':
		// Log4j 2's root-cause-first layout (%rEx).
		if hasPrefix(line, "Wrapped by: ") {
			return vJoin, sJavaHead
		}
	case 'E':
		if hasPrefix(line, `Exception in thread "`) {
			return vNew, sJavaHead
		}
	case '{':
		if isJSONObject(line) {
			return vAlone, sIdle
		}
	}
	if javaException(line) {
		if s == sLine || s == sJavaHead {
			return vJoin, sJavaHead
		}
		return vNew, sJavaHead
	}
	return vNew, sLine
}

// javaException reports whether line is a Throwable's toString: a class name
// whose last component contains Exception, Error or Throwable (qualified, or
// with something before the suffix: "MyException", not "Error"), then ": msg"
// or nothing.
func javaException(line []byte) bool {
	n, last := className(line)
	if n == 0 || !endsName(line, n) {
		return false
	}
	simple := line[last:n]
	if last == 0 && (string(simple) == "Error" || string(simple) == "Exception") {
		return false
	}
	return contains(simple, "Exception") || contains(simple, "Error") || contains(simple, "Throwable")
}

// stepDotnet joins .NET exceptions as Exception.ToString prints them, alone
// ("Unhandled exception. System.X: msg" from the runtime) or after a
// logger's line:
//
//	[12:00:00 ERR] order 42 failed
//	System.InvalidOperationException: Order 42 could not be saved
//	 ---> System.IO.IOException: Disk full
//	   at Orders.Store.Write(Order order) in /src/Orders/Store.cs:line 27
//	   --- End of inner exception stack trace ---
//	   at Program.<Main>$(String[] args) in /src/Program.cs:line 5
//	--- End of stack trace from previous location ---
//
// The choices are Java's: an ordinary line starts a group, an exception line
// joins the line before it, indented lines continue any group (including the
// indented blocks of Microsoft.Extensions.Logging's console output), and
// "Unhandled exception." always starts a group. AggregateException separates
// its " ---> (Inner Exception #N) ...<---" blocks with blank lines: a blank
// line after frames continues the group, and keeps it going only if such a
// block follows.
func stepDotnet(s uint8, line []byte) (verdict, uint8) {
	line = trimCR(line)
	if isBlank(line) {
		if s == sNetBody {
			return vJoin, sNetBlank
		}
		return vAlone, sIdle
	}
	if isSpace(line[0]) {
		if s == sNetBlank && !hasPrefix(line, " ---> (Inner Exception #") {
			return vNew, sNetBody
		}
		return vJoin, sNetBody
	}
	switch line[0] {
	case '-':
		if hasPrefix(line, "--- End of stack trace from previous location") {
			return vJoin, sNetBody
		}
	case 'U':
		if hasPrefix(line, "Unhandled exception. ") {
			return vNew, sNetHead
		}
	case '{':
		if isJSONObject(line) {
			return vAlone, sIdle
		}
	}
	if dotnetException(line) {
		if s == sLine || s == sNetHead {
			return vJoin, sNetHead
		}
		return vNew, sNetHead
	}
	return vNew, sLine
}

// dotnetException reports whether line starts with a namespaced exception
// type ("System.IO.IOException") followed by ": msg", " (0x80004005): msg"
// or nothing.
func dotnetException(line []byte) bool {
	n, last := className(line)
	if n == 0 || last == 0 || !contains(line[last:n], "Exception") {
		return false
	}
	return endsName(line, n) || hasPrefix(line[n:], " (0x")
}
