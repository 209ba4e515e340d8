package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/bench/nodesim"
)

// TestIdleMeasuresAtRest: an agent that keeps busy for a while after its
// start-up (0.6 CPU seconds after its first puts) shows it in the settling
// period, not in the cores of the window, which starts once it settled.
func TestIdleMeasuresAtRest(t *testing.T) {
	const busy = 600 * time.Millisecond
	ad := busyFakeAdapter(0, 0, busy)
	h := testHarness(t, ad)
	sp := spec{Scenario: "idle", Label: "test", Duration: time.Second, Settle: 2 * time.Second,
		Sim:        nodesim.Config{Pods: 5, LineBytes: 100},
		DrainQuiet: 500 * time.Millisecond, DrainMax: 5 * time.Second}
	res := h.runOne(context.Background(), ad, sp)
	if res.Error != "" {
		t.Fatalf("run failed: %s\n%s", res.Error, strings.Join(res.Notes, "\n"))
	}
	if res.Written != 5 || res.Delivered != 5 || !res.KeptUp {
		t.Fatalf("written %d, delivered %d, kept up %v (%s); want the 5 first lines", res.Written, res.Delivered, res.KeptUp, res.KeptUpWhy)
	}
	e := res.Extra
	t.Logf("start-up %.2f CPU s, settling %.3f cores, at rest %.3f cores", e["startup_cpu_s"], e["settle_cores"], res.Cores)
	if e["settle_s"] != 2 || e["startup_cpu_s"] <= 0 {
		t.Errorf("settle %.1f s, start-up %.2f CPU s; want 2 s and some CPU", e["settle_s"], e["startup_cpu_s"])
	}
	// The busy loop may begin a little before the harness saw the first
	// lines delivered, and /proc counts CPU in 10 ms ticks. Had the window
	// held the busy loop, its cores would be at least busy/duration.
	if settled := e["settle_cores"] * e["settle_s"]; settled < 0.75*busy.Seconds() {
		t.Errorf("%.2f CPU s while settling; want the agent's %v of work after start-up", settled, busy)
	}
	if res.Cores >= busy.Seconds()/sp.Duration.Seconds()/2 || res.Cores >= e["settle_cores"] {
		t.Errorf("%.3f cores at rest (%.3f while settling); want the agent at rest", res.Cores, e["settle_cores"])
	}
	if res.RSSPeakMi <= 0 || res.RSSAvgMi <= 0 {
		t.Errorf("RSS peak %.1f MiB, avg %.1f MiB; want both", res.RSSPeakMi, res.RSSAvgMi)
	}
	if res.AnonPeakMi <= 0 || res.AnonPeakMi > res.RSSPeakMi {
		t.Errorf("anonymous memory peak %.1f MiB with an RSS peak of %.1f; want a part of it", res.AnonPeakMi, res.RSSPeakMi)
	}
	if n := notes(res); !strings.Contains(n, "cores at rest: over 1 s from 2 s after") {
		t.Errorf("notes %q; want what the cores cover", n)
	}
}

// TestScenarioSpecs: what the idle, enrich and pods1000 scenarios run, by
// default and with --rates.
func TestScenarioSpecs(t *testing.T) {
	h := testHarness(t)
	h.opts.Pods, h.opts.Rates = 50, []float64{1000, 10000, 50000}
	for _, tc := range []struct {
		name     string
		specs    func(*harness) []spec
		ratesSet bool
		pods     int
		kube     kubeMode
		labels   []string
	}{
		{"enrich", enrichSpecs, false, 100, kubeLive, []string{"1k/s, 100 pods"}},
		{"enrich", enrichSpecs, true, 100, kubeLive, []string{"1k/s, 100 pods", "10k/s, 100 pods", "50k/s, 100 pods"}},
		{"pods1000", pods1000Specs, false, 1000, kubeOff, []string{"1k/s, 1000 pods"}},
		{"pods1000", pods1000Specs, true, 1000, kubeOff, []string{"1k/s, 1000 pods", "10k/s, 1000 pods", "50k/s, 1000 pods"}},
	} {
		h.opts.RatesSet = tc.ratesSet
		var labels []string
		for _, sp := range tc.specs(h) {
			labels = append(labels, sp.Label)
			if sp.Scenario != tc.name || sp.Sim.Pods != tc.pods || sp.Kube != tc.kube || sp.Rate <= 0 || sp.Duration != h.opts.Duration {
				t.Errorf("%s (rates set %v): %+v; want %d pods, kube mode %d", tc.name, tc.ratesSet, sp, tc.pods, tc.kube)
			}
		}
		if strings.Join(labels, ";") != strings.Join(tc.labels, ";") {
			t.Errorf("%s (rates set %v): runs %q; want %q", tc.name, tc.ratesSet, labels, tc.labels)
		}
	}
	for _, name := range []string{"idle", "enrich", "pods1000"} {
		if findScenario(name) == nil {
			t.Errorf("scenario %s is not in the list", name)
		}
	}
}
