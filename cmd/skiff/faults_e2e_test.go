// End-to-end tests of the agent binary under CloudWatch faults: an outage
// that ends inside the shutdown window, scattered throttling and 503s, and
// one log group the policy forbids. Each stops or kills the agent in the
// middle of the fault while the pods write and rotate, restarts it, and
// counts every line by its marker.

package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/bench/nodesim"
	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

// setCloudWatch adds keys to the cloudwatch section of the node's config
// (the last section of the file newNode writes).
func (n *node) setCloudWatch(keys ...string) {
	n.t.Helper()
	f, err := os.OpenFile(n.cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		n.t.Fatal(err)
	}
	defer f.Close()
	for _, k := range keys {
		if _, err := fmt.Fprintf(f, "  %s\n", k); err != nil {
			n.t.Fatal(err)
		}
	}
}

// tallyIn counts every line read back from cwlocal, stream i's from group
// groupOf(i), and per stream the distinct lines delivered.
func (n *node) tallyIn(groupOf func(i int) string) (nodesim.Tally, []int64) {
	c := nodesim.NewCounter(n.sim)
	per := make([]int64, n.sim.Streams())
	for i := range n.sim.Streams() {
		seen := map[int64]bool{}
		for _, e := range n.cw.Events(groupOf(i), streamName(demoNode, n.sim.Stream(i))) {
			c.Observe(time.UnixMilli(e.IngestionTime), e.Message)
			if m, ok := nodesim.FindMarker(e.Message); ok && m.Stream == i && !seen[m.Seq] {
				seen[m.Seq] = true
				per[i]++
			}
		}
	}
	return c.Tally(), per
}

// TestOutageEndsInsideShutdown: SIGTERM arrives during an outage in which
// rotated files were deleted; the outage ends inside the shutdown window.
// The agent delivers everything before the timeout and exits 0; after the
// restart nothing it acknowledged is sent again, and nothing is lost.
func TestOutageEndsInsideShutdown(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 3, rate: 3000, rotateBytes: 256 << 10, timeout: "10s", logLevel: "debug"})
	p := n.start()
	n.write()
	n.written(3000)
	// The requests are the sink's own (put.go), not the SDK client's.
	if !strings.Contains(p.stderr.String(), "PutLogEvents without the SDK's per-call stack") {
		t.Errorf("the agent does not make its PutLogEvents requests itself:\n%s", p.stderr)
	}
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	removed := n.sim.Stats().Removed
	waitFor(t, 30*time.Second, "rotated files deleted during the outage", func() bool {
		return n.sim.Stats().Removed-removed >= 3
	})
	if st := n.metric(`skiff_output_endpoint_state{output="cloudwatch",state="probing"}`); st != 1 {
		t.Errorf("endpoint state probing = %v during the outage; want 1", st)
	}
	// The outage ends 3s into the 10s shutdown window.
	n.cw.SetFaults(cwlocal.Faults{OutageUntil: time.Now().Add(3 * time.Second)})
	start := time.Now()
	code := n.stopAgent(p, 15*time.Second)
	took := time.Since(start)
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM in an outage that ended after 3s of a 10s window; want 0", code)
	}
	if !strings.Contains(p.stderr.String(), "everything read was delivered") {
		t.Errorf("the last log line does not say everything was delivered")
	}
	before := readBack(n.cw, n.sim).tally
	p = n.start() // writing and rotation went on while it was down
	n.written(3000)
	tl := n.finish(p)
	if tl.Lost != 0 {
		t.Errorf("tally = %+v; want nothing lost", tl)
	}
	if tl.Duplicates != 0 {
		t.Errorf("%d lines delivered twice across the restart; want 0 (the drain acknowledged what it delivered)", tl.Duplicates)
	}
	t.Logf("SIGTERM took %s (outage ended after 3s); before restart delivered %d of %d; final %+v",
		took.Round(time.Millisecond), before.Delivered, before.Written, tl)
}

// TestPartialFailureKeepsUpBinary: CloudWatch throttles 30% of the
// requests and answers 503 to 20%; the agent keeps up, is SIGKILLed in the
// middle while files rotate, and after its restart nothing is lost.
func TestPartialFailureKeepsUpBinary(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 4, rate: 4000, rotateBytes: 256 << 10})
	n.cw.SetFaults(cwlocal.Faults{ThrottleRate: 0.3, ErrorRate: 0.2, Operations: []string{"PutLogEvents"}})
	p := n.start()
	n.write()
	n.written(8000)
	n.kill(p)
	n.written(2000) // rotation goes on while it is down
	p = n.start()
	n.written(8000)
	// Keeping up: with the writers stopped, the backlog is gone within a
	// few seconds, faults and all.
	n.stopWriting()
	written := n.sim.Stats().Lines
	waitFor(t, 15*time.Second, "the backlog delivered under partial failure", func() bool {
		return readBack(n.cw, n.sim).tally.Delivered == written
	})
	if st := n.metric(`skiff_output_endpoint_state{output="cloudwatch",state="probing"}`); st != 0 {
		t.Errorf("endpoint state probing = %v under scattered errors; want 0", st)
	}
	if r := n.metric(`skiff_output_retries_total{output="cloudwatch",reason="throttle"}`); r == 0 {
		t.Errorf("no throttle retries counted")
	}
	tl := n.finish(p)
	if tl.Lost != 0 {
		t.Errorf("tally = %+v; want nothing lost", tl)
	}
	t.Logf("written %d, delivered %d, duplicates %d (one SIGKILL), rotations %d, p99 %s",
		tl.Written, tl.Delivered, tl.Duplicates, n.sim.Stats().Rotations, tl.LatencyP99)
}

// TestForbiddenGroupBinary: one pod's log group (from its path, through
// the log_group template) is forbidden by the policy. Every other pod's
// lines are delivered while it is, through a SIGTERM and a restart in the
// middle, with rotation going on; the forbidden pod's lines wait in its
// files and are delivered once the denial is lifted. Nothing is lost.
func TestForbiddenGroupBinary(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 3, rate: 1500, rotateBytes: 64 << 10, timeout: "5s"})
	n.setCloudWatch("log_group: /e2e/{kubernetes.pod_name}")
	groupOf := func(i int) string { return "/e2e/" + n.sim.Stream(i).Pod }
	denied := groupOf(0)
	n.cw.SetFaults(cwlocal.Faults{DenyGroups: []string{denied}})
	p := n.start()
	n.write()
	othersCaughtUp := func(what string) {
		t.Helper()
		target := make([]int64, n.sim.Streams())
		for i := range target {
			target[i] = n.sim.StreamLines(i)
		}
		waitFor(t, 20*time.Second, what, func() bool {
			_, per := n.tallyIn(groupOf)
			for i := 1; i < len(per); i++ {
				if per[i] < target[i] {
					return false
				}
			}
			return true
		})
	}
	n.written(3000)
	othersCaughtUp("the other pods' lines delivered while one group is denied")
	if v := n.metric("skiff_cloudwatch_paused_destinations"); v != 1 {
		t.Errorf("paused destinations = %v; want 1", v)
	}
	if v := n.metric(`skiff_cloudwatch_destination_errors_total{reason="access_denied"}`); v == 0 {
		t.Errorf("no access_denied destination error counted")
	}
	// Stop in the middle of the denial: the exit says what is left.
	code := n.stopAgent(p, n.grace)
	if code != exitFailed {
		t.Errorf("exit code %d after SIGTERM with a paused destination; want %d", code, exitFailed)
	}
	if strings.Count(p.stderr.String(), "refuses records; pausing it") != 1 {
		t.Errorf("want the paused destination logged once:\n%s", p.stderr)
	}
	p = n.start()
	n.written(3000)
	othersCaughtUp("the other pods' lines delivered after the restart")
	if _, per := n.tallyIn(groupOf); per[0] != 0 {
		t.Errorf("%d lines of the denied pod delivered during the denial", per[0])
	}
	n.cw.SetFaults(cwlocal.Faults{})
	waitFor(t, 70*time.Second, "the paused destination's next probe", func() bool {
		return n.metric("skiff_cloudwatch_paused_destinations") == 0
	})
	n.written(1500)
	n.stopWriting()
	if code := n.stopAgent(p, n.grace); code != 0 {
		t.Fatalf("exit code %d after the denial was lifted; want 0\n%s", code, p.stderr)
	}
	tl, per := n.tallyIn(groupOf)
	if tl.Lost != 0 {
		t.Errorf("tally = %+v (per stream %v); want nothing lost", tl, per)
		n.explainLostIn(n.sim, groupOf)
	}
	t.Logf("written %d, delivered %d, duplicates %d, per stream %v, rotations %d, removed %d",
		tl.Written, tl.Delivered, tl.Duplicates, per, n.sim.Stats().Rotations, n.sim.Stats().Removed)
}
