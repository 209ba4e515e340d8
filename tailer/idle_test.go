package tailer

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
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
		at = time.Now()
		for c.count() < files+2 {
			if time.Since(at) > pollQuietMax+time.Second {
				t.Fatalf("unreported write not read after %v", time.Since(at))
			}
			time.Sleep(100 * time.Millisecond)
			synctest.Wait()
		}
		if time.Since(at) <= pollAttached {
			t.Errorf("quiet file read %v after the write; its poll did not back off", time.Since(at))
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
		// Two more lines within the read gap of the last read: none is
		// read before the gap ends, both come in one round at its end.
		// (The collector's acknowledgement of the last round wakes the
		// follower at once, which reads again at the end of its gap: wait
		// for that read.)
		time.Sleep(readEvery)
		synctest.Wait()
		read := time.Now()
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

// followerRig runs the followers of some files with the idle poller, as
// Run does, inside a synctest bubble.
type followerRig struct {
	c    *collector
	tl   *Tailer
	fs   []*follower
	base int // follower goroutines before the rig's
	stop func()
}

func runFollowers(t *testing.T, dir string, paths []string) *followerRig {
	r := &followerRig{c: newCollector()}
	tl, err := New(Config{Include: []string{filepath.Join(dir, "*.log")}}, r.c)
	if err != nil {
		t.Fatal(err)
	}
	r.tl = tl
	tl.deps.watching = func(string) bool { return true }
	for _, p := range paths {
		r.fs = append(r.fs, openFollower(t, tl, p, 0))
	}
	// Followers other tests left winding down only go away.
	r.base = followerGoroutines()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	start := func(f *follower) { wg.Go(func() { f.run(ctx) }) }
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

// TestReadGapGrowsWithAwakeFiles: past readersPerEvery awake followers, a
// growing file is read less often, up to readEveryMax.
func TestReadGapGrowsWithAwakeFiles(t *testing.T) {
	d := &followerDeps{readEvery: readEvery}
	for _, tc := range []struct {
		awake int64
		want  time.Duration
	}{{0, readEvery}, {readersPerEvery, readEvery}, {2 * readersPerEvery, 2 * readEvery}, {4 * readersPerEvery, readEveryMax}, {100 * readersPerEvery, readEveryMax}} {
		d.awake.Store(tc.awake)
		if got := d.readGap(); got != tc.want {
			t.Errorf("%d awake: read every %v; want %v", tc.awake, got, tc.want)
		}
	}
}
