package journal

import (
	"errors"
	"fmt"
	"io"
)

// Reading a file goes through two windows of winSize bytes: one tends to
// follow the entries forward, the other the DATA objects they point back
// to. An object larger than half a window is read on its own.
const (
	winSize = 128 << 10
	// winBack is how much of the window lies before the offset that
	// filled it: an entry's new DATA objects were written just before it.
	winBack = winSize / 8
)

// window is a span of the file read into memory.
type window struct {
	buf  []byte
	off  uint64 // file offset of buf[0]
	used uint64 // when it was last used, for replacement
}

// view returns n bytes of the file at off. The bytes are valid until the
// next call. It returns errIncomplete when they lie beyond the written part
// of the file.
func (f *File) view(off, n uint64) ([]byte, error) {
	if off > f.end || n > f.end-off {
		return nil, errIncomplete
	}
	f.tick++
	for i := range f.win {
		w := &f.win[i]
		if off >= w.off && off-w.off <= uint64(len(w.buf)) && n <= uint64(len(w.buf))-(off-w.off) {
			w.used = f.tick
			return w.buf[off-w.off : off-w.off+n], nil
		}
	}
	if n > winSize/2 {
		if uint64(cap(f.scratch)) < n {
			f.scratch = make([]byte, n)
		}
		b := f.scratch[:n]
		if err := f.readFull(b, off); err != nil {
			return nil, err
		}
		return b, nil
	}
	w := &f.win[0]
	if f.win[1].used < w.used {
		w = &f.win[1]
	}
	if w.buf == nil {
		w.buf = make([]byte, 0, winSize)
	}
	start := off - min(off, winBack)
	start &^= 4095
	length := min(uint64(winSize), f.end-start)
	w.buf, w.off, w.used = w.buf[:length], start, f.tick
	if err := f.readFull(w.buf, start); err != nil {
		w.buf = w.buf[:0]
		return nil, err
	}
	return w.buf[off-start : off-start+n], nil
}

// readFull fills b from the file at off. A file shorter than the header
// said gives errIncomplete.
func (f *File) readFull(b []byte, off uint64) error {
	n, err := f.r.ReadAt(b, int64(off))
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return errIncomplete
	}
	return fmt.Errorf("read %s at %d: %w", f.path, off, err)
}

// dataCache keeps the payloads of DATA objects shared by several entries
// (unit, hostname, boot ID...), so that they are read and decompressed
// once. Payloads never change once written, so the cache stays valid as
// the file grows. It is direct-mapped by offset; when its slab is full it
// starts over.
type dataCache struct {
	slots []cacheSlot
	slab  []byte
}

type cacheSlot struct {
	off        uint64 // 0: empty
	start, end int
}

const (
	cacheSlots   = 1024
	cacheSlab    = 256 << 10
	cacheMaxItem = 4 << 10
)

func slotOf(off uint64) int { return int(off>>3) & (cacheSlots - 1) }

func (c *dataCache) get(off uint64) ([]byte, bool) {
	if c.slots == nil {
		return nil, false
	}
	s := &c.slots[slotOf(off)]
	if s.off != off {
		return nil, false
	}
	return c.slab[s.start:s.end], true
}

func (c *dataCache) put(off uint64, b []byte) {
	if len(b) > cacheMaxItem {
		return
	}
	if c.slots == nil {
		c.slots = make([]cacheSlot, cacheSlots)
		c.slab = make([]byte, 0, cacheSlab)
	}
	if len(c.slab)+len(b) > cap(c.slab) {
		clear(c.slots)
		c.slab = c.slab[:0]
	}
	start := len(c.slab)
	c.slab = append(c.slab, b...)
	c.slots[slotOf(off)] = cacheSlot{off: off, start: start, end: len(c.slab)}
}
