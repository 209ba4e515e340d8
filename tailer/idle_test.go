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
	dir := t.TempDir()
	var paths []string
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("%03d.log", i))
		appendFile(t, p, criLines([]string{fmt.Sprintf("first %d", i)}))
		paths = append(paths, p)
	}
	synctest.Test(t, func(t *testing.T) {
		c := newCollector()
		tl, err := New(Config{Include: []string{filepath.Join(dir, "*.log")}}, c)
		if err != nil {
			t.Fatal(err)
		}
		tl.deps.watching = func(string) bool { return true }
		var fs []*follower
		for _, p := range paths {
			fs = append(fs, openFollower(t, tl, p, 0))
		}
		// Followers other tests left winding down only go away.
		base := followerGoroutines()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		start := func(f *follower) { wg.Go(func() { f.run(ctx) }) }
		tl.deps.idle.begin(start)
		wg.Go(func() { tl.deps.idle.run(ctx) })
		for _, f := range fs {
			start(f)
		}

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
		cancel()
		wg.Wait()
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
