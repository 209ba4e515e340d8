package tailer

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/tailer/multiline"
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
	// minLineBytes is the smallest MaxLineBytes; the largest is
	// DefaultMaxLineBytes.
	minLineBytes = 1 << 10
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
	// Name names the files Include finds: their records carry it as
	// FileMeta.Input. Default "".
	Name string
	// Inputs are more sets of files, each with its own name, globs and
	// format. A file belongs to the first set that includes it and does not
	// exclude it, Include and Exclude first.
	Inputs []Input
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
	// RescanInterval is the period of the safety rescan behind the watcher;
	// default 60s.
	RescanInterval time.Duration
	// ReadBudget is how many bytes one file reads per round before the
	// others get their turn; default 256 KiB.
	ReadBudget int
	// Multiline chooses the multi-line rule that joins a file's lines into
	// records (a stack trace as one record), or nil to take each line
	// alone; decided is false while the rule cannot be known yet (the
	// pod's metadata, which may name one, has not arrived). It is asked at
	// every read round, so a rule learned late applies from the next line
	// on; it must be fast and safe for concurrent use. Default nil: no
	// joining.
	Multiline func(*FileMeta) (rule *multiline.Rule, decided bool)
	// MultilineQuiet is how long a multi-line group waits for its next
	// line before it is shipped as it is; default 1s.
	MultilineQuiet time.Duration
	// MultilineWait is how long a newly opened file waits, unread, for
	// Multiline to decide; default 2s.
	MultilineWait time.Duration
	// Logger receives the tailer's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the tailer's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Values of Input.Format.
const (
	// FormatAuto reads the kubelet's formats, CRI or docker json-file,
	// told apart by a file's first line.
	FormatAuto = "auto"
	// FormatPlain reads lines of text, such as /var/log/messages: each line
	// is a record, timed when it is read.
	FormatPlain = "plain"
)

// Input is a named set of files read the same way.
type Input struct {
	// Name is carried by the records as FileMeta.Input.
	Name string
	// Include and Exclude are glob patterns, as Config's.
	Include, Exclude []string
	// Format is FormatAuto (default) or FormatPlain.
	Format string
}

// inputs returns every set of files, Config's own first.
func (c *Config) inputs() []Input {
	return append([]Input{{Name: c.Name, Include: c.Include, Exclude: c.Exclude}}, c.Inputs...)
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if len(c.Include) == 0 {
		c.Include = []string{DefaultInclude}
	}
	if c.ReadFrom == "" {
		c.ReadFrom = ReadFromBeginning
	}
	if c.MultilineQuiet <= 0 {
		c.MultilineQuiet = DefaultMultilineQuiet
	}
	if c.MultilineWait <= 0 {
		c.MultilineWait = DefaultMultilineWait
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

// FieldError is one invalid field of a Config. It wraps ErrConfig.
type FieldError struct {
	// Field is the name of the Config field, such as "ReadBudget".
	Field string
	// Msg says what is wrong with its value.
	Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns ErrConfig.
func (e *FieldError) Unwrap() error { return ErrConfig }

// Validate reports every invalid field, each a *FieldError, joined. Zero
// values are valid: they mean the defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	for i, in := range c.inputs() {
		prefix := ""
		if i > 0 {
			prefix = fmt.Sprintf("Inputs[%d].", i-1)
			if len(in.Include) == 0 {
				bad(prefix+"Include", "must list at least one glob")
			}
		}
		for _, g := range []struct {
			field    string
			patterns []string
		}{{"Include", in.Include}, {"Exclude", in.Exclude}} {
			for _, p := range g.patterns {
				if p == "" {
					bad(prefix+g.field, "empty glob pattern")
				} else if _, err := filepath.Match(p, ""); err != nil {
					bad(prefix+g.field, "%q: %v", p, err)
				}
			}
		}
		if in.Format != "" && in.Format != FormatAuto && in.Format != FormatPlain {
			bad(prefix+"Format", "%q is not one of %s, %s", in.Format, FormatAuto, FormatPlain)
		}
	}
	if c.ReadFrom != ReadFromBeginning && c.ReadFrom != ReadFromEnd {
		bad("ReadFrom", "%q is not one of %s, %s", c.ReadFrom, ReadFromBeginning, ReadFromEnd)
	}
	if c.LongLines != LongLinesSplit && c.LongLines != LongLinesTruncate {
		bad("LongLines", "%q is not one of %s, %s", c.LongLines, LongLinesSplit, LongLinesTruncate)
	}
	if c.CheckpointInterval < 0 {
		bad("CheckpointInterval", "%v is negative", c.CheckpointInterval)
	}
	if c.RescanInterval < 0 {
		bad("RescanInterval", "%v is negative", c.RescanInterval)
	}
	if c.MaxLineBytes < minLineBytes || c.MaxLineBytes > DefaultMaxLineBytes {
		bad("MaxLineBytes", "must be between %d and %d (CloudWatch's largest event), got %d",
			minLineBytes, DefaultMaxLineBytes, c.MaxLineBytes)
	}
	if c.MaxOpenFiles < 1 {
		bad("MaxOpenFiles", "must be at least 1, got %d", c.MaxOpenFiles)
	}
	if c.MaxDeletedBytes < 0 {
		bad("MaxDeletedBytes", "must not be negative, got %d", c.MaxDeletedBytes)
	}
	if c.MaxSpoolBytes < 0 {
		bad("MaxSpoolBytes", "must not be negative, got %d", c.MaxSpoolBytes)
	}
	if c.ReadBudget < minReadBudget || c.ReadBudget > maxReadBudget {
		bad("ReadBudget", "must be between %d (4 KiB) and %d (64 MiB), got %d", minReadBudget, maxReadBudget, c.ReadBudget)
	}
	return errors.Join(errs...)
}
