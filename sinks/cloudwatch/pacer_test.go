package cloudwatch

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

// pacerRun sends requests through a pacer for d at up to 400 a second;
// throttled decides each request's outcome at its time. It returns the
// requests that succeeded and those throttled.
func pacerRun(t *testing.T, d time.Duration, throttled func(now time.Time) bool) (ok, thr int) {
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
		time.Sleep(2500 * time.Microsecond)
	}
	return ok, thr
}

// TestPacerFindsQuota: a quota of 100 requests a second, a sender that
// would send 400: the pacer holds the rate near the quota, so the quota is
// used and few requests are refused.
func TestPacerFindsQuota(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const quota = 100.0
		tokens, last := quota/10, time.Now()
		ok, thr := pacerRun(t, time.Minute, func(now time.Time) bool {
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
