package journal

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	"github.com/skiff-agent/skiff/tailer"
)

// benchEntries is the size of the files the benchmarks read: 20,000
// entries like a node's (kubelet, containerd, kernel, sshd, cron), one in
// seven with a message over 1 KiB.
const benchEntries = 20_000

// benchFiles writes the benchmark's files with systemd-journal-remote: an
// uncompressed one and a zstd one (systemd 252's default), both compact.
func benchFiles(b *testing.B) map[string]string {
	jr := needTools(b)
	dir := b.TempDir()
	input := nodeExport(benchEntries, sampleBase)
	files := map[string]string{}
	for name, compress := range map[string]bool{"none": false, "zstd": true} {
		p := filepath.Join(dir, name+".journal")
		writeJournal(b, jr, p, input, compress)
		files[name] = p
	}
	return files
}

// BenchmarkFile reads every entry of a file and its fields. Per op: one
// file of 20,000 entries; B/s counts the field bytes delivered.
//
//	go test -run XXX -bench BenchmarkFile -benchmem -cpu 1 ./tailer/journal/
func BenchmarkFile(b *testing.B) {
	files := benchFiles(b)
	for _, name := range []string{"none", "zstd"} {
		b.Run(name, func(b *testing.B) {
			var e Entry
			var fieldBytes int64
			n := 0
			for b.Loop() {
				f, err := OpenFile(files[name])
				if err != nil {
					b.Fatal(err)
				}
				n, fieldBytes = 0, 0
				for {
					err := f.Next(&e)
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
					fieldBytes += int64(len(e.buf))
				}
				f.Close()
			}
			if n != benchEntries {
				b.Fatalf("%d entries; want %d", n, benchEntries)
			}
			b.SetBytes(fieldBytes)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "entries/s")
		})
	}
}

// BenchmarkReaderFilter reads a directory through a Reader with the
// dataplane filter (kubelet and containerd units), as an input would.
//
//	go test -run XXX -bench BenchmarkReaderFilter -benchmem -cpu 1 ./tailer/journal/
func BenchmarkReaderFilter(b *testing.B) {
	files := benchFiles(b)
	batch := make([]*Entry, DefaultBatchSize)
	for i := range batch {
		batch[i] = new(Entry)
	}
	matched := 0
	for b.Loop() {
		r, err := NewReader(Config{Dirs: []string{filepath.Dir(files["zstd"])},
			Filter: Filter{{Fields: []string{"_SYSTEMD_UNIT=kubelet.service", "_SYSTEMD_UNIT=containerd.service"}}}})
		if err != nil {
			b.Fatal(err)
		}
		matched = 0
		for {
			n := r.Read(batch)
			if n == 0 {
				break
			}
			matched += n
		}
		r.Close()
	}
	// Both files hold the same entries: the second copy is dropped.
	if matched != benchEntries*3/4 {
		b.Fatalf("%d entries matched; want %d", matched, benchEntries*3/4)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchEntries*2), "ns/entry-read")
}

// ackSink acknowledges every record at once and keeps nothing.
type ackSink struct{ records, bytes int }

func (s *ackSink) Write(_ context.Context, recs []tailer.Record) error {
	for _, r := range recs {
		s.records++
		s.bytes += len(r.Message)
		r.Pos.Ack()
	}
	return nil
}

// BenchmarkInput is the journal input with Container Insights' five
// journal routes: entries read, matched, made into records and
// acknowledged. Per op: one zstd file of 20,000 entries.
//
//	go test -run XXX -bench BenchmarkInput -benchmem -cpu 1 ./tailer/journal/
func BenchmarkInput(b *testing.B) {
	files := benchFiles(b)
	var s ackSink
	for b.Loop() {
		in, err := NewInput(InputConfig{Reader: Config{Files: []string{files["zstd"]}}, Routes: ciRoutes()}, &s)
		if err != nil {
			b.Fatal(err)
		}
		s = ackSink{}
		if err := in.Drain(context.Background()); err != nil {
			b.Fatal(err)
		}
		in.Close()
	}
	b.SetBytes(int64(s.bytes))
	b.ReportMetric(float64(b.N*benchEntries)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(s.records), "records/op")
}
