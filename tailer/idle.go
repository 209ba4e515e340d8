package tailer

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// parkAfter is the shortest safety poll a follower parks for instead of
// waiting in its own goroutine: a file fsnotify watches that was quiet at
// its last look (its poll backed off past pollAttached).
const parkAfter = 2 * pollAttached

// idlePoller holds the followers of quiet files between two looks: such a
// follower has no goroutine and no timer of its own while it waits, one
// timer serves them all, and a wakeup (fsnotify, an acknowledgement, a
// detachment) starts its goroutine again. A node's idle files then cost a
// heap entry each, not a goroutine's stack and a timer.
type idlePoller struct {
	mu sync.Mutex
	// start runs a follower's goroutine; nil before Run and after it, when
	// parked followers stay parked (Drain and Close need no goroutine).
	start func(*follower)
	q     parkedQueue
	// changed tells the poller's goroutine that the earliest deadline may
	// have moved.
	changed chan struct{}
}

func newIdlePoller() *idlePoller {
	return &idlePoller{changed: make(chan struct{}, 1)}
}

// parkOutcome is what park did.
type parkOutcome int

const (
	// parked: the follower waits in the poller; its goroutine returns.
	parked parkOutcome = iota
	// parkWoken: a wakeup was already due (and is taken): read now.
	parkWoken
	// parkOff: the poller is not running (before or after Run, or a test
	// running a follower alone): wait in the goroutine.
	parkOff
)

// park takes f, whose goroutine is about to return, until wait has passed
// or something wakes it.
func (p *idlePoller) park(f *follower, quiet int, wait time.Duration) parkOutcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start == nil {
		return parkOff
	}
	// parked is set before the wakeup channel is looked at: a notify that
	// sent its token after this look sees parked and resumes f.
	f.parked.Store(true)
	select {
	case <-f.wake:
		f.parked.Store(false)
		return parkWoken
	default:
	}
	f.quiet = quiet
	heap.Push(&p.q, parkedFollower{f: f, due: time.Now().Add(wait)})
	if p.q.items[0].f == f {
		select {
		case p.changed <- struct{}{}:
		default:
		}
	}
	return parked
}

// wake resumes f if it is parked: its goroutine starts and reads at once.
func (p *idlePoller) wake(f *follower) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !f.parked.Load() || p.start == nil {
		return
	}
	heap.Remove(&p.q, f.parkIndex)
	p.resumeLocked(f, 0)
}

// resumeLocked starts f's goroutine again, its safety poll backed off by
// quiet looks. Callers hold p.mu.
func (p *idlePoller) resumeLocked(f *follower, quiet int) {
	f.parked.Store(false)
	f.parkIndex = -1
	f.quiet = quiet
	p.start(f)
}

// run resumes the parked followers as their deadlines pass, until ctx is
// done. begin must have been called.
func (p *idlePoller) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		now := time.Now()
		for len(p.q.items) > 0 && !p.q.items[0].due.After(now) {
			f := heap.Pop(&p.q).(parkedFollower).f
			p.resumeLocked(f, min(f.quiet+1, maxQuiet))
		}
		next := time.Hour
		if len(p.q.items) > 0 {
			next = p.q.items[0].due.Sub(now)
		}
		p.mu.Unlock()
		timer.Reset(next)
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.start = nil
			p.mu.Unlock()
			return
		case <-p.changed:
		case <-timer.C:
		}
	}
}

// parkedFiles returns how many followers are parked.
func (p *idlePoller) parkedFiles() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.q.items)
}

// begin lets the poller start goroutines with start, as Run does.
func (p *idlePoller) begin(start func(*follower)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start = start
}

// parkedFollower is a parked follower and when it looks at its file.
type parkedFollower struct {
	f   *follower
	due time.Time
}

// parkedQueue is a heap of parked followers, earliest deadline first; each
// follower knows its index (parkIndex) so that a wakeup removes it.
type parkedQueue struct{ items []parkedFollower }

func (q *parkedQueue) Len() int           { return len(q.items) }
func (q *parkedQueue) Less(i, j int) bool { return q.items[i].due.Before(q.items[j].due) }
func (q *parkedQueue) Swap(i, j int) {
	q.items[i], q.items[j] = q.items[j], q.items[i]
	q.items[i].f.parkIndex = i
	q.items[j].f.parkIndex = j
}

func (q *parkedQueue) Push(x any) {
	it := x.(parkedFollower)
	it.f.parkIndex = len(q.items)
	q.items = append(q.items, it)
}

func (q *parkedQueue) Pop() any {
	n := len(q.items) - 1
	it := q.items[n]
	q.items[n] = parkedFollower{}
	q.items = q.items[:n]
	it.f.parkIndex = -1
	return it
}
