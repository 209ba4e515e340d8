package enrich

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/skiff-agent/skiff/enrich/kubetest"
	"github.com/skiff-agent/skiff/tailer"
)

func meta(uid string) *tailer.PodMeta {
	return &tailer.PodMeta{UID: uid, Name: "p-" + uid, Namespace: "ns"}
}

// newBubbleEnricher returns an Enricher whose informer is never run: the
// test feeds its store directly, inside a synctest bubble.
func newBubbleEnricher(t *testing.T, cfg Config, next tailer.Consumer) *Enricher {
	t.Helper()
	cfg.NodeName = testNode
	e, err := New(cfg, fakeClient(), next)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestWaitIsBoundedPerPod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out collector
		var a acks
		e := newBubbleEnricher(t, DefaultConfig(), &out)
		ctx := context.Background()
		start := time.Now()

		// First batch of an unknown pod waits the whole bound, then ships
		// with path metadata.
		if err := e.Write(ctx, records("u1", 3, &a)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != DefaultMetadataWait {
			t.Errorf("first batch waited %v; want %v", d, DefaultMetadataWait)
		}
		// Later batches of the same pod do not wait at all.
		before := time.Now()
		for range 5 {
			if err := e.Write(ctx, records("u1", 2, &a)); err != nil {
				t.Fatal(err)
			}
		}
		if d := time.Since(before); d != 0 {
			t.Errorf("later batches waited %v; want 0", d)
		}
		for _, g := range out.take() {
			if g.pod != nil {
				t.Fatalf("record got pod %v; want path metadata only", g.pod)
			}
		}
		if got := counter(t, e.m.fell); got != 13 {
			t.Errorf("fallback lookups = %v; want 13", got)
		}
		if got := counter(t, e.m.waits.WithLabelValues("timeout")); got != 1 {
			t.Errorf("timed out waits = %v; want 1 (one per pod)", got)
		}
		if a.n.Load() != 13 {
			t.Errorf("acks = %d; want 13", a.n.Load())
		}
	})
}

func TestWaitEndsWhenPodArrives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out collector
		e := newBubbleEnricher(t, DefaultConfig(), &out)
		start := time.Now()
		go func() {
			time.Sleep(300 * time.Millisecond)
			e.store.put(meta("u2"))
		}()
		if err := e.Write(context.Background(), records("u2", 2, nil)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Errorf("waited %v; want 300ms", d)
		}
		for _, g := range out.take() {
			if g.pod == nil || g.pod.UID != "u2" {
				t.Fatalf("record pod = %v; want u2", g.pod)
			}
		}
		if got := counter(t, e.m.waited); got != 2 {
			t.Errorf("waited lookups = %v; want 2", got)
		}
		if got := counter(t, e.m.waits.WithLabelValues("arrived")); got != 1 {
			t.Errorf("arrived waits = %v; want 1", got)
		}
	})
}

func TestBatchOfManyUnknownPodsWaitsOneBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out collector
		e := newBubbleEnricher(t, DefaultConfig(), &out)
		var batch []tailer.Record
		for _, uid := range []string{"a", "b", "c", "d"} {
			batch = append(batch, records(uid, 2, nil)...)
		}
		start := time.Now()
		if err := e.Write(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != DefaultMetadataWait {
			t.Errorf("batch of 4 unknown pods waited %v; want %v in all", d, DefaultMetadataWait)
		}
	})
}

func TestConcurrentWritersShareThePodDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out collector
		e := newBubbleEnricher(t, DefaultConfig(), &out)
		start := time.Now()
		done := make(chan time.Duration)
		go func() {
			_ = e.Write(context.Background(), records("u3", 1, nil))
			done <- time.Since(start)
		}()
		time.Sleep(1500 * time.Millisecond)
		second := time.Now()
		_ = e.Write(context.Background(), records("u3", 1, nil))
		if d := time.Since(second); d != 500*time.Millisecond {
			t.Errorf("second writer waited %v; want the 500ms left of the pod's bound", d)
		}
		if d := <-done; d != DefaultMetadataWait {
			t.Errorf("first writer waited %v; want %v", d, DefaultMetadataWait)
		}
	})
}

func TestNoWaitWhenDisabled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out collector
		cfg := DefaultConfig()
		cfg.MetadataWait = -1
		e := newBubbleEnricher(t, cfg, &out)
		start := time.Now()
		if err := e.Write(context.Background(), records("u4", 1, nil)); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("waited %v with waiting disabled", d)
		}
	})
}

func TestWaitReturnsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out collector
		e := newBubbleEnricher(t, DefaultConfig(), &out)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		if err := e.Write(ctx, records("u5", 1, nil)); err != context.Canceled {
			t.Errorf("Write = %v; want context.Canceled", err)
		}
		if len(out.take()) != 0 {
			t.Error("records forwarded after cancel")
		}
	})
}

func TestDeletedPodGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out collector
		cfg := DefaultConfig()
		cfg.DeletedPodGrace = time.Minute
		e := newBubbleEnricher(t, cfg, &out)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- e.sweep(ctx, sweepInterval(cfg.DeletedPodGrace)) }()

		m := e.store.put(meta("u6"))
		time.Sleep(time.Second)
		e.store.remove("u6", time.Now())
		if live, deleted := e.store.counts(); live != 0 || deleted != 1 {
			t.Errorf("counts = %d live, %d deleted; want 0, 1", live, deleted)
		}

		// Late lines within the grace period are still enriched, at once.
		time.Sleep(50 * time.Second)
		start := time.Now()
		if err := e.Write(ctx, records("u6", 1, nil)); err != nil {
			t.Fatal(err)
		}
		if g := out.take(); g[0].pod != m || time.Since(start) != 0 {
			t.Errorf("late line in grace: pod %v after %v; want the deleted pod's metadata at once", g[0].pod, time.Since(start))
		}

		// After the grace (plus at most one sweep interval) it is gone.
		time.Sleep(10*time.Second + sweepInterval(cfg.DeletedPodGrace))
		synctest.Wait()
		if e.store.get("u6") != nil {
			t.Error("deleted pod still cached after its grace period")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestPutKeepsPointerWhenNothingChanged(t *testing.T) {
	s := newStore(time.Second, time.Minute)
	m1 := s.put(&tailer.PodMeta{UID: "u", Name: "p", Labels: map[string]string{"a": "1"}})
	m2 := s.put(&tailer.PodMeta{UID: "u", Name: "p", Labels: map[string]string{"a": "1"}})
	if m1 != m2 {
		t.Error("an identical update published a new pointer")
	}
	m3 := s.put(&tailer.PodMeta{UID: "u", Name: "p", Labels: map[string]string{"a": "2"}})
	if m3 == m1 || m1.Labels["a"] != "1" {
		t.Errorf("a label change: new pointer %v, old labels %v; want a new pointer and the old value untouched", m3 != m1, m1.Labels)
	}
}

func TestSweepForgetsOldAsks(t *testing.T) {
	s := newStore(time.Second, time.Minute)
	t0 := time.Unix(1000, 0)
	if _, first := s.deadline("x", t0); !first {
		t.Error("first ask not reported first")
	}
	if _, first := s.deadline("x", t0.Add(time.Second)); first {
		t.Error("second ask reported first")
	}
	s.sweep(t0.Add(time.Second + time.Minute))
	if _, first := s.deadline("x", t0.Add(2*time.Minute)); !first {
		t.Error("ask not forgotten after the grace period")
	}
}

func fakeClient() *Client { return clientFor(fake.NewClientset()) }

// clientFor reads through cs, a fake clientset or a real one.
func clientFor(cs kubernetes.Interface) *Client {
	return &Client{Pods: kubetest.Pods(cs), Namespaces: kubetest.Namespaces(cs)}
}
