package tailer

import (
	"fmt"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// TestFollowerTimers checks, on a fake clock, the two timed decisions of a
// follower: an unfinished line in a quiet file is shipped after flushIdle,
// and a detached file is closed only after closeQuiet at its end.
func TestFollowerTimers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	appendFile(t, path, "2026-11-26T14:02:03Z stdout P the container exited mid-line\n")
	synctest.Test(t, func(t *testing.T) {
		c := newCollector()
		tl, err := New(Config{Include: []string{path}}, c)
		if err != nil {
			t.Fatal(err)
		}
		f := openFollower(t, tl, path, 0)
		_, done := runFollower(t, f)

		synctest.Wait()
		if n := c.count(); n != 0 {
			t.Fatalf("%d records before the line was finished or idle; want 0", n)
		}
		time.Sleep(flushIdle - time.Second)
		synctest.Wait()
		if n := c.count(); n != 0 {
			t.Fatalf("%d records before flushIdle; want 0", n)
		}
		time.Sleep(2 * pollAttached)
		synctest.Wait()
		if n := c.count(); n != 1 {
			t.Fatalf("%d records after flushIdle; want the unfinished line", n)
		}

		f.detach()
		synctest.Wait()
		if f.closed.Load() {
			t.Fatal("detached file closed at once; want it open for closeQuiet")
		}
		time.Sleep(closeQuiet + 2*pollDetached)
		synctest.Wait()
		if !f.closed.Load() {
			t.Fatal("detached file at its end still open after closeQuiet")
		}
		<-done
	})
}

// TestWritesAreCoalesced: a file written a line at a time, each write
// reported, is read in rounds at most readEvery apart, not once per line.
// Every line still arrives.
func TestWritesAreCoalesced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	appendFile(t, path, "")
	synctest.Test(t, func(t *testing.T) {
		c := newCollector()
		tl, err := New(Config{Include: []string{path}}, c)
		if err != nil {
			t.Fatal(err)
		}
		f := openFollower(t, tl, path, 0)
		cancel, done := runFollower(t, f)

		const lines, every = 100, 10 * time.Millisecond // 1 s of writing
		for i := range lines {
			appendFile(t, path, criLines([]string{fmt.Sprintf("line %d", i)}))
			f.written.Store(true)
			f.notify()
			time.Sleep(every)
		}
		time.Sleep(2 * readEvery)
		synctest.Wait()
		if n := c.count(); n != lines {
			t.Fatalf("%d records; want %d", n, lines)
		}
		c.mu.Lock()
		writes := c.writes
		c.mu.Unlock()
		// About one round per readEvery: 4 over the second of writing, the
		// first at once and one after the last write. Rounds that meet a
		// line being written, or the one-second safety poll, can add a few
		// (1 run in 30 saw 7 or 8); one round per line would be 100.
		if max := 2*int(lines*every/readEvery) + 2; writes > max {
			t.Errorf("%d rounds for %d lines over %v; want at most %d", writes, lines, lines*every, max)
		}
		cancel()
		<-done
	})
}

// TestQuietPollBacksOff: a watched file that stays quiet is looked at less
// and less often, up to pollQuietMax, so a write fsnotify failed to report
// is still read within pollQuietMax; a file nobody watches keeps the
// one-second poll.
func TestQuietPollBacksOff(t *testing.T) {
	for _, watched := range []bool{true, false} {
		t.Run(fmt.Sprintf("watched=%v", watched), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "0.log")
			appendFile(t, path, criLines([]string{"first"}))
			synctest.Test(t, func(t *testing.T) {
				c := newCollector()
				tl, err := New(Config{Include: []string{path}}, c)
				if err != nil {
					t.Fatal(err)
				}
				tl.deps.watching = func(string) bool { return watched }
				f := openFollower(t, tl, path, 0)
				cancel, done := runFollower(t, f)

				time.Sleep(time.Minute) // quiet: the poll backs off if it may
				synctest.Wait()
				appendFile(t, path, criLines([]string{"unreported"})) // no fsnotify event
				took := pollUntil(t, "unreported write not read", func() bool { return c.count() >= 2 })
				if !watched && took > pollAttached+100*time.Millisecond {
					t.Errorf("file nobody watches read %v after the write; want within %v", took, pollAttached)
				}
				// On the fake clock the looks after the first read fall at
				// 1, 3, 7, 15, 31, 47 and 63 s: the write at 60 s waits 3 s.
				if watched && took <= pollAttached {
					t.Errorf("quiet watched file read %v after the write; its poll did not back off", took)
				}
				cancel()
				<-done
			})
		})
	}
}
