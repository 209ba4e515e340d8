package tailer

import (
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestFiles: Files reports each open file with its pod, read offset, size
// and unacknowledged bytes, and is safe to call while the files are read.
func TestFiles(t *testing.T) {
	root := t.TempDir()
	logDir, linkDir := podLayout(t, root, "shop", "web", "app")
	live := filepath.Join(logDir, "0.log")
	first := criLines(seq("a", 0, 100))
	appendFile(t, live, first)
	c := newCollector()
	c.holdAcks = true
	before := time.Now()
	tl, _ := startTailer(t, Config{Include: []string{filepath.Join(linkDir, "*.log")}, RescanInterval: 1 << 40}, c)
	c.waitFor(t, "the first lines", func() bool { return c.count() == 100 })

	files := tl.Files()
	if len(files) != 1 {
		t.Fatalf("Files() = %+v; want one file", files)
	}
	f := files[0]
	n := int64(len(first))
	if f.Target != live || filepath.Dir(f.Path) != linkDir || f.Namespace != "shop" || f.Pod != "web" || f.Container != "app" {
		t.Errorf("Files()[0] names %+v; want shop/web/app at %s", f, live)
	}
	if f.Offset != n || f.Size != n || f.Lag() != 0 || f.Unacked != n {
		t.Errorf("Files()[0] offset %d, size %d, lag %d, unacked %d; want %d, %d, 0, %d", f.Offset, f.Size, f.Lag(), f.Unacked, n, n, n)
	}
	if f.Opened.Before(before) || f.Opened.After(time.Now()) || f.Detached {
		t.Errorf("Files()[0] opened %v (test started %v), detached %v", f.Opened, before, f.Detached)
	}

	c.mu.Lock()
	c.holdAcks = false
	c.mu.Unlock()
	c.ackHeld()
	eventually(t, "the acknowledgement", func() bool { return tl.Files()[0].Unacked == 0 })

	// Concurrent callers while the follower reads: the race detector
	// checks the locking.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				for _, f := range tl.Files() {
					if f.Offset < 0 || f.Lag() < 0 {
						t.Errorf("Files() = %+v", f)
					}
				}
			}
		})
	}
	more := criLines(seq("b", 0, 100))
	appendFile(t, live, more)
	wg.Wait()
	want := n + int64(len(more))
	// The follower may read past the size it last saw: Lag is never
	// negative, and the size catches up at its next look.
	eventually(t, "the new lines read and the new size seen", func() bool {
		f := tl.Files()[0]
		return f.Offset == want && f.Size == want && f.Lag() == 0
	})
}

func TestFilesEmpty(t *testing.T) {
	tl, err := New(Config{Include: []string{filepath.Join(t.TempDir(), "*.log")}}, newCollector())
	if err != nil {
		t.Fatal(err)
	}
	if got := tl.Files(); len(got) != 0 {
		t.Errorf("Files() before Run = %+v; want none", got)
	}
}
