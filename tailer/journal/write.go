package journal

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"
)

// Writer appends entries to a journal file in the regular layout, without
// compression and without hash tables: the files a node simulator needs
// (skiff demo, the benchmark) and that this package reads. journalctl and
// libsystemd look fields up through the hash tables, so they are not meant
// to read these files; systemd-journal-remote writes files for them.
//
// Appends follow journald's order: the new objects first, then the entry
// array slot that links the entry, then the header that counts it, so that
// a reader following the file sees whole entries only. A Writer is not safe
// for concurrent use.
type Writer struct {
	f       *os.File
	path    string
	seqID   ID128
	machine ID128
	fileID  ID128

	size     uint64            // the end of the file
	data     map[string]uint64 // payload → DATA object, in this file
	arrFirst uint64            // the entry array chain's first array
	arrOff   uint64            // its last array
	arrN     uint64            // entries in the last array
	arrCap   uint64            // capacity of the last array
	nObjects uint64
	nEntries uint64
	nArrays  uint64
	nData    uint64
	head     uint64 // first seqnum in the file
	headRT   uint64
	last     WriterEntry // the last entry written
	lastOff  uint64
}

// WriterEntry is one entry to append.
type WriterEntry struct {
	// Seqnum numbers the entry in its sequence: one more than the last
	// entry's, across files of the same sequence.
	Seqnum uint64
	// Realtime and Monotonic are the receive times, in microseconds.
	Realtime, Monotonic uint64
	BootID              ID128
	// Fields are "FIELD=value" payloads.
	Fields []string
}

// CreateWriter creates the journal file at path (it must not exist), in
// state online, for the sequence seqID of machine.
func CreateWriter(path string, seqID, machine, fileID ID128) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, path: path, seqID: seqID, machine: machine, fileID: fileID,
		size: headerMaxRead, data: make(map[string]uint64)}
	if err := w.writeHeader(StateOnline); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Size returns the file's size.
func (w *Writer) Size() int64 { return int64(w.size) }

// Path returns the file's path.
func (w *Writer) Path() string { return w.path }

// Append writes entries and links them; they are visible to readers when
// it returns.
func (w *Writer) Append(entries ...WriterEntry) error {
	le := binary.LittleEndian
	base := w.size
	var tail []byte // the objects appended, from base
	obj := func(typ uint8, body []byte) uint64 {
		off := w.size
		var h [objectHeaderSize]byte
		h[0] = typ
		le.PutUint64(h[8:], uint64(objectHeaderSize+len(body)))
		tail = append(tail, h[:]...)
		tail = append(tail, body...)
		for len(tail)%8 != 0 {
			tail = append(tail, 0)
		}
		w.size = base + uint64(len(tail))
		w.nObjects++
		return off
	}
	type patch struct {
		off uint64
		b   []byte
	}
	var patches []patch // writes into what is already on disk
	for _, e := range entries {
		items := make([]uint64, 0, len(e.Fields))
		for _, p := range e.Fields {
			off, ok := w.data[p]
			if !ok {
				body := make([]byte, dataObjectSize-objectHeaderSize, dataObjectSize-objectHeaderSize+len(p))
				le.PutUint64(body[40:], 1) // n_entries
				body = append(body, p...)
				off = obj(objectData, body)
				w.data[p] = off
				w.nData++
			}
			items = append(items, off)
		}
		body := make([]byte, entryObjectSize-objectHeaderSize, entryObjectSize-objectHeaderSize+16*len(items))
		le.PutUint64(body[0:], e.Seqnum)
		le.PutUint64(body[8:], e.Realtime)
		le.PutUint64(body[16:], e.Monotonic)
		copy(body[24:40], e.BootID[:])
		for _, o := range items {
			body = le.AppendUint64(body, o)
			body = le.AppendUint64(body, 0)
		}
		eoff := obj(objectEntry, body)

		// Link it: a new array when the last one is full, its capacity
		// doubling as journald's do.
		if w.arrOff == 0 || w.arrN == w.arrCap {
			capacity := uint64(64)
			if w.arrCap > 0 {
				capacity = w.arrCap * 2
			}
			a := obj(objectEntryArray, make([]byte, 8+capacity*8))
			w.nArrays++
			if w.arrOff == 0 {
				w.arrFirst = a
			} else {
				var next [8]byte
				le.PutUint64(next[:], a)
				patches = append(patches, patch{w.arrOff + 16, next[:]})
			}
			w.arrOff, w.arrN, w.arrCap = a, 0, capacity
		}
		slot := w.arrOff + entryArrayObjectSize + w.arrN*8
		var item [8]byte
		le.PutUint64(item[:], eoff)
		if slot >= base {
			copy(tail[slot-base:], item[:])
		} else {
			patches = append(patches, patch{slot, item[:]})
		}
		w.arrN++
		w.nEntries++
		if w.head == 0 {
			w.head, w.headRT = e.Seqnum, e.Realtime
		}
		w.last, w.lastOff = e, eoff
	}
	if _, err := w.f.WriteAt(tail, int64(base)); err != nil {
		return fmt.Errorf("journal %s: %w", w.path, err)
	}
	slices.SortFunc(patches, func(a, b patch) int { return int(a.off) - int(b.off) })
	for _, p := range patches {
		if _, err := w.f.WriteAt(p.b, int64(p.off)); err != nil {
			return fmt.Errorf("journal %s: %w", w.path, err)
		}
	}
	return w.writeHeader(StateOnline)
}

// writeHeader writes the header with the counts so far.
func (w *Writer) writeHeader(state State) error {
	le := binary.LittleEndian
	h := make([]byte, headerMaxRead)
	copy(h, signature)
	h[16] = byte(state)
	copy(h[24:40], w.fileID[:])
	copy(h[40:56], w.machine[:])
	copy(h[56:72], w.last.BootID[:])
	copy(h[72:88], w.seqID[:])
	le.PutUint64(h[88:], headerMaxRead)
	le.PutUint64(h[96:], w.size-headerMaxRead)
	le.PutUint64(h[136:], w.lastOff)
	le.PutUint64(h[144:], w.nObjects)
	le.PutUint64(h[152:], w.nEntries)
	le.PutUint64(h[160:], w.last.Seqnum)
	le.PutUint64(h[168:], w.head)
	le.PutUint64(h[176:], w.arrFirst)
	le.PutUint64(h[184:], w.headRT)
	le.PutUint64(h[192:], w.last.Realtime)
	le.PutUint64(h[200:], w.last.Monotonic)
	le.PutUint64(h[208:], w.nData)
	le.PutUint64(h[232:], w.nArrays)
	le.PutUint32(h[256:], uint32(w.arrOff))
	le.PutUint32(h[260:], uint32(w.arrN))
	le.PutUint64(h[264:], w.lastOff)
	if _, err := w.f.WriteAt(h, 0); err != nil {
		return fmt.Errorf("journal %s: %w", w.path, err)
	}
	return nil
}

// Close marks the file archived, as journald does at rotation, and closes
// it.
func (w *Writer) Close() error {
	err := w.writeHeader(StateArchived)
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}
