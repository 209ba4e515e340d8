// Package sinktest is the conformance suite every sink passes: the Sink
// contract of package sinks, checked against a real destination.
package sinktest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/tailer"
)

// Harness is one sink under test, built by a conformance factory.
type Harness struct {
	// Sink is the sink, configured with format raw (so that a delivered
	// message is the record's line) and the byte budget asked for.
	Sink sinks.Sink
	// Budget is the sink's byte budget.
	Budget *sinks.Budget
	// Delivered returns every message the destination holds, in any order.
	Delivered func(t *testing.T) []string
}

// NewHarness builds a fresh sink with format raw and a byte budget of
// budget bytes, and its destination. It cleans up with t.Cleanup.
type NewHarness func(t *testing.T, budget int64) *Harness

// Run checks the Sink contract: every record is acknowledged
// exactly once and delivered, Write blocks while the budget is full and
// holds no more than the budget, Flush returns only once everything is
// acknowledged, Write and Flush honour their context, and concurrent
// writers are safe. Run it under -race.
func Run(t *testing.T, newHarness NewHarness) {
	t.Run("AcksExactlyOnce", func(t *testing.T) { testAcksExactlyOnce(t, newHarness) })
	t.Run("Backpressure", func(t *testing.T) { testBackpressure(t, newHarness) })
	t.Run("FlushWaits", func(t *testing.T) { testFlushWaits(t, newHarness) })
	t.Run("WriteHonoursContext", func(t *testing.T) { testWriteContext(t, newHarness) })
	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrent(t, newHarness) })
}

// countAcker counts acknowledgements and reports any beyond want.
type countAcker struct {
	t     *testing.T
	name  string
	want  atomic.Int64
	got   atomic.Int64
	calls atomic.Int64
}

func (a *countAcker) Ack(n int) {
	a.calls.Add(1)
	if got := a.got.Add(int64(n)); got > a.want.Load() {
		a.t.Errorf("acker %s: %d acknowledgements, want at most %d", a.name, got, a.want.Load())
	}
}

func (a *countAcker) check(t *testing.T) {
	t.Helper()
	if got, want := a.got.Load(), a.want.Load(); got != want {
		t.Errorf("acker %s: %d acknowledgements, want %d", a.name, got, want)
	}
}

func newAckers(t *testing.T, n int) []*countAcker {
	as := make([]*countAcker, n)
	for i := range as {
		as[i] = &countAcker{t: t, name: fmt.Sprint(i)}
	}
	return as
}

var confFile = &tailer.FileMeta{Path: "/var/log/containers/p_ns_c-1.log", Namespace: "ns", Pod: "p", PodUID: "uid-1", Container: "c", ContainerID: "1", Restart: 0}

// record returns a record whose message is id padded to size bytes.
func record(id string, size int, a *countAcker) tailer.Record {
	msg := id
	if len(msg) < size {
		msg += strings.Repeat("x", size-len(msg))
	}
	a.want.Add(1)
	return tailer.Record{Time: time.Now(), Stream: tailer.Stdout, Message: []byte(msg), File: confFile, Pos: tailer.Position{Acker: a}}
}

// run starts the sink's Run and returns a function that stops it and waits.
func run(t *testing.T, s sinks.Sink) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func flush(t *testing.T, s sinks.Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// checkDelivered checks that each of want arrived exactly once.
func checkDelivered(t *testing.T, h *Harness, want []string) {
	t.Helper()
	seen := make(map[string]int, len(want))
	for _, m := range h.Delivered(t) {
		seen[m]++
	}
	missing, dup := 0, 0
	for _, w := range want {
		switch n := seen[w]; {
		case n == 0:
			missing++
		case n > 1:
			dup++
		}
		delete(seen, w)
	}
	if missing > 0 || dup > 0 || len(seen) > 0 {
		t.Errorf("delivered: %d of %d missing, %d duplicated, %d unexpected", missing, len(want), dup, len(seen))
	}
}

func testAcksExactlyOnce(t *testing.T, newHarness NewHarness) {
	h := newHarness(t, 1<<20)
	as := newAckers(t, 3)
	stop := run(t, h.Sink)
	var want []string
	ctx := context.Background()
	for w := range 30 {
		recs := make([]tailer.Record, 0, 10)
		for i := range 10 {
			a := as[(w+i/4)%len(as)] // runs of four records share an acker
			id := fmt.Sprintf("ack-%d-%d ", w, i)
			recs = append(recs, record(id, 100, a))
			want = append(want, string(recs[i].Message))
		}
		if err := h.Sink.Write(ctx, recs); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
	flush(t, h.Sink)
	for _, a := range as {
		a.check(t)
		if c, g := a.calls.Load(), a.got.Load(); c > g {
			t.Errorf("acker %s: %d Ack calls for %d records", a.name, c, g)
		}
	}
	stop()
	for _, a := range as {
		a.check(t)
	}
	checkDelivered(t, h, want)
}

// waitBlocked waits until a writer is blocked on the budget.
func waitBlocked(t *testing.T, b *sinks.Budget, done <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for b.Waiting() == 0 {
		select {
		case <-done:
			t.Fatalf("Write returned with %d of %d budget bytes used and nothing sent: it did not block", b.Used(), b.Limit())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no writer blocked on the budget")
		}
		time.Sleep(time.Millisecond)
	}
}

func testBackpressure(t *testing.T, newHarness NewHarness) {
	const budget, size, n = 16 << 10, 1000, 64
	h := newHarness(t, budget)
	as := newAckers(t, 1)
	var want []string
	recs := make([]tailer.Record, n)
	for i := range recs {
		recs[i] = record(fmt.Sprintf("bp-%d ", i), size, as[0])
		want = append(want, string(recs[i].Message))
	}
	var written atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range recs {
			if err := h.Sink.Write(context.Background(), recs[i:i+1]); err != nil {
				t.Errorf("Write: %v", err)
				return
			}
			written.Add(1)
		}
	}()
	waitBlocked(t, h.Budget, done)
	if used := h.Budget.Used(); used > budget {
		t.Errorf("budget holds %d bytes, limit %d", used, budget)
	}
	if w := written.Load(); w*size > budget {
		t.Errorf("%d writes of %d bytes returned before anything was sent; budget %d", w, size, budget)
	}
	if got := as[0].got.Load(); got != 0 {
		t.Errorf("%d records acknowledged before Run", got)
	}
	run(t, h.Sink)
	<-done
	flush(t, h.Sink)
	as[0].check(t)
	checkDelivered(t, h, want)
}

func testFlushWaits(t *testing.T, newHarness NewHarness) {
	h := newHarness(t, 1<<20)
	as := newAckers(t, 2)
	var want []string
	for i := range 50 {
		r := record(fmt.Sprintf("fl-%d ", i), 200, as[i%2])
		want = append(want, string(r.Message))
		if err := h.Sink.Write(context.Background(), []tailer.Record{r}); err != nil {
			t.Fatal(err)
		}
	}
	// Without Run nothing can be acknowledged: Flush must give up with ctx.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Sink.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush with nothing sent and a cancelled ctx = %v; want context.Canceled", err)
	}
	run(t, h.Sink)
	flush(t, h.Sink)
	for _, a := range as {
		a.check(t) // right at Flush's return
	}
	checkDelivered(t, h, want)
}

func testWriteContext(t *testing.T, newHarness NewHarness) {
	const budget = 8 << 10
	h := newHarness(t, budget)
	as := newAckers(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 100 {
			r := record(fmt.Sprintf("ctx-%d ", i), 1000, as[0])
			if err := h.Sink.Write(ctx, []tailer.Record{r}); err != nil {
				as[0].want.Add(-1) // not accepted: not owed an acknowledgement
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	waitBlocked(t, h.Budget, done)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("blocked Write after cancel = %v; want context.Canceled", err)
	}
	if used := h.Budget.Used(); used > budget {
		t.Errorf("budget holds %d bytes, limit %d", used, budget)
	}
	run(t, h.Sink)
	flush(t, h.Sink)
	as[0].check(t)
}

func testConcurrent(t *testing.T, newHarness NewHarness) {
	const writers, writes, per = 8, 40, 5
	h := newHarness(t, 64<<10)
	as := newAckers(t, writers)
	run(t, h.Sink)
	var mu sync.Mutex
	var want []string
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			var mine []string
			for i := range writes {
				recs := make([]tailer.Record, per)
				for j := range recs {
					recs[j] = record(fmt.Sprintf("cw-%d-%d-%d ", w, i, j), 300, as[w])
					mine = append(mine, string(recs[j].Message))
				}
				if err := h.Sink.Write(context.Background(), recs); err != nil {
					t.Errorf("Write: %v", err)
					return
				}
			}
			mu.Lock()
			want = append(want, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	flush(t, h.Sink)
	for _, a := range as {
		a.check(t)
	}
	checkDelivered(t, h, want)
}
