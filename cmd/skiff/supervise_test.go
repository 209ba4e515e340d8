package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/skiff-agent/skiff/tailer"
)

// events records the order of calls across the fakes.
type events struct {
	mu  sync.Mutex
	got []string
}

func (e *events) add(s string) { e.mu.Lock(); e.got = append(e.got, s); e.mu.Unlock() }
func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.got, " ")
}

type fakeInput struct {
	ev      *events
	unacked int64
	drain   func(ctx context.Context) error
}

func (f *fakeInput) Run(ctx context.Context) error {
	f.ev.add("in.run")
	<-ctx.Done()
	f.ev.add("in.stop")
	return ctx.Err()
}
func (f *fakeInput) Drain(ctx context.Context) error {
	f.ev.add("in.drain")
	if f.drain != nil {
		return f.drain(ctx)
	}
	return nil
}
func (f *fakeInput) Watch(ctx context.Context) error {
	<-ctx.Done()
	f.ev.add("in.watched")
	return nil
}
func (f *fakeInput) Checkpoint() error { f.ev.add("in.checkpoint"); return nil }
func (f *fakeInput) Close() error      { f.ev.add("in.close"); return nil }
func (f *fakeInput) Pending() tailer.Pending {
	return tailer.Pending{Live: f.unacked}
}

type fakeSink struct {
	ev      *events
	runErr  error
	flushFn func(ctx context.Context) error
}

func (f *fakeSink) Write(ctx context.Context, recs []tailer.Record) error { return nil }
func (f *fakeSink) Run(ctx context.Context) error {
	if f.runErr != nil {
		return f.runErr
	}
	<-ctx.Done()
	f.ev.add("sink.stop")
	return nil
}
func (f *fakeSink) Flush(ctx context.Context) error {
	f.ev.add("sink.flush")
	if f.flushFn != nil {
		return f.flushFn(ctx)
	}
	return nil
}

func newTestPipeline(ev *events, in *fakeInput, sink *fakeSink, force chan struct{}) (*pipeline, *bytes.Buffer) {
	var logs bytes.Buffer
	return &pipeline{
		in: in, sink: sink, health: &health{}, shutdownTimeout: 25 * time.Second, force: force,
		log: slog.New(slog.NewTextHandler(&logs, nil)),
	}, &logs
}

func lastLine(b *bytes.Buffer) string {
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	return lines[len(lines)-1]
}

func TestShutdownOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{}
		p, logs := newTestPipeline(ev, &fakeInput{ev: ev}, &fakeSink{ev: ev}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- p.run(ctx) }()
		synctest.Wait()
		if !p.health.ready.Load() {
			t.Error("not ready while running")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("run = %v", err)
		}
		if got, want := ev.String(), "in.run in.stop in.drain sink.flush sink.stop in.watched in.close in.checkpoint"; got != want {
			t.Errorf("calls = %s; want %s", got, want)
		}
		if !strings.Contains(lastLine(logs), "unacked_bytes=0") {
			t.Errorf("last log line = %s", lastLine(logs))
		}
	})
}

func TestShutdownTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{}
		stuck := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		p, logs := newTestPipeline(ev, &fakeInput{ev: ev, unacked: 4242}, &fakeSink{ev: ev, flushFn: stuck}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		err := p.run(ctx)
		if !errors.Is(err, errIncomplete) {
			t.Fatalf("run = %v; want errIncomplete", err)
		}
		if d := time.Since(start); d != 25*time.Second {
			t.Errorf("shutdown took %s; want the 25s timeout", d)
		}
		if got, want := ev.String(), "in.run in.stop in.drain sink.flush sink.stop in.watched in.close in.checkpoint"; got != want {
			t.Errorf("calls = %s; want %s", got, want)
		}
		last := lastLine(logs)
		if !strings.Contains(last, "unacked_bytes=4242") || !strings.Contains(last, "the shutdown timeout passed") {
			t.Errorf("last log line = %s", last)
		}
	})
}

func TestSecondSignal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{}
		force := make(chan struct{})
		stuck := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
		p, logs := newTestPipeline(ev, &fakeInput{ev: ev, drain: stuck, unacked: 7}, &fakeSink{ev: ev}, force)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		go func() { time.Sleep(3 * time.Second); close(force) }()
		start := time.Now()
		if err := p.run(ctx); !errors.Is(err, errIncomplete) {
			t.Fatalf("run = %v; want errIncomplete", err)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("shutdown took %s; want 3s", d)
		}
		if got, want := ev.String(), "in.run in.stop in.drain sink.stop in.watched in.close in.checkpoint"; got != want {
			t.Errorf("calls = %s; want %s", got, want)
		}
		if last := lastLine(logs); !strings.Contains(last, "a second signal arrived") || !strings.Contains(last, "unacked_bytes=7") {
			t.Errorf("last log line = %s", last)
		}
	})
}

func TestComponentFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{}
		boom := errors.New("boom")
		p, _ := newTestPipeline(ev, &fakeInput{ev: ev}, &fakeSink{ev: ev, runErr: boom}, nil)
		err := p.run(context.Background())
		if !errors.Is(err, boom) || errors.Is(err, errIncomplete) {
			t.Fatalf("run = %v; want boom", err)
		}
		if got, want := ev.String(), "in.run in.stop in.watched in.close in.checkpoint"; got != want {
			t.Errorf("calls = %s; want %s", got, want)
		}
	})
}

// closingSink is a sink holding resources, like the file sink.
type closingSink struct {
	*fakeSink
	closeErr error
}

func (c *closingSink) Close() error { c.ev.add("sink.close"); return c.closeErr }

func TestSinkClosedAfterCheckpoint(t *testing.T) {
	for _, tc := range []struct {
		name     string
		closeErr error
	}{{"closed", nil}, {"close fails", errors.New("disk gone")}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ev := &events{}
				sink := &closingSink{fakeSink: &fakeSink{ev: ev}, closeErr: tc.closeErr}
				p, _ := newTestPipeline(ev, &fakeInput{ev: ev}, sink.fakeSink, nil)
				p.sink = sink
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				err := p.run(ctx)
				if got, want := ev.String(), "in.run in.stop in.drain sink.flush sink.stop in.watched in.close in.checkpoint sink.close"; got != want {
					t.Errorf("calls = %s; want %s", got, want)
				}
				if tc.closeErr == nil && err != nil {
					t.Errorf("run = %v", err)
				}
				if tc.closeErr != nil && !errors.Is(err, tc.closeErr) {
					t.Errorf("run = %v; want the close error", err)
				}
			})
		})
	}
}

// drainingSink retries on a long curve until told the shutdown began,
// as the CloudWatch sink does.
type drainingSink struct {
	*fakeSink
	draining chan struct{}
}

func (d *drainingSink) Drain() { d.ev.add("sink.drain"); close(d.draining) }

// TestSinkDrainsBeforeInput: the input's last reads wait for budget that
// only delivery frees, so the sink must be on its shutdown curve before
// they start, not only once Flush is called after them.
func TestSinkDrainsBeforeInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{}
		sink := &drainingSink{fakeSink: &fakeSink{ev: ev}, draining: make(chan struct{})}
		in := &fakeInput{ev: ev, drain: func(ctx context.Context) error {
			select {
			case <-sink.draining: // delivery frees the budget
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}}
		p, _ := newTestPipeline(ev, in, sink.fakeSink, nil)
		p.sink = sink
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := p.run(ctx); err != nil {
			t.Fatalf("run = %v", err)
		}
		if got, want := ev.String(), "in.run in.stop sink.drain in.drain sink.flush sink.stop in.watched in.close in.checkpoint"; got != want {
			t.Errorf("calls = %s; want %s", got, want)
		}
	})
}

// stuckRunner ignores its context, as an informer in a retry backoff does.
type stuckRunner struct{ release chan struct{} }

func (s stuckRunner) Run(context.Context) error { <-s.release; return nil }

// TestStuckComponentDoesNotHoldExit: a component that does not return when
// told to stop delays the exit by auxStopGrace, not until it wakes up.
func TestStuckComponentDoesNotHoldExit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ev := &events{}
		p, logs := newTestPipeline(ev, &fakeInput{ev: ev}, &fakeSink{ev: ev}, nil)
		stuck := stuckRunner{release: make(chan struct{})}
		defer close(stuck.release)
		p.aux = append(p.aux, stuck)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		if err := p.run(ctx); err != nil {
			t.Fatalf("run = %v", err)
		}
		if d := time.Since(start); d != auxStopGrace {
			t.Errorf("shutdown took %s; want the %s grace", d, auxStopGrace)
		}
		if !strings.Contains(logs.String(), "did not stop in time") {
			t.Errorf("no log line about the stuck component:\n%s", logs)
		}
		if got, want := ev.String(), "in.run in.stop in.drain sink.flush sink.stop in.watched in.close in.checkpoint"; got != want {
			t.Errorf("calls = %s; want %s", got, want)
		}
	})
}
