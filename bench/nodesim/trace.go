package nodesim

import "time"

// traceLogger follows the marker on a trace's first line: what a logger
// prints before the exception.
const traceLogger = " ERROR [http-nio-8080-exec-7] com.example.orders.OrderService - order x42 failed"

// javaTrace is the rest of a trace, as the JDK printed it after a logger
// line (tailer/multiline/testdata/java/logged.log): the exception, frames,
// a suppressed exception and two causes.
var javaTrace = []string{
	"java.lang.IllegalStateException: request failed",
	"\tat Trace.handle(Trace.java:34)",
	"\tat Trace.main(Trace.java:54)",
	"\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)",
	"\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke(NativeMethodAccessorImpl.java:77)",
	"\tat java.base/jdk.internal.reflect.DelegatingMethodAccessorImpl.invoke(DelegatingMethodAccessorImpl.java:43)",
	"\tat java.base/java.lang.reflect.Method.invoke(Method.java:569)",
	"\tat jdk.compiler/com.sun.tools.javac.launcher.Main.execute(Main.java:419)",
	"\tat jdk.compiler/com.sun.tools.javac.launcher.Main.run(Main.java:192)",
	"\tat jdk.compiler/com.sun.tools.javac.launcher.Main.main(Main.java:132)",
	"\tSuppressed: java.io.IOException: close failed",
	"\t\tat Trace.handle(Trace.java:35)",
	"\t\t... 8 more",
	"Caused by: java.lang.IllegalArgumentException: bad order id x42",
	"\tat Trace.load(Trace.java:26)",
	"\tat Trace.handle(Trace.java:32)",
	"\t... 8 more",
	"Caused by: java.lang.NumberFormatException: For input string: \"x42\"",
	"\tat java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)",
	"\tat java.base/java.lang.Integer.parseInt(Integer.java:668)",
	"\tat java.base/java.lang.Integer.parseInt(Integer.java:786)",
	"\tat Trace.parse(Trace.java:19)",
	"\tat Trace.load(Trace.java:24)",
	"\t... 9 more",
}

// javaFrames are the frames of javaTrace's first exception.
var javaFrames = javaTrace[1:10]

// traceBody returns the n lines of a trace after its logger line: the
// exception line, then the end of javaTrace, or all of it with more frames
// of the first exception when n is larger.
func traceBody(n int) []string {
	if n <= len(javaTrace) {
		return append([]string{javaTrace[0]}, javaTrace[len(javaTrace)-(n-1):]...)
	}
	out := append([]string{}, javaTrace[:len(javaFrames)+1]...)
	for i := 0; len(out) < n-(len(javaTrace)-len(javaFrames)-1); i++ {
		out = append(out, javaFrames[i%len(javaFrames)])
	}
	return append(out, javaTrace[len(javaFrames)+1:]...)
}

// traceBytes is the length of a trace's message without its marker: the
// logger text, and the body lines each after a newline.
func traceBytes(body []string) int {
	n := len(traceLogger)
	for _, l := range body {
		n += 1 + len(l)
	}
	return n
}

// appendTrace appends trace seq of st, one CRI line per line of the trace,
// the marker on the first only, and returns the length of the trace's
// message (its lines joined with "\n", as an agent ships it).
func (s *Sim) appendTrace(st *stream, b []byte, seq int64, now time.Time, stamp []byte) ([]byte, int) {
	m := Marker{Stream: st.idx, Seq: seq, Written: now, Len: s.traceBytes}
	st.mk = AppendMarker(st.mk[:0], m)
	for range 2 { // the marker holds the length, which counts the marker
		if want := s.traceBytes + len(st.mk); m.Len != want {
			m.Len = want
			st.mk = AppendMarker(st.mk[:0], m)
		}
	}
	b = append(b, stamp...)
	b = append(b, " stdout F "...)
	b = append(b, st.mk...)
	b = append(b, traceLogger...)
	b = append(b, '\n')
	for _, l := range s.traceBody {
		b = append(b, stamp...)
		b = append(b, " stdout F "...)
		b = append(b, l...)
		b = append(b, '\n')
	}
	return b, m.Len
}
