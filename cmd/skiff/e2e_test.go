package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

func TestSteadyLoad(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 4, rate: 4000, rotateBytes: 256 << 10})
	p := n.start()
	n.write()
	n.written(10000)
	tl := n.finish(p)
	if tl.Written < 10000 || tl.Lost != 0 || tl.Duplicates != 0 {
		t.Errorf("tally = %+v; want everything delivered once", tl)
	}
	t.Logf("written %d, delivered %d, rotations %d, p99 %s", tl.Written, tl.Delivered, n.sim.Stats().Rotations, tl.LatencyP99)
}

func TestSIGTERMUnderLoad(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 4, rate: 4000, rotateBytes: 256 << 10, timeout: "10s"})
	p := n.start()
	n.write()
	n.written(6000)
	start := time.Now()
	if code := n.stopAgent(p, 12*time.Second); code != 0 { // shutdown_timeout plus 2s
		t.Fatalf("exit code %d after SIGTERM under load\n%s", code, p.stderr)
	}
	took := time.Since(start)
	delivered := readBack(n.cw, n.sim).tally.Delivered
	p = n.start() // writing went on while it was down
	n.written(6000)
	tl := n.finish(p)
	if tl.Lost != 0 {
		t.Errorf("tally = %+v; want nothing lost", tl)
	}
	// A clean stop checkpoints everything it delivered: no line is sent
	// again after the restart.
	if tl.Duplicates != 0 {
		t.Errorf("%d duplicates after a clean SIGTERM; want 0", tl.Duplicates)
	}
	t.Logf("SIGTERM took %s with %d delivered; final: written %d, delivered %d, duplicates %d",
		took.Round(time.Millisecond), delivered, tl.Written, tl.Delivered, tl.Duplicates)
}

func TestSIGKILLFiveTimes(t *testing.T) {
	// Rotation is slow enough that no file is deleted while the agent is
	// down: what a dead agent does not hold open, no agent can read.
	n := newNode(t, nodeOptions{pods: 4, rate: 2000, rotateBytes: 512 << 10})
	n.write()
	for range 5 {
		p := n.start()
		n.written(1500)
		n.kill(p)
	}
	tl := n.finish(nil)
	if tl.Lost != 0 {
		t.Errorf("tally = %+v; want nothing lost after five SIGKILLs", tl)
	}
	// Each kill repeats at most what was accepted since the last checkpoint
	// (200ms here) plus what was in flight: far below a second of input.
	if limit := int64(5 * 2000); tl.Duplicates > limit {
		t.Errorf("%d duplicates after five SIGKILLs; want at most %d (one second of input per kill)", tl.Duplicates, limit)
	}
	t.Logf("written %d, delivered %d, duplicates %d, rotations %d", tl.Written, tl.Delivered, tl.Duplicates, n.sim.Stats().Rotations)
}

func TestSinkOutage(t *testing.T) {
	const rotate = 64 << 10
	n := newNode(t, nodeOptions{pods: 3, rate: 3000, rotateBytes: rotate, bufferBytes: "4MiB"})
	p := n.start()
	n.write()
	n.written(1000)
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	rot := n.sim.Stats().Rotations
	// Longer than five kubelet rotations of every container: the oldest
	// files are deleted while the agent cannot ship.
	waitFor(t, 30*time.Second, "six rotations per container during the outage", func() bool {
		return n.sim.Stats().Rotations-rot >= 6*3
	})
	if removed := n.sim.Stats().Removed; removed == 0 {
		t.Fatalf("no rotated file was deleted during the outage")
	}
	used, limit := n.metric("skiff_buffer_bytes"), n.metric("skiff_buffer_limit_bytes")
	rss := n.metric("process_resident_memory_bytes")
	if limit != 4<<20 || used > limit {
		t.Errorf("buffer %v of %v during the outage; want at most the 4MiB budget", used, limit)
	}
	n.cw.SetFaults(cwlocal.Faults{})
	n.written(1000)
	tl := n.finish(p)
	if tl.Lost != 0 {
		t.Errorf("tally = %+v; want nothing lost after the outage", tl)
	}
	t.Logf("outage: buffer %.0f of %.0f bytes, RSS %.1f MiB; written %d, delivered %d, duplicates %d, removed %d",
		used, limit, rss/(1<<20), tl.Written, tl.Delivered, tl.Duplicates, n.sim.Stats().Removed)
}

func TestDemoHeadless(t *testing.T) {
	code, stdout, stderr := runBin(t, nil, "demo", "--duration", "8s", "--http-listen", "off")
	if code != 0 {
		t.Fatalf("skiff demo = %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"lost                   0", "aws --endpoint-url http://127.0.0.1:", "logs get-log-events"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, stdout)
		}
	}
	// The journal's entries reach /dataplane and /host, all of them.
	m := regexp.MustCompile(`journal +([\d,]+) entries written .*, ([\d,]+) delivered: ([\d,]+) events in /dataplane, ([\d,]+) in /host .*; 0 lost`).FindStringSubmatch(stdout)
	if m == nil || m[1] != m[2] || m[3] == "0" || m[4] == "0" {
		t.Errorf("demo output has no journal line with every entry delivered to both groups:\n%s", stdout)
	}
}

func TestTailBinary(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	lines := "2026-11-26T10:00:00.000000001Z stdout F hello world\n" +
		"2026-11-26T10:00:01.000000001Z stderr P part one \n" +
		"2026-11-26T10:00:01.000000002Z stderr F and two\n"
	if err := os.WriteFile(path, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runBin(t, nil, "tail", "--format", "raw", filepath.Join(dir, "*.log"))
	if want := "hello world\npart one and two\n"; code != 0 || stdout != want {
		t.Errorf("skiff tail = %d, %q (stderr %q); want 0, %q", code, stdout, stderr, want)
	}
	code, stdout, _ = runBin(t, nil, "tail", path)
	if code != 0 || !strings.Contains(stdout, `"stream":"stderr","log":"part one and two"`) {
		t.Errorf("skiff tail (json) = %d, %q", code, stdout)
	}
}

// TestMemoryOverhead measures the agent's memory: RSS at a steady 10,000
// lines/s, and RSS with the budget full (CloudWatch down). It is a
// measurement, not a check, and runs only with SKIFF_MEASURE=1:
//
//	SKIFF_MEASURE=1 go test -run TestMemoryOverhead -v ./cmd/skiff
func TestMemoryOverhead(t *testing.T) {
	if os.Getenv("SKIFF_MEASURE") == "" {
		t.Skip("a measurement; set SKIFF_MEASURE=1")
	}
	for _, env := range [][]string{nil, {"GOMEMLIMIT=100MiB"}} {
		t.Run(strings.Join(append([]string{"env"}, env...), " "), func(t *testing.T) { measureMemory(t, env) })
	}
}

func measureMemory(t *testing.T, env []string) {
	n := newNode(t, nodeOptions{pods: 50, rate: 10000, rotateBytes: 10 << 20, bufferBytes: "64MiB", timeout: "120s", env: env})
	p := n.start()
	n.write()
	var steady float64
	for range 10 { // ten seconds at 10,000 lines/s
		n.written(10000)
		steady = max(steady, n.metric("process_resident_memory_bytes"))
	}
	t.Logf("steady 10,000 lines/s, 50 pods: RSS max %.1f MiB, buffer %.1f MiB, Go heap in use %.1f MiB",
		steady/(1<<20), n.metric("skiff_buffer_bytes")/(1<<20), n.metric("go_memstats_heap_inuse_bytes")/(1<<20))
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	limit := n.metric("skiff_buffer_limit_bytes")
	waitFor(t, 120*time.Second, "the budget to fill", func() bool { return n.metric("skiff_buffer_bytes") >= 0.95*limit })
	var rss, used float64
	for range 5 {
		n.written(10000)
		rss, used = max(rss, n.metric("process_resident_memory_bytes")), n.metric("skiff_buffer_bytes")
	}
	t.Logf("CloudWatch down, budget full: buffer %.1f of %.1f MiB, RSS max %.1f MiB, overhead %.1f MiB",
		used/(1<<20), limit/(1<<20), rss/(1<<20), (rss-used)/(1<<20))
	n.cw.SetFaults(cwlocal.Faults{})
	n.written(10000)
	t.Logf("dropped %v, rejected %v, skipped bytes %v, records accepted %v",
		n.metric("skiff_output_dropped_records_total"), n.metric("skiff_cloudwatch_rejected_events_total"),
		n.metric("skiff_input_skipped_bytes_total"), n.metric("skiff_output_proc_records_total"))
	tl := n.finish(p)
	t.Logf("written %d, lost %d, duplicates %d", tl.Written, tl.Lost, tl.Duplicates)
}

// TestShutdownDeadline: with CloudWatch down, SIGTERM cannot deliver; at
// shutdown_timeout the agent writes what was acknowledged, exits non-zero
// and says how many bytes the next start reads again. Nothing is lost.
func TestShutdownDeadline(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 2, rate: 1000, rotateBytes: 256 << 10, timeout: "1s"})
	p := n.start()
	n.write()
	n.written(500)
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	n.written(500)
	start := time.Now()
	code := n.stopAgent(p, 5*time.Second)
	took := time.Since(start)
	if code != exitFailed {
		t.Errorf("exit code %d when the flush cannot finish; want %d", code, exitFailed)
	}
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	last := lines[len(lines)-1]
	if !strings.Contains(last, `"unacked_bytes":`) || strings.Contains(last, `"unacked_bytes":0`) ||
		!strings.Contains(last, "the shutdown timeout passed") {
		t.Errorf("last log line = %s; want the unacknowledged bytes and the reason", last)
	}
	n.cw.SetFaults(cwlocal.Faults{})
	tl := n.finish(nil)
	if tl.Lost != 0 {
		t.Errorf("tally = %+v; want nothing lost", tl)
	}
	t.Logf("stopped after %s: %s", took.Round(time.Millisecond), last)
}

// TestSecondSignalBinary: a second SIGTERM ends the flush at once.
func TestSecondSignalBinary(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 2, rate: 1000, rotateBytes: 256 << 10, timeout: "20s"})
	p := n.start()
	n.write()
	n.written(500)
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	n.written(500)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the shutdown to begin", func() bool { return strings.Contains(p.stderr.String(), "shutting down") })
	code := n.stopAgent(p, 5*time.Second) // the second signal
	if code != exitFailed || !strings.Contains(p.stderr.String(), "a second signal arrived") {
		t.Errorf("exit code %d after a second SIGTERM; want %d and the reason in the log", code, exitFailed)
	}
	n.cw.SetFaults(cwlocal.Faults{})
	if tl := n.finish(nil); tl.Lost != 0 {
		t.Errorf("tally = %+v; want nothing lost", tl)
	}
}

// TestTailTriesRulesAndParsers: skiff tail with --multiline and --parser
// prints the records a rule and a parser make of a file, and with --config
// uses the custom ones of a configuration file.
func TestTailTriesRulesAndParsers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	var b strings.Builder
	for _, l := range []string{
		"level=info msg=\"starting\" port=8080",
		"Exception in thread \"main\" java.lang.IllegalStateException: boom",
		"\tat com.example.App.main(App.java:12)",
		"level=warn msg=\"slow request\" ms=912",
	} {
		b.WriteString("2026-11-26T10:00:00.000000001Z stdout F " + l + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runBin(t, nil, "tail", "--multiline", "java", "--parser", "logfmt", path)
	got := strings.Split(strings.TrimSpace(stdout), "\n")
	if code != 0 || len(got) != 3 {
		t.Fatalf("skiff tail = %d, %d records (stderr %q):\n%s", code, len(got), stderr, stdout)
	}
	for i, want := range []string{
		`"log_processed":{"level":"info","msg":"starting","port":"8080"}`,
		`"log":"Exception in thread \"main\" java.lang.IllegalStateException: boom\n\tat com.example.App.main(App.java:12)"`,
		`"log_processed":{"level":"warn","msg":"slow request","ms":"912"}`,
	} {
		if !strings.Contains(got[i], want) {
			t.Errorf("record %d = %s; want %s", i, got[i], want)
		}
	}

	cfg := filepath.Join(dir, "skiff.yaml")
	if err := os.WriteFile(cfg, []byte(`parsers:
  custom:
    level-first: {regex: '^level=(?P<severity>\w+) (?P<rest>.*)$'}
redact:
  custom:
    port: 'port=(?P<secret>\d+)'
`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runBin(t, nil, "tail", "--config", cfg, "--parser", "level-first", path)
	if code != 0 || !strings.Contains(stdout, `"log_processed":{"severity":"info","rest":"msg=\"starting\" port=[REDACTED]"}`) {
		t.Errorf("skiff tail --config = %d (stderr %q):\n%s", code, stderr, stdout)
	}
	code, _, stderr = runBin(t, nil, "tail", "--multiline", "cobol", path)
	if code != exitUsage || !strings.Contains(stderr, `tail.multiline: "cobol" is not a rule`) {
		t.Errorf("skiff tail --multiline cobol = %d, %q; want %d and the rules it knows", code, stderr, exitUsage)
	}
}

// The agent releases its executable's pages three times as it starts
// (see releaseCodePages) and ships on from pages read back one by one.
func TestReleasesCodePages(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 2, rate: 1000, rotateBytes: 64 << 10, logLevel: "debug"})
	p := n.start()
	n.write()
	released := regexp.MustCompile(`"msg":"released the executable's pages \((\w+)\)","bytes":(\d+)`)
	waitFor(t, 15*time.Second, "the release once start-up settled", func() bool {
		return strings.Contains(p.stderr.String(), `pages (settled)`)
	})
	var stages []string
	for _, m := range released.FindAllStringSubmatch(p.stderr.String(), -1) {
		if m[2] == "0" {
			t.Errorf("stage %s released 0 bytes", m[1])
		}
		stages = append(stages, m[1])
	}
	if strings.Join(stages, ",") != "start,built,settled" {
		t.Errorf("released at %v; want start, built, settled\n%s", stages, p.stderr)
	}
	n.written(3000)
	tl := n.finish(p)
	if tl.Lost != 0 || tl.Duplicates != 0 {
		t.Errorf("tally = %+v; want everything delivered once", tl)
	}
}
