// The harness of the end-to-end tests: a simulated node, an in-process
// cwlocal, and the built agent binary run against them.

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/bench/nodesim"
	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

// node is a simulated node and a local CloudWatch, for the agent binary.
type node struct {
	t     *testing.T
	dir   string
	sim   *nodesim.Sim
	cw    *cwlocal.Server
	cfg   string // config file path
	port  int
	env   []string
	grace time.Duration // shutdown_timeout plus a margin
	stop  context.CancelFunc
	simWG sync.WaitGroup

	simCfg nodesim.Config
	procs  []*proc // every run of the agent, in order
}

// makeLogs creates the node's log directories and files.
func (n *node) makeLogs() {
	n.t.Helper()
	sim, err := nodesim.New(n.simCfg)
	if err != nil {
		n.t.Fatal(err)
	}
	n.sim = sim
}

type nodeOptions struct {
	pods         int
	rate         float64
	rotateBytes  int64
	bufferBytes  string
	timeout      string
	env          []string // more environment for the agent
	copyTruncate bool     // rotate by copytruncate instead of rename
	late         bool     // the log directory appears only at makeLogs
	spoolBytes   string   // tail.max_spool_bytes
	journal      bool     // turn on the journal inputs (off outside a cluster)
	longFraction float64  // of the lines, 40 KiB ones written as partial chunks
	multiline    string   // tail.multiline: the rule that joins every file's lines
	traces       float64  // of the pods, those that log stack traces (one in ten messages)
	logLevel     string   // log.level; info when empty
}

func newNode(t *testing.T, o nodeOptions) *node {
	t.Helper()
	n := &node{t: t, dir: t.TempDir(), env: o.env}
	n.simCfg = nodesim.Config{
		Root: filepath.Join(n.dir, "log"), Pods: o.pods, Namespace: "e2e", Rate: o.rate,
		LineBytes: 200, RotateBytes: o.rotateBytes, MaxFiles: 5, CopyTruncate: o.copyTruncate,
		LongFraction: o.longFraction, TraceFraction: o.traces,
	}
	glob := filepath.Join(n.simCfg.Root, "containers", "*.log")
	if !o.late {
		n.makeLogs()
	}
	if o.spoolBytes == "" {
		o.spoolBytes = "1GiB"
	}
	var err error
	n.cw, err = cwlocal.NewServer(cwlocal.Options{AccessKey: demoAccessKey, SecretKey: demoSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.cw.Close() })
	n.port = freePort(t)
	if o.bufferBytes == "" {
		o.bufferBytes = "8MiB"
	}
	if o.timeout == "" {
		o.timeout = "10s"
	}
	timeout, err := time.ParseDuration(o.timeout)
	if err != nil {
		t.Fatal(err)
	}
	n.grace = timeout + 10*time.Second
	if o.logLevel == "" {
		o.logLevel = "info"
	}
	rescan := "1s"
	if o.late {
		rescan = "1h" // the new directory must be found by its events
	}
	yaml := fmt.Sprintf(`cluster: %s
node_name: 'demo-node'
shutdown_timeout: %s
http:
  listen: 127.0.0.1:%d
log:
  format: json
  level: %s
tail:
  include: [%s]
  state_dir: %s
  checkpoint_interval: 200ms
  rescan_interval: %s
  max_spool_bytes: %s
  multiline: %q
journal:
  dirs: [%s]
  read_from: beginning
cloudwatch:
  region: %s
  endpoint: %s
  buffer_bytes: %s
  flush_interval: 200ms
`, demoCluster, o.timeout, n.port, o.logLevel, glob, filepath.Join(n.dir, "state"), rescan, o.spoolBytes, o.multiline,
		n.journalDir(), demoRegion, n.cw.URL(), o.bufferBytes)
	if o.journal {
		yaml += "inputs:\n"
		for _, name := range []string{"dataplane", "host-dmesg", "host-messages", "host-secure"} {
			yaml += "  " + name + ": {enabled: true}\n"
		}
	}
	n.cfg = filepath.Join(n.dir, "skiff.yaml")
	if err := os.WriteFile(n.cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(n.dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	return n
}

// journalDir is the node's journal directory (the agent's journal.dirs):
// created by the tests that write a journal.
func (n *node) journalDir() string { return filepath.Join(n.dir, "journal") }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// write starts the pods writing; stopWriting stops them and waits.
func (n *node) write() {
	ctx, cancel := context.WithCancel(context.Background())
	n.stop = cancel
	n.simWG.Go(func() { _ = n.sim.Run(ctx) })
}

func (n *node) stopWriting() {
	n.stop()
	n.simWG.Wait()
}

// proc is one run of the agent binary.
type proc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan struct{}
	err    error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (n *node) start() *proc {
	n.t.Helper()
	cmd := exec.Command(skiffBin, "run", "--config", n.cfg)
	cmd.Env = append([]string{"AWS_ACCESS_KEY_ID=" + demoAccessKey, "AWS_SECRET_ACCESS_KEY=" + demoSecretKey, "HOME=" + n.dir}, n.env...)
	p := &proc{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		n.t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	n.procs = append(n.procs, p)
	n.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if n.t.Failed() {
			n.t.Logf("agent log:\n%s", p.stderr)
		}
	})
	n.waitReady(p)
	return p
}

// waitReady polls /readyz until the agent runs.
func (n *node) waitReady(p *proc) {
	n.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			n.t.Fatalf("agent exited at start: %v\n%s", p.err, p.stderr)
		default:
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", n.port))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.t.Fatalf("agent not ready after 20s\n%s", p.stderr)
}

// stopAgent sends SIGTERM and waits at most within for the exit code.
func (n *node) stopAgent(p *proc, within time.Duration) int {
	n.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		n.t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(within):
		n.t.Fatalf("agent still running %s after SIGTERM\n%s", within, p.stderr)
	}
	return p.cmd.ProcessState.ExitCode()
}

func (n *node) kill(p *proc) {
	n.t.Helper()
	_ = p.cmd.Process.Kill()
	<-p.done
}

// metric reads one metric's value (summed over its series) from /metrics.
func (n *node) metric(name string) float64 {
	n.t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", n.port))
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+" ") && !strings.HasPrefix(line, name+"{") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return sum
}

func (n *node) tally() nodesim.Tally {
	r := readBack(n.cw, n.sim)
	if r.tally.Lost > 0 {
		n.explainLost(n.sim)
	}
	return r.tally
}

// explainLost logs, per stream of sim, the lines missing from cwlocal as
// ranges, and whether the first of them are in a file at all, to tell an
// agent's loss from a writer's.
func (n *node) explainLost(sim *nodesim.Sim) {
	n.explainLostIn(sim, func(int) string { return groupName() })
}

// explainLostIn is explainLost for streams shipped to groupOf(stream).
func (n *node) explainLostIn(sim *nodesim.Sim, groupOf func(int) string) {
	for i := range sim.Streams() {
		seen := map[int64]bool{}
		for _, link := range sim.Links(i) {
			for _, e := range n.cw.Events(groupOf(i), streamNameOf(demoNode, link)) {
				if m, ok := nodesim.FindMarker(e.Message); ok {
					seen[m.Seq] = true
				}
			}
		}
		var ranges []string
		var first []int64
		start := int64(-1)
		lines := sim.StreamLines(i)
		for seq := int64(0); seq <= lines; seq++ {
			if seq < lines && !seen[seq] {
				if start < 0 {
					start = seq
				}
				if len(first) < 3 {
					first = append(first, seq)
				}
				continue
			}
			if start >= 0 {
				ranges = append(ranges, fmt.Sprintf("%d-%d", start, seq-1))
				start = -1
			}
		}
		if len(ranges) == 0 {
			continue
		}
		n.t.Logf("stream %d (%s): lines %s of %d not delivered", i, sim.Stream(i).Dir, strings.Join(ranges, ", "), lines)
		files, _ := filepath.Glob(filepath.Join(sim.Stream(i).Dir, "*"))
		for _, seq := range first {
			needle := fmt.Sprintf("%s%d:%d:", nodesim.MarkerPrefix, i, seq)
			where := "in no file"
			for _, f := range files {
				if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(needle)) {
					where = "in " + filepath.Base(f)
				}
			}
			n.t.Logf("stream %d line %d is %s", i, seq, where)
		}
	}
}

// waitFor polls cond every 20ms until it holds or within passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// written waits until the pods wrote at least lines more lines.
func (n *node) written(lines int64) {
	n.t.Helper()
	target := n.sim.Stats().Lines + lines
	waitFor(n.t, 30*time.Second, fmt.Sprintf("%d lines written", target), func() bool { return n.sim.Stats().Lines >= target })
}

// finish stops the writers, lets a fresh agent deliver the rest, and
// returns the account of every event read back from cwlocal.
func (n *node) finish(p *proc) nodesim.Tally {
	n.t.Helper()
	n.stopWriting()
	if p == nil {
		p = n.start()
	}
	if code := n.stopAgent(p, n.grace); code != 0 {
		n.t.Fatalf("exit code %d after the final SIGTERM\n%s", code, p.stderr)
	}
	return n.tally()
}
