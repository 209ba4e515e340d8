package tailer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// collector is a Consumer that keeps copies of what it receives. It acks
// every record after Write unless holdAcks is set; it blocks in Write while
// blocked is closed-over and not released.
type collector struct {
	mu       sync.Mutex
	changed  chan struct{} // closed and replaced at every Write
	lines    map[string][]string
	recs     []Record
	holdAcks bool
	held     []Position
	block    chan struct{} // when non-nil, Write waits for it to be closed
	writes   int
}

func newCollector() *collector {
	return &collector{changed: make(chan struct{}), lines: make(map[string][]string)}
}

func (c *collector) Write(ctx context.Context, recs []Record) error {
	c.mu.Lock()
	block := c.block
	c.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	for _, r := range recs {
		r.Message = []byte(string(r.Message))
		c.recs = append(c.recs, r)
		key := r.File.Target
		c.lines[key] = append(c.lines[key], string(r.Message))
		if c.holdAcks {
			c.held = append(c.held, r.Pos)
		} else {
			r.Pos.Ack()
		}
	}
	close(c.changed)
	c.changed = make(chan struct{})
	return nil
}

// setBlock makes Write block until the returned function is called.
func (c *collector) setBlock() (release func()) {
	ch := make(chan struct{})
	c.mu.Lock()
	c.block = ch
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		if c.block == ch {
			c.block = nil
		}
		c.mu.Unlock()
		close(ch)
	}
}

// waitForAll waits until every line of want has arrived, from any file,
// duplicates allowed.
func (c *collector) waitForAll(t *testing.T, want []string) {
	t.Helper()
	c.waitFor(t, "every line", func() bool {
		got := map[string]bool{}
		for _, lines := range c.all() {
			for _, l := range lines {
				got[l] = true
			}
		}
		for _, l := range want {
			if !got[l] {
				return false
			}
		}
		return true
	})
}

// ackHeld acknowledges every held record.
func (c *collector) ackHeld() {
	c.mu.Lock()
	held := c.held
	c.held = nil
	c.mu.Unlock()
	for _, p := range held {
		p.Ack()
	}
}

// all returns every message received, over all files, in arrival order per
// file.
func (c *collector) all() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]string, len(c.lines))
	for k, v := range c.lines {
		out[k] = append([]string(nil), v...)
	}
	return out
}

func (c *collector) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.recs)
}

// waitFor waits until cond holds, waking at every Write. fsnotify and the
// followers are asynchronous, so this is the one place a test waits; the
// deadline is generous and only a failure reaches it.
func (c *collector) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			c.mu.Lock()
			for k, v := range c.lines {
				t.Logf("%s: %d lines", k, len(v))
			}
			c.mu.Unlock()
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// criLine is a containerd line carrying msg.
func criLine(msg string) string {
	return "2026-11-26T14:02:03.5Z stdout F " + msg + "\n"
}

// appendFile appends s to a file, creating it.
func appendFile(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// podLayout makes the kubelet's layout under root: the pod's log directory
// and the /var/log/containers-like directory of symlinks. It returns the
// container's log directory and the symlink directory.
func podLayout(t testing.TB, root, ns, pod, container string) (logDir, linkDir string) {
	t.Helper()
	logDir = filepath.Join(root, "pods", fmt.Sprintf("%s_%s_%s-uid", ns, pod, pod), container)
	linkDir = filepath.Join(root, "containers")
	for _, d := range []string{logDir, linkDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	id := strings.Repeat("ab", 32)
	link := filepath.Join(linkDir, fmt.Sprintf("%s_%s_%s-%s.log", pod, ns, container, id))
	if err := os.Symlink(filepath.Join(logDir, "0.log"), link); err != nil && !os.IsExist(err) {
		t.Fatal(err)
	}
	return logDir, linkDir
}

func init() {
	// make unit runs the tailer's tests again with fsnotify's watcher,
	// which every system but Linux uses.
	if os.Getenv("SKIFF_TEST_WATCHER") == "fsnotify" {
		defaultWatcher = newFsWatcher
	}
}

// startTailer runs a tailer until the test ends and returns it with a
// function that stops Run and waits for it.
func startTailer(t testing.TB, cfg Config, out Consumer, setup ...func(*Tailer)) (*Tailer, func()) {
	t.Helper()
	tl, err := New(cfg, out)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range setup {
		s(tl)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tl.Run(ctx) }()
	select {
	case <-tl.scanned:
	case <-time.After(20 * time.Second):
		t.Fatal("the first scan did not finish")
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(func() {
		stop()
		_ = tl.Drain(context.Background())
		_ = tl.Close()
	})
	return tl, stop
}

func seq(prefix string, from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("%s-%06d", prefix, i))
	}
	return out
}

func criLines(msgs []string) string {
	var b strings.Builder
	for _, m := range msgs {
		b.WriteString(criLine(m))
	}
	return b.String()
}

// testCounter reads a counter's value.
func testCounter(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// eventually polls cond, for what no Write signals (a file closing a quiet
// second after its last byte). The deadline is generous; only a failure
// reaches it.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// openFollower opens path and registers a follower for it with tl from
// start (-1: the file's size), as discovery does before Run starts it. The
// file is closed when the test ends.
func openFollower(t testing.TB, tl *Tailer, path string, start int64) *follower {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	fi, err := file.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if start < 0 {
		start = fi.Size()
	}
	f := newFollower(tl.deps, file, idOf(fi), parseMeta(path, path), start, fingerprint{})
	tl.byID[f.id], tl.byTarget[path] = f, f
	return f
}

// runFollower runs f's goroutine until cancel is called (or the test
// ends); done is closed when it returns.
func runFollower(t testing.TB, f *follower) (cancel func(), done <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch := make(chan struct{})
	go func() { f.run(ctx); close(ch) }()
	return cancel, ch
}
