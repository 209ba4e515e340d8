package main

// A random schedule of what nodes and CloudWatch do to an agent, end to
// end: the built binary is killed, stopped and started again while the
// endpoint goes down, throttles, drops connections, answers slowly or
// denies the group, the writers change pace and files rotate and get
// deleted; every line is counted by its marker at the end.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

// TestChaos runs one random schedule for SKIFF_CHAOS (45 s by default):
// every 0.5-3 s it changes CloudWatch's faults, SIGKILLs or SIGTERMs the
// agent and starts it again up to a second later, restarts a container (a
// new <n>.log and link; the kubelet keeps one dead instance and removes
// the one before), deletes a pod and creates it again under a new UID, or
// changes the writers' rate. SKIFF_CHAOS_SEED replays a schedule's choices
// (not its timing); SKIFF_CHAOS_ROTATE=copytruncate rotates by copy and
// truncate instead of rename.
//
// The schedule keeps inside what an agent can be held to: it is never
// blind (stopping, down or starting) for longer than the writers take to
// rotate a file four times, after which the kubelet deletes a file the
// agent never saw. Within that, nothing may be lost.
func TestChaos(t *testing.T) {
	d := 45 * time.Second
	if v := os.Getenv("SKIFF_CHAOS"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			t.Fatalf("SKIFF_CHAOS=%q: %v", v, err)
		}
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SKIFF_CHAOS_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("SKIFF_CHAOS_SEED=%q: %v", v, err)
		}
	}
	copyTruncate := false
	switch v := os.Getenv("SKIFF_CHAOS_ROTATE"); v {
	case "", "rename":
	case "copytruncate":
		copyTruncate = true
	default:
		t.Fatalf("SKIFF_CHAOS_ROTATE=%q: rename or copytruncate", v)
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("SKIFF_CHAOS_SEED=%d SKIFF_CHAOS=%s SKIFF_CHAOS_ROTATE=%s", seed, d, map[bool]string{false: "rename", true: "copytruncate"}[copyTruncate])

	// Three pods at 1,500 lines/s in all and up to 1.5 times that, one of
	// them logging Java stack traces of 21 lines, joined by the java rule
	// (a trace counts as one line), the others a few 40 KiB lines in
	// partial chunks among theirs: a
	// 384 KiB file fills in 2.2 s or more, and is deleted four rotations
	// later, 9 s at the soonest. The longest blind spell is a SIGTERM
	// during an outage (the 3 s shutdown timeout), a second down and the
	// start: 5 s, with room for a loaded machine.
	const rate = 1500
	n := newNode(t, nodeOptions{pods: 3, rate: rate, rotateBytes: 384 << 10, bufferBytes: "2MiB",
		timeout: "3s", longFraction: 0.005, multiline: "java", traces: 1.0 / 3, copyTruncate: copyTruncate})
	p := n.start()
	n.write()
	n.written(500)

	began := time.Now()
	var log []string
	event := func(format string, args ...any) {
		log = append(log, fmt.Sprintf("%5.1fs ", time.Since(began).Seconds())+fmt.Sprintf(format, args...))
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("SKIFF_CHAOS_SEED=%d; the schedule:\n%s", seed, strings.Join(log, "\n"))
		}
	})
	counts := map[string]int{}
	restart := func() {
		down := time.Duration(rng.IntN(1000)) * time.Millisecond
		time.Sleep(down)
		p = n.start()
		event("started after %s down", down)
	}
	// A restart or a recreated pod deletes files (the instance before the
	// dead one, the whole pod); the agent, up, spools what it has not
	// delivered of them. It is not stopped within churnGrace of that:
	// files deleted while it is down are gone for any agent.
	const churnGrace = 2 * time.Second
	var churned time.Time
	settle := func() {
		if wait := churnGrace - time.Since(churned); wait > 0 {
			time.Sleep(wait)
		}
	}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		switch r := rng.IntN(100); {
		case r < 30:
			f, what := chaosFaults(rng)
			n.cw.SetFaults(f)
			counts["faults"]++
			event("CloudWatch: %s", what)
		case r < 48:
			settle()
			n.kill(p)
			counts["SIGKILL"]++
			event("SIGKILL")
			restart()
		case r < 61:
			settle()
			code := n.stopAgent(p, n.grace)
			if code != exitOK && code != exitFailed {
				t.Fatalf("exit code %d after SIGTERM\n%s", code, p.stderr)
			}
			counts["SIGTERM"]++
			event("SIGTERM: exit %d", code)
			restart()
		case r < 74:
			i := rng.IntN(n.sim.Streams())
			n.sim.Restart(i)
			churned = time.Now()
			counts["container restart"]++
			event("container of pod %d restarted", i)
		case r < 84:
			pod := rng.IntN(n.simCfg.Pods)
			n.sim.Recreate(pod)
			churned = time.Now()
			counts["pod recreated"]++
			event("pod %d deleted and created again", pod)
		default:
			r := rate * (0.5 + rng.Float64())
			n.sim.SetRate(r)
			counts["rate"]++
			event("rate %.0f lines/s", r)
		}
		time.Sleep(500*time.Millisecond + time.Duration(rng.IntN(2500))*time.Millisecond)
	}
	n.cw.SetFaults(cwlocal.Faults{})
	n.sim.SetRate(rate)
	event("CloudWatch healthy, rate %d lines/s", rate)
	n.written(1000)
	// A destination paused by the denial is probed again within a
	// minute; the last SIGTERM must find everything delivered.
	n.stopWriting()
	waitFor(t, 3*time.Minute, "everything written to be read and acknowledged", func() bool {
		return n.metric("skiff_input_lag_bytes") == 0 && n.metric("skiff_input_unacked_bytes") == 0
	})
	tl := n.finish(p)
	if tl.Lost != 0 {
		t.Errorf("tally = %+v; want nothing lost", tl)
	}
	// Every line went to the stream of the container instance that wrote
	// it, rotated, copied, spooled or not.
	expected := map[string]bool{}
	for i := range n.sim.Streams() {
		for _, link := range n.sim.Links(i) {
			expected[streamNameOf(demoNode, link)] = true
		}
	}
	for _, name := range n.cw.Streams(groupName()) {
		if !expected[name] {
			t.Errorf("%d events in stream %s, which no container instance writes to", len(n.cw.Events(groupName(), name)), name)
		}
	}
	// Nothing counted as lost either: every run's log is free of skips.
	skip := regexp.MustCompile(`"reason":"(` + strings.Join(skipReasons, "|") + `)"`)
	for i, p := range n.procs {
		if m := skip.FindString(p.stderr.String()); m != "" {
			t.Errorf("run %d of the agent logged skipped bytes (%s) though nothing was lost", i+1, m)
		}
	}
	t.Logf("%v; written %d, delivered %d, duplicates %d", counts, tl.Written, tl.Delivered, tl.Duplicates)
}

// skipReasons are the reasons skiff counts bytes it could not ship under
// (skiff_input_skipped_bytes_total), as its log lines name them.
var skipReasons = []string{"max_open_files", "max_deleted_bytes", "unreadable", "spool_full", "truncated", "deleted_while_stopped"}

// chaosFaults draws what CloudWatch does next, and says it.
func chaosFaults(rng *rand.Rand) (cwlocal.Faults, string) {
	switch rng.IntN(7) {
	case 0:
		return cwlocal.Faults{}, "healthy"
	case 1:
		return cwlocal.Faults{Outage: true}, "outage (every request 503)"
	case 2:
		return cwlocal.Faults{ErrorRate: 0.2, ThrottleRate: 0.3}, "20% 503, 30% throttled"
	case 3:
		return cwlocal.Faults{Throttle: true, Quotas: map[string]float64{"PutLogEvents": 5}}, "PutLogEvents quota 5/s"
	case 4:
		return cwlocal.Faults{DropRate: 0.2}, "20% of connections dropped without an answer"
	case 5:
		return cwlocal.Faults{Latency: time.Duration(200+rng.IntN(1800)) * time.Millisecond}, "slow answers"
	default:
		return cwlocal.Faults{DenyGroups: []string{groupName()}}, "access to the group denied"
	}
}
