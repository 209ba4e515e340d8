package nodesim

import (
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/tailer/journal"
)

// TestJournalWrites: the simulated journal writes every kind in turn, with
// a marker a Counter reads, rotates at its size and vacuums beyond
// MaxFiles, and the journal package reads it back.
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func TestJournalWrites(t *testing.T) {
	dir := t.TempDir()
	j, err := NewJournal(JournalConfig{Dir: dir, Rate: 2000, RotateBytes: 64 << 10, MaxFiles: 2, Hostname: "node-1"})
	if err != nil {
		t.Fatal(err)
	}
	for j.files < 5 { // four rotations
		if err := j.write(100, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Run(canceled()); err != nil { // archives the active file
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.journal"))
	if len(files) != 3 {
		t.Fatalf("%d files (%v); want the active one and 2 archived", len(files), files)
	}
	c := NewCounter(j)
	read := 0
	for _, p := range files {
		f, err := journal.OpenFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var e journal.Entry
		for {
			if err := f.Next(&e); err == io.EOF {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			unit, _ := e.Value("_SYSTEMD_UNIT")
			m, ok := FindMarker(string(e.Message()))
			if !ok || (m.Stream == 0) != (string(unit) == "kubelet.service") {
				t.Fatalf("entry %q of unit %q", e.Message(), unit)
			}
			c.Observe(time.Now(), string(e.Message()))
			read++
		}
		f.Close()
	}
	tl := c.Tally()
	if tl.Foreign != 0 || tl.Duplicates != 0 || tl.Delivered != int64(read) || tl.Written != j.Written() || tl.Lost == 0 {
		t.Errorf("tally %+v after reading %d entries of %d: want the vacuumed ones lost, nothing else", tl, read, j.Written())
	}
}
