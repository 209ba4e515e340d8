package tailer

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The model-based rotation test: an input decoded into actions on a real
// directory laid out like a node's (/var/log/containers links to
// /var/log/pods files): writes, kubelet rotations, copytruncates,
// deletions of live and rotated files, checkpoints, crash-restarts,
// SIGTERM-restarts, output outages and small spool bounds.
//
// During an outage the sink takes records and holds their
// acknowledgements, as a sink retrying against a failing CloudWatch does;
// the outage's end acknowledges them, in order or shuffled. A crash or a
// SIGTERM stop loses what the sink held: a line counts as delivered once it
// was acknowledged.
//
// It asserts that every line is delivered at least once, in order per file
// within a run, and delivered again after a restart only if it lies after
// the checkpoint persisted before it. A line may be missing only if its file
// is gone (deleted, or truncated), some run had a spool bound of a few
// lines, and the tailer counted it: at the end, the missing lines times the
// line length equal the bytes counted in skiff_input_skipped_bytes_total,
// whatever the reason. The one excess allowed: after a crash, the tailer
// counts the bytes after a file's last persisted offset when the file is
// deleted or truncated before it read them again, and some of them may have
// been acknowledged after that checkpoint was written.
//
// The model stays clear of physical loss, which no tailer can count: it
// deletes a file only once the tailer has it open (or every line of it was
// acknowledged), and after a deletion it waits until the tailer noticed it
// and either copied the unacknowledged bytes to the spool, gave up doing so
// (the spool's bound), or had nothing unacknowledged; only then may the
// agent crash. Files are deleted while the agent is stopped only after a
// SIGTERM stop, whose Close spools what is at risk; after a crash, a rotated
// file's unacknowledged bytes are kept only once spoolDelay passed (or the
// next start found it rotated), a window the model does not state.

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

// modelLineLen is the length of every line the model writes.
var modelLineLen = int64(len(criLine(modelMsg(0))))

func modelMsg(n int) string { return fmt.Sprintf("m-%07d", n) }

// heldRec is a record taken during an outage, its acknowledgement held.
type heldRec struct {
	pos Position
	msg string
}

// genSink is the consumer of one run of the tailer; after a crash it
// accepts nothing more.
type genSink struct {
	m    *model
	gen  int
	dead bool
}

func (s *genSink) Write(ctx context.Context, recs []Record) error {
	m := s.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.dead {
		return errors.New("crashed")
	}
	for _, r := range recs {
		msg := string(r.Message)
		if r.Flags&Malformed != 0 {
			m.t.Errorf("malformed record %q from %s", msg, r.File.Target)
		}
		key := r.Pos.Acker.(*ackChunk).tr // one key per file content
		if last, ok := m.lastSeq[key]; ok && last >= msg {
			m.t.Errorf("run %d: %q delivered after %q from the same file", s.gen, msg, last)
		}
		m.lastSeq[key] = msg
		m.delivered[msg] = append(m.delivered[msg], s.gen)
		if m.outage {
			m.held = append(m.held, heldRec{r.Pos, msg})
		} else {
			r.Pos.Ack()
			m.acked[msg] = true
		}
	}
	m.signal()
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
	// spoolMax is the MaxSpoolBytes of the next runs (0: the default);
	// eagerSpool makes them spool a rotated file's unacknowledged bytes at
	// once rather than spoolDelay after the rotation.
	spoolMax   int64
	eagerSpool bool
	// quickClose makes them close a rotated or deleted file as soon as it
	// was read to its end and acknowledged, rather than a quiet second
	// later: the model writes nothing more to a file once rotated.
	quickClose bool
	// eagerHold makes the spooler hold the copies next to any truncated
	// live file at once, as it does for a follower held up by the output.
	eagerHold bool
	bounded   bool // some run had a spool bound of a few lines

	mu        sync.Mutex
	changed   chan struct{}
	lines     map[string]modelLine // message → where it was written
	epoch     map[fileID]int
	heads     map[contentKey][]byte // the first bytes of each content
	delivered map[string][]int      // message → runs that delivered it
	acked     map[string]bool       // message → acknowledged once
	gone      map[contentKey]bool   // contents deleted or truncated
	mayCount  map[string]bool       // delivered lines a crash may have made uncovered
	lastSeq   map[*ackTracker]string
	outage    bool
	held      []heldRec

	gen     int
	sink    *genSink
	tl      *Tailer
	running bool
	reg     *prometheus.Registry
	skipped map[string]float64 // counted by the runs that ended
	cancel  context.CancelFunc
	done    chan error
}

// signal wakes the waits. Callers hold m.mu.
func (m *model) signal() {
	close(m.changed)
	m.changed = make(chan struct{})
}

func (m *model) start() {
	m.gen++
	m.sink = &genSink{m: m, gen: m.gen}
	m.mu.Lock()
	m.lastSeq = make(map[*ackTracker]string)
	m.mu.Unlock()
	m.reg = prometheus.NewRegistry()
	tl, err := New(Config{
		Include:            []string{filepath.Join(m.linkDir, "*.log")},
		StateDir:           m.state,
		RescanInterval:     1 << 40,
		CheckpointInterval: 1 << 40,
		ReadBudget:         minReadBudget,
		MaxSpoolBytes:      m.spoolMax,
		Logger:             modelLogger,
		Registerer:         m.reg,
	}, m.sink)
	if err != nil {
		m.t.Fatal(err)
	}
	if m.eagerSpool {
		tl.deps.spoolDelay = 0
	}
	if m.quickClose {
		tl.deps.closeQuiet = 0
	}
	if m.eagerHold {
		tl.deps.stallAfter = 0
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.tl, m.cancel, m.done = tl, cancel, make(chan error, 1)
	m.running = true
	go func() { m.done <- tl.Run(ctx) }()
	<-tl.scanned
}

// stop ends the run; with crash, nothing more is delivered or persisted.
// Without, it is the shutdown of cmd/skiff: Drain, Close, Checkpoint. Either
// way what the sink held is lost with it.
func (m *model) stop(crash bool) {
	if crash {
		m.mu.Lock()
		m.sink.dead = true
		m.mu.Unlock()
	}
	m.cancel()
	m.running = false
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
	} else {
		// A crash: the files are closed without a last checkpoint.
		m.tl.closeFiles()
	}
	m.mu.Lock()
	m.sink.dead = true
	m.held = nil
	for r, n := range skippedBytes(m.t, m.reg) {
		m.skipped[r] += n
	}
	m.reg = nil
	persisted := m.persisted()
	// Armed for the next run: a line acknowledged and persisted must not
	// come again.
	m.checkRedelivery(persisted)
	if crash {
		m.noteUncovered(persisted)
	}
	m.mu.Unlock()
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
		msg := modelMsg(m.seq)
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

// endOutage acknowledges what the sink held, in order or shuffled, and
// lets it acknowledge at once again.
func (m *model) endOutage(shuffle int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	held := m.held
	m.held, m.outage = nil, false
	if shuffle != 0 {
		r := rand.New(rand.NewPCG(uint64(shuffle), uint64(len(held))))
		r.Shuffle(len(held), func(i, j int) { held[i], held[j] = held[j], held[i] })
	}
	for _, h := range held {
		h.pos.Ack()
		m.acked[h.msg] = true
	}
	m.signal()
}

// rotated returns the rotated files of container c, oldest first.
func (m *model) rotated(c int) []string {
	des, err := os.ReadDir(m.logDirs[c])
	if err != nil {
		m.t.Fatal(err)
	}
	var out []string
	for _, de := range des {
		if strings.HasPrefix(de.Name(), "0.log.") {
			out = append(out, filepath.Join(m.logDirs[c], de.Name()))
		}
	}
	slices.Sort(out) // the suffix is a zero-padded sequence
	return out
}

// contentOf returns the content of the file at path.
func (m *model) contentOf(path string) (contentKey, int64, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return contentKey{}, 0, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return contentKey{idOf(fi), m.epoch[idOf(fi)]}, fi.Size(), true
}

// remove deletes the file at path, holding content k, as the kubelet does.
func (m *model) remove(path string, k contentKey) {
	if err := os.Remove(path); err != nil {
		m.t.Fatal(err)
	}
	m.mu.Lock()
	m.gone[k] = true
	m.epoch[k.id]++ // a new file may get the same inode: new content
	m.mu.Unlock()
}

// spoolBounds are the MaxSpoolBytes the input chooses from: the default
// and bounds of a few lines.
var spoolBounds = [...]int64{0, 3 * modelLineLen, 12 * modelLineLen, 40 * modelLineLen}

func (m *model) run(actions []byte) {
	for i := 0; i+1 < len(actions) && !m.t.Failed(); i += 2 {
		op, arg := actions[i]%16, int(actions[i+1])
		c := arg % len(m.logDirs)
		switch op {
		case 0, 1, 2, 13, 14: // write
			m.write(c, 1+arg%40)
		case 3, 15: // kubelet rotation: rename, the runtime reopens
			m.rotation++
			if _, err := os.Stat(m.live(c)); err == nil {
				if err := os.Rename(m.live(c), fmt.Sprintf("%s.%08d", m.live(c), m.rotation)); err != nil {
					m.t.Fatal(err)
				}
			}
			m.write(c, 1+arg%5)
		case 4: // copytruncate, once the tailer has caught up
			m.mu.Lock()
			outage := m.outage
			m.mu.Unlock()
			if outage {
				// Truncating lines read and not acknowledged loses them
				// on a crash, as the package documents: only a write.
				m.write(c, 1+arg%5)
				break
			}
			m.sync(true)
			if fi, err := os.Stat(m.live(c)); err == nil {
				if err := os.Truncate(m.live(c), 0); err != nil {
					m.t.Fatal(err)
				}
				m.mu.Lock()
				m.gone[contentKey{idOf(fi), m.epoch[idOf(fi)]}] = true
				m.epoch[idOf(fi)]++
				m.mu.Unlock()
			}
			m.write(c, 1+arg%5)
		case 5: // the container's file is deleted, once read
			m.sync(false)
			if k, size, ok := m.contentOf(m.live(c)); ok {
				m.remove(m.live(c), k)
				m.awaitProtected(k, size)
			}
		case 6:
			if err := m.tl.Checkpoint(); err != nil {
				m.t.Fatal(err)
			}
		case 7: // crash and restart from the last persisted checkpoint
			m.stop(true)
			m.start()
		case 8: // the output fails: the sink holds the acknowledgements
			m.mu.Lock()
			m.outage = true
			m.mu.Unlock()
		case 9: // the output recovers: in order, or shuffled across files
			m.endOutage(arg % 2 * arg)
		case 10: // the kubelet deletes the oldest rotated file, read or not
			if rs := m.rotated(c); len(rs) > 0 {
				if k, size, ok := m.contentOf(rs[0]); ok {
					m.awaitOpened(k)
					m.remove(rs[0], k)
					m.awaitProtected(k, size)
				}
			}
		case 11: // SIGTERM; the kubelet deletes rotated files while stopped
			rs := m.rotated(c)
			rs = rs[:min(len(rs), arg/2%3)]
			var ks []contentKey
			for _, r := range rs {
				k, _, _ := m.contentOf(r)
				m.awaitOpened(k)
				ks = append(ks, k)
			}
			m.stop(false)
			for i, r := range rs {
				m.remove(r, ks[i])
			}
			m.start()
		case 12: // crash, restart with another spool bound and timing
			m.stop(true)
			m.spoolMax = spoolBounds[arg/2%len(spoolBounds)]
			m.bounded = m.bounded || m.spoolMax != 0
			m.eagerSpool = arg/8%2 == 1
			m.quickClose = arg/16%2 == 1
			m.eagerHold = arg/32%2 == 1
			m.start()
		}
	}
	if m.t.Failed() {
		return
	}
	m.endOutage(0)
	m.sync(true)
	m.stop(false)
}

func runModel(t *testing.T, actions []byte) {
	root := t.TempDir()
	m := &model{
		t: t, root: root, state: filepath.Join(root, "state"),
		changed: make(chan struct{}), lines: make(map[string]modelLine), delivered: make(map[string][]int),
		acked: make(map[string]bool), gone: make(map[contentKey]bool), mayCount: make(map[string]bool), skipped: make(map[string]float64),
		epoch: make(map[fileID]int), heads: make(map[contentKey][]byte),
	}
	for _, c := range []string{"app", "sidecar"} {
		logDir, linkDir := podLayout(t, root, "default", "pod", c)
		m.logDirs = append(m.logDirs, logDir)
		m.linkDir = linkDir
	}
	// A failed action leaves the tailer running: stop it before the test
	// ends, for its sink reports to t.
	t.Cleanup(func() {
		if m.running {
			m.stop(true)
		}
	})
	m.start()
	m.run(actions)
	if t.Failed() {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.verify()
}

func FuzzRotationModel(f *testing.F) {
	// Ops (the first byte of a pair, modulo 16): 0-2, 13, 14 write; 3, 15
	// rotate; 4 copytruncate; 5 delete the live file; 6 checkpoint; 7
	// crash; 8 outage; 9 recovery; 10 delete the oldest rotated file; 11
	// SIGTERM, deleting rotated files while stopped; 12 crash, new spool
	// bound, timers and copy holding.
	f.Add([]byte{0, 10, 3, 0, 0, 20, 3, 1, 0, 7, 7, 0, 0, 3})
	// Copies held during an outage: copytruncated three times, the
	// oldest copies deleted, the recovery.
	f.Add([]byte{0, 10, 12, 32, 8, 0, 0, 10, 4, 0, 0, 10, 4, 0, 0, 10, 4, 0, 10, 0, 10, 0, 9, 0})
	f.Add([]byte{0, 30, 6, 0, 0, 30, 7, 0, 0, 5, 3, 2, 7, 1, 0, 9})
	f.Add([]byte{0, 8, 4, 0, 0, 8, 6, 0, 4, 1, 0, 3, 7, 0, 0, 2})
	f.Add([]byte{0, 12, 0, 13, 5, 0, 0, 4, 5, 1, 0, 6, 6, 0, 7, 0, 3, 0, 3, 0, 0, 1})
	f.Add([]byte{1, 39, 2, 38, 3, 0, 3, 0, 3, 0, 6, 0, 1, 20, 7, 0, 3, 1, 0, 4})
	// Found by the fuzzer: copytruncate, rotate, crash; the checkpoint held
	// the inode's previous content.
	f.Add([]byte("7+e\xb64\xe4\x179\x81\xf8\xe1\xd0\xc2\x13\x13J\xe5E\xb6h\xd4*\xf3ޗq\"\xe7\xc5\xf4$\xf4\xf5\xa3#ӄ\xba"))
	// An outage: rotations, the rotated files deleted while unacknowledged,
	// a crash, the recovery.
	f.Add([]byte{8, 0, 0, 20, 3, 0, 0, 16, 3, 0, 10, 0, 10, 0, 7, 0, 9, 1})
	// The same with a spool of 3 lines: the deleted files cannot be kept.
	f.Add([]byte{12, 2, 8, 0, 0, 20, 3, 0, 0, 16, 3, 0, 10, 0, 10, 0, 7, 0, 9, 0})
	// A spool of 12 lines: the second deletion evicts the first's copy.
	f.Add([]byte{12, 4, 8, 0, 0, 8, 3, 0, 0, 6, 3, 0, 10, 0, 10, 0, 7, 0, 9, 1})
	// SIGTERM during an outage, rotated files deleted while stopped, with
	// eager spooling and the default bound, then with a small one.
	f.Add([]byte{12, 8, 8, 0, 0, 20, 3, 0, 0, 10, 3, 2, 11, 4, 9, 3})
	f.Add([]byte{12, 10, 8, 0, 0, 20, 3, 0, 0, 10, 3, 2, 11, 4, 9, 3})
	// A live file deleted during an outage, a crash, a shuffled recovery.
	f.Add([]byte{8, 0, 0, 30, 1, 31, 5, 0, 5, 1, 7, 0, 0, 4, 9, 5})
	// Rotated files closed once acknowledged, spooled at once: an outage,
	// deletions, a crash; then the same with a spool of 3 lines, and a
	// SIGTERM instead of the crash.
	f.Add([]byte{12, 24, 8, 0, 0, 20, 3, 0, 0, 16, 3, 0, 10, 0, 10, 0, 7, 0, 9, 1})
	f.Add([]byte{12, 26, 8, 0, 0, 20, 3, 0, 0, 16, 3, 0, 10, 0, 7, 0, 9, 1})
	f.Add([]byte{12, 16, 8, 0, 0, 20, 3, 0, 0, 16, 3, 0, 3, 2, 11, 2, 10, 0, 9, 1})
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

// fuzzDeadline replaces it in a fuzzing worker, which gives up on an input
// after 10 s without a word of what the model was waiting for.
const fuzzDeadline = 5 * time.Second

func inFuzzWorker() bool {
	f := flag.Lookup("test.fuzzworker")
	return f != nil && f.Value.String() == "true"
}

// modelLogger, when set while debugging, receives the tailer's logs.
var modelLogger *slog.Logger
