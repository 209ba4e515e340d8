package tailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The model-based rotation test: an input decoded into actions on a real
// directory laid out like a node's (/var/log/containers links to
// /var/log/pods files): writes, kubelet rotations, copytruncates,
// deletions, checkpoints and crash-restarts. It asserts that every line is
// delivered at least once, in order per file within a run, and that a line
// is delivered again after a crash only if it lies after the checkpoint
// persisted before the crash.

// modelLine is one line the model wrote.
type modelLine struct {
	content contentKey
	start   int64 // offset of its first byte
}

// contentKey is one content of a file: copytruncate starts a new one.
type contentKey struct {
	id    fileID
	epoch int
}

// genSink is the consumer of one run of the tailer; after a crash it
// accepts nothing more.
type genSink struct {
	m    *model
	gen  int
	dead bool
}

func (s *genSink) Write(ctx context.Context, recs []Record) error {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.dead {
		return errors.New("crashed")
	}
	for _, r := range recs {
		msg := string(r.Message)
		if r.Flags&Malformed != 0 {
			s.m.t.Errorf("malformed record %q from %s", msg, r.File.Target)
		}
		key := r.Pos.Acker.(*ackChunk).tr // one key per file content
		if last, ok := s.m.lastSeq[key]; ok && last >= msg {
			s.m.t.Errorf("run %d: %q delivered after %q from the same file", s.gen, msg, last)
		}
		s.m.lastSeq[key] = msg
		s.m.delivered[msg] = append(s.m.delivered[msg], s.gen)
		r.Pos.Ack()
	}
	close(s.m.changed)
	s.m.changed = make(chan struct{})
	return nil
}

type model struct {
	t        *testing.T
	root     string
	state    string
	logDirs  []string
	linkDir  string
	seq      int
	rotation int

	mu        sync.Mutex
	changed   chan struct{}
	lines     map[string]modelLine // message → where it was written
	epoch     map[fileID]int
	heads     map[contentKey][]byte // the first bytes of each content
	delivered map[string][]int      // message → runs that delivered it
	lastSeq   map[*ackTracker]string

	gen    int
	sink   *genSink
	tl     *Tailer
	cancel context.CancelFunc
	done   chan error
}

func (m *model) start() {
	m.gen++
	m.sink = &genSink{m: m, gen: m.gen}
	m.mu.Lock()
	m.lastSeq = make(map[*ackTracker]string)
	m.mu.Unlock()
	tl, err := New(Config{
		Include:            []string{filepath.Join(m.linkDir, "*.log")},
		StateDir:           m.state,
		RescanInterval:     1 << 40,
		CheckpointInterval: 1 << 40,
		ReadBudget:         minReadBudget,
		Logger:             modelLogger,
	}, m.sink)
	if err != nil {
		m.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.tl, m.cancel, m.done = tl, cancel, make(chan error, 1)
	go func() { m.done <- tl.Run(ctx) }()
	<-tl.scanned
}

// stop ends the run; with crash, nothing more is delivered or persisted.
func (m *model) stop(crash bool) {
	if crash {
		m.mu.Lock()
		m.sink.dead = true
		m.mu.Unlock()
	}
	m.cancel()
	if err := <-m.done; err != nil {
		m.t.Errorf("Run: %v", err)
	}
	if !crash {
		if err := m.tl.Drain(context.Background()); err != nil {
			m.t.Errorf("Drain: %v", err)
		}
		if err := m.tl.Close(); err != nil {
			m.t.Errorf("Close: %v", err)
		}
		if err := m.tl.Checkpoint(); err != nil {
			m.t.Errorf("Checkpoint: %v", err)
		}
		return
	}
	// A crash: the files are closed without a last checkpoint.
	m.tl.closeFiles()
}

// persisted reads the checkpoint on disk.
func (m *model) persisted() map[fileID]ckptEntry {
	out := make(map[fileID]ckptEntry)
	data, err := os.ReadFile(filepath.Join(m.state, checkpointName))
	if err != nil {
		return out
	}
	es, err := decodeCheckpoint(data)
	if err != nil {
		m.t.Fatalf("checkpoint on disk is corrupt: %v", err)
	}
	for _, e := range es {
		out[e.id()] = e
	}
	return out
}

func (m *model) live(c int) string { return filepath.Join(m.logDirs[c], "0.log") }

func (m *model) write(c, n int) {
	path := m.live(c)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		m.t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		m.t.Fatal(err)
	}
	off := fi.Size()
	key := contentKey{idOf(fi), m.epoch[idOf(fi)]}
	for range n {
		msg := fmt.Sprintf("m-%07d", m.seq)
		m.seq++
		line := criLine(msg)
		if _, err := f.WriteString(line); err != nil {
			m.t.Fatal(err)
		}
		m.mu.Lock()
		m.lines[msg] = modelLine{content: key, start: off}
		if h := m.heads[key]; len(h) < fingerprintBytes {
			m.heads[key] = append(h, line[:min(len(line), fingerprintBytes-len(h))]...)
		}
		m.mu.Unlock()
		off += int64(len(line))
	}
}

// sync waits until every line written so far was delivered at least once.
func (m *model) sync() {
	m.t.Helper()
	defer func() {
		if m.t.Failed() {
			m.mu.Lock()
			n := 0
			for msg, l := range m.lines {
				if len(m.delivered[msg]) == 0 && n < 10 {
					m.t.Logf("missing %s %+v", msg, l)
					n++
				}
			}
			m.mu.Unlock()
		}
	}()
	waitCond(m.t, &m.mu, func() chan struct{} { return m.changed }, "every line delivered", func() bool {
		for msg := range m.lines {
			if len(m.delivered[msg]) == 0 {
				return false
			}
		}
		return true
	})
}

func (m *model) run(actions []byte) {
	for i := 0; i+1 < len(actions); i += 2 {
		op, arg := actions[i]%8, int(actions[i+1])
		c := arg % len(m.logDirs)
		switch op {
		case 0, 1, 2: // write
			m.write(c, 1+arg%40)
		case 3: // kubelet rotation: rename, the runtime reopens
			m.rotation++
			if _, err := os.Stat(m.live(c)); err == nil {
				if err := os.Rename(m.live(c), fmt.Sprintf("%s.%08d", m.live(c), m.rotation)); err != nil {
					m.t.Fatal(err)
				}
			}
			m.write(c, 1+arg%5)
		case 4: // copytruncate, once the tailer has caught up
			m.sync()
			if fi, err := os.Stat(m.live(c)); err == nil {
				if err := os.Truncate(m.live(c), 0); err != nil {
					m.t.Fatal(err)
				}
				m.mu.Lock()
				m.epoch[idOf(fi)]++
				m.mu.Unlock()
			}
			m.write(c, 1+arg%5)
		case 5: // the container's file is deleted, once read
			m.sync()
			if fi, err := os.Stat(m.live(c)); err == nil {
				os.Remove(m.live(c))
				// A new file may get the same inode: it is new content.
				m.mu.Lock()
				m.epoch[idOf(fi)]++
				m.mu.Unlock()
			}
		case 6:
			if err := m.tl.Checkpoint(); err != nil {
				m.t.Fatal(err)
			}
		case 7: // crash and restart from the last persisted checkpoint
			m.stop(true)
			before := m.persisted()
			m.mu.Lock()
			m.checkRedelivery(before)
			m.mu.Unlock()
			m.start()
		}
	}
	m.sync()
	m.stop(false)
}

// checkRedelivery arms the check of the next run: a line delivered again
// must lie after what was persisted for its file. Callers hold m.mu.
func (m *model) checkRedelivery(persisted map[fileID]ckptEntry) {
	for msg, gens := range m.delivered {
		l := m.lines[msg]
		e, ok := persisted[l.content.id]
		if !ok {
			continue
		}
		// Is the entry about this content of the file?
		head := m.heads[l.content]
		if len(head) < e.FingerprintBytes {
			continue
		}
		fp, _ := readFingerprint(bytes.NewReader(head), e.FingerprintBytes)
		if fp != e.fingerprint() {
			continue
		}
		if l.start < e.Offset {
			// Acked and persisted: must never come again. Mark it.
			if gens[len(gens)-1] != -1 {
				m.delivered[msg] = append(gens[:len(gens):len(gens)], -1)
			}
		}
	}
}

// verify checks what the runs delivered.
func (m *model) verify() {
	for msg := range m.lines {
		gens := m.delivered[msg]
		if len(gens) == 0 {
			m.t.Errorf("%s was never delivered", msg)
			continue
		}
		for i, g := range gens {
			if g == -1 && i+1 < len(gens) {
				m.t.Errorf("%s was delivered again by run %d after a checkpoint covered it", msg, gens[i+1])
			}
		}
	}
}

func runModel(t *testing.T, actions []byte) {
	root := t.TempDir()
	m := &model{
		t: t, root: root, state: filepath.Join(root, "state"),
		changed: make(chan struct{}), lines: make(map[string]modelLine), delivered: make(map[string][]int),
		epoch: make(map[fileID]int), heads: make(map[contentKey][]byte),
	}
	for _, c := range []string{"app", "sidecar"} {
		logDir, linkDir := podLayout(t, root, "default", "pod", c)
		m.logDirs = append(m.logDirs, logDir)
		m.linkDir = linkDir
	}
	m.start()
	m.run(actions)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.verify()
}

// waitCond waits for cond, woken by the channel changed returns; mu guards
// what cond reads.
func waitCond(t testing.TB, mu *sync.Mutex, changed func() chan struct{}, what string, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(modelDeadline)
	defer timer.Stop()
	for {
		mu.Lock()
		ch := changed()
		ok := cond()
		mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			t.Errorf("timed out waiting for %s", what)
			return
		}
	}
}

func FuzzRotationModel(f *testing.F) {
	f.Add([]byte{0, 10, 3, 0, 0, 20, 3, 1, 0, 7, 7, 0, 0, 3})
	f.Add([]byte{0, 30, 6, 0, 0, 30, 7, 0, 0, 5, 3, 2, 7, 1, 0, 9})
	f.Add([]byte{0, 8, 4, 0, 0, 8, 6, 0, 4, 1, 0, 3, 7, 0, 0, 2})
	f.Add([]byte{0, 12, 0, 13, 5, 0, 0, 4, 5, 1, 0, 6, 6, 0, 7, 0, 3, 0, 3, 0, 0, 1})
	f.Add([]byte{1, 39, 2, 38, 3, 0, 3, 0, 3, 0, 6, 0, 1, 20, 7, 0, 3, 1, 0, 4})
	// Found by the fuzzer: copytruncate, rotate, crash; the checkpoint held
	// the inode's previous content.
	f.Add([]byte("7+e\xb6<\xe4\x179\x81\xf8\xe1\xd0\xc2\x13\x1bJ\xedE\xbeh\xd4*\xfb\u079fq*\xe7\xc5\xf4$\xf4\xf5\xa3+\u04c4\xba"))
	f.Fuzz(func(t *testing.T, actions []byte) {
		if len(actions) > 64 {
			actions = actions[:64]
		}
		runModel(t, actions)
	})
}

// TestRotationModelRandom runs the model on pseudo-random action lists
// (fixed seed) on top of the fuzz seeds.
func TestRotationModelRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 8 {
		in := make([]byte, 64)
		for j := range in {
			in[j] = byte(r.IntN(256))
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) { runModel(t, in) })
	}
}

// modelDeadline bounds each wait of the model; only a failure reaches it.
var modelDeadline = 20 * time.Second

// modelLogger, when set while debugging, receives the tailer's logs.
var modelLogger *slog.Logger
