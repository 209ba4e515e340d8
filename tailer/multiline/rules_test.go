package multiline

import (
	"errors"
	"regexp/syntax"
	"slices"
	"strings"
	"testing"
)

// marks returns the golden markers of acts as a string: ".+||$".
func marks(acts []Action) string {
	b := make([]byte, len(acts))
	for i, a := range acts {
		b[i] = markers[a]
	}
	return string(b)
}

type stepCase struct {
	name  string
	lines []string
	want  string // markers, one per line
}

// runCases steps each case's lines through rule from a zero State.
func runCases(t *testing.T, rule *Rule, cases []stepCase) {
	t.Helper()
	for _, tc := range cases {
		if len(tc.want) != len(tc.lines) {
			t.Fatalf("%s/%s: %d markers for %d lines", rule.Name(), tc.name, len(tc.want), len(tc.lines))
		}
		lines := make([][]byte, len(tc.lines))
		for i, l := range tc.lines {
			lines[i] = []byte(l)
		}
		if got := marks(stepAll(t, rule, lines)); got != tc.want {
			t.Errorf("%s/%s: Step over %q = %s; want %s", rule.Name(), tc.name, tc.lines, got, tc.want)
		}
	}
}

func builtin(t *testing.T, name string) *Rule {
	t.Helper()
	r, ok := Builtin(name)
	if !ok {
		t.Fatalf("Builtin(%q) not found", name)
	}
	return r
}

func TestBuiltins(t *testing.T) {
	want := []string{"dotnet", "go", "java", "nodejs", "python", "ruby"}
	if got := Builtins(); !slices.Equal(got, want) {
		t.Errorf("Builtins() = %q; want %q", got, want)
	}
	for _, name := range want {
		if r, ok := Builtin(name); !ok || r.Name() != name {
			t.Errorf("Builtin(%q) = %v, %v; want a rule named %q", name, r, ok, name)
		}
	}
	for _, name := range []string{"", "Java", "docker", "cri", "node", "csharp"} {
		if r, ok := Builtin(name); ok {
			t.Errorf("Builtin(%q) = %v, true; want false", name, r.Name())
		}
	}
	// Builtins returns a copy.
	Builtins()[0] = "x"
	if Builtins()[0] != "dotnet" {
		t.Error("Builtins() shares its slice")
	}
}

func TestJava(t *testing.T) {
	runCases(t, builtin(t, "java"), []stepCase{
		{"ordinary lines", []string{"INFO a", "INFO b", ""}, "++."},
		{"logger line and trace", []string{
			"2024-05-01 ERROR c.e.App - failed",
			"java.lang.RuntimeException: x",
			"\tat com.example.App.main(App.java:3)",
			"INFO next",
		}, "+||+"},
		{"exception without message", []string{"java.lang.NullPointerException", "\tat A.b(A.java:1)"}, "+|"},
		{"uncaught starts even after a line", []string{
			"INFO x",
			`Exception in thread "main" java.lang.IllegalStateException: boom`,
			"\tat Main.main(Main.java:3)",
		}, "++|"},
		{"caused by, suppressed, more", []string{
			"java.lang.IllegalStateException: a",
			"\tat A.a(A.java:1)",
			"\tSuppressed: java.io.IOException: b",
			"\t\t... 3 more",
			"Caused by: java.lang.IllegalArgumentException: c",
			"\t... 52 common frames omitted",
			"Wrapped by: com.example.Boom: d",
		}, "+||||||"},
		{"blank line after header only", []string{"java.lang.RuntimeException: line1", "", "\tat A.a(A.java:1)", "", "x"}, "+||.+"},
		{"second trace after frames", []string{
			"a.b.FooException: x", "\tat A.a(A.java:1)", "a.b.BarError: y", "\tat A.a(A.java:1)",
		}, "+|+|"},
		{"orphan frames after a cut", []string{"\tat A.a(A.java:1)", "\tat A.b(A.java:2)"}, "+|"},
		{"json is alone", []string{`{"level":"error","stack":"x"}`, "java.lang.RuntimeException: x"}, ".+"},
		{"crlf", []string{"ERROR x\r", "java.lang.RuntimeException: x\r", "\tat A.a(A.java:1)\r", "\r"}, "+||."},
		{"scala and clojure", []string{
			"ERROR x", "scala.MatchError: 1 (of class java.lang.Integer)", "\tat A$.f(A.scala:3)",
			"ERROR y", "clojure.lang.ExceptionInfo: bad {:id 1}", "\tat user$eval.invoke(NO_SOURCE_FILE:1)",
		}, "+||+||"},
		{"not exception lines", []string{"ERROR x", "Error: y", "ERROR: z", "Exception: w", "requestError x", "a.b.NotAnError:x"}, "++++++"},
	})
}

func TestDotnet(t *testing.T) {
	runCases(t, builtin(t, "dotnet"), []stepCase{
		{"unhandled", []string{
			"info: Worker[0]",
			"Unhandled exception. System.Exception: boom",
			"   at Program.<Main>$(String[] args) in /src/Program.cs:line 1",
		}, "++|"},
		{"after a logger line", []string{
			"[12:00:01 ERR] failed",
			"System.InvalidOperationException: x",
			" ---> System.IO.IOException: y",
			"   at A.B() in /src/A.cs:line 2",
			"   --- End of inner exception stack trace ---",
			"--- End of stack trace from previous location ---",
			"   at A.C()",
			"[12:00:02 INF] next",
		}, "+||||||+"},
		{"hresult", []string{"WRN x", "Npgsql.PostgresException (0x80004005): 23505: dup", "   at N.C.R()"}, "+||"},
		{"aggregate blocks", []string{
			"System.AggregateException: x (a) (b)",
			"   at A.A()",
			" ---> (Inner Exception #1) System.Exception: b",
			"   at A.B()<---",
			"",
			" ---> (Inner Exception #2) System.Exception: c<---",
			"",
			"   indented but not a block",
		}, "+||||||+"},
		{"not exceptions", []string{"Exception: x", "System: up", "System.Text.Json ready"}, "+++"},
	})
}

func TestPython(t *testing.T) {
	runCases(t, builtin(t, "python"), []stepCase{
		{"logged", []string{
			"ERROR:root:failed",
			"Traceback (most recent call last):",
			`  File "/app/x.py", line 1, in <module>`,
			"    f()",
			"    ^^^",
			"ValueError: x",
			"INFO:root:next",
		}, "+|||||+"},
		{"bare exception name", []string{pyTraceback, `  File "x.py", line 1, in f`, "KeyboardInterrupt", "x"}, "+||+"},
		{"qualified exception", []string{pyTraceback, `  File "x.py", line 1, in f`, "requests.exceptions.HTTPError: 500", "x"}, "+||+"},
		{"chained", []string{
			pyTraceback, `  File "x.py", line 1, in f`, "KeyError: 'a'", "", pyDuring, "",
			pyTraceback, `  File "x.py", line 2, in g`, "ValueError: b", "", "after",
		}, "+|||||||||+"},
		{"direct cause", []string{pyTraceback, `  File "x.py", line 1, in f`, "KeyError: 'a'", "", pyDirect, "", pyTraceback}, "+||||||"},
		{"new traceback without a chain sentence", []string{pyTraceback, `  File "x.py", line 1`, "E: a", pyTraceback}, "+||+"},
		{"syntax error has no Traceback", []string{"INFO x", `  File "<string>", line 2`, "    def f(:", "          ^", "SyntaxError: invalid syntax", "INFO y"}, "++|||+"},
		{"interleaved line ends it", []string{pyTraceback, `  File "x.py", line 1`, "INFO other thread", "    x"}, "+|+|"},
		{"stack_info", []string{"WARNING:root:here", "Stack (most recent call last):", `  File "x.py", line 1, in <module>`}, "+||"},
		{"indented message lines", []string{"INFO a", "  b", "  c", "d"}, "+||+"},
		{"exception group", []string{
			"ERROR x", "  + Exception Group Traceback (most recent call last):", "  |   File \"x.py\", line 1",
			"  | ExceptionGroup: eg (1 sub-exception)", "  +-+---------------- 1 ----------------", "    | ValueError: 1",
			"    +------------------------------------",
		}, "+||||||"},
		{"blank alone", []string{"", "x", ""}, ".+."},
	})
}

func TestGo(t *testing.T) {
	runCases(t, builtin(t, "go"), []stepCase{
		{"panic", []string{
			"INFO x",
			"panic: boom",
			"",
			"goroutine 1 [running]:",
			"main.main()",
			"\t/app/main.go:4 +0x25",
			"exit status 2",
			"INFO restarted",
		}, "++||||$+"},
		{"fatal error", []string{
			"fatal error: all goroutines are asleep - deadlock!", "", "goroutine 1 [chan receive]:", "main.main()", "\t/tmp/dl.go:5 +0x25",
		}, "+||||"},
		{"fatal error after panic line", []string{"panic: x", "fatal error: panic while printing panic value: important", "", "goroutine 1 [running]:"}, "+|||"},
		{"fatal error after trace starts anew", []string{"panic: x", "", "goroutine 1 [running]:", "fatal error: y"}, "+||+"},
		{"signal dump", []string{
			"SIGQUIT: quit", "PC=0x46b2e1 m=0 sigcode=0", "", "goroutine 0 gp=0x1 m=0 mp=0x2 [idle]:",
			"runtime.futex(0x58a, 0x80, 0x0, 0x0, 0x0, 0x0)", "\t/usr/local/go/src/runtime/sys_linux_amd64.s:557 +0x21 fp=0x1 sp=0x2 pc=0x3",
			"...additional frames elided...", "", "rax    0xca", "rflags 0x286", "cs     0x33", "after",
		}, "+||||||||||+"},
		{"crash signal inside a trace", []string{"panic: x", "", "goroutine 1 [running]:", "SIGABRT: abort", "PC=0x1 m=0 sigcode=0"}, "+||||"},
		{"debug.Stack after a log line", []string{
			"2024/05/01 12:00:00 recovered: boom", "goroutine 1 [running]:", "runtime/debug.Stack()", "\t/go/stack.go:26 +0x5e", "next",
		}, "+|||+"},
		{"zap console stack", []string{
			"2024-05-01T12:00:00.000Z\tERROR\tapp/main.go:12\tfailed\t{\"err\": \"x\"}",
			"main.main", "\t/app/main.go:12", "runtime.main", "\t/usr/local/go/src/runtime/proc.go:283", "next line",
		}, "+||||+"},
		{"created by orphan", []string{"created by main.main in goroutine 1", "\t/app/main.go:9 +0x1"}, "+|"},
		{"ordinary dotted words", []string{"INFO a", "Done.", "v1.2.3", "INFO b", "Restarting(now) soon"}, "+++++"},
		{"panic word mid-line is ordinary", []string{"INFO panic: not really", "", "x"}, "+.+"},
		{"not registers", []string{"panic: x", "", "goroutine 1 [running]:", "rax 0xzz", "main.f()"}, "+||+|"},
		{"json alone", []string{`{"level":"info"}`, `{"level":"info"}`}, ".."},
	})
}

func TestNode(t *testing.T) {
	runCases(t, builtin(t, "nodejs"), []stepCase{
		{"console.error", []string{
			"request failed: Error: boom", "    at f (/app/x.js:1:7)", "    at node:internal/main/run_main_module:28:49 {",
			"  code: 'E_X'", "}", "INFO next",
		}, "+||||+"},
		{"uncaught", []string{
			"INFO x", "/app/index.js:3", "  null.x;", "       ^", "", "TypeError: Cannot read properties of null (reading 'x')",
			"    at Object.<anonymous> (/app/index.js:3:8)", "", "Node.js v20.20.2", "INFO restarted",
		}, "++||||||$+"},
		{"thrown object", []string{"[eval]:1", "throw {code: 42}", "^", "", "{ code: 42 }", "", "Node.js v20.20.2"}, "+|||||$"},
		{"windows and file urls", []string{`C:\app\x.js:2`, "x", "file:///app/x.mjs:3", "y"}, "+|+|"},
		{"not a source line", []string{"localhost:8080", "/healthz 200 in 3ms", "/a b:3"}, "+++"},
		{"end without a trace", []string{"Node.js v20.1.0", "Node.js vx"}, ".+"},
		{"warning hint", []string{"(node:1) Warning: x", "(Use `node --trace-warnings ...` to show where the warning was created)"}, "+|"},
		{"pretty object", []string{"{", "  a: 1,", "  b: [", "  ]", "}", "next"}, "+||||+"},
		{"error lines start groups", []string{"Error: a", "    at f (x.js:1:1)", "Error: b", "    at g (x.js:2:2)"}, "+|+|"},
	})
}

func TestRuby(t *testing.T) {
	runCases(t, builtin(t, "ruby"), []stepCase{
		{"uncaught 3.4", []string{"INFO x", "app.rb:3:in 'Object#foo': boom (RuntimeError)", "\tfrom app.rb:7:in '<main>'", "INFO y"}, "++|+"},
		{"uncaught backtick", []string{"app.rb:3:in `foo': boom (RuntimeError)", "\tfrom app.rb:7:in `<main>'"}, "+|"},
		{"cause", []string{
			"a.rb:4:in 'rescue in Object#load': x (RuntimeError)", "\tfrom a.rb:1:in 'Object#load'",
			"a.rb:2:in 'Hash#fetch': key not found: :id (KeyError)", "\tfrom a.rb:9:in '<main>'",
		}, "+|||"},
		{"logger bare frames", []string{"E, [2024] ERROR -- : boom (RuntimeError)", "/app/a.rb:1:in 'A#b'", "/app/c.rb:2:in 'C#d'", "I, [2024] INFO -- : next"}, "+||+"},
		{"highlight", []string{"a.rb:1:in '<main>': undefined method 'time' for an instance of Integer (NoMethodError)", "", "1.time {}", " ^^^^^", "Did you mean?  times"}, "+|+|+"},
		{"windows path", []string{`C:/app/a.rb:1:in 'x': y (E)`, "\tfrom C:/app/a.rb:2:in '<main>'"}, "+|"},
		{"not frames", []string{"a.rb:1: warning: x", "x:1:in y", "app.rb:in 'x'"}, "+++"},
		{"blank after frames is alone", []string{"a.rb:1:in 'x': y (E)", "\tfrom a.rb:2:in '<main>'", ""}, "+|."},
	})
}

func TestNew(t *testing.T) {
	r, err := New("ts", `^\d{4}-\d\d-\d\d `, `^\s`)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name() != "ts" {
		t.Errorf("Name() = %q; want ts", r.Name())
	}
	runCases(t, r, []stepCase{
		{"start and continue", []string{"2024-05-01 a", "  b", "  c", "2024-05-01 d", "e", "  f"}, "+||+.."},
		{"nothing starts", []string{"a", "  b"}, ".."},
	})

	// Continuation wins over start while a group is active, as in Fluent Bit.
	both, err := New("both", `Exception`, `^(\s+at |Caused by: )`)
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, both, []stepCase{
		{"caused by matches both", []string{"x.FooException: a", "\tat A.a()", "Caused by: x.BarException: b", "\tat A.b()", "x.BazException: c"}, "+|||+"},
	})
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name, start, cont string
		want              string
		is                error
	}{
		{"x", "", `^\s`, `multiline rule "x": start: empty pattern`, ErrEmptyPattern},
		{"x", `^a`, "", `multiline rule "x": continuation: empty pattern`, ErrEmptyPattern},
		{"", `^a`, `^b`, `multiline rule: empty name`, ErrEmptyName},
		{"bad", `(`, `^b`, "multiline rule \"bad\": start: error parsing regexp: missing closing ): `(`", nil},
		{"bad", `^a`, `(?<x`, "multiline rule \"bad\": continuation: error parsing regexp: invalid named capture: `(?<x`", nil},
		{"look", `^a`, `^(?!\d)`, "multiline rule \"look\": continuation: error parsing regexp: invalid or unsupported Perl syntax: `(?!`", nil},
	}
	for _, tt := range tests {
		r, err := New(tt.name, tt.start, tt.cont)
		if err == nil {
			t.Errorf("New(%q, %q, %q) = %v, nil; want error %q", tt.name, tt.start, tt.cont, r.Name(), tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("New(%q, %q, %q) error = %q; want %q", tt.name, tt.start, tt.cont, err, tt.want)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("New(%q, %q, %q) error = %v; want errors.Is %v", tt.name, tt.start, tt.cont, err, tt.is)
		}
		var syn *syntax.Error
		if tt.is == nil && !errors.As(err, &syn) {
			t.Errorf("New(%q, %q, %q) error = %v; want a *syntax.Error inside", tt.name, tt.start, tt.cont, err)
		}
	}
}

func TestActionString(t *testing.T) {
	got := []string{Single.String(), Start.String(), Continue.String(), Last.String(), Action(9).String()}
	if want := "Single Start Continue Last Action(9)"; strings.Join(got, " ") != want {
		t.Errorf("Action strings = %q; want %q", got, want)
	}
}

// TestStepDoesNotAllocate steps every rule over all the testdata.
func TestStepDoesNotAllocate(t *testing.T) {
	lines := allTestdataLines(t)
	rules := allRules(t)
	for _, r := range rules {
		if raceEnabled && r.Name() == "user" {
			continue // regexp's sync.Pool allocates under the race detector
		}
		var st State
		allocs := testing.AllocsPerRun(10, func() {
			for _, l := range lines {
				r.Step(&st, l)
			}
		})
		if allocs != 0 {
			t.Errorf("%s: Step allocates %.1f times over the testdata; want 0", r.Name(), allocs)
		}
	}
}

// TestStateZero checks the zero State and State's size.
func TestStateZero(t *testing.T) {
	var st State
	if st.Active() {
		t.Error("zero State is active")
	}
	r := builtin(t, "java")
	if a := r.Step(&st, []byte("INFO x")); a != Start || !st.Active() {
		t.Errorf("Step(zero, ordinary) = %v, active %v; want Start, true", a, st.Active())
	}
	st = State{}
	if a := r.Step(&st, []byte("\tat A.a(A.java:1)")); a != Start {
		t.Errorf("Step(reset, frame) = %v; want Start", a)
	}
}
