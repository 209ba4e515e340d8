package journal

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults of Config's fields.
const (
	// DefaultPersistentDir is where journald keeps the journal on disk.
	DefaultPersistentDir = "/var/log/journal"
	// DefaultVolatileDir is where journald keeps it in memory.
	DefaultVolatileDir = "/run/log/journal"
	// DefaultBatchSize is the most entries per Consumer.Write.
	DefaultBatchSize = 256
	// DefaultPollInterval is the period of the safety poll behind fsnotify.
	DefaultPollInterval = 2 * time.Second
)

// Values of Config.ReadFrom.
const (
	ReadFromBeginning = "beginning"
	ReadFromEnd       = "end"
)

// Config says which journal to read and from where. Its zero value, given
// to NewReader, reads the system journal from the beginning.
type Config struct {
	// Dirs are the journal directories; default /var/log/journal and
	// /run/log/journal. Journal files directly in them are read, and those
	// in their machine-ID subdirectories (see MachineID and Namespace). A
	// directory that does not exist is looked for again at every poll.
	Dirs []string
	// Files are journal files read besides Dirs' (as `skiff tail FILE`
	// does), whatever their names; with Files and no Dirs, only they are
	// read.
	Files []string
	// MachineID, when set, restricts reading to that machine's
	// subdirectories, as journalctl does for the local machine; default
	// every machine's.
	MachineID ID128
	// Namespace is the journal namespace: "" (default) reads the
	// subdirectories named by a machine ID, "x" those named
	// "<machine-id>.x", as journalctl --namespace=x.
	Namespace string
	// Filter selects the entries delivered; default all.
	Filter Filter
	// After is the position of the last entry already handled: reading
	// starts with the entry after it, in whichever file it now is. Zero
	// (default) starts as ReadFrom says.
	After Cursor
	// ReadFrom is where to start without After: "beginning" (default), or
	// "end" to deliver only entries written after the first scan.
	ReadFrom string
	// BatchSize is the most entries one Consumer.Write receives; default
	// 256.
	BatchSize int
	// PollInterval is the period of the safety poll behind fsnotify: the
	// directories are scanned again and every file is checked for new
	// entries. Default 2s.
	PollInterval time.Duration
	// OnLoss is called, from the goroutine reading, for every Loss; it
	// must not block for long. Default none (losses are still logged).
	OnLoss func(Loss)
	// Logger receives the reader's logs; nil discards them.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if len(c.Dirs) == 0 && len(c.Files) == 0 {
		c.Dirs = []string{DefaultPersistentDir, DefaultVolatileDir}
	}
	if c.ReadFrom == "" {
		c.ReadFrom = ReadFromBeginning
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every invalid field, joined; each error wraps
// ErrConfig. Zero values are valid: they mean the defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...)))
	}
	for _, d := range c.Dirs {
		if d == "" {
			bad("Dirs", "empty directory")
		}
	}
	if c.ReadFrom != ReadFromBeginning && c.ReadFrom != ReadFromEnd {
		bad("ReadFrom", "%q is not one of %s, %s", c.ReadFrom, ReadFromBeginning, ReadFromEnd)
	}
	if c.BatchSize < 1 || c.BatchSize > 1<<16 {
		bad("BatchSize", "must be between 1 and 65536, got %d", c.BatchSize)
	}
	if c.PollInterval < 10*time.Millisecond {
		bad("PollInterval", "must be at least 10ms, got %v", c.PollInterval)
	}
	for _, r := range c.Namespace {
		if r == '/' || r == '.' {
			bad("Namespace", "%q holds %q", c.Namespace, r)
			break
		}
	}
	if err := c.Filter.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// LossReason says why entries could not be delivered.
type LossReason uint8

// Loss reasons.
const (
	// LossGap: entries numbered by a machine's journald are in no file
	// the reader can read: between two entries read, or between
	// Config.After and the first entry read. They were vacuumed (deleted)
	// before they were read, or sat in a file that could not be read.
	LossGap LossReason = iota + 1
	// LossCorrupt: entries in a malformed part of a file.
	LossCorrupt
	// LossUnreadable: a file that cannot be read at all (not a journal,
	// an unsupported feature, an I/O error); Entries is 0 when its header
	// could not be read.
	LossUnreadable
	// LossCursor: no file holds Config.After's sequence any more; reading
	// resumed by time, and how many entries were lost between the cursor
	// and the oldest entry present is unknown (maybe none); Entries is 0.
	LossCursor
)

// String returns "gap", "corrupt", "unreadable" or "cursor".
func (r LossReason) String() string {
	switch r {
	case LossGap:
		return "gap"
	case LossCorrupt:
		return "corrupt"
	case LossUnreadable:
		return "unreadable"
	case LossCursor:
		return "cursor"
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// Loss reports entries the reader could not deliver, so that the caller
// can count them. Counts are of entries before filtering.
type Loss struct {
	Reason LossReason
	// Path is the file concerned, if one is.
	Path string
	// SeqnumID is the sequence the entries belong to, if known.
	SeqnumID ID128
	// Entries is how many entries were lost, as far as the files tell; a
	// corrupt file's count comes from its header and is an estimate.
	Entries uint64
	// Err is the error behind the loss, if any.
	Err error
}
