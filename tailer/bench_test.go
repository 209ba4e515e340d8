package tailer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
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
	defer reportCPU(b, int64(len(data)))()
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

// nopConsumer acknowledges everything at once.
type nopConsumer struct{}

func (nopConsumer) Write(_ context.Context, recs []Record) error {
	for _, r := range recs {
		r.Pos.Ack()
	}
	return nil
}

// benchFile writes data to a file and returns a tailer of it (its records
// acknowledged at once) and the file, open for reading.
func benchFile(b *testing.B, data []byte) (*Tailer, string, *os.File) {
	path := filepath.Join(b.TempDir(), "0.log")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		b.Fatal(err)
	}
	tl, err := New(Config{Include: []string{path}}, nopConsumer{})
	if err != nil {
		b.Fatal(err)
	}
	file, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { file.Close() })
	return tl, path, file
}

// benchReadPath measures the whole read path: positional reads of a real
// file, decoding, joining, ack registration and the hand-off to a consumer.
func benchReadPath(b *testing.B, data []byte) {
	tl, path, file := benchFile(b, data)
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	defer reportCPU(b, int64(len(data)))()
	for b.Loop() {
		f := newFollower(tl.deps, file, fileID{}, &FileMeta{Path: path}, 0, fingerprint{})
		for {
			n, err := f.round(ctx, false)
			if err != nil {
				b.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
		if f.off != int64(len(data)) {
			b.Fatalf("read %d of %d bytes", f.off, len(data))
		}
	}
}

func BenchmarkReadPathCRI(b *testing.B)    { benchReadPath(b, sampleCRI(64<<20)) }
func BenchmarkReadPathDocker(b *testing.B) { benchReadPath(b, sampleDocker(64<<20)) }

// reportCPU reports throughput per CPU second of the process (user +
// system), which holds on a loaded machine where wall-clock MB/s does not.
func reportCPU(b *testing.B, bytesPerOp int64) func() {
	start := cpuTime()
	return func() {
		if d := cpuTime() - start; d > 0 {
			b.ReportMetric(float64(bytesPerOp)*float64(b.N)/d.Seconds()/1e6, "MB/cpu-s")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLookOneLine measures a look at a file that grew by one line
// since the last one, which is what many slow pods cost per line: the
// stat, the identity check, the read, decoding and the hand-off. The
// write of the line is included.
func BenchmarkLookOneLine(b *testing.B) {
	tl, path, file := benchFile(b, sampleCRI(64<<10))
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	ctx := context.Background()
	f := newFollower(tl.deps, file, fileID{}, &FileMeta{Path: path}, 0, fingerprint{})
	if err := f.catchUp(ctx, false, false); err != nil {
		b.Fatal(err)
	}
	line := sampleCRI(1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Write(line); err != nil {
			b.Fatal(err)
		}
		if err := f.catchUp(ctx, false, false); err != nil {
			b.Fatal(err)
		}
	}
	if fi, err := file.Stat(); err != nil || f.off != fi.Size() {
		b.Fatalf("read to %d of %v (%v)", f.off, fi.Size(), err)
	}
}
