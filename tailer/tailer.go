package tailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// The package's errors.
var (
	// ErrConfig is wrapped by every error Validate returns.
	ErrConfig = errors.New("invalid tailer config")
	// ErrCorruptCheckpoint is wrapped when the checkpoint file cannot be
	// trusted.
	ErrCorruptCheckpoint = errors.New("corrupt checkpoint file")
	// ErrRunTwice is returned by a second call to Run.
	ErrRunTwice = errors.New("tailer: Run called twice")

	// Decoding errors: a line that fails to decode becomes a Malformed
	// record.
	errTime    = errors.New("bad timestamp")
	errStream  = errors.New("unknown stream")
	errTag     = errors.New("bad CRI tag")
	errSyntax  = errors.New("bad line syntax")
	errJSON    = errors.New("broken JSON")
	errNoField = errors.New("missing log field")

	errNoWatcher = errors.New("no watcher")
)

// Tailer discovers log files, follows each of them, and hands their records
// to a Consumer. Create it with New.
//
// Locks are taken in one order, and none is held while a Consumer is
// called: Tailer.mu (discovery), then a follower's mu, then the spool's; and
// Tailer.mu, then checkpoints.mu, then an ackTracker's. Nothing under a
// follower's mu or checkpoints.mu takes Tailer.mu.
type Tailer struct {
	cfg Config
	// inputs are cfg's sets of files, cfg.Include first.
	inputs []Input
	log    *slog.Logger
	m      *metrics
	deps   *followerDeps // what every follower is given
	ckpts  *checkpoints  // saved, closed and seen files, under its own lock
	spool  *spool        // nil without a StateDir

	running atomic.Bool

	// mu guards discovery: the files followed, waiting and unreadable, and
	// the directories watched.
	mu         sync.Mutex
	byPath     map[string]*follower // discovered path → the file it leads to
	previous   map[string]*follower // path → the open file it led to before
	byID       map[fileID]*follower // open files
	byTarget   map[string]*follower // resolved path → its file, for reported writes
	waiting    map[string]found     // files waiting for an open-file slot
	watched    map[string]bool
	unreadable map[fileID]unreadableFile // files that could not be opened
	startedAt  time.Time
	watcher    watcher
	newWatcher func() (watcher, error) // defaultWatcher; a test may choose another
	started    bool                    // the first scan happened
	loaded     []*spoolFile            // spool entries of an earlier run, until the first scan
	// displaced are the checkpoint entries whose inode holds another file
	// at the first scan (copytruncated, or deleted and the inode reused
	// while skiff was stopped), until countGone looks for their bytes.
	displaced []ckptEntry
	// startFn starts a follower's goroutine while Run runs; after it, it
	// only registers the follower (Drain reads the copies, Close keeps the
	// rest). Set under mu.
	startFn func(*follower)

	scanned   chan struct{} // closed after the first scan
	rescan    chan struct{}
	spoolWake chan struct{} // wakes the spooler
	// pendingLost is what Close could keep nowhere.
	pendingLost atomic.Int64

	// idle holds the followers of quiet files between two looks.
	idle *idlePoller

	// ckptMu serializes Checkpoint, whose entries are built in ckptBuf.
	ckptMu  sync.Mutex
	ckptBuf []ckptEntry
}

// unreadableFile is a file found that could not be opened.
type unreadableFile struct {
	path string
	size int64
	err  error
}

// New returns a Tailer that writes to out. It validates cfg and registers
// the metrics; it reads no file until Run.
func New(cfg Config, out Consumer) (*Tailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if out == nil {
		return nil, fmt.Errorf("%w: nil consumer", ErrConfig)
	}
	cfg = cfg.withDefaults()
	t := &Tailer{
		cfg:        cfg,
		inputs:     cfg.inputs(),
		log:        cfg.Logger,
		byPath:     make(map[string]*follower),
		previous:   make(map[string]*follower),
		byID:       make(map[fileID]*follower),
		byTarget:   make(map[string]*follower),
		waiting:    make(map[string]found),
		watched:    make(map[string]bool),
		unreadable: make(map[fileID]unreadableFile),
		scanned:    make(chan struct{}),
		rescan:     make(chan struct{}, 1),
		spoolWake:  make(chan struct{}, 1),
		idle:       newIdlePoller(),
		newWatcher: defaultWatcher,
	}
	m, err := newMetrics(cfg.Registerer, t)
	if err != nil {
		return nil, fmt.Errorf("register tailer metrics: %w", err)
	}
	t.m = m
	t.spool = newSpool(cfg.StateDir, cfg.MaxSpoolBytes, m)
	t.ckpts = newCheckpoints(cfg.StateDir, cfg.Logger, m)
	t.deps = &followerDeps{
		maxLine:     cfg.MaxLineBytes,
		truncate:    cfg.LongLines == LongLinesTruncate,
		log:         cfg.Logger,
		m:           m,
		gate:        newFairGate(max(2, runtime.GOMAXPROCS(0))),
		out:         out,
		spool:       t.spool,
		retire:      t.retire,
		wakeSpooler: t.wakeSpooler,
		truncated:   t.truncated,
		multiline:   cfg.Multiline,
		quiet:       cfg.MultilineQuiet,
		ruleWait:    cfg.MultilineWait,
		closeQuiet:  closeQuiet,
		spoolDelay:  spoolDelay,
		stallAfter:  stallAfter,
		readEvery:   readEvery,
		idle:        t.idle,
		watchWrite: func(f *follower) (int32, error) {
			t.mu.Lock()
			w := t.watcher
			t.mu.Unlock()
			if w == nil {
				return 0, errNoWatcher
			}
			return w.watchWrite(f.file, f.wroteNow)
		},
		watching: func(dir string) bool {
			t.mu.Lock()
			defer t.mu.Unlock()
			return t.watched[dir]
		},
		persistUnsafe: func() {
			if err := t.Checkpoint(); err != nil {
				t.log.Error("cannot write the checkpoint", logError, err)
			}
		},
	}
	t.deps.bufs.init(cfg.ReadBudget)
	return t, nil
}

// Run loads the checkpoint, discovers files and follows them until ctx is
// done, writing checkpoints every CheckpointInterval. It returns nil once
// ctx is done and every follower stopped; open files stay open for Drain.
func (t *Tailer) Run(ctx context.Context) error {
	if t.running.Swap(true) {
		return ErrRunTwice
	}
	t.startedAt = time.Now()
	t.ckpts.load()
	t.loadSpool()
	w, err := t.newWatcher()
	if err != nil {
		t.log.Warn("cannot watch files; new files are found by the rescan only", logError, err)
	} else {
		defer w.Close()
		t.mu.Lock()
		t.watcher = w
		t.deps.armsWrites.Store(w.armsWrites())
		t.mu.Unlock()
		defer func() {
			t.mu.Lock()
			t.watcher = nil
			t.deps.armsWrites.Store(false)
			t.mu.Unlock()
		}()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer func() {
		t.mu.Lock()
		t.startFn = registerOnly
		t.mu.Unlock()
	}()
	run := func(f *follower) { t.deps.goRun(ctx, &wg, f) }
	start := t.deps.spreadStart(run)
	t.mu.Lock()
	t.startFn = start
	t.mu.Unlock()
	t.idle.begin(run)
	wg.Go(func() { t.idle.run(ctx) })
	wg.Go(func() { t.spooler(ctx) })
	t.scan(start)
	// A first checkpoint right away: after a crash, rotated files changed
	// since it are known to need reading.
	if err := t.Checkpoint(); err != nil {
		t.log.Error("cannot write the checkpoint", logError, err)
	}
	close(t.scanned)

	rescan := time.NewTicker(t.cfg.RescanInterval)
	defer rescan.Stop()
	ckpt := time.NewTicker(t.cfg.CheckpointInterval)
	defer ckpt.Stop()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if w != nil {
		events, errs = w.Events(), w.Errors()
	}
	ckptFailing := false
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			due := t.event(ev)
			// Take the burst (a rotation is three events) before one scan.
			for more := 256; more > 0; more-- {
				select {
				case ev := <-events:
					due = t.event(ev) || due
				default:
					more = 0
				}
			}
			if due {
				t.scan(start)
			}
			// Let events gather: while the small channel is full, the
			// kernel queues them, and the next read takes them all at
			// once instead of one wakeup and one read per written line.
			pause.Reset(eventPause)
			select {
			case <-ctx.Done():
				return nil
			case <-pause.C:
			}
		case err := <-errs:
			t.log.Warn("file watch error; rescanning", logError, err)
			t.scan(start)
			t.wakeAll()
		case <-rescan.C:
			t.scan(start)
		case <-t.rescan:
			t.scan(start)
		case <-ckpt.C:
			if err := t.Checkpoint(); err != nil {
				if !ckptFailing {
					t.log.Error("cannot write the checkpoint", logError, err)
				}
				ckptFailing = true
			} else {
				ckptFailing = false
			}
		}
	}
}

// event handles one watcher event and reports whether a scan is due: a
// write wakes the file's follower; anything else may change what the
// patterns match.
func (t *Tailer) event(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Write {
		t.mu.Lock()
		f := t.byTarget[ev.Name]
		t.mu.Unlock()
		if f != nil {
			f.written.Store(true)
			f.notify()
		}
		return false
	}
	if ev.Op == fsnotify.Chmod {
		// A file that could not be opened may be readable now.
		t.mu.Lock()
		retry := len(t.unreadable) > 0
		t.mu.Unlock()
		return retry
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		t.mu.Lock()
		if t.watched[ev.Name] {
			delete(t.watched, ev.Name) // a removed directory
		}
		// A rotated file may have been deleted: its follower and the
		// spooler look at once, while the descriptor still holds it.
		for _, f := range t.byID {
			if f.detached.Load() {
				f.notify()
			}
		}
		t.mu.Unlock()
		t.wakeSpooler()
	}
	return true
}

func (t *Tailer) wakeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.byID {
		f.notify()
	}
}

// retire closes a finished file unless a path led back to it meanwhile. It
// reports whether the file was closed.
func (t *Tailer) retire(f *follower, force bool) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !force && t.attached(f) {
		f.detached.Store(false)
		return false
	}
	live := t.attached(f)
	for p, g := range t.byPath {
		if g == f {
			delete(t.byPath, p)
		}
	}
	if t.byTarget[f.meta.Target] == f {
		delete(t.byTarget, f.meta.Target)
	}
	delete(t.byID, f.id)
	if t.startFn != nil {
		t.release(f.meta.Target, t.startFn) // what was held for it is read whole
	}
	if wd := f.writeWd.Load(); wd != 0 && t.watcher != nil {
		t.watcher.unwatchWrite(wd)
	}
	t.ckpts.retired(f.id, f.close(live))
	t.m.filesClosed.Inc()
	t.log.Debug("file closed", f.logAttrs()...)
	select {
	case t.rescan <- struct{}{}: // a slot is free for a waiting file
	default:
	}
	return true
}

// Drain reads every open file to its current end and hands the records to
// the consumer. Call it after Run returned, with the shutdown deadline in
// ctx; rotated and deleted files are finished, live files keep their
// unfinished last line for the next start. The files stay open for Close.
func (t *Tailer) Drain(ctx context.Context) error {
	// The files found by now first, including those that appeared since
	// Run's last look (a rotation's new file, seconds before the stop);
	// then the copies that truncations found while they drained, which
	// hold the rest of the old content. Files that appear later are not
	// read: Close keeps them.
	t.scan(registerOnly)
	drained := make(map[*follower]bool)
	first := true
	var errs []error
	for {
		fs := t.followers(func(f *follower) bool {
			switch {
			case drained[f]:
				return false
			case f.heldFor != "" && !first:
				f.heldFor = "" // its reader drained without taking it as its copy
				return true
			}
			return f.heldFor == "" && (first || f.isCopy)
		})
		first = false
		if len(fs) == 0 {
			return errors.Join(errs...)
		}
		for _, f := range fs {
			drained[f] = true
			if err := f.drain(ctx, false); err != nil {
				errs = append(errs, fmt.Errorf("drain %s: %w", f.meta.Path, err))
				if ctx.Err() != nil {
					return errors.Join(errs...)
				}
			}
		}
	}
}

// watchInterval is how often Watch looks for new files.
const watchInterval = 500 * time.Millisecond

// Watch keeps finding files, without reading them, after Run returned and
// until ctx is done: call it during the shutdown window, before Close. A
// file that appears and is rotated away while skiff drains and flushes is
// then known, so Close keeps its bytes (in the spool, or at least in the
// checkpoint) for the next start instead of missing it.
func (t *Tailer) Watch(ctx context.Context) error {
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	for {
		t.scan(registerOnly)
		t.holdCopies(false) // copies made while the followers drain
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// registerOnly is the start function of scans after Run: a file found is
// opened and known, not read.
func registerOnly(*follower) {}

// Unacked returns the bytes read but not yet acknowledged, across every
// known file. They are read again after a restart.
func (t *Tailer) Unacked() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for _, f := range t.byID {
		n += f.acks.Load().unacked()
	}
	return n + t.ckpts.unacked()
}

// Checkpoint persists the acknowledged offset of every known file now. It
// is called every CheckpointInterval by Run, and once more at shutdown
// after the output has flushed. Without a StateDir it does nothing.
func (t *Tailer) Checkpoint() error {
	if t.cfg.StateDir == "" {
		return nil
	}
	t.ckptMu.Lock()
	defer t.ckptMu.Unlock()
	// Taken before the entries: their files were closed, so the entries
	// written say they were acknowledged.
	done := t.spool.takeDone()
	t.ckptBuf = t.entries(t.ckptBuf[:0], time.Now())
	err := t.ckpts.write(t.ckptBuf)
	t.spool.removeDone(done, err == nil)
	clear(t.ckptBuf) // the strings it holds may be freed
	return err
}

// entries appends to open every file's acknowledged offset: open files,
// finished files and loaded entries not yet matched, minus the expired
// ones.
func (t *Tailer) entries(open []ckptEntry, now time.Time) []ckptEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range t.byID {
		open = append(open, f.entry(now))
	}
	return t.ckpts.entries(now, open, t.isOpen)
}

// isOpen reports whether the file id is followed. Callers hold t.mu.
func (t *Tailer) isOpen(id fileID) bool { return t.byID[id] != nil }

func (t *Tailer) openFiles() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

func (t *Tailer) lagBytes() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for _, f := range t.byID {
		n += f.unread()
	}
	return n
}

// includes returns every input's include patterns.
func (t *Tailer) includes() []string {
	var out []string
	for _, in := range t.inputs {
		out = append(out, in.Include...)
	}
	return out
}
