package journal

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// replayer writes a real journal file's bytes into a new file the way its
// writer did: the objects of each entry (and the entry arrays linking it),
// then the header's tail fields, then n_entries, with the file in state
// online and preallocated as journald preallocates.
type replayer struct {
	t     *testing.T
	src   []byte
	f     *os.File
	ends  []uint64 // ends[k]: where the objects of entries 1..k+1 end
	offs  []uint64 // entry offsets
	done  uint64   // bytes written so far
	wrote int      // entries written
}

func newReplayer(t *testing.T, src []byte, path string) *replayer {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := f.Truncate(int64(len(src))); err != nil {
		t.Fatal(err)
	}
	rp := &replayer{t: t, src: src, f: f, offs: entryOffsets(t, src)}
	for _, off := range rp.offs {
		end := off + align8(parseObjectHeader(src[off:]).size)
		// The arrays allocated to link the entry follow it.
		for end+objectHeaderSize <= uint64(len(src)) {
			o := parseObjectHeader(src[end:])
			if o.typ != objectEntryArray {
				break
			}
			end += align8(o.size)
		}
		rp.ends = append(rp.ends, end)
	}
	// The header first, with no entries, then the hash tables.
	h := slices.Clone(src[:headerMaxRead])
	h[16] = byte(StateOnline)
	clearTail(h)
	rp.writeAt(h, 0)
	return rp
}

// clearTail sets a header's entry counts and tail fields to an empty
// file's.
func clearTail(h []byte) {
	for _, o := range []int{136, 152, 160, 168, 176, 184, 192, 200} {
		binary.LittleEndian.PutUint64(h[o:], 0)
	}
}

func (rp *replayer) writeAt(b []byte, off uint64) {
	if _, err := rp.f.WriteAt(b, int64(off)); err != nil {
		rp.t.Fatal(err)
	}
}

// entries writes the next n entries, or what is left.
func (rp *replayer) entries(n int) {
	le := binary.LittleEndian
	for ; n > 0 && rp.wrote < len(rp.offs); n-- {
		k := rp.wrote
		if rp.done == 0 {
			rp.done = uint64(headerMaxRead)
			if hs := le.Uint64(rp.src[88:]); hs < rp.done {
				rp.done = hs
			}
		}
		rp.writeAt(rp.src[rp.done:rp.ends[k]], rp.done)
		rp.done = rp.ends[k]
		off := rp.offs[k]
		var b [8]byte
		for _, f := range []struct {
			at  int
			val uint64
		}{
			{136, off},
			{160, le.Uint64(rp.src[off+16:])},
			{192, le.Uint64(rp.src[off+24:])},
			{200, le.Uint64(rp.src[off+32:])},
		} {
			le.PutUint64(b[:], f.val)
			rp.writeAt(b[:], uint64(f.at))
		}
		if k == 0 {
			for _, at := range []int{168, 176, 184} { // head seqnum, first array, head realtime
				rp.writeAt(rp.src[at:at+8], uint64(at))
			}
		}
		le.PutUint64(b[:], uint64(k+1))
		rp.writeAt(b[:], 152) // n_entries last: the entry is linked
		rp.wrote++
	}
}

// setState writes the header's state byte.
func (rp *replayer) setState(s State) { rp.writeAt([]byte{byte(s)}, 16) }

// TestFollowReplayedWriter follows files written the way journald writes
// them, from the bytes of real files: growth in place, then rotation (the
// file archived and renamed, a new file created), then vacuum (the
// archived file deleted). The poll is slow, so fsnotify does the waking.
func TestFollowReplayedWriter(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, testMachine)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	active := filepath.Join(dir, "system.journal")
	a := newReplayer(t, sampleBytes(t, "zstd"), active)
	a.entries(3)
	var ls losses
	r := newTestReader(t, Config{Dirs: []string{root}, PollInterval: time.Hour, OnLoss: ls.add, BatchSize: 5})
	c := newCollector()
	runReader(t, r, c)
	c.waitFor(t, 3)
	for n := 3; n < 40; {
		step := min(1+n%7, 40-n)
		a.entries(step)
		n += step
		c.waitFor(t, n)
	}

	// Rotation: archived, renamed, and a new active file whose header
	// appears before any entry.
	a.setState(StateArchived)
	archived := filepath.Join(dir, "system@00112233445566778899aabbccddeeff-0000000000000001-0006420a91e1c000.journal")
	if err := os.Rename(active, archived); err != nil {
		t.Fatal(err)
	}
	b := newReplayer(t, sampleBytes(t, "compact"), active)
	for n := 40; n < 60; n += 4 {
		b.entries(4)
		c.waitFor(t, n+4)
	}
	// Vacuum: the archived file is deleted; the new one goes on.
	if err := os.Remove(archived); err != nil {
		t.Fatal(err)
	}
	b.entries(20)
	got := c.waitFor(t, 80)

	var want []string
	for _, w := range golden(t, "zstd") {
		want = append(want, w.cursor)
	}
	for _, w := range golden(t, "compact") {
		want = append(want, w.cursor)
	}
	for i, e := range got {
		if e.Cursor().String() != want[i] {
			t.Fatalf("entry %d is %s; want %s", i, e.Cursor(), want[i])
		}
	}
	if l := ls.get(); len(l) != 0 {
		t.Errorf("losses %v", l)
	}
}

// TestFollowDeletedBeforeRead deletes a file the reader has open but has
// not read to its end: it is read to its end from the open descriptor.
func TestFollowDeletedBeforeRead(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "system@x.journal")
	writeFile(t, p, synthSeq("a", 1, 30, StateArchived))
	r := newTestReader(t, Config{Dirs: []string{root}})
	batch := []*Entry{new(Entry), new(Entry), new(Entry)}
	if n := r.Read(batch); n != 3 {
		t.Fatalf("Read = %d", n)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	r.needScan = true
	got := seqnums(readAll(t, r))
	if len(got) != 27 || got[0] != 4 || got[26] != 30 {
		t.Errorf("after the deletion: %v; want 4-30", got)
	}
	r.needScan = true
	r.Read(batch)
	if len(r.sources) != 0 || len(r.byIno) != 0 {
		t.Errorf("%d files open and %d known after reading a deleted file", len(r.sources), len(r.byIno))
	}
}

// TestDirtyFile reads a file journald set aside as dirty (*.journal~):
// with the entry its writer appended and never linked.
func TestDirtyFile(t *testing.T) {
	s := newSynth(false, 0)
	for i := range 5 {
		s.entry(uint64(1000+i), uint64(i), ID128{1}, fmt.Sprintf("MESSAGE=%d", i))
	}
	// One more entry appended, not linked: its writer died.
	s.unlinkedEntry(2000, 10, ID128{1}, "MESSAGE=unlinked")
	b := s.bytes(StateOnline)
	for name, want := range map[string]int{"system.journal": 5, "system@0-1-2.journal~": 6} {
		root := t.TempDir()
		writeFile(t, filepath.Join(root, name), b)
		es := readAll(t, newTestReader(t, Config{Dirs: []string{root}}))
		if len(es) != want {
			t.Errorf("%s: %d entries; want %d", name, len(es), want)
		}
	}
}

// TestFollowWithTools follows files systemd-journal-remote writes: it
// appends to the active file while it is read, then the file is rotated
// by a rename and journal-remote starts a new one, then the archived file
// is vacuumed.
func TestFollowWithTools(t *testing.T) {
	jr := needTools(t)
	root := t.TempDir()
	active := filepath.Join(root, "system.journal")
	base := uint64(sampleBase)
	batch := 0
	write := func(n int) {
		writeJournal(t, jr, active, nodeExportRange(batch, n, base+uint64(batch)*1000), true)
		batch += n
	}
	write(50)
	var ls losses
	r := newTestReader(t, Config{Dirs: []string{root}, PollInterval: time.Hour, OnLoss: ls.add})
	c := newCollector()
	runReader(t, r, c)
	c.waitFor(t, 50)
	write(50) // appended while the reader follows
	c.waitFor(t, 100)
	archived := filepath.Join(root, "system@1-2-3.journal")
	if err := os.Rename(active, archived); err != nil {
		t.Fatal(err)
	}
	write(50) // a new file
	c.waitFor(t, 150)
	if err := os.Remove(archived); err != nil {
		t.Fatal(err)
	}
	write(50)
	got := c.waitFor(t, 200)
	for i, e := range got {
		m := string(e.Message())
		if !containsWord(m, fmt.Sprintf("entry %d", i)) && !containsWord(m, fmt.Sprintf("event %d", i)) {
			t.Fatalf("entry %d: %.60q", i, m)
		}
	}
	if l := ls.get(); len(l) != 0 {
		t.Errorf("losses %v", l)
	}
}

// containsWord reports whether m holds w followed by a non-digit.
func containsWord(m, w string) bool {
	for i := 0; i+len(w) <= len(m); i++ {
		if m[i:i+len(w)] == w && (i+len(w) == len(m) || m[i+len(w)] < '0' || m[i+len(w)] > '9') {
			return true
		}
	}
	return false
}
