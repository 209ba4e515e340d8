package cloudwatch

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
	"github.com/skiff-agent/skiff/sinks/sinktest"
	"github.com/skiff-agent/skiff/tailer"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T, budget int64) *sinktest.Harness {
		srv, _ := startServer(t, cwlocal.Options{})
		s, _ := newTestSink(t, srv, Config{
			LogGroup: "/conformance", LogStream: "{kubernetes.namespace_name}", Format: "raw",
			BufferBytes: budget, AutoCreateGroup: true,
		})
		return &sinktest.Harness{Sink: s, Budget: s.Budget(), Delivered: func(*testing.T) []string {
			return messages(srv, "/conformance", "ns")
		}}
	})
}

// batchingSink is a sink whose group exists and whose batches the test sees.
func batchingSink(t *testing.T, cfg Config) (*Sink, *cwlocal.Server, *putLog) {
	t.Helper()
	var puts putLog
	srv, _ := startServer(t, cwlocal.Options{OnPut: puts.onPut})
	cfg.LogGroup, cfg.LogStream, cfg.Format, cfg.AutoCreateGroup = "/batching", "s", "raw", true
	cfg.FlushInterval = time.Hour // only the limits and Flush seal batches
	if cfg.BatchBytes == 0 {
		cfg.BatchBytes = MaxBatchBytes
	}
	s, _ := newTestSink(t, srv, cfg)
	runSink(t, s)
	return s, srv, &puts
}

func TestBatchEventCountEdge(t *testing.T) {
	for _, n := range []int{MaxBatchEvents, MaxBatchEvents + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s, srv, puts := batchingSink(t, Config{})
			var a acker
			now := time.Now()
			recs := make([]tailer.Record, n)
			for i := range recs {
				recs[i] = rec(fmt.Sprint(i), now, testFile, &a)
			}
			write(t, s, recs...)
			flushSink(t, s)
			want := []int{MaxBatchEvents}
			if n > MaxBatchEvents {
				want = append(want, n-MaxBatchEvents)
			}
			if got := sorted(puts.sizes()); !slices.Equal(got, sorted(want)) {
				t.Errorf("%d tiny events: batches %v; want %v", n, got, want)
			}
			if a.n.Load() != int64(n) || len(srv.Events("/batching", "s")) != n {
				t.Errorf("acked %d, stored %d; want %d", a.n.Load(), len(srv.Events("/batching", "s")), n)
			}
		})
	}
}

func TestBatchBytesEdge(t *testing.T) {
	// Four events of (MaxBatchBytes/4 - 26) bytes fill a batch exactly; one
	// more byte in the last one pushes it into a second batch.
	for _, extra := range []int{0, 1} {
		t.Run(fmt.Sprint(extra), func(t *testing.T) {
			s, _, puts := batchingSink(t, Config{})
			var a acker
			size := MaxBatchBytes/4 - EventOverhead
			now := time.Now()
			var recs []tailer.Record
			for i := range 4 {
				n := size
				if i == 3 {
					n += extra
				}
				recs = append(recs, rec(pad(fmt.Sprint(i), n), now, testFile, &a))
			}
			write(t, s, recs...)
			flushSink(t, s)
			want := []int{4}
			if extra > 0 {
				want = []int{3, 1}
			}
			if got := sorted(puts.sizes()); !slices.Equal(got, sorted(want)) {
				t.Errorf("batches %v; want %v", got, want)
			}
		})
	}
}

func TestLargestEventAndSplit(t *testing.T) {
	s, srv, puts := batchingSink(t, Config{})
	var whole, split acker
	now := time.Now()
	write(t, s, rec(pad("max", MaxEventBytes), now, testFile, &whole))
	big := pad("big", MaxEventBytes+1000)
	write(t, s, rec(big, now.Add(time.Millisecond), testFile, &split))
	flushSink(t, s)
	msgs := messages(srv, "/batching", "s")
	if len(msgs) != 3 || len(msgs[0]) != MaxEventBytes {
		t.Fatalf("stored %d events (first %d bytes); want the largest event whole, then two pieces", len(msgs), len(msgs[0]))
	}
	// The pieces share the record's time; their batches may land in either
	// order.
	if msgs[1]+msgs[2] != big && msgs[2]+msgs[1] != big {
		t.Errorf("the pieces of the oversized record do not join back into it")
	}
	if whole.n.Load() != 1 || split.n.Load() != 1 {
		t.Errorf("acks: whole %d, split %d; want 1 each (a split record is acked once)", whole.n.Load(), split.n.Load())
	}
	for _, n := range puts.sizes() {
		if n != 1 {
			t.Errorf("batches %v: a 1 MiB event must travel alone", puts.sizes())
		}
	}
}

func TestBatchSpanAndOrder(t *testing.T) {
	s, srv, puts := batchingSink(t, Config{})
	var a acker
	now := time.Now()
	// Out of order, with equal times whose arrival order must be kept.
	write(t, s,
		rec("c", now, testFile, &a),
		rec("a", now.Add(-time.Hour), testFile, &a),
		rec("d", now, testFile, &a),
		rec("b", now.Add(-30*time.Minute), testFile, &a),
	)
	flushSink(t, s)
	if got := messages(srv, "/batching", "s"); strings.Join(got, "") != "abcd" {
		t.Errorf("stored %v; want a b c d", got)
	}
	if got := puts.sizes(); !slices.Equal(got, []int{4}) {
		t.Errorf("batches %v; want one of 4", got)
	}
	// Just under 24 h apart: one batch; 24 h apart: two.
	for _, span := range []time.Duration{MaxBatchSpan - time.Millisecond, MaxBatchSpan} {
		before := len(puts.sizes())
		old := now.Add(-25 * time.Hour)
		write(t, s, rec("old", old, testFile, &a), rec("new", old.Add(span), testFile, &a))
		flushSink(t, s)
		got := puts.sizes()[before:]
		want := 1
		if span >= MaxBatchSpan {
			want = 2
		}
		if len(got) != want {
			t.Errorf("two events %v apart: %d batches; want %d", span, len(got), want)
		}
	}
	if a.n.Load() != 8 {
		t.Errorf("acked %d; want 8", a.n.Load())
	}
}

func TestEmptyMessageSkipped(t *testing.T) {
	s, srv, _ := batchingSink(t, Config{})
	var a acker
	write(t, s, rec("", time.Now(), testFile, &a), rec("x", time.Now(), testFile, &a))
	flushSink(t, s)
	if got := messages(srv, "/batching", "s"); !slices.Equal(got, []string{"x"}) {
		t.Errorf("stored %q; want only x", got)
	}
	if a.n.Load() != 2 {
		t.Errorf("acked %d; want 2 (the empty line is acked as dropped)", a.n.Load())
	}
}

func TestJSONFormatAndRouting(t *testing.T) {
	srv, _ := startServer(t, cwlocal.Options{})
	s, _ := newTestSink(t, srv, Config{Cluster: "prod", AutoCreateGroup: true, Labels: true})
	runSink(t, s)
	pod := &tailer.PodMeta{Name: "web-1", Namespace: "shop", UID: "uid-1", Host: "node-a", Labels: map[string]string{"app": "web"}}
	over := &tailer.PodMeta{Name: "job-1", Namespace: "batch", UID: "uid-2", Controls: tailer.Controls{
		LogGroup: "/custom/{kubernetes.namespace_name}", LogStream: "{kubernetes.labels.team|noteam}:{stream}"}}
	var a acker
	write(t, s, rec("hello", time.Now(), testFile, &a))
	r := rec("with pod", time.Now(), testFile, &a)
	r.Pod = pod
	r2 := rec("override", time.Now(), testFile, &a)
	r2.Pod = over
	write(t, s, r, r2)
	flushSink(t, s)
	evs := messages(srv, "/aws/containerinsights/prod/application", "web-1_shop_app")
	if len(evs) != 2 || !strings.Contains(evs[0], `"log":"hello"`) || !strings.Contains(evs[1], `"labels":{"app":"web"}`) {
		t.Errorf("default route got %q", evs)
	}
	if got := messages(srv, "/custom/batch", "noteam_stdout"); len(got) != 1 {
		t.Errorf("annotation override route got %q", got)
	}
}

func TestValidate(t *testing.T) {
	bad := []Config{
		{LogGroup: "/a/{nope}"},
		{LogStream: "{kubernetes.pod_name"},
		{Format: "xml"},
		{RetentionDays: 2},
		{LogGroupClass: "COLD"},
		{ExternalID: "x"},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil; want an error", c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("Validate(zero) = %v", err)
	}
	if _, err := New(context.Background(), Config{LogGroup: "{"}); err == nil {
		t.Error("New with a bad template = nil error")
	}
}

func sorted(s []int) []int {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// fakeAPI accepts every put and records when it came; for timer tests
// under synctest, where no real socket may be used.
type fakeAPI struct {
	api
	mu   sync.Mutex
	puts []time.Time
}

func (f *fakeAPI) PutLogEvents(context.Context, *cloudwatchlogs.PutLogEventsInput, ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error) {
	f.mu.Lock()
	f.puts = append(f.puts, time.Now())
	f.mu.Unlock()
	return &cloudwatchlogs.PutLogEventsOutput{}, nil
}

func (f *fakeAPI) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.puts)
}

// TestFlushInterval: a batch that is not full leaves FlushInterval after
// its first record, not before.
func TestFlushInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAPI{}
		cfg := Config{LogGroup: "/g", LogStream: "s", FlushInterval: time.Second}
		cfg.setDefaults()
		cfg.Logger = discard()
		s, err := newSink(cfg, f)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		var a acker
		write(t, s, rec("one", time.Now(), testFile, &a))
		time.Sleep(900 * time.Millisecond)
		synctest.Wait()
		if n := f.count(); n != 0 || a.n.Load() != 0 {
			t.Fatalf("%d puts, %d acks before the flush interval", n, a.n.Load())
		}
		time.Sleep(400 * time.Millisecond) // the ticker runs every interval/4
		synctest.Wait()
		if n := f.count(); n != 1 || a.n.Load() != 1 {
			t.Errorf("%d puts, %d acks after the flush interval; want 1, 1", n, a.n.Load())
		}
		cancel()
		synctest.Wait()
	})
}

// TestFlushTickRestsWhenIdle: once the sink holds nothing its flush tick
// slows down to the stream expiry's pace, and a record written a long
// quiet while later still leaves at the flush interval; a batch held for
// a retry keeps the tick at the flush pace until it is delivered.
func TestFlushTickRestsWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &failingAPI{}
		f.healed.Store(true)
		s := fakeSink(t, f, Config{LogStream: "s", FlushInterval: time.Second})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		resting := func() bool {
			s.mu.Lock()
			defer s.mu.Unlock()
			return s.tickRests
		}
		var a acker
		for round := range 3 {
			time.Sleep(10 * time.Minute)
			synctest.Wait()
			if !resting() {
				t.Fatalf("round %d: flush tick at the flush pace with nothing held", round)
			}
			write(t, s, rec(fmt.Sprint(round), time.Now(), testFile, &a))
			synctest.Wait()
			if resting() {
				t.Fatalf("round %d: flush tick still resting with a batch open", round)
			}
			time.Sleep(900 * time.Millisecond)
			synctest.Wait()
			if n := a.n.Load(); n != int64(round) {
				t.Fatalf("round %d: %d acks before the flush interval; want %d", round, n, round)
			}
			time.Sleep(400 * time.Millisecond)
			synctest.Wait()
			if n := a.n.Load(); n != int64(round+1) {
				t.Fatalf("round %d: %d acks after the flush interval; want %d", round, n, round+1)
			}
		}

		// A batch sealed and accepted at once, maybe before Run looks
		// again: the tick rests, and the next record still wakes it.
		for round := range 20 {
			var big acker
			write(t, s, rec(pad("big", s.cfg.BatchBytes), time.Now(), testFile, &big))
			synctest.Wait()
			if big.n.Load() != 1 {
				t.Fatalf("round %d: a full batch not sent at once", round)
			}
			time.Sleep(500 * time.Millisecond)
			var small acker
			write(t, s, rec("small", time.Now(), testFile, &small))
			time.Sleep(1300 * time.Millisecond)
			synctest.Wait()
			if small.n.Load() != 1 {
				t.Fatalf("round %d: a record not sent 1.3 s after a full batch left", round)
			}
		}

		// CloudWatch down: the batch waits for its retries, the tick at
		// the flush pace, and leaves once CloudWatch is back.
		f.healed.Store(false)
		write(t, s, rec("retried", time.Now(), testFile, &a))
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if resting() || a.n.Load() != 3 {
			t.Fatalf("resting %v, %d acks with CloudWatch down; want the tick at the flush pace, 3 acks", resting(), a.n.Load())
		}
		calls := f.calls.Load()
		f.healed.Store(true)
		time.Sleep(time.Minute)
		synctest.Wait()
		if a.n.Load() != 4 || f.calls.Load() == calls {
			t.Fatalf("%d acks a minute after CloudWatch came back; want 4", a.n.Load())
		}
		if !resting() {
			t.Error("flush tick at the flush pace once everything was delivered")
		}
		cancel()
		synctest.Wait()
	})
}

// TestBatchBytes: a busy stream's batch leaves as soon as it holds
// BatchBytes, not a flush interval later; what follows waits for the
// interval as usual.
func TestBatchBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAPI{}
		s := fakeSink(t, f, Config{LogStream: "s", Format: "raw", FlushInterval: time.Second, BatchBytes: 64 << 10})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		var a acker
		// 10 KiB each with the per-event overhead: the seventh passes 64 KiB.
		for i := range 10 {
			write(t, s, rec(pad(fmt.Sprint(i), 10<<10-EventOverhead), time.Now(), testFile, &a))
		}
		synctest.Wait()
		if n := f.count(); n != 1 || a.n.Load() != 7 {
			t.Fatalf("%d puts, %d acks at once; want 1, 7", n, a.n.Load())
		}
		time.Sleep(900 * time.Millisecond)
		synctest.Wait()
		if n := f.count(); n != 1 || a.n.Load() != 7 {
			t.Fatalf("%d puts, %d acks before the interval; want 1, 7", n, a.n.Load())
		}
		time.Sleep(400 * time.Millisecond)
		synctest.Wait()
		if n := f.count(); n != 2 || a.n.Load() != 10 {
			t.Errorf("%d puts, %d acks after the interval; want 2, 10", n, a.n.Load())
		}
		cancel()
		synctest.Wait()
	})
}

// TestFlushStretchesWithManyStreams: with more streams filling batches
// than flushRequests a second, a timed flush waits longer, so that the
// requests stay near flushRequests a second, up to MaxFlushInterval.
func TestFlushStretchesWithManyStreams(t *testing.T) {
	for _, tc := range []struct {
		streams int
		want    time.Duration
	}{{50, time.Second}, {300, 3 * time.Second}, {2000, 5 * time.Second}} {
		t.Run(fmt.Sprint(tc.streams), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeAPI{}
				s := fakeSink(t, f, Config{FlushInterval: time.Second, MaxConcurrency: 1000})
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go s.Run(ctx)
				var a acker
				start := time.Now()
				for i := range tc.streams {
					write(t, s, rec("one", time.Now(), fileFor(i), &a))
				}
				time.Sleep(tc.want - 100*time.Millisecond)
				synctest.Wait()
				if n := f.count(); n != 0 {
					t.Fatalf("%d puts %v after the first record; want none before %v", n, time.Since(start), tc.want)
				}
				time.Sleep(400 * time.Millisecond) // the ticker runs every interval/4
				synctest.Wait()
				if n := f.count(); n != tc.streams || a.n.Load() != int64(tc.streams) {
					t.Errorf("%d puts, %d acks %v after the first record; want %d", n, a.n.Load(), time.Since(start), tc.streams)
				}
				cancel()
				synctest.Wait()
			})
		})
	}
	// A stream with stretchBytes waiting leaves at the flush interval.
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAPI{}
		s := fakeSink(t, f, Config{FlushInterval: time.Second, Format: "raw", MaxConcurrency: 1000})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		var quiet, busy acker
		for i := range 1000 {
			write(t, s, rec("one", time.Now(), fileFor(i), &quiet))
		}
		write(t, s, rec(pad("big", stretchBytes), time.Now(), fileFor(0), &busy))
		time.Sleep(1300 * time.Millisecond)
		synctest.Wait()
		if n := f.count(); n != 1 || busy.n.Load() != 1 || quiet.n.Load() != 1 {
			t.Errorf("%d puts, busy stream %d acks, quiet ones %d after the interval; want only the busy stream's batch", n, busy.n.Load(), quiet.n.Load())
		}
		cancel()
		synctest.Wait()
	})
}

// TestIdleStreamsForgotten: a stream with nothing to send is dropped from
// the cache after StreamIdle, and comes back when it gets records again.
func TestIdleStreamsForgotten(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeAPI{}
		cfg := Config{FlushInterval: time.Second, StreamIdle: time.Minute, Logger: discard()}
		cfg.setDefaults()
		s, err := newSink(cfg, f)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		var a acker
		write(t, s, rec("a", time.Now(), fileFor(1), &a), rec("b", time.Now(), fileFor(2), &a))
		flushSink(t, s)
		streams := func() int {
			s.mu.Lock()
			defer s.mu.Unlock()
			return len(s.dests)
		}
		if n := streams(); n != 2 {
			t.Fatalf("%d streams cached; want 2", n)
		}
		time.Sleep(30 * time.Second)
		write(t, s, rec("c", time.Now(), fileFor(1), &a))
		time.Sleep(45 * time.Second)
		synctest.Wait()
		if n := streams(); n != 1 {
			t.Errorf("%d streams cached after one was idle for StreamIdle; want 1", n)
		}
		if a.n.Load() != 3 {
			t.Errorf("acknowledged %d; want 3", a.n.Load())
		}
		cancel()
		synctest.Wait()
	})
}

// failingAPI answers ServiceUnavailableException until healed.
type failingAPI struct {
	fakeAPI
	healed atomic.Bool
	calls  atomic.Int64
}

func (f *failingAPI) PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error) {
	f.calls.Add(1)
	if !f.healed.Load() {
		return nil, &smithy.GenericAPIError{Code: "ServiceUnavailableException", Message: "down"}
	}
	return f.fakeAPI.PutLogEvents(ctx, in, o...)
}

// TestFlushCutsBackoffShort: a batch waiting out a long backoff is retried
// at once when the shutdown flush starts, instead of after the flush
// timeout.
func TestFlushCutsBackoffShort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &failingAPI{}
		cfg := Config{LogGroup: "/g", LogStream: "s", Logger: discard()}
		cfg.setDefaults()
		s, err := newSink(cfg, f)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		var a acker
		write(t, s, rec("x", time.Now(), testFile, &a))
		time.Sleep(2 * time.Minute) // attempts back off towards 30 s
		synctest.Wait()
		if f.calls.Load() < 4 {
			t.Fatalf("%d attempts in two minutes", f.calls.Load())
		}
		f.healed.Store(true)
		fctx, fcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer fcancel()
		if err := s.Flush(fctx); err != nil {
			t.Fatalf("Flush with a batch in backoff: %v", err)
		}
		if a.n.Load() != 1 {
			t.Errorf("acknowledged %d; want 1", a.n.Load())
		}
		cancel()
		synctest.Wait()
	})
}

// TestCostPerNamespace: the bytes CloudWatch accepted are counted by the
// record's namespace as it bills them (message + 26), records of no pod as
// _node, and namespaces past the cap as _other.
func TestCostPerNamespace(t *testing.T) {
	srv, _ := startServer(t, cwlocal.Options{})
	s, reg := newTestSink(t, srv, Config{Cluster: "prod", AutoCreateGroup: true, LogStream: "{kubernetes.namespace_name|node}"})
	runSink(t, s)
	var a acker
	shop := &tailer.PodMeta{Name: "web-1", Namespace: "shop", UID: "u1"}
	batch := &tailer.PodMeta{Name: "job-1", Namespace: "batch", UID: "u2"}
	journalFile := &tailer.FileMeta{Path: "journal", Input: "dataplane", Tag: "kubelet.service", Restart: -1}
	var recs []tailer.Record
	for i := range 5 {
		r := rec(fmt.Sprintf("shop line %d", i), time.Now(), testFile, &a)
		r.Pod = shop
		recs = append(recs, r)
	}
	for i := range 3 {
		r := rec(fmt.Sprintf("batch line %d", i), time.Now(), testFile, &a)
		r.Pod = batch
		recs = append(recs, r)
	}
	j := rec(`{"hostname":"n","message":"kubelet up"}`, time.Now(), journalFile, &a)
	j.Flags = tailer.Encoded
	recs = append(recs, j)
	write(t, s, recs...)
	flushSink(t, s)
	billed := func(stream string) float64 {
		n := 0
		for _, m := range messages(srv, "/aws/containerinsights/prod/application", stream) {
			n += len(m) + EventOverhead
		}
		return float64(n)
	}
	for ns, stream := range map[string]string{"shop": "shop", "batch": "batch", NamespaceNode: "node"} {
		got := counter(t, reg, "skiff_output_bytes_total", map[string]string{"k8s_namespace_name": ns})
		if want := billed(stream); got != want || want == 0 {
			t.Errorf("skiff_output_bytes_total{k8s_namespace_name=%q} = %v; want %v", ns, got, want)
		}
	}

	c := newCosts()
	for i := range MaxCostNamespaces + 10 {
		c.index(fmt.Sprintf("ns-%d", i))
	}
	if i := c.index("ns-0"); i == 0 {
		t.Error("a namespace under the cap shares _other's counter")
	}
	if i := c.index(fmt.Sprintf("ns-%d", MaxCostNamespaces+5)); i != 0 {
		t.Errorf("a namespace past the cap got counter %d, not _other's", i)
	}
}
