package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
	"github.com/skiff-agent/skiff/tailer"
)

// TestPartialFailureKeepsUp: cwlocal throttles 30% of the requests and
// answers 503 to 20%, at random. Every event arrives once; the requests
// stay near what those odds need (1/(0.8·0.7) ≈ 1.8 per accepted batch;
// the bound is 2.5), and scattered errors leave the concurrency limit
// above half its start: they are noise, not an outage. The faults are
// seeded: unseeded, a losing streak over the 60-110 batches a run sends
// broke the bound now and then; with seed 1 the n-th success takes at
// most 2.25 attempts per batch for any n from 20 on, whatever the timing.
func TestPartialFailureKeepsUp(t *testing.T) {
	var puts putLog
	srv, sreg := startServer(t, cwlocal.Options{OnPut: puts.onPut})
	s, reg := newTestSink(t, srv, Config{Cluster: "c", AutoCreateGroup: true, FlushInterval: 20 * time.Millisecond, Format: "raw"})
	runSink(t, s)
	srv.SetFaults(cwlocal.Faults{ThrottleRate: 0.3, ErrorRate: 0.2, Operations: []string{"PutLogEvents"}, Seed: 1})
	start := s.snd.lim.current()
	var a acker
	want := make(map[string][]string)
	for i := range 200 { // ~10 flush intervals' worth: hundreds of batches
		for p := range 10 {
			msg := pad(fmt.Sprintf("i%d-p%d ", i, p), 200)
			write(t, s, rec(msg, time.Now(), fileFor(p), &a))
			want[fmt.Sprintf("web-%d_shop_app", p)] = append(want[fmt.Sprintf("web-%d_shop_app", p)], msg)
		}
		if i%2 == 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	flushSink(t, s)
	if got := a.n.Load(); got != 10*200 {
		t.Errorf("acknowledged %d; want %d", got, 10*200)
	}
	checkStreams(t, srv, "/aws/containerinsights/c/application", want)
	// The first put of each stream finds it missing: one more request each.
	attempts := counter(t, sreg, "skiff_cwlocal_requests_total", map[string]string{"operation": "PutLogEvents"}) - 10
	accepted := float64(len(puts.sizes()))
	if attempts > 2.5*accepted {
		t.Errorf("%v PutLogEvents requests for %v accepted batches; want at most 2.5 per batch", attempts, accepted)
	}
	if l := s.snd.lim.current(); l < start/2 {
		t.Errorf("concurrency limit %d after scattered errors; want at least half its start %d", l, start)
	}
	for _, reason := range []string{"throttle", "server"} {
		if n := counter(t, reg, "skiff_output_retries_total", map[string]string{"reason": reason}); n == 0 {
			t.Errorf("no retries counted with reason %s", reason)
		}
	}
	t.Logf("%v attempts for %v batches; limit %d (start %d)", attempts, accepted, s.snd.lim.current(), start)
}

// TestAccountQuota: with cwlocal's PutLogEvents quota at 20 requests per
// second (low, so that a loaded machine still offers far more) and far
// more demand, the sink's accepted requests stay near the quota once the
// pacer has set the rate, with few throttled requests per accepted one.
// At this low quota a pacer window holds only about 16 requests, and the
// rate it sets is still settling in the first seconds: measured over the
// 4 s from 2 s in, 75-82% of the quota was accepted on the 2-core
// development machine (71% once under heavy parallel load), over the 6 s
// from 2 s in 84-88%, also under load. The test measures those 6 s
// and wants 75%.
func TestAccountQuota(t *testing.T) {
	const quota = 20
	var puts putLog
	srv, sreg := startServer(t, cwlocal.Options{OnPut: puts.onPut,
		Faults: cwlocal.Faults{Throttle: true, Quotas: map[string]float64{"PutLogEvents": quota}}})
	s, reg := newTestSink(t, srv, Config{Cluster: "c", AutoCreateGroup: true, FlushInterval: 5 * time.Millisecond, Format: "raw"})
	runSink(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				recs := make([]tailer.Record, 0, 50)
				for p := range 50 {
					recs = append(recs, rec(fmt.Sprintf("w%d-%d-%d", w, i, p), time.Now(), fileFor(p), nil))
				}
				if err := s.Write(ctx, recs); err != nil {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	throttled := func() float64 {
		return counter(t, sreg, "skiff_cwlocal_faults_injected_total", map[string]string{"kind": "throttle"})
	}
	time.Sleep(2 * time.Second) // the pacer finds the rate
	p0, th0, t0 := len(puts.sizes()), throttled(), time.Now()
	time.Sleep(6 * time.Second)
	p1, th1, el := len(puts.sizes()), throttled(), time.Since(t0)
	limit := counter(t, reg, "skiff_cloudwatch_request_rate_limit", nil)
	cancel()
	wg.Wait()
	// cwlocal's bucket holds a second of the quota, so a measurement of
	// el may see up to one second's worth more than quota·el.
	rate := float64(p1-p0) / el.Seconds()
	if hi := quota * (1 + 1/el.Seconds()); rate < 0.75*quota || rate > hi {
		t.Errorf("accepted %.1f requests/s against a quota of %d/s; want at least 75%% of it (and at most %.0f)", rate, quota, hi)
	}
	if per := (th1 - th0) / float64(p1-p0); per > 0.5 {
		t.Errorf("%.2f throttled requests per accepted one once paced; want at most 0.5", per)
	}
	if limit == 0 || limit > 2*quota {
		t.Errorf("request rate limit %v; want near the quota %d", limit, quota)
	}
	t.Logf("accepted %.1f/s, %.2f throttled per accepted, rate limit %.1f", rate, (th1-th0)/float64(p1-p0), limit)
}

// TestDeniedGroupPausesOnlyItself: cwlocal denies one namespace's log
// group. The other namespace's records are all delivered while the denied
// destination holds at most its share of the budget, after which its
// Writes are refused with ErrPaused at once, taking nothing; the denial is
// counted and logged once. Once it is lifted, what was held and what is
// written again is delivered, each record once.
func TestDeniedGroupPausesOnlyItself(t *testing.T) {
	const budget = 1 << 20
	var logs syncBuffer
	srv, _ := startServer(t, cwlocal.Options{Faults: cwlocal.Faults{DenyGroups: []string{"/app/secret"}}})
	s, reg := newTestSink(t, srv, Config{LogGroup: "/app/{kubernetes.namespace_name}", LogStream: "{kubernetes.pod_name}",
		AutoCreateGroup: true, BufferBytes: budget, FlushInterval: 10 * time.Millisecond, Format: "raw",
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	runSink(t, s)
	okFile, badFile := fileFor(1), fileFor(2)
	badFile.Namespace = "secret"
	var okAcks, badAcks acker
	var okWant []string
	var refused [][]tailer.Record
	for i := range 400 { // 400 KiB to each, more than the denied share of 128 KiB
		msg := pad(fmt.Sprint("ok-", i), 1000)
		okWant = append(okWant, msg)
		write(t, s, rec(msg, time.Now(), okFile, &okAcks))
		bad := []tailer.Record{rec(pad(fmt.Sprint("bad-", i), 1000), time.Now(), badFile, &badAcks)}
		err := s.Write(context.Background(), bad)
		switch {
		case errors.Is(err, sinks.ErrPaused):
			refused = append(refused, bad)
		case err != nil:
			t.Fatalf("Write: %v", err)
		}
		if i%50 == 0 {
			time.Sleep(20 * time.Millisecond) // let the batches go
		}
	}
	waitUntil(t, "the allowed namespace delivered", func() bool { return okAcks.n.Load() == 400 })
	if got := messages(srv, "/app/shop", "web-1"); strings.Join(got, ",") != strings.Join(okWant, ",") {
		t.Errorf("allowed namespace: %d of %d records stored in order", len(got), len(okWant))
	}
	if len(refused) == 0 {
		t.Fatal("no Write to the denied destination was refused; its share is unbounded")
	}
	if held, n, _ := s.pausedHeld(); n != 1 || held > budget/pausedShareOne+2<<10 {
		t.Errorf("%d paused destinations hold %d bytes; want 1 holding at most its share %d", n, held, budget/pausedShareOne)
	}
	if badAcks.n.Load() != 0 {
		t.Errorf("%d records of the denied group acknowledged", badAcks.n.Load())
	}
	if n := counter(t, reg, "skiff_cloudwatch_destination_errors_total", map[string]string{"reason": "access_denied"}); n == 0 {
		t.Error("no destination error counted")
	}
	if n := strings.Count(logs.String(), "refuses records; pausing it"); n != 1 {
		t.Errorf("%d log lines about the denied destination; want 1:\n%s", n, logs.String())
	}
	srv.SetFaults(cwlocal.Faults{})
	for _, recs := range refused {
		for {
			err := s.Write(context.Background(), recs)
			if err == nil {
				break
			}
			if !errors.Is(err, sinks.ErrPaused) {
				t.Fatalf("Write: %v", err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	flushSink(t, s)
	if got := badAcks.n.Load(); got != 400 {
		t.Errorf("acknowledged %d of 400 denied-group records after the denial was lifted", got)
	}
	got := messages(srv, "/app/secret", "web-2")
	seen := map[string]int{}
	for _, m := range got {
		seen[m]++
	}
	if len(got) != 400 || len(seen) != 400 {
		t.Errorf("denied group: %d stored, %d distinct; want 400 once each", len(got), len(seen))
	}
	if n := counter(t, reg, "skiff_cloudwatch_paused_destinations", nil); n != 0 {
		t.Errorf("%v paused destinations after the denial was lifted", n)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSendersReused: batches sent one after another go to the sender
// goroutine that sent the previous one, not to a new goroutine each (whose
// stack would grow again through the SDK's middleware every time).
func TestSendersReused(t *testing.T) {
	srv, _ := startServer(t, cwlocal.Options{})
	s, _ := newTestSink(t, srv, Config{Cluster: "c", AutoCreateGroup: true, FlushInterval: time.Millisecond, Format: "raw"})
	runSink(t, s)
	var a acker
	send := func(i int) {
		write(t, s, rec(fmt.Sprintf("line %d", i), time.Now(), fileFor(i%5), &a))
		flushSink(t, s)
		if got := a.n.Load(); got != int64(i+1) {
			t.Fatalf("after batch %d: %d acknowledged; want %d", i, got, i+1)
		}
	}
	for i := range 10 { // streams created, connections open
		send(i)
	}
	before := s.sendersStarted.Load()
	const batches = 100
	for i := 10; i < 10+batches; i++ {
		send(i)
	}
	if n := s.sendersStarted.Load() - before; n > batches/10 {
		t.Errorf("%d sender goroutines started for %d batches sent one at a time; want the first reused", n, batches)
	}
}
