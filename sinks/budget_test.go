package sinks

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/skiff-agent/skiff/tailer"
)

func TestBudgetBlocksAndServesInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(100)
		ctx := context.Background()
		if err := b.Acquire(ctx, 80); err != nil {
			t.Fatal(err)
		}
		var order []int64
		var mu sync.Mutex
		for _, n := range []int64{50, 10} {
			go func() {
				if err := b.Acquire(ctx, n); err != nil {
					t.Error(err)
				}
				mu.Lock()
				order = append(order, n)
				mu.Unlock()
			}()
			synctest.Wait()
		}
		if b.Waiting() != 2 || len(order) != 0 {
			t.Fatalf("Waiting = %d, granted %v; want 2 waiting (10 must queue behind 50)", b.Waiting(), order)
		}
		b.Release(80)
		synctest.Wait()
		if len(order) != 2 || b.Used() != 60 {
			t.Errorf("granted %v, used %d; want both, 60", order, b.Used())
		}
	})
}

func TestBudgetCancelAndIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewBudget(10)
		if err := b.Acquire(context.Background(), 1000); err != nil { // clamped to 10
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error)
		go func() { errc <- b.Acquire(ctx, 5) }()
		synctest.Wait()
		select {
		case <-b.Full():
		default:
			t.Error("Full not signalled by a waiting Acquire")
		}
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Errorf("Acquire after cancel = %v", err)
		}
		idle := b.Idle()
		select {
		case <-idle:
			t.Fatal("Idle closed while bytes are held")
		default:
		}
		b.Release(10)
		<-idle
		if b.Used() != 0 || b.Waiting() != 0 {
			t.Errorf("Used = %d, Waiting = %d", b.Used(), b.Waiting())
		}
	})
}

func TestAcksCoalesce(t *testing.T) {
	a1, a2 := &countAcker{t: t, name: "a1"}, &countAcker{t: t, name: "a2"}
	a1.want.Store(5)
	a2.want.Store(1)
	var acks Acks
	for _, a := range []*countAcker{a1, a1, a1, a2, a1, a1} {
		acks.AddN(a, 1)
	}
	if acks.Len() != 6 || len(acks.runs) != 3 {
		t.Fatalf("Len = %d, runs = %d; want 6, 3", acks.Len(), len(acks.runs))
	}
	acks.Done()
	a1.check(t)
	a2.check(t)
	if a1.calls.Load() != 2 {
		t.Errorf("a1 got %d Ack calls; want 2", a1.calls.Load())
	}
	split := &countAcker{t: t, name: "split"}
	split.want.Store(1)
	s := NewSplitAcker(recordPos(split), 3)
	s.Ack(2)
	if split.got.Load() != 0 {
		t.Error("split record acknowledged before its last piece")
	}
	s.Ack(1)
	split.check(t)
}

func recordPos(a tailer.Acker) tailer.Position { return tailer.Position{Acker: a} }

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
