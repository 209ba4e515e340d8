package tailer

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// sampleCRI returns about size bytes of containerd lines of typical length.
func sampleCRI(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "2026-11-26T14:02:03.%09dZ stdout F level=info msg=\"request served\" method=GET path=/api/v1/items/%d status=200 duration=1.2ms bytes=%d user=anonymous\n", i%999999999+1, i, i*7)
	}
	return b.Bytes()
}

func sampleDocker(size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `{"log":"level=info msg=\"request served\" method=GET path=/api/v1/items/%d status=200 duration=1.2ms bytes=%d\n","stream":"stdout","time":"2026-11-26T14:02:03.%09dZ"}`+"\n", i, i*7, i%999999999+1)
	}
	return b.Bytes()
}

func benchDecode(b *testing.B, data []byte) {
	a := newAssembler(&FileMeta{}, DefaultMaxLineBytes, false)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	lines := bytes.Count(data, []byte("\n"))
	for b.Loop() {
		a.startRound(time.Time{})
		rest := data
		var off int64
		for {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				break
			}
			a.line(rest[:i], off, off+int64(i)+1)
			off += int64(i) + 1
			rest = rest[i+1:]
		}
		if len(a.recs) != lines {
			b.Fatalf("%d records from %d lines", len(a.recs), lines)
		}
	}
}

func BenchmarkDecodeCRI(b *testing.B)    { benchDecode(b, sampleCRI(1<<20)) }
func BenchmarkDecodeDocker(b *testing.B) { benchDecode(b, sampleDocker(1<<20)) }
