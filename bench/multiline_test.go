package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/bench/nodesim"
)

// multilineSpec is the multiline scenario's run, small: traces of
// traceLines lines after the logger line in two pods of five, files
// rotating every 16 KiB.
func multilineSpec(rate float64, lines int) spec {
	return spec{Scenario: "multiline", Label: "test", Rate: rate, Duration: 3 * time.Second, Multiline: "java",
		Sim:        nodesim.Config{Pods: 5, LineBytes: 120, TraceFraction: 0.4, TraceLines: lines, RotateBytes: 16 << 10, MaxFiles: 50},
		DrainQuiet: 3 * time.Second, DrainMax: 20 * time.Second}
}

// TestTracesCountedByTheirMarker: an agent that ships every line as an
// event delivers each trace once (its marked first line) and the frames
// as unmarked events, which are neither loss nor a failure.
func TestTracesCountedByTheirMarker(t *testing.T) {
	ad := fakeAdapter(0, 0)
	h := testHarness(t, ad)
	// At 500 lines/s no rotated file is deleted within the run, so the
	// fake agent's simple reading cannot lose any under a loaded machine.
	res := h.runOne(context.Background(), ad, multilineSpec(500, 5))
	if res.Error != "" {
		t.Fatalf("run failed: %s\n%s", res.Error, strings.Join(res.Notes, "\n"))
	}
	if res.Traces == 0 || res.FrameLines != 5*res.Traces || res.Written <= res.Traces {
		t.Fatalf("%d messages written, %d traces, %d frame lines; want traces of 6 lines and ordinary lines", res.Written, res.Traces, res.FrameLines)
	}
	if res.Lost != 0 || res.Duplicates != 0 || res.Delivered != res.Written || res.Unmarked != res.FrameLines || res.Events != res.Written+res.FrameLines {
		t.Fatalf("written %d, delivered %d, lost %d, dup %d, events %d, unmarked %d; want every message once and the %d frame lines unmarked",
			res.Written, res.Delivered, res.Lost, res.Duplicates, res.Events, res.Unmarked, res.FrameLines)
	}
	if !res.KeptUp {
		t.Errorf("kept up = false: %s", res.KeptUpWhy)
	}
	// 3 of 5 pods print 100 lines/s each, 2 of 5 print 100 lines/s in traces of 6.
	if want := 3*100 + 2*100/6.0; res.TargetRate < want-1 || res.TargetRate > want+1 {
		t.Errorf("target %.1f messages/s; want %.1f", res.TargetRate, want)
	}
	if res.AppLPS < 450 || res.AppLPS > 525 {
		t.Errorf("offered %.0f application lines/s; want about 500", res.AppLPS)
	}
	if n := notes(res); !strings.Contains(n, "6.00 events per trace") {
		t.Errorf("notes %q; want the events per trace", n)
	}
}

// TestMultilineScenarioWithSkiff runs the multiline scenario's path with
// the skiff binary of this checkout: every trace arrives as one event with
// its marker, nothing lost, no unmarked pieces.
func TestMultilineScenarioWithSkiff(t *testing.T) {
	ad := skiffAdapter(testSkiff(t), "")
	h := testHarness(t, ad)
	res := h.runOne(context.Background(), ad, multilineSpec(1000, 20))
	if res.Error != "" {
		t.Fatalf("run failed: %s\n%s", res.Error, strings.Join(res.Notes, "\n"))
	}
	if res.Traces == 0 || res.Lost != 0 || res.Delivered != res.Written || res.Unmarked != 0 || res.Events != res.Delivered+res.Duplicates {
		t.Fatalf("%d written (%d traces), %d delivered, %d lost, %d events, %d unmarked; want every trace in one event",
			res.Written, res.Traces, res.Delivered, res.Lost, res.Events, res.Unmarked)
	}
	if !res.KeptUp {
		t.Errorf("kept up = false: %s", res.KeptUpWhy)
	}
}

// TestMultilineScenarioWithFluentBit runs it with $FLUENT_BIT, if set and
// built with the multiline filter: nothing lost.
func TestMultilineScenarioWithFluentBit(t *testing.T) {
	bin := os.Getenv("FLUENT_BIT")
	if bin == "" {
		t.Skip("FLUENT_BIT not set")
	}
	path, missing := lookBinary(bin, "fluent-bit")
	if missing != "" {
		t.Fatal(missing)
	}
	ad := fluentBitAdapter(path, "")
	h := testHarness(t, ad)
	res := h.runOne(context.Background(), ad, multilineSpec(1000, 20))
	if res.Skipped != "" {
		t.Skip(res.Skipped)
	}
	if res.Error != "" {
		t.Fatalf("run failed: %s\n%s", res.Error, strings.Join(res.Notes, "\n"))
	}
	if res.Traces == 0 || res.Lost != 0 || res.Delivered != res.Written {
		t.Fatalf("%d written (%d traces), %d delivered, %d lost; want all delivered", res.Written, res.Traces, res.Delivered, res.Lost)
	}
	t.Logf("fluent-bit: %s", notes(res))
}

// TestAdaptersJoinJava checks the configurations the built-in adapters
// write with and without EnvMultiline.
func TestAdaptersJoinJava(t *testing.T) {
	for _, tc := range []struct {
		ad         Adapter
		file, want string
	}{
		{skiffAdapter("/bin/skiff", ""), "skiff.yaml", "  state_dir: \"/state\"\n  multiline: \"java\"\n"},
		{fluentBitAdapter("/bin/fluent-bit", ""), "fluent-bit.conf",
			"[FILTER]\n    name                  multiline\n    match                 kube.*\n    multiline.key_content log\n    multiline.parser      java\n"},
	} {
		for _, rule := range []string{"", "java"} {
			env := map[string]string{EnvWorkDir: t.TempDir(), EnvStateDir: "/state", EnvLogGlob: "/logs/*.log",
				EnvKubeAPI: "https://127.0.0.1:1", EnvMultiline: rule}
			if _, _, err := tc.ad.Command(env); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(env[EnvWorkDir], tc.file))
			if err != nil {
				t.Fatal(err)
			}
			cfg := string(b)
			if got := strings.Contains(cfg, tc.want); got != (rule != "") {
				t.Errorf("%s with multiline %q: has %q = %v\n%s", tc.ad.Name, rule, tc.want, got, cfg)
			}
			// Fluent Bit: the multiline filter before any other.
			if i := strings.Index(cfg, "[FILTER]"); rule != "" && tc.ad.Name == "fluent-bit" && !strings.HasPrefix(cfg[i:], tc.want) {
				t.Errorf("fluent-bit: the multiline filter is not the first:\n%s", cfg)
			}
		}
	}
}

// TestFluentBitWithoutMultilineFilter: a Fluent Bit built without the
// multiline filter (FLB_MINIMAL) is skipped in the multiline scenario, not
// run without joining.
func TestFluentBitWithoutMultilineFilter(t *testing.T) {
	const help = "Usage: fluent-bit [OPTION]\n\n\x1b[1mInputs\x1b[0m\n  tail                    Tail files\n\n" +
		"\x1b[1mFilters\x1b[0m\n  kubernetes              Filter to append Kubernetes metadata\n%s\n\x1b[1mOutputs\x1b[0m\n  null                    Throws away events\n"
	for _, tc := range []struct {
		extra string
		want  bool
	}{{"", false}, {"  multiline               Concatenate multiline messages\n", true}} {
		bin := filepath.Join(t.TempDir(), "fluent-bit")
		script := "#!/bin/sh\ncat <<'EOF'\n" + fmt.Sprintf(help, tc.extra) + "EOF\n"
		if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		if got := hasFilter(bin, "multiline"); got != tc.want {
			t.Errorf("hasFilter with %q = %v; want %v", tc.extra, got, tc.want)
		}
		ad := fluentBitAdapter(bin, "")
		h := testHarness(t, ad)
		res := h.runOne(context.Background(), ad, multilineSpec(1000, 20))
		if skipped := res.Skipped != "" && res.Error == ""; skipped == tc.want {
			t.Errorf("with %q: skipped %q, error %q; want skipped = %v", tc.extra, res.Skipped, res.Error, !tc.want)
		}
	}
}
