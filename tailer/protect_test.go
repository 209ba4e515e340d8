package tailer

import (
	"context"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

// spoolerFixture is a tailer with a spool, one file read to its end whose
// records are not acknowledged, and its spooler running on a fake clock.
func spoolerFixture(t *testing.T) (*Tailer, *follower) {
	t.Helper()
	dir, state := t.TempDir(), t.TempDir()
	path := filepath.Join(dir, "0.log")
	appendFile(t, path, criLines(seq("r", 0, 5)))
	c := newCollector()
	c.holdAcks = true
	tl, err := New(Config{Include: []string{filepath.Join(dir, "*.log")}, StateDir: state}, c)
	if err != nil {
		t.Fatal(err)
	}
	f := openFollower(t, tl, path, 0)
	if err := f.catchUp(t.Context(), false, false); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { tl.spooler(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return tl, f
}

func spooledEnd(f *follower) int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.spooled == nil {
		return 0
	}
	return f.spooled.meta.End
}

// TestRotatedFileSpooledWhenDelayEnds: a rotated file's unacknowledged
// bytes are copied to the spool when its spool delay ends, not at the
// spooler's next poll. With fast rotation the kubelet deletes a rotated
// file soon after; a crash between that deletion and the copy would lose
// the bytes, so the copy must come as early as the delay allows.
func TestRotatedFileSpooledWhenDelayEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, f := spoolerFixture(t)
		size := f.size.Load()
		// Rotated between two polls.
		time.Sleep(spoolerPoll / 2)
		f.detach()
		time.Sleep(spoolDelay - time.Millisecond)
		synctest.Wait()
		if end := spooledEnd(f); end != 0 {
			t.Fatalf("spooled up to %d before the spool delay ended", end)
		}
		time.Sleep(2 * time.Millisecond)
		synctest.Wait()
		if end := spooledEnd(f); end != size {
			t.Fatalf("spooled up to %d right after the spool delay; want all %d bytes", end, size)
		}
	})
}

// TestFileFoundRotatedSpooledAtOnce: a file found already rotated away (at
// a start, after a crash in an outage) is spooled at once: it may be
// deleted any moment, and its rotation may be older than the delay.
func TestFileFoundRotatedSpooledAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, f := spoolerFixture(t)
		f.detachedSince(time.Now())
		synctest.Wait()
		if end, size := spooledEnd(f), f.size.Load(); end != size {
			t.Fatalf("spooled up to %d of a file found rotated; want all %d bytes at once", end, size)
		}
	})
}
