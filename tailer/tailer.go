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
)

// Tailer discovers log files, follows each of them, and hands their records
// to a Consumer. Create it with New.
type Tailer struct {
	cfg  Config
	out  Consumer
	log  *slog.Logger
	m    *metrics
	gate *fairGate
	bufs sync.Pool // *roundBuf

	running atomic.Bool

	mu         sync.Mutex
	byPath     map[string]*follower // discovered path → the file it leads to
	byID       map[fileID]*follower // open files
	byTarget   map[string]*follower // resolved path → its file, for fsnotify writes
	waiting    map[string]found     // files waiting for an open-file slot
	closed     map[fileID]closedFile
	saved      map[fileID]ckptEntry // loaded from the checkpoint, not matched yet
	watched    map[string]bool
	seen       map[fileID]seenFile       // every file opened, for a day
	unreadable map[fileID]unreadableFile // files that could not be opened
	startedAt  time.Time
	scanned    chan struct{} // closed after the first scan
	watcher    *fsnotify.Watcher
	started    bool      // the first scan happened
	resumed    bool      // a checkpoint was loaded
	ckptBroken bool      // a checkpoint exists but could not be trusted
	ckptTime   time.Time // when the loaded checkpoint was written
	rescan     chan struct{}

	ckptMu   sync.Mutex
	lastCkpt []byte

	spool     *spool        // nil without a StateDir
	spoolWake chan struct{} // wakes the spooler
	loaded    []*spoolFile  // spool entries of an earlier run, until the first scan
	// startFn starts a follower's goroutine while Run runs; after it, it
	// only registers the follower (Drain reads the copies, Close keeps the
	// rest). Set under mu.
	startFn func(*follower)
	// pendingLost is what Close could keep nowhere.
	pendingLost atomic.Int64
}

// unreadableFile is a file found that could not be opened.
type unreadableFile struct {
	path string
	size int64
	err  error
}

// seenFile is the identity of a file once opened.
type seenFile struct {
	fp fingerprint
	at time.Time
}

// closedFile is a file read to its end and closed, kept for its checkpoint
// entry until it is acknowledged and the retention passed.
type closedFile struct {
	fp     fingerprint
	meta   *FileMeta
	acks   *ackTracker
	at     time.Time
	size   int64
	live   bool   // it was under its path when closed (a shutdown)
	spool  string // the spool entry holding its unacknowledged bytes
	unsafe string // why its unacknowledged bytes exist nowhere else
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
		out:        out,
		log:        cfg.Logger,
		gate:       newFairGate(max(2, runtime.GOMAXPROCS(0))),
		byPath:     make(map[string]*follower),
		byID:       make(map[fileID]*follower),
		byTarget:   make(map[string]*follower),
		waiting:    make(map[string]found),
		closed:     make(map[fileID]closedFile),
		saved:      make(map[fileID]ckptEntry),
		watched:    make(map[string]bool),
		seen:       make(map[fileID]seenFile),
		unreadable: make(map[fileID]unreadableFile),
		scanned:    make(chan struct{}),
		rescan:     make(chan struct{}, 1),
		spoolWake:  make(chan struct{}, 1),
	}
	t.bufs.New = func() any { return &roundBuf{data: make([]byte, cfg.ReadBudget)} }
	m, err := newMetrics(cfg.Registerer, t)
	if err != nil {
		return nil, fmt.Errorf("register tailer metrics: %w", err)
	}
	t.m = m
	t.spool = newSpool(cfg.StateDir, cfg.MaxSpoolBytes, m)
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
	t.loadCheckpoint()
	t.loadSpool()
	w, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		t.log.Warn("fsnotify unavailable; new files are found by the rescan only", logError, err)
	} else {
		defer w.Close()
		t.mu.Lock()
		t.watcher = w
		t.mu.Unlock()
		defer func() {
			t.mu.Lock()
			t.watcher = nil
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
	start := func(f *follower) { wg.Go(func() { f.run(ctx) }) }
	t.mu.Lock()
	t.startFn = start
	t.mu.Unlock()
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
		events, errs = w.Events, w.Errors
	}
	ckptFailing := false
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
		case err := <-errs:
			t.log.Warn("fsnotify error; rescanning", logError, err)
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

// event handles one fsnotify event and reports whether a scan is due: a
// write wakes the file's follower; anything else may change what the
// patterns match.
func (t *Tailer) event(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Write {
		t.mu.Lock()
		f := t.byTarget[ev.Name]
		t.mu.Unlock()
		if f != nil {
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

// retire closes a finished file unless a path led back to it meanwhile.
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
	fp := f.fingerprint()
	acks := f.acks.Load()
	f.mu.Lock()
	sf, lost := f.spooled, f.spoolLost
	if f.settled() {
		// Everything in the file was acknowledged: the spool copy is not
		// needed.
		t.spool.remove(sf)
		f.spooled, sf = nil, nil
	}
	f.mu.Unlock()
	c := closedFile{fp: fp, meta: f.meta, acks: acks, at: time.Now(), size: f.size.Load(), live: live}
	if sf != nil {
		c.spool = sf.name
	}
	if lost && f.deleted.Load() {
		c.unsafe = skipSpoolFull
	}
	t.closed[f.id] = c
	t.seen[f.id] = seenFile{fp: fp, at: time.Now()}
	f.closed.Store(true)
	f.file.Close()
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
	// The open files first; then the copies that truncations found while
	// they drained, which hold the rest of the old content. Files that
	// merely appeared meanwhile are not read: Close keeps them.
	drained := make(map[*follower]bool)
	first := true
	var errs []error
	for {
		fs := t.followers(func(f *follower) bool { return !drained[f] && (first || f.isCopy) })
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
	for _, c := range t.closed {
		n += c.acks.unacked()
	}
	return n
}

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

// fairGate lets a fixed number of followers read at once and queues the
// others in arrival order, so that a busy file that comes back for another
// round waits behind every file already waiting.
type fairGate struct {
	slots   int
	mu      sync.Mutex
	free    int
	waiters []chan struct{}
}

func newFairGate(n int) *fairGate { return &fairGate{slots: n, free: n} }

func (g *fairGate) acquire(ctx context.Context) error {
	g.mu.Lock()
	if g.free > 0 && len(g.waiters) == 0 {
		g.free--
		g.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	g.waiters = append(g.waiters, ch)
	g.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		for i, w := range g.waiters {
			if w == ch {
				g.waiters = append(g.waiters[:i], g.waiters[i+1:]...)
				g.mu.Unlock()
				return ctx.Err()
			}
		}
		g.mu.Unlock()
		// The slot was handed over meanwhile: give it back.
		g.release()
		return ctx.Err()
	}
}

func (g *fairGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.waiters) > 0 {
		close(g.waiters[0])
		g.waiters = g.waiters[1:]
		return
	}
	g.free++
}
