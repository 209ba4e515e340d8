package tailer

import (
	"math/rand/v2"
	"sync"
	"testing"
)

func TestAckTrackerOutOfOrder(t *testing.T) {
	tr := newAckTracker(10, nil)
	a := tr.chunk(2, 100)
	b := tr.chunk(1, 200)
	c := tr.chunk(0, 250) // bytes that produced no record
	d := tr.chunk(3, 300)
	_ = c
	if got := tr.unacked(); got != 290 {
		t.Errorf("unacked = %d; want 290", got)
	}
	b.Ack(1)
	if got := tr.watermark(); got != 10 {
		t.Errorf("after acking the second chunk, watermark = %d; want 10", got)
	}
	a.Ack(1)
	if got := tr.watermark(); got != 10 {
		t.Errorf("after half the first chunk, watermark = %d; want 10", got)
	}
	a.Ack(1)
	if got := tr.watermark(); got != 250 {
		t.Errorf("after the first chunk, watermark = %d; want 250", got)
	}
	d.Ack(2)
	d.Ack(1)
	if got := tr.watermark(); got != 300 || !tr.idle() || tr.unacked() != 0 {
		t.Errorf("all acked: watermark = %d, idle %v, unacked %d; want 300, true, 0", got, tr.idle(), tr.unacked())
	}
}

func TestAckTrackerConcurrent(t *testing.T) {
	tr := newAckTracker(0, nil)
	type rec struct{ c *ackChunk }
	var recs []rec
	for i := 1; i <= 200; i++ {
		n := i % 5
		c := tr.chunk(n, int64(i*10))
		for range n {
			recs = append(recs, rec{c})
		}
	}
	rand.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(recs); i += 4 {
				Position{Acker: recs[i].c}.Ack()
			}
		})
	}
	wg.Wait()
	if got := tr.watermark(); got != 2000 {
		t.Errorf("watermark = %d; want 2000", got)
	}
}
