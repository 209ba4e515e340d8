package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/tailer"
)

// topMetrics is a /metrics of an agent at t0 + seconds, every counter
// moving at a fixed rate; at -1 it is an agent started anew (a later
// process_start_time_seconds, counters from 0).
func topMetrics(seconds float64) string {
	start, restarted := float64(t0.Unix()-83), seconds < 0
	if restarted {
		start, seconds = float64(t0.Unix()-2), 0
	}
	at := func(base, perSecond float64) float64 {
		if restarted {
			return perSecond
		}
		return base + perSecond*seconds
	}
	return fmt.Sprintf(`# HELP skiff_build_info Always 1.
# TYPE skiff_build_info gauge
skiff_build_info{goversion="go1.26.8",revision="abc123",version="v1.2.3"} 1
# TYPE process_start_time_seconds gauge
process_start_time_seconds %g
# TYPE skiff_input_records_total counter
skiff_input_records_total{input="application"} %g
skiff_input_records_total{input="dataplane-containers"} 0
skiff_input_journal_records_total %g
skiff_input_bytes_total{input="application"} %g
skiff_output_proc_records_total{output="cloudwatch"} %g
skiff_output_proc_bytes_total{output="cloudwatch"} %g
skiff_cloudwatch_requests_total{operation="PutLogEvents",status="ok"} %g
skiff_cloudwatch_requests_total{operation="PutLogEvents",status="ThrottlingException"} %g
skiff_cloudwatch_throttles_total %g
skiff_cloudwatch_rejected_events_total{reason="too_old"} 1
skiff_cloudwatch_rejected_events_total{reason="expired"} 0
skiff_output_retries_total{output="cloudwatch",reason="throttle"} %g
skiff_output_retries_total{output="cloudwatch",reason="server"} 0
skiff_output_dropped_records_total{output="cloudwatch",reason="too_old"} 1
skiff_output_errors_total{output="cloudwatch",reason="throttle"} %g
skiff_input_skipped_bytes_total{reason="max_open_files"} 0
skiff_input_skipped_bytes_total{reason="truncated"} 4096
skiff_input_skipped_bytes_total{reason="deleted_while_stopped"} 1.5e+06
skiff_buffer_bytes{output="cloudwatch"} 1.048576e+06
skiff_buffer_limit_bytes{output="cloudwatch"} 6.7108864e+07
skiff_input_lag_bytes 8000
skiff_input_unacked_bytes 2048
skiff_input_spool_bytes 0
skiff_input_files_watched 5
skiff_enrich_watch_up{resource="pods"} 1
skiff_enrich_watch_up{resource="namespaces"} 0
skiff_enrich_pods 42
skiff_enrich_lookups_total{result="hit"} %g
skiff_enrich_lookups_total{result="miss"} 10
skiff_enrich_lookups_total{result="waited"} 8
skiff_enrich_lookups_total{result="fallback"} 2
# TYPE skiff_cloudwatch_request_duration_seconds histogram
skiff_cloudwatch_request_duration_seconds_bucket{operation="PutLogEvents",le="0.1"} 10
skiff_cloudwatch_request_duration_seconds_bucket{operation="PutLogEvents",le="+Inf"} 12
skiff_cloudwatch_request_duration_seconds_sum{operation="PutLogEvents"} 0.6
skiff_cloudwatch_request_duration_seconds_count{operation="PutLogEvents"} 12
`, start, at(10000, 3000), at(100, 100), at(2e6, 600000), at(9000, 2900), at(3e6, 900000),
		at(10, 5), at(2, 0.5), at(2, 0.5), at(2, 0.5), at(2, 0.5), at(9990, 3000))
}

// t0 is when the first sample is taken, on the viewer's clock and the
// agent's.
var t0 = time.Date(2026, 11, 26, 14, 2, 3, 0, time.UTC)

// topStatus is the /status of the fixture's node, at t0 + seconds: web-1
// writes 1,000 B/s and rotates at 2s; web-2 reads 2,000 B/s, 4,000 behind;
// coredns's file is truncated; a plain file appears.
func topStatus(seconds float64) *agentStatus {
	now := t0.Add(time.Duration(seconds * float64(time.Second)))
	opened := t0.Add(-time.Minute)
	n := int64(seconds)
	st := &agentStatus{Version: "v1.2.3", Time: now, Files: []fileStatus{
		{Path: "/var/log/containers/web-1_shop_app-1.log", Target: "/var/log/pods/shop_web-1_u1/app/0.log",
			Namespace: "shop", Pod: "web-1", Container: "app", Offset: 1000 + 1000*n, Size: 1000 + 1000*n, Opened: opened},
		{Path: "/var/log/containers/web-2_shop_app-2.log", Target: "/var/log/pods/shop_web-2_u2/app/0.log",
			Namespace: "shop", Pod: "web-2", Container: "app", Offset: 5000 + 2000*n, Size: 9000 + 2000*n, Opened: opened},
		{Path: "/var/log/containers/coredns-7_kube-system_coredns-3.log", Target: "/var/log/pods/kube-system_coredns-7_u3/coredns/0.log",
			Namespace: "kube-system", Pod: "coredns-7", Container: "coredns", Offset: 300, Size: 300, Opened: opened},
	}}
	if seconds > 0 {
		// web-1 rotated a moment after t0: the old file is read to its
		// end, the new one from 0.
		st.Files[0].Detached, st.Files[0].Offset, st.Files[0].Size = true, 1500, 1500
		st.Files = append(st.Files,
			fileStatus{Path: "/var/log/containers/web-1_shop_app-1.log", Target: "/var/log/pods/shop_web-1_u1/app/0.log",
				Namespace: "shop", Pod: "web-1", Container: "app", Offset: 1500, Size: 1500, Opened: t0.Add(time.Second / 2)},
			fileStatus{Path: "/var/log/messages", Offset: 700, Size: 700, Opened: t0.Add(-time.Hour)})
		st.Files[2].Offset, st.Files[2].Size = 100, 100 // truncated
	}
	for i := range st.Files {
		st.Files[i].Lag = st.Files[i].Size - st.Files[i].Offset
	}
	return st
}

func topSampleAt(t *testing.T, seconds float64) *topSample {
	t.Helper()
	m, err := parseMetrics(strings.NewReader(topMetrics(seconds)))
	if err != nil {
		t.Fatal(err)
	}
	return &topSample{at: t0.Add(time.Duration(seconds * float64(time.Second))), m: m, status: topStatus(seconds)}
}

func TestTopParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(topMetrics(0)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		match []string
		want  float64
	}{
		{"skiff_input_records_total", nil, 10000},
		{"skiff_cloudwatch_requests_total", nil, 12},
		{"skiff_cloudwatch_requests_total", []string{"status", "ok"}, 10},
		{"skiff_cloudwatch_requests_total", []string{"status", "!ok"}, 2},
		{"skiff_input_skipped_bytes_total", nil, 1504096},
		{"skiff_buffer_limit_bytes", []string{"output", "cloudwatch"}, 64 << 20},
		{"skiff_cloudwatch_request_duration_seconds", nil, 0}, // histograms are left out
		{"skiff_no_such_metric", nil, 0},
	} {
		if got := m.sum(tc.name, tc.match...); got != tc.want {
			t.Errorf("sum(%s, %q) = %v; want %v", tc.name, tc.match, got, tc.want)
		}
	}
	if got := m.label("skiff_build_info", "version"); got != "v1.2.3" {
		t.Errorf(`label(skiff_build_info, version) = %q; want "v1.2.3"`, got)
	}
	if got := m.by("skiff_enrich_watch_up", "resource"); len(got) != 2 || got["pods"] != 1 || got["namespaces"] != 0 {
		t.Errorf("by(skiff_enrich_watch_up, resource) = %v", got)
	}
	for _, bad := range []string{"skiff_x{a=\"b\" 1\n", "# TYPE skiff_x counter\n# TYPE skiff_x gauge\n", "skiff_x one\n"} {
		if _, err := parseMetrics(strings.NewReader(bad)); err == nil {
			t.Errorf("parseMetrics(%q) = nil error; want one", bad)
		}
	}
}

func TestTopRates(t *testing.T) {
	first := buildModel("a:1", nil, topSampleAt(t, 0), 8)
	if first.interval != 0 || first.recordsIn.rate != 0 || first.recordsIn.total != 10100 || first.recordsOut.total != 9000 {
		t.Errorf("first frame: interval %v, records in %+v, out %+v; want totals 10100 and 9000, no rates", first.interval, first.recordsIn, first.recordsOut)
	}
	if first.uptime != 83*time.Second || first.version != "v1.2.3" {
		t.Errorf("first frame: uptime %v, version %q; want 1m23s, v1.2.3", first.uptime, first.version)
	}

	v := buildModel("a:1", topSampleAt(t, 0), topSampleAt(t, 2), 8)
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"records in /s (files and journal)", v.recordsIn.rate, 3100},
		{"records out /s", v.recordsOut.rate, 2900},
		{"bytes in /s", v.bytesIn.rate, 600000},
		{"requests /s", v.requests.rate, 5.5},
		{"throttles /s", v.throttles.rate, 0.5},
		{"records out total", v.recordsOut.total, 9000 + 2*2900},
		{"bytes per record", v.bytesPerRecord, 200},
		{"buffer limit", v.bufferLimit, 64 << 20},
		{"metadata hits /s", v.meta.hit.rate, 3000},
		{"skipped bytes", v.skipped.total, 1504096},
	} {
		if math.Abs(tc.got-tc.want) > 1e-9 {
			t.Errorf("%s = %v; want %v", tc.name, tc.got, tc.want)
		}
	}
	if v.interval != 2*time.Second || v.uptime != 85*time.Second {
		t.Errorf("interval %v, uptime %v; want 2s, 1m25s", v.interval, v.uptime)
	}
	if v.meta.watches != 2 || v.meta.watchesUp != 1 || v.meta.pods != 42 {
		t.Errorf("metadata = %+v; want 1 of 2 watches up, 42 pods", v.meta)
	}

	// Per file: the offsets' moves over 2s. web-1's old file moved 500,
	// its new one read 1,500 from 0 (opened after the first sample); the
	// truncated file counts from 0; the plain file, open before the first
	// sample but not in it, has no known rate.
	rates := map[string]float64{}
	known := map[string]bool{}
	for _, f := range v.files {
		key := f.name + " " + f.base
		if f.detached {
			key += " old"
		}
		rates[key], known[key] = f.rate, f.rateKnown
	}
	for key, want := range map[string]float64{
		"shop/web-1/app 0.log old": 250, "shop/web-1/app 0.log": 750, "shop/web-2/app 0.log": 2000,
		"kube-system/coredns-7/coredns 0.log": 50, "/var/log/messages ": 0,
	} {
		if got := rates[key]; got != want || known[key] != (key != "/var/log/messages ") {
			t.Errorf("file %s: %v B/s (known %v); want %v", key, got, known[key], want)
		}
	}
	if v.files[0].name != "shop/web-2/app" || v.fileCount != 5 {
		t.Errorf("files by lag start with %q of %d; want shop/web-2/app of 5", v.files[0].name, v.fileCount)
	}
	groups := func(rows []groupRow) string {
		var b strings.Builder
		for _, g := range rows {
			fmt.Fprintf(&b, "%s:%d:%.0f:%.0f ", g.name, g.files, g.rate, g.lag)
		}
		return b.String()
	}
	if got, want := groups(v.pods), "shop/web-2:1:2000:4000 shop/web-1:2:1000:0 kube-system/coredns-7:1:50:0 (no pod):1:0:0 "; got != want {
		t.Errorf("pods (name:files:B/s:lag) = %s; want %s", got, want)
	}
	if got, want := groups(v.spaces), "shop:3:3000:4000 kube-system:1:50:0 (no pod):1:0:0 "; got != want {
		t.Errorf("namespaces = %s; want %s", got, want)
	}
	if short := buildModel("a:1", topSampleAt(t, 0), topSampleAt(t, 2), 2); len(short.files) != 2 || len(short.pods) != 2 || short.fileCount != 5 {
		t.Errorf("top 2: %d files of %d, %d pods", len(short.files), short.fileCount, len(short.pods))
	}

	// An agent restarted between the samples: totals, as on a first frame.
	if r := buildModel("a:1", topSampleAt(t, 2), topSampleAt(t, -1), 8); r.interval != 0 || r.recordsIn.total != 3100 {
		t.Errorf("after a restart: interval %v, records in %+v; want totals only", r.interval, r.recordsIn)
	}
}

const topPlainFirst = `14:02:03  in 10,100 rec  out 9,000 rec (totals)  buffer 1.6% of 64.0 MiB  lag 7.8 KiB  throttles 2  errors 2`
const topPlainRates = `14:02:05  in 3,100 rec/s  out 2,900 rec/s  buffer 1.6% of 64.0 MiB  lag 7.8 KiB  throttles 3  errors 3`

func TestTopPlainLine(t *testing.T) {
	if got := buildModel("a:1", nil, topSampleAt(t, 0), 8).plainLine(); got != topPlainFirst {
		t.Errorf("first plain line:\n%s\nwant\n%s", got, topPlainFirst)
	}
	if got := buildModel("a:1", topSampleAt(t, 0), topSampleAt(t, 2), 8).plainLine(); got != topPlainRates {
		t.Errorf("plain line:\n%s\nwant\n%s", got, topPlainRates)
	}
}

const topScreenRates = `skiff top  127.0.0.1:2021  version v1.2.3  up 1m25s  14:02:05  rates over 2s

                     RATE       TOTAL                       RATE       TOTAL
 records in       3,100/s      16,300   records out      2,900/s      14,800
 bytes in     585.9 KiB/s     3.1 MiB   bytes out    878.9 KiB/s     4.6 MiB
 CW requests        5.5/s          23   throttles          0.5/s           3
 retries            0.5/s           3   rejected             0/s           1
 dropped              0/s           1   errors             0.5/s           3

 buffer       1.0 MiB of 64.0 MiB  1.6% [█·····························]
 lag          7.8 KiB unread in 5 files   unacked 2.0 KiB   spool 0 B
 skipped      deleted_while_stopped 1.4 MiB, truncated 4.0 KiB
 metadata     watch 1 of 2 up, 42 pods cached, hit 15,990 miss 10 fallback 2

 READ/s: bytes read per second, from /status; ≈REC/s: READ/s ÷ mean record 200 B
 NAMESPACE                            FILES       READ/s   ≈REC/s        LAG
 shop                                     3    2.9 KiB/s     15.0    3.9 KiB
 kube-system                              1       50 B/s      0.2        0 B
 (no pod)                                 1        0 B/s        0        0 B

 POD                                  FILES       READ/s   ≈REC/s        LAG
 shop/web-2                               1    2.0 KiB/s     10.0    3.9 KiB
 shop/web-1                               2     1000 B/s      5.0        0 B
 kube-system/coredns-7                    1       50 B/s      0.2        0 B
 (no pod)                                 1        0 B/s        0        0 B

 FILE (5 of 5, by lag)                           LAG       READ/s     OFFSET
 shop/web-2/app 0.log                        3.9 KiB    2.0 KiB/s    8.8 KiB
 shop/web-1/app 0.log                            0 B      750 B/s    1.5 KiB
 shop/web-1/app 0.log (rotated)                  0 B      250 B/s    1.5 KiB
 kube-system/coredns-7/coredns 0.log             0 B       50 B/s      100 B
 /var/log/messages                               0 B            -      700 B`

const topScreenFirst = `skiff top  127.0.0.1:2021  version v1.2.3  up 1m25s  14:02:05  totals only

                     RATE       TOTAL                       RATE       TOTAL
 records in             -      16,300   records out            -      14,800
 bytes in               -     3.1 MiB   bytes out              -     4.6 MiB
 CW requests            -          23   throttles              -           3
 retries                -           3   rejected               -           1
 dropped                -           1   errors                 -           3

 buffer       1.0 MiB of 64.0 MiB  1.6% [█·····························]
 lag          7.8 KiB unread in 5 files   unacked 2.0 KiB   spool 0 B
 skipped      deleted_while_stopped 1.4 MiB, truncated 4.0 KiB
 metadata     watch 1 of 2 up, 42 pods cached, hit 15,990 miss 10 fallback 2

 READ/s: bytes read per second, from /status; ≈REC/s: READ/s ÷ mean record 200 B
 NAMESPACE                            FILES       READ/s   ≈REC/s        LAG
 shop                                     3            -        -    3.9 KiB
 (no pod)                                 1            -        -        0 B
 kube-system                              1            -        -        0 B

 POD                                  FILES       READ/s   ≈REC/s        LAG
 shop/web-2                               1            -        -    3.9 KiB
 (no pod)                                 1            -        -        0 B
 kube-system/coredns-7                    1            -        -        0 B
 shop/web-1                               2            -        -        0 B

 FILE (5 of 5, by lag)                           LAG       READ/s     OFFSET
 shop/web-2/app 0.log                        3.9 KiB            -    8.8 KiB
 /var/log/messages                               0 B            -      700 B
 kube-system/coredns-7/coredns 0.log             0 B            -      100 B
 shop/web-1/app 0.log (rotated)                  0 B            -    1.5 KiB
 shop/web-1/app 0.log                            0 B            -    1.5 KiB`

func TestTopScreen(t *testing.T) {
	for _, tc := range []struct {
		name       string
		prev       *topSample
		rows, cols int
		want       string
	}{
		{"first", nil, 0, 0, topScreenFirst},
		{"rates", topSampleAt(t, 0), 0, 0, topScreenRates},
	} {
		got := strings.Join(buildModel("127.0.0.1:2021", tc.prev, topSampleAt(t, 2), 8).screen(tc.rows, tc.cols), "\n")
		if got != tc.want {
			t.Errorf("%s frame:\n%s\nwant\n%s", tc.name, got, tc.want)
		}
	}

	// A 60x24 terminal: the tables are cut to leave the last row free,
	// and the lines to the width.
	lines := buildModel("127.0.0.1:2021", topSampleAt(t, 0), topSampleAt(t, 2), 8).screen(24, 60)
	if len(lines) != 23 {
		t.Errorf("screen(24, 60) has %d lines; want 23", len(lines))
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 60 {
			t.Errorf("screen(24, 60) line of %d runes: %q", n, l)
		}
	}
	if got := strings.Join(lines, "\n"); !strings.Contains(got, " shop/web-2  ") || !strings.Contains(got, "FILE (1 of 5, by lag)") {
		t.Errorf("screen(24, 60) lacks the first pod or the file table:\n%s", got)
	}
}

// fakeAgent serves the fixture's /metrics and /status, the status at
// seconds since it started; down makes it answer 503, noStatus 404 for
// /status (an agent from before it).
type fakeAgent struct {
	*httptest.Server
	start          time.Time
	down, noStatus atomic.Bool
}

func newFakeAgent(t *testing.T) *fakeAgent {
	a := &fakeAgent{start: time.Now()}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secs := float64(int(time.Since(a.start).Seconds()*10)) / 10
		switch {
		case a.down.Load():
			http.Error(w, "starting", http.StatusServiceUnavailable)
		case r.URL.Path == "/metrics":
			fmt.Fprint(w, topMetrics(secs))
		case r.URL.Path == statusPath && !a.noStatus.Load():
			_ = json.NewEncoder(w).Encode(topStatus(secs))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *fakeAgent) addr() string { return strings.TrimPrefix(a.URL, "http://") }

func TestTopOnceFake(t *testing.T) {
	a := newFakeAgent(t)
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"top", "--once", "--addr", a.addr()}, nil, &stdout, &stderr); code != exitOK {
		t.Fatalf("skiff top --once = %d\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"skiff top  " + a.addr() + "  version v1.2.3", "  totals only\n",
		"records out            -       9,000", "buffer       1.0 MiB of 64.0 MiB  1.6%", " shop/web-2 ", "FILE (3 of 3, by lag)"} {
		if !strings.Contains(out, want) {
			t.Errorf("skiff top --once lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("skiff top --once wrote escape codes:\n%q", out)
	}

	a.noStatus.Store(true)
	stdout.Reset()
	if code := run(context.Background(), []string{"top", "--once", "--addr", a.addr()}, nil, &stdout, &stderr); code != exitOK ||
		!strings.Contains(stdout.String(), "per-file and per-pod rows need /status, which this agent does not serve") {
		t.Errorf("skiff top --once without /status = %d:\n%s", code, stdout.String())
	}
}

func TestTopHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"top", "--help"}, nil, &stdout, &stderr); code != exitOK {
		t.Errorf("skiff top --help = %d; want 0", code)
	}
	for _, want := range []string{"usage: skiff top", "\nExamples:\n  skiff top", "\nFlags:\n", "-once"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("skiff top --help lacks %q:\n%s", want, stderr.String())
		}
	}
	stdout.Reset()
	_ = run(context.Background(), []string{"help"}, nil, &stdout, &stderr)
	if !strings.Contains(stdout.String(), "\n  skiff top [--addr 127.0.0.1:2021] ") {
		t.Errorf("skiff help lacks top:\n%s", stdout.String())
	}
}

func TestTopUnreachable(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"top", "--once", "--addr", addr}, nil, &stdout, &stderr)
	msg := stderr.String()
	if code != exitFailed || stdout.Len() != 0 || !strings.Contains(msg, "cannot read the agent at "+addr+": ") ||
		!strings.Contains(msg, "connection refused") || !strings.Contains(msg, "kubectl -n skiff port-forward") {
		t.Errorf("skiff top --once on a closed port = %d, %q\n%s", code, stdout.String(), msg)
	}

	// Something else than skiff on the port.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "other_metric 1") }))
	defer srv.Close()
	stderr.Reset()
	code = run(context.Background(), []string{"top", "--once", "--addr", srv.URL}, nil, &stdout, &stderr)
	if code != exitFailed || !strings.Contains(stderr.String(), errNotSkiff.Error()) {
		t.Errorf("skiff top --once on another server = %d\n%s", code, stderr.String())
	}

	for _, args := range [][]string{{"top", "extra"}, {"top", "--interval", "1ms"}, {"top", "--top", "0"}} {
		stderr.Reset()
		if code := run(context.Background(), args, nil, &stdout, &stderr); code != exitUsage {
			t.Errorf("skiff %q = %d; want %d\n%s", args, code, exitUsage, stderr.String())
		}
	}
}

// lineWriter hands each line written to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.lines <- string(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

// TestTopLivePlain: without a terminal, one line per interval; an agent
// that does not answer is said so (how to reach it, once) and tried again
// at each interval; the first line after it answers has totals, the next
// ones rates.
func TestTopLivePlain(t *testing.T) {
	a := newFakeAgent(t)
	a.down.Store(true)
	w := &lineWriter{lines: make(chan string, 100)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"top", "--addr", a.addr(), "--interval", "100ms"}, nil, w, w) }()
	defer func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("skiff top = %d after Ctrl-C; want 0", code)
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case l := <-w.lines:
			return l
		case <-time.After(10 * time.Second):
			t.Fatal("skiff top wrote no line for 10s")
			return ""
		}
	}
	var hint []string
	for l := next(); !strings.HasPrefix(l, "    skiff top --addr "); l = next() {
		hint = append(hint, l)
	}
	if len(hint) != 5 || !strings.Contains(hint[0], "cannot read the agent at "+a.addr()+": GET /metrics: 503 Service Unavailable") {
		t.Errorf("first failure said:\n%s", strings.Join(hint, "\n"))
	}
	if l := next(); !regexp.MustCompile(`^\d\d:\d\d:\d\d  cannot read the agent at ` + regexp.QuoteMeta(a.addr()) + `: GET /metrics: 503`).MatchString(l) {
		t.Errorf("second failure: %q; want one line", l)
	}
	a.down.Store(false)
	l := next()
	for strings.Contains(l, "cannot read") {
		l = next()
	}
	if !strings.Contains(l, " rec (totals)  buffer 1.6% of 64.0 MiB") {
		t.Errorf("first frame: %q; want totals", l)
	}
	if l := next(); !regexp.MustCompile(`^\d\d:\d\d:\d\d  in [\d,.]+ rec/s  out [\d,.]+ rec/s  buffer 1.6% of 64.0 MiB  lag 7.8 KiB  throttles \d+  errors \d+$`).MatchString(l) {
		t.Errorf("second frame: %q; want rates", l)
	}
}

func TestStatusEndpoint(t *testing.T) {
	srv, err := listen("127.0.0.1:0", newRegistry(readBuildInfo()), &health{}, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}()
	url := "http://" + srv.Addr() + statusPath
	code, body := get(t, url)
	if code != http.StatusOK || !strings.Contains(body, `"files":[]`) || !strings.Contains(body, `"version":"`+readBuildInfo().Version+`"`) {
		t.Errorf("%s without a tailer = %d %s", statusPath, code, body)
	}

	opened := time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)
	srv.status.setFiles(func() []tailer.FileStatus {
		return []tailer.FileStatus{
			{Path: "/var/log/containers/web-1_shop_app-1.log", Target: "/var/log/pods/shop_web-1_u1/app/0.log", Input: "application",
				Namespace: "shop", Pod: "web-1", Container: "app", Offset: 100, Size: 150, Unacked: 20, Opened: opened},
			{Path: "/var/log/messages", Target: "/var/log/messages", Offset: 7, Size: 7, Opened: opened, Detached: true},
		}
	})
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var st struct {
		Version string            `json:"version"`
		Time    time.Time         `json:"time"`
		Files   []json.RawMessage `json:"files"`
	}
	if err := json.Unmarshal(raw, &st); err != nil || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%s = %s (%s): %v", statusPath, raw, resp.Header.Get("Content-Type"), err)
	}
	if time.Since(st.Time) > time.Minute || len(st.Files) != 2 {
		t.Fatalf("%s = %s", statusPath, raw)
	}
	for i, want := range []string{
		`{"path":"/var/log/containers/web-1_shop_app-1.log","target":"/var/log/pods/shop_web-1_u1/app/0.log","input":"application","namespace":"shop","pod":"web-1","container":"app","offset":100,"size":150,"lag":50,"unacked":20,"opened":"2026-11-26T14:00:00Z"}`,
		`{"path":"/var/log/messages","offset":7,"size":7,"lag":0,"unacked":0,"opened":"2026-11-26T14:00:00Z","detached":true}`,
	} {
		if got := string(st.Files[i]); got != want {
			t.Errorf("%s file %d:\n%s\nwant\n%s", statusPath, i, got, want)
		}
	}
}

// FuzzTopModel: whatever an agent's /metrics holds, the view is drawn.
func FuzzTopModel(f *testing.F) {
	f.Add(topMetrics(0))
	f.Add("skiff_build_info{version=\"x\"} 1\nprocess_start_time_seconds -1e300\nskiff_buffer_limit_bytes NaN\n")
	f.Add("skiff_output_proc_records_total +Inf\nskiff_input_records_total 1e308\nskiff_input_bytes_total -5\n")
	f.Fuzz(func(t *testing.T, text string) {
		m, err := parseMetrics(strings.NewReader(text))
		if err != nil {
			return
		}
		s := &topSample{at: t0, m: m, status: topStatus(0)}
		later := &topSample{at: t0.Add(time.Second), m: m, status: topStatus(1)}
		for _, v := range []topModel{buildModel("a", nil, s, 3), buildModel("a", s, later, 3)} {
			_ = v.plainLine()
			_ = v.screen(0, 0)
			_ = v.screen(5, 10)
		}
	})
}
