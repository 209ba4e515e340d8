package cloudwatch

import (
	"context"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"
)

// pacerRun sends requests through a pacer for d at up to 400 a second;
// throttled decides each request's outcome at its time. It returns the
// requests that succeeded and those throttled.
func pacerRun(t *testing.T, d time.Duration, throttled func(now time.Time) bool) (ok, thr int) {
	return pacerRunEvery(t, d, 2500*time.Microsecond, throttled)
}

// pacerRunEvery is pacerRun for a sender that offers a request every gap.
func pacerRunEvery(t *testing.T, d, gap time.Duration, throttled func(now time.Time) bool) (ok, thr int) {
	p := newPacer(func(float64) {})
	ctx := context.Background()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if err := p.wait(ctx); err != nil {
			t.Fatal(err)
		}
		if throttled(time.Now()) {
			thr++
			p.done(true)
		} else {
			ok++
			p.done(false)
		}
		time.Sleep(gap)
	}
	return ok, thr
}

// burstThenRandom throttles requests as a region that refuses 30% of them
// whatever the rate does, after a burst of 60% in the first 2 s that looks
// like a quota.
func burstThenRandom(rng *rand.Rand) func(now time.Time) bool {
	start := time.Now()
	return func(now time.Time) bool {
		if now.Sub(start) < 2*time.Second {
			return rng.Float64() < 0.6
		}
		return rng.Float64() < 0.3
	}
}

// TestPacerRandomThrottlingIsNoise: a region that throttles 30% of the
// requests whatever the rate, after a burst of 60% at the start that looks
// like a quota. The pacer may lower the rate during the burst, but must
// not follow the random throttles down after it: most of what the sender
// offers over the minute is sent (the rule this replaced sent 2%).
func TestPacerRandomThrottlingIsNoise(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ok, thr := pacerRun(t, time.Minute, burstThenRandom(rand.New(rand.NewPCG(1, 2))))
		sent, most := ok+thr, 400*60
		if sent < most*8/10 {
			t.Errorf("sent %d requests (%d accepted) in a minute; want at least 80%% of the %d the sender offered", sent, ok, most)
		}
	})
}

// pacerFindsQuota sends a request every gap for a minute against a quota
// of quota requests a second: the pacer must hold the rate near the quota,
// so that the quota is used and few requests are refused.
func pacerFindsQuota(t *testing.T, quota float64, gap time.Duration) {
	synctest.Test(t, func(t *testing.T) {
		tokens, last := quota/10, time.Now()
		ok, thr := pacerRunEvery(t, time.Minute, gap, func(now time.Time) bool {
			tokens = min(quota/10, tokens+now.Sub(last).Seconds()*quota)
			last = now
			if tokens < 1 {
				return true
			}
			tokens--
			return false
		})
		if want := int(quota * 60 * 0.85); ok < want {
			t.Errorf("%d requests accepted in a minute; want at least %d (85%% of the quota)", ok, want)
		}
		if thr > ok/2 {
			t.Errorf("%d requests throttled for %d accepted; want at most half as many: the rate should follow the quota", thr, ok)
		}
	})
}

// TestPacerFindsQuota: a quota of 100 requests a second, a sender that
// would send 400.
func TestPacerFindsQuota(t *testing.T) {
	pacerFindsQuota(t, 100, 2500*time.Microsecond)
}

// TestPacerRandomThrottlingSlowSender: the same region and burst, for a
// sender that offers 50 requests a second (a node at 10,000 lines/s with
// 50 streams). Its windows hold few outcomes, and while the pacer waited
// for eight windows in a row above paceOver to call the share noise, each
// of them lowered the rate, the next ones held fewer outcomes still, and a
// window below paceOver by chance started the count again: it sent 4–11%
// of the offered requests over the minute (the bench's partial-failure
// scenario delivered 1,967 of 10,000 lines/s in one run of six).
func TestPacerRandomThrottlingSlowSender(t *testing.T) {
	for seed := range uint64(10) {
		synctest.Test(t, func(t *testing.T) {
			ok, thr := pacerRunEvery(t, time.Minute, 20*time.Millisecond, burstThenRandom(rand.New(rand.NewPCG(seed, 2))))
			if sent, most := ok+thr, 50*60; sent < most*8/10 {
				t.Errorf("seed %d: sent %d requests (%d accepted) in a minute; want at least 80%% of the %d offered", seed, sent, ok, most)
			}
		})
	}
}

// TestPacerFindsQuotaSlowSender: a quota of 20 requests a second under a
// sender that offers 50: the pacer still holds the rate near the quota.
func TestPacerFindsQuotaSlowSender(t *testing.T) {
	pacerFindsQuota(t, 20, 20*time.Millisecond)
}
