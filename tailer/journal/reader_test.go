package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// collector is a Consumer keeping copies of what it receives.
type collector struct {
	mu      sync.Mutex
	entries []*Entry
	wake    chan struct{}
	refuse  int // batches to refuse before taking one
}

func newCollector() *collector { return &collector{wake: make(chan struct{}, 1)} }

func (c *collector) Write(ctx context.Context, batch []*Entry) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refuse > 0 {
		c.refuse--
		return errors.New("paused")
	}
	for _, e := range batch {
		cp := new(Entry)
		e.CopyTo(cp)
		c.entries = append(c.entries, cp)
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return nil
}

func (c *collector) snapshot() []*Entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.entries)
}

// waitFor waits until the collector holds n entries, or fails the test
// after a deadline.
func (c *collector) waitFor(t *testing.T, n int) []*Entry {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		if es := c.snapshot(); len(es) >= n {
			if len(es) > n {
				t.Fatalf("received %d entries; want %d", len(es), n)
			}
			return es
		}
		select {
		case <-c.wake:
		case <-deadline.C:
			t.Fatalf("received %d entries after 30s; want %d", len(c.snapshot()), n)
		}
	}
}

// running is a Reader running in the background.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func runReader(t *testing.T, r *Reader, c Consumer) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	run := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { run.done <- r.Run(ctx, c) }()
	t.Cleanup(run.stop)
	return run
}

func (run *running) stop() {
	run.cancel()
	<-run.done
	run.done <- nil // a second stop returns at once
}

// losses collects what OnLoss reports.
type losses struct {
	mu sync.Mutex
	l  []Loss
}

func (ls *losses) add(l Loss) {
	ls.mu.Lock()
	ls.l = append(ls.l, l)
	ls.mu.Unlock()
}

func (ls *losses) get() []Loss {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return slices.Clone(ls.l)
}

func (ls *losses) total(reason LossReason) uint64 {
	var n uint64
	for _, l := range ls.get() {
		if l.Reason == reason {
			n += l.Entries
		}
	}
	return n
}

// readAll reads what a Reader has now, without following.
func readAll(t *testing.T, r *Reader) []*Entry {
	t.Helper()
	batch := make([]*Entry, 7)
	for i := range batch {
		batch[i] = new(Entry)
	}
	var out []*Entry
	for {
		n := r.Read(batch)
		if n == 0 {
			return out
		}
		for _, e := range batch[:n] {
			cp := new(Entry)
			e.CopyTo(cp)
			out = append(out, cp)
		}
	}
}

func newTestReader(t *testing.T, cfg Config) *Reader {
	t.Helper()
	r, err := NewReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func seqnums(es []*Entry) []uint64 {
	var out []uint64
	for _, e := range es {
		out = append(out, e.Seqnum)
	}
	return out
}

// synthSeq returns a file of the sequence "seq" holding seqnums from
// first to last, one entry per millisecond of realtime.
func synthSeq(fileID string, first, last uint64, state State) []byte {
	s := newSynth(true, 0)
	copy(s.fileID[:], fileID)
	s.seqID = ID128{'s', 'e', 'q'}
	s.seqnum = first - 1
	for i := first; i <= last; i++ {
		s.entry(1_700_000_000_000_000+i*1000, i*1000, ID128{'b'}, fmt.Sprintf("MESSAGE=entry %d", i), "_SYSTEMD_UNIT=kubelet.service")
	}
	return s.bytes(state)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReaderMergesOneSequence reads a machine directory of three files of
// one sequence, archived and active, in seqnum order.
func TestReaderMergesOneSequence(t *testing.T) {
	root := t.TempDir()
	mdir := filepath.Join(root, testMachine)
	writeFile(t, filepath.Join(mdir, "system@7365710000000000000000000000000-0000000000000015-0005f.journal"), synthSeq("b", 21, 30, StateArchived))
	writeFile(t, filepath.Join(mdir, "system@7365710000000000000000000000000-0000000000000001-0005e.journal"), synthSeq("a", 1, 20, StateArchived))
	writeFile(t, filepath.Join(mdir, "system.journal"), synthSeq("c", 31, 45, StateOnline))
	writeFile(t, filepath.Join(root, "other-namespace", "x.journal"), synthSeq("d", 100, 101, StateOnline)) // not a machine ID
	writeFile(t, filepath.Join(mdir, "notes.txt"), []byte("not a journal"))
	var ls losses
	r := newTestReader(t, Config{Dirs: []string{root, filepath.Join(root, "missing")}, OnLoss: ls.add})
	got := seqnums(readAll(t, r))
	want := make([]uint64, 45)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Errorf("seqnums %v; want 1-45", got)
	}
	if l := ls.get(); len(l) != 0 {
		t.Errorf("losses %v", l)
	}
}

// TestReaderResume resumes from a cursor: after a rename of its file, and
// after its file was vacuumed, when the missing entries are counted.
func TestReaderResume(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "system.journal")
	writeFile(t, a, synthSeq("a", 1, 20, StateOnline))
	r := newTestReader(t, Config{Dirs: []string{root}})
	es := readAll(t, r)
	if len(es) != 20 {
		t.Fatalf("%d entries; want 20", len(es))
	}
	cur, err := ParseCursor(es[11].Cursor().String())
	if err != nil || cur != es[11].Cursor() {
		t.Fatalf("cursor round trip: %v %v", cur, err)
	}
	r.Close()

	// Rotated: renamed and archived; a new active file.
	archived := filepath.Join(root, "system@7365710000000000000000000000000-0000000000000001-0005e.journal")
	writeFile(t, archived, synthSeq("a", 1, 20, StateArchived))
	os.Remove(a)
	writeFile(t, a, synthSeq("b", 21, 30, StateOnline))
	var ls losses
	r = newTestReader(t, Config{Dirs: []string{root}, After: cur, OnLoss: ls.add})
	if got := seqnums(readAll(t, r)); !slices.Equal(got, []uint64{13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30}) {
		t.Errorf("after the cursor at 12: %v", got)
	}
	if l := ls.get(); len(l) != 0 {
		t.Errorf("losses %v", l)
	}
	r.Close()

	// Vacuumed: the archived file is gone; entries 13-20 are lost.
	os.Remove(archived)
	ls = losses{}
	r = newTestReader(t, Config{Dirs: []string{root}, After: cur, OnLoss: ls.add})
	if got := seqnums(readAll(t, r)); len(got) != 10 || got[0] != 21 {
		t.Errorf("after the vacuum: %v; want 21-30", got)
	}
	if n := ls.total(LossGap); n != 8 {
		t.Errorf("gap of %d entries reported (%v); want 8 (13-20)", n, ls.get())
	}
	r.Close()

	// Every file of the sequence gone.
	os.Remove(a)
	writeFile(t, filepath.Join(root, "remote.journal"), sampleBytes(t, "zstd"))
	ls = losses{}
	r = newTestReader(t, Config{Dirs: []string{root}, After: cur, OnLoss: ls.add})
	readAll(t, r)
	if l := ls.get(); len(l) != 1 || l[0].Reason != LossCursor {
		t.Errorf("losses %v; want one for the cursor", l)
	}
}

// TestReaderReadFromEnd delivers only what is written after the start.
func TestReaderReadFromEnd(t *testing.T) {
	root := t.TempDir()
	a := filepath.Join(root, "system.journal")
	writeFile(t, a, synthSeq("a", 1, 20, StateOnline))
	r := newTestReader(t, Config{Dirs: []string{root}, ReadFrom: ReadFromEnd})
	if es := readAll(t, r); len(es) != 0 {
		t.Fatalf("%d entries at the start; want none", len(es))
	}
	// The file grows in place.
	writeFile(t, a+".new", synthSeq("a", 1, 25, StateOnline))
	if err := copyInPlace(a+".new", a); err != nil {
		t.Fatal(err)
	}
	if got := seqnums(readAll(t, r)); !slices.Equal(got, []uint64{21, 22, 23, 24, 25}) {
		t.Errorf("after growth: %v; want 21-25", got)
	}
}

// copyInPlace overwrites dst's bytes with src's, keeping dst's inode, as
// a writer appending to it does.
func copyInPlace(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteAt(b, 0)
	return err
}

// TestReaderDropsCopies reads two files holding the same entries in two
// sequences (journald's flush from /run to /var copies them): each entry
// once.
func TestReaderDropsCopies(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.journal"), sampleBytes(t, "plain"))
	writeFile(t, filepath.Join(root, "b.journal"), sampleBytes(t, "compact"))
	r := newTestReader(t, Config{Dirs: []string{root}})
	es := readAll(t, r)
	want := golden(t, "plain")
	if len(es) != len(want) {
		t.Fatalf("%d entries; want the %d of one file", len(es), len(want))
	}
	for i, e := range es {
		if e.Realtime != want[i].realtime {
			t.Fatalf("entry %d at %d; want %d", i, e.Realtime, want[i].realtime)
		}
	}
}

// TestReaderFilter selects entries with the filters Container Insights
// uses.
func TestReaderFilter(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.journal"), sampleBytes(t, "zstd"))
	all := readAll(t, newTestReader(t, Config{Dirs: []string{root}}))
	for _, tc := range []struct {
		name   string
		filter Filter
		want   func(e *Entry) bool
	}{
		{"dataplane units", Filter{{Fields: []string{"_SYSTEMD_UNIT=kubelet.service", "_SYSTEMD_UNIT=containerd.service", "_SYSTEMD_UNIT=docker.service"}}},
			func(e *Entry) bool {
				u, _ := e.Value("_SYSTEMD_UNIT")
				return string(u) == "kubelet.service" || string(u) == "containerd.service"
			}},
		{"and across fields", Filter{{Fields: []string{"_SYSTEMD_UNIT=containerd.service", "PRIORITY=3"}}},
			func(e *Entry) bool {
				u, _ := e.Value("_SYSTEMD_UNIT")
				p, _ := e.Value("PRIORITY")
				return string(u) == "containerd.service" && string(p) == "3"
			}},
		{"host", Filter{
			{Fields: []string{"_TRANSPORT=kernel"}},
			{Priorities: PriorityRange(0, 6), Not: []string{"SYSLOG_FACILITY=2", "SYSLOG_FACILITY=9", "SYSLOG_FACILITY=10"}},
			{Fields: []string{"SYSLOG_FACILITY=10"}},
		}, func(e *Entry) bool {
			tr, _ := e.Value("_TRANSPORT")
			f, _ := e.Value("SYSLOG_FACILITY")
			p, ok := e.Priority()
			return string(tr) == "kernel" || string(f) == "10" || ok && p <= 6 && string(f) != "2" && string(f) != "9"
		}},
		{"priority", Filter{{Priorities: PriorityRange(0, 4)}}, func(e *Entry) bool { p, ok := e.Priority(); return ok && p <= 4 }},
		{"binary value", Filter{{Fields: []string{"BINARY_FIELD=line one\nline two\x00\x01\x02 16"}}}, func(e *Entry) bool { return e.Seqnum == 17 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []uint64
			for _, e := range all {
				if tc.want(e) {
					want = append(want, e.Seqnum)
				}
			}
			got := seqnums(readAll(t, newTestReader(t, Config{Dirs: []string{root}, Filter: tc.filter})))
			if !slices.Equal(got, want) || len(want) == 0 || len(want) == len(all) {
				t.Errorf("seqnums %v; want %v of %d", got, want, len(all))
			}
		})
	}
}

// TestConfigValidate checks the errors of bad configurations.
func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{ReadFrom: "middle"}, "ReadFrom"},
		{Config{BatchSize: -1}, "BatchSize"},
		{Config{PollInterval: time.Microsecond}, "PollInterval"},
		{Config{Namespace: "a/b"}, "Namespace"},
		{Config{Dirs: []string{""}}, "Dirs"},
		{Config{Filter: Filter{{Fields: []string{"lower=case"}}}}, "bad field name"},
		{Config{Filter: Filter{{Fields: []string{"NOEQUALS"}}}}, "FIELD=value"},
		{Config{Filter: Filter{{Not: []string{"1X=a"}}}}, "bad field name"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v; want an ErrConfig about %s", tc.cfg, err, tc.want)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
}

// TestRunNoGoroutineLeft checks that Run leaves nothing running behind.
func TestRunNoGoroutineLeft(t *testing.T) {
	before := runtime.NumGoroutine()
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.journal"), sampleBytes(t, "zstd"))
	r := newTestReader(t, Config{Dirs: []string{root}})
	c := newCollector()
	run := runReader(t, r, c)
	c.waitFor(t, 40)
	run.stop()
	r.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after Run; %d before\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
	}
}

// TestRunRefusedBatch offers a refused batch again.
func TestRunRefusedBatch(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.journal"), synthSeq("a", 1, 5, StateArchived))
	r := newTestReader(t, Config{Dirs: []string{root}})
	c := newCollector()
	c.refuse = 1
	runReader(t, r, c)
	if got := seqnums(c.waitFor(t, 5)); !slices.Equal(got, []uint64{1, 2, 3, 4, 5}) {
		t.Errorf("seqnums %v", got)
	}
}

// TestReadAllocations checks that the Reader adds no allocation per entry
// to the File's (TestNextAllocations).
func TestReadAllocations(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, "a.journal"), sampleBytes(t, "plain"))
	cfg := Config{Dirs: []string{root}, Filter: Filter{{Fields: []string{"_SYSTEMD_UNIT=kubelet.service"}}}}
	batch := []*Entry{new(Entry)}
	r0 := newTestReader(t, cfg)
	for r0.Read(batch) > 0 { // the entry grows to the largest
	}
	r := newTestReader(t, cfg)
	for range 3 {
		r.Read(batch)
	}
	if avg := testing.AllocsPerRun(8, func() {
		if r.Read(batch) != 1 {
			t.Fatal("no entry")
		}
	}); avg != 0 {
		t.Errorf("%.2f allocations per Read", avg)
	}
}
