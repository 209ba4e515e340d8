package main

// Delivery across restarts, end to end: the built agent is killed or
// stopped in the middle of a CloudWatch outage while the writer rotates
// files and deletes the oldest, then started again; every line is counted by
// its marker.

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/bench/nodesim"
	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

// removedAtLeast waits until the writer deleted n more rotated files.
func (n *node) removedAtLeast(more int64) {
	n.t.Helper()
	target := n.sim.Stats().Removed + more
	waitFor(n.t, time.Minute, "rotated files deleted", func() bool { return n.sim.Stats().Removed >= target })
}

// lineBytes is the size of every line the writer writes (fixed-width
// timestamps and messages).
func (n *node) lineBytes() int64 {
	st := n.sim.Stats()
	if st.Lines == 0 || st.Bytes%st.Lines != 0 {
		n.t.Fatalf("lines are not all of one size: %d bytes in %d lines", st.Bytes, st.Lines)
	}
	return st.Bytes / st.Lines
}

// TestKillTwiceDuringOutageWithRotation: two SIGKILLs in one outage, while
// several rotated files with undelivered lines are deleted.
func TestKillTwiceDuringOutageWithRotation(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 3, rate: 1500, rotateBytes: 128 << 10, bufferBytes: "2MiB"})
	p := n.start()
	n.write()
	n.written(1000)
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	removed := n.sim.Stats().Removed
	for range 2 {
		n.removedAtLeast(4)
		n.kill(p)
		p = n.start()
	}
	n.removedAtLeast(4)
	deleted := n.sim.Stats().Removed - removed
	spooled := n.metric("skiff_input_spooled_bytes_total")
	n.cw.SetFaults(cwlocal.Faults{})
	n.written(1000)
	tl := n.finish(p)
	if tl.Lost != 0 {
		t.Errorf("tally = %+v; want nothing lost after two SIGKILLs during the outage", tl)
	}
	t.Logf("%d rotated files deleted during the outage, %.0f bytes spooled by the last run; written %d, delivered %d, duplicates %d",
		deleted, spooled, tl.Written, tl.Delivered, tl.Duplicates)
}

// TestSIGTERMDuringOutageRestartLater: SIGTERM in an outage exits at the
// shutdown timeout; files appear and are rotated away during the shutdown
// window, when discovery has stopped; while skiff is down the writer goes
// on until every rotated file it knew is deleted; the next start delivers
// everything.
func TestSIGTERMDuringOutageRestartLater(t *testing.T) {
	const pods = 2
	n := newNode(t, nodeOptions{pods: pods, rate: 1000, rotateBytes: 128 << 10, bufferBytes: "2MiB", timeout: "8s"})
	p := n.start()
	n.write()
	n.written(1000)
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	n.removedAtLeast(2 * pods)
	rotated := n.sim.Stats().Rotations
	if code := n.stopAgent(p, n.grace); code != exitFailed {
		t.Fatalf("exit code %d after SIGTERM during an outage; want %d", code, exitFailed)
	}
	if n.sim.Stats().Rotations-rotated < 2*pods {
		t.Fatalf("%d rotations during the shutdown window; want at least two per pod", n.sim.Stats().Rotations-rotated)
	}
	last := lastLogLine(p.stderr.String())
	if !strings.Contains(last, `"in_spool":`) || strings.Contains(last, `"in_spool":0`) {
		t.Errorf("last log line = %s; want the bytes kept in the spool", last)
	}
	// Every file it had open is deleted while it is down: four rotations
	// per pod, fewer than would delete a file created after it stopped.
	n.removedAtLeast(4 * pods)
	p = n.start()
	n.written(500)
	n.cw.SetFaults(cwlocal.Faults{})
	n.written(1000)
	tl := n.finish(p)
	if tl.Lost != 0 {
		t.Errorf("tally = %+v; want nothing lost", tl)
	}
	t.Logf("shutdown: %s; written %d, delivered %d, duplicates %d", last, tl.Written, tl.Delivered, tl.Duplicates)
}

// TestSpoolBoundCountsExactly: an outage longer than the spool allows; what
// is lost is exactly what was counted as skipped.
func TestSpoolBoundCountsExactly(t *testing.T) {
	const pods = 2
	n := newNode(t, nodeOptions{pods: pods, rate: 1000, rotateBytes: 64 << 10, bufferBytes: "2MiB", timeout: "2s", spoolBytes: "160KiB"})
	p := n.start()
	n.write()
	n.written(1000)
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	n.removedAtLeast(8 * pods)
	n.sim.SetRate(0) // nothing is written, rotated or deleted while it is down
	rate := 1000.0
	if code := n.stopAgent(p, n.grace); code != exitFailed {
		t.Fatalf("exit code %d after SIGTERM during an outage; want %d", code, exitFailed)
	}
	last := lastLogLine(p.stderr.String())
	lost := int64(jsonNumber(t, last, attrLostBytes))
	if lost == 0 {
		t.Fatalf("last log line = %s; want lost bytes: the spool bound must have been hit", last)
	}
	p = n.start()
	lost += int64(n.metric("skiff_input_skipped_bytes_total"))
	n.cw.SetFaults(cwlocal.Faults{})
	n.sim.SetRate(rate)
	n.written(500)
	tl := n.finish(p)
	lineBytes := n.lineBytes()
	if lost%lineBytes != 0 || tl.Lost != lost/lineBytes {
		t.Errorf("lost %d lines; counted %d skipped bytes = %d lines of %d bytes; want them equal", tl.Lost, lost, lost/lineBytes, lineBytes)
	}
	t.Logf("shutdown: %s; written %d, delivered %d, lost %d, duplicates %d", last, tl.Written, tl.Delivered, tl.Lost, tl.Duplicates)
}

// TestIncludeDirectoryCreatedLater: the pattern's directory appears after
// the start; with the rescan an hour away, events alone must find it.
func TestIncludeDirectoryCreatedLater(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 2, rate: 1000, rotateBytes: 256 << 10, late: true})
	p := n.start()
	n.makeLogs()
	n.write()
	n.written(2000)
	waitFor(t, 30*time.Second, "lines delivered", func() bool { return readBack(n.cw, n.sim).tally.Delivered >= 1000 })
	tl := n.finish(p)
	if tl.Lost != 0 || tl.Duplicates != 0 {
		t.Errorf("tally = %+v; want everything delivered once", tl)
	}
}

// TestCopytruncateWithBacklog: copytruncate rotations while lines are
// unread (CloudWatch down, the buffer full): the rest of each old content is
// read from its copy.
func TestCopytruncateWithBacklog(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 2, rate: 1000, rotateBytes: 128 << 10, bufferBytes: "2MiB", copyTruncate: true})
	p := n.start()
	n.write()
	n.written(1000)
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	limit := n.metric("skiff_buffer_limit_bytes")
	waitFor(t, time.Minute, "the buffer to fill", func() bool { return n.metric("skiff_buffer_bytes") >= 0.9*limit })
	rot := n.sim.Stats().Rotations
	waitFor(t, time.Minute, "two copytruncates per pod with unread bytes", func() bool { return n.sim.Stats().Rotations-rot >= 4 })
	n.cw.SetFaults(cwlocal.Faults{})
	n.written(1000)
	truncated := n.metric("skiff_input_files_truncated_total")
	skipped := n.metric("skiff_input_skipped_bytes_total")
	tl := n.finish(p)
	if tl.Lost != 0 || skipped != 0 {
		t.Errorf("tally = %+v, %v bytes skipped; want nothing lost", tl, skipped)
	}
	if truncated == 0 {
		t.Errorf("no truncation seen; the test did not copytruncate under the reader")
	}
	t.Logf("%.0f truncations seen; written %d, delivered %d, duplicates %d", truncated, tl.Written, tl.Delivered, tl.Duplicates)
}

func lastLogLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// jsonNumber returns the number of key in a JSON log line.
func jsonNumber(t *testing.T, line, key string) float64 {
	t.Helper()
	m := regexp.MustCompile(`"` + regexp.QuoteMeta(key) + `":(-?[0-9.e+]+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("log line lacks %q: %s", key, line)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestIdleFilesAcrossKillsInOutage: beside busy pods whose files rotate
// and get deleted, quiet pods write a line every few seconds, so that their
// files wait in the shared idle poll between lines and are woken by
// their write watches, and steady pods write three lines a second into small files that
// rotate and get deleted, so that their followers wait in the poll between
// two reads; SIGKILL twice in an outage, while all of them write, and every
// line of each is delivered.
func TestIdleFilesAcrossKillsInOutage(t *testing.T) {
	// A budget the outage does not fill: a file whose lines the sink
	// refuses keeps offering them, and does not park.
	n := newNode(t, nodeOptions{pods: 2, rate: 1000, rotateBytes: 128 << 10, bufferBytes: "64MiB"})
	const quietPods = 20
	quiet, err := nodesim.New(nodesim.Config{Root: n.simCfg.Root, Pods: quietPods, Namespace: "quiet",
		Rate: quietPods / 4.0, LineBytes: 200, RotateBytes: 8 << 10, MaxFiles: 5})
	if err != nil {
		t.Fatal(err)
	}
	const steadyPods = 20
	steady, err := nodesim.New(nodesim.Config{Root: n.simCfg.Root, Pods: steadyPods, Namespace: "steady",
		Rate: 3 * steadyPods, LineBytes: 200, RotateBytes: 2 << 10, MaxFiles: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stopQuiet := context.WithCancel(context.Background())
	var quietWG sync.WaitGroup
	quietWG.Go(func() { _ = quiet.Run(ctx) })
	quietWG.Go(func() { _ = steady.Run(ctx) })
	defer func() { stopQuiet(); quietWG.Wait() }()

	p := n.start()
	n.write()
	n.written(1000)
	// A quiet file parks after a look that found nothing new (a line
	// every 4 s, looks a second apart), its lines not acknowledged in the
	// outage.
	parked := func() {
		waitFor(t, time.Minute, "quiet files parked", func() bool { return n.metric("skiff_input_files_idle") >= quietPods/2 })
	}
	parked()
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	for range 2 {
		n.removedAtLeast(4)
		parked()
		n.kill(p)
		p = n.start()
	}
	parked()
	n.removedAtLeast(4)
	// Long enough in the outage for the quiet files to be woken a few
	// times each.
	waitFor(t, time.Minute, "the quiet pods' lines", func() bool { return quiet.Stats().Lines >= 3*quietPods })
	n.cw.SetFaults(cwlocal.Faults{})
	n.written(1000)
	stopQuiet()
	quietWG.Wait()
	tl := n.finish(p)
	qt := readBack(n.cw, quiet).tally
	st := readBack(n.cw, steady).tally
	if tl.Lost != 0 || qt.Lost != 0 || st.Lost != 0 {
		t.Errorf("busy pods %+v, quiet pods %+v, steady pods %+v; want nothing lost", tl, qt, st)
		n.explainLost(quiet)
		n.explainLost(steady)
	}
	if qt.Written < 3*quietPods {
		t.Errorf("the quiet pods wrote %d lines; want several each", qt.Written)
	}
	if rotations := st.Written * 200 / (2 << 10); rotations < 2*steadyPods {
		t.Errorf("the steady pods wrote %d lines, about %d rotations; want two each at least", st.Written, rotations)
	}
	t.Logf("busy: written %d, delivered %d, duplicates %d; quiet: written %d, delivered %d, duplicates %d; steady: written %d, delivered %d, duplicates %d",
		tl.Written, tl.Delivered, tl.Duplicates, qt.Written, qt.Delivered, qt.Duplicates, st.Written, st.Delivered, st.Duplicates)
}
