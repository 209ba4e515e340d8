package tailer

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestIdleFilesPark: quiet files wait in the idle poller without a
// goroutine each; a write fsnotify reports wakes its file at once, a write
// it missed is still read by the shared safety poll, and after the stop a
// wakeup starts nothing.
func TestIdleFilesPark(t *testing.T) {
	const files = 100
	dir, paths := lineFiles(t, files)
	synctest.Test(t, func(t *testing.T) {
		r := runFollowers(t, dir, paths)
		c, tl, fs, base := r.c, r.tl, r.fs, r.base

		time.Sleep(time.Minute)
		synctest.Wait()
		if n := c.count(); n != files {
			t.Fatalf("%d records; want %d", n, files)
		}
		for i, f := range fs {
			if !f.parked.Load() {
				t.Fatalf("file %d not parked after a quiet minute", i)
			}
		}
		if n := followerGoroutines(); n > base {
			t.Errorf("%d follower goroutines for %d quiet files; want none", n-base, files)
		}

		// A write fsnotify reports: read at once.
		appendFile(t, paths[8], criLines([]string{"reported"}))
		at := time.Now()
		fs[8].written.Store(true)
		fs[8].notify()
		synctest.Wait()
		if n := c.count(); n != files+1 || time.Since(at) != 0 {
			t.Fatalf("%d records %v after a reported write; want %d at once", n, time.Since(at), files+1)
		}

		// A write nobody reports: the shared poll finds it within
		// pollQuietMax, though the file had just been woken.
		appendFile(t, paths[7], criLines([]string{"unreported"}))
		took := pollUntil(t, "unreported write not read", func() bool { return c.count() >= files+2 })
		if took <= pollAttached {
			t.Errorf("quiet file read %v after the write; its poll did not back off", took)
		}

		time.Sleep(time.Minute)
		synctest.Wait()
		r.stop()
		// After the stop a wakeup starts no goroutine: Drain reads the files.
		appendFile(t, paths[3], criLines([]string{"after"}))
		fs[3].notify()
		synctest.Wait()
		if n := followerGoroutines(); n > base {
			t.Errorf("%d follower goroutines after the stop and a wakeup; want none", n-base)
		}
		if err := tl.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := c.count(); n != files+3 {
			t.Errorf("%d records after Drain; want %d", n, files+3)
		}
	})
}

// TestQuietFilesGlanced: the safety polls of quiet files whose writes are
// watched are looks the idle poller takes itself, an fstat each, without
// starting a goroutine; a look that finds the file changed starts it: a
// write nobody reported is read, a rewrite to the same size (a new
// modification time) is found and read from the start, and a file
// unlinked without a word is seen as deleted.
func TestQuietFilesGlanced(t *testing.T) {
	const files = 20
	dir, paths := lineFiles(t, files)
	synctest.Test(t, func(t *testing.T) {
		var w writeWatches
		r := runFollowers(t, dir, paths, armWrites(&w))
		c, fs := r.c, r.fs
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := c.count(); n != files {
			t.Fatalf("%d records; want %d", n, files)
		}
		for i, f := range fs {
			if !f.parked.Load() || !f.armed.Load() {
				t.Fatalf("file %d: parked %v, armed %v after a quiet minute; want both", i, f.parked.Load(), f.armed.Load())
			}
		}
		// Two quiet minutes: about eight polls per file (every
		// pollQuietMax), none of which starts a goroutine.
		starts := r.starts.Load()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if n := r.starts.Load() - starts; n != 0 {
			t.Errorf("%d follower goroutines started in two quiet minutes; want none", n)
		}

		// A write the watcher did not report: the next look reads it.
		appendFile(t, paths[4], criLines([]string{"unreported"}))
		pollUntil(t, "unreported write not read", func() bool { return c.count() >= files+1 })

		// The file rewritten to the same size, its modification time
		// moved: the look starts the follower, which finds the first
		// bytes changed and reads the new content from the start.
		rewrite := criLines([]string{"other 9"})
		if len(rewrite) != len(criLines([]string{"first 9"})) {
			t.Fatal("the rewrite must keep the size")
		}
		if err := os.WriteFile(paths[9], []byte(rewrite), 0o644); err != nil {
			t.Fatal(err)
		}
		mt := time.Unix(1_000_000_000, 0)
		if err := os.Chtimes(paths[9], mt, mt); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, "same-size rewrite not read", func() bool { return c.count() >= files+2 })
		if got := c.all()[paths[9]]; len(got) != 2 || got[1] != "other 9" {
			t.Errorf("file 9 gave %q; want its first line, then the rewritten one", got)
		}

		// Unlinked with no event: the look sees it deleted.
		if err := os.Remove(paths[12]); err != nil {
			t.Fatal(err)
		}
		pollUntil(t, "unlinked file not seen deleted", fs[12].deleted.Load)
		r.stop()
		if n := c.count(); n != files+2 {
			t.Errorf("%d records; want %d", n, files+2)
		}
	})
}

// TestGrowingFilesPark: files written every moment wait between two reads
// in the idle poller too, without a goroutine each, still counted as awake
// (the read gap follows their number) and not as idle; a write reported
// within the read gap is read at its end, with the lines written meanwhile
// in the same round.
func TestGrowingFilesPark(t *testing.T) {
	const files = 50
	dir, paths := lineFiles(t, files)
	synctest.Test(t, func(t *testing.T) {
		r := runFollowers(t, dir, paths)
		c, tl, fs, base := r.c, r.tl, r.fs, r.base
		write := func(i int, line string) {
			appendFile(t, paths[i], criLines([]string{line}))
			fs[i].written.Store(true)
			fs[i].notify()
		}
		want := files
		// Every file gets a line every 600 ms for a while: between two
		// reads no follower has a goroutine.
		for round := range 10 {
			time.Sleep(600 * time.Millisecond)
			synctest.Wait()
			if n := c.count(); n != want {
				t.Fatalf("round %d: %d records; want %d", round, n, want)
			}
			if n := followerGoroutines(); n > base {
				t.Fatalf("round %d: %d follower goroutines between reads; want none", round, n-base)
			}
			if a, q := tl.deps.awake.Load(), tl.deps.idle.parkedFiles(); a != files || q != 0 {
				t.Fatalf("round %d: %d awake, %d idle; want %d awake, none idle", round, a, q, files)
			}
			for i := range files {
				write(i, fmt.Sprintf("r%d f%d", round, i))
			}
			want += files
			synctest.Wait()
			if n := c.count(); n != want {
				t.Fatalf("round %d: %d records right after the writes; want %d read at once", round, n, want)
			}
		}
		// Two more lines within the read gap of a read: none is read
		// before the gap ends, both come in one round at its end. (The
		// read: a reported write to a file last read a while ago is read
		// at once: half a second after its safety poll looked.)
		time.Sleep(pollAttached + readEvery*2)
		synctest.Wait()
		write(5, "now")
		want++
		synctest.Wait()
		read := time.Now()
		if n := c.count(); n != want {
			t.Fatalf("%d records right after a write; want %d", n, want)
		}
		time.Sleep(readEvery / 5)
		write(5, "early 1")
		time.Sleep(readEvery / 5)
		write(5, "early 2")
		time.Sleep(readEvery - time.Millisecond - time.Since(read))
		synctest.Wait()
		if n := c.count(); n != want {
			t.Fatalf("%d records %v after a read; want %d until its read gap ends", n, time.Since(read), want)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if n := c.count(); n != want+2 {
			t.Fatalf("%d records at the end of the read gap; want %d", n, want+2)
		}
		want += 2

		// Quiet again: the followers back off and count as idle.
		time.Sleep(time.Minute)
		synctest.Wait()
		if a, q := tl.deps.awake.Load(), tl.deps.idle.parkedFiles(); a != 0 || q != files {
			t.Errorf("after a quiet minute: %d awake, %d idle; want none awake, %d idle", a, q, files)
		}
		r.stop()
		if n := c.count(); n != want {
			t.Errorf("%d records; want %d", n, want)
		}
	})
}

// writeWatches stands in for the kernel's one-shot write watches (a
// synctest bubble cannot read inotify): watchWrite arms a file, and a
// write to an armed file disarms it and wakes its follower, once.
type writeWatches struct {
	mu    sync.Mutex
	armed map[*follower]bool
	arms  int
	wakes int
	fail  map[*follower]bool   // watchWrite fails for these
	race  map[*follower]func() // runs inside watchWrite once: a write the watch misses
}

func armWrites(w *writeWatches) func(*Tailer) {
	w.armed, w.fail, w.race = map[*follower]bool{}, map[*follower]bool{}, map[*follower]func(){}
	return func(tl *Tailer) {
		tl.deps.armsWrites.Store(true)
		tl.deps.watchWrite = func(f *follower) (int32, error) {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.fail[f] {
				return 0, errors.New("no space left on device")
			}
			w.armed[f] = true
			w.arms++
			if race := w.race[f]; race != nil {
				delete(w.race, f)
				race()
			}
			return 1, nil
		}
	}
}

// wrote reports a write to f if it is armed.
func (w *writeWatches) wrote(f *follower) {
	w.mu.Lock()
	armed := w.armed[f]
	delete(w.armed, f)
	if armed {
		w.wakes++
	}
	w.mu.Unlock()
	if armed {
		f.wroteNow()
	}
}

func (w *writeWatches) counts() (arms, wakes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.arms, w.wakes
}

// settle lets d pass in the synctest bubble and waits until every
// goroutine in it is blocked.
func settle(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// TestGrowingFilesPolled: where the watcher reports a write only when
// asked, a quiet file asks to be woken at its next write and is read at
// once; while it keeps growing it is read at the end of each read gap and
// asks for nothing, so a file written every moment costs no wakeup per
// write; after armAfter empty looks it asks again. A write between the
// last look and the watch is read at once; a file that cannot be watched
// is polled every pollAttached.
func TestGrowingFilesPolled(t *testing.T) {
	const files = 20
	dir, paths := lineFiles(t, files)
	synctest.Test(t, func(t *testing.T) {
		var w writeWatches
		r := runFollowers(t, dir, paths, armWrites(&w))
		c, tl, fs, base := r.c, r.tl, r.fs, r.base
		want := files
		write := func(i int, line string) {
			appendFile(t, paths[i], criLines([]string{line}))
			w.wrote(fs[i])
			want++
		}
		settle(time.Minute)
		if arms, wakes := w.counts(); c.count() != want || arms != files || wakes != 0 {
			t.Fatalf("quiet: %d records, %d watches, %d wakeups; want %d, %d, 0", c.count(), arms, wakes, want, files)
		}
		if a, q := tl.deps.awake.Load(), tl.deps.idle.parkedFiles(); a != 0 || q != files {
			t.Fatalf("quiet: %d awake, %d idle; want 0, %d", a, q, files)
		}

		// A write to a quiet file: woken, read at once.
		write(3, "woken")
		synctest.Wait()
		if c.count() != want {
			t.Fatalf("%d records right after a write to a quiet file; want %d", c.count(), want)
		}
		settle(time.Minute)

		// Every file written every 50 ms for 4 s: one wakeup each, the
		// first write; then read at every read gap, lines never older
		// than one gap, no follower goroutine between reads.
		_, wakes0 := w.counts()
		arms0, _ := w.counts()
		for step := range 80 {
			for i := range files {
				write(i, fmt.Sprintf("s%d f%d", step, i))
			}
			settle(50 * time.Millisecond)
			if step%5 == 4 {
				if n := followerGoroutines(); n > base {
					t.Fatalf("step %d: %d follower goroutines between reads; want none", step, n-base)
				}
				if lag := want - c.count(); lag > files*(int(readEvery/(50*time.Millisecond))+1) {
					t.Fatalf("step %d: %d lines unread; want at most a read gap's", step, lag)
				}
				if a := tl.deps.awake.Load(); a != files {
					t.Fatalf("step %d: %d awake; want %d", step, a, files)
				}
			}
		}
		if arms, wakes := w.counts(); wakes-wakes0 != files || arms != arms0 {
			t.Errorf("busy: %d wakeups, %d watches for %d writes; want %d wakeups, no watch", wakes-wakes0, arms-arms0, 80*files, files)
		}
		settle(readEvery + resumeSlack)
		if c.count() != want {
			t.Fatalf("%d records a read gap after the last writes; want %d", c.count(), want)
		}
		settle(time.Minute)
		if arms, _ := w.counts(); arms != arms0+files {
			t.Errorf("quiet again: %d watches; want %d", arms, arms0+files)
		}

		// A write the watch misses, just before it began: read at once.
		w.mu.Lock()
		w.race[fs[5]] = func() { appendFile(t, paths[5], criLines([]string{"raced"})) }
		w.mu.Unlock()
		write(5, "wakes")
		want++ // the raced line
		// Read by the look right after the watch began, well before the
		// next poll (pollAttached<<1 later).
		settle(pollAttached)
		if c.count() != want {
			t.Fatalf("%d records after a write raced the watch; want %d", c.count(), want)
		}

		// A write reported before the watch's setup returned (the
		// watcher's goroutine is quick): the file asks again once quiet,
		// and its next write is read at once.
		w.mu.Lock()
		w.race[fs[6]] = func() {
			appendFile(t, paths[6], criLines([]string{"reported early"}))
			delete(w.armed, fs[6])
			w.wakes++
			fs[6].wroteNow()
		}
		w.mu.Unlock()
		write(6, "wakes")
		want++ // the early line
		settle(time.Minute)
		write(6, "next")
		synctest.Wait()
		if c.count() != want {
			t.Fatalf("%d records right after a write to a quiet file whose last watch fired early; want %d", c.count(), want)
		}

		// A file that cannot be watched is polled every pollAttached.
		w.mu.Lock()
		w.fail[fs[7]] = true
		w.mu.Unlock()
		write(7, "before the failure")
		settle(time.Minute)
		for i := range 3 {
			appendFile(t, paths[7], criLines([]string{fmt.Sprintf("unreported %d", i)}))
			want++
			settle(pollAttached + resumeSlack)
			if c.count() != want {
				t.Fatalf("unwatchable file: %d records %v after a write; want %d", c.count(), pollAttached, want)
			}
			settle(10 * time.Second)
		}
		r.stop()
	})
}

// TestManyFilesStartSpread: a scan finding many files at once starts
// startBurst followers at once and the others startStep apart, so that
// while the first ones wait (here for the output) the rest hold no stack;
// every file is read.
func TestManyFilesStartSpread(t *testing.T) {
	const files = 500
	dir, paths := lineFiles(t, files)
	synctest.Test(t, func(t *testing.T) {
		c := newCollector()
		release := make(chan struct{})
		c.block = release
		tl, err := New(Config{Include: []string{filepath.Join(dir, "*.log")}}, c)
		if err != nil {
			t.Fatal(err)
		}
		tl.deps.watching = func(string) bool { return true }
		var fs []*follower
		for _, p := range paths {
			fs = append(fs, openFollower(t, tl, p, 0))
		}
		base := followerGoroutines()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		run := func(f *follower) { tl.deps.goRun(ctx, &wg, f) }
		tl.deps.idle.begin(run)
		wg.Go(func() { tl.deps.idle.run(ctx) })
		start := tl.deps.spreadStart(run)
		for _, f := range fs {
			start(f)
		}
		synctest.Wait()
		if n := followerGoroutines() - base; n != startBurst {
			t.Errorf("%d follower goroutines right after the scan; want %d", n, startBurst)
		}
		time.Sleep(100 * startStep)
		synctest.Wait()
		if n := followerGoroutines() - base; n != startBurst+100 {
			t.Errorf("%d follower goroutines %v after the scan; want %d", n, 100*startStep, startBurst+100)
		}
		close(release)
		time.Sleep(files * startStep)
		synctest.Wait()
		if n := c.count(); n != files {
			t.Errorf("%d records; want %d", n, files)
		}
		cancel()
		wg.Wait()
	})
}

// lineFiles writes n files of one line each in a new directory.
func lineFiles(t *testing.T, n int) (dir string, paths []string) {
	dir = t.TempDir()
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("%03d.log", i))
		appendFile(t, p, criLines([]string{fmt.Sprintf("first %d", i)}))
		paths = append(paths, p)
	}
	return dir, paths
}

// pollUntil advances the fake clock in 100 ms steps until cond holds, at
// most pollQuietMax and a second (the longest safety poll), and returns
// how long that took; past it the test fails, naming what.
func pollUntil(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	at := time.Now()
	for !cond() {
		if time.Since(at) > pollQuietMax+time.Second {
			t.Fatalf("%s after %v", what, time.Since(at))
		}
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
	}
	return time.Since(at)
}

// followerRig runs the followers of some files with the idle poller, as
// Run does, inside a synctest bubble.
type followerRig struct {
	c    *collector
	tl   *Tailer
	fs   []*follower
	base int // follower goroutines before the rig's
	stop func()
	// starts counts the follower goroutines started, by the rig or the
	// poller.
	starts atomic.Int64
}

func runFollowers(t *testing.T, dir string, paths []string, setup ...func(*Tailer)) *followerRig {
	r := &followerRig{c: newCollector()}
	tl, err := New(Config{Include: []string{filepath.Join(dir, "*.log")}}, r.c)
	if err != nil {
		t.Fatal(err)
	}
	r.tl = tl
	tl.deps.watching = func(string) bool { return true }
	for _, s := range setup {
		s(tl)
	}
	for _, p := range paths {
		r.fs = append(r.fs, openFollower(t, tl, p, 0))
	}
	// Followers other tests left winding down only go away.
	r.base = followerGoroutines()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	start := func(f *follower) {
		r.starts.Add(1)
		wg.Go(func() { f.run(ctx) })
	}
	tl.deps.idle.begin(start)
	wg.Go(func() { tl.deps.idle.run(ctx) })
	for _, f := range r.fs {
		start(f)
	}
	r.stop = func() { cancel(); wg.Wait() }
	return r
}

// followerGoroutines counts the goroutines running a follower, in the
// whole process.
func followerGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "tailer.(*follower).run(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// BenchmarkIdleCheckpoint: the checkpoint of 1,000 open files where nothing
// changed, which an idle agent takes every CheckpointInterval.
func BenchmarkIdleCheckpoint(b *testing.B) {
	dir := b.TempDir()
	tl, err := New(Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: filepath.Join(dir, "state")}, newCollector())
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		p := filepath.Join(dir, fmt.Sprintf("%04d.log", i))
		appendFile(b, p, criLines([]string{"x"}))
		f := openFollower(b, tl, p, 0)
		f.fp = fingerprint{N: 40, Sum: uint64(i)}
	}
	if err := tl.Checkpoint(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := tl.Checkpoint(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLongReadGapNotCutBySafetyPoll: where the watcher reports a write only
// when asked, a growing file whose read gap is longer than the safety poll
// (many busy files) is read once per gap, with every line written
// meanwhile, not at each second's poll.
func TestLongReadGapNotCutBySafetyPoll(t *testing.T) {
	const files = 5
	const gap = 3 * pollAttached / 2
	dir, paths := lineFiles(t, files)
	synctest.Test(t, func(t *testing.T) {
		var w writeWatches
		r := runFollowers(t, dir, paths, armWrites(&w), func(tl *Tailer) { tl.deps.readEvery = gap })
		c, fs := r.c, r.fs
		want := files
		write := func(i int, line string) {
			appendFile(t, paths[i], criLines([]string{line}))
			w.wrote(fs[i])
			want++
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		// Quiet files, woken by a write each: read at once.
		for i := range files {
			write(i, fmt.Sprintf("first f%d", i))
		}
		synctest.Wait()
		if c.count() != want {
			t.Fatalf("%d records right after the first writes; want %d", c.count(), want)
		}
		read := want
		// Then a line every 100 ms from 150 ms on: nothing is read before
		// the gap ends, past the one-second poll, and everything written
		// by then at its end.
		time.Sleep(50 * time.Millisecond)
		for step := range 20 {
			time.Sleep(100 * time.Millisecond)
			for i := range files {
				write(i, fmt.Sprintf("s%d f%d", step, i))
			}
			synctest.Wait()
			if step == 13 && c.count() != read {
				t.Fatalf("1.45 s after a read: %d records; want %d (the gap is %v)", c.count(), read, gap)
			}
		}
		// 2.05 s after the first read: the read at 1.5 s took the lines of
		// the first 14 steps, the next is at 3 s.
		if got := c.count(); got != read+14*files {
			t.Fatalf("2.05 s after a read: %d records; want %d, read at the gap's end", got, read+14*files)
		}
		r.stop()
	})
}

// TestReadGapGrowsWithAwakeFiles: past readersPerEvery awake followers, a
// growing file is read less often, up to readEveryMax.
func TestReadGapGrowsWithAwakeFiles(t *testing.T) {
	d := &followerDeps{readEvery: readEvery}
	for _, tc := range []struct {
		awake int64
		want  time.Duration
	}{{0, readEvery}, {readersPerEvery, readEvery}, {2 * readersPerEvery, 2 * readEvery}, {8 * readersPerEvery, readEveryMax}, {100 * readersPerEvery, readEveryMax}} {
		d.awake.Store(tc.awake)
		if got := d.readGap(); got != tc.want {
			t.Errorf("%d awake: read every %v; want %v", tc.awake, got, tc.want)
		}
	}
}

// TestIdlePollsTakenTogether: quiet files whose polls have backed off to
// pollQuietMax, each at its own moment, wake the poller about once a
// second, not once per poll; every file is still looked at, and a write
// no watch reported is still read by the next look.
func TestIdlePollsTakenTogether(t *testing.T) {
	const files = 64
	dir, paths := lineFiles(t, files)
	synctest.Test(t, func(t *testing.T) {
		var w writeWatches
		r := runFollowers(t, dir, paths, armWrites(&w))
		c, fs := r.c, r.fs
		settle(time.Minute)
		// One write each, spread over a poll period: the polls fall apart.
		for i := range files {
			appendFile(t, paths[i], criLines([]string{"spread"}))
			w.wrote(fs[i])
			settle(pollQuietMax / files)
		}
		settle(time.Minute) // backed off again
		if n := c.count(); n != 2*files {
			t.Fatalf("%d records; want %d", n, 2*files)
		}
		idle := r.tl.deps.idle
		arms0, _ := w.counts()
		rounds0, starts0 := idle.rounds.Load(), r.starts.Load()
		const quiet = 2 * time.Minute
		settle(quiet)
		// Without the slack: a round per file per pollQuietMax, 480.
		if n, most := idle.rounds.Load()-rounds0, int64(quiet/time.Second)+int64(quiet/pollQuietMax); n > most {
			t.Errorf("%d poller rounds in %v of %d quiet files; want at most %d", n, quiet, files, most)
		}
		if arms, _ := w.counts(); r.starts.Load() != starts0 || arms != arms0 {
			t.Errorf("quiet files started or rearmed: %d starts, %d arms", r.starts.Load()-starts0, arms-arms0)
		}

		// A write nobody reports: read within a poll.
		appendFile(t, paths[7], criLines([]string{"unreported"}))
		settle(pollQuietMax)
		if n := c.count(); n != 2*files+1 {
			t.Errorf("%d records a poll after an unreported write; want %d", n, 2*files+1)
		}
		r.stop()
	})
}
