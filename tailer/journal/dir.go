package journal

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// fileKey identifies a file by device and inode.
type fileKey struct{ dev, ino uint64 }

// isJournalName reports whether name is a journal file's: system.journal,
// user-1000.journal, archived system@…-…-….journal, or a dirty file set
// aside by journald, ending in .journal~.
func isJournalName(name string) bool {
	return strings.HasSuffix(name, ".journal") || strings.HasSuffix(name, ".journal~")
}

// wantSubdir reports whether a subdirectory of a journal directory is read:
// named by a machine ID, with ".namespace" when Config.Namespace is set.
func (r *Reader) wantSubdir(name string) bool {
	id, ns, _ := strings.Cut(name, ".")
	if ns != r.cfg.Namespace {
		return false
	}
	mid, err := ParseID128(id)
	if err != nil || len(id) != 32 {
		return false
	}
	return r.cfg.MachineID.IsZero() || mid == r.cfg.MachineID
}

// scan lists the directories, opens the journal files not known yet and
// notes the ones that are gone.
func (r *Reader) scan() {
	r.needScan, r.unwritten = false, false
	r.gen++
	initial := !r.scanned
	for _, d := range r.cfg.Dirs {
		r.scanDir(d, true, initial)
	}
	for _, f := range r.cfg.Files {
		r.watch(filepath.Dir(f))
		r.consider(f, initial)
	}
	for k, s := range r.byIno {
		if s.gen == r.gen {
			continue
		}
		if s.done {
			delete(r.byIno, k)
			if r.byFile[s.id] == s {
				delete(r.byFile, s.id)
			}
			continue
		}
		s.gone = true
	}
	for k, m := range r.skipped {
		if m.gen != r.gen {
			delete(r.skipped, k)
		}
	}
	if initial {
		r.scanned = true
		a := r.cfg.After
		if !a.IsZero() && !r.haveSequence(a.SeqnumID) {
			r.loss(Loss{Reason: LossCursor, SeqnumID: a.SeqnumID,
				Err: errors.New("no journal file holds the sequence of the cursor: " + a.String())})
		}
	}
}

// haveSequence reports whether a known file belongs to the sequence.
func (r *Reader) haveSequence(seq ID128) bool {
	for _, s := range r.byIno {
		if s.seqID == seq {
			return true
		}
	}
	return false
}

// scanDir looks at one directory: its journal files, and when root, its
// machine-ID subdirectories.
func (r *Reader) scanDir(dir string, root, initial bool) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if r.watched != nil {
			delete(r.watched, dir)
		}
		if !errors.Is(err, fs.ErrNotExist) && !r.warned[dir] {
			r.warned[dir] = true
			r.log.Warn("cannot list journal directory", logDir, dir, logError, err)
		}
		return
	}
	delete(r.warned, dir)
	r.watch(dir)
	for _, de := range ents {
		name := de.Name()
		p := filepath.Join(dir, name)
		if de.IsDir() {
			if root && r.wantSubdir(name) {
				r.scanDir(p, false, initial)
			}
			continue
		}
		if isJournalName(name) {
			r.consider(p, initial)
		}
	}
}

// watch adds an fsnotify watch on dir, once, while Run runs.
func (r *Reader) watch(dir string) {
	if r.watcher == nil || r.watched[dir] {
		return
	}
	if err := r.watcher.Add(dir); err != nil {
		r.log.Warn("cannot watch journal directory; it is polled", logDir, dir, logError, err)
		return
	}
	r.watched[dir] = true
}

// consider opens the journal file at path unless it is known: the same
// inode under a new name is a rotation, and only renames the source.
func (r *Reader) consider(path string, initial bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return
	}
	k := fileKey{dev: uint64(st.Dev), ino: st.Ino}
	if s := r.byIno[k]; s != nil {
		if !s.done || s.size == fi.Size() && s.mtime.Equal(fi.ModTime()) {
			s.gen = r.gen
			if s.path != path {
				s.path = path
				if s.f != nil {
					s.f.path = path
					s.f.abandoned = strings.HasSuffix(path, "~")
				}
			}
			return
		}
		// A finished file changed, or its inode was reused.
		delete(r.byIno, k)
		if r.byFile[s.id] == s {
			delete(r.byFile, s.id)
		}
	}
	if m, ok := r.skipped[k]; ok && m.size == fi.Size() && m.mtime.Equal(fi.ModTime()) {
		m.gen = r.gen
		r.skipped[k] = m
		return
	}
	skip := func() { r.skipped[k] = skipMark{size: fi.Size(), mtime: fi.ModTime(), gen: r.gen} }
	fd, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.loss(Loss{Reason: LossUnreadable, Path: path, Err: err})
			skip()
		}
		return
	}
	f, err := newFile(fd, fileSize(fd), path, &r.codecs)
	if err != nil {
		fd.Close()
		if errors.Is(err, errShortHeader) || errors.Is(err, errUnwritten) {
			r.unwritten = true // being created: look again at the next scan
			return
		}
		r.loss(Loss{Reason: LossUnreadable, Path: path, Err: err})
		skip()
		return
	}
	f.osf = fd
	if r.byFile[f.hdr.FileID] != nil { // the same file under another inode: a copy
		f.Close()
		skip()
		return
	}
	s := &source{f: f, path: path, id: f.hdr.FileID, seqID: f.hdr.SeqnumID, key: k, gen: r.gen}
	r.byIno[k], r.byFile[s.id] = s, s
	r.start(s, initial)
}

// start places a new source's reading position: after Config.After, or at
// its end when reading from the end at the first scan.
func (r *Reader) start(s *source, initial bool) {
	h := s.f.hdr
	if a := r.cfg.After; !a.IsZero() {
		if _, ok := r.last[s.counter()]; !ok && s.seqID == a.SeqnumID {
			r.last[s.counter()] = a.Seqnum // gaps after the cursor are counted
		}
		if h.State == StateArchived && h.NEntries > 0 {
			covered := s.seqID == a.SeqnumID && h.TailEntrySeqnum <= a.Seqnum ||
				s.seqID != a.SeqnumID && h.TailEntryRealtime <= a.Realtime
			if covered {
				r.finish(s)
				return
			}
		}
		s.beforeCursor = true
	} else if initial && r.cfg.ReadFrom == ReadFromEnd {
		if err := s.f.SeekTail(); err != nil {
			r.fileError(s, err)
		}
		if s.f != nil && s.f.haveLast {
			if last, ok := r.last[s.counter()]; !ok || s.f.lastSeq > last {
				r.last[s.counter()] = s.f.lastSeq
			}
		}
		if s.done {
			return
		}
	}
	r.sources = append(r.sources, s)
}
