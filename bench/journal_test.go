package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/bench/nodesim"
)

// TestJournalScenarioWithSkiff runs the journal scenario's path with the
// skiff binary built from this checkout: the pods' lines and every journal
// entry counted where Container Insights' groups put them, none lost.
func TestJournalScenarioWithSkiff(t *testing.T) {
	ad := skiffAdapter(testSkiff(t), "")
	h := testHarness(t, ad)
	sp := spec{Scenario: "journal", Label: "test", Rate: 500, Duration: 3 * time.Second, Journal: 200,
		Sim:        nodesim.Config{Pods: 4, LineBytes: 120, RotateBytes: -1},
		DrainQuiet: 2 * time.Second, DrainMax: 20 * time.Second}
	res := h.runOne(context.Background(), ad, sp)
	if res.Error != "" {
		t.Fatalf("run failed: %s\n%s", res.Error, strings.Join(res.Notes, "\n"))
	}
	if res.JournalWritten < 400 || res.JournalDelivered != res.JournalWritten || res.JournalLost != 0 || res.Lost != 0 {
		t.Errorf("journal %d written, %d delivered, %d lost; lines lost %d", res.JournalWritten, res.JournalDelivered, res.JournalLost, res.Lost)
	}
}
