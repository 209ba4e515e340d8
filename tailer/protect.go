package tailer

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// What keeps unacknowledged bytes readable after a restart: rotated files
// still on disk are found again by identity; deleted ones through the spool.
// The spooler copies a followed file's unacknowledged bytes to the spool
// when the file is deleted (its descriptor still holds them), when it was
// rotated away and still holds them spoolDelay later, and, at shutdown, for
// every file that still holds them. In steady state everything is
// acknowledged within a flush or two, so the spool is written only when the
// output is failing.

// spoolerPoll is how often the spooler looks at rotated files behind the
// events that wake it.
const spoolerPoll = time.Second

// wakeSpooler asks the spooler to look at the detached files now.
func (t *Tailer) wakeSpooler() {
	select {
	case t.spoolWake <- struct{}{}:
	default:
	}
}

// spooler protects detached files until ctx is done.
func (t *Tailer) spooler(ctx context.Context) {
	if t.spool == nil {
		return
	}
	timer := time.NewTimer(spoolerPoll)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.spoolWake:
		case <-timer.C:
		}
		// The next look is when the first rotated file's spool delay
		// ends, not a poll later: with fast rotation the kubelet may
		// delete a file a second after that, and a crash between the
		// deletion and the copy would lose it.
		next := spoolerPoll
		t.holdCopies(false)
		held := time.Now()
		for _, f := range t.followers(func(f *follower) bool { return f.detached.Load() || f.deleted.Load() }) {
			if due := f.protect(false); due > 0 {
				next = min(next, due)
			}
			// Copying large files can take seconds; a fast copytruncating
			// rotation deletes a copy a few rotations after making it.
			if time.Since(held) >= spoolerPoll {
				t.holdCopies(false)
				held = time.Now()
			}
		}
		timer.Reset(next)
	}
}

// stallAfter is how long a live follower may go without looking at its
// file before the spooler looks at it on its behalf (holdCopies).
const stallAfter = 2 * time.Second

// holdCopies opens the files next to each live file that was truncated
// while its follower is held up (CloudWatch down and the buffer full, or
// the destination refusing): a copytruncate's copy holds the rest of the
// old content, and the rotation deletes copies on its own schedule, maybe
// many times before the follower looks again. Opened, they are kept (the
// descriptor, and the spool once deleted) until the follower takes them.
// At the stop (final) every live file is looked at: the copies made since
// its follower last looked are kept and checkpointed for the next start,
// which would not tell them, older than its checkpoint, from files read
// long ago.
func (t *Tailer) holdCopies(final bool) {
	if t.spool == nil {
		return // no state to keep them in across a stop
	}
	now := time.Now().UnixNano()
	stalled := t.followers(func(f *follower) bool {
		return !f.detached.Load() && f.heldFor == "" && !f.isCopy && !f.fromSpool &&
			(final || !f.parked.Load() && now-f.lastLook.Load() > int64(t.deps.stallAfter))
	})
	for _, f := range stalled {
		fi, err := f.file.Stat()
		if err != nil || !f.changedUnder(fi.Size()) {
			continue
		}
		t.mu.Lock()
		held := 0
		if t.startFn != nil && !f.closed.Load() {
			t.catchRotated(f.meta.Target, func(c *follower) { c.heldFor, c.isCopy = f.meta.Target, true; held++ })
		}
		t.mu.Unlock()
		if held > 0 {
			t.log.Info("file truncated while its reader waits for the output; keeping the files next to it until it reads them",
				append(f.logAttrs(), "files", held)...)
		}
	}
}

// release lets the files held for target be read whole. Callers hold t.mu.
func (t *Tailer) release(target string, start func(*follower)) {
	for _, c := range t.byID {
		if c.heldFor == target {
			c.heldFor = ""
			start(c)
		}
	}
}

// followers returns the open files for which keep is true.
func (t *Tailer) followers(keep func(*follower) bool) []*follower {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*follower
	for _, f := range t.byID {
		if keep(f) {
			out = append(out, f)
		}
	}
	return out
}

// protect copies the file's unacknowledged bytes to the spool when they are
// at risk: the file is deleted, was rotated away spoolDelay ago (or found
// rotated away at a start), or the agent is stopping (final). A deleted
// file may make room by giving up the oldest spooled bytes; a copy of a file
// still on disk never does. It returns how long until a rotated file's
// delay ends, or 0.
func (f *follower) protect(final bool) time.Duration {
	sp := f.d.spool
	if sp == nil || f.fromSpool || f.closed.Load() {
		return 0
	}
	fi, err := f.file.Stat()
	if err != nil {
		return 0
	}
	size := fi.Size()
	deleted := linksOf(fi) == 0
	if deleted {
		f.deleted.Store(true)
	}
	if f.changedUnder(size) {
		// Truncated since the follower last looked: its offsets and first
		// bytes are the old content's, and spooled, the new content would
		// pass for the rest of the old. The follower reads the new
		// content first, then asks again; at a stop, the next start finds
		// the copy (copytruncate) by the checkpoint's first bytes. A
		// deleted file's new content is in its descriptor alone: it is
		// spooled as a file of its own.
		if deleted {
			f.spoolRewritten(size, fi.ModTime().UnixNano())
		}
		if !final {
			f.notify()
		}
		return 0
	}
	if final {
		// No reader runs any more: what the checkpoint records as held
		// is what the file holds now.
		f.size.Store(max(f.size.Load(), size))
	}
	acks := f.acks.Load()
	wm := acks.watermark()
	f.mu.Lock()
	sf, lost := f.spooled, f.spoolLost
	f.mu.Unlock()
	if size <= wm || lost || (sf != nil && sf.meta.End >= size) {
		return 0
	}
	if !deleted && !final && !f.spoolNow.Load() {
		if !f.detached.Load() {
			return 0
		}
		if left := f.d.spoolDelay - time.Since(time.Unix(0, f.detachAt.Load())); left > 0 {
			return left
		}
	}
	fp := f.fingerprint()
	if sf != nil {
		fp = sf.meta.fingerprint()
	} else if fp.N < fingerprintBytes && size > int64(fp.N) {
		// Opened while shorter: identify the copy by as many first bytes
		// as there are now.
		if nfp, err := readFingerprint(f.file, int(min(size, fingerprintBytes))); err == nil {
			fp = nfp
		}
	}
	// The last write orders the file among its path's rotated files at the
	// next start, as their modification times do.
	var written int64
	if fi, err := f.file.Stat(); err == nil {
		written = fi.ModTime().UnixNano()
	}
	next, err := sp.save(sf, f.file, f.id, fp, f.meta, written, wm, size, deleted, f.spoolEvicted)
	if err != nil {
		if !deleted {
			return 0 // still on disk: the restart reads it there
		}
		// Nowhere else to keep them: they live as long as the descriptor.
		sp.remove(sf)
		f.giveUp(size, fp)
		f.d.log.Warn("cannot spool a deleted file; its unacknowledged bytes are lost if skiff stops before they are delivered",
			append(f.logAttrs(), logBytes, size-wm, logReason, skipSpoolFull, logError, err)...)
		f.d.persistUnsafe()
		return 0
	}
	f.mu.Lock()
	f.spooled = next
	f.mu.Unlock()
	if next != nil {
		f.d.log.Debug("unacknowledged bytes copied to the spool", append(f.logAttrs(), logSpool, next.name, logBytes, size-wm)...)
	}
	if f.closed.Load() && f.settled() {
		sp.acknowledged(next) // retired meanwhile, with everything acknowledged
	}
	return 0
}

// spoolRewritten copies what a deleted file holds, size bytes written
// after a truncation its follower has not seen (last at written), to the
// spool under its own first bytes: the next start reads it from its start.
func (f *follower) spoolRewritten(size, written int64) {
	fp, err := readFingerprint(f.file, int(min(size, fingerprintBytes)))
	if err != nil || fp.N == 0 {
		return
	}
	f.mu.Lock()
	prev := f.rewritten
	f.mu.Unlock()
	if prev != nil && prev.meta.fingerprint() != fp {
		prev = nil // rewritten once more: a new entry
	}
	next, err := f.d.spool.save(prev, f.file, f.id, fp, f.meta, written, 0, size, true, nil)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		if f.unspooled == 0 { // logged once; the spooler tries again every pass
			f.d.log.Warn("cannot spool a deleted file's new content; it is lost if skiff stops before it is read",
				append(f.logAttrs(), logBytes, size, logReason, skipSpoolFull, logError, err)...)
		}
		f.unspooled = size
		return
	}
	f.rewritten, f.unspooled = next, 0
}

// changedUnder reports whether the file, now size bytes, is no longer what
// the follower read: it shrank below what the follower saw, or its first
// bytes changed.
func (f *follower) changedUnder(size int64) bool {
	if size < f.size.Load() {
		return true
	}
	same, err := f.fingerprint().matches(f.file)
	return err == nil && !same
}

// spoolEvicted is called when the spool gave up the file's entry to make
// room.
func (f *follower) spoolEvicted() {
	f.mu.Lock()
	sf := f.spooled
	f.mu.Unlock()
	var end int64
	var fp fingerprint
	if sf != nil {
		f.d.spool.mu.Lock()
		end, fp = sf.meta.End, sf.meta.fingerprint()
		f.d.spool.mu.Unlock()
	}
	f.giveUp(end, fp)
	f.d.log.Warn("spool full: gave up the oldest spooled bytes; they are lost if skiff stops before they are delivered",
		append(f.logAttrs(), logBytes, f.size.Load()-f.acks.Load().watermark(), logReason, skipSpoolFull)...)
	f.d.persistUnsafe()
}

// giveUp records that the spool gave up the file's unacknowledged bytes,
// with the file's size and fingerprint as the spool saw them.
func (f *follower) giveUp(end int64, fp fingerprint) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spooled, f.spoolLost = nil, true
	f.lostEnd = max(f.lostEnd, end)
	if fp.N > f.lostFP.N {
		f.lostFP = fp
	}
}

// unsafe reports whether the file's unacknowledged bytes are kept nowhere
// but in its descriptor (deleted, and the spool gave them up), and the
// size and fingerprint to checkpoint for it, which may go beyond what the
// follower read.
func (f *follower) unsafe() (bool, int64, fingerprint) {
	fp, size := f.fingerprint(), f.size.Load()
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.spoolLost || f.spooled != nil || !f.deleted.Load() {
		return false, size, fp
	}
	if f.lostFP.N > fp.N {
		fp = f.lostFP
	}
	return true, max(size, f.lostEnd), fp
}

// Close ends the run after Drain and the output's flush: what is still not
// acknowledged is copied to the spool where the file holding it could be
// deleted before the next start, what cannot be kept anywhere is counted as
// skipped and said, and every file is closed. Then call Checkpoint.
func (t *Tailer) Close() error {
	t.scan(registerOnly) // the files that appeared since the last look
	t.holdCopies(true)
	fs := t.followers(func(*follower) bool { return true })
	// Rotated and deleted files first: they are the ones the kubelet
	// deletes next.
	for _, f := range fs {
		if f.detached.Load() || f.deleted.Load() {
			f.protect(true)
		}
	}
	for _, f := range fs {
		if !f.detached.Load() && !f.deleted.Load() {
			f.protect(true)
		}
	}
	for _, f := range fs {
		f.mu.Lock()
		rewritten := f.unspooled
		f.mu.Unlock()
		if rewritten > 0 {
			// A deleted file's content its reader never saw, which the
			// spool refused: nothing keeps it past the stop.
			t.m.skipped.WithLabelValues(skipSpoolFull).Add(float64(rewritten))
			t.pendingLost.Add(rewritten)
			t.log.Warn("a deleted file's new content could not be spooled; it is lost",
				append(f.logAttrs(), logBytes, rewritten, logReason, skipSpoolFull)...)
		}
		if lost, end, _ := f.unsafe(); lost {
			acks := f.acks.Load()
			if n := end - acks.watermark(); n > 0 {
				t.m.skipped.WithLabelValues(skipSpoolFull).Add(float64(n))
				t.pendingLost.Add(n)
				t.log.Warn("a deleted file's unacknowledged bytes could not be spooled; they are lost",
					append(f.logAttrs(), logBytes, n, logReason, skipSpoolFull)...)
				acks.writeOff(end)
			}
		}
	}
	t.closeFiles()
	return nil
}

// closeFiles closes every open file, as a crash would.
func (t *Tailer) closeFiles() {
	for _, f := range t.followers(func(*follower) bool { return true }) {
		t.retire(f, true)
	}
}

// Pending says where the bytes not yet acknowledged are, for the last log
// line of a shutdown. All but Lost are read again at the next start.
type Pending struct {
	// Live is in files still under their path.
	Live int64
	// Rotated is in files rotated away but still on disk.
	Rotated int64
	// Spooled is in the spool.
	Spooled int64
	// Lost could be kept nowhere and was counted as skipped.
	Lost int64
}

// Pending returns where the unacknowledged bytes are now.
func (t *Tailer) Pending() Pending {
	p := Pending{Spooled: t.spool.bytes(), Lost: t.pendingLost.Load()}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.byID {
		f.mu.Lock()
		spooled := f.spooled != nil
		f.mu.Unlock()
		p.add(f.size.Load()-f.acks.Load().watermark(), !f.detached.Load() && !f.deleted.Load(), spooled || f.fromSpool)
	}
	t.ckpts.pending(&p)
	return p
}

// add counts n unacknowledged bytes of a file under its path (live), or
// rotated away, unless they are spooled.
func (p *Pending) add(n int64, live, spooled bool) {
	switch {
	case n <= 0 || spooled:
	case live:
		p.Live += n
	default:
		p.Rotated += n
	}
}

// truncated follows, after f's file was truncated under its read offset,
// the copy copytruncate made of the old content, and the copies of contents
// f never saw (truncated more than once while it could not read), which are
// read whole. It is f's followerDeps.truncated.
func (t *Tailer) truncated(f *follower, fp fingerprint) (string, bool) {
	copyPath, ok := t.followCopy(f, fp)
	t.catchCopies(f.meta.Target)
	return copyPath, ok
}

// followCopy looks, after f's file was truncated under its read offset, for
// the copy copytruncate made of it next to it: a file that starts with the
// bytes fp covers and holds at least the bytes read. A follower for the copy
// reads on from f's offset and takes over the acknowledgements of the old
// content. Callers are f's goroutine.
func (t *Tailer) followCopy(f *follower, fp fingerprint) (string, bool) {
	if fp.N == 0 {
		return "", false // no first bytes to tell the copy by
	}
	// A copy held while f could not look: on disk or deleted since.
	t.mu.Lock()
	for _, c := range t.byID {
		if c.heldFor != f.meta.Target || c.size.Load() < f.off || !sameFingerprint(c, fp) {
			continue
		}
		c.heldFor = ""
		c.takeOver(f)
		if t.startFn != nil {
			t.startFn(c)
		}
		t.mu.Unlock()
		return c.meta.Target, true
	}
	t.mu.Unlock()
	dir, base := filepath.Split(f.meta.Target)
	des, err := os.ReadDir(dir)
	if err != nil {
		return "", false
	}
	for _, de := range des {
		name := de.Name()
		if name == base || !strings.HasPrefix(name, base) || strings.HasSuffix(name, ".gz") {
			continue
		}
		path := filepath.Join(dir, name)
		file, err := os.Open(path)
		if err != nil {
			continue
		}
		fi, err := file.Stat()
		if err != nil || !fi.Mode().IsRegular() || fi.Size() < f.off || idOf(fi) == f.id {
			file.Close()
			continue
		}
		if same, err := fp.matches(file); err != nil || !same {
			file.Close()
			continue
		}
		id := idOf(fi)
		t.mu.Lock()
		if c := t.byID[id]; c != nil && c != f && c.began <= f.acks.Load().watermark() {
			// Already open and read from at or before what f had
			// acknowledged (found at a start or between two scans): it
			// delivers the rest of the old content itself.
			t.mu.Unlock()
			file.Close()
			return path, true
		}
		if t.byID[id] != nil || t.startFn == nil {
			t.mu.Unlock()
			file.Close()
			continue
		}
		c := newFollower(t.deps, file, id, f.meta, f.off, fp)
		c.isCopy = true
		c.takeOver(f)
		c.size.Store(fi.Size())
		t.byID[id] = c
		t.ckpts.markSeen(id, fp)
		t.m.filesOpened.Inc()
		c.detach()
		t.startFn(c)
		t.mu.Unlock()
		return path, true
	}
	return "", false
}

// takeOver makes c, the copy of f's old content, read on from f's offset
// with f's acknowledgements: the records f handed out are acknowledged to
// the tracker c now owns. Callers are f's goroutine, c not running yet.
func (c *follower) takeOver(f *follower) {
	c.off, c.lastSafe = f.off, f.lastSafe
	c.readOff.Store(f.off)
	old := f.acks.Load()
	old.handOver(c.notify)
	c.acks.Store(old)
}

// catchCopies follows the unknown copies next to target.
func (t *Tailer) catchCopies(target string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if start := t.startFn; start != nil {
		t.catchRotated(target, func(c *follower) { c.isCopy = true; start(c) })
		t.release(target, start)
	}
}
