package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// model is a journal directory written the way journald writes it (one
// sequence, an active file appended to in place, rotation by archiving and
// renaming, vacuum by deleting the oldest archived file) and a reader
// restarted from its acknowledged cursor, driven by a fuzz input.
type model struct {
	t        *testing.T
	dir      string
	active   *synth
	archived []string // oldest first
	files    int
	written  uint64 // the last seqnum written
	vacuumed map[uint64]bool

	r          *Reader
	losses     *losses
	delivered  map[uint64]bool
	last       uint64 // the last seqnum this reader delivered
	first      uint64 // the first one
	count      uint64 // how many it delivered
	lastCursor Cursor
	acked      Cursor
	from       Cursor // the cursor this reader started after
}

func newModel(t *testing.T) *model {
	m := &model{t: t, dir: t.TempDir(), vacuumed: map[uint64]bool{}, delivered: map[uint64]bool{}}
	m.newActive()
	m.restart()
	return m
}

func (m *model) newActive() {
	s := newSynth(m.files%2 == 0, 0)
	m.files++
	copy(s.fileID[:], fmt.Sprintf("file-%d", m.files))
	s.seqnum = m.written
	m.active = s
	m.flush(StateOnline)
}

// flush writes the active file as it is now, in place.
func (m *model) flush(state State) {
	p := filepath.Join(m.dir, "system.journal")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		m.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(m.active.bytes(state), 0); err != nil {
		m.t.Fatal(err)
	}
}

func (m *model) appendEntries(n int) {
	for range n {
		m.written++
		m.active.entry(1_700_000_000_000_000+m.written, m.written, ID128{'b'}, fmt.Sprintf("MESSAGE=entry %d", m.written))
	}
	m.flush(StateOnline)
}

func (m *model) rotate() {
	m.flush(StateArchived)
	p := filepath.Join(m.dir, fmt.Sprintf("system@%032x-%016x-%016x.journal", 1, m.active.head, m.files))
	if err := os.Rename(filepath.Join(m.dir, "system.journal"), p); err != nil {
		m.t.Fatal(err)
	}
	m.archived = append(m.archived, p)
	m.newActive()
}

func (m *model) vacuum() {
	if len(m.archived) == 0 {
		return
	}
	b, err := os.ReadFile(m.archived[0])
	if err != nil {
		m.t.Fatal(err)
	}
	h, _ := parseHeader(b)
	for s := h.HeadEntrySeqnum; s <= h.TailEntrySeqnum && h.NEntries > 0; s++ {
		m.vacuumed[s] = true
	}
	os.Remove(m.archived[0])
	m.archived = m.archived[1:]
}

func (m *model) read(n int) {
	batch := make([]*Entry, n)
	for i := range batch {
		batch[i] = new(Entry)
	}
	got := m.r.Read(batch)
	for _, e := range batch[:got] {
		if e.Seqnum <= m.last {
			m.t.Fatalf("seqnum %d delivered after %d", e.Seqnum, m.last)
		}
		if want := fmt.Sprintf("entry %d", e.Seqnum); string(e.Message()) != want {
			m.t.Fatalf("seqnum %d holds %q", e.Seqnum, e.Message())
		}
		if m.count == 0 {
			m.first = e.Seqnum
		}
		m.last = e.Seqnum
		m.count++
		m.delivered[e.Seqnum] = true
	}
	if got > 0 {
		m.lastCursor = batch[got-1].Cursor()
	}
}

func (m *model) restart() {
	if m.r != nil {
		m.checkLosses()
		m.r.Close()
	}
	m.losses = &losses{}
	m.count = 0
	r, err := NewReader(Config{Dirs: []string{m.dir}, After: m.acked, OnLoss: m.losses.add})
	if err != nil {
		m.t.Fatal(err)
	}
	m.r, m.last, m.from = r, m.acked.Seqnum, m.acked
	m.t.Cleanup(func() { r.Close() })
}

// check drains the reader and checks that every entry written was
// delivered, or reported lost by a reader that could not have read it.
func (m *model) check() {
	m.r.needScan = true
	for {
		before := m.last
		m.read(64)
		if m.last == before {
			break
		}
	}
	var missing uint64
	for s := uint64(1); s <= m.written; s++ {
		if !m.delivered[s] {
			if !m.vacuumed[s] {
				m.t.Fatalf("entry %d never delivered, and its file is still there (%d written)", s, m.written)
			}
			missing++
		}
	}
	m.checkLosses()
}

// checkLosses checks what this reader reported lost: exactly the
// seqnums it skipped between its start (its cursor) and the last entry it
// delivered.
func (m *model) checkLosses() {
	for _, l := range m.losses.get() {
		if l.Reason != LossGap {
			m.t.Fatalf("loss %v", l)
		}
	}
	var want uint64
	if m.count > 0 {
		start := m.first - 1
		if !m.from.IsZero() {
			start = m.from.Seqnum
		}
		want = m.last - start - m.count
	}
	if got := m.losses.total(LossGap); got != want {
		m.t.Fatalf("reported %d entries lost; the reader skipped %d (cursor %d, delivered %d from %d to %d)",
			got, want, m.from.Seqnum, m.count, m.first, m.last)
	}
}

// FuzzReaderModel runs the model on the actions a fuzz input encodes.
func FuzzReaderModel(f *testing.F) {
	f.Add([]byte{0, 3, 1, 0, 5, 3, 2, 2, 4, 0, 1, 3})
	f.Add([]byte{0, 9, 1, 1, 0, 9, 1, 2, 2, 2, 4, 3, 3})
	f.Add([]byte{0, 4, 3, 2, 5, 1, 0, 4, 1, 0, 4, 2, 2, 4, 3, 9})
	f.Add([]byte{3, 8, 0, 7, 6, 1, 1, 0, 2, 1, 2, 5, 4, 3, 2})
	f.Fuzz(func(t *testing.T, actions []byte) {
		if len(actions) > 200 {
			return
		}
		m := newModel(t)
		for i := 0; i+1 < len(actions); i += 2 {
			arg := int(actions[i+1]%8) + 1
			switch actions[i] % 6 {
			case 0:
				m.appendEntries(arg)
			case 1:
				m.rotate()
			case 2:
				m.vacuum()
			case 3:
				m.read(arg)
			case 4:
				m.restart()
			case 5:
				m.acked = m.lastCursor
			}
		}
		m.check()
	})
}
