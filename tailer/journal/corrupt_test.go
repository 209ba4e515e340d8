package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// TestSynthRoundTrip checks the synthetic files the fuzzer starts from:
// every layout and compression reads back whole.
func TestSynthRoundTrip(t *testing.T) {
	for _, compact := range []bool{false, true} {
		for _, c := range []uint8{0, objectCompressedZSTD, objectCompressedLZ4, objectCompressedXZ} {
			es, bad := readBytes(t, synthFile(compact, c, 30))
			if len(es) != 30 || len(bad) != 0 {
				t.Fatalf("compact=%v compression=%d: %d entries, errors %v", compact, c, len(es), bad)
			}
			for i, e := range es {
				if e.Seqnum != uint64(i+1) {
					t.Fatalf("entry %d has seqnum %d", i, e.Seqnum)
				}
				want := "message " + string(rune('a'+i%26))
				if string(e.Message()) != want {
					t.Fatalf("entry %d: MESSAGE=%q; want %q", i, e.Message(), want)
				}
				if v, ok := e.Value("LONG"); i%3 == 1 && (!ok || len(v) != 120) {
					t.Fatalf("entry %d: LONG=%q", i, v)
				}
				if v, ok := e.Value("BIN"); i%4 == 2 && (!ok || string(v) != "\x00\x01\n\xff") {
					t.Fatalf("entry %d: BIN=%q", i, v)
				}
			}
		}
	}
}

// corruptAt returns a copy of b with patch applied.
func corruptAt(b []byte, patch func(b []byte)) []byte {
	c := append([]byte(nil), b...)
	patch(c)
	return c
}

// TestCorruption places damage exactly and checks what is read around it.
func TestCorruption(t *testing.T) {
	le := binary.LittleEndian
	s := newSynth(false, objectCompressedZSTD)
	boot := ID128{9}
	var entryOffs, msgOffs []uint64
	for i := range 10 {
		msg := fmt.Sprintf("MESSAGE=%d %s", i, string(make([]byte, 80)))
		entryOffs = append(entryOffs, s.entry(uint64(i+1), uint64(i+1), boot, "_HOSTNAME=h", msg))
		msgOffs = append(msgOffs, s.data[msg])
	}
	good := s.bytes(StateArchived)
	h, _ := parseHeader(good)
	arr := h.EntryArrayOffset
	for _, tc := range []struct {
		name    string
		patch   func(b []byte)
		entries []uint64 // seqnums read
	}{
		{"garbage in a data object's payload", func(b []byte) { copy(b[msgOffs[4]+dataObjectSize:], "garbage!garbage!") },
			[]uint64{1, 2, 3, 4, 6, 7, 8, 9, 10}},
		{"data object of unknown type", func(b []byte) { b[msgOffs[2]] = 9 },
			[]uint64{1, 2, 4, 5, 6, 7, 8, 9, 10}},
		{"data object larger than the file", func(b []byte) { le.PutUint64(b[msgOffs[7]+8:], 1<<40) },
			[]uint64{1, 2, 3, 4, 5, 6, 7, 9, 10}},
		{"entry item pointing past the end", func(b []byte) { le.PutUint64(b[entryOffs[5]+entryObjectSize:], 1<<33) },
			[]uint64{1, 2, 3, 4, 5, 7, 8, 9, 10}},
		{"entry item pointing at the header", func(b []byte) { le.PutUint64(b[entryOffs[5]+entryObjectSize:], 8) },
			[]uint64{1, 2, 3, 4, 5, 7, 8, 9, 10}},
		{"entry object zeroed", func(b []byte) { clear(b[entryOffs[3] : entryOffs[3]+entryObjectSize]) },
			[]uint64{1, 2, 3, 5, 6, 7, 8, 9, 10}},
		{"entry with a huge item count", func(b []byte) { le.PutUint64(b[entryOffs[8]+8:], entryObjectSize+16*(MaxEntryItems+1)) },
			[]uint64{1, 2, 3, 4, 5, 6, 7, 8, 10}},
		{"seqnum going backwards", func(b []byte) { le.PutUint64(b[entryOffs[6]+16:], 2) },
			[]uint64{1, 2, 3, 4, 5, 6, 8, 9, 10}},
		{"entry array chain pointing back to itself", func(b []byte) { le.PutUint64(b[arr+16:], arr) },
			[]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}, // the object walk finds the rest
		{"entry array of the wrong type", func(b []byte) { b[arr] = objectEntry },
			[]uint64{1}}, // the object walk stops at the broken array, after entry 1
		{"entry array item zeroed", func(b []byte) { le.PutUint64(b[arr+entryArrayObjectSize+16:], 0) },
			[]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"entry array items out of order", func(b []byte) { le.PutUint64(b[arr+entryArrayObjectSize+16:], entryOffs[0]) },
			[]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"header counting more entries than linked", func(b []byte) { le.PutUint64(b[152:], 50) },
			[]uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}},
		{"object walk meeting garbage", func(b []byte) {
			le.PutUint64(b[arr+16:], 0)         // the chain ends after the first array
			le.PutUint64(b[entryOffs[6]+8:], 3) // and the walk stops at entry 7
		}, []uint64{1, 2, 3, 4, 5, 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, bad := readBytes(t, corruptAt(good, tc.patch))
			var got []uint64
			for _, e := range es {
				got = append(got, e.Seqnum)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.entries) {
				t.Errorf("read seqnums %v; want %v (errors %v)", got, tc.entries, bad)
			}
			if len(bad) == 0 {
				t.Error("no corruption reported")
			}
			for _, err := range bad {
				var ce *CorruptError
				if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
					t.Errorf("error %v is not a *CorruptError", err)
				}
			}
		})
	}
}

// TestCompressionBombs checks that stated sizes are checked before memory
// is taken.
func TestCompressionBombs(t *testing.T) {
	var c codecs
	defer c.close()
	lz := make([]byte, 16)
	binary.LittleEndian.PutUint64(lz, MaxDataSize+1)
	if _, err := c.decompress(nil, lz, objectCompressedLZ4); !errors.Is(err, errTooLarge) {
		t.Errorf("lz4 claiming %d bytes: %v", MaxDataSize+1, err)
	}
	big := compressFor(objectCompressedXZ, []byte("MESSAGE=hello"))
	// The dictionary size byte of the LZMA2 filter: 40 means 4 GiB.
	big[12+2+2] = 40
	if _, err := c.decompress(nil, big, objectCompressedXZ); err == nil {
		t.Error("xz with a 4 GiB dictionary accepted")
	}
	if _, err := c.decompress(nil, []byte{0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0}, objectCompressedZSTD); err == nil {
		t.Error("zstd frame without a content size accepted")
	}
	if _, err := c.decompress(nil, []byte("x"), objectCompressedLZ4|objectCompressedZSTD); !errors.Is(err, errCompression) {
		t.Errorf("two compression flags: %v", err)
	}
}
