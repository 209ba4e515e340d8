package journal

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWriterReadBack: what a Writer appends, in several batches and over
// more than one entry array, File reads back whole and in order, and a
// Reader follows across the Writer's rotation to a new file of the same
// sequence without counting a loss.
func TestWriterReadBack(t *testing.T) {
	dir := t.TempDir()
	seq, machine, boot := ID128{'s'}, ID128{'m'}, ID128{'b'}
	w, err := CreateWriter(filepath.Join(dir, "system.journal"), seq, machine, ID128{'f', 1})
	if err != nil {
		t.Fatal(err)
	}
	entry := func(i int) WriterEntry {
		return WriterEntry{Seqnum: uint64(i + 1), Realtime: 1_700_000_000_000_000 + uint64(i), Monotonic: uint64(i), BootID: boot,
			Fields: []string{"_HOSTNAME=node-1", "_SYSTEMD_UNIT=kubelet.service", fmt.Sprintf("MESSAGE=entry %d", i)}}
	}
	n := 0
	for _, batch := range []int{1, 5, 100, 200} { // 306 entries: arrays of 64, 128, 256
		var es []WriterEntry
		for range batch {
			es = append(es, entry(n))
			n++
		}
		if err := w.Append(es...); err != nil {
			t.Fatal(err)
		}
	}
	got := readAllFile(t, w.Path())
	if len(got) != n {
		t.Fatalf("read %d entries; want %d", len(got), n)
	}
	for i, e := range got {
		if m := string(e.Message()); m != fmt.Sprintf("entry %d", i) || e.Seqnum != uint64(i+1) {
			t.Fatalf("entry %d: seqnum %d, message %q", i, e.Seqnum, m)
		}
	}

	var ls losses
	r := newTestReader(t, Config{Dirs: []string{dir}, PollInterval: 50 * time.Millisecond, OnLoss: ls.add})
	c := newCollector()
	runReader(t, r, c)
	c.waitFor(t, n)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(w.Path(), filepath.Join(dir, "system@0000-0001.journal")); err != nil {
		t.Fatal(err)
	}
	w2, err := CreateWriter(filepath.Join(dir, "system.journal"), seq, machine, ID128{'f', 2})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	for range 10 {
		if err := w2.Append(entry(n)); err != nil {
			t.Fatal(err)
		}
		n++
	}
	all := c.waitFor(t, n)
	if m := string(all[n-1].Message()); m != fmt.Sprintf("entry %d", n-1) {
		t.Errorf("last entry %q", m)
	}
	if l := ls.get(); len(l) != 0 {
		t.Errorf("losses %v", l)
	}
	if _, err := OpenFile(filepath.Join(dir, "none.journal")); err == nil || err == io.EOF {
		t.Error("OpenFile of a missing file succeeded")
	}
}
