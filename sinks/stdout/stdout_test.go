package stdout

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/sinks/sinktest"
)

// syncBuffer is a bytes.Buffer safe for the sink's writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimSuffix(s.b.String(), "\n"), "\n")
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T, budget int64) *sinktest.Harness {
		var out syncBuffer
		s, err := New(&out, Options{
			Encoder:     sinks.EncoderConfig{Format: sinks.FormatRaw},
			BufferBytes: budget,
			Registerer:  prometheus.NewRegistry(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return &sinktest.Harness{Sink: s, Budget: s.Budget(), Delivered: func(*testing.T) []string {
			if out.b.Len() == 0 {
				return nil
			}
			return out.lines()
		}}
	})
}
