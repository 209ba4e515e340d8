package tailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// writer appends numbered lines to a file, up to 20,000, until stopped, and
// reports how many it wrote.
func writer(t *testing.T, path, prefix string) (stop func() int) {
	quit := make(chan struct{})
	done := make(chan int)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			t.Error(err)
			done <- 0
			return
		}
		defer f.Close()
		n := 0
		for n < 20000 {
			select {
			case <-quit:
				done <- n
				return
			default:
			}
			if _, err := f.WriteString(criLines(seq(prefix, n, n+10))); err != nil {
				t.Error(err)
			}
			n += 10
		}
		<-quit
		done <- n
	}()
	return func() int { close(quit); return <-done }
}

func TestRestartFromCheckpointWhileWriting(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "app.log")
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, RescanInterval: 1 << 40}
	stopWriting := writer(t, path, "w")

	first := newCollector()
	tl, stop := startTailer(t, cfg, first)
	first.waitFor(t, "lines before the restart", func() bool { return first.count() > 2000 })
	stop()
	if err := tl.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tl.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if n := tl.Unacked(); n != 0 {
		t.Errorf("Unacked() = %d after every record was acked; want 0", n)
	}
	before := first.all()[path]

	second := newCollector()
	startTailer(t, cfg, second)
	total := stopWriting()
	want := seq("w", 0, total)
	second.waitFor(t, "every line after the restart", func() bool { return len(before)+len(second.all()[path]) >= total })
	after := second.all()[path]
	got := append(slices.Clone(before), after...)
	if !slices.Equal(got, want) {
		t.Fatalf("before (%d) + after (%d) lines are not the %d written lines in order", len(before), len(after), total)
	}
}

func TestCheckpointV1Compatible(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "checkpoint-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := decodeCheckpoint(data)
	if err != nil {
		t.Fatalf("decodeCheckpoint(testdata v1) error: %v", err)
	}
	if len(entries) != 2 {
		t.Fatalf("got %d entries; want 2", len(entries))
	}
	e := entries[0]
	if e.id() != (fileID{Dev: 66306, Ino: 1234567}) || e.Offset != 10485760 || e.fingerprint() != (fingerprint{N: 1024, Sum: 0x8c5b2a1f0e9d7c64}) ||
		e.Target != "/var/log/pods/prod_web-7d9f_0a1b2c3d-0000-4000-8000-000000000001/nginx/0.log" {
		t.Errorf("entry 0 = %+v", e)
	}
	again := appendCheckpoint(nil, entries)
	if string(again) != string(data) {
		t.Errorf("re-encoding changed the file:\n%s\nwant\n%s", again, data)
	}
}

func TestCorruptCheckpoint(t *testing.T) {
	good := appendCheckpoint(nil, []ckptEntry{{Dev: 1, Inode: 2, Offset: 3, Path: "p"}})
	tests := map[string][]byte{
		"torn":         good[:len(good)/2],
		"bit flip":     append([]byte(nil), good...),
		"version 2":    []byte(`{"version":2,"checksum":"00000000","files":[]}`),
		"garbage":      []byte("\x00\x00\x00"),
		"empty":        nil,
		"bad checksum": []byte(`{"version":1,"checksum":"zz","files":[]}`),
	}
	tests["bit flip"][len(good)-10] ^= 1
	for name, data := range tests {
		if _, err := decodeCheckpoint(data); !errors.Is(err, ErrCorruptCheckpoint) {
			t.Errorf("%s: decodeCheckpoint error = %v; want ErrCorruptCheckpoint", name, err)
		}
	}

	// A corrupt file on disk: the tailer says so, keeps a copy and reads
	// from the beginning, also with read_from end: what was delivered is
	// unknown, so nothing may be skipped.
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "app.log")
	appendFile(t, path, criLines(seq("c", 0, 10)))
	if err := os.WriteFile(filepath.Join(state, checkpointName), tests["torn"], 0o600); err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	tl, _ := startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, ReadFrom: ReadFromEnd}, c)
	c.waitFor(t, "lines read from the beginning", func() bool { return len(c.all()[path]) == 10 })
	if _, err := os.Stat(filepath.Join(state, checkpointName+".corrupt")); err != nil {
		t.Errorf("no copy of the corrupt checkpoint: %v", err)
	}
	if got := testCounter(tl.m.ckptErrors.WithLabelValues(ckptCorrupt)); got != 1 {
		t.Errorf("corrupt checkpoints counted %v; want 1", got)
	}
}

func TestReadFromEnd(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, "old.log")
	appendFile(t, old, criLines(seq("old", 0, 10)))
	c := newCollector()
	startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}, ReadFrom: ReadFromEnd}, c)
	// A file that appears later is read from its beginning.
	late := filepath.Join(dir, "late.log")
	appendFile(t, late, criLines(seq("late", 0, 5)))
	appendFile(t, old, criLines(seq("old", 10, 15)))
	c.waitFor(t, "new lines", func() bool { return len(c.all()[old]) == 5 && len(c.all()[late]) == 5 })
	if got := c.all()[old]; !slices.Equal(got, seq("old", 10, 15)) {
		t.Errorf("old file gave %q; want only the lines written after the start", got)
	}
}

func TestCheckpointOnlyAfterAck(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "app.log")
	data := criLines(seq("a", 0, 100))
	appendFile(t, path, data)
	c := newCollector()
	c.holdAcks = true
	tl, _ := startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state}, c)
	c.waitFor(t, "the lines", func() bool { return c.count() == 100 })
	offset := func() int64 {
		if err := tl.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(filepath.Join(state, checkpointName))
		if err != nil {
			t.Fatal(err)
		}
		es, err := decodeCheckpoint(raw)
		if err != nil || len(es) != 1 {
			t.Fatalf("checkpoint %s: %v", raw, err)
		}
		return es[0].Offset
	}
	if got := offset(); got != 0 {
		t.Errorf("checkpoint before any ack = %d; want 0", got)
	}
	if got := tl.Unacked(); got != int64(len(data)) {
		t.Errorf("Unacked() = %d; want %d", got, len(data))
	}
	c.ackHeld()
	if got := offset(); got != int64(len(data)) {
		t.Errorf("checkpoint after every ack = %d; want %d", got, len(data))
	}
}

// halfTaker takes half of each batch and then blocks until ctx is done, as
// a sink whose budget fills in the middle of a Write.
type halfTaker struct {
	*collector
	blocking atomic.Bool
	entered  chan struct{}
}

func (h *halfTaker) Write(ctx context.Context, recs []Record) error {
	if !h.blocking.Load() {
		return h.collector.Write(ctx, recs)
	}
	if err := h.collector.Write(ctx, recs[:len(recs)/2]); err != nil {
		return err
	}
	select {
	case h.entered <- struct{}{}:
	default:
	}
	<-ctx.Done()
	return ctx.Err()
}

// TestCancelledWriteIsSentAgain: a Write cut short by shutdown leaves a
// batch partly taken; Drain sends it again so that the checkpoint reaches
// the end of the file and the next start reads nothing twice.
func TestCancelledWriteIsSentAgain(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "app.log")
	data := criLines(seq("r", 0, 1000))
	appendFile(t, path, data)
	h := &halfTaker{collector: newCollector(), entered: make(chan struct{}, 1)}
	h.blocking.Store(true)
	tl, stop := startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state}, h)
	<-h.entered
	stop()
	h.blocking.Store(false)
	if err := tl.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tl.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(state, checkpointName))
	if err != nil {
		t.Fatal(err)
	}
	es, err := decodeCheckpoint(raw)
	if err != nil || len(es) != 1 || es[0].Offset != int64(len(data)) {
		t.Fatalf("checkpoint %+v, %v; want one entry at %d", es, err, len(data))
	}
	got := h.all()[path]
	seen := make(map[string]bool)
	for _, l := range got {
		seen[l] = true
	}
	for _, l := range seq("r", 0, 1000) {
		if !seen[l] {
			t.Errorf("%s never delivered", l)
		}
	}
}

// TestSpoolResumeWithOlderCheckpoint: the checkpoint was written while the
// file was shorter than when it was deleted and copied to the spool, so its
// fingerprint covers fewer bytes than the copy's. The restart still resumes
// the copy at the checkpointed offset and does not count the file as gone.
func TestSpoolResumeWithOlderCheckpoint(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "0.log")
	lineLen := int64(len(criLine(seq("s", 0, 1)[0])))
	first := criLines(seq("s", 0, 2))
	appendFile(t, path, first)
	appendFile(t, path, criLines(seq("s", 2, 10)))
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state}
	// The earlier run: one line acknowledged and checkpointed while the
	// file held two; the file deleted and copied whole to the spool.
	fi, _ := spoolDeleted(t, cfg, path)
	e := newEntry(idOf(fi), fingerprintOf([]byte(first)), parseMeta(path, path), lineLen, time.Now())
	e.Size = 2 * lineLen
	data := appendCheckpoint(nil, []ckptEntry{e})
	if err := os.WriteFile(filepath.Join(state, checkpointName), data, 0o600); err != nil {
		t.Fatal(err)
	}

	c := newCollector()
	tl, _ := startTailer(t, cfg, c)
	c.waitFor(t, "the spooled lines", func() bool { return c.count() >= 9 })
	if got := c.all()[path]; !slices.Equal(got, seq("s", 1, 10)) {
		t.Errorf("got %q; want the lines after the checkpoint, %q", got, seq("s", 1, 10))
	}
	if got := testCounter(tl.m.skipped.WithLabelValues(skipGone)); got != 0 {
		t.Errorf("skipped %s bytes = %v; want 0, the bytes are in the spool", skipGone, got)
	}
}

// TestRotatedNextToSpooledFile: the live file was deleted, and copied to
// the spool, after its predecessor was rotated, and the agent crashed
// before a checkpoint named either. The restart finds the rotated file next
// to the spooled file's path.
func TestRotatedNextToSpooledFile(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	live := filepath.Join(dir, "0.log")
	appendFile(t, live, criLines(seq("r", 0, 5)))
	if err := os.Rename(live, live+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, live, criLines(seq("l", 0, 5)))
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state}
	spoolDeleted(t, cfg, live)
	// The checkpoint of the first start, when neither file existed.
	data := appendCheckpoint(nil, nil)
	if err := os.WriteFile(filepath.Join(state, checkpointName), data, 0o600); err != nil {
		t.Fatal(err)
	}

	c := newCollector()
	startTailer(t, cfg, c)
	c.waitFor(t, "the rotated and the spooled lines", func() bool { return c.count() >= 10 })
	if got := c.all()[live+".1"]; !slices.Equal(got, seq("r", 0, 5)) {
		t.Errorf("rotated file gave %q; want %q", got, seq("r", 0, 5))
	}
}

// TestUnspooledBytesCheckpointed: the unacknowledged bytes of a deleted
// file the spool has no room for are checkpointed at once, all of them,
// read or not, so that the start after a crash counts them as skipped.
func TestUnspooledBytesCheckpointed(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "0.log")
	data := criLines(seq("u", 0, 10))
	appendFile(t, path, data)
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, MaxSpoolBytes: 100}
	tl, err := New(cfg, newCollector())
	if err != nil {
		t.Fatal(err)
	}
	f := openFollower(t, tl, path, 0)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	f.protect(false)
	raw, err := os.ReadFile(filepath.Join(state, checkpointName))
	if err != nil {
		t.Fatalf("no checkpoint after the spool refused a deleted file: %v", err)
	}
	es, err := decodeCheckpoint(raw)
	if err != nil || len(es) != 1 || es[0].Unsafe != skipSpoolFull || es[0].Offset != 0 || es[0].Size != int64(len(data)) {
		t.Fatalf("checkpoint %+v, %v; want one entry, unsafe for %s, from 0 to %d", es, err, skipSpoolFull, len(data))
	}

	next, _ := startTailer(t, cfg, newCollector())
	if got := testCounter(next.m.skipped.WithLabelValues(skipSpoolFull)); got != float64(len(data)) {
		t.Errorf("skipped %s bytes = %v after the crash; want %d", skipSpoolFull, got, len(data))
	}
}

// TestProtectWaitsForTruncation: a deleted file that was truncated and
// written again since its follower last looked is not spooled from the old
// content's offsets (which would keep new bytes under the old identity and
// skip the new content's start): the follower is asked to look first.
func TestProtectWaitsForTruncation(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "0.log")
	appendFile(t, path, criLines(seq("old", 0, 5)))
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state}
	c := newCollector()
	tl, err := New(cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	f := openFollower(t, tl, path, 0)
	if err := f.catchUp(t.Context(), false, false); err != nil {
		t.Fatal(err)
	}
	// Truncated, written again past the old end, deleted: all before the
	// follower looks again.
	if err := os.WriteFile(path, []byte(criLines(seq("new", 0, 12))), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	f.protect(false)
	f.mu.Lock()
	sf := f.spooled
	f.mu.Unlock()
	if sf != nil {
		t.Fatalf("spooled %d-%d of the new content as the old content's rest", sf.meta.Base, sf.meta.End)
	}
	select {
	case <-f.wake:
	default:
		t.Error("the follower was not asked to look at the truncated file")
	}
	// The follower looks: it reads the new content from its start.
	if err := f.catchUp(t.Context(), false, false); err != nil {
		t.Fatal(err)
	}
	if got, want := c.all()[path], append(seq("old", 0, 5), seq("new", 0, 12)...); !slices.Equal(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestDrainReadsFilesFoundLate: a file that appeared just before the stop,
// which Run did not get to (a rotation's new file, its fsnotify event
// still queued), is read by the drain, not left for the next start.
func TestDrainReadsFilesFoundLate(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	early, late := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	appendFile(t, early, criLines(seq("a", 0, 3)))
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, RescanInterval: 1 << 40}
	c := newCollector()
	tl, stop := startTailer(t, cfg, c)
	c.waitFor(t, "the first file", func() bool { return c.count() == 3 })
	stop()
	appendFile(t, late, criLines(seq("b", 0, 4))) // after Run's last look
	if err := tl.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.all()[late]; !slices.Equal(got, seq("b", 0, 4)) {
		t.Errorf("drain read %q of the file found late; want all of it", got)
	}
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestCopytruncatedWhileStoppedCounted: skiff crashes with bytes of a file
// read but not acknowledged; the file is copytruncated while skiff is
// stopped, and the copy deleted before it starts again: those bytes are
// nowhere, and the start counts them (it used to take the checkpoint entry
// of the inode, now another file's, and forget it); the new content is
// read. With the copy still there, it is read from the checkpoint's offset
// and nothing is counted.
func TestCopytruncatedWhileStoppedCounted(t *testing.T) {
	for _, tc := range []struct {
		name           string
		keepCopy, aged bool
	}{
		{"copy deleted", false, false},
		{"copy kept", true, false},
		// Made while skiff ran, before its last checkpoint, and never
		// opened (the follower was held up): older than the checkpoint.
		{"copy older than the checkpoint", true, true},
	} {
		keepCopy := tc.keepCopy
		t.Run(tc.name, func(t *testing.T) {
			dir, state := t.TempDir(), t.TempDir()
			path := filepath.Join(dir, "0.log")
			old := criLines(seq("old", 0, 10))
			acked := criLines(seq("old", 0, 4))
			appendFile(t, path, acked)
			cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, RescanInterval: 1 << 40}
			first := newCollector()
			first.holdAcks = true
			tl, stop := startTailer(t, cfg, first)
			// The first four lines are acknowledged, the next six read and
			// not; then a crash after a checkpoint: no shutdown spooled
			// them.
			first.waitFor(t, "the first lines", func() bool { return first.count() == 4 })
			first.ackHeld()
			appendFile(t, path, old[len(acked):])
			first.waitFor(t, "the old lines", func() bool { return first.count() == 10 })
			eventually(t, "the checkpoint at the acknowledged lines", func() bool {
				if err := tl.Checkpoint(); err != nil {
					t.Fatal(err)
				}
				raw, err := os.ReadFile(filepath.Join(state, checkpointName))
				if err != nil {
					return false
				}
				es, err := decodeCheckpoint(raw)
				return err == nil && len(es) == 1 && es[0].Offset == int64(len(acked)) && es[0].Size == int64(len(old))
			})
			stop()
			// copytruncate while stopped, then more lines in the file.
			copyPath := path + ".1"
			if err := os.WriteFile(copyPath, []byte(old), 0o640); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(criLines(seq("new", 0, 3))), 0o640); err != nil {
				t.Fatal(err)
			}
			if !keepCopy {
				if err := os.Remove(copyPath); err != nil {
					t.Fatal(err)
				}
			}
			if tc.aged {
				past := time.Now().Add(-time.Hour)
				if err := os.Chtimes(copyPath, past, past); err != nil {
					t.Fatal(err)
				}
			}
			second := newCollector()
			next, _ := startTailer(t, cfg, second)
			second.waitFor(t, "the new lines", func() bool { return len(second.all()[path]) >= 3 })
			want := 0.0
			if !keepCopy {
				want = float64(len(old) - len(acked))
			} else {
				// Read from the checkpoint's offset, not from its start.
				second.waitFor(t, "the copy's lines", func() bool { return len(second.all()[copyPath]) >= 6 })
				if got := second.all()[copyPath]; !slices.Equal(got, seq("old", 4, 10)) {
					t.Errorf("read %q from the copy; want the lines after the acknowledged ones", got)
				}
			}
			var got float64
			for _, r := range []string{skipTruncated, skipGone} {
				got += testCounter(next.m.skipped.WithLabelValues(r))
			}
			if got != want {
				t.Errorf("skipped bytes = %v; want %v", got, want)
			}
		})
	}
}

// TestCopytruncateWhileHeldUp: the output blocks the follower mid-Write;
// meanwhile the file is copytruncated six times and written again each
// time, and every copy but the last two is deleted, as logrotate's rotate
// count does. The copies were held open while the follower waited: once
// the output takes records again, every line arrives, nothing is counted
// as skipped.
func TestCopytruncateWhileHeldUp(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "0.log")
	appendFile(t, path, criLines(seq("a", 0, 10)))
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, RescanInterval: 1 << 40}
	tl, _, c, release := startHeldUp(t, cfg)
	var copies []string
	want := seq("a", 0, 10)
	for k := range 6 {
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cp := fmt.Sprintf("%s.%d", path, k)
		if err := os.WriteFile(cp, old, 0o640); err != nil {
			t.Fatal(err)
		}
		lines := seq(fmt.Sprintf("c%d-", k), 0, 10)
		if err := os.WriteFile(path, []byte(criLines(lines)), 0o640); err != nil {
			t.Fatal(err)
		}
		want = append(want, lines...)
		tl.wakeSpooler()
		waitHeld(t, tl, cp, path)
		if copies = append(copies, cp); len(copies) > 2 {
			if err := os.Remove(copies[0]); err != nil {
				t.Fatal(err)
			}
			copies = copies[1:]
		}
	}
	release()
	c.waitFor(t, "every line", func() bool { return c.count() >= len(want) })
	var got []string
	for _, r := range c.recs {
		got = append(got, string(r.Message))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("got %d lines %q\nwant %d %q", len(got), got, len(want), want)
	}
	if n := testCounter(tl.m.skipped.WithLabelValues(skipTruncated)); n != 0 {
		t.Errorf("%v bytes skipped as truncated; want 0", n)
	}
}

// TestSpoolKeptUntilCheckpointed: a file resumed from the spool is
// delivered and closed, and skiff crashes before the next checkpoint. The
// spool entry must outlive the checkpoint that still says its bytes are
// unacknowledged: the next start reads them again instead of counting them
// as deleted while stopped.
func TestSpoolKeptUntilCheckpointed(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "0.log.1")
	appendFile(t, path, criLines(seq("s", 0, 10)))
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, CheckpointInterval: 1 << 40}
	// An earlier run: nothing acknowledged, the file deleted and copied to
	// the spool.
	fi, fp := spoolDeleted(t, cfg, path)
	e := newEntry(idOf(fi), fp, parseMeta(path, path), 0, time.Now())
	e.Size = fi.Size()
	if err := os.WriteFile(filepath.Join(state, checkpointName), appendCheckpoint(nil, []ckptEntry{e}), 0o600); err != nil {
		t.Fatal(err)
	}

	// The next run writes its first checkpoint (the file unacknowledged),
	// then delivers it all and closes it, then crashes.
	c := newCollector()
	release := c.setBlock()
	second, stop := startTailer(t, cfg, c, func(tl *Tailer) { tl.deps.closeQuiet = 0 })
	release()
	c.waitFor(t, "the spooled lines", func() bool { return c.count() == 10 })
	eventually(t, "the spooled file closed", func() bool { return testCounter(second.m.filesClosed) == 1 })
	stop()

	third := newCollector()
	tl, _ := startTailer(t, cfg, third)
	if got := testCounter(tl.m.skipped.WithLabelValues(skipGone)); got != 0 {
		t.Errorf("skipped %s bytes = %v; want 0: they were delivered, and the spool still had them", skipGone, got)
	}
	third.waitFor(t, "the spooled lines again", func() bool { return third.count() == 10 })
}

// spoolDeleted copies the file at path whole to the spool of cfg, as an
// earlier run does for a deleted file, and deletes it. It returns the
// file's info and fingerprint.
func spoolDeleted(t *testing.T, cfg Config, path string) (os.FileInfo, fingerprint) {
	t.Helper()
	tl, err := New(cfg, newCollector())
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	fi, err := file.Stat()
	if err != nil {
		t.Fatal(err)
	}
	fp, err := readFingerprint(file, int(fi.Size()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tl.spool.save(nil, file, idOf(fi), fp, parseMeta(path, path), 0, 0, fi.Size(), true, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	return fi, fp
}

// TestCopyOpenBeforeTruncation: skiff starts between the two steps of a
// copytruncate, after the copy and before the truncation, and reads the
// copy whole as a file rotated while it was stopped. When the live file's
// follower then finds its file truncated with bytes it had not read, the
// copy already being read holds them: nothing is counted as skipped.
func TestCopyOpenBeforeTruncation(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "0.log")
	old := seq("a", 0, 8000) // more than one read budget
	appendFile(t, path, criLines(old))
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, RescanInterval: 1 << 40}
	first := newCollector()
	first.holdAcks = true
	tl, stop := startTailer(t, cfg, first)
	first.waitFor(t, "the first lines", func() bool { return first.count() > 0 })
	if err := tl.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	stop()
	if err := os.WriteFile(path+".1", []byte(criLines(old)), 0o640); err != nil {
		t.Fatal(err)
	}
	second := newCollector()
	release := sync.OnceFunc(second.setBlock())
	next, _ := startTailer(t, cfg, second, func(tl *Tailer) { tl.deps.stallAfter = time.Hour })
	t.Cleanup(release) // before the tailer's cleanup drains
	eventually(t, "the live file's follower blocked after its first read", func() bool {
		next.mu.Lock()
		defer next.mu.Unlock()
		live := next.byTarget[path]
		return len(next.byID) == 2 && live != nil && live.readOff.Load() > 0 && live.readOff.Load() < live.size.Load()
	})
	fresh := seq("b", 0, 30)
	if err := os.WriteFile(path, []byte(criLines(fresh)), 0o640); err != nil {
		t.Fatal(err)
	}
	release()
	want := append(slices.Clone(old), fresh...)
	second.waitForAll(t, want)
	if n := testCounter(next.m.skipped.WithLabelValues(skipTruncated)); n != 0 {
		t.Errorf("%v bytes skipped as truncated; want 0 (the copy was being read)", n)
	}
}

// TestCopytruncateDuringShutdown: the file is copytruncated twice and
// written again while the shutdown's drain waits for the output, after the
// follower last looked. Close must not spool the newest content under the
// old content's identity, and must keep the copies for the next start,
// though they are older than its checkpoint: it reads the old content and
// the one in between from the copies, the newest from the file, and
// counts nothing as lost.
func TestCopytruncateDuringShutdown(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "0.log")
	// More than the 1 KiB fingerprint each.
	old, middle, fresh := seq("a", 0, 60), seq("m", 0, 40), seq("b", 0, 30)
	appendFile(t, path, criLines(old))
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, RescanInterval: 1 << 40}
	c := newCollector()
	c.holdAcks = true // CloudWatch down: nothing is acknowledged
	tl, err := New(cfg, c)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tl.Run(ctx) }()
	c.waitFor(t, "every line read", func() bool { return c.count() == len(old) })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	dctx, dcancel := context.WithCancel(context.Background())
	dcancel() // the shutdown timeout passed
	_ = tl.Drain(dctx)
	// The copies are older than the checkpoint Close writes, made while
	// a tailer running for two hours could not look.
	past := time.Now().Add(-time.Hour)
	tl.mu.Lock()
	tl.startedAt = past.Add(-time.Hour)
	tl.mu.Unlock()
	for i, content := range [][]string{old, middle} {
		cp := fmt.Sprintf("%s.%d", path, i+1)
		if err := os.WriteFile(cp, []byte(criLines(content)), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(cp, past, past); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, []byte(criLines(fresh)), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := tl.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := tl.Checkpoint(); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	// A spool entry holds its file's bytes: it starts with the first bytes
	// it is named by.
	sfs, err := tl.spool.load()
	if err != nil {
		t.Fatal(err)
	}
	for _, sf := range sfs {
		file, err := tl.spool.open(sf)
		if err != nil {
			t.Fatal(err)
		}
		if same, err := sf.meta.fingerprint().matches(file); err != nil || !same {
			t.Errorf("spool entry %s (%d-%d of %s) does not start with the bytes it is named by", sf.name, sf.meta.Base, sf.meta.End, sf.meta.Path)
		}
		file.Close()
	}

	second := newCollector()
	next, _ := startTailer(t, cfg, second)
	want := slices.Concat(old, middle, fresh)
	second.waitForAll(t, want)
	for _, r := range []string{skipTruncated, skipGone} {
		if n := testCounter(next.m.skipped.WithLabelValues(r)); n != 0 {
			t.Errorf("%v bytes skipped as %s; want 0", n, r)
		}
	}
}

// TestRewrittenAndDeletedWhileHeldUp: the output blocks the follower; its
// file is copytruncated (the copy held), written again, and then deleted
// with its copy, as a pod's directory goes. Both contents are kept in the
// spool, each under its own first bytes, so that a crash before the output
// comes back loses nothing and counts nothing as lost.
func TestRewrittenAndDeletedWhileHeldUp(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "0.log")
	old, fresh := seq("a", 0, 60), seq("b", 0, 30) // more than the 1 KiB fingerprint each
	appendFile(t, path, criLines(old))
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, RescanInterval: 1 << 40}
	tl, stop, _, _ := startHeldUp(t, cfg)
	cp := path + ".1"
	if err := os.WriteFile(cp, []byte(criLines(old)), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(criLines(fresh)), 0o640); err != nil {
		t.Fatal(err)
	}
	waitHeld(t, tl, cp, path)
	for _, p := range []string{cp, path} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	// Both contents spooled: the old one from the copy, the new one from
	// the deleted file's descriptor.
	eventually(t, "both contents spooled", func() bool {
		tl.wakeSpooler()
		var oldKept, freshKept bool
		for _, e := range spoolEntries(t, state) {
			oldKept = oldKept || bytes.HasPrefix(e.head, []byte(criLine("a-000000"))) && e.meta.End == int64(len(criLines(old)))
			freshKept = freshKept || bytes.HasPrefix(e.head, []byte(criLine("b-000000"))) && e.meta.End == int64(len(criLines(fresh)))
		}
		return oldKept && freshKept
	})
	if err := tl.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	stop() // a crash: no Drain, no Close

	second := newCollector()
	next, stopNext := startTailer(t, cfg, second)
	second.waitForAll(t, slices.Concat(old, fresh))
	for _, r := range []string{skipTruncated, skipGone} {
		if n := testCounter(next.m.skipped.WithLabelValues(r)); n != 0 {
			t.Errorf("%v bytes skipped as %s; want 0", n, r)
		}
	}
	// Delivered and checkpointed, then a crash: the next start has nothing
	// to read and nothing to count.
	eventually(t, "everything acknowledged in the checkpoint", func() bool {
		if err := next.Checkpoint(); err != nil {
			t.Fatal(err)
		}
		return next.Unacked() == 0
	})
	stopNext()
	third := newCollector()
	last, _ := startTailer(t, cfg, third)
	for _, r := range []string{skipTruncated, skipGone} {
		if n := testCounter(last.m.skipped.WithLabelValues(r)); n != 0 {
			t.Errorf("after the delivery, %v bytes skipped as %s; want 0", n, r)
		}
	}
}

// spoolEntry is a complete spool entry as a test reads it.
type spoolEntry struct {
	meta spoolMeta
	head []byte // the data's first bytes
}

// spoolEntries reads the complete entries of the spool under state
// without changing anything: a running tailer may be writing it.
func spoolEntries(t *testing.T, state string) []spoolEntry {
	t.Helper()
	dir := filepath.Join(state, spoolDirName)
	des, _ := os.ReadDir(dir)
	var out []spoolEntry
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), spoolMetaExt)
		if !ok {
			continue
		}
		m, err := readSpoolMeta(filepath.Join(dir, de.Name()))
		if err != nil {
			continue
		}
		file, err := os.Open(filepath.Join(dir, name+spoolDataExt))
		if err != nil {
			continue
		}
		head := make([]byte, 64)
		n, _ := file.ReadAt(head, 0)
		file.Close()
		out = append(out, spoolEntry{meta: m, head: head[:n]})
	}
	return out
}

// startHeldUp starts a tailer whose output blocks every Write until release
// (called at the test's end otherwise), with followers counted as held up
// after 10ms, and waits until the follower of the one file is blocked.
func startHeldUp(t *testing.T, cfg Config) (tl *Tailer, stop func(), c *collector, release func()) {
	t.Helper()
	c = newCollector()
	release = sync.OnceFunc(c.setBlock())
	tl, stop = startTailer(t, cfg, c, func(tl *Tailer) { tl.deps.stallAfter = 10 * time.Millisecond })
	t.Cleanup(release) // before the tailer's cleanup drains
	eventually(t, "the follower blocked in Write", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.block != nil && tl.lagBytes() == 0
	})
	return tl, stop, c, release
}

// TestRewrittenRefusedBySpoolCounted: as TestRewrittenAndDeletedWhileHeldUp,
// with a spool too small for either content: the stop counts both as
// spool_full, the copy's and the deleted file's new content alike.
func TestRewrittenRefusedBySpoolCounted(t *testing.T) {
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "0.log")
	old, fresh := criLines(seq("a", 0, 60)), criLines(seq("b", 0, 30))
	appendFile(t, path, old)
	cfg := Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state, RescanInterval: 1 << 40,
		MaxSpoolBytes: int64(len(fresh)) / 2}
	tl, stop, _, _ := startHeldUp(t, cfg)
	cp := path + ".1"
	if err := os.WriteFile(cp, []byte(old), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(fresh), 0o640); err != nil {
		t.Fatal(err)
	}
	waitHeld(t, tl, cp, path)
	for _, p := range []string{cp, path} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the shutdown timeout passed
	_ = tl.Drain(ctx)
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := testCounter(tl.m.skipped.WithLabelValues(skipSpoolFull)), float64(len(old)+len(fresh)); got != want {
		t.Errorf("%v bytes skipped as spool_full at the stop; want %v (the copy and the new content)", got, want)
	}
}

// waitHeld waits until the file at p is held for the reader of target.
func waitHeld(t *testing.T, tl *Tailer, p, target string) {
	t.Helper()
	eventually(t, "the copy held", func() bool {
		tl.wakeSpooler()
		tl.mu.Lock()
		defer tl.mu.Unlock()
		for _, f := range tl.byID {
			if f.meta.Target == p && f.heldFor == target {
				return true
			}
		}
		return false
	})
}
