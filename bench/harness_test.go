package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/bench/nodesim"
)

func TestMain(m *testing.M) {
	if os.Getenv(envFakeAgent) == "1" {
		os.Exit(fakeAgentMain())
	}
	code := m.Run()
	if skiffBuild.dir != "" {
		os.RemoveAll(skiffBuild.dir)
	}
	os.Exit(code)
}

// skiffBuild is the skiff binary of this checkout, built once for the tests
// that run it.
var skiffBuild struct {
	once     sync.Once
	dir, bin string
	out      []byte
	err      error
}

func testSkiff(t *testing.T) string {
	t.Helper()
	b := &skiffBuild
	b.once.Do(func() {
		if b.dir, b.err = os.MkdirTemp("", "skiff-bench-test-"); b.err != nil {
			return
		}
		b.bin = filepath.Join(b.dir, "skiff")
		b.out, b.err = exec.Command("go", "build", "-o", b.bin, "../cmd/skiff").CombinedOutput()
	})
	if b.err != nil {
		t.Fatalf("go build ../cmd/skiff: %v\n%s", b.err, b.out)
	}
	return b.bin
}

func testHarness(t *testing.T, adapters ...Adapter) *harness {
	t.Helper()
	return &harness{
		opts: options{Out: t.TempDir(), Duration: time.Second}, stdout: io.Discard, tmp: t.TempDir(),
		readyTimeout: 30 * time.Second, progress: newProgress(io.Discard), adapters: adapters,
		meta: Meta{Versions: map[string]string{}, Settings: map[string]string{}},
	}
}

// TestCountsWhatAFakeAgentDropsAndDuplicates runs the harness's whole path
// (adapter, process, cwlocal, counting, measurement, report) with an agent
// that loses and repeats known lines.
func TestCountsWhatAFakeAgentDropsAndDuplicates(t *testing.T) {
	const (
		pods  = 6
		lines = 500 // per stream, the preload line included
		drop  = 7   // seq 6, 13, ... lost
		dup   = 11  // seq 10, 21, ... twice (unless dropped too)
	)
	var wantLost, wantDup int64
	for seq := int64(0); seq < lines; seq++ {
		switch {
		case seq%drop == drop-1:
			wantLost++
		case seq%dup == dup-1:
			wantDup++
		}
	}
	wantLost, wantDup = wantLost*pods, wantDup*pods

	ad := fakeAdapter(drop, dup)
	h := testHarness(t, ad)
	sp := spec{Scenario: "steady", Label: "test", Rate: 5000, Duration: 5 * time.Second,
		Sim:        nodesim.Config{Pods: pods, Lines: lines, LineBytes: 120, JSONFraction: 0.5, LongFraction: 0.02, RotateBytes: -1},
		DrainQuiet: 500 * time.Millisecond, DrainMax: 10 * time.Second}
	res := h.runOne(context.Background(), ad, sp)
	if res.Error != "" {
		t.Fatalf("run failed: %s\n%s", res.Error, strings.Join(res.Notes, "\n"))
	}
	if res.Written != pods*lines {
		t.Fatalf("written %d; want %d", res.Written, pods*lines)
	}
	if res.Lost != wantLost || res.Duplicates != wantDup {
		t.Fatalf("lost %d, duplicates %d; want %d and %d", res.Lost, res.Duplicates, wantLost, wantDup)
	}
	if res.Delivered != res.Written-wantLost || res.Unmarked != 0 || res.Foreign != 0 {
		t.Fatalf("delivered %d (unmarked %d, foreign %d); want %d", res.Delivered, res.Unmarked, res.Foreign, res.Written-wantLost)
	}
	if res.KeptUp {
		t.Errorf("a run that lost lines counts as kept up")
	}
	if res.RSSPeakMi <= 0 || len(res.Samples) == 0 || res.MaxMs <= 0 {
		t.Errorf("no measurements: peak %.1f MiB, %d samples, max latency %.1f ms", res.RSSPeakMi, len(res.Samples), res.MaxMs)
	}

	h.results = []Result{res}
	if err := h.write(); err != nil {
		t.Fatal(err)
	}
	var rep report
	b, err := os.ReadFile(filepath.Join(h.opts.Out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil || len(rep.Results) != 1 || rep.Results[0].Lost != wantLost {
		t.Fatalf("results.json: %v, %+v", err, rep.Results)
	}
	md, _ := os.ReadFile(filepath.Join(h.opts.Out, "results.md"))
	if !strings.Contains(string(md), "| steady | test | fake |") {
		t.Errorf("results.md lacks the run:\n%s", md)
	}
	for _, name := range []string{"timeline-steady-test.svg", "rates.svg"} {
		svg, err := os.ReadFile(filepath.Join(h.opts.Out, name))
		if err != nil || !strings.HasPrefix(string(svg), "<svg") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestPerfectAgentKeepsUp checks the other side: nothing dropped, nothing
// repeated, every line counted once, the run kept up.
func TestPerfectAgentKeepsUp(t *testing.T) {
	ad := fakeAdapter(0, 0)
	h := testHarness(t, ad)
	sp := spec{Scenario: "steady", Label: "clean", Rate: 2000, Duration: 2 * time.Second,
		Sim:        nodesim.Config{Pods: 4, LineBytes: 200, RotateBytes: 64 << 10, MaxFiles: 5},
		DrainQuiet: 2 * time.Second, DrainMax: 10 * time.Second}
	res := h.runOne(context.Background(), ad, sp)
	if res.Error != "" {
		t.Fatalf("run failed: %s", res.Error)
	}
	if res.Lost != 0 || res.Duplicates != 0 || res.Delivered != res.Written || res.Written < 3000 {
		t.Fatalf("written %d delivered %d lost %d dup %d; want all delivered once", res.Written, res.Delivered, res.Lost, res.Duplicates)
	}
	if !res.KeptUp {
		t.Errorf("kept up = false: %s", res.KeptUpWhy)
	}
}

func TestParseStat(t *testing.T) {
	line := []byte("4242 (my (odd) agent) S 17 4242 4242 0 -1 4194560 3000 0 0 0 250 50 0 0 20 0 3 0 100 1000 200 18446744073709551615\n")
	state, ppid, cpu, err := parseStat(line)
	if err != nil || state != 'S' || ppid != 17 || cpu != 3*time.Second {
		t.Fatalf("parseStat = %c, %d, %v, %v; want S, 17, 3s", state, ppid, cpu, err)
	}
	if _, _, _, err := parseStat([]byte("12 (x) S 1")); err == nil {
		t.Error("parseStat of a short line: no error")
	}
}
