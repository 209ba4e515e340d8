package file

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/sinks/sinktest"
	"github.com/skiff-agent/skiff/tailer"
)

// readLines returns the lines of path and its rotated files, oldest first.
func readLines(t *testing.T, path string, maxFiles int) []string {
	t.Helper()
	var out []string
	for i := maxFiles; i >= 0; i-- {
		p := path
		if i > 0 {
			p = fmt.Sprintf("%s.%d", path, i)
		}
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 {
			out = append(out, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
		}
	}
	return out
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T, budget int64) *sinktest.Harness {
		path := filepath.Join(t.TempDir(), "out.log")
		s, err := New(Config{
			Path: path, MaxBytes: 32 << 10, MaxFiles: 1000, Sync: true,
			Encoder:     sinks.EncoderConfig{Format: sinks.FormatRaw},
			BufferBytes: budget, Registerer: prometheus.NewRegistry(),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return &sinktest.Harness{Sink: s, Budget: s.Budget(), Delivered: func(t *testing.T) []string {
			return readLines(t, path, 1000)
		}}
	})
}

func TestRotationKeepsMaxFiles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.log")
	s, err := New(Config{Path: path, MaxBytes: 1000, MaxFiles: 2, Encoder: sinks.EncoderConfig{Format: sinks.FormatRaw}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	file := &tailer.FileMeta{Namespace: "ns", Pod: "p", Container: "c"}
	for i := range 20 {
		msg := fmt.Sprintf("line-%02d %s", i, strings.Repeat("x", 290))
		if err := s.Write(ctx, []tailer.Record{{Message: []byte(msg), File: file}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil { // one block per line
			t.Fatal(err)
		}
	}
	cancel()
	<-done
	if _, err := os.Stat(path + ".3"); !os.IsNotExist(err) {
		t.Errorf("%s.3 exists; MaxFiles is 2", path)
	}
	got := readLines(t, path, 2)
	if len(got) == 0 || !strings.HasPrefix(got[len(got)-1], "line-19") {
		t.Fatalf("last line = %q; want line-19", got[len(got)-1])
	}
	// Lines are whole and in order across the files.
	for i, l := range got {
		if len(l) != 298 {
			t.Errorf("line %d has %d bytes: split across files?", i, len(l))
		}
	}
	if !slices.IsSorted(got) {
		t.Errorf("lines out of order across rotated files: %v", got)
	}
	for _, p := range []string{path, path + ".1", path + ".2"} {
		if fi, err := os.Stat(p); err != nil || fi.Size() > 1000 {
			t.Errorf("%s: %v, size over MaxBytes", p, err)
		}
	}
}
