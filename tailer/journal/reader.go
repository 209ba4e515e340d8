package journal

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Log attribute keys.
const (
	logPath    = "path"
	logError   = "error"
	logReason  = "reason"
	logEntries = "entries"
	logSeqnum  = "seqnum_id"
	logDir     = "dir"
)

// retryDelay is how long a batch the Consumer refused waits before it is
// offered again.
const retryDelay = time.Second

// Consumer receives the entries a Reader delivers.
type Consumer interface {
	// Write takes a batch of entries, in journal order. It may block, and
	// blocking is the backpressure that stops reading. It returns early
	// with ctx's error, or with another error when it refuses the batch
	// without taking any of it: the same batch is offered again a second
	// later. The entries are valid only until Write returns. Write is
	// called from the goroutine running Run, one call at a time.
	Write(ctx context.Context, batch []*Entry) error
}

// Reader reads the journal files of a set of directories as one stream of
// entries, in order, and follows them as they grow, rotate and are
// vacuumed. A Reader is not safe for concurrent use: one goroutine calls
// Read or Run, and Close at the end.
type Reader struct {
	cfg     Config
	log     *slog.Logger
	matcher *Matcher
	codecs  codecs

	sources []*source            // open files
	byIno   map[fileKey]*source  // open and finished files by inode
	byFile  map[ID128]*source    // the same by file ID
	skipped map[fileKey]skipMark // paths not read, until they change
	last    map[ID128]uint64     // per counter (machine), the highest seqnum consumed
	prev    entryKey             // the last entry consumed, to drop a copy of it
	prevSeq ID128
	hasPrev bool

	scanned   bool   // the first scan is done
	needScan  bool   // scan before reading next
	unwritten bool   // a file's header was not written yet at the last scan
	gen       uint64 // scan generation
	watcher   *fsnotify.Watcher
	watched   map[string]bool
	warned    map[string]bool
	batch     []*Entry
}

// source is one journal file the Reader knows.
type source struct {
	f            *File // nil once finished
	path         string
	id           ID128 // file ID
	seqID        ID128
	key          fileKey
	size         int64 // size and modification time when finished, to
	mtime        time.Time
	gen          uint64 // the last scan that saw it
	gone         bool   // its path is gone: close it at its end
	done         bool   // read and closed
	idle         bool   // nothing to read in this Read call
	beforeCursor bool   // still skipping entries up to Config.After
	broken       error  // the first corruption met
}

// counter names the seqnum counter that numbers the file's entries: its
// machine's. The header is read again as the file grows: journald writes
// the machine ID after the rest of a new file's header.
func (s *source) counter() ID128 {
	if id := s.f.hdr.MachineID; !id.IsZero() {
		return id
	}
	return s.seqID
}

// skipMark remembers a path that was not read.
type skipMark struct {
	size  int64
	mtime time.Time
	gen   uint64
}

// NewReader validates cfg and returns a Reader. It does no I/O: the first
// Read or Run scans the directories.
func NewReader(cfg Config) (*Reader, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := cfg.Filter.Compile()
	if err != nil {
		return nil, err
	}
	r := &Reader{
		cfg:     cfg,
		log:     cfg.Logger,
		matcher: m,
		byIno:   make(map[fileKey]*source),
		byFile:  make(map[ID128]*source),
		skipped: make(map[fileKey]skipMark),
		last:    make(map[ID128]uint64),
		warned:  make(map[string]bool),
	}
	return r, nil
}

// Close closes every file.
func (r *Reader) Close() error {
	for _, s := range r.sources {
		s.f.Close()
		s.f, s.done = nil, true
	}
	r.sources = nil
	r.codecs.close()
	return nil
}

// Read fills batch with the next entries that pass the filter and returns
// how many it filled; 0 means none for now. It does not wait: Run is the
// loop that waits for the files to change. The entries are valid until
// they are filled again.
func (r *Reader) Read(batch []*Entry) int {
	if r.needScan || !r.scanned {
		r.scan()
	}
	for _, s := range r.sources {
		s.idle = false
	}
	n := 0
	for n < len(batch) {
		s, k := r.pick()
		if s == nil {
			break
		}
		e := batch[n]
		err := s.f.read(e)
		if err == io.EOF {
			s.idle = true // its fields are not written yet
			continue
		}
		if err != nil {
			r.fileError(s, err)
			if !s.done {
				r.consumed(s, k, false)
			}
			continue
		}
		if r.consumed(s, k, true) && r.matcher.Match(e) {
			n++
		}
	}
	r.sources = slices.DeleteFunc(r.sources, func(s *source) bool { return s.done })
	return n
}

// pick returns the file whose next entry comes first, and that entry's
// fixed fields; nil when no file has an entry now.
func (r *Reader) pick() (*source, entryKey) {
	rechecked := false
	for {
		var best *source
		var bk *entryKey
		// Files not started yet are peeked only when their first entry,
		// as the header tells it, may come first: this keeps the buffers
		// of many archived files from being filled at once.
		for _, started := range []bool{true, false} {
			for _, s := range r.sources {
				if s.idle || s.done || s.f.unstarted() == started {
					continue
				}
				if !started && best != nil {
					if hk := s.f.headKey(); !before(&hk, s.seqID, bk, best.seqID) {
						continue
					}
				}
				k := r.peek(s)
				if k != nil && (best == nil || before(k, s.seqID, bk, best.seqID)) {
					best, bk = s, k
				}
			}
		}
		if best == nil {
			return nil, entryKey{}
		}
		last, ok := r.last[best.counter()]
		if !ok || bk.seqnum <= last+1 || rechecked {
			return best, *bk
		}
		// A gap. The missing entries may have been appended to another
		// file of the machine (a user journal) after it was looked at:
		// look again before believing it.
		rechecked = true
		woke := false
		for _, s := range r.sources {
			if s != best && !s.done && s.idle && s.counter() == best.counter() {
				s.idle, woke = false, true
			}
		}
		if !woke {
			return best, *bk
		}
	}
}

// before orders entries as journald does: by seqnum within a sequence,
// then by monotonic time within a boot, then by wall-clock time.
func before(a *entryKey, aSeq ID128, b *entryKey, bSeq ID128) bool {
	if aSeq == bSeq && a.seqnum != b.seqnum {
		return a.seqnum < b.seqnum
	}
	if a.boot == b.boot && a.monotonic != b.monotonic {
		return a.monotonic < b.monotonic
	}
	if a.realtime != b.realtime {
		return a.realtime < b.realtime
	}
	return a.xor < b.xor
}

// peek returns the next entry of s, skipping what Config.After covers,
// or nil when s has none now.
func (r *Reader) peek(s *source) *entryKey {
	for !s.done {
		k, err := s.f.peek()
		if err == io.EOF {
			s.idle = true
			r.atEnd(s)
			return nil
		}
		if err != nil {
			r.fileError(s, err)
			continue
		}
		if s.beforeCursor {
			if !r.afterCursor(s, k) {
				s.f.skip()
				continue
			}
			s.beforeCursor = false
		}
		return k
	}
	return nil
}

// afterCursor reports whether the entry k of s comes after Config.After.
func (r *Reader) afterCursor(s *source, k *entryKey) bool {
	a := r.cfg.After
	if s.seqID == a.SeqnumID {
		return k.seqnum > a.Seqnum
	}
	ak := entryKey{seqnum: a.Seqnum, realtime: a.Realtime, monotonic: a.Monotonic, xor: a.XorHash, boot: a.BootID}
	return before(&ak, a.SeqnumID, k, s.seqID)
}

// consumed accounts for the entry k of s, read whole or not, and reports
// whether it is to be delivered: read whole, and not a copy of the
// previous entry from another sequence (journald's flush from /run to /var
// copies entries).
//
// A seqnum jump is a loss. Seqnums are followed per machine, not per
// sequence: journald numbers every entry it writes from one counter,
// whichever file it goes to, while before systemd 254 each user journal
// had a seqnum ID of its own. In the merged order the entries of one
// machine's files follow the counter, so a jump past the next number is
// entries that are in no file.
func (r *Reader) consumed(s *source, k entryKey, whole bool) bool {
	copied := r.hasPrev && r.prevSeq != s.seqID && k.boot == r.prev.boot &&
		k.monotonic == r.prev.monotonic && k.realtime == r.prev.realtime && k.xor == r.prev.xor
	r.prev, r.prevSeq, r.hasPrev = k, s.seqID, true
	last, ok := r.last[s.counter()]
	if ok && k.seqnum > last+1 {
		reason := LossGap
		if s.broken != nil && k.seqnum <= s.f.hdr.TailEntrySeqnum {
			reason = LossCorrupt // the missing entries were in the broken part
		}
		r.loss(Loss{Reason: reason, Path: s.path, SeqnumID: s.seqID, Entries: k.seqnum - last - 1})
	}
	if !ok || k.seqnum > last {
		r.last[s.counter()] = k.seqnum
	}
	if !whole {
		r.loss(Loss{Reason: LossCorrupt, Path: s.path, SeqnumID: s.seqID, Entries: 1, Err: s.broken})
	}
	return whole && !copied
}

// fileError handles an error reading s. After a corruption the File has
// moved on; after anything else the file is given up.
func (r *Reader) fileError(s *source, err error) {
	var ce *CorruptError
	if errors.As(err, &ce) {
		if s.broken == nil {
			s.broken = err
			r.log.Warn("corrupt journal file; reading what can be read", logPath, s.path, logError, err)
		} else {
			r.log.Debug("corrupt journal file", logPath, s.path, logError, err)
		}
		return
	}
	var lost uint64
	if h := s.f.hdr; h.TailEntrySeqnum > r.last[s.counter()] && s.f.haveLast {
		lost = h.TailEntrySeqnum - max(r.last[s.counter()], s.f.lastSeq)
	}
	r.loss(Loss{Reason: LossUnreadable, Path: s.path, SeqnumID: s.seqID, Entries: lost, Err: err})
	r.finish(s)
}

// atEnd closes s when it has nothing more to give: archived, abandoned by
// its writer, deleted, or unreadable past a corruption. A broken file's
// entries that were never reached are counted then.
func (r *Reader) atEnd(s *source) {
	f := s.f
	if !f.finished && f.hdr.State != StateArchived && !f.abandoned && !s.gone {
		return
	}
	if s.broken != nil {
		from := max(r.last[s.counter()], f.lastSeq, f.hdr.HeadEntrySeqnum-min(f.hdr.HeadEntrySeqnum, 1))
		if tail := f.hdr.TailEntrySeqnum; tail > from {
			r.loss(Loss{Reason: LossCorrupt, Path: s.path, SeqnumID: s.seqID, Entries: tail - from, Err: s.broken})
			r.last[s.counter()] = tail
		}
	}
	r.finish(s)
}

// finish closes s and remembers it as read.
func (r *Reader) finish(s *source) {
	if s.done {
		return
	}
	if fi, err := s.f.osf.Stat(); err == nil {
		s.size, s.mtime = fi.Size(), fi.ModTime()
	}
	s.f.Close()
	s.f, s.done, s.idle = nil, true, true
}

// loss logs l and hands it to Config.OnLoss.
func (r *Reader) loss(l Loss) {
	r.log.Warn("journal entries lost", logReason, l.Reason.String(), logEntries, l.Entries,
		logPath, l.Path, logSeqnum, l.SeqnumID.String(), logError, l.Err)
	if r.cfg.OnLoss != nil {
		r.cfg.OnLoss(l)
	}
}

// Run reads entries and hands them to c in batches of at most
// Config.BatchSize, in order, until ctx is done; then it returns nil. It
// follows the directories: fsnotify wakes it when a file is written,
// created, renamed or deleted, and a poll every Config.PollInterval stands
// behind it. A file rotated away is read to its end; a file deleted while
// open is read to its end too.
func (r *Reader) Run(ctx context.Context, c Consumer) error {
	w, err := fsnotify.NewBufferedWatcher(1024)
	if err != nil {
		r.log.Warn("fsnotify unavailable; the journal is polled", logError, err)
	} else {
		r.watcher, r.watched = w, make(map[string]bool)
		defer func() {
			w.Close()
			r.watcher, r.watched = nil, nil
		}()
		r.needScan = true
	}
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.Events, w.Errors
	}
	if len(r.batch) != r.cfg.BatchSize {
		r.batch = make([]*Entry, r.cfg.BatchSize)
		for i := range r.batch {
			r.batch[i] = new(Entry)
		}
	}
	poll := time.NewTicker(r.cfg.PollInterval)
	defer poll.Stop()
	for ctx.Err() == nil {
		if n := r.Read(r.batch); n > 0 {
			if err := r.write(ctx, c, r.batch[:n]); err != nil {
				return nil
			}
			continue
		}
		select {
		case <-ctx.Done():
		case ev := <-events:
			r.event(ev)
			r.drain(events)
		case err := <-errs:
			r.log.Warn("fsnotify", logError, err)
			r.needScan = true
		case <-poll.C:
			r.needScan = true
		}
	}
	return nil
}

// event notes what an fsnotify event means: a file created, renamed or
// removed calls for a scan; a write only wakes the loop up, unless a file
// was found without its header, which the write may be.
func (r *Reader) event(ev fsnotify.Event) {
	if ev.Has(fsnotify.Create) || ev.Has(fsnotify.Rename) || ev.Has(fsnotify.Remove) || r.unwritten {
		r.needScan = true
	}
}

// drain takes the events already queued, so that a burst of writes costs
// one read.
func (r *Reader) drain(events <-chan fsnotify.Event) {
	for range cap(events) {
		select {
		case ev := <-events:
			r.event(ev)
		default:
			return
		}
	}
}

// write hands batch to c, offering it again while c refuses it. It returns
// an error only when ctx is done.
func (r *Reader) write(ctx context.Context, c Consumer, batch []*Entry) error {
	logged := false
	for {
		err := c.Write(ctx, batch)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !logged {
			r.log.Info("journal batch refused; offering it again", logError, err)
			logged = true
		}
		t := time.NewTimer(retryDelay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
