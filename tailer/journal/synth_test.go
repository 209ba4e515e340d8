package journal

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
)

// synth writes small journal files by the format's rules, without hash
// tables, for the fuzzer's seeds and for corruptions placed exactly. The
// files systemd writes are the reference: testdata and the tests that run
// systemd-journal-remote.
type synth struct {
	compact  bool
	compress uint8 // object flag used for payloads of 64 bytes or more
	buf      []byte
	entries  []uint64
	seqnum   uint64
	data     map[string]uint64
	arrCap   uint64 // capacity of the next entry array; doubles
	arrFirst uint64 // the chain's first array
	arrOff   uint64 // its last array
	arrN     uint64 // entries in the last array
	arrSize  uint64 // capacity of the last array
	fileID   ID128
	seqID    ID128
	head     uint64 // first seqnum
	headRT   uint64
	tailRT   uint64
}

func newSynth(compact bool, compress uint8) *synth {
	return &synth{compact: compact, compress: compress, buf: make([]byte, headerMaxRead), data: map[string]uint64{}, arrCap: 4,
		fileID: ID128{'f', 'i', 'l', 'e'}, seqID: ID128{'s', 'e', 'q'}}
}

func (s *synth) object(typ, flags uint8, body []byte) uint64 {
	off := uint64(len(s.buf))
	var h [objectHeaderSize]byte
	h[0], h[1] = typ, flags
	binary.LittleEndian.PutUint64(h[8:], uint64(objectHeaderSize+len(body)))
	s.buf = append(s.buf, h[:]...)
	s.buf = append(s.buf, body...)
	for len(s.buf)%8 != 0 {
		s.buf = append(s.buf, 0)
	}
	return off
}

func (s *synth) dataObject(payload string) uint64 {
	if off, ok := s.data[payload]; ok {
		// Mark it shared: n_entries > 1.
		binary.LittleEndian.PutUint64(s.buf[off+56:], 2)
		return off
	}
	p, flags := []byte(payload), uint8(0)
	if s.compress != 0 && len(p) >= 64 {
		p, flags = compressFor(s.compress, p), s.compress
	}
	fixed := dataObjectSize - objectHeaderSize
	if s.compact {
		fixed = dataObjectSizeCom - objectHeaderSize
	}
	body := make([]byte, fixed, fixed+len(p))
	binary.LittleEndian.PutUint64(body[40:], 1) // n_entries
	body = append(body, p...)
	off := s.object(objectData, flags, body)
	s.data[payload] = off
	return off
}

func compressFor(flag uint8, p []byte) []byte {
	switch flag {
	case objectCompressedZSTD:
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithSingleSegment(true))
		defer e.Close()
		return e.EncodeAll(p, nil)
	case objectCompressedLZ4:
		out := make([]byte, 8+lz4.CompressBlockBound(len(p)))
		binary.LittleEndian.PutUint64(out, uint64(len(p)))
		var c lz4.Compressor
		n, _ := c.CompressBlock(p, out[8:])
		return out[:8+n]
	case objectCompressedXZ:
		var b bytes.Buffer
		w, _ := xz.WriterConfig{DictCap: 1 << 20, CheckSum: xz.None}.NewWriter(&b)
		w.Write(p)
		w.Close()
		return b.Bytes()
	}
	panic("compression")
}

// entry appends an entry with the given "FIELD=value" payloads and links
// it into the entry array chain, as journald does: an array is appended
// when the last one is full.
func (s *synth) entry(realtime, monotonic uint64, boot ID128, payloads ...string) uint64 {
	off := s.unlinkedEntry(realtime, monotonic, boot, payloads...)
	s.link(off)
	return off
}

func (s *synth) link(off uint64) {
	le := binary.LittleEndian
	isz := uint64(8)
	if s.compact {
		isz = 4
	}
	if s.arrOff == 0 || s.arrN == s.arrSize {
		a := s.object(objectEntryArray, 0, make([]byte, 8+s.arrCap*isz))
		if s.arrOff == 0 {
			s.arrFirst = a
		} else {
			le.PutUint64(s.buf[s.arrOff+16:], a)
		}
		s.arrOff, s.arrN, s.arrSize = a, 0, s.arrCap
		s.arrCap *= 2
	}
	at := s.arrOff + entryArrayObjectSize + s.arrN*isz
	if s.compact {
		le.PutUint32(s.buf[at:], uint32(off))
	} else {
		le.PutUint64(s.buf[at:], off)
	}
	s.arrN++
	s.entries = append(s.entries, off)
}

// unlinkedEntry appends an entry without linking it.
func (s *synth) unlinkedEntry(realtime, monotonic uint64, boot ID128, payloads ...string) uint64 {
	offs := make([]uint64, len(payloads))
	for i, p := range payloads {
		offs[i] = s.dataObject(p)
	}
	s.seqnum++
	if s.head == 0 {
		s.head, s.headRT = s.seqnum, realtime
	}
	s.tailRT = realtime
	body := make([]byte, entryObjectSize-objectHeaderSize)
	le := binary.LittleEndian
	le.PutUint64(body[0:], s.seqnum)
	le.PutUint64(body[8:], realtime)
	le.PutUint64(body[16:], monotonic)
	copy(body[24:40], boot[:])
	le.PutUint64(body[40:], s.seqnum*0x9e3779b97f4a7c15)
	for _, o := range offs {
		if s.compact {
			body = le.AppendUint32(body, uint32(o))
		} else {
			body = le.AppendUint64(body, o)
			body = le.AppendUint64(body, 0)
		}
	}
	return s.object(objectEntry, 0, body)
}

// bytes writes the header and returns a copy of the file.
func (s *synth) bytes(state State) []byte {
	le := binary.LittleEndian
	h := s.buf[:headerMaxRead]
	copy(h, signature)
	var incompat uint32
	if s.compact {
		incompat |= IncompatibleCompact
	}
	switch s.compress {
	case objectCompressedXZ:
		incompat |= IncompatibleCompressedXZ
	case objectCompressedLZ4:
		incompat |= IncompatibleCompressedLZ4
	case objectCompressedZSTD:
		incompat |= IncompatibleCompressedZSTD
	}
	le.PutUint32(h[12:], incompat)
	h[16] = byte(state)
	copy(h[24:40], s.fileID[:])
	copy(h[72:88], s.seqID[:])
	le.PutUint64(h[88:], headerMaxRead)
	le.PutUint64(h[96:], uint64(len(s.buf))-headerMaxRead)
	le.PutUint64(h[136:], uint64(len(s.buf))) // not exact; unused by the reader
	le.PutUint64(h[152:], uint64(len(s.entries)))
	if len(s.entries) > 0 {
		le.PutUint64(h[160:], s.seqnum)
		le.PutUint64(h[168:], s.head)
		le.PutUint64(h[184:], s.headRT)
		le.PutUint64(h[192:], s.tailRT)
	}
	le.PutUint64(h[176:], s.arrFirst)
	le.PutUint32(h[256:], uint32(s.arrOff))
	le.PutUint32(h[260:], uint32(s.arrN))
	return bytes.Clone(s.buf)
}

// synthFile returns a small file of n entries, some with long compressed
// fields and binary values.
func synthFile(compact bool, compress uint8, n int) []byte {
	s := newSynth(compact, compress)
	boot := ID128{1, 2, 3}
	for i := range n {
		fields := []string{"_HOSTNAME=node-1", "_SYSTEMD_UNIT=kubelet.service", "PRIORITY=6",
			"MESSAGE=message " + string(rune('a'+i%26))}
		if i%3 == 1 {
			fields = append(fields, "LONG="+string(bytes.Repeat([]byte{'x', byte('0' + i%10)}, 60)))
		}
		if i%4 == 2 {
			fields = append(fields, "BIN=\x00\x01\n\xff")
		}
		s.entry(1_700_000_000_000_000+uint64(i), 1000+uint64(i), boot, fields...)
	}
	return s.bytes(StateOffline)
}

// openBytes opens an in-memory journal file.
func openBytes(b []byte) (*File, error) {
	return newFile(bytes.NewReader(b), func() (int64, error) { return int64(len(b)), nil }, "mem.journal", nil)
}

// readBytes reads every entry of an in-memory file, with the corruptions
// met, bounding the number of calls.
func readBytes(t testing.TB, b []byte) (entries []*Entry, corrupt []error) {
	t.Helper()
	f, err := openBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var e Entry
	for i := 0; ; i++ {
		if i > len(b) {
			t.Fatal("Next does not end")
		}
		err := f.Next(&e)
		if err == io.EOF {
			return entries, corrupt
		}
		if err != nil {
			corrupt = append(corrupt, err)
			continue
		}
		c := new(Entry)
		e.CopyTo(c)
		entries = append(entries, c)
	}
}
