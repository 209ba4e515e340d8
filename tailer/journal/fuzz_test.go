package journal

import (
	"io"
	"testing"
)

// FuzzFile reads arbitrary bytes as a journal file: it must not panic,
// and every call to Next must move on, so that reading ends.
func FuzzFile(f *testing.F) {
	for _, compact := range []bool{false, true} {
		for _, c := range []uint8{0, objectCompressedZSTD, objectCompressedLZ4, objectCompressedXZ} {
			f.Add(synthFile(compact, c, 12))
		}
	}
	// The start of a real file from systemd: its header and hash tables.
	f.Add(sampleBytes(f, "zstd")[:4096])
	f.Fuzz(func(t *testing.T, b []byte) {
		fuzzRead(t, b)
	})
}

func fuzzRead(t *testing.T, b []byte) {
	fl, err := openBytes(b)
	if err != nil {
		return
	}
	defer fl.Close()
	fl.codecs.max = 1 << 20 // bombs cost time, not correctness
	var e Entry
	// Each call consumes an entry, an entry array item or an object of
	// at least 16 bytes, or ends: no more calls than that.
	limit := len(b)/8 + 16
	for i := 0; ; i++ {
		if i > limit {
			t.Fatalf("Next called %d times on %d bytes without the end", i, len(b))
		}
		err := fl.Next(&e)
		if err == io.EOF {
			break
		}
		if err == nil {
			for j := range e.Len() {
				if name, _ := e.Field(j); len(name) == 0 {
					t.Fatal("a field without a name")
				}
			}
		}
	}
	if err := fl.Next(&e); err != io.EOF {
		t.Fatalf("Next after io.EOF = %v", err)
	}
	g, err := openBytes(b)
	if err == nil {
		g.SeekTail()
		g.Close()
	}
}

// FuzzCursor parses arbitrary cursors; what parses prints back the same.
func FuzzCursor(f *testing.F) {
	f.Add("s=a679812f040c4b7d9162c3e94a12a6dc;i=1;b=0123456789abcdef0123456789abcdef;m=3e8;t=60a24181e4000;x=bfbb41f5259f708a")
	f.Add("s=a679812f040c4b7d9162c3e94a12a6dc;i=ff")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			return
		}
		d, err := ParseCursor(c.String())
		if err != nil || d != c {
			t.Fatalf("ParseCursor(%q) = %v; printed %q, parsed again %v, %v", s, c, c.String(), d, err)
		}
	})
}
