package tailer

import (
	"os"
	"path/filepath"
	"time"
)

// What a start from a checkpoint finds of the files an earlier run followed:
// rotated files still on disk, spool entries of deleted ones, and the files
// gone while skiff was stopped.

// resumed reports whether a checkpoint was loaded.
func (t *Tailer) resumed() bool {
	_, ok := t.ckpts.loaded()
	return ok
}

// resumeRotated looks, at a start from a checkpoint, for rotated files
// (<name>.<suffix> next to a followed, checkpointed or spooled file) that
// still hold unread bytes: a checkpointed one resumes at its offset; an
// unknown one modified after the checkpoint was written is read from its
// start. Both are drained and closed. Callers hold t.mu.
func (t *Tailer) resumeRotated(start func(*follower)) {
	written, ok := t.ckpts.loaded()
	if !ok {
		return
	}
	targets := make(map[string]bool)
	for _, e := range t.ckpts.unmatched() {
		targets[e.Target] = true
	}
	// A deleted live file in the spool may have left rotated files, which
	// the checkpoint may not know yet.
	for _, sf := range t.loaded {
		targets[sf.meta.Target] = true
	}
	for _, f := range t.byID {
		targets[f.meta.Target] = true
	}
	for target := range targets {
		for _, r := range rotatedSiblings(target) {
			full, fi := r.path, r.fi
			id := idOf(fi)
			if t.byID[id] != nil {
				continue
			}
			e, known := t.ckpts.entry(id)
			if known && !sameContent(full, e.fingerprint()) {
				known = false // the inode now holds another file
			}
			switch {
			case known && fi.Size() > e.Offset:
			case !known && fi.ModTime().After(written.Add(-mtimeSlack)):
			case !known && t.copyOfDisplaced(full, fi.Size()):
				// A copytruncate's copy made before the checkpoint that
				// skiff never opened (its follower was held up): open
				// reads it on from the displaced entry's offset.
			default:
				continue
			}
			nf := t.rotatedFound(full, target, id, fi.Size())
			if known {
				nf.withEntry(t, e.Input, e.Tag)
			}
			f := t.open(nf, false)
			if f == nil {
				continue
			}
			t.log.Info("resuming a rotated file", append(f.logAttrs(), logOffset, f.off)...)
			f.detachedSince(fi.ModTime())
			start(f)
		}
	}
}

// copyOfDisplaced reports whether the file at path, size bytes, holds the
// unacknowledged bytes of a displaced checkpoint entry next to it: it
// starts with the entry's first bytes and reaches past its offset.
// Callers hold t.mu.
func (t *Tailer) copyOfDisplaced(path string, size int64) bool {
	if len(t.displaced) == 0 {
		return false
	}
	file, err := os.Open(path)
	if err != nil {
		return false
	}
	defer file.Close()
	e, ok := t.displacedCopy(found{target: path, size: size}, file)
	return ok && e.Offset < e.Size && e.Offset < size
}

// loadSpool reads the spool entries an earlier run left; resumeSpools
// decides, after the first scan, which of them are needed.
func (t *Tailer) loadSpool() {
	sfs, err := t.spool.load()
	if err != nil {
		t.m.ckptErrors.WithLabelValues(ckptCorrupt).Inc()
		t.log.Error("some spool entries cannot be read; they are left in place", logError, err)
	}
	t.loaded = sfs
}

// resumeSpools follows the spool entries whose original file is not open:
// reading starts at the checkpointed offset or the entry's first byte. An
// entry whose original was found again is removed. Callers hold t.mu.
func (t *Tailer) resumeSpools(start func(*follower)) {
	for _, sf := range t.loaded {
		fp := sf.meta.fingerprint()
		if g := t.byID[sf.meta.origID()]; g != nil && sameFingerprint(g, fp) {
			t.spool.remove(sf) // the original is still there
			continue
		}
		file, err := t.spool.open(sf)
		if err != nil {
			t.log.Error("cannot open a spool entry", logPath, sf.name, logError, err)
			continue
		}
		fi, err := file.Stat()
		if err != nil {
			file.Close()
			continue
		}
		id := idOf(fi)
		from := sf.meta.Base
		var matched []fileID
		for _, key := range []fileID{id, sf.meta.origID()} {
			e, ok := t.ckpts.entry(key)
			if !ok {
				continue
			}
			same := e.fingerprint() == fp
			if !same && key == sf.meta.origID() && e.FingerprintBytes < fp.N {
				// The original's entry was written while it was shorter
				// than when it was copied: its first bytes are the copy's.
				same, _ = e.fingerprint().matches(file)
			}
			if same {
				from = max(from, e.Offset)
				matched = append(matched, key)
			}
		}
		if from >= sf.meta.End {
			// Acknowledged whole: the entries stay, for the original if it
			// is still on disk.
			file.Close()
			t.spool.remove(sf)
			continue
		}
		for _, key := range matched {
			t.ckpts.forget(key) // the follower's own entry takes over
		}
		f := newFollower(t.deps, file, id, t.newMeta(sf.meta.Path, sf.meta.Target, sf.meta.Tag, t.inputNamed(sf.meta.Input, sf.meta.Path, sf.meta.Target)), from, fp)
		f.fromSpool = true
		f.spooled = sf
		f.size.Store(sf.meta.End)
		t.byID[id] = f
		t.ckpts.markSeen(id, fp)
		t.m.filesOpened.Inc()
		t.log.Info("resuming a deleted file from the spool", append(f.logAttrs(), logSpool, sf.name, logOffset, from, logBytes, sf.meta.End-from)...)
		if sf.meta.Written > 0 {
			f.detachedSince(time.Unix(0, sf.meta.Written))
		} else {
			f.detach()
		}
		start(f)
	}
	t.loaded = nil
}

// sameFingerprint reports whether f's file starts with the bytes fp covers.
func sameFingerprint(f *follower, fp fingerprint) bool {
	same, err := fp.matches(f.file)
	return err == nil && same
}

// countGone counts, at a start from a checkpoint, the files whose
// unacknowledged bytes are gone: deleted while skiff was stopped, found
// neither under a path, next to it, nor in the spool. They are skipped bytes
// with a reason, logged per file, and forgotten. Callers hold t.mu.
func (t *Tailer) countGone() {
	waiting := make(map[fileID]bool, len(t.waiting))
	for _, w := range t.waiting {
		waiting[w.id] = true
	}
	for _, e := range t.ckpts.unmatched() {
		id := e.id()
		if e.Size <= e.Offset || waiting[id] || t.byID[id] != nil || stillThere(id, e) {
			continue
		}
		if t.contentOpen(e) {
			// A copy or a spool entry being read holds its content
			// (copytruncate): that file answers for the bytes now.
			t.ckpts.forget(id)
			continue
		}
		t.countLost(e, "a file with unacknowledged bytes was deleted while skiff was stopped; they are lost")
		t.ckpts.forget(id)
	}
	// An inode that holds another file now: the old content's bytes are
	// lost unless a file being read starts with its first bytes (the copy
	// copytruncate left, a rotated file, the spool).
	for _, e := range t.displaced {
		if !t.contentOpen(e) {
			t.countLost(e, "a file with unacknowledged bytes was deleted or truncated while skiff was stopped, and no copy of it is left; they are lost")
		}
	}
	t.displaced = nil
}

// countLost counts and logs the unacknowledged bytes of e as skipped.
func (t *Tailer) countLost(e ckptEntry, msg string) {
	lost := e.Size - e.Offset
	if lost <= 0 {
		return
	}
	reason := e.Unsafe
	if reason == "" {
		reason = skipGone
	}
	t.m.skipped.WithLabelValues(reason).Add(float64(lost))
	t.log.Warn(msg, logPath, e.Path, logTarget, e.Target, logOffset, e.Offset, logBytes, lost, logReason, reason)
}

// contentOpen reports whether a file being read, other than the one now at
// e's inode, starts with the first bytes of e's file: it holds its content.
// Only the files next to e's and the spooled ones can. Callers hold t.mu.
func (t *Tailer) contentOpen(e ckptEntry) bool {
	if e.FingerprintBytes == 0 {
		return false // no first bytes to tell it by
	}
	dir := filepath.Dir(e.Target)
	for id, f := range t.byID {
		if id == e.id() || !f.fromSpool && filepath.Dir(f.meta.Target) != dir {
			continue
		}
		if sameFingerprint(f, e.fingerprint()) {
			return true
		}
	}
	return false
}

// stillThere reports whether the file of e is still under its path.
func stillThere(id fileID, e ckptEntry) bool {
	for _, p := range []string{e.Target, e.Path} {
		if fi, err := os.Stat(p); err == nil && idOf(fi) == id && sameContent(p, e.fingerprint()) {
			return true
		}
	}
	return false
}
