package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTopAgainstDemo runs the built binary's demo and reads it with
// `skiff top`: once, and live in a terminal (tmux). What top shows must
// agree with /metrics read around it.
func TestTopAgainstDemo(t *testing.T) {
	addr := startDemoAgent(t)
	t.Run("once", func(t *testing.T) {
		before := scrapeMetrics(t, addr)
		code, out, stderr := runBin(t, nil, "top", "--once", "--addr", addr)
		after := scrapeMetrics(t, addr)
		if code != exitOK {
			t.Fatalf("skiff top --once = %d\n%s", code, stderr)
		}
		t.Logf("skiff top --once:\n%s", out)
		checkTopScreen(t, out, addr, before, after)
		if !strings.Contains(out, "  totals only\n") {
			t.Errorf("skiff top --once shows rates; want totals")
		}
	})
	t.Run("tmux", func(t *testing.T) {
		if _, err := exec.LookPath("tmux"); err != nil {
			t.Skip("tmux is not installed (.ci/setup.d/tmux installs it): the live terminal view is not tested")
		}
		sock := filepath.Join(t.TempDir(), "tmux.sock")
		tmux := func(args ...string) (string, error) {
			out, err := exec.Command("tmux", append([]string{"-S", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
			return string(out), err
		}
		before := scrapeMetrics(t, addr)
		cmd := fmt.Sprintf("exec %s top --addr %s --interval 500ms", skiffBin, addr)
		if out, err := tmux("new-session", "-d", "-s", "top", "-x", "120", "-y", "40", cmd); err != nil {
			t.Fatalf("tmux new-session: %v\n%s", err, out)
		}
		t.Cleanup(func() { _, _ = tmux("kill-server") })
		// Until a frame with rates and records going out.
		rate := regexp.MustCompile(`records out +([\d,.]+)/s`)
		var screen string
		deadline := time.Now().Add(20 * time.Second)
		for {
			out, err := tmux("capture-pane", "-p", "-t", "top")
			if err != nil {
				t.Fatalf("tmux capture-pane (did skiff top exit?): %v\n%s", err, out)
			}
			screen = out
			if m := rate.FindStringSubmatch(screen); m != nil && m[1] != "0" && strings.Contains(screen, "skiff top  "+addr) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no frame with an output rate after 20s; the screen:\n%s", screen)
			}
			time.Sleep(100 * time.Millisecond)
		}
		after := scrapeMetrics(t, addr)
		t.Logf("the terminal:\n%s", screen)
		checkTopScreen(t, screen, addr, before, after)
		if !strings.Contains(screen, "rates over ") {
			t.Errorf("the live view shows no rates")
		}
		if lines := strings.Split(strings.TrimRight(screen, "\n"), "\n"); len(lines) > 39 {
			t.Errorf("the frame has %d lines on a 40-line terminal; the last must stay free", len(lines))
		}
	})
}

// checkTopScreen checks a frame of top against two /metrics read before
// and after it: the version and buffer limit exactly, totals between the
// two, and a row for each of the demo's pods.
func checkTopScreen(t *testing.T, screen, addr string, before, after metricSet) {
	t.Helper()
	if want := "skiff top  " + addr + "  version " + after.label("skiff_build_info", "version") + "  up "; !strings.Contains(screen, want) {
		t.Errorf("the header lacks %q", want)
	}
	if want := " of " + bytesIEC(after.sum("skiff_buffer_limit_bytes")) + "  "; !strings.Contains(screen, want) {
		t.Errorf("the buffer line lacks the limit %q", want)
	}
	total := func(label string) int64 {
		m := regexp.MustCompile(regexp.QuoteMeta(label) + ` +\S+ +([\d,]+)`).FindStringSubmatch(screen)
		if m == nil {
			t.Errorf("no %q total on the screen", label)
			return -1
		}
		n, _ := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
		return n
	}
	in := func(m metricSet) int64 {
		return int64(m.sum("skiff_input_records_total") + m.sum("skiff_input_journal_records_total"))
	}
	out := func(m metricSet) int64 { return int64(m.sum("skiff_output_proc_records_total")) }
	if got := total("records in"); got < in(before) || got > in(after) {
		t.Errorf("records in %d; /metrics said %d before, %d after", got, in(before), in(after))
	}
	if got := total("records out"); got < out(before) || got > out(after) {
		t.Errorf("records out %d; /metrics said %d before, %d after", got, out(before), out(after))
	}
	for i := range demoTopPods {
		if pod := fmt.Sprintf(" shop/sim-%04d ", i); !strings.Contains(screen, pod) {
			t.Errorf("no row for pod %s", pod)
		}
	}
}

// demoTopPods is how many pods the demo read by top simulates.
const demoTopPods = 3

// startDemoAgent runs `skiff demo` (a small node: 3 pods, 600 lines/s) and
// returns its HTTP address once records go out. It is stopped as Ctrl-C
// would when the test ends.
func startDemoAgent(t *testing.T) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(skiffBin, "demo", "--duration", "60s", "--http-listen", addr,
		"--pods", strconv.Itoa(demoTopPods), "--rate", "600", "--journal-rate", "20")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + t.TempDir()}
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
			var exit *exec.ExitError
			if errors.As(waitErr, &exit) {
				t.Logf("skiff demo exited %d:\n%s", exit.ExitCode(), out.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("skiff demo did not stop 30s after SIGINT:\n%s", out.String())
		}
	})
	waitFor(t, 30*time.Second, "the demo's records going out", func() bool {
		select {
		case <-exited:
			t.Fatalf("skiff demo exited: %v\n%s", waitErr, out.String())
		default:
		}
		m, err := readMetrics(addr)
		return err == nil && m.sum("skiff_output_proc_records_total") > 0
	})
	return addr
}

func readMetrics(addr string) (metricSet, error) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

func scrapeMetrics(t *testing.T, addr string) metricSet {
	t.Helper()
	m, err := readMetrics(addr)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
