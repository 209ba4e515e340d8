package tailer

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults of Config's fields.
const (
	// DefaultInclude is the glob of the kubelet's container log symlinks.
	DefaultInclude = "/var/log/containers/*.log"
	// DefaultMaxLineBytes is the largest CloudWatch Logs event message.
	DefaultMaxLineBytes = 1_048_550
	// DefaultCheckpointInterval is how often checkpoints are written.
	DefaultCheckpointInterval = time.Second
	// DefaultMaxOpenFiles bounds the files open at once.
	DefaultMaxOpenFiles = 1024
	// DefaultMaxDeletedBytes bounds the unread bytes held by deleted files.
	DefaultMaxDeletedBytes = 1 << 30
	// DefaultMaxSpoolBytes bounds the spool of deleted files' bytes.
	DefaultMaxSpoolBytes = 1 << 30
	// DefaultRescanInterval is the period of the safety rescan.
	DefaultRescanInterval = time.Minute
	// DefaultReadBudget is how many bytes a file may read per round.
	DefaultReadBudget = 256 << 10
)

// Values of Config.ReadFrom and Config.LongLines.
const (
	ReadFromBeginning = "beginning"
	ReadFromEnd       = "end"
	LongLinesSplit    = "split"
	LongLinesTruncate = "truncate"
)

// Limits on Config values.
const (
	minReadBudget = 4 << 10
	maxReadBudget = 64 << 20
	minLineBytes  = 16
)

// Config says what to tail and how. Its zero value, given to New, means
// the defaults.
type Config struct {
	// Include are the glob patterns of the files to follow; default
	// {DefaultInclude}. Symlinks are followed.
	Include []string
	// Exclude are glob patterns of paths (the discovered path or its
	// resolved target) to leave alone; default none.
	Exclude []string
	// ReadFrom is where to start in files found at the first start with no
	// checkpoint: "beginning" (default) or "end". Files that appear later
	// are always read from the beginning.
	ReadFrom string
	// StateDir is the directory of the checkpoint file; "" keeps no
	// checkpoints.
	StateDir string
	// CheckpointInterval is how often acknowledged offsets are persisted;
	// default 1s.
	CheckpointInterval time.Duration
	// MaxLineBytes is the largest record message; longer lines are split
	// or truncated. Default 1,048,550.
	MaxLineBytes int
	// LongLines is "split" (default) or "truncate".
	LongLines string
	// MaxOpenFiles bounds the files open at once; default 1024. Files
	// beyond it wait for a slot.
	MaxOpenFiles int
	// MaxDeletedBytes bounds the unread bytes of deleted files kept open;
	// past it the oldest deleted file is closed and its rest counted as
	// skipped. Default 1 GiB.
	MaxDeletedBytes int64
	// MaxSpoolBytes bounds the spool under StateDir where the unacknowledged
	// bytes of deleted files are kept so that a restart finds them; past it
	// the oldest spooled bytes are given up, counted and logged. Default
	// 1 GiB.
	MaxSpoolBytes int64
	// RescanInterval is the period of the safety rescan behind fsnotify;
	// default 60s.
	RescanInterval time.Duration
	// ReadBudget is how many bytes one file reads per round before the
	// others get their turn; default 256 KiB.
	ReadBudget int
	// Logger receives the tailer's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the tailer's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if len(c.Include) == 0 {
		c.Include = []string{DefaultInclude}
	}
	if c.ReadFrom == "" {
		c.ReadFrom = ReadFromBeginning
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = DefaultCheckpointInterval
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.LongLines == "" {
		c.LongLines = LongLinesSplit
	}
	if c.MaxOpenFiles == 0 {
		c.MaxOpenFiles = DefaultMaxOpenFiles
	}
	if c.MaxDeletedBytes == 0 {
		c.MaxDeletedBytes = DefaultMaxDeletedBytes
	}
	if c.MaxSpoolBytes == 0 {
		c.MaxSpoolBytes = DefaultMaxSpoolBytes
	}
	if c.RescanInterval == 0 {
		c.RescanInterval = DefaultRescanInterval
	}
	if c.ReadBudget == 0 {
		c.ReadBudget = DefaultReadBudget
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first invalid field. Zero values are valid: they
// mean the defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	for _, p := range append(append([]string(nil), c.Include...), c.Exclude...) {
		if p == "" {
			return fmt.Errorf("%w: empty glob pattern", ErrConfig)
		}
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Errorf("%w: pattern %q: %w", ErrConfig, p, err)
		}
	}
	switch {
	case c.ReadFrom != ReadFromBeginning && c.ReadFrom != ReadFromEnd:
		return fmt.Errorf("%w: read_from %q: want %q or %q", ErrConfig, c.ReadFrom, ReadFromBeginning, ReadFromEnd)
	case c.LongLines != LongLinesSplit && c.LongLines != LongLinesTruncate:
		return fmt.Errorf("%w: long_lines %q: want %q or %q", ErrConfig, c.LongLines, LongLinesSplit, LongLinesTruncate)
	case c.CheckpointInterval < 0:
		return fmt.Errorf("%w: checkpoint_interval %v is negative", ErrConfig, c.CheckpointInterval)
	case c.RescanInterval < 0:
		return fmt.Errorf("%w: rescan_interval %v is negative", ErrConfig, c.RescanInterval)
	case c.MaxLineBytes < minLineBytes:
		return fmt.Errorf("%w: max_line_bytes %d is below %d", ErrConfig, c.MaxLineBytes, minLineBytes)
	case c.MaxOpenFiles < 1:
		return fmt.Errorf("%w: max_open_files %d is below 1", ErrConfig, c.MaxOpenFiles)
	case c.MaxDeletedBytes < 0:
		return fmt.Errorf("%w: max_deleted_bytes %d is negative", ErrConfig, c.MaxDeletedBytes)
	case c.MaxSpoolBytes < 0:
		return fmt.Errorf("%w: max_spool_bytes %d is negative", ErrConfig, c.MaxSpoolBytes)
	case c.ReadBudget < minReadBudget || c.ReadBudget > maxReadBudget:
		return fmt.Errorf("%w: read_budget %d is outside [%d, %d]", ErrConfig, c.ReadBudget, minReadBudget, maxReadBudget)
	}
	return nil
}
