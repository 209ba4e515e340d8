package tailer

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Retention of what the checkpoints remember of files no longer open.
const (
	// checkpointRetention is how long the entry of a file that is gone (or
	// was finished) is kept.
	checkpointRetention = 10 * time.Minute
	// seenRetention is how long the identity of a file once opened is
	// remembered, so that a rotated file is never read twice.
	seenRetention = 24 * time.Hour
)

// checkpoints is what the tailer remembers of files beyond the open ones:
// the entries loaded from the checkpoint file and not matched to a found
// file yet, the files closed and kept for their entry until they are
// acknowledged, and the identity of every file opened in the last day. It
// loads and writes the checkpoint file.
//
// Locks: mu guards the maps and what load found. The Tailer calls in with
// its own mu held or not, so the order is always Tailer.mu, then
// checkpoints.mu. Under mu, only an ackTracker's lock is taken, and the only
// call out is to the isOpen of expire and entries, which reads what the
// caller's Tailer.mu guards. writeMu serializes writes of the file and is
// taken with no other lock held.
type checkpoints struct {
	dir string // StateDir; "" keeps no checkpoints
	log *slog.Logger
	m   *metrics

	mu       sync.Mutex
	saved    map[fileID]ckptEntry  // loaded from the checkpoint, not matched yet
	closed   map[fileID]closedFile // finished files, for their entry
	seen     map[fileID]seenFile   // every file opened, for a day
	resumed  bool                  // a checkpoint was loaded
	ckptTime time.Time             // when the loaded checkpoint was written
	// ckptBroken: a checkpoint exists but could not be trusted (set by
	// load, before the first scan).
	ckptBroken bool

	writeMu sync.Mutex
	lastSum fileSum              // the file as last written
	last    map[fileID]lastEntry // what it holds, to skip encoding the same again
	lastGen uint64
	buf     []byte // a piece of the encoding, reused (ckptChunk)
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

func newCheckpoints(dir string, log *slog.Logger, m *metrics) *checkpoints {
	return &checkpoints{
		dir:    dir,
		log:    log,
		m:      m,
		saved:  make(map[fileID]ckptEntry),
		closed: make(map[fileID]closedFile),
		seen:   make(map[fileID]seenFile),
	}
}

// load reads the checkpoint file. A missing file is a first start; a
// corrupt or unreadable one is reported (a corrupt one is kept aside for
// inspection), and every file is read from its beginning.
func (c *checkpoints) load() {
	if c.dir == "" {
		return
	}
	path := filepath.Join(c.dir, checkpointName)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	// Without a trustworthy checkpoint, what was delivered is unknown:
	// every file is read from its beginning whatever read_from says, so
	// lines may come twice but none is skipped.
	if err != nil {
		c.m.ckptErrors.WithLabelValues(ckptRead).Inc()
		c.setBroken()
		c.log.Error("cannot read the checkpoint; reading every file from its beginning", logPath, path, logError, err)
		return
	}
	entries, err := decodeCheckpoint(data)
	if err != nil {
		c.m.ckptErrors.WithLabelValues(ckptCorrupt).Inc()
		c.setBroken()
		aside := path + ".corrupt"
		_ = os.WriteFile(aside, data, 0o600)
		c.log.Error("checkpoint file is corrupt; reading every file from its beginning, a copy is kept",
			logPath, path, "copy", aside, logError, err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resumed = true
	if fi, err := os.Stat(path); err == nil {
		c.ckptTime = fi.ModTime()
	}
	for _, e := range entries {
		c.saved[e.id()] = e
	}
}

// loaded reports whether a checkpoint was loaded, and when it was written.
func (c *checkpoints) loaded() (written time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ckptTime, c.resumed
}

func (c *checkpoints) setBroken() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ckptBroken = true
}

// broken reports whether a checkpoint exists but could not be trusted:
// then no file starts at its end, whatever read_from says.
func (c *checkpoints) broken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ckptBroken
}

// take removes and returns the saved entry of a found file.
func (c *checkpoints) take(id fileID) (ckptEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.saved[id]
	if ok {
		delete(c.saved, id)
	}
	return e, ok
}

// entry returns the saved entry of id, leaving it saved.
func (c *checkpoints) entry(id fileID) (ckptEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.saved[id]
	return e, ok
}

// unmatched returns the saved entries, in no order.
func (c *checkpoints) unmatched() []ckptEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]ckptEntry, 0, len(c.saved))
	for _, e := range c.saved {
		out = append(out, e)
	}
	return out
}

// forget drops the saved entry of id.
func (c *checkpoints) forget(id fileID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.saved, id)
}

// opened records a file just found and opened: its identity is seen, and
// the entry of an earlier closed file with the same inode is gone.
func (c *checkpoints) opened(id fileID, fp fingerprint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[id] = seenFile{fp: fp, at: time.Now()}
	delete(c.closed, id)
}

// markSeen records the identity of a file opened (a copy or a spool entry).
func (c *checkpoints) markSeen(id fileID, fp fingerprint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen[id] = seenFile{fp: fp, at: time.Now()}
}

// retired records a file closed, for its entry until it is acknowledged.
func (c *checkpoints) retired(id fileID, cf closedFile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed[id] = cf
	c.seen[id] = seenFile{fp: cf.fp, at: cf.at}
}

// wasSeen reports whether the file at path, with inode id, was opened
// before: same inode and same first bytes (inodes are reused quickly).
func (c *checkpoints) wasSeen(id fileID, path string) bool {
	c.mu.Lock()
	sf, ok := c.seen[id]
	c.mu.Unlock()
	return ok && sameContent(path, sf.fp)
}

// unacked returns the bytes of closed files read but not acknowledged.
func (c *checkpoints) unacked() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, cf := range c.closed {
		n += cf.acks.unacked()
	}
	return n
}

// pending adds where the unacknowledged bytes of closed files are to p.
func (c *checkpoints) pending(p *Pending) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cf := range c.closed {
		p.add(cf.size-cf.acks.watermark(), cf.live, cf.spool != "")
	}
}

// expire drops entries of files finished or unseen for longer than the
// retention. isOpen tells the files open now, whose identity is kept; it is
// called under c.mu and must take no lock.
func (c *checkpoints) expire(now time.Time, isOpen func(fileID) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(now, isOpen)
}

func (c *checkpoints) expireLocked(now time.Time, isOpen func(fileID) bool) {
	for id, cf := range c.closed {
		if now.Sub(cf.at) > checkpointRetention && cf.acks.idle() {
			delete(c.closed, id)
		}
	}
	for id, e := range c.saved {
		if now.Sub(e.Seen) > checkpointRetention {
			delete(c.saved, id)
		}
	}
	for id, sf := range c.seen {
		if now.Sub(sf.at) > seenRetention && !isOpen(id) {
			delete(c.seen, id)
		}
	}
}

// entries expires what is old, then returns the entries to write: open
// (the open files' entries), those of the closed files and the saved
// entries not matched yet, in a stable order. isOpen is as for expire.
func (c *checkpoints) entries(now time.Time, open []ckptEntry, isOpen func(fileID) bool) []ckptEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expireLocked(now, isOpen)
	out := open
	for id, cf := range c.closed {
		e := newEntry(id, cf.fp, cf.meta, cf.acks.watermark(), cf.at)
		e.Size, e.Spool, e.Unsafe = max(cf.size, e.Offset), cf.spool, cf.unsafe
		out = append(out, e)
	}
	for _, e := range c.saved {
		out = append(out, e)
	}
	return out
}

// write replaces the checkpoint file with entries, unless it already holds
// them.
func (c *checkpoints) write(entries []ckptEntry) error {
	if c.dir == "" {
		return nil
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	// Nothing changed (idle files): not even sorted or encoded, which with
	// a thousand files is most of what an idle agent does.
	if c.unchanged(entries) {
		return nil
	}
	sortEntries(entries)
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		c.m.ckptErrors.WithLabelValues(ckptWrite).Inc()
		return fmt.Errorf("create %s: %w", c.dir, err)
	}
	sum, buf, err := writeCheckpointFile(filepath.Join(c.dir, checkpointName), entries, c.lastSum, c.buf)
	c.buf = buf
	if err != nil {
		c.m.ckptErrors.WithLabelValues(ckptWrite).Inc()
		return err
	}
	if sum == c.lastSum {
		c.remember(entries)
		return nil
	}
	c.m.ckptWrites.Inc()
	c.lastSum = sum
	c.remember(entries)
	return nil
}

// unchanged reports whether entries, in any order, are what the file
// holds: as many, each one there, none twice. Callers hold writeMu.
func (c *checkpoints) unchanged(entries []ckptEntry) bool {
	if c.last == nil || len(entries) != len(c.last) {
		return false
	}
	c.lastGen++
	for _, e := range entries {
		old, ok := c.last[e.id()]
		if !ok || old.e != e || old.gen == c.lastGen {
			return false
		}
		c.last[e.id()] = lastEntry{e, c.lastGen}
	}
	return true
}

// remember keeps entries as what the file holds. Callers hold writeMu.
func (c *checkpoints) remember(entries []ckptEntry) {
	if c.last == nil {
		c.last = make(map[fileID]lastEntry, len(entries))
	}
	clear(c.last)
	for _, e := range entries {
		c.last[e.id()] = lastEntry{e: e}
	}
	if len(c.last) != len(entries) {
		c.last = nil // an id twice: never taken as unchanged
	}
}

// fileSum tells checkpoint files apart without keeping their bytes. It
// only spares a write when entries the identity check could not match (an
// id twice, the first write after a start) encode the same; two different
// files taken as equal would delay the write to the next change.
type fileSum struct {
	n   int
	sum uint32 // CRC-32C of the files, which the CPU computes
}

// lastEntry is an entry the checkpoint file holds; gen marks it found by
// the latest unchanged check.
type lastEntry struct {
	e   ckptEntry
	gen uint64
}
