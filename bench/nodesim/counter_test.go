package nodesim

import (
	"encoding/json"
	"testing"
	"time"
)

type fixedSource []int64

func (f fixedSource) Streams() int            { return len(f) }
func (f fixedSource) StreamLines(i int) int64 { return f[i] }

func msg(stream int, seq int64, written time.Time) string {
	return string(AppendMarker(nil, Marker{Stream: stream, Seq: seq, Written: written, Len: 100})) + " payload"
}

func TestCounterCountsLossAndDuplicates(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	c := NewCounter(fixedSource{100, 200})
	// Stream 0: everything but seq 10..14, seq 20 twice and seq 21 three times.
	for seq := range int64(100) {
		if seq >= 10 && seq < 15 {
			continue
		}
		c.Observe(t0.Add(time.Duration(seq)*time.Millisecond), msg(0, seq, t0))
	}
	c.Observe(t0, msg(0, 20, t0))
	c.Observe(t0, msg(0, 21, t0))
	c.Observe(t0, msg(0, 21, t0))
	// Stream 1: only the even lines, wrapped in JSON as an agent would.
	for seq := int64(0); seq < 200; seq += 2 {
		b, _ := json.Marshal(map[string]string{"log": msg(1, seq, t0)})
		at := t0.Add(50 * time.Millisecond)
		if seq == 198 {
			at = t0.Add(time.Second)
		}
		c.Observe(at, string(b))
	}
	c.Observe(t0, "no marker here")
	c.Observe(t0, msg(7, 1, t0))   // no such stream
	c.Observe(t0, msg(1, 500, t0)) // not written

	got := c.Tally()
	want := Tally{Written: 300, Delivered: 95 + 100, DeliveredBytes: 100 * 196, Lost: 5 + 100,
		Duplicates: 3, Messages: 95 + 3 + 100 + 3, Unmarked: 1, Foreign: 2}
	if got.Written != want.Written || got.Delivered != want.Delivered || got.Lost != want.Lost ||
		got.Duplicates != want.Duplicates || got.Messages != want.Messages || got.Unmarked != want.Unmarked ||
		got.Foreign != want.Foreign || got.DeliveredBytes != want.DeliveredBytes {
		t.Fatalf("Tally() = %+v\nwant      %+v", got, want)
	}
	c.ResetLatency()
	if got := c.Tally(); got.LatencyMax != 0 || got.LatencyP99 != 0 || got.Duplicates != 3 {
		t.Errorf("after ResetLatency: %+v; want no latencies, counts kept", got)
	}
	if lines, _ := c.Delivered(); lines != 196 {
		t.Errorf("Delivered() = %d lines; want 196 (distinct markers, one of them unwritten)", lines)
	}
	// Latencies of first receptions: 95 of stream 0 at 0..99 ms, 99 of
	// stream 1 at 50 ms and one at 1 s, the unwritten line at 0.
	if got.LatencyMax != time.Second {
		t.Errorf("LatencyMax = %v; want 1s", got.LatencyMax)
	}
	if got.LatencyP50 < 48*time.Millisecond || got.LatencyP50 > 52*time.Millisecond {
		t.Errorf("LatencyP50 = %v; want about 50ms", got.LatencyP50)
	}
	if got.LatencyP99 < 94*time.Millisecond || got.LatencyP99 > 100*time.Millisecond {
		t.Errorf("LatencyP99 = %v; want about 97ms", got.LatencyP99)
	}
}

// TestCounterAgainstSim feeds the counter what a simulated node wrote,
// dropping and repeating known lines.
func TestCounterAgainstSim(t *testing.T) {
	s := runSim(t, Config{Root: t.TempDir(), Pods: 3, Rate: 1e6, Lines: 400, JSONFraction: 0.5,
		LongFraction: 0.05, RotateBytes: -1, Tick: time.Millisecond})
	c := NewCounter(s)
	var dropped, dups int64
	for i := range s.Streams() {
		for j, m := range readStream(t, s.Stream(i).Dir) {
			switch {
			case j%50 == 7:
				dropped++
				continue
			case j%40 == 3:
				c.Observe(time.Now(), m)
				dups++
			}
			c.Observe(time.Now(), m)
		}
	}
	got := c.Tally()
	if got.Written != 1200 || got.Lost != dropped || got.Duplicates != dups || got.Delivered != 1200-dropped {
		t.Fatalf("Tally() = %+v; want written 1200, lost %d, duplicates %d", got, dropped, dups)
	}
	if got.Unmarked != 0 || got.Foreign != 0 {
		t.Fatalf("Tally() = %+v; want no unmarked or foreign messages", got)
	}
	if st := s.Stats(); got.DeliveredBytes >= st.MessageBytes || got.DeliveredBytes == 0 {
		t.Errorf("delivered %d message bytes of %d written", got.DeliveredBytes, st.MessageBytes)
	}
}

func TestFindMarker(t *testing.T) {
	w := time.Unix(12, 345)
	for _, tc := range []struct {
		in   string
		want Marker
		ok   bool
	}{
		{"nsim=1:2:12000000345:40;x", Marker{1, 2, w, 40}, true},
		{`{"log":"{\"marker\":\"nsim=3:4:12000000345:7;\"}"}`, Marker{3, 4, w, 7}, true},
		{"nsim=1:2:3;", Marker{}, false},
		{"nsim=1:2:3:4", Marker{}, false},
		{"nsim=:2:3:4;", Marker{}, false},
		{"nsim=1:2:99999999999999999999:4;", Marker{}, false},
		{"plain", Marker{}, false},
	} {
		got, ok := FindMarker(tc.in)
		if ok != tc.ok || (ok && (got.Stream != tc.want.Stream || got.Seq != tc.want.Seq || !got.Written.Equal(tc.want.Written) || got.Len != tc.want.Len)) {
			t.Errorf("FindMarker(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestHistQuantiles(t *testing.T) {
	var h hist
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(tc.q)
		if d := float64(got-tc.want) / float64(tc.want); d < -0.04 || d > 0.04 {
			t.Errorf("quantile(%v) = %v; want %v within 4%%", tc.q, got, tc.want)
		}
	}
	for v := int64(0); v < 1<<40; v = v*3 + 1 {
		if i := histIndex(v); i >= len(h.counts) || histValue(i) < v/2 || histValue(i) > v*2+1 {
			t.Fatalf("histIndex(%d) = %d, value %d", v, i, histValue(i))
		}
	}
}

func FuzzFindMarker(f *testing.F) {
	f.Add("nsim=1:2:3:4;")
	f.Add(`{"m":"nsim=12:0:1700000000000000000:256;"}`)
	f.Fuzz(func(t *testing.T, s string) {
		m, ok := FindMarker(s)
		if !ok {
			return
		}
		again, ok := FindMarker(string(AppendMarker(nil, m)))
		if !ok || again != m {
			t.Fatalf("round trip of %+v: %+v, %v", m, again, ok)
		}
	})
}
