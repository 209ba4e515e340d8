package tailer

import (
	"container/heap"
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// parkAfter is the shortest safety poll a follower parks for instead of
// waiting in its own goroutine: a watched file that was quiet at
// its last look (its poll backed off past pollAttached).
const parkAfter = 2 * pollAttached

// startBurst is how many follower goroutines may run before a new file's
// waits for its turn in the poller, startStep after the previous one: a
// thousand files start over 150 ms with about startBurst stacks at once,
// not a thousand (8 MiB of stacks at a start, most of them waiting to
// read).
const (
	startBurst = 64
	startStep  = 150 * time.Microsecond
)

// resumeSlack is how early the poller may resume a follower parked for a
// poll, so that the polls due within it are taken together.
const resumeSlack = 10 * time.Millisecond

// idlePoller holds the followers of quiet files between two looks: such a
// follower has no goroutine and no timer of its own while it waits, one
// timer serves them all, and a wakeup (a write, an acknowledgement, a
// detachment) starts its goroutine again. A node's idle files then cost a
// heap entry each, not a goroutine's stack and a timer.
type idlePoller struct {
	mu sync.Mutex
	// start runs a follower's goroutine; nil before Run and after it, when
	// parked followers stay parked (Drain and Close need no goroutine).
	start func(*follower)
	q     parkedQueue
	quiet int // parked followers of quiet files (not active)
	// nextStart is when the last follower startLater took starts.
	nextStart time.Time
	// changed tells the poller's goroutine that the earliest deadline may
	// have moved.
	changed chan struct{}
	// rounds counts the times its timer woke it.
	rounds atomic.Int64
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
// or something wakes it; a wakeup reads it at once, or at notBefore if that
// is later. active: f reads a growing file and stays counted as awake.
func (p *idlePoller) park(f *follower, quiet int, wait time.Duration, notBefore time.Time, active bool) parkOutcome {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start == nil {
		return parkOff
	}
	now := time.Now()
	due, woken := now.Add(wait), false
	// parked is set before the wakeup channel is looked at: a notify that
	// sent its token after this look sees parked and resumes f.
	f.parked.Store(true)
	select {
	case <-f.wake:
		if !now.Before(notBefore) {
			f.parked.Store(false)
			return parkWoken
		}
		due, woken = notBefore, true
	default:
	}
	f.quiet, f.notBefore, f.stillAwake = quiet, notBefore, active
	slack := resumeSlack // a read gap keeps its length
	if !active {
		p.quiet++
		slack = pollSlack(wait)
	}
	heap.Push(&p.q, parkedFollower{f: f, due: due, woken: woken, active: active, slack: slack})
	if p.q.items[0].f == f {
		p.changedLocked()
	}
	return parked
}

// spreadStart returns the start function of scans: past startBurst
// running followers, a new one waits its turn in the poller. A scan that
// finds many files (the first, with a thousand) then starts their
// goroutines a few at a time; each would otherwise hold a stack while it
// waits its turn to read.
func (d *followerDeps) spreadStart(run func(*follower)) func(*follower) {
	return func(f *follower) {
		if d.running.Load() < startBurst || !d.idle.startLater(f) {
			run(f)
		}
	}
}

// startLater has the poller start a new follower's goroutine after the
// ones it already holds for a start, startStep apart; it reports false when
// the poller is not running. A wakeup does not hurry it.
func (p *idlePoller) startLater(f *follower) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.start == nil {
		return false
	}
	if now := time.Now(); p.nextStart.Before(now) {
		p.nextStart = now
	}
	p.nextStart = p.nextStart.Add(startStep)
	f.parked.Store(true)
	f.quiet, f.notBefore, f.stillAwake = 0, p.nextStart, false
	heap.Push(&p.q, parkedFollower{f: f, due: p.nextStart, woken: true, starting: true})
	if p.q.items[0].f == f {
		p.changedLocked()
	}
	return true
}

// changedLocked tells the poller's goroutine that the earliest deadline may
// have moved. Callers hold p.mu.
func (p *idlePoller) changedLocked() {
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// wake resumes f if it is parked: its goroutine starts and reads at once,
// or at its notBefore.
func (p *idlePoller) wake(f *follower) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !f.parked.Load() || p.start == nil {
		return
	}
	it := &p.q.items[f.parkIndex]
	if it.woken {
		return // due at its read gap already
	}
	if now := time.Now(); now.Before(f.notBefore) {
		// Read a moment ago: the lines written meanwhile come in one
		// round at the end of its read gap.
		it.woken = true
		if f.notBefore.Before(it.due) {
			it.due = f.notBefore
			heap.Fix(&p.q, f.parkIndex)
			if p.q.items[0].f == f {
				p.changedLocked()
			}
		}
		return
	}
	p.removeLocked(f)
	p.resumeLocked(f, 0)
}

// removeLocked takes f out of the queue. Callers hold p.mu.
func (p *idlePoller) removeLocked(f *follower) parkedFollower {
	it := heap.Remove(&p.q, f.parkIndex).(parkedFollower)
	if !it.active && !it.starting {
		p.quiet--
	}
	return it
}

// resumeLocked starts f's goroutine again, its safety poll backed off by
// quiet looks. A wakeup token sent before now is answered by the read the
// goroutine starts with, so it is taken: it would only make it read again.
// Callers hold p.mu.
func (p *idlePoller) resumeLocked(f *follower, quiet int) {
	select {
	case <-f.wake:
	default:
	}
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
	var looks []glanced
	for {
		p.mu.Lock()
		now := time.Now()
		// Polls due within their slack are taken together: a thousand
		// files polled once a second wake the agent about a hundred
		// times a second, not a thousand, and polled every
		// pollQuietMax about once a second.
		for len(p.q.items) > 0 && !p.q.items[0].due.After(now.Add(p.slack(p.q.items[0]))) {
			it := p.removeLocked(p.q.items[0].f)
			quiet := min(it.f.quiet+1, maxQuiet)
			if it.woken {
				quiet = 0
			} else if !it.active && !it.starting {
				// A quiet file's safety poll: the poller looks itself,
				// below, and starts the follower only if the file changed.
				it.f.parked.Store(false)
				looks = append(looks, glanced{f: it.f, quiet: quiet})
				continue
			}
			p.resumeLocked(it.f, quiet)
		}
		if len(looks) > 0 {
			// Looked at without p.mu (a look takes the tailer's lock,
			// which wakeAll holds while it takes p.mu). The followers are
			// out of the queue and not parked meanwhile: a wakeup only
			// leaves its token, which reparkLocked finds.
			p.mu.Unlock()
			for i := range looks {
				looks[i].wait, looks[i].same = looks[i].f.glance(looks[i].quiet)
			}
			p.mu.Lock()
			now = time.Now()
			for i, l := range looks {
				p.reparkLocked(l, now)
				looks[i] = glanced{}
			}
			looks = looks[:0]
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
			p.rounds.Add(1)
		}
	}
}

// glanced is a quiet follower the poller looks at itself, and what it
// found: whether the file is the same, and the follower's next poll.
type glanced struct {
	f     *follower
	quiet int
	wait  time.Duration
	same  bool
}

// reparkLocked puts back in the queue a follower the poller glanced at,
// due for its next poll, or starts it when its file changed or a wakeup
// came during the look (its token is in f.wake: parked was off, so the
// wakeup did not look for it in the queue). As in park, parked is set
// before the token is looked for. Callers hold p.mu.
func (p *idlePoller) reparkLocked(l glanced, now time.Time) {
	f := l.f
	if !l.same {
		p.resumeLocked(f, l.quiet)
		return
	}
	f.parked.Store(true)
	select {
	case <-f.wake:
		p.resumeLocked(f, 0)
		return
	default:
	}
	f.quiet, f.notBefore, f.stillAwake = l.quiet, time.Time{}, false
	p.quiet++
	heap.Push(&p.q, parkedFollower{f: f, due: now.Add(l.wait), slack: pollSlack(l.wait)})
}

// slack is how early a parked follower may resume: a poll may come a
// little early; a wakeup held to the end of a read gap, or a start, may
// not.
func (p *idlePoller) slack(it parkedFollower) time.Duration {
	if it.starting || it.woken {
		return 0
	}
	return it.slack
}

// pollSlack is how early a poll after wait may come: resumeSlack, and a
// sixteenth of a backed-off poll's wait (up to a second at pollQuietMax).
// A thousand idle files polled every pollQuietMax, each at its own
// moment, then wake the agent about once a second, not sixty times: the
// polls due within the second are taken together. A safety poll a
// sixteenth early changes nothing but when it happens.
func pollSlack(wait time.Duration) time.Duration {
	if wait < 2*pollAttached {
		return resumeSlack
	}
	return max(resumeSlack, wait/16)
}

// parkedFiles returns how many followers of quiet files are parked.
func (p *idlePoller) parkedFiles() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.quiet
}

// begin lets the poller start goroutines with start, as Run does.
func (p *idlePoller) begin(start func(*follower)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start = start
}

// parkedFollower is a parked follower and when it looks at its file.
type parkedFollower struct {
	f        *follower
	due      time.Time
	woken    bool // a wakeup came during its read gap, which due is the end of
	active   bool // parked between two reads of a growing file
	starting bool // a new follower whose goroutine has not run yet
	// slack is how early its poll may come (pollSlack; resumeSlack for
	// an active one); woken and starting ones come on time.
	slack time.Duration
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
