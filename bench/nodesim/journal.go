package nodesim

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/skiff-agent/skiff/tailer/journal"
)

// JournalKind is one kind of entry the simulated journal writes: a stream
// of its own for a Counter, with the fields that select it.
type JournalKind struct {
	// Name names the kind: kubelet, containerd, kernel or sshd.
	Name string
	// Fields are its journal fields besides _HOSTNAME and MESSAGE.
	Fields []string
}

// JournalKinds are the kinds of entries, in stream order: the dataplane's
// kubelet and containerd units, kernel messages and sshd logins on the
// authpriv facility (the host's dmesg and secure).
var JournalKinds = []JournalKind{
	{"kubelet", []string{"_TRANSPORT=stdout", "_SYSTEMD_UNIT=kubelet.service", "SYSLOG_IDENTIFIER=kubelet", "_PID=2211", "PRIORITY=6", "SYSLOG_FACILITY=3"}},
	{"containerd", []string{"_TRANSPORT=stdout", "_SYSTEMD_UNIT=containerd.service", "SYSLOG_IDENTIFIER=containerd", "_PID=1876", "PRIORITY=6", "SYSLOG_FACILITY=3"}},
	{"kernel", []string{"_TRANSPORT=kernel", "SYSLOG_IDENTIFIER=kernel", "PRIORITY=5", "SYSLOG_FACILITY=0"}},
	{"sshd", []string{"_TRANSPORT=syslog", "SYSLOG_IDENTIFIER=sshd", "_PID=4104", "PRIORITY=6", "SYSLOG_FACILITY=10"}},
}

// JournalConfig configures a Journal.
type JournalConfig struct {
	// Dir is the journal directory (journal.dirs); the files go in its
	// machine-ID subdirectory.
	Dir string
	// Rate is entries per second over all kinds.
	Rate float64
	// RotateBytes archives the active file at this size, as journald's
	// SystemMaxFileSize; default 1 MiB.
	RotateBytes int64
	// MaxFiles is how many archived files are kept; older ones are
	// deleted (vacuumed). Default 5.
	MaxFiles int
	// Hostname is the entries' _HOSTNAME.
	Hostname string
}

// Journal writes a node's systemd journal: the entries of JournalKinds in
// turn, each MESSAGE carrying a marker (the kind is the marker's stream),
// into system.journal, archived at RotateBytes and vacuumed beyond
// MaxFiles. It is a Source for a Counter.
type Journal struct {
	cfg     JournalConfig
	dir     string // the machine-ID directory
	seqID   journal.ID128
	machine journal.ID128
	boot    journal.ID128

	mu       sync.Mutex
	w        *journal.Writer
	seqnum   uint64
	files    int
	archived []string
	lines    []atomic.Int64 // per kind
	tokens   float64
	filler   []byte
}

// NewJournal creates the journal directory and the active file.
func NewJournal(cfg JournalConfig) (*Journal, error) {
	if cfg.RotateBytes == 0 {
		cfg.RotateBytes = 1 << 20
	}
	if cfg.MaxFiles == 0 {
		cfg.MaxFiles = 5
	}
	if cfg.Rate <= 0 || cfg.Dir == "" {
		return nil, fmt.Errorf("nodesim: journal needs a directory and a positive rate")
	}
	j := &Journal{cfg: cfg, lines: make([]atomic.Int64, len(JournalKinds)), filler: makeFiller(80),
		seqID: journal.ID128{'n', 's', 'i', 'm', 's', 'e', 'q'}, machine: journal.ID128{'n', 's', 'i', 'm'},
		boot: journal.ID128{'b', 'o', 'o', 't', byte(time.Now().UnixNano())}}
	j.dir = filepath.Join(cfg.Dir, j.machine.String())
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return nil, err
	}
	if err := j.open(); err != nil {
		return nil, err
	}
	return j, nil
}

func (j *Journal) open() error {
	j.files++
	w, err := journal.CreateWriter(filepath.Join(j.dir, "system.journal"), j.seqID, j.machine, journal.ID128{'f', byte(j.files), byte(j.files >> 8)})
	if err != nil {
		return fmt.Errorf("nodesim: %w", err)
	}
	j.w = w
	return nil
}

// Dir is the journal directory to give the agent.
func (j *Journal) Dir() string { return j.cfg.Dir }

// Streams is the number of kinds.
func (j *Journal) Streams() int { return len(JournalKinds) }

// StreamLines is the number of entries of kind i written so far.
func (j *Journal) StreamLines(i int) int64 { return j.lines[i].Load() }

// Written is the number of entries written.
func (j *Journal) Written() int64 {
	var n int64
	for i := range j.lines {
		n += j.lines[i].Load()
	}
	return n
}

// Run writes at the rate until ctx is done, then archives the active file.
func (j *Journal) Run(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			j.mu.Lock()
			defer j.mu.Unlock()
			return j.w.Close()
		case now := <-t.C:
			j.tokens = min(j.tokens+j.cfg.Rate*now.Sub(last).Seconds(), 5*j.cfg.Rate)
			last = now
			if n := int(j.tokens); n > 0 {
				j.tokens -= float64(n)
				if err := j.write(n, now); err != nil {
					return err
				}
			}
		}
	}
}

// write appends n entries, the kinds in turn, and rotates when the file is
// full.
func (j *Journal) write(n int, now time.Time) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	es := make([]journal.WriterEntry, 0, n)
	var msg []byte
	for range n {
		kind := int(j.seqnum % uint64(len(JournalKinds)))
		k := JournalKinds[kind]
		// Counted before it is written, so that a Counter never sees an
		// entry its source has not counted yet.
		seq := j.lines[kind].Add(1) - 1
		msg = append(msg[:0], "MESSAGE="...)
		msg = AppendMarker(msg, Marker{Stream: kind, Seq: seq, Written: now, Len: len(j.filler)})
		msg = append(msg, ' ')
		msg = append(msg, j.filler...)
		j.seqnum++
		es = append(es, journal.WriterEntry{
			Seqnum: j.seqnum, Realtime: uint64(now.UnixMicro()), Monotonic: uint64(time.Since(startTime).Microseconds()),
			BootID: j.boot, Fields: append(slices.Clone(k.Fields), "_HOSTNAME="+j.cfg.Hostname, string(msg)),
		})
	}
	if err := j.w.Append(es...); err != nil {
		return err
	}
	if j.w.Size() >= j.cfg.RotateBytes {
		return j.rotate()
	}
	return nil
}

// rotate archives the active file under journald's name for it and opens a
// new one; archived files beyond MaxFiles are deleted.
func (j *Journal) rotate() error {
	if err := j.w.Close(); err != nil {
		return err
	}
	archived := filepath.Join(j.dir, fmt.Sprintf("system@%s-%016x-%016x.journal", j.seqID, j.seqnum, time.Now().UnixMicro()))
	if err := os.Rename(j.w.Path(), archived); err != nil {
		return err
	}
	j.archived = append(j.archived, archived)
	for len(j.archived) > j.cfg.MaxFiles {
		if err := os.Remove(j.archived[0]); err != nil {
			return err
		}
		j.archived = j.archived[1:]
	}
	return j.open()
}

// startTime is the simulated boot's start, for monotonic times.
var startTime = time.Now()
