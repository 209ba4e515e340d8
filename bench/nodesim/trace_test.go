package nodesim

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestTracePodsSpreadEvenly(t *testing.T) {
	for _, tc := range []struct {
		pods, containers int
		fraction         float64
		count            int
		want             []int // the trace pods, when given
	}{
		{50, 1, 0.2, 10, []int{4, 9, 14, 19, 24, 29, 34, 39, 44, 49}},
		{10, 2, 0.5, 5, []int{1, 3, 5, 7, 9}},
		{4, 1, 1, 4, []int{0, 1, 2, 3}},
		{4, 1, 0, 0, nil},
		{1, 1, 0.2, 0, nil},
		{100, 1, 0.29, 29, nil}, // 0.29*100 < 29 in floating point
	} {
		s, err := New(Config{Root: t.TempDir(), Pods: tc.pods, Containers: tc.containers, TraceFraction: tc.fraction})
		if err != nil {
			t.Fatal(err)
		}
		s.closeAll()
		var got []int
		for i := range s.Streams() {
			pod := i / tc.containers
			switch {
			case s.Stream(i).Traces && i%tc.containers == 0:
				got = append(got, pod)
			case s.Stream(i).Traces != slices.Contains(got, pod):
				t.Errorf("%d pods, fraction %v: pod %d writes traces in some containers only", tc.pods, tc.fraction, pod)
			}
		}
		if len(got) != tc.count || tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("%d pods, fraction %v: trace pods %v; want %d of them: %v", tc.pods, tc.fraction, got, tc.count, tc.want)
		}
	}
}

func TestTraceBody(t *testing.T) {
	for _, n := range []int{1, 2, 5, 20, len(javaTrace), len(javaTrace) + 1, 40} {
		body := traceBody(n)
		if len(body) != n {
			t.Fatalf("traceBody(%d) has %d lines", n, len(body))
		}
		if body[0] != javaTrace[0] {
			t.Errorf("traceBody(%d) starts with %q; want the exception line", n, body[0])
		}
		for _, l := range body[1:] {
			if !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, "Caused by: ") {
				t.Errorf("traceBody(%d): %q continues no trace", n, l)
			}
		}
		if n > 1 && body[n-1] != "\t... 9 more" {
			t.Errorf("traceBody(%d) ends with %q; want the last cause's end", n, body[n-1])
		}
	}
}

// TestTracesWrittenWhole reads a trace stream's files line by line: every
// trace is its logger line with the marker, then TraceLines lines without
// one, never split between files, and its marker holds the length of the
// trace joined with "\n".
func TestTracesWrittenWhole(t *testing.T) {
	const traces, frames = 60, 20
	s := runSim(t, Config{Root: t.TempDir(), Pods: 2, TraceFraction: 0.5, TraceLines: frames, Lines: traces,
		Rate: 1e6, RotateBytes: 8 << 10, MaxFiles: 1000, Tick: time.Millisecond})
	st := s.Stats()
	if st.Lines != 2*traces || st.Traces != traces || st.FrameLines != traces*frames || st.Rotations < 5 {
		t.Fatalf("Stats() = %+v; want %d messages, %d traces, %d frame lines, rotations", st, 2*traces, traces, traces*frames)
	}
	if s.Stream(0).Traces || !s.Stream(1).Traces {
		t.Fatalf("trace streams: %v, %v; want the second only", s.Stream(0).Traces, s.Stream(1).Traces)
	}
	dir := s.Stream(1).Dir
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() != "0.log" {
			names = append(names, e.Name())
		}
	}
	slices.SortStableFunc(names, compareRotated)
	names = append(names, "0.log")
	var seq int64
	for _, name := range names {
		lines := criMessages(t, filepath.Join(dir, name))
		if len(lines)%(1+frames) != 0 {
			t.Fatalf("%s: %d lines, not whole traces of %d", name, len(lines), 1+frames)
		}
		for i := 0; i < len(lines); i += 1 + frames {
			m, ok := FindMarker(lines[i])
			if !ok || m.Stream != 1 || m.Seq != seq {
				t.Fatalf("%s line %d: %.60q; want the marker of trace %d", name, i, lines[i], seq)
			}
			for _, l := range lines[i+1 : i+1+frames] {
				if strings.Contains(l, MarkerPrefix) {
					t.Fatalf("%s: frame line %q has a marker", name, l)
				}
			}
			if joined := strings.Join(lines[i:i+1+frames], "\n"); len(joined) != m.Len {
				t.Fatalf("%s: trace %d is %d bytes joined; its marker says %d", name, seq, len(joined), m.Len)
			}
			seq++
		}
	}
	if seq != traces {
		t.Fatalf("read %d traces; want %d", seq, traces)
	}
}

// criMessages returns the messages of one CRI file, checking that every
// line is a full ("F") stdout line.
func criMessages(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := bytes.SplitN(sc.Bytes(), []byte(" "), 4)
		if len(fields) != 4 || string(fields[1]) != "stdout" || string(fields[2]) != "F" {
			t.Fatalf("%s: bad CRI line %.80q", path, sc.Text())
		}
		out = append(out, string(fields[3]))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCounterCountsTracesByMarker: a trace arrives whole or line by line;
// either way it is delivered once, and the frames shipped apart are
// unmarked, not lost.
func TestCounterCountsTracesByMarker(t *testing.T) {
	s := runSim(t, Config{Root: t.TempDir(), Pods: 1, TraceFraction: 1, TraceLines: 5, Lines: 10, Rate: 1e6,
		RotateBytes: -1, Tick: time.Millisecond})
	lines := criMessages(t, filepath.Join(s.Stream(0).Dir, "0.log"))
	joined, split := NewCounter(s), NewCounter(s)
	now := time.Now()
	for i := 0; i < len(lines); i += 6 {
		joined.Observe(now, strings.Join(lines[i:i+6], "\n"))
		for _, l := range lines[i : i+6] {
			split.Observe(now, l)
		}
	}
	for _, tc := range []struct {
		name     string
		c        *Counter
		messages int64
	}{{"joined", joined, 10}, {"line by line", split, 60}} {
		got := tc.c.Tally()
		if got.Written != 10 || got.Delivered != 10 || got.Lost != 0 || got.Duplicates != 0 ||
			got.Messages != tc.messages || got.Unmarked != tc.messages-10 || got.Foreign != 0 {
			t.Errorf("%s: Tally() = %+v; want 10 traces delivered in %d messages", tc.name, got, tc.messages)
		}
	}
}

// TestTraceRate: the rate counts lines, a trace its 1+TraceLines.
func TestTraceRate(t *testing.T) {
	root := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{Root: root, Pods: 10, Rate: 1000, TraceFraction: 0.2, TraceLines: 20, Tick: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.RecordRate(), 100*(8+2.0/21); math.Abs(got-want) > 1e-9 {
			t.Errorf("RecordRate() = %v; want %v", got, want)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(2*time.Second + time.Millisecond)
		synctest.Wait()
		st := s.Stats()
		if lines := st.Lines + st.FrameLines; lines < 1900 || lines > 2000 || st.Traces < 2*9 {
			t.Errorf("after 2s at 1000 lines/s: %d lines in %d messages, %d traces", lines, st.Lines, st.Traces)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
