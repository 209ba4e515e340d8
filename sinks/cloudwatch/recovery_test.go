package cloudwatch

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/prometheus/client_golang/prometheus"
)

// fakeSink is a sink over api with the default waits, for tests under
// synctest (no real socket there).
func fakeSink(t *testing.T, api api, cfg Config) *Sink {
	t.Helper()
	if cfg.LogGroup == "" {
		cfg.LogGroup = "/g"
	}
	cfg.Logger = discard()
	cfg.setDefaults()
	s, err := newSink(cfg, api)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOutageProbesThenReleasesAll: during an outage the sink sends one
// request at a time on the slow curve, whatever the number of batches
// waiting; after the first success every waiting batch is sent at once
// (within one limiter ramp), not after its own backoff.
func TestOutageProbesThenReleasesAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const streams = 40
		f := &failingAPI{}
		s := fakeSink(t, f, Config{FlushInterval: 100 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		var a acker
		for i := range streams {
			write(t, s, rec(fmt.Sprint("m", i), time.Now(), fileFor(i), &a))
		}
		time.Sleep(3 * time.Minute)
		synctest.Wait()
		calls := f.calls.Load()
		if st := s.snd.health.current(); st != stateProbing {
			t.Fatalf("state %v after 3 minutes of outage; want probing", st)
		}
		// Each batch's first attempt, then one probe at a time on the slow
		// curve (1s doubling to 30s): about a dozen in 3 minutes.
		if calls > streams+probeAfter+20 {
			t.Errorf("%d requests in 3 minutes of outage for %d batches; want one probe at a time", calls, streams)
		}
		healed := time.Now()
		f.healed.Store(true)
		time.Sleep(31 * time.Second) // the next probe is at most the slow curve's ceiling away
		synctest.Wait()
		if a.n.Load() != streams {
			t.Fatalf("acknowledged %d of %d after recovery", a.n.Load(), streams)
		}
		f.mu.Lock()
		puts := slices.Clone(f.puts)
		f.mu.Unlock()
		first, last := puts[0], puts[len(puts)-1]
		if first.Before(healed) || len(puts) != streams {
			t.Fatalf("%d puts accepted (first %v after healing); want %d, all after", len(puts), first.Sub(healed), streams)
		}
		if spread := last.Sub(first); spread > 0 {
			t.Errorf("the last waiting batch went %v after the first success; want at once", spread)
		}
		if after := f.calls.Load() - calls; after != streams {
			t.Errorf("%d attempts after recovery for %d waiting batches; want one each", after, streams)
		}
		cancel()
		synctest.Wait()
	})
}

// TestDrainFinishesWhenOutageEnds: a flush that starts during an outage
// probes every short interval, so that when the endpoint comes back inside
// the shutdown window everything is delivered within a short interval of
// it, not after the slow curve's next wait.
func TestDrainFinishesWhenOutageEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &failingAPI{}
		s := fakeSink(t, f, Config{FlushInterval: 100 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		var a acker
		for i := range 20 {
			write(t, s, rec(fmt.Sprint("m", i), time.Now(), fileFor(i), &a))
		}
		time.Sleep(2 * time.Minute) // probes back off towards 30s
		synctest.Wait()
		go func() {
			time.Sleep(5 * time.Second)
			f.healed.Store(true)
		}()
		start := time.Now()
		fctx, fcancel := context.WithTimeout(context.Background(), 25*time.Second)
		defer fcancel()
		if err := s.Flush(fctx); err != nil {
			t.Fatalf("Flush: %v", err)
		}
		if took := time.Since(start); took > 5*time.Second+s.snd.opts.curves.short+50*time.Millisecond {
			t.Errorf("Flush took %v for an outage that ended after 5s; want within the short interval", took)
		}
		if a.n.Load() != 20 {
			t.Errorf("acknowledged %d; want 20", a.n.Load())
		}
		cancel()
		synctest.Wait()
	})
}

// slowAPI answers every put after latency, or fails when its context ends
// first.
type slowAPI struct {
	fakeAPI
	latency time.Duration
}

func (f *slowAPI) PutLogEvents(ctx context.Context, in *cloudwatchlogs.PutLogEventsInput, o ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.PutLogEventsOutput, error) {
	select {
	case <-time.After(f.latency):
		return f.fakeAPI.PutLogEvents(ctx, in, o...)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestInFlightGrace: a request in flight when Run's context ends is
// waited for up to the grace, and what it delivered is acknowledged; one
// slower than the grace is cancelled and stays unacknowledged.
func TestInFlightGrace(t *testing.T) {
	for _, tc := range []struct {
		latency time.Duration
		acked   int64
	}{{time.Second, 1}, {3 * time.Second, 0}} {
		t.Run(tc.latency.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &slowAPI{latency: tc.latency}
				s := fakeSink(t, f, Config{FlushInterval: 100 * time.Millisecond})
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error)
				go func() { done <- s.Run(ctx) }()
				var a acker
				write(t, s, rec("x", time.Now(), testFile, &a))
				time.Sleep(200 * time.Millisecond) // sealed and sent
				cancel()
				start := time.Now()
				<-done
				if took := time.Since(start); took > s.snd.opts.curves.grace {
					t.Errorf("Run returned %v after its context ended; want at most the grace %v", took, s.snd.opts.curves.grace)
				}
				if a.n.Load() != tc.acked || f.count() != int(tc.acked) {
					t.Errorf("latency %v: acknowledged %d, delivered %d; want %d", tc.latency, a.n.Load(), f.count(), tc.acked)
				}
			})
		})
	}
}

// TestRetriedStreamSendsLargeBatches: while a stream's batch is retried,
// new records join its open batch instead of leaving every flush interval
// as small requests.
func TestRetriedStreamSendsLargeBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &failingAPI{}
		s := fakeSink(t, f, Config{LogStream: "s", FlushInterval: 100 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go s.Run(ctx)
		var a acker
		write(t, s, rec("first", time.Now(), testFile, &a))
		time.Sleep(time.Second) // the first batch is being retried
		for i := range 100 {
			write(t, s, rec(fmt.Sprint("m", i), time.Now(), testFile, &a))
			time.Sleep(100 * time.Millisecond) // one flush interval each
		}
		f.healed.Store(true)
		time.Sleep(time.Minute)
		synctest.Wait()
		if a.n.Load() != 101 {
			t.Fatalf("acknowledged %d; want 101", a.n.Load())
		}
		if n := f.count(); n != 2 {
			t.Errorf("%d requests delivered 101 records of one retried stream; want 2 (the retried batch, then one with the rest)", n)
		}
		cancel()
		synctest.Wait()
	})
}

// TestEndpointStateGauges: the state gauges show one state at a time,
// the first one reported included, and follow each change (setState skips
// the reports that change nothing).
func TestEndpointStateGauges(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []endpointState{stateOK, stateOK, stateDegraded, stateProbing, stateProbing, stateOK} {
		m.setState(st)
		for i, name := range stateNames {
			want := 0.0
			if endpointState(i) == st {
				want = 1
			}
			if got := counter(t, reg, "skiff_output_endpoint_state", map[string]string{"state": name}); got != want {
				t.Errorf("after %v: state %s = %v; want %v", st, name, got, want)
			}
		}
	}
}
