package cloudwatch

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
	"github.com/skiff-agent/skiff/tailer"
)

// writeStreams writes per records to each of streams pods from writers
// goroutines and returns the messages per stream.
func writeStreams(t *testing.T, s *Sink, a tailer.Acker, streams, per, writers, size int) map[string][]string {
	t.Helper()
	want := make(map[string][]string)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range per / writers {
				recs := make([]tailer.Record, 0, streams)
				for p := range streams {
					msg := pad(fmt.Sprintf("w%d-i%d-p%d ", w, i, p), size)
					recs = append(recs, rec(msg, time.Now(), fileFor(p), a))
					mu.Lock()
					key := fmt.Sprintf("web-%d_shop_app", p)
					want[key] = append(want[key], msg)
					mu.Unlock()
				}
				if err := s.Write(context.Background(), recs); err != nil {
					t.Errorf("Write: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	return want
}

// checkStreams checks that every message arrived exactly once.
func checkStreams(t *testing.T, srv *cwlocal.Server, group string, want map[string][]string) {
	t.Helper()
	for stream, msgs := range want {
		got := make(map[string]int)
		for _, m := range messages(srv, group, stream) {
			got[m]++
		}
		missing, dup := 0, 0
		for _, m := range msgs {
			switch got[m] {
			case 0:
				missing++
			case 1:
			default:
				dup++
			}
		}
		if missing > 0 || dup > 0 || len(got) != len(msgs) {
			t.Errorf("stream %s: %d of %d missing, %d duplicated, %d distinct stored", stream, missing, len(msgs), dup, len(got))
		}
	}
}

// TestThrottlingAndErrorsLoseNothing runs against the real quotas plus
// injected throttling and 50% HTTP 500s on every operation: every record
// arrives exactly once and is acknowledged once.
func TestThrottlingAndErrorsLoseNothing(t *testing.T) {
	srv, sreg := startServer(t, cwlocal.Options{Throttle: true})
	srv.SetFaults(cwlocal.Faults{Throttle: true, ErrorRate: 0.5, ThrottleRate: 0.1})
	s, reg := newTestSink(t, srv, Config{Cluster: "c", AutoCreateGroup: true, FlushInterval: 20 * time.Millisecond, Format: "raw"})
	runSink(t, s)
	var a acker
	want := writeStreams(t, s, &a, 20, 100, 4, 200)
	flushSink(t, s)
	if got := a.n.Load(); got != 20*100 {
		t.Errorf("acknowledged %d; want %d", got, 20*100)
	}
	checkStreams(t, srv, "/aws/containerinsights/c/application", want)
	if r := counter(t, reg, "skiff_output_retries_total", nil); r == 0 {
		t.Error("no retries counted under 50% errors")
	}
	if th := counter(t, reg, "skiff_cloudwatch_throttles_total", nil); th == 0 {
		t.Error("no throttles counted")
	}
	if inj := counter(t, sreg, "skiff_cwlocal_faults_injected_total", nil); inj == 0 {
		t.Error("cwlocal injected no faults")
	}
}

// TestOutageBlocksWithinBudget is the outage scenario, scaled down: every
// request fails while writers push four times the budget. Writers block,
// the budget is never exceeded, nothing is acknowledged, the concurrency
// limit falls; after recovery everything arrives once.
func TestOutageBlocksWithinBudget(t *testing.T) {
	const budget = 1 << 20
	srv, _ := startServer(t, cwlocal.Options{Faults: cwlocal.Faults{Outage: true}})
	s, reg := newTestSink(t, srv, Config{Cluster: "c", AutoCreateGroup: true, BufferBytes: budget,
		FlushInterval: 10 * time.Millisecond, Format: "raw"})
	runSink(t, s)
	var a acker
	done := make(chan map[string][]string)
	go func() { done <- writeStreams(t, s, &a, 8, 256, 4, 1000) }() // 2 MiB
	deadline := time.Now().Add(30 * time.Second)
	for s.Budget().Waiting() == 0 || counter(t, reg, "skiff_output_retries_total", nil) < 30 {
		if used := s.Budget().Used(); used > budget {
			t.Fatalf("budget holds %d bytes; limit %d", used, budget)
		}
		if time.Now().After(deadline) {
			t.Fatalf("writers never blocked (waiting %d, used %d)", s.Budget().Waiting(), s.Budget().Used())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := a.n.Load(); n != 0 {
		t.Errorf("%d records acknowledged during the outage", n)
	}
	if l := s.snd.lim.current(); l > 2 {
		t.Errorf("concurrency limit %d during an outage; want it driven down to 1 or 2", l)
	}
	select {
	case <-done:
		t.Fatal("writers finished during the outage")
	default:
	}
	srv.SetFaults(cwlocal.Faults{})
	want := <-done
	flushSink(t, s)
	if n := a.n.Load(); n != 8*256 {
		t.Errorf("acknowledged %d; want %d", n, 8*256)
	}
	checkStreams(t, srv, "/aws/containerinsights/c/application", want)
}

func TestRejectedEventsCountedByReason(t *testing.T) {
	var logs bytes.Buffer
	srv, _ := startServer(t, cwlocal.Options{})
	s, reg := newTestSink(t, srv, Config{LogGroup: "/rej", LogStream: "s", Format: "raw", AutoCreateGroup: true, RetentionDays: 1,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	runSink(t, s)
	var a acker
	now := time.Now()
	write(t, s,
		rec("old1", now.Add(-15*24*time.Hour), testFile, &a),
		rec("old2", now.Add(-15*24*time.Hour), testFile, &a),
		rec("expired", now.Add(-3*24*time.Hour), testFile, &a),
		rec("ok1", now, testFile, &a), rec("ok2", now, testFile, &a),
		rec("new1", now.Add(3*time.Hour), testFile, &a),
		rec("new2", now.Add(3*time.Hour), testFile, &a),
	)
	flushSink(t, s)
	for reason, want := range map[string]float64{"too_old": 2, "expired": 1, "too_new": 2} {
		if got := counter(t, reg, "skiff_cloudwatch_rejected_events_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("rejected %s = %v; want %v", reason, got, want)
		}
		if got := counter(t, reg, "skiff_output_dropped_records_total", map[string]string{"reason": reason}); got != want {
			t.Errorf("dropped %s = %v; want %v", reason, got, want)
		}
	}
	if got := messages(srv, "/rej", "s"); strings.Join(got, ",") != "ok1,ok2" {
		t.Errorf("stored %v; want ok1, ok2", got)
	}
	if a.n.Load() != 7 {
		t.Errorf("acknowledged %d; want 7", a.n.Load())
	}
	if n := strings.Count(logs.String(), "rejected events"); n != 1 {
		t.Errorf("%d rejection log lines for one stream within a minute; want 1:\n%s", n, logs.String())
	}
}

// poisonAPI empties the message "POISON" on its way out, which CloudWatch
// refuses with InvalidParameterException for the whole request.
type poisonAPI struct{ api }

func (p poisonAPI) PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, opt ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error) {
	for i, e := range in.LogEvents {
		if *e.Message == "POISON" {
			in.LogEvents[i].Message = aws.String("")
		}
	}
	return p.api.PutLogEvents(ctx, in, opt...)
}

func TestPoisonEventIsolated(t *testing.T) {
	srv, _ := startServer(t, cwlocal.Options{})
	s, reg := newTestSink(t, srv, Config{LogGroup: "/poison", LogStream: "s", Format: "raw", AutoCreateGroup: true, FlushInterval: time.Hour},
		withSDKSerializer()) // poisonAPI edits the decoded input
	s.snd.api = poisonAPI{s.snd.api}
	runSink(t, s)
	var a acker
	now := time.Now()
	var recs []tailer.Record
	for i := range 9 {
		msg := fmt.Sprint("m", i)
		if i == 5 {
			msg = "POISON"
		}
		recs = append(recs, rec(msg, now, testFile, &a))
	}
	write(t, s, recs...)
	flushSink(t, s)
	if got := messages(srv, "/poison", "s"); len(got) != 8 || strings.Contains(strings.Join(got, ","), "POISON") {
		t.Errorf("stored %v; want the 8 good events", got)
	}
	if got := counter(t, reg, "skiff_output_dropped_records_total", map[string]string{"reason": "invalid"}); got != 1 {
		t.Errorf("dropped invalid = %v; want 1", got)
	}
	if a.n.Load() != 9 {
		t.Errorf("acknowledged %d; want 9", a.n.Load())
	}
}

// TestStreamsCreatedOnce: 100 new streams in a missing group, written by
// several writers at once with batches racing: one CreateLogGroup and
// exactly one CreateLogStream per stream.
func TestStreamsCreatedOnce(t *testing.T) {
	srv, sreg := startServer(t, cwlocal.Options{})
	s, reg := newTestSink(t, srv, Config{Cluster: "c", AutoCreateGroup: true, FlushInterval: 5 * time.Millisecond, Format: "raw",
		RetentionDays: 7, LogGroupClass: "STANDARD", Tags: map[string]string{"team": "logs"}})
	runSink(t, s)
	var a acker
	want := writeStreams(t, s, &a, 100, 12, 4, 50)
	flushSink(t, s)
	checkStreams(t, srv, "/aws/containerinsights/c/application", want)
	// Putting again after creating a stream is part of put-first, not a retry.
	if r := counter(t, reg, "skiff_output_retries_total", nil); r != 0 {
		t.Errorf("skiff_output_retries_total = %v after creating streams; want 0", r)
	}
	if n := counter(t, sreg, "skiff_cwlocal_requests_total", map[string]string{"operation": "CreateLogStream"}); n != 100 {
		t.Errorf("%v CreateLogStream requests for 100 streams; want 100", n)
	}
	if n := counter(t, sreg, "skiff_cwlocal_requests_total", map[string]string{"operation": "CreateLogGroup"}); n != 1 {
		t.Errorf("%v CreateLogGroup requests; want 1", n)
	}
	if n := counter(t, sreg, "skiff_cwlocal_requests_total", map[string]string{"operation": "PutRetentionPolicy"}); n != 1 {
		t.Errorf("%v PutRetentionPolicy requests; want 1", n)
	}
	if n := counter(t, sreg, "skiff_cwlocal_requests_total", map[string]string{"operation": "DescribeLogStreams"}); n != 0 {
		t.Errorf("%v DescribeLogStreams requests; want none", n)
	}
}

// switchCreds serves whatever key pair is current, never cached long.
// (The SDK's signer caches signing keys by access key id, so a fix brings a
// new key pair, as rotating credentials does.)
type switchCreds struct{ key atomic.Value }

func (c *switchCreds) Retrieve(context.Context) (aws.Credentials, error) {
	k := c.key.Load().([2]string)
	return aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1],
		CanExpire: true, Expires: time.Now().Add(-time.Second)}, nil
}

// TestBadCredentialsRetriedUntilFixed: a wrong secret is logged clearly and
// retried; once the credentials are fixed, everything is delivered.
func TestBadCredentialsRetriedUntilFixed(t *testing.T) {
	var logs syncBuffer
	srv, _ := startServer(t, cwlocal.Options{})
	creds := &switchCreds{}
	creds.key.Store([2]string{"AKIDREVOKED", "wrong"})
	s, reg := newTestSink(t, srv, Config{LogGroup: "/auth", LogStream: "s", Format: "raw", AutoCreateGroup: true,
		Credentials: creds, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	runSink(t, s)
	var a acker
	write(t, s, rec("one", time.Now(), testFile, &a), rec("two", time.Now(), testFile, &a))
	deadline := time.Now().Add(20 * time.Second)
	for counter(t, reg, "skiff_output_retries_total", nil) < 5 {
		if time.Now().After(deadline) {
			t.Fatal("no retries with bad credentials")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if a.n.Load() != 0 {
		t.Fatalf("acknowledged %d with bad credentials", a.n.Load())
	}
	if !strings.Contains(logs.String(), "credentials or permissions") {
		t.Errorf("no clear log line about credentials:\n%s", logs.String())
	}
	creds.key.Store([2]string{testAccessKey, testSecretKey})
	defer func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	}()
	flushSink(t, s)
	if got := messages(srv, "/auth", "s"); len(got) != 2 || a.n.Load() != 2 {
		t.Errorf("after fixing credentials: stored %v, acknowledged %d", got, a.n.Load())
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMaxRetryDurationDrops: with max_retry_duration set, a batch that
// cannot be delivered is dropped after it, counted and acknowledged.
func TestMaxRetryDurationDrops(t *testing.T) {
	srv, _ := startServer(t, cwlocal.Options{})
	s, reg := newTestSink(t, srv, Config{LogGroup: "/mrd", LogStream: "s", Format: "raw", AutoCreateGroup: true,
		MaxRetryDuration: 100 * time.Millisecond})
	runSink(t, s)
	var a acker
	write(t, s, rec("first", time.Now(), testFile, &a))
	flushSink(t, s) // group and stream exist now
	srv.SetFaults(cwlocal.Faults{Outage: true})
	write(t, s, rec("lost", time.Now(), testFile, &a), rec("lost too", time.Now(), testFile, &a))
	flushSink(t, s)
	if got := counter(t, reg, "skiff_output_dropped_records_total", map[string]string{"reason": "retry_timeout"}); got != 2 {
		t.Errorf("dropped retry_timeout = %v; want 2", got)
	}
	if a.n.Load() != 3 {
		t.Errorf("acknowledged %d; want 3", a.n.Load())
	}
}
