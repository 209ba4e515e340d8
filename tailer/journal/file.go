package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// File reads the entries of one journal file, in the order of the file's
// entry array chain (the order of their sequence numbers). It reads with
// positional reads, never mmap, so a file truncated under it costs an
// error, not a crash.
//
// A File is not safe for concurrent use.
type File struct {
	path      string
	r         io.ReaderAt
	size      func() (int64, error)
	osf       *os.File // nil when not reading an *os.File
	hdr       Header
	hdrBuf    [headerMaxRead]byte
	end       uint64 // offsets stay below: the written part at the last refresh
	abandoned bool   // the writer is gone (a "~" file): incomplete means corrupt
	codecs    *codecs
	ownCodecs bool

	// Position in the entry array chain.
	nRead     uint64   // entries consumed
	arr       uint64   // offset of the current entry array; 0 before the first
	arrCap    uint64   // its number of items
	arrIdx    uint64   // index of the next item in it
	items     []uint64 // items[i] is item itemsBase+i of the current array
	itemsBase uint64
	lastOff   uint64 // offset of the last entry consumed
	lastGood  uint64 // offset of the last entry whose head was read
	lastSeq   uint64 // the highest seqnum read
	haveLast  bool   // lastSeq is set

	// After the chain broke: walking objects one by one from scanOff.
	scanning bool
	scanOff  uint64
	scanSize uint64 // aligned size of the object at scanOff
	finished bool   // nothing more can be read

	pend    entryKey // the next entry, found by peek and not yet consumed
	hasPend bool

	win      [2]window
	tick     uint64
	scratch  []byte
	itemOffs []uint64
	cache    dataCache
}

// entryKey is what ordering entries needs: an entry's fixed fields.
type entryKey struct {
	off       uint64
	size      uint64
	seqnum    uint64
	realtime  uint64
	monotonic uint64
	xor       uint64
	boot      ID128
}

// OpenFile opens a journal file and reads its header. It fails with an
// error wrapping ErrNotJournal, ErrUnsupported or ErrCorrupt when the file
// cannot be read as a journal.
func OpenFile(path string) (*File, error) {
	fd, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	f, err := newFile(fd, fileSize(fd), path, nil)
	if err != nil {
		fd.Close()
		return nil, err
	}
	f.osf = fd
	return f, nil
}

// fileSize returns a function reporting fd's current size.
func fileSize(fd *os.File) func() (int64, error) {
	return func() (int64, error) {
		fi, err := fd.Stat()
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
}

// newFile reads the header of the file r reads, whose current size size
// reports. A nil c gives the File its own codecs.
func newFile(r io.ReaderAt, size func() (int64, error), path string, c *codecs) (*File, error) {
	f := &File{path: path, r: r, size: size, codecs: c, abandoned: strings.HasSuffix(path, "~")}
	if c == nil {
		f.codecs = &codecs{}
		f.ownCodecs = true
	}
	if _, err := f.refresh(); err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}

// Path returns the path the file was opened by.
func (f *File) Path() string { return f.path }

// Header returns the header as last read. Next re-reads it when it reaches
// the end of the entries it knew, so a growing file's counts move.
func (f *File) Header() Header { return f.hdr }

// Close closes the file.
func (f *File) Close() error {
	if f.ownCodecs {
		f.codecs.close()
	}
	if f.osf == nil {
		return nil
	}
	return f.osf.Close()
}

// Next fills e with the next entry. It returns io.EOF when there is none
// for now: a file being written may have more later, so Next can be called
// again. It returns a *CorruptError when it met a malformed part of the
// file; the File has moved past it, and calling Next again reads what
// follows. Other errors are I/O errors.
func (f *File) Next(e *Entry) error {
	if _, err := f.peek(); err != nil {
		return err
	}
	return f.read(e)
}

// SeekTail moves past every entry the file holds now, so that Next returns
// only entries appended later. When the entry array chain is broken the
// File gives up on the file and returns the *CorruptError.
func (f *File) SeekTail() error {
	f.hasPend = false
	if f.hdr.State != StateArchived {
		if _, err := f.refresh(); err != nil {
			return err
		}
	}
	if f.scanning || f.finished {
		f.finished = true
		return nil
	}
	fail := func(off uint64, what string, err error) error {
		f.finished = true
		return f.corrupt(off, what, err)
	}
	for f.nRead < f.hdr.NEntries {
		if f.arr == 0 || f.arrIdx >= f.arrCap {
			next := f.hdr.EntryArrayOffset
			if f.arr != 0 {
				b, err := f.view(f.arr+16, 8)
				if err != nil {
					return fail(f.arr, "entry array", err)
				}
				next = binary.LittleEndian.Uint64(b)
				if next <= f.arr {
					return fail(f.arr, "entry array chain", fmt.Errorf("next array at %d", next))
				}
			}
			if err := f.loadArray(next); err != nil {
				return fail(next, "entry array", err)
			}
		}
		n := min(f.arrCap-f.arrIdx, f.hdr.NEntries-f.nRead)
		f.arrIdx += n
		f.nRead += n
	}
	if f.nRead == 0 {
		return nil
	}
	off, err := f.itemAt(f.arrIdx - 1)
	if err != nil {
		return fail(f.arr, "entry array item", err)
	}
	k, err := f.readEntryHead(off)
	if err != nil {
		return fail(off, "entry", err)
	}
	f.lastOff, f.lastGood, f.lastSeq, f.haveLast = off, off, k.seqnum, true
	return nil
}

// unstarted reports whether no entry of the file was looked at yet.
func (f *File) unstarted() bool {
	return f.nRead == 0 && !f.hasPend && !f.haveLast && !f.scanning && f.hdr.NEntries > 0
}

// headKey is what the header says of the first entry.
func (f *File) headKey() entryKey {
	return entryKey{seqnum: f.hdr.HeadEntrySeqnum, realtime: f.hdr.HeadEntryRealtime}
}

// live reports whether the file may still be written to: then an object
// not written yet is expected, not corruption.
func (f *File) live() bool { return f.hdr.State == StateOnline && !f.abandoned }

// refresh re-reads the header and the file's size. It reports whether
// anything changed; then cached bytes of the file are dropped.
func (f *File) refresh() (bool, error) {
	n, err := f.r.ReadAt(f.hdrBuf[:], 0)
	if err != nil && err != io.EOF {
		return false, err
	}
	h, err := parseHeader(f.hdrBuf[:n])
	if err != nil {
		return false, err
	}
	if !f.hdr.FileID.IsZero() && h.FileID != f.hdr.FileID {
		return false, f.corrupt(0, "file ID changed", nil)
	}
	size, err := f.size()
	if err != nil {
		return false, err
	}
	end := uint64(size)
	if arena := h.HeaderSize + h.ArenaSize; arena >= h.HeaderSize && arena < end {
		end = arena
	}
	changed := h.NEntries != f.hdr.NEntries || end != f.end || h.State != f.hdr.State ||
		h.TailObjectOffset != f.hdr.TailObjectOffset
	if changed {
		f.dropCached()
	}
	f.hdr, f.end = h, end
	return changed, nil
}

// dropCached forgets the file's bytes read so far (but not DATA payloads,
// which never change once written).
func (f *File) dropCached() {
	for i := range f.win {
		f.win[i].buf = f.win[i].buf[:0]
	}
	f.items = f.items[:0]
}

// peek finds the next entry and reads its fixed fields, without consuming
// it.
func (f *File) peek() (*entryKey, error) {
	for !f.hasPend {
		if f.finished {
			return nil, io.EOF
		}
		var off uint64
		var err error
		if f.scanning {
			off, err = f.scanNext()
		} else {
			off, err = f.chainNext()
		}
		if err == io.EOF && !f.scanning && f.abandoned {
			// A dirty file: its writer may have appended entries it never
			// linked. Look for them after the last one.
			f.startScan()
			continue
		}
		if err != nil {
			return nil, err
		}
		k, err := f.readEntryHead(off)
		if err != nil {
			if f.live() && isUnwritten(err) {
				f.dropCached()
				return nil, io.EOF
			}
			f.consume(off, nil)
			return nil, f.corrupt(off, "entry", err)
		}
		if f.haveLast && k.seqnum <= f.lastSeq {
			f.consume(off, &k)
			if f.scanning {
				continue // read already, through the chain
			}
			return nil, f.corrupt(off, "entry", fmt.Errorf("seqnum %d after %d", k.seqnum, f.lastSeq))
		}
		f.pend, f.hasPend = k, true
	}
	return &f.pend, nil
}

// read fills e with the pending entry's fields and consumes it.
func (f *File) read(e *Entry) error {
	k := f.pend
	f.hasPend = false
	e.reset()
	e.Seqnum, e.Realtime, e.Monotonic, e.BootID, e.XorHash = k.seqnum, k.realtime, k.monotonic, k.boot, k.xor
	e.SeqnumID = f.hdr.SeqnumID
	err := f.readFields(k, e)
	if err != nil && f.live() && isUnwritten(err) {
		f.dropCached()
		e.reset()
		return io.EOF // not consumed: read again once written
	}
	f.consume(k.off, &k)
	if err != nil {
		e.reset()
		return f.corrupt(k.off, "entry fields", err)
	}
	return nil
}

// skip consumes the pending entry without reading its fields.
func (f *File) skip() {
	f.hasPend = false
	f.consume(f.pend.off, &f.pend)
}

// consume moves past the entry at off; k is its fixed part, nil when that
// could not be read.
func (f *File) consume(off uint64, k *entryKey) {
	if f.scanning {
		f.scanOff = off + f.scanSize
	} else {
		f.arrIdx++
		f.nRead++
	}
	f.lastOff = off
	if k != nil {
		f.lastGood = off
		if !f.haveLast || k.seqnum > f.lastSeq {
			f.lastSeq, f.haveLast = k.seqnum, true
		}
	}
}

// isUnwritten reports whether err means that an object is not (completely)
// written yet: zeros where it should be, or its end beyond the file's.
func isUnwritten(err error) bool {
	return errors.Is(err, errZeroObject) || errors.Is(err, errIncomplete)
}

// chainNext returns the offset of the next entry in the entry array chain.
// It returns io.EOF at the end of the entries the header counts, after
// re-reading a header that may have moved.
func (f *File) chainNext() (uint64, error) {
	if f.nRead >= f.hdr.NEntries {
		if f.hdr.State == StateArchived || f.abandoned {
			return 0, io.EOF
		}
		if _, err := f.refresh(); err != nil {
			if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNotJournal) || errors.Is(err, ErrUnsupported) {
				f.finished = true
			}
			return 0, err
		}
		if f.nRead >= f.hdr.NEntries {
			return 0, io.EOF
		}
	}
	if f.arr == 0 {
		off := f.hdr.EntryArrayOffset
		if err := f.loadArray(off); err != nil {
			return 0, f.breakChain(off, "first entry array", err)
		}
	}
	for f.arrIdx >= f.arrCap {
		b, err := f.view(f.arr+16, 8)
		if err != nil {
			return 0, f.breakChain(f.arr, "entry array", err)
		}
		next := binary.LittleEndian.Uint64(b)
		if next == 0 {
			return 0, f.breakChain(f.arr, "entry array chain", fmt.Errorf("%w: it ends after %d of %d entries", errZeroObject, f.nRead, f.hdr.NEntries))
		}
		if next <= f.arr {
			return 0, f.breakChain(f.arr, "entry array chain", fmt.Errorf("next array at %d goes backwards", next))
		}
		if err := f.loadArray(next); err != nil {
			return 0, f.breakChain(next, "entry array", err)
		}
	}
	off, err := f.itemAt(f.arrIdx)
	if err != nil {
		return 0, f.breakChain(f.arr, "entry array item", err)
	}
	if off <= f.lastOff || off < f.hdr.HeaderSize || off%8 != 0 {
		return 0, f.breakChain(f.arr, "entry array item", fmt.Errorf("entry offset %d after %d", off, f.lastOff))
	}
	return off, nil
}

// breakChain handles a broken chain. In a file being written, a part not
// written yet is expected: it returns io.EOF, to be tried again. Otherwise
// it reports the corruption and goes on by walking the objects after the
// last entry read.
func (f *File) breakChain(off uint64, what string, err error) error {
	if f.live() && isUnwritten(err) {
		f.dropCached()
		return io.EOF
	}
	f.startScan()
	return f.corrupt(off, what, err)
}

// startScan switches to walking objects from the last entry read.
func (f *File) startScan() {
	f.scanning = true
	f.scanOff = f.hdr.HeaderSize
	if f.lastGood != 0 {
		f.scanOff = f.lastGood
	}
}

// scanNext returns the offset of the next ENTRY object at or after
// scanOff, walking objects by their sizes. It returns io.EOF at the end of
// the written objects, and stops for good at a malformed one.
func (f *File) scanNext() (uint64, error) {
	for {
		off := f.scanOff
		if off >= f.end || f.end-off < objectHeaderSize {
			return 0, f.scanEnd()
		}
		b, err := f.view(off, objectHeaderSize)
		if err != nil {
			return 0, f.scanEnd()
		}
		h := parseObjectHeader(b)
		if h.typ == objectUnused && h.size == 0 {
			return 0, f.scanEnd()
		}
		if h.typ == objectUnused || h.typ >= objectTypeMax || h.size < minObjectSize(h.typ, f.hdr.Compact()) || h.size > f.end-off {
			if f.live() {
				f.dropCached()
				return 0, io.EOF
			}
			f.finished = true
			return 0, f.corrupt(off, "object", fmt.Errorf("type %d size %d", h.typ, h.size))
		}
		f.scanSize = align8(h.size)
		if h.typ == objectEntry {
			return off, nil
		}
		f.scanOff = off + f.scanSize
	}
}

// scanEnd is the end of the walk: for now if the file is written to,
// otherwise for good.
func (f *File) scanEnd() error {
	if f.live() {
		f.dropCached()
	} else {
		f.finished = true
	}
	return io.EOF
}

// loadArray makes the entry array at off the current one.
func (f *File) loadArray(off uint64) error {
	if off == 0 {
		return errZeroObject
	}
	if off < f.hdr.HeaderSize || off%8 != 0 {
		return fmt.Errorf("offset %d out of place", off)
	}
	b, err := f.view(off, entryArrayObjectSize)
	if err != nil {
		return err
	}
	h := parseObjectHeader(b)
	if h.typ == objectUnused && h.size == 0 {
		return errZeroObject
	}
	isz := f.arrayItemSize()
	if h.typ != objectEntryArray || h.size < entryArrayObjectSize+isz || (h.size-entryArrayObjectSize)%isz != 0 {
		return fmt.Errorf("not an entry array: type %d size %d", h.typ, h.size)
	}
	if h.size > f.end-off {
		return errIncomplete
	}
	f.arr, f.arrCap, f.arrIdx = off, (h.size-entryArrayObjectSize)/isz, 0
	f.items, f.itemsBase = f.items[:0], 0
	return nil
}

func (f *File) arrayItemSize() uint64 {
	if f.hdr.Compact() {
		return 4
	}
	return 8
}

// itemAt returns item i of the current entry array, reading items in
// chunks. A zero item is read again from the file before it is believed.
func (f *File) itemAt(i uint64) (uint64, error) {
	if i >= f.itemsBase && i-f.itemsBase < uint64(len(f.items)) {
		if v := f.items[i-f.itemsBase]; v != 0 {
			return v, nil
		}
	}
	const chunk = 1024
	isz := f.arrayItemSize()
	n := min(f.arrCap-i, chunk)
	b, err := f.view(f.arr+entryArrayObjectSize+i*isz, n*isz)
	if err != nil {
		return 0, err
	}
	if f.items == nil {
		f.items = make([]uint64, 0, chunk)
	}
	f.items, f.itemsBase = f.items[:0], i
	for j := uint64(0); j < n; j++ {
		if isz == 4 {
			f.items = append(f.items, uint64(binary.LittleEndian.Uint32(b[j*4:])))
		} else {
			f.items = append(f.items, binary.LittleEndian.Uint64(b[j*8:]))
		}
	}
	if f.items[0] == 0 {
		return 0, errZeroObject
	}
	return f.items[0], nil
}

// entryItemSize is the size of one item of an ENTRY object.
func (f *File) entryItemSize() uint64 {
	if f.hdr.Compact() {
		return entryItemSizeCom
	}
	return entryItemSize
}

// readEntryHead reads the fixed part of the ENTRY object at off.
func (f *File) readEntryHead(off uint64) (entryKey, error) {
	b, err := f.view(off, entryObjectSize)
	if err != nil {
		return entryKey{}, err
	}
	h := parseObjectHeader(b)
	if h.typ == objectUnused && h.size == 0 {
		return entryKey{}, errZeroObject
	}
	isz := f.entryItemSize()
	if h.typ != objectEntry || h.size < entryObjectSize || (h.size-entryObjectSize)%isz != 0 ||
		(h.size-entryObjectSize)/isz > MaxEntryItems {
		return entryKey{}, fmt.Errorf("not an entry: type %d size %d", h.typ, h.size)
	}
	if h.size > f.end-off {
		return entryKey{}, errIncomplete
	}
	le := binary.LittleEndian
	k := entryKey{
		off:       off,
		size:      h.size,
		seqnum:    le.Uint64(b[16:]),
		realtime:  le.Uint64(b[24:]),
		monotonic: le.Uint64(b[32:]),
		xor:       le.Uint64(b[56:]),
	}
	copy(k.boot[:], b[40:56])
	return k, nil
}

// readFields appends the entry's fields to e.
func (f *File) readFields(k entryKey, e *Entry) error {
	isz := f.entryItemSize()
	n := (k.size - entryObjectSize) / isz
	b, err := f.view(k.off+entryObjectSize, n*isz)
	if err != nil {
		return err
	}
	f.itemOffs = f.itemOffs[:0]
	for i := uint64(0); i < n; i++ {
		if isz == entryItemSizeCom {
			f.itemOffs = append(f.itemOffs, uint64(binary.LittleEndian.Uint32(b[i*4:])))
		} else {
			f.itemOffs = append(f.itemOffs, binary.LittleEndian.Uint64(b[i*16:]))
		}
	}
	for _, off := range f.itemOffs {
		if err := f.readData(off, e); err != nil {
			return fmt.Errorf("data object at %d: %w", off, err)
		}
		if len(e.buf) > 2*f.codecs.limit() {
			return errEntryTooLarge
		}
	}
	return nil
}

var (
	errZeroObject    = errors.New("zeros where an object should be")
	errEntryTooLarge = errors.New("entry fields larger than twice MaxDataSize")
)

// readData appends the payload of the DATA object at off to e as a field.
func (f *File) readData(off uint64, e *Entry) error {
	if off < f.hdr.HeaderSize || off%8 != 0 {
		return fmt.Errorf("offset %d out of place", off)
	}
	start := len(e.buf)
	if v, ok := f.cache.get(off); ok {
		e.buf = append(e.buf, v...)
		e.addField(start)
		return nil
	}
	hsz := uint64(dataObjectSize)
	if f.hdr.Compact() {
		hsz = dataObjectSizeCom
	}
	b, err := f.view(off, hsz)
	if err != nil {
		return err
	}
	h := parseObjectHeader(b)
	if h.typ == objectUnused && h.size == 0 {
		return errZeroObject
	}
	if h.typ != objectData || h.size < hsz || h.size > maxObjectSize {
		return fmt.Errorf("not a data object: type %d size %d", h.typ, h.size)
	}
	if h.size > f.end-off {
		return errIncomplete
	}
	shared := binary.LittleEndian.Uint64(b[56:]) > 1
	p, err := f.view(off+hsz, h.size-hsz)
	if err != nil {
		return err
	}
	if h.flags&objectCompressedMask != 0 {
		e.buf, err = f.codecs.decompress(e.buf, p, h.flags)
		if err != nil {
			return err
		}
	} else {
		e.buf = append(e.buf, p...)
	}
	if !e.addField(start) {
		return errors.New("payload is not FIELD=value")
	}
	if shared {
		f.cache.put(off, e.buf[start:])
	}
	return nil
}

// corrupt returns a *CorruptError about the object at off.
func (f *File) corrupt(off uint64, what string, err error) error {
	if errors.Is(err, errIncomplete) {
		err = errTruncated
	}
	return &CorruptError{Path: f.path, Offset: off, Reason: "bad " + what, Err: err}
}

var errTruncated = errors.New("object extends past the end of the file")
