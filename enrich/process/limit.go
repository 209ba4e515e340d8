package process

import (
	"errors"
	"sync"
	"time"

	"github.com/skiff-agent/skiff/tailer"
)

// DefaultBurst is how much of its rate a limit lets through at once.
const DefaultBurst = time.Second

// idleBucket is how long a pod's bucket is kept after its last record.
const idleBucket = 5 * time.Minute

// Limit bounds the rate of the records of each pod (or container) that
// Select picks, with a token bucket.
type Limit struct {
	// Name names the limit in errors.
	Name string
	// Select is the records the limit applies to; the zero value is all.
	Select Select
	// PerContainer counts each container of a pod on its own; default per
	// pod.
	PerContainer bool
	// Lines and Bytes are the rates, per second; 0 is no bound. Bytes
	// counts the line's bytes.
	Lines, Bytes float64
	// Burst is how many seconds of the rate may pass at once after a quiet
	// time; default DefaultBurst.
	Burst time.Duration
	// Hold holds a pod over its rate back (its files wait, nothing is
	// dropped) instead of dropping its records.
	Hold bool
}

// Validate reports what is wrong with l.
func (l *Limit) Validate() error {
	var errs []error
	if l.Lines < 0 || l.Bytes < 0 {
		errs = append(errs, errors.New("rates cannot be negative"))
	}
	if l.Lines == 0 && l.Bytes == 0 {
		errs = append(errs, errors.New("a limit needs lines_per_second or bytes_per_second"))
	}
	if l.Burst < 0 {
		errs = append(errs, errors.New("burst cannot be negative"))
	}
	if err := l.Select.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// limiter keeps a bucket per limit and pod (or container).
type limiter struct {
	limits []Limit
	mu     sync.Mutex
	bucket map[bucketKey]*bucket
	swept  time.Time
}

type bucketKey struct {
	limit     int
	ns, pod   string
	container string
}

// bucket holds the tokens left, which go negative when a held-back pod's
// batch was let through on credit.
type bucket struct {
	lines, bytes float64
	at           time.Time
}

func newLimiter(limits []Limit) *limiter {
	ls := make([]Limit, len(limits))
	copy(ls, limits)
	for i := range ls {
		if ls[i].Burst <= 0 {
			ls[i].Burst = DefaultBurst
		}
	}
	return &limiter{limits: ls, bucket: make(map[bucketKey]*bucket)}
}

// key returns the bucket key of rec under limit i, and whether the record
// has a pod to be limited.
func (l *limiter) key(i int, rec *tailer.Record) (bucketKey, bool) {
	ns, pod, container := names(rec)
	if pod == "" {
		return bucketKey{}, false
	}
	k := bucketKey{limit: i, ns: ns, pod: pod}
	if l.limits[i].PerContainer {
		k.container = container
	}
	return k, true
}

// get returns the bucket of k, refilled up to now. Callers hold l.mu.
func (l *limiter) get(k bucketKey, now time.Time) *bucket {
	lim := &l.limits[k.limit]
	b := l.bucket[k]
	burst := lim.Burst.Seconds()
	if b == nil {
		b = &bucket{lines: lim.Lines * burst, bytes: lim.Bytes * burst, at: now}
		l.bucket[k] = b
		return b
	}
	if dt := now.Sub(b.at).Seconds(); dt > 0 {
		b.lines = min(b.lines+lim.Lines*dt, lim.Lines*burst)
		b.bytes = min(b.bytes+lim.Bytes*dt, lim.Bytes*burst)
		b.at = now
	}
	return b
}

// sweep forgets the buckets of pods quiet for idleBucket. Callers hold l.mu.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < idleBucket {
		return
	}
	l.swept = now
	for k, b := range l.bucket {
		if now.Sub(b.at) > idleBucket {
			delete(l.bucket, k)
		}
	}
}

// hold reports whether a pod of recs under a holding limit is over its
// rate, in which case nothing is taken; otherwise the batch's records are
// taken from their holding buckets, on credit if need be.
func (l *limiter) hold(recs []tailer.Record, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	held := false
	for i := range l.limits {
		if !l.limits[i].Hold {
			continue
		}
		for r := range recs {
			if !l.limits[i].Select.Matches(&recs[r]) {
				continue
			}
			if k, ok := l.key(i, &recs[r]); ok {
				if l.over(i, l.get(k, now), 0) {
					held = true
				}
			}
		}
	}
	if held {
		return true
	}
	for i := range l.limits {
		if !l.limits[i].Hold {
			continue
		}
		for r := range recs {
			if !l.limits[i].Select.Matches(&recs[r]) {
				continue
			}
			if k, ok := l.key(i, &recs[r]); ok {
				l.take(i, l.get(k, now), len(recs[r].Message))
			}
		}
	}
	return false
}

// drop returns the dropping limit that rec is over, taking it from the
// buckets of the others; nil when it passes.
func (l *limiter) drop(rec *tailer.Record, now time.Time) *Limit {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := range l.limits {
		lim := &l.limits[i]
		if lim.Hold || !lim.Select.Matches(rec) {
			continue
		}
		k, ok := l.key(i, rec)
		if !ok {
			continue
		}
		b := l.get(k, now)
		if l.over(i, b, len(rec.Message)) {
			return lim
		}
		l.take(i, b, len(rec.Message))
	}
	return nil
}

// over reports whether b lacks a line or size bytes (with size 0: any
// byte) under limit i's rates.
func (l *limiter) over(i int, b *bucket, size int) bool {
	lim := &l.limits[i]
	return (lim.Lines > 0 && b.lines < 1) || (lim.Bytes > 0 && (b.bytes <= 0 || b.bytes < float64(size)))
}

// take takes a line of size bytes from b.
func (l *limiter) take(i int, b *bucket, size int) {
	if l.limits[i].Lines > 0 {
		b.lines--
	}
	if l.limits[i].Bytes > 0 {
		b.bytes -= float64(size)
	}
}
