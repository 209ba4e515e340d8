package tailer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// eventWait bounds how long a test waits for an event the kernel queued
// already; no test waits it out when the event comes.
const eventWait = 10 * time.Second

func newTestInotify(t *testing.T) *inotify {
	t.Helper()
	w, err := newInotify()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// watches counts the directory and file watches w knows.
func (w *inotify) watches() (dirs, files int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.dirs), len(w.files)
}

// nextEvent returns the next event, or fails after eventWait.
func nextEvent(t *testing.T, w *inotify) fsnotify.Event {
	t.Helper()
	select {
	case ev := <-w.Events():
		return ev
	case err := <-w.Errors():
		t.Fatalf("error instead of an event: %v", err)
	case <-time.After(eventWait):
		t.Fatal("no event")
	}
	return fsnotify.Event{}
}

// fence makes an event after everything done before it and returns the
// events that came first: the kernel queues a watch's events in order.
func fence(t *testing.T, w *inotify, dir string) []fsnotify.Event {
	t.Helper()
	mark := filepath.Join(dir, "fence-"+strconv.FormatInt(time.Now().UnixNano(), 10))
	if err := os.Mkdir(mark, 0o755); err != nil {
		t.Fatal(err)
	}
	var before []fsnotify.Event
	for {
		ev := nextEvent(t, w)
		if ev.Name == mark {
			return before
		}
		before = append(before, ev)
	}
}

// TestInotifyDirectoryEvents: a watched directory reports entries
// created, renamed, removed and their modes changed, as fsnotify would,
// and not the writes to its files.
func TestInotifyDirectoryEvents(t *testing.T) {
	w := newTestInotify(t)
	dir := t.TempDir()
	if err := w.Add(dir); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "0.log")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if ev := nextEvent(t, w); ev.Name != p || ev.Op != fsnotify.Create {
		t.Fatalf("create: got %v; want CREATE %s", ev, p)
	}
	for i := range 100 {
		fmt.Fprintf(f, "line %d\n", i)
	}
	if evs := fence(t, w, dir); len(evs) != 0 {
		t.Fatalf("writes reported: %v", evs)
	}
	if err := os.Chmod(p, 0o600); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w); ev.Name != p || ev.Op != fsnotify.Chmod {
		t.Fatalf("chmod: got %v; want CHMOD %s", ev, p)
	}
	rotated := p + ".1"
	if err := os.Rename(p, rotated); err != nil {
		t.Fatal(err)
	}
	from, to := nextEvent(t, w), nextEvent(t, w)
	if from.Name != p || from.Op != fsnotify.Rename || to.Name != rotated || to.Op != fsnotify.Create {
		t.Fatalf("rename: got %v, %v; want RENAME %s, CREATE %s", from, to, p, rotated)
	}
	if err := os.Remove(rotated); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w); ev.Name != rotated || ev.Op != fsnotify.Remove {
		t.Fatalf("remove: got %v; want REMOVE %s", ev, rotated)
	}

	// The directory itself goes: reported under its own name, and its
	// watch is forgotten.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	fence(t, w, dir)
	if err := w.Add(sub); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(sub); err != nil {
		t.Fatal(err)
	}
	var self bool
	for _, ev := range fence(t, w, dir) {
		self = self || ev.Name == sub && ev.Has(fsnotify.Remove)
	}
	if !self {
		t.Error("the removed directory did not report its own removal")
	}
	if dirs, _ := w.watches(); dirs != 1 {
		t.Errorf("%d directory watches after one was removed; want 1", dirs)
	}
}

// TestInotifyWriteWatch: a file's write watch wakes once, at its next
// write or truncation, follows the open file through a rotation and its
// deletion, and stays silent once cancelled.
func TestInotifyWriteWatch(t *testing.T) {
	w := newTestInotify(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "0.log")
	wf, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer wf.Close()
	rf, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer rf.Close()
	woken := make(chan struct{}, 100)
	wake := func() { woken <- struct{}{} }
	waitWake := func(what string) {
		t.Helper()
		select {
		case <-woken:
		case <-time.After(eventWait):
			t.Fatalf("%s: no wakeup", what)
		}
	}
	// noWake checks that nothing woke, after a write to an unrelated
	// watched file has woken: the kernel reports in order.
	other := filepath.Join(dir, "other.log")
	noWake := func(what string) {
		t.Helper()
		of, err := os.OpenFile(other, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer of.Close()
		done := make(chan struct{})
		if _, err := w.watchWrite(of, func() { close(done) }); err != nil {
			t.Fatal(err)
		}
		of.WriteString("x\n")
		select {
		case <-done:
		case <-time.After(eventWait):
			t.Fatal("the unrelated file's write did not wake")
		}
		if n := len(woken); n != 0 {
			t.Fatalf("%s: %d wakeups; want none", what, n)
		}
	}

	wd, err := w.watchWrite(rf, wake)
	if err != nil {
		t.Fatal(err)
	}
	noWake("armed, nothing written")
	for i := range 50 {
		fmt.Fprintf(wf, "line %d\n", i)
	}
	waitWake("first write")
	for i := range 3 {
		fmt.Fprintf(wf, "more %d\n", i)
		noWake("a write after the one that woke")
	}

	// Asking twice before a write is one watch, and one wakeup; a fired
	// one-shot watch is gone, and the new one has a new number.
	wd2, err := w.watchWrite(rf, wake)
	if err != nil {
		t.Fatal(err)
	}
	wd3, err := w.watchWrite(rf, wake)
	if err != nil {
		t.Fatal(err)
	}
	if wd2 == wd || wd3 != wd2 {
		t.Errorf("watches %d, then %d and %d; want a new one, then the same twice", wd, wd2, wd3)
	}
	wf.WriteString("again\n")
	waitWake("write after asking again")
	noWake("after the second wakeup")

	// Truncation wakes.
	if _, err := w.watchWrite(rf, wake); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, 0); err != nil {
		t.Fatal(err)
	}
	waitWake("truncation")

	// Rotated, then deleted: the watch follows the open file, not the
	// name.
	if err := os.Rename(p, p+".1"); err != nil {
		t.Fatal(err)
	}
	nf, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer nf.Close()
	if _, err := w.watchWrite(rf, wake); err != nil {
		t.Fatal(err)
	}
	nf.WriteString("the new file\n")
	noWake("write to the new file at the old name")
	if err := os.Remove(p + ".1"); err != nil {
		t.Fatal(err)
	}
	wf.WriteString("late write to the deleted file\n")
	waitWake("write to the rotated, deleted file")

	// Cancelled: silent; cancelling a fired watch again is harmless.
	wd4, err := w.watchWrite(rf, wake)
	if err != nil {
		t.Fatal(err)
	}
	w.unwatchWrite(wd4)
	w.unwatchWrite(wd3)
	wf.WriteString("after the cancel\n")
	noWake("cancelled watch")
	if _, files := w.watches(); files != 0 {
		t.Errorf("%d file watches left; want none", files)
	}
}

// TestInotifyOverflow: when the kernel's queue overflows, the watcher says
// so on Errors (the tailer then rescans and wakes every file).
func TestInotifyOverflow(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Skip(err)
	}
	limit, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || limit > 65536 {
		t.Skipf("max_queued_events %q: too many files to overflow it", b)
	}
	w := newTestInotify(t)
	dir := t.TempDir()
	if err := w.Add(dir); err != nil {
		t.Fatal(err)
	}
	// The reader fills its channel and waits; the kernel queues the rest.
	for i := range limit + eventBuffer + 100 {
		f, err := os.Create(filepath.Join(dir, strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	deadline := time.After(eventWait)
	for {
		select {
		case <-w.Events():
		case err := <-w.Errors():
			if !errors.Is(err, fsnotify.ErrEventOverflow) {
				t.Fatalf("error %v; want ErrEventOverflow", err)
			}
			return
		case <-deadline:
			t.Fatal("no overflow reported")
		}
	}
}

// TestInotifyClose: Close ends the reader (Events is closed) and a second
// Close says it was closed.
func TestInotifyClose(t *testing.T) {
	w, err := newInotify()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case _, ok := <-w.Events():
		if ok {
			t.Fatal("an event after Close")
		}
	case <-time.After(eventWait):
		t.Fatal("Events not closed after Close")
	}
	if err := w.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close: %v; want ErrClosed", err)
	}
}

// countingWatcher counts the write wakeups of a watcher.
type countingWatcher struct {
	watcher
	wakes *atomic.Int64
}

func (w countingWatcher) watchWrite(file *os.File, wake func()) (int32, error) {
	return w.watcher.watchWrite(file, func() { w.wakes.Add(1); wake() })
}

// TestTailerWatchesWritesOnRequest: with the inotify watcher, files
// written every few milliseconds, one of them rotated meanwhile, are read
// whole with a handful of write wakeups, not one per write; a quiet file's
// next write wakes it.
func TestTailerWatchesWritesOnRequest(t *testing.T) {
	const files, writes = 5, 200
	dir := t.TempDir()
	var paths []string
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("%d.log", i))
		appendFile(t, p, criLines([]string{"first"}))
		paths = append(paths, p)
	}
	c := newCollector()
	var wakes atomic.Int64
	tl, _ := startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}}, c, func(tl *Tailer) {
		tl.newWatcher = func() (watcher, error) {
			w, err := newWatcher()
			if err != nil {
				return nil, err
			}
			return countingWatcher{w, &wakes}, nil
		}
	})
	c.waitFor(t, "the first lines", func() bool { return c.count() == files })
	armed := func() bool {
		tl.mu.Lock()
		defer tl.mu.Unlock()
		n := 0
		for _, f := range tl.byID {
			if f.armed.Load() {
				n++
			}
		}
		return n == len(tl.byID)
	}
	eventually(t, "every quiet file watched for writes", armed)

	for i := range writes {
		for j, p := range paths {
			appendFile(t, p, criLines([]string{fmt.Sprintf("w%d f%d", i, j)}))
		}
		if i == writes/2 {
			if err := os.Rename(paths[0], paths[0]+".1"); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	want := files + writes*files
	c.waitFor(t, "every line", func() bool { return c.count() == want })
	if n := wakes.Load(); n > 3*files {
		t.Errorf("%d write wakeups for %d writes to %d files; want a few per file", n, writes*files, files)
	}

	eventually(t, "every quiet file watched again", armed)
	before := wakes.Load()
	appendFile(t, paths[2], criLines([]string{"last"}))
	c.waitFor(t, "the last line", func() bool { return c.count() == want+1 })
	if n := wakes.Load() - before; n != 1 {
		t.Errorf("%d wakeups for a write to a quiet file; want 1", n)
	}
}
