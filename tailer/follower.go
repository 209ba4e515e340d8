package tailer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/skiff-agent/skiff/tailer/multiline"
)

// Follower timing. No timer ever closes a file with unread or
// unacknowledged bytes: a file is closed only when it is detached (its path
// leads elsewhere or nowhere), has been at its end, not growing, for
// closeQuiet, and every record read from it was acknowledged.
const (
	pollAttached = time.Second            // safety poll behind the watcher
	pollDetached = 100 * time.Millisecond // a rotated or deleted file drains fast
	// pollQuietMax bounds the safety poll of a watched file that
	// has not changed for a while: it doubles from pollAttached at each
	// quiet look, so that a thousand idle files cost almost nothing.
	pollQuietMax = 16 * time.Second
	// maxQuiet is the quiet looks after which the poll stops backing off
	// (after armAfter-1 more where writes are reported on request).
	maxQuiet = 4 + armAfter - 1
	// armAfter is how many looks a read gap apart must find nothing new
	// before a file that stopped growing asks the watcher to wake it at its
	// next write, where writes are reported on request: a file written
	// about as often as it is read is polled, not woken.
	armAfter = 2
	// readEvery is the shortest time between two reads of a growing file:
	// the writes made meanwhile are read together, a round of
	// many lines instead of one wakeup per line. Well inside the sink's
	// flush interval.
	readEvery = 250 * time.Millisecond
	// readersPerEvery is how many files may be read every readEvery: with
	// more followers awake (reading a growing file), each waits longer
	// between reads, up to readEveryMax, so that a thousand busy files cost
	// about as many reads a second as 500 do (each look at a file is an
	// fstat and two preads, about half the tailer's CPU with a thousand
	// pods), a few lines each read. With that many streams the sink
	// stretches its flush interval to 5 s anyway.
	readersPerEvery = 125
	readEveryMax    = 2 * time.Second
	// eventPause is how long the tailer lets the watcher's events gather after
	// handling some, and eventBuffer how many wait in the channel; the rest
	// wait in the kernel's queue (16,384 by default; an overflow makes a
	// rescan and wakes every file).
	eventPause  = 20 * time.Millisecond
	eventBuffer = 128
	closeQuiet  = time.Second
	flushIdle   = 5 * time.Second // an unfinished line in a quiet file is shipped as is
	// spoolDelay is how long a rotated file may hold unacknowledged bytes
	// before they are copied to the spool, in case the kubelet deletes it
	// while the output is failing. A deleted file is spooled at once.
	spoolDelay = 2 * time.Second
)

// Log attribute keys.
const (
	logPath   = "path"
	logTarget = "target"
	logError  = "error"
	logBytes  = "bytes"
	logReason = "reason"
	logOffset = "offset"
	logSpool  = "spool"
)

// followerDeps is what a follower is given by the tailer: settings, where
// records go, the parts shared by every follower, and the few things it
// tells the tailer. One value serves every follower of a Tailer.
type followerDeps struct {
	maxLine  int  // Config.MaxLineBytes
	truncate bool // Config.LongLines is LongLinesTruncate
	log      *slog.Logger
	m        *metrics
	gate     *fairGate // turns to read
	out      Consumer
	bufs     roundBufs
	spool    *spool // nil without a StateDir

	// retire takes a finished file out of discovery and closes it, keeping
	// its checkpoint entry, unless a path led back to it meanwhile (and
	// force is false). It reports whether the file was closed. It takes
	// Tailer.mu: callers hold no lock.
	retire func(f *follower, force bool) bool
	// wakeSpooler asks for the unacknowledged bytes of detached files to be
	// protected now. It does not block.
	wakeSpooler func()
	// truncated is called by f's goroutine when f's file was truncated
	// under its read offset; fp is the old content's fingerprint. It
	// follows the copy copytruncate made of the old content, which takes
	// over f's acknowledgements, and any copy nobody read, and returns the
	// path of the copy that took over.
	truncated func(f *follower, fp fingerprint) (copyPath string, ok bool)
	// persistUnsafe writes the checkpoint now, once a deleted file's
	// unacknowledged bytes are kept nowhere but in its descriptor: after a
	// crash the next start counts them as skipped from its entry, which
	// must say so and hold their size; waiting for the next interval would
	// lose them uncounted. Callers hold no lock.
	persistUnsafe func()
	// watching reports whether the watcher watches dir, so that its files'
	// safety poll may back off. It takes Tailer.mu.
	watching func(dir string) bool
	// armsWrites: the watcher reports a file's writes only when asked, by
	// watchWrite, which wakes f (wroteNow) at its file's next write and
	// returns the watch.
	armsWrites atomic.Bool
	watchWrite func(f *follower) (int32, error)
	watchLimit atomic.Bool // the watch limit was reached (logged once)
	// multiline chooses a file's multi-line rule at each round (nil: no
	// joining), and quiet is how long a group waits for its next line.
	multiline func(*FileMeta) (*multiline.Rule, bool)
	quiet     time.Duration
	ruleWait  time.Duration
	// idle holds the followers of quiet files while they wait.
	idle *idlePoller
	// awake counts the followers reading a growing file (their goroutine
	// runs, or they wait in the poller between two reads); running counts
	// the goroutines.
	awake, running atomic.Int64
	// closeQuiet, spoolDelay, readEvery and stallAfter are the constants
	// of those names; a test may change them before Run.
	closeQuiet, spoolDelay, readEvery, stallAfter time.Duration
}

// follower reads one file. Its goroutine, started by Run, is the only one
// touching the read state (off, asm); Drain uses it after Run returned.
type follower struct {
	d    *followerDeps
	meta *FileMeta
	file *os.File
	id   fileID

	mu       sync.Mutex // guards fp
	fp       fingerprint
	off      int64 // next byte to read, always at a line boundary
	asm      *assembler
	lastSafe int64
	// verify: a round found the file's first bytes changed under its read;
	// they are checked before the next read.
	verify  bool
	grown   time.Time // when the file last grew
	modTime time.Time // its modification time at the last look
	flushed bool      // the unfinished line was flushed for idleness
	// ruleKnown: the multi-line rule was decided, or waited for long enough.
	ruleKnown bool

	acks     atomic.Pointer[ackTracker]
	size     atomic.Int64 // last size seen
	readOff  atomic.Int64 // off, for the lag metric
	detached atomic.Bool  // its path no longer leads to it
	deleted  atomic.Bool  // it has no link left
	skip     atomic.Value // string: a bound's reason to give up on the file
	closed   atomic.Bool
	detachAt atomic.Int64 // unix nanos when it was detached
	spoolNow atomic.Bool  // found rotated away: spooled without the delay
	written  atomic.Bool  // the watcher reported a write since the last look
	// armed: the watcher wakes the follower at the file's next write
	// (watchWrite), through the watch writeWd (kept after it fired, for
	// retire to cancel: cancelling a fired watch does nothing);
	// watchFailed: asking for that failed once (logged).
	armed       atomic.Bool
	writeWd     atomic.Int32
	watchFailed bool

	opened time.Time
	began  int64 // the offset reading began at
	wake   chan struct{}
	// parked: the follower waits in the idle poller, without a goroutine,
	// at parkIndex in its queue; quiet is its safety polls in a row that
	// found nothing new, for the goroutine it resumes in; notBefore is the
	// earliest a wakeup reads it again (its read gap); stillAwake: it was
	// parked between two reads of a growing file and still counts as
	// awake. All are guarded by the poller's mu while parked.
	parked     atomic.Bool
	parkIndex  int
	quiet      int
	notBefore  time.Time
	stillAwake bool
	// fpHex is the fingerprint sum fpHexOf as the checkpoint writes it,
	// kept so that an idle checkpoint formats nothing. Guarded by
	// Tailer.mu, under which entry is called.
	fpHex   string
	fpHexOf uint64

	// isCopy: a truncation found the file as the copy of old content (set
	// before the follower starts, under the Tailer's mu).
	isCopy bool
	// lastLook is when the follower last looked at its file (unix nanos):
	// a live one that has not for stallAfter is held up, writing to an
	// output that is full or refuses, or waiting for its turn.
	lastLook atomic.Int64
	// heldFor: the file appeared next to the file at heldFor after that
	// file was truncated while its follower was held up (copytruncate's
	// copy, or the copies of contents it never saw). It is kept open, and
	// spooled if deleted, but not read until that follower takes it as
	// its copy (followCopy) or lets it be read whole (catchCopies).
	// Guarded by the Tailer's mu.
	heldFor string
	// fromSpool: the file is a spool entry left by an earlier run; it never
	// grows, and its entry is removed once everything in it is acknowledged.
	fromSpool bool
	// spooled is the spool entry holding the file's unacknowledged bytes;
	// spoolLost says the spool had to give them up (its bound); lostEnd and
	// lostFP are the file's size and fingerprint then, which the follower
	// may not have read yet. All are
	// guarded by mu.
	spooled   *spoolFile
	spoolLost bool
	lostEnd   int64
	lostFP    fingerprint
	// rewritten is the spool entry of what a deleted file holds after a
	// truncation its follower has not seen yet (spoolRewritten); the
	// follower adopts it when it finds the truncation. unspooled is the
	// size of that content when the spool refused it (logged once, counted
	// as lost by Close). Guarded by mu.
	rewritten *spoolFile
	unspooled int64

	unsent      *roundBuf // a batch whose Write failed, to send again
	unsentChunk *ackChunk

	// carry hands multi-line groups to the file that follows this one
	// after a rotation (its successor); pred is the rotated file this
	// one follows, until its first read.
	carryMu sync.Mutex
	carry   *carry
	pred    *follower
}

func newFollower(d *followerDeps, file *os.File, id fileID, meta *FileMeta, start int64, fp fingerprint) *follower {
	f := &follower{
		d:      d,
		meta:   meta,
		file:   file,
		id:     id,
		fp:     fp,
		off:    start,
		asm:    newAssembler(meta, d.maxLine, d.truncate),
		wake:   make(chan struct{}, 1),
		opened: time.Now(),
		began:  start,
	}
	f.lastSafe = start
	f.acks.Store(newAckTracker(start, f.ackedAll))
	f.readOff.Store(start)
	f.size.Store(start)
	f.lastLook.Store(f.opened.UnixNano())
	return f
}

// ackedAll is called when the output acknowledged every record handed
// out: a rotated file waits for that to close (finishIfDone). A file its
// path still leads to has nothing to do then; waking it would only make a
// look per delivered batch.
func (f *follower) ackedAll() {
	if f.detached.Load() {
		f.notify()
	}
}

// notify wakes the follower without blocking, parked or not.
func (f *follower) notify() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
	if f.parked.Load() {
		f.d.idle.wake(f)
	}
}

// detach marks the file as no longer reachable by its path.
func (f *follower) detach() {
	if !f.detached.Swap(true) {
		f.detachAt.Store(time.Now().UnixNano())
	}
	f.notify()
}

// detachedSince marks a file found already rotated away (at a restart, or
// between two scans) as detached since at, its last modification: it may
// be deleted any moment, so it is not given the spool delay again (its
// rotation may be older than the delay, and a start often follows a crash
// in an outage).
func (f *follower) detachedSince(at time.Time) {
	f.detachAt.Store(at.UnixNano())
	f.spoolNow.Store(true)
	f.detached.Store(true)
	f.notify()
	f.d.wakeSpooler()
}

// fingerprint returns the file's current fingerprint.
func (f *follower) fingerprint() fingerprint {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fp
}

// coverFingerprint grows the fingerprint over data, the bytes just read at
// the read offset, up to fingerprintBytes: the follower reads no first
// bytes it could not tell from a rewrite's. A truncation resets the
// fingerprint and may rewrite the file before it can be taken again. It
// reports false when the file no longer starts with the bytes the
// fingerprint covers and data: it changed under the read.
func (f *follower) coverFingerprint(data []byte) bool {
	fp := f.fingerprint()
	need := int(min(f.off+int64(len(data)), fingerprintBytes))
	if fp.N >= need || f.fromSpool {
		return true // a spool entry never changes, and its identity is fixed
	}
	var buf [fingerprintBytes]byte
	if got, _ := f.file.ReadAt(buf[:need], 0); got < need {
		return false
	}
	head := buf[:need]
	if fp.N > 0 && fingerprintOf(head[:fp.N]) != fp {
		return false
	}
	if f.off < int64(need) && !bytes.Equal(head[f.off:], data[:need-int(f.off)]) {
		return false
	}
	f.mu.Lock()
	f.fp = fingerprintOf(head)
	f.mu.Unlock()
	return true
}

// goRun runs f in a goroutine of wg, counted in running.
func (d *followerDeps) goRun(ctx context.Context, wg *sync.WaitGroup, f *follower) {
	d.running.Add(1)
	wg.Go(func() {
		defer d.running.Add(-1)
		f.run(ctx)
	})
}

// run follows the file until it is finished or ctx is done.
func (f *follower) run(ctx context.Context) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	failing := false
	// quiet counts the safety polls in a row that found nothing new; a
	// follower resumed from the idle poller goes on counting.
	quiet := f.quiet
	f.quiet = 0
	// A follower counts as awake while it reads a growing file, parked
	// between two reads or not (the read gap grows with their number).
	if !f.stillAwake {
		f.d.awake.Add(1)
	}
	f.stillAwake = false
	stayAwake := false
	defer func() {
		if !stayAwake {
			f.d.awake.Add(-1)
		}
	}()
	if !f.adopt(ctx) {
		return
	}
	for {
		began := time.Now()
		size, off := f.size.Load(), f.off
		if err := f.catchUp(ctx, true, false); err != nil {
			if ctx.Err() != nil {
				return
			}
			// Consumers return only ctx's error; if one does not, keep
			// the batch and try again at the next poll.
			if !failing {
				f.d.log.Warn("output refused records; offering them again at the next poll", append(f.logAttrs(), logError, err)...)
			}
			failing = true
		} else {
			failing = false
		}
		if !failing && f.detached.Load() && f.off >= f.size.Load() {
			f.resolve()
		}
		if !failing && f.finishIfDone(ctx) {
			return
		}
		if size != f.size.Load() || off != f.off || failing {
			quiet = 0
		}
		wait := f.poll(quiet)
		growing := false
		if f.d.armsWrites.Load() && !failing && !f.detached.Load() {
			// The watcher reports a write only when asked. A growing file
			// is looked at again at the end of its read gap, whatever was
			// written meanwhile; a file that stopped growing asks to be
			// woken at its next write.
			if quiet < armAfter {
				// The one-second safety poll does not cut a longer read
				// gap short: the look at the gap's end is the poll.
				gapEnd := max(time.Until(began.Add(f.d.readGap())), time.Millisecond)
				if wait >= pollAttached {
					wait = gapEnd
				} else {
					wait = min(wait, gapEnd)
				}
				growing = !f.asm.grouping()
			} else {
				wait = f.poll(quiet - armAfter + 1)
				if !f.armed.Load() {
					switch f.watchWrite() {
					case watchGrew:
						quiet = 0
						continue
					case watchFailed:
						wait = min(wait, pollAttached)
					}
				}
			}
		}
		// Wait in the idle poller, without a goroutine: a quiet file until
		// its backed-off poll, and a growing one between two reads (no
		// rotation or multi-line group to watch closely), which a wakeup
		// reads again once its read gap has passed.
		active := wait < parkAfter || growing
		if !failing && f.d.idle != nil && (!active || growing || wait >= pollAttached && !f.detached.Load()) {
			switch f.d.idle.park(f, quiet, wait, began.Add(f.d.readGap()), active) {
			case parked:
				stayAwake = active
				return
			case parkWoken:
				quiet = 0
				continue
			}
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-f.wake:
			quiet = 0
			// A file written line by line is read at most every
			// readEvery: the lines written meanwhile come in one round.
			if wait := f.d.readGap() - time.Since(began); wait > 0 && !f.detached.Load() {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				}
			}
		case <-timer.C:
			quiet = min(quiet+1, maxQuiet)
		}
	}
}

// watchOutcome is what watchWrite found.
type watchOutcome int

const (
	watchArmed  watchOutcome = iota // the next write wakes the follower
	watchGrew                       // the file changed before the watch began: read it
	watchFailed                     // no watch: poll
)

// watchWrite asks the watcher to wake f at its file's next write, then
// looks at its size once more: a write between the last look and the
// watch is reported by neither.
func (f *follower) watchWrite() watchOutcome {
	// Armed before the watch exists: its wakeup (wroteNow, which disarms)
	// may come before watchWrite returns.
	f.armed.Store(true)
	wd, err := f.d.watchWrite(f)
	if err != nil {
		f.armed.Store(false)
		if errors.Is(err, syscall.ENOSPC) && !f.d.watchLimit.Swap(true) {
			f.d.log.Warn("the inotify watch limit (fs.inotify.max_user_watches) is reached; files that cannot be watched are polled every second",
				append(f.logAttrs(), logError, err)...)
		} else if !f.watchFailed {
			f.d.log.Debug("cannot watch the file for writes; polling it every second", append(f.logAttrs(), logError, err)...)
		}
		f.watchFailed = true
		return watchFailed
	}
	f.writeWd.Store(wd)
	if fi, err := f.file.Stat(); err == nil && fi.Size() != f.size.Load() {
		return watchGrew
	}
	return watchArmed
}

// wroteNow is the wakeup of f's write watch, called by the watcher's
// goroutine.
func (f *follower) wroteNow() {
	f.armed.Store(false)
	f.written.Store(true)
	f.notify()
}

// readGap is the shortest time between two reads of a growing file:
// readEvery, longer when more than readersPerEvery followers are awake.
func (d *followerDeps) readGap() time.Duration {
	n := d.awake.Load()
	if n <= readersPerEvery {
		return d.readEvery
	}
	return min(d.readEvery*time.Duration(n)/readersPerEvery, max(d.readEvery, readEveryMax))
}

// poll returns how long the follower waits for a wakeup before it looks
// at the file anyway, after quiet looks in a row that found nothing new.
func (f *follower) poll(quiet int) time.Duration {
	switch {
	case f.detached.Load():
		if f.off < f.size.Load() {
			return pollDetached
		}
		// At its end: look again when it has been quiet for closeQuiet
		// (an acknowledgement wakes it too).
		if left := f.d.closeQuiet - time.Since(f.quietSince()); left > 0 {
			return min(left+time.Millisecond, pollAttached)
		}
		return pollAttached
	case !f.ruleKnown && f.d.multiline != nil:
		return 50 * time.Millisecond // waiting for the pod's metadata
	case f.asm.grouping():
		// A multi-line group is shipped once quiet.
		return min(pollAttached, max(f.asm.groupWait(time.Now(), f.d.quiet), time.Millisecond))
	case quiet == 0 || f.asm.pending() || f.unsent != nil || !f.d.watching(filepath.Dir(f.meta.Target)):
		// Something to ship soon, or no watcher to say when the file
		// changes: the poll is all there is.
		return pollAttached
	}
	return min(pollAttached<<quiet, pollQuietMax)
}

// glance is the safety poll of a quiet follower parked in the idle poller,
// taken by the poller itself: one fstat, no goroutine started. It reports
// whether the follower would find nothing to do (its write watch armed,
// nothing pending, the file linked, read to its end and not modified
// since its last look), and how long it then waits for its next poll.
// The poller calls it without its mu, with f taken out of its queue and
// not marked parked: f's goroutine is not running, and a wakeup only
// leaves its token.
func (f *follower) glance(quiet int) (time.Duration, bool) {
	if quiet < armAfter || !f.d.armsWrites.Load() || !f.armed.Load() || f.written.Load() ||
		f.pred != nil || f.verify || f.skipping() || f.deleted.Load() {
		return 0, false
	}
	wait := f.poll(quiet - armAfter + 1)
	if wait < parkAfter {
		return 0, false // detached, waiting for a rule or a group, or unwatched
	}
	fi, err := f.file.Stat()
	if err != nil || linksOf(fi) == 0 {
		return 0, false
	}
	size := fi.Size()
	if size != f.size.Load() || size != f.off || !fi.ModTime().Equal(f.modTime) || f.modTime.IsZero() {
		return 0, false
	}
	return wait, true
}

// quietSince returns when a detached file last changed: its detachment,
// or its last growth after it.
func (f *follower) quietSince() time.Time {
	at := time.Unix(0, f.detachAt.Load())
	if f.grown.After(at) {
		return f.grown
	}
	return at
}

// finishIfDone closes a detached file that has been at its end without
// growing for closeQuiet, after shipping its last unfinished line, or a
// file a bound made us give up. It reports whether the follower is done.
func (f *follower) finishIfDone(ctx context.Context) bool {
	d := f.d
	if reason, ok := f.skip.Load().(string); ok && reason != "" {
		skipped := f.unread()
		d.m.skipped.WithLabelValues(reason).Add(float64(skipped))
		d.log.Warn("giving up on a file; its unread bytes are skipped",
			append(f.logAttrs(), logReason, reason, logBytes, skipped)...)
		f.acks.Load().chunk(0, max(f.size.Load(), f.lastSafe))
		return d.retire(f, true)
	}
	if !f.detached.Load() {
		return false
	}
	fi, err := f.file.Stat()
	if err != nil {
		return false
	}
	if fi.Size() > f.size.Load() {
		return false // grew since: read again first
	}
	if time.Since(f.quietSince()) < f.d.closeQuiet || f.ruleUndecided() {
		return false
	}
	if err := f.drain(ctx, true); err != nil {
		return false
	}
	if f.off < fi.Size() || f.asm.pending() {
		return false
	}
	// Read to its end: it stays open until the output acknowledged every
	// record, since until then the file is the only durable copy. An
	// acknowledgement of the last chunk wakes the follower.
	if !f.acks.Load().idle() {
		d.wakeSpooler()
		return false
	}
	return d.retire(f, false)
}

// catchUp checks the file for truncation and reads it to its end, one
// round at a time. gated rounds take turns with the other files. bounded
// stops at the size seen when it started, so that a busy writer cannot
// keep a shutdown drain going.
func (f *follower) catchUp(ctx context.Context, gated, bounded bool) error {
	if f.skipping() {
		return nil
	}
	if gated && f.ruleUndecided() {
		return nil // read once the pod's multi-line rule is known; a shutdown does not wait
	}
	if err := f.resend(ctx); err != nil {
		return err
	}
	written := f.written.Swap(false)
	fi, err := f.file.Stat()
	if err != nil {
		f.written.Store(written)
		return nil // retried at the next poll
	}
	size := fi.Size()
	f.lastLook.Store(time.Now().UnixNano())
	f.deleted.Store(linksOf(fi) == 0)
	// Unchanged since the last look and read to its end: only the idle
	// flush below may have work. This keeps an idle file at one fstat per
	// poll. A write the watcher reported says otherwise: a copytruncate may
	// rewrite the file to the same size within the clock tick of its
	// modification time.
	idle := !written && size == f.size.Load() && size == f.off && fi.ModTime().Equal(f.modTime) && !f.modTime.IsZero()
	f.modTime = fi.ModTime()
	if !idle {
		if err := f.checkTruncation(ctx, size); err != nil {
			return err
		}
	}
	prev := f.size.Swap(size)
	if size > prev {
		f.grown = time.Now()
		f.flushed = false
	}
	verified := false
	for !idle && !f.skipping() && !(bounded && f.off >= size) {
		if gated {
			if err := f.d.gate.acquire(ctx); err != nil {
				return err
			}
		}
		n, err := f.round(ctx, false)
		if gated {
			f.d.gate.release()
		}
		if err != nil {
			return err
		}
		if f.verify && !verified {
			// The round found the first bytes changed under it: size is
			// the new content's. Check them as a look does before reading
			// (it counts what was not read of the old content, as of the
			// size last seen), then read on, from 0 if truncated.
			verified = true
			f.size.Store(prev)
			if err := f.checkTruncation(ctx, size); err != nil {
				return err
			}
			if f.verify {
				break // could not check: the next look does
			}
			f.size.Store(size)
			continue
		}
		// At the size the look saw: what was written since is for the
		// next look, not a read that finds the end of the file.
		if n == 0 || f.off >= size {
			break
		}
	}
	if f.verify {
		// Still unresolved: the next look's check counts from the size
		// last seen of the old content, not the new content's.
		f.size.Store(prev)
	}
	// A multi-line group waits for its next line only so long, unless the
	// file was rotated and the new one waits for it (resolve).
	if f.asm.grouping() && f.asm.groupWait(time.Now(), f.d.quiet) <= 0 && !f.successorWaits() {
		if err := f.shipGroups(ctx, false); err != nil {
			return err
		}
	}
	// A container that exits in the middle of a line leaves a partial
	// chunk with no final one: ship it once the file has been quiet.
	if f.asm.pending() && !f.flushed && !f.grown.IsZero() && time.Since(f.grown) > flushIdle && f.off == f.size.Load() {
		f.flushed = true
		return f.flush(ctx)
	}
	return nil
}

// checkTruncation restarts at 0 when the file shrank below the read offset
// or its first bytes changed; it grows the fingerprint of a small file.
func (f *follower) checkTruncation(ctx context.Context, size int64) error {
	fp := f.fingerprint()
	truncated := size < f.off
	// A file that grew past the offset is read next, and the round checks
	// its first bytes after reading (which covers a rewrite before the
	// read too): checking them here as well would cost a second read of
	// them per look. Unless the round found them changed (verify), or the
	// fingerprint is still growing (it must not grow over new content).
	if !truncated && fp.N > 0 && (size <= f.off || f.verify || fp.N < fingerprintBytes) {
		same, err := fp.matches(f.file)
		if err != nil {
			return nil
		}
		truncated = !same
		f.verify = false
	}
	if truncated {
		f.d.m.filesTruncated.Inc()
		if err := f.flush(ctx); err != nil {
			return err
		}
		// copytruncate: the rest of the old content is in the copy next
		// to the file. Whoever reads it takes over the acknowledgements of
		// the old content; without a copy, what was not read is skipped.
		copyPath, ok := f.d.truncated(f, fp)
		if ok {
			f.d.log.Info("file truncated; reading the rest of the old content from its copy, and the file again from the start",
				append(f.logAttrs(), logOffset, f.off, "copy", copyPath)...)
		} else if lost := f.size.Load() - f.off; lost > 0 {
			f.d.m.skipped.WithLabelValues(skipTruncated).Add(float64(lost))
			f.d.log.Warn("file truncated with unread bytes and no copy of it found; they are skipped",
				append(f.logAttrs(), logOffset, f.off, logBytes, lost, logReason, skipTruncated)...)
		} else {
			f.d.log.Info("file truncated, reading it again from the start", append(f.logAttrs(), logOffset, f.off)...)
		}
		f.off, f.lastSafe = 0, 0
		f.verify = false
		f.readOff.Store(0)
		f.asm.reset()
		f.acks.Store(newAckTracker(0, f.ackedAll))
		fp = fingerprint{}
		f.mu.Lock()
		f.fp = fp
		f.unspooled = 0 // the follower reads the new content itself now
		if rw := f.rewritten; rw != nil {
			// The new content was spooled while the follower could not
			// look (the file is deleted): that entry is now the one its
			// acknowledgements remove.
			f.rewritten = nil
			if same, err := rw.meta.fingerprint().matches(f.file); err == nil && same {
				f.spooled = rw
			}
		}
		f.mu.Unlock()
	}
	if fp.N < fingerprintBytes && size > int64(fp.N) {
		n := int(min(size, fingerprintBytes))
		if nfp, err := readFingerprint(f.file, n); err == nil {
			f.mu.Lock()
			f.fp = nfp
			f.mu.Unlock()
		}
	}
	return nil
}

// drain reads the file to the size it has now, taking turns when gated; a
// detached file is finished: its last unterminated line and unfinished
// lines are shipped.
func (f *follower) drain(ctx context.Context, gated bool) error {
	if err := f.catchUp(ctx, gated, true); err != nil {
		return err
	}
	if !f.detached.Load() {
		// A live file keeps its unfinished last line for the next start;
		// its multi-line groups, made of complete lines, are shipped.
		return f.shipGroups(ctx, true)
	}
	if _, err := f.round(ctx, true); err != nil {
		return err
	}
	return f.flush(ctx)
}

// settled reports whether every byte of the file, as last seen, was
// acknowledged.
func (f *follower) settled() bool {
	size := f.size.Load()
	// The follower may not have looked lately (waiting for its turn while
	// the output is full): ask the file.
	if fi, err := f.file.Stat(); err == nil {
		size = max(size, fi.Size())
	}
	acks := f.acks.Load()
	return acks.idle() && acks.watermark() >= size
}

// close closes the file and returns what is kept of it for its checkpoint
// entry; live says a path still led to it. A spool copy goes after the
// next checkpoint when everything in the file was acknowledged. Callers
// hold Tailer.mu.
func (f *follower) close(live bool) closedFile {
	lost, size, fp := f.unsafe()
	acks := f.acks.Load()
	f.mu.Lock()
	sf := f.spooled
	if f.settled() {
		// Everything in the file was acknowledged: the spool copy is not
		// needed once a checkpoint says so.
		f.d.spool.acknowledged(sf)
		f.spooled, sf = nil, nil
	}
	f.mu.Unlock()
	c := closedFile{fp: fp, meta: f.meta, acks: acks, at: time.Now(), size: size, live: live}
	if sf != nil {
		c.spool = sf.name
	}
	if lost {
		c.unsafe = skipSpoolFull
	}
	f.closed.Store(true)
	f.file.Close()
	return c
}

// entry returns the file's checkpoint entry.
func (f *follower) entry(now time.Time) ckptEntry {
	lost, size, fp := f.unsafe()
	if f.fpHex == "" || f.fpHexOf != fp.Sum {
		f.fpHex, f.fpHexOf = fingerprintHex(fp.Sum), fp.Sum
	}
	e := newEntryHex(f.id, fp.N, f.fpHex, f.meta, f.acks.Load().watermark(), now)
	e.Size = max(size, e.Offset)
	f.mu.Lock()
	if f.spooled != nil {
		e.Spool = f.spooled.name
	} else if lost {
		e.Unsafe = skipSpoolFull
	}
	f.mu.Unlock()
	return e
}

// unread returns the bytes after the read offset, as last seen.
func (f *follower) unread() int64 {
	return max(0, f.size.Load()-f.readOff.Load())
}

// skipRest gives up on the file for a bound: its unread bytes are counted
// and logged, and the acked offset moves past them.
func (f *follower) skipRest(reason string) {
	f.skip.Store(reason)
	f.notify()
}

// skipping reports whether a bound made the tailer give up on the file.
func (f *follower) skipping() bool {
	reason, _ := f.skip.Load().(string)
	return reason != ""
}

// logAttrs are the attributes identifying the file in logs.
func (f *follower) logAttrs() []any {
	return []any{slog.String(logPath, f.meta.Path), slog.String(logTarget, f.meta.Target)}
}
