package sinks_test

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/sinks/sinktest"
)

// flakyWriter fails every other write.
type flakyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	calls int
}

func (w *flakyWriter) write(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	if w.calls%2 == 1 {
		return errors.New("disk hiccup")
	}
	w.buf.Write(b)
	return nil
}

func (w *flakyWriter) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(w.buf.String(), "\n"), "\n")
}

// TestLinesConformance runs the suite on a Lines sink whose writes fail
// half the time: retried blocks must neither be lost nor acknowledged twice.
func TestLinesConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T, budget int64) *sinktest.Harness {
		var w flakyWriter
		l, err := sinks.NewLines(sinks.LinesConfig{Encoder: sinks.EncoderConfig{Format: sinks.FormatRaw}, BufferBytes: budget, Registerer: prometheus.NewRegistry()}, w.write)
		if err != nil {
			t.Fatal(err)
		}
		return &sinktest.Harness{Sink: l, Budget: l.Budget(), Delivered: func(*testing.T) []string { return w.lines() }}
	})
}
