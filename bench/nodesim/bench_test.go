package nodesim

import (
	"testing"
	"time"
)

// BenchmarkWriteLines measures the simulator's own cost per line (it shares
// the machine with the agent under test).
func BenchmarkWriteLines(b *testing.B) {
	s, err := New(Config{Root: b.TempDir(), LineBytes: 256, JSONFraction: 0.3, RotateBytes: 64 << 20})
	if err != nil {
		b.Fatal(err)
	}
	defer s.closeAll()
	st := s.streams[0]
	b.ReportAllocs()
	b.SetBytes(100 * 256) // message bytes per op
	for b.Loop() {
		if err := s.writeLines(st, 100, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*100/b.Elapsed().Seconds(), "lines/s")
}

func BenchmarkObserve(b *testing.B) {
	c := NewCounter(fixedSource{1 << 30})
	msg := `{"time":"2026-01-01T00:00:00Z","log":"` + string(AppendMarker(nil, Marker{Seq: 1, Written: time.Now(), Len: 256})) + ` lorem ipsum"}`
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		c.Observe(now, msg)
	}
}
