package tailer

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

func TestCopytruncate(t *testing.T) {
	for _, tt := range []struct {
		name  string
		after int // lines written after the truncation
	}{
		{"shorter", 3},  // size falls below the offset
		{"longer", 300}, // only the first bytes tell
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			appendFile(t, path, criLines(seq("before", 0, 100)))
			c := newCollector()
			tl, _ := startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}}, c)
			c.waitFor(t, "lines before", func() bool { return c.count() == 100 })
			release := c.setBlock() // the truncation happens while nobody reads
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(criLines(seq("after", 0, tt.after))); err != nil {
				t.Fatal(err)
			}
			f.Close()
			tl.wakeAll()
			release()
			c.waitFor(t, "lines after", func() bool { return c.count() == 100+tt.after })
			got := c.all()[path]
			if want := append(seq("before", 0, 100), seq("after", 0, tt.after)...); !slices.Equal(got, want) {
				t.Errorf("got %d lines; want %d, in order", len(got), len(want))
			}
			if n := testCounter(tl.m.filesTruncated); n != 1 {
				t.Errorf("truncations counted %v; want 1", n)
			}
		})
	}
}

func TestDeletedFileIsDrained(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	want := seq("d", 0, 5000)
	appendFile(t, path, criLines(want))
	c := newCollector()
	release := c.setBlock()
	tl, _ := startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}, ReadBudget: minReadBudget}, c)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	release()
	c.waitFor(t, "every line of the deleted file", func() bool { return c.count() == len(want) })
	if got := c.all()[path]; !slices.Equal(got, want) {
		t.Errorf("got %d lines; want %d in order", len(got), len(want))
	}
	eventually(t, "the deleted file closed", func() bool { return testCounter(tl.m.filesClosed) == 1 })
}

func TestMaxDeletedBytesSkips(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	data := criLines(seq("s", 0, 20000))
	appendFile(t, path, data)
	c := newCollector()
	release := c.setBlock()
	tl, _ := startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}, ReadBudget: minReadBudget, MaxDeletedBytes: 1}, c)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	tl.scan(func(*follower) { t.Error("nothing new to start") })
	release()
	eventually(t, "the file given up", func() bool { return testCounter(tl.m.filesClosed) == 1 })
	skipped := testCounter(tl.m.skipped.WithLabelValues(skipMaxDeletedBytes))
	read := 0
	for _, l := range c.all()[path] {
		read += len(criLine(l))
	}
	if skipped == 0 || int(skipped)+read != len(data) {
		t.Errorf("skipped %v + read %d bytes; want > 0 skipped, %d in all", skipped, read, len(data))
	}
	if n := tl.Unacked(); n != 0 {
		t.Errorf("Unacked() = %d after skipping; want 0", n)
	}
}

func TestMaxOpenFilesWaits(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	appendFile(t, a, criLines(seq("a", 0, 10)))
	appendFile(t, b, criLines(seq("b", 0, 10)))
	c := newCollector()
	startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}, MaxOpenFiles: 1}, c)
	c.waitFor(t, "one file", func() bool { return c.count() == 10 })
	first, second := a, b
	if len(c.all()[b]) == 10 {
		first, second = b, a
	}
	if len(c.all()[second]) != 0 {
		t.Fatalf("both files read with max_open_files 1")
	}
	// Once the first file is gone and closed, the second gets its slot.
	if err := os.Remove(first); err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, "the second file", func() bool { return len(c.all()[second]) == 10 })
}

func TestFairness(t *testing.T) {
	dir := t.TempDir()
	for i := range 4 {
		p := filepath.Join(dir, "noisy"+string(rune('a'+i))+".log")
		appendFile(t, p, strings.Repeat(criLine(strings.Repeat("n", 200)), 15000)) // 3.4 MiB
	}
	quiet := filepath.Join(dir, "quiet.log")
	appendFile(t, quiet, criLines(seq("q", 0, 10)))
	c := newCollector()
	release := c.setBlock()
	tl, _ := startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}}, c)
	// Every follower is either blocked in Write or queued for its turn.
	eventually(t, "every file queued", func() bool {
		tl.deps.gate.mu.Lock()
		defer tl.deps.gate.mu.Unlock()
		return tl.deps.gate.free == 0 && len(tl.deps.gate.waiters) == 5-tl.deps.gate.slots
	})
	release()
	c.waitFor(t, "the quiet file", func() bool { return len(c.all()[quiet]) == 10 })
	// Count in arrival order: how many noisy records came before the first
	// quiet one.
	noisyRead := 0
	c.mu.Lock()
	for _, r := range c.recs {
		if r.File.Target == quiet {
			break
		}
		noisyRead++
	}
	c.mu.Unlock()
	// Each noisy file reads 256 KiB (about 1,200 lines) per turn; the
	// quiet one waits behind at most one turn of each.
	if noisyRead > 4*2*1300 {
		t.Errorf("%d noisy lines were read before the 10 quiet ones", noisyRead)
	}
}

// TestRewriteToSameSizeAndTime: a copytruncate that rewrites a file to its
// old size within the clock tick of its modification time leaves size and
// time as they were. The write fsnotify reports still makes the follower
// look at the file's first bytes rather than take it for idle.
func TestRewriteToSameSizeAndTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	appendFile(t, path, criLines(seq("a", 0, 3)))
	c := newCollector()
	tl, err := New(Config{Include: []string{path}}, c)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f := openFollower(t, tl, path, 0)
	if err := f.catchUp(t.Context(), false, false); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(criLines(seq("b", 0, 3))), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	tl.event(fsnotify.Event{Name: path, Op: fsnotify.Write})
	if err := f.catchUp(t.Context(), false, false); err != nil {
		t.Fatal(err)
	}
	if got, want := c.all()[path], append(seq("a", 0, 3), seq("b", 0, 3)...); !slices.Equal(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestTruncatedWithoutFingerprint: a file truncated while the follower
// knows none of its first bytes (its fingerprint was reset by an earlier
// truncation and could not be read again) has no copy that can be told
// apart: a rotated file next to it is not taken for one.
func TestTruncatedWithoutFingerprint(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	appendFile(t, path+".1", criLines(seq("old", 0, 10)))
	appendFile(t, path, criLines(seq("a", 0, 3)))
	tl, err := New(Config{Include: []string{path}}, newCollector())
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.Stat(path + ".1")
	if err != nil {
		t.Fatal(err)
	}
	tl.ckpts.seen[idOf(old)] = seenFile{at: time.Now()} // read and closed earlier
	f := openFollower(t, tl, path, -1)
	var started []string
	tl.startFn = func(g *follower) { started = append(started, g.file.Name()) }
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.catchUp(t.Context(), false, false); err != nil {
		t.Fatal(err)
	}
	if len(started) > 0 {
		t.Errorf("followed %q as the copy of the truncated content", started)
	}
}

// TestReadBytesAreFingerprinted: a follower whose fingerprint was reset by
// a truncation, and could not be read again before the file changed once
// more, takes it from the bytes it reads, so that the next rewrite to the
// same size is still told apart.
func TestReadBytesAreFingerprinted(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	appendFile(t, path, criLines(seq("a", 0, 3)))
	c := newCollector()
	tl, err := New(Config{Include: []string{path}}, c)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	f := openFollower(t, tl, path, 0)
	if _, err := f.round(t.Context(), false); err != nil {
		t.Fatal(err)
	}
	if got := f.fingerprint().N; got != int(fi.Size()) {
		t.Fatalf("fingerprint covers %d bytes after reading %d from the start", got, fi.Size())
	}
	f.size.Store(fi.Size())
	f.modTime = fi.ModTime()
	if err := os.WriteFile(path, []byte(criLines(seq("b", 0, 3))), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	tl.event(fsnotify.Event{Name: path, Op: fsnotify.Write})
	if err := f.catchUp(t.Context(), false, false); err != nil {
		t.Fatal(err)
	}
	if got, want := c.all()[path], append(seq("a", 0, 3), seq("b", 0, 3)...); !slices.Equal(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}

// TestRewrittenPastOffset: a file truncated and written again past the read
// offset between two looks grew, as far as its size tells, and is read
// without checking its first bytes first. The read finds them changed after
// the fact and drops what it read (the new content's middle), and the same
// look starts the new content over at 0: every line arrives once, none cut,
// and nothing counts as skipped.
func TestRewrittenPastOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	old := seq("old-line-with-some-padding-to-pass-a-kilobyte", 0, 20)
	appendFile(t, path, criLines(old))
	c := newCollector()
	tl, err := New(Config{Include: []string{path}}, c)
	if err != nil {
		t.Fatal(err)
	}
	f := openFollower(t, tl, path, 0)
	if err := f.catchUp(t.Context(), false, false); err != nil {
		t.Fatal(err)
	}
	if fp := f.fingerprint(); fp.N != fingerprintBytes {
		t.Fatalf("fingerprint covers %d bytes; want %d", fp.N, fingerprintBytes)
	}
	neu := seq("new", 0, 60)
	if err := os.WriteFile(path, []byte(criLines(neu)), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := f.catchUp(t.Context(), false, false); err != nil {
		t.Fatal(err)
	}
	if got, want := c.all()[path], append(old, neu...); !slices.Equal(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
	if n := testCounter(tl.m.filesTruncated); n != 1 {
		t.Errorf("%v truncations counted; want 1", n)
	}
	if n := testCounter(tl.m.skipped.WithLabelValues(skipTruncated)); n != 0 {
		t.Errorf("%v bytes counted as skipped; want 0 (every old byte was read)", n)
	}
}
