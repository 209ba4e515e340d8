package tailer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
)

// seqSink checks numbered lines: it records which numbers arrived and that
// they arrive in order per file.
type seqSink struct {
	mu      sync.Mutex
	changed chan struct{}
	got     []bool
	n       int
	last    map[*ackTracker]int
	bad     []string
	block   chan struct{}
}

func newSeqSink(total int) *seqSink {
	return &seqSink{changed: make(chan struct{}), got: make([]bool, total), last: make(map[*ackTracker]int)}
}

func (s *seqSink) Write(ctx context.Context, recs []Record) error {
	s.mu.Lock()
	block := s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		m := r.Message
		if len(m) < 10 || string(m[:2]) != "s-" {
			s.bad = append(s.bad, string(m))
			continue
		}
		n, err := strconv.Atoi(string(m[2:10]))
		if err != nil || n >= len(s.got) {
			s.bad = append(s.bad, string(m))
			continue
		}
		key := r.Pos.Acker.(*ackChunk).tr
		if last, ok := s.last[key]; ok && n <= last {
			s.bad = append(s.bad, fmt.Sprintf("%d after %d", n, last))
		}
		s.last[key] = n
		if !s.got[n] {
			s.got[n] = true
			s.n++
		}
		r.Pos.Ack()
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

// TestRotationWhileConsumerBlocked rotates like the kubelet, at 10 MiB and
// keeping 5 files, under a fast writer while the consumer is blocked for
// several rotations: once it resumes, every line arrives.
func TestRotationWhileConsumerBlocked(t *testing.T) {
	const (
		rotateAt  = 10 << 20
		keep      = 5
		rotations = 6
		pad       = "........................................................................................................................................................................................................................................................................................................................................................................................................................"
	)
	root := t.TempDir()
	logDir, linkDir := podLayout(t, root, "load", "writer", "app")
	live := filepath.Join(logDir, "0.log")
	lineLen := len(criLine("s-00000000 " + pad))
	perFile := rotateAt/lineLen + 1
	total := perFile * (rotations + 1)

	sink := newSeqSink(total)
	release := make(chan struct{})
	sink.block = release
	tl, _ := startTailer(t, Config{Include: []string{filepath.Join(linkDir, "*.log")}}, sink)

	n := 0
	for r := 0; r <= rotations; r++ {
		f, err := os.OpenFile(live, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			t.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		for range perFile {
			fmt.Fprintf(w, "2026-11-26T14:02:03.5Z stdout F s-%08d %s\n", n, pad)
			n++
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if r == rotations {
			break
		}
		// The kubelet: rename, keep the newest rotated files, the runtime
		// reopens. Older files are deleted while the consumer is blocked.
		if err := os.Rename(live, fmt.Sprintf("%s.2026112614%04d", live, r)); err != nil {
			t.Fatal(err)
		}
		old, _ := filepath.Glob(live + ".*")
		sort.Strings(old)
		for len(old) > keep-1 {
			os.Remove(old[0])
			old = old[1:]
		}
	}
	sink.mu.Lock()
	sink.block = nil
	sink.mu.Unlock()
	close(release)

	waitCond(t, &sink.mu, func() chan struct{} { return sink.changed }, "every line", func() bool { return sink.n == total })
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.bad) > 0 {
		t.Errorf("%d bad records, first %q", len(sink.bad), sink.bad[0])
	}
	if sink.n != total {
		t.Errorf("got %d of %d lines", sink.n, total)
	}
	if got := testCounter(tl.m.filesRotated); got < 1 {
		t.Errorf("rotations counted %v; want at least 1", got)
	}
}

// TestRenamedBeforeOpen: a file the glob found and the kubelet renamed
// before it could be opened is not unreadable, and its bytes are not
// counted as skipped: it is read next to its old name.
func TestRenamedBeforeOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	appendFile(t, path, criLines(seq("r", 0, 10)))
	tl, err := New(Config{Include: []string{filepath.Join(dir, "*.log")}}, newCollector())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	nf := found{path: path, target: path, id: idOf(fi), size: fi.Size()}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	tl.mu.Lock()
	f := tl.open(nf, false)
	tl.mu.Unlock()
	if f != nil {
		t.Fatal("opened a file that is gone")
	}
	tl.scan(func(*follower) {})
	if got := testCounter(tl.m.skipped.WithLabelValues(skipUnreadable)); got != 0 {
		t.Errorf("skipped unreadable bytes = %v; want 0", got)
	}
}
