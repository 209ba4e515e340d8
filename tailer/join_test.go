package tailer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/tailer/multiline"
)

// indentRule joins lines that start with a blank to the line before them:
// the shape of a JVM stack trace.
func indentRule(t testing.TB) *multiline.Rule {
	t.Helper()
	r, err := multiline.New("indent", `^\S`, `^\s`)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// joinAll assembles data under rule, safe offsets after each physical
// line included, and ends with a flush only when flush is set.
func joinAll(t *testing.T, data string, rule *multiline.Rule, maxLine int, flush bool) (recs []string, safe []int64) {
	a := newAssembler(&FileMeta{Path: "test"}, maxLine, false)
	a.startRound(time.Unix(1, 0))
	a.setRule(rule)
	var off int64
	b := []byte(data)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		a.line(b[:i], off, off+int64(i)+1)
		off += int64(i) + 1
		b = b[i+1:]
		safe = append(safe, a.safeOffset(off))
	}
	if flush {
		a.flush(off)
	}
	for _, r := range a.recs {
		recs = append(recs, recString(r))
	}
	return recs, safe
}

func TestJoinStreamsApart(t *testing.T) {
	const ts = "2026-11-26T14:02:03Z"
	lines := []string{
		ts + " stdout F INFO starting",
		ts + " stdout F java.lang.IllegalStateException: boom",
		ts + " stderr F WARN interleaved",
		ts + " stdout F \tat com.example.App.run(App.java:12)",
		ts + " stdout P \tat com.example.Main.ma", // a CRI partial inside the trace
		ts + " stdout F in(Main.java:5)",
		ts + " stderr F WARN second",
		ts + " stdout F INFO next",
	}
	var end []int64 // offset past each line
	var off int64
	for _, l := range lines {
		off += int64(len(l)) + 1
		end = append(end, off)
	}
	recs, safe := joinAll(t, strings.Join(lines, "\n")+"\n", indentRule(t), 1<<20, false)
	want := []string{
		fmt.Sprintf(`%s stdout 0 "INFO starting" @%d`, ts, end[0]),
		fmt.Sprintf(`%s stderr 0 "WARN interleaved" @%d`, ts, end[2]),
		fmt.Sprintf(`%s stdout 0 "java.lang.IllegalStateException: boom\n\tat com.example.App.run(App.java:12)\n\tat com.example.Main.main(Main.java:5)" @%d`, ts, end[5]),
	}
	if strings.Join(recs, "\n") != strings.Join(want, "\n") {
		t.Errorf("joined to\n%s\nwant\n%s", strings.Join(recs, "\n"), strings.Join(want, "\n"))
	}
	// While a group is open, the safe offset stays at its first line;
	// "WARN second" and "INFO next" are still open at the end.
	for i := 1; i <= 5; i++ {
		if safe[i] != end[0] {
			t.Errorf("safe offset after line %d is %d; want %d while the stdout trace is open", i, safe[i], end[0])
		}
	}
	if last := safe[len(safe)-1]; last != end[5] {
		t.Errorf("final safe offset %d; want %d, the start of the groups still open", last, end[5])
	}
}

func TestJoinSplitsAtTheLineLimit(t *testing.T) {
	const ts = "2026-11-26T14:02:03Z"
	var in strings.Builder
	in.WriteString(ts + " stdout F Exception\n")
	for range 5 {
		in.WriteString(ts + " stdout F \tat frame\n")
	}
	recs, _ := joinAll(t, in.String(), indentRule(t), 32, true)
	var joined strings.Builder
	for _, r := range recs {
		if !strings.Contains(r, " stdout 2 ") && !strings.Contains(r, " stdout 0 ") {
			t.Errorf("record %s: want a split piece (flag 2)", r)
		}
		joined.WriteString(r[strings.Index(r, `"`)+1 : strings.LastIndex(r, `"`)])
	}
	want := `Exception\n\tat frame\n\tat frame\n\tat frame\n\tat frame\n\tat frame`
	if joined.String() != want {
		t.Errorf("pieces join to %q; want %q", joined.String(), want)
	}
	if len(recs) < 2 {
		t.Errorf("got %d records; want the group split at 32 bytes", len(recs))
	}
}

// multilineConfig is a tailer configuration joining indented lines, with a
// short quiet period.
func multilineConfig(t *testing.T, include, state string) Config {
	rule := indentRule(t)
	return Config{
		Include: []string{include}, StateDir: state, RescanInterval: 1 << 40,
		Multiline:      func(*FileMeta) (*multiline.Rule, bool) { return rule, true },
		MultilineQuiet: 50 * time.Millisecond,
	}
}

const trace = "java.lang.IllegalStateException: boom\n\tat a.b(C.java:1)\n\tat d.e(F.java:2)\n\tat g.h(I.java:3)"

func TestMultilineQuietShipsTheGroup(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	c := newCollector()
	tl, _ := startTailer(t, multilineConfig(t, filepath.Join(dir, "*.log"), ""), c)
	appendFile(t, path, criLines([]string{"INFO before"})+criLines(strings.Split(trace, "\n")))
	c.waitFor(t, "the trace, once quiet", func() bool { return len(c.all()[path]) == 2 })
	if got := c.all()[path]; got[0] != "INFO before" || got[1] != trace {
		t.Errorf("got %q; want the line and the trace as one record", got)
	}
	if got := testCounter(tl.m.groups); got != 1 {
		t.Errorf("skiff_input_multiline_records_total = %v; want 1", got)
	}
}

// TestMultilineAcrossRotation rotates the file as the kubelet does in the
// middle of a trace: the trace arrives as one record, and the rotated file
// stays open until that record is acknowledged.
func TestMultilineAcrossRotation(t *testing.T) {
	root := t.TempDir()
	logDir, linkDir := podLayout(t, root, "shop", "api", "app")
	live := filepath.Join(logDir, "0.log")
	c := newCollector()
	c.holdAcks = true
	cfg := multilineConfig(t, filepath.Join(linkDir, "*.log"), t.TempDir())
	cfg.MultilineQuiet = DefaultMultilineQuiet // the rotation comes well within it
	tl, _ := startTailer(t, cfg, c)
	lines := strings.Split(trace, "\n")
	appendFile(t, live, criLines(append([]string{"INFO before"}, lines[:2]...)))
	c.waitFor(t, "the line before the trace", func() bool { return c.count() == 1 })
	rotated := live + ".20261126-140203"
	if err := os.Rename(live, rotated); err != nil {
		t.Fatal(err)
	}
	appendFile(t, live, criLines(append(lines[2:], "INFO after")))
	c.waitFor(t, "the trace and the line after it", func() bool { return c.count() == 3 })
	var got []string
	for _, r := range c.recs {
		got = append(got, string(r.Message))
	}
	if want := []string{"INFO before", trace, "INFO after"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q; want %q", got, want)
	}
	if got := testCounter(tl.m.carried); got != 1 {
		t.Errorf("skiff_input_multiline_rotated_total = %v; want 1", got)
	}
	// Nothing acknowledged yet: the rotated file holds the trace's first
	// lines and stays open.
	time.Sleep(3 * closeQuiet / 2)
	if !tl.isOpenPath(rotated) {
		t.Fatal("the rotated file was closed before the trace was acknowledged")
	}
	c.ackHeld()
	eventually(t, "the rotated file closed once the trace was acknowledged", func() bool { return !tl.isOpenPath(rotated) })
}

// TestMultilineRestartInTheMiddle stops the tailer with half a trace read
// and unacknowledged: the next start reads the whole trace again and ships
// it as one record.
func TestMultilineRestartInTheMiddle(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := multilineConfig(t, filepath.Join(dir, "*.log"), state)
	cfg.MultilineQuiet = time.Hour // the group stays open
	lines := strings.Split(trace, "\n")
	appendFile(t, path, criLines(append([]string{"INFO before"}, lines[:2]...)))

	first := newCollector()
	tl, stop := startTailer(t, cfg, first)
	first.waitFor(t, "the line before the trace", func() bool { return first.count() == 1 })
	stop()
	// A crash: no drain, only the checkpoint of what was acknowledged.
	if err := tl.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	_ = tl.Close()

	appendFile(t, path, criLines(append(lines[2:], "INFO after")))
	second := newCollector()
	startTailer(t, cfg, second)
	second.waitFor(t, "the whole trace", func() bool { return second.count() >= 1 })
	if got := second.all()[path]; got[0] != trace {
		t.Errorf("after the restart got %q first; want the whole trace %q", got[0], trace)
	}
}

// TestDrainShipsGroups: a clean stop ships the group of a live file.
func TestDrainShipsGroups(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := multilineConfig(t, filepath.Join(dir, "*.log"), "")
	cfg.MultilineQuiet = time.Hour
	appendFile(t, path, criLines(strings.Split(trace, "\n")))
	c := newCollector()
	tl, stop := startTailer(t, cfg, c)
	eventually(t, "the file read", func() bool { return tl.readOffset(path) > 0 })
	stop()
	if err := tl.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.all()[path]; len(got) != 1 || got[0] != trace {
		t.Errorf("drain shipped %q; want the trace as one record", got)
	}
}

// isOpenPath reports whether the file now at path is open.
func (t *Tailer) isOpenPath(path string) bool {
	fi, err := os.Stat(path)
	if err != nil {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.isOpen(idOf(fi))
}

// readOffset returns the read offset of the file whose target is path.
func (t *Tailer) readOffset(path string) int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.byID {
		if f.meta.Target == path {
			return f.readOff.Load()
		}
	}
	return 0
}

// TestMultilineRestartAcrossRotation: a trace split by a rotation, not yet
// acknowledged when the tailer stops; the next start resumes the rotated
// file in the middle of the trace and joins it with the live file again.
func TestMultilineRestartAcrossRotation(t *testing.T) {
	root := t.TempDir()
	logDir, linkDir := podLayout(t, root, "shop", "api", "app")
	live := filepath.Join(logDir, "0.log")
	cfg := multilineConfig(t, filepath.Join(linkDir, "*.log"), t.TempDir())
	cfg.MultilineQuiet = DefaultMultilineQuiet
	lines := strings.Split(trace, "\n")
	first := newCollector()
	first.holdAcks = true
	tl, stop := startTailer(t, cfg, first)
	appendFile(t, live, criLines(append([]string{"INFO before"}, lines[:2]...)))
	first.waitFor(t, "the line before the trace", func() bool { return first.count() == 1 })
	first.ackHeld()
	if err := os.Rename(live, live+".20261126-140203"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, live, criLines(lines[2:]))
	first.waitFor(t, "the trace", func() bool { return first.count() == 2 })
	stop()
	if err := tl.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	_ = tl.Close()

	appendFile(t, live, criLines([]string{"INFO after"}))
	second := newCollector()
	tl2, _ := startTailer(t, cfg, second)
	second.waitFor(t, "the trace and the line after it", func() bool { return second.count() == 2 })
	var got []string
	for _, r := range second.recs {
		got = append(got, string(r.Message))
	}
	if want := []string{trace, "INFO after"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("after the restart got %q; want %q", got, want)
	}
	if got := testCounter(tl2.m.carried); got != 1 {
		t.Errorf("skiff_input_multiline_rotated_total = %v; want 1", got)
	}
}

// sampleTraces returns about size bytes of containerd lines, where every
// fifth record is a logger line followed by a 20-frame Java trace.
func sampleTraces(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		ts := fmt.Sprintf("2026-11-26T14:02:03.%09dZ stdout F ", i%999999999+1)
		if i%5 != 0 {
			fmt.Fprintf(&b, "%slevel=info msg=\"request served\" path=/api/v1/items/%d status=200\n", ts, i)
			continue
		}
		fmt.Fprintf(&b, "%s2026-11-26 14:02:03.001 ERROR [main] c.e.OrderService - order %d failed\n", ts, i)
		fmt.Fprintf(&b, "%sjava.lang.IllegalStateException: request failed\n", ts)
		for f := range 20 {
			fmt.Fprintf(&b, "%s\tat com.example.orders.OrderService.step%d(OrderService.java:%d)\n", ts, f, 100+f)
		}
	}
	return b.Bytes()
}

// BenchmarkJoin measures the assembler with a multi-line rule against the
// same lines without one: the cost of joining, per byte read.
func BenchmarkJoin(b *testing.B) {
	java, _ := multiline.Builtin("java")
	data := sampleTraces(1 << 20)
	for _, c := range []struct {
		name string
		rule *multiline.Rule
	}{{"none", nil}, {"java", java}} {
		b.Run(c.name, func(b *testing.B) {
			a := newAssembler(&FileMeta{}, DefaultMaxLineBytes, false)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				a.startRound(time.Time{})
				a.setRule(c.rule)
				rest := data
				var off int64
				for {
					i := bytes.IndexByte(rest, '\n')
					if i < 0 {
						break
					}
					a.line(rest[:i], off, off+int64(i)+1)
					off += int64(i) + 1
					rest = rest[i+1:]
				}
				a.flush(off)
			}
		})
	}
}
