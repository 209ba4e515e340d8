// Package multiline decides, line by line, which container log lines belong
// together: a stack trace printed over many lines becomes one record.
//
// The tailer hands each logical line of a stream (one container, stdout or
// stderr; partial CRI chunks already joined, newline removed) to
// Rule.Step with that stream's State, and Step answers with an Action:
// Single (a record alone), Start (the first line of a group), Continue (a
// line of the group) or Last (the group's final line: ship it now). The
// tailer keeps the bytes, offsets, the quiet-period timer and the size cap;
// this package does no I/O, reads no clock and starts no goroutines.
//
// # Guarantees
//
//   - Step never returns Continue or Last unless State.Active() was true on
//     entry, and leaves the State active exactly when it returns Start or
//     Continue. This holds for every rule by construction and is fuzzed.
//   - Step does not allocate and does not keep the line. Built-in rules
//     use byte comparisons, not regular expressions, in time linear in the
//     line's length (about 10-20 ns for an ordinary 120-byte line).
//   - A *Rule is immutable and safe for concurrent use. A State is one byte,
//     copyable, and its zero value means no group is being joined.
//   - Whoever ships a group without Step's say (quiet period, size cap, end
//     of file, restart) resets the State to the zero value. A rule then sees
//     the rest of the group with a zero State, and the continuation lines of
//     a trace (frames, indented lines) start a group of their own, so the
//     rest of a trace cut by the size cap is still one record, not one
//     record a line.
//
// # Built-in rules
//
// Builtin returns the rules "java" (also Scala, Kotlin, Clojure: JVM traces
// look the same), "python", "go", "nodejs", "ruby" and "dotnet"; Fluent
// Bit's "java", "python", "go" and "ruby" have the same names. Each is
// tested against traces the runtime itself printed (testdata/gen holds the
// programs); Ruby and .NET samples are written by hand from the documented
// formats.
//
// Every built-in rule starts a group at an ordinary line, because loggers
// write their message on the line before a trace
// ("ERROR [main] c.e.App - request failed", then the exception), and the
// message and the trace are best shipped as one record. The trace's first
// line joins that ordinary line when a logger prints it ("java.lang.Foo:
// msg", "Traceback (most recent call last):", "goroutine 7 [running]:", a
// bare Ruby frame, "System.Foo: msg"), and starts a group when only the
// runtime prints it before dying ("Exception in thread ...", "panic: ",
// "fatal error: ", "SIGQUIT: quit", Node's "/app/index.js:3", Ruby's
// "app.rb:3:in 'foo': boom (RuntimeError)", "Unhandled exception. ...").
// Indented lines continue any group in every built-in rule: frames, and also
// the indented lines of pretty-printed objects, thread dumps and multi-line
// messages. A blank line is a record alone, except where a trace's format
// has blank lines: Go dumps, Python's chained exceptions, Node's uncaught
// layout, .NET's AggregateException blocks, right after a Java exception
// line or a Ruby error line. A line that is a whole JSON object ("{...}") is
// a record alone: a structured logger puts its trace in a field.
//
// The cost of starting groups at ordinary lines is latency, not loss: the
// last line of a burst waits for the tailer's quiet period (about a second)
// or the next line before it is shipped.
//
// Per rule, what ends a group early (Last): Go's "exit status N" (printed by
// go run) and Node's "Node.js vN.N.N". Python's exception line is Continue,
// not Last, so that "During handling of the above exception, another
// exception occurred:" and "The above exception was the direct cause of the
// following exception:" keep a chain of tracebacks in one record.
//
// User rules (New) take two RE2 patterns, start and continuation, with
// Fluent Bit's meaning; they do not treat ordinary lines specially.
//
// # Caveats and known limitations
//
//   - A trace's first line is recognised by its form, not its content: a
//     trace whose header the rule does not know still joins the line before
//     it when its frames are indented; when they are not (Rails's tagged
//     logger prefixes every line), it is shipped line by line.
//   - Python tracebacks follow any ordinary line, so an uncaught exception
//     printed within the quiet period after an unrelated line on the same
//     stream (Python logs to stderr by default) is joined to that line. The
//     Java header line and the Go goroutine header join the same way, but
//     their runtimes' own crash reports start with lines that never join.
//   - An exception message that spans lines ends the group at its second
//     line when that line is not indented; the rest of the trace (frames)
//     is then a second record. Same for Node's AssertionError diffs, Python
//     exception notes and Ruby's error_highlight snippet of top-level code.
//   - Lines written by several threads at once interleave on one stream;
//     an interleaved ordinary line ends the group.
//   - Some ordinary lines look like trace lines and join the line before
//     them: a bare dotted word ("config.yaml") after a line, for the go rule
//     (zap's stack frames look so); a line starting with an exception class
//     name after a line, for java and dotnet.
//   - A JVM thread dump is one record per thread, not one record.
package multiline
