package nodesim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// readStream returns the messages of a stream's files, oldest file first,
// with partial lines joined, checking the CRI syntax of every line.
func readStream(t *testing.T, dir string) []string {
	t.Helper()
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
	slices.Sort(names) // timestamps, then -N suffixes, sort in rotation order within a second only roughly
	slices.SortStableFunc(names, func(a, b string) int { return compareRotated(a, b) })
	names = append(names, "0.log")
	var msgs []string
	var partial []byte
	for _, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			fields := bytes.SplitN(sc.Bytes(), []byte(" "), 4)
			if len(fields) != 4 || string(fields[1]) != "stdout" {
				t.Fatalf("%s: bad CRI line %.80q", n, sc.Text())
			}
			if _, err := time.Parse(time.RFC3339Nano, string(fields[0])); err != nil {
				t.Fatalf("%s: bad CRI time: %v", n, err)
			}
			partial = append(partial, fields[3]...)
			switch string(fields[2]) {
			case "F":
				msgs = append(msgs, string(partial))
				partial = partial[:0]
			case "P":
			default:
				t.Fatalf("%s: bad CRI tag %q", n, fields[2])
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if len(partial) > 0 {
		t.Fatalf("%s: unfinished partial line", dir)
	}
	return msgs
}

// compareRotated orders 0.log.<time>[-N] names by time then N.
func compareRotated(a, b string) int {
	split := func(s string) (string, int) {
		base, n, _ := strings.Cut(strings.TrimPrefix(s, "0.log."), "-")
		rest, suffix, ok := strings.Cut(n, "-")
		k := 0
		if ok {
			for _, c := range suffix {
				k = k*10 + int(c-'0')
			}
		}
		return base + "-" + rest, k
	}
	ta, ka := split(a)
	tb, kb := split(b)
	if c := strings.Compare(ta, tb); c != 0 {
		return c
	}
	return ka - kb
}

func runSim(t *testing.T, cfg Config) *Sim {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return s
}

func TestLayout(t *testing.T) {
	root := t.TempDir()
	s, err := New(Config{Root: root, Pods: 3, Containers: 2, Preload: 2})
	if err != nil {
		t.Fatal(err)
	}
	if s.Streams() != 6 {
		t.Fatalf("Streams() = %d; want 6", s.Streams())
	}
	links, _ := filepath.Glob(s.Glob())
	if len(links) != 6 {
		t.Fatalf("%d symlinks; want 6", len(links))
	}
	for i := range s.Streams() {
		info := s.Stream(i)
		target, err := os.Readlink(info.Link)
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(root, "pods", info.Namespace+"_"+info.Pod+"_"+info.UID, info.Container, "0.log")
		if target != want {
			t.Errorf("link %s -> %s; want %s", info.Link, target, want)
		}
		base := filepath.Base(info.Link)
		if !strings.HasPrefix(base, info.Pod+"_bench_"+info.Container+"-") || len(info.ContainerID) != 64 {
			t.Errorf("link name %s, container id %q", base, info.ContainerID)
		}
		if got := s.StreamLines(i); got != 2 {
			t.Errorf("stream %d preloaded %d lines; want 2", i, got)
		}
	}
}

// TestUIDsFromElsewhere: pods given a UID (by an API server) carry it in
// their directory; the others keep the one derived from the seed.
func TestUIDsFromElsewhere(t *testing.T) {
	const uid = "0b6c3a52-7f1e-4d2a-9c8b-5e4f3a2b1c0d"
	s, err := New(Config{Root: t.TempDir(), Pods: 2, UIDs: map[string]string{PodName(1): uid}})
	if err != nil {
		t.Fatal(err)
	}
	first, second := s.Stream(0), s.Stream(1)
	if second.Pod != "sim-0001" || second.UID != uid || second.Container != ContainerName(0) {
		t.Errorf("stream 1 = %s/%s uid %s; want sim-0001/app uid %s", second.Pod, second.Container, second.UID, uid)
	}
	if first.UID == "" || first.UID == uid {
		t.Errorf("stream 0 uid %q; want one derived from the seed", first.UID)
	}
	if want := filepath.Join(s.PodsDir(), "bench_sim-0001_"+uid, "app"); second.Dir != want {
		t.Errorf("stream 1 dir %s; want %s", second.Dir, want)
	}
}

func TestRotationKeepsMaxFiles(t *testing.T) {
	root := t.TempDir()
	const lines = 2000
	s := runSim(t, Config{Root: root, Rate: 1e6, Lines: lines, LineBytes: 100, RotateBytes: 4096, MaxFiles: 3, Tick: time.Millisecond})
	st := s.Stats()
	if st.Lines != lines {
		t.Fatalf("wrote %d lines; want %d", st.Lines, lines)
	}
	if st.Rotations < 10 {
		t.Fatalf("%d rotations; want many (%d bytes at 4096 per file)", st.Rotations, st.Bytes)
	}
	if st.Removed != st.Rotations-2 {
		t.Errorf("removed %d files after %d rotations; want %d", st.Removed, st.Rotations, st.Rotations-2)
	}
	dir := s.Stream(0).Dir
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Fatalf("%d files in %s; want 3 (0.log and 2 rotated)", len(entries), dir)
	}
	msgs := readStream(t, dir)
	if len(msgs) == 0 {
		t.Fatal("no lines left")
	}
	// What is left is the tail of the stream, in order, without gaps.
	first := lines - int64(len(msgs))
	for i, msg := range msgs {
		m, ok := FindMarker(msg)
		if !ok || m.Seq != first+int64(i) {
			t.Fatalf("line %d of the kept files: marker %+v (ok %v); want seq %d", i, m, ok, first+int64(i))
		}
	}
}

func TestMarkersUniqueAcrossMix(t *testing.T) {
	root := t.TempDir()
	const lines = 300
	s := runSim(t, Config{Root: root, Pods: 4, Containers: 2, Rate: 1e6, Lines: lines, LineBytes: 200,
		JSONFraction: 0.3, LongFraction: 0.1, LongBytes: 40000, RotateBytes: -1, Tick: time.Millisecond})
	seen := map[[2]int64]bool{}
	var long, jsonLines int
	for i := range s.Streams() {
		for _, msg := range readStream(t, s.Stream(i).Dir) {
			m, ok := FindMarker(msg)
			if !ok {
				t.Fatalf("message without marker: %.80q", msg)
			}
			if m.Stream != i {
				t.Fatalf("stream %d file holds marker of stream %d", i, m.Stream)
			}
			if len(msg) != m.Len {
				t.Fatalf("message of %d bytes; its marker says %d", len(msg), m.Len)
			}
			k := [2]int64{int64(m.Stream), m.Seq}
			if seen[k] {
				t.Fatalf("marker %v written twice", k)
			}
			seen[k] = true
			switch {
			case len(msg) == 40000:
				long++
			case msg[0] == '{':
				jsonLines++
				if !json.Valid([]byte(msg)) {
					t.Fatalf("invalid JSON line %q", msg)
				}
			case len(msg) != 200:
				t.Fatalf("plain line of %d bytes; want 200", len(msg))
			}
		}
	}
	if len(seen) != 8*lines {
		t.Fatalf("%d distinct markers; want %d", len(seen), 8*lines)
	}
	if long == 0 || jsonLines == 0 {
		t.Fatalf("mix: %d long, %d JSON lines; want some of each", long, jsonLines)
	}
}

func TestRate(t *testing.T) {
	root := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{Root: root, Pods: 10, Rate: 1000, Tick: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		time.Sleep(2*time.Second + time.Millisecond)
		synctest.Wait()
		if got := s.Stats().Lines; got < 1950 || got > 2000 {
			t.Errorf("after 2s at 1000 lines/s: %d lines", got)
		}
		s.SetRate(0)
		time.Sleep(20 * time.Millisecond) // let the buckets settle
		synctest.Wait()
		paused := s.Stats().Lines
		time.Sleep(time.Second)
		synctest.Wait()
		if got := s.Stats().Lines; got != paused {
			t.Errorf("rate 0 still wrote %d lines", got-paused)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestValidate(t *testing.T) {
	for _, c := range []Config{
		{},
		{Root: "x", MaxFiles: 1},
		{Root: "x", Rate: -1},
		{Root: "x", JSONFraction: 0.7, LongFraction: 0.7},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil; want an error", c)
		}
	}
	if err := (Config{Root: "x"}).Validate(); err != nil {
		t.Errorf("Validate of defaults: %v", err)
	}
}
