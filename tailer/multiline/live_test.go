package multiline

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The live tests run the generators in testdata/gen with the runtimes on
// this machine and check how their output groups, whatever the runtime's
// version prints. The generators follow one convention: their ordinary lines
// start with "INFO ", everything else belongs to a trace (a logger's message
// line included). So: every non-INFO line must be in a multi-line record,
// an INFO line may only be alone or the first line of a record (the
// documented joining of a line to a trace that follows it), and the number
// of multi-line records must be the number of traces the mode prints.

type liveCase struct {
	mode   string
	traces int
}

// checkLive groups out with the named rule and checks it as described above.
func checkLive(t *testing.T, rule string, out []byte, traces int) {
	t.Helper()
	if !bytes.Contains(out, []byte("INFO starting mode=")) {
		t.Fatalf("the generator did not run; it wrote:\n%s", out)
	}
	r, _ := Builtin(rule)
	lines := splitLines(out)
	acts := stepAll(t, r, lines)
	multi := 0
	for _, rec := range records(lines, acts) {
		if len(rec) > 1 {
			multi++
		}
		for i, l := range rec {
			info := strings.HasPrefix(l, "INFO ")
			switch {
			case info && i > 0:
				t.Errorf("ordinary line %q joined a record as line %d", l, i+1)
			case !info && len(rec) == 1:
				t.Errorf("trace line %q is a record alone", l)
			}
		}
	}
	if multi != traces {
		t.Errorf("%d multi-line records; want %d", multi, traces)
	}
	if t.Failed() {
		t.Logf("grouping:\n%s", render(lines, acts))
	}
}

// run runs name with args in testdata/gen and returns what it wrote to
// stderr. A crashing program is what the generators are for: its exit
// status is not an error.
func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = filepath.Join("testdata", "gen")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), ctx.Err())
	}
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return stderr.Bytes()
}

// lookPath skips the test when the runtime is not installed.
func lookPath(t *testing.T, name string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the generators in testdata/gen; skipped in -short mode")
	}
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed here; testdata checked by TestGolden only", name)
	}
	return p
}

func TestLiveGo(t *testing.T) {
	goBin := lookPath(t, "go")
	// Built and run directly, as in a container: go run would add its own
	// "exit status 2" line.
	bin := filepath.Join(t.TempDir(), "panic")
	build := exec.CommandContext(t.Context(), goBin, "build", "-o", bin, "panic.go")
	build.Dir = filepath.Join("testdata", "gen")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build panic.go: %v\n%s", err, out)
	}
	for _, tc := range []liveCase{
		{"panic", 1}, {"nilmap", 1}, {"repanic", 1}, {"joined", 1}, {"overflow", 1},
		{"sigquit", 1}, {"httppanic", 1}, {"debugstack", 1},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			checkLive(t, "go", run(t, bin, tc.mode), tc.traces)
		})
	}
}

func TestLiveJava(t *testing.T) {
	java := lookPath(t, "java")
	for _, tc := range []liveCase{{"logged", 2}, {"uncaught", 1}} {
		t.Run(tc.mode, func(t *testing.T) {
			checkLive(t, "java", run(t, java, "Trace.java", tc.mode), tc.traces)
		})
	}
}

func TestLivePython(t *testing.T) {
	python := lookPath(t, "python3")
	for _, tc := range []liveCase{{"logged", 2}, {"uncaught", 1}, {"group", 1}, {"syntax", 1}} {
		t.Run(tc.mode, func(t *testing.T) {
			checkLive(t, "python", run(t, python, "trace.py", tc.mode), tc.traces)
		})
	}
}

func TestLiveNode(t *testing.T) {
	node := lookPath(t, "node")
	for _, tc := range []liveCase{{"logged", 2}, {"uncaught", 1}, {"rejection", 1}, {"rejectstring", 1}, {"warning", 1}} {
		t.Run(tc.mode, func(t *testing.T) {
			checkLive(t, "nodejs", run(t, node, "trace.js", tc.mode), tc.traces)
		})
	}
}
