package cloudwatch

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestIdleSendersShrink: a burst starts a sender per batch; afterwards a
// steady trickle that one sender can carry is carried by the sender idle
// last, and the others end after senderIdle. Every batch is sent once,
// and stopping ends every sender.
func TestIdleSendersShrink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var p idleSenders
		var wg sync.WaitGroup
		stop := make(chan struct{})
		var sent atomic.Int64
		send := func(*batch) {
			time.Sleep(20 * time.Millisecond) // a round trip
			sent.Add(1)
		}
		dispatch := func() {
			b := &batch{}
			if !p.hand(b) {
				wg.Go(func() { p.serve(b, send, stop) })
			}
		}
		for range 30 {
			dispatch()
		}
		synctest.Wait()
		if n := p.live.Load(); n != 30 {
			t.Fatalf("%d senders after a burst of 30 batches; want 30", n)
		}
		// Ten batches a second, one at a time, for 30 s.
		for range 300 {
			dispatch()
			time.Sleep(100 * time.Millisecond)
		}
		if n := p.live.Load(); n != 1 {
			t.Errorf("%d senders after 30 s of batches one at a time; want 1", n)
		}
		if n := sent.Load(); n != 330 {
			t.Errorf("sent %d batches; want 330", n)
		}
		close(stop)
		wg.Wait()
		if n := p.live.Load(); n != 0 {
			t.Errorf("%d senders after stop; want 0", n)
		}
	})
}
