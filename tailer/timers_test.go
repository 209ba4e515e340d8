package tailer

import (
	"context"
	"os"
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
		file, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := file.Stat()
		f := newFollower(tl.deps, file, idOf(fi), parseMeta(path, path), 0, fingerprint{})
		tl.byID[f.id] = f
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		done := make(chan struct{})
		go func() { f.run(ctx); close(done) }()

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
