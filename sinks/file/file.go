// Package file is a sink that writes records as JSON lines (or raw lines)
// to a file that rotates by size: for development, debugging and tests.
//
// It keeps the Sink contract: records are buffered under the byte budget
// and acknowledged once their block is written to the file (and fsynced
// when Sync is set; otherwise it is in the page cache, and a machine crash
// can lose what the process had acknowledged). A write error is retried
// with backoff until Run's context ends. When the file reaches MaxBytes it
// is renamed to PATH.1 (PATH.1 to PATH.2, and so on; the oldest beyond
// MaxFiles is removed) and a new file is started; a block is never split
// across two files.
package file

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/sinks"
)

// Defaults of Config.
const (
	DefaultMaxBytes = 100 << 20
	DefaultMaxFiles = 5
)

// Config configures the file sink.
type Config struct {
	// Path is the file written; required. Its directory must exist.
	Path string
	// MaxBytes is the size at which the file rotates; default 100 MiB.
	MaxBytes int64
	// MaxFiles is how many rotated files are kept; default 5.
	MaxFiles int
	// Sync fsyncs the file after every block, before acknowledging it.
	Sync bool
	// Encoder says how records become lines.
	Encoder sinks.EncoderConfig
	// BufferBytes is the byte budget; default 64 MiB.
	BufferBytes int64
	// FlushInterval is the longest a line waits; default 1s.
	FlushInterval time.Duration
	// Logger receives write errors; nil discards them.
	Logger *slog.Logger
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Validate reports every setting New would refuse, each a
// *sinks.FieldError, joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, msg string) { errs = append(errs, &sinks.FieldError{Field: field, Msg: msg}) }
	if c.Path == "" {
		bad("Path", "required")
	}
	if c.MaxBytes < 0 {
		bad("MaxBytes", "must not be negative")
	}
	if c.MaxFiles < 0 {
		bad("MaxFiles", "must not be negative")
	}
	if c.BufferBytes < 0 {
		bad("BufferBytes", "must not be negative")
	}
	errs = append(errs, sinks.Within("Encoder", c.Encoder.Validate()))
	return errors.Join(errs...)
}

// Sink writes lines to a rotating file. It implements sinks.Sink.
type Sink struct {
	*sinks.Lines
	w *rotator
}

// New opens (appending to) cfg.Path and returns the sink.
func New(cfg Config) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("file sink: %w", err)
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.MaxFiles == 0 {
		cfg.MaxFiles = DefaultMaxFiles
	}
	w := &rotator{path: cfg.Path, maxBytes: cfg.MaxBytes, maxFiles: cfg.MaxFiles, sync: cfg.Sync}
	if err := w.open(); err != nil {
		return nil, err
	}
	l, err := sinks.NewLines(sinks.LinesConfig{
		Output:        "file",
		Encoder:       cfg.Encoder,
		BufferBytes:   cfg.BufferBytes,
		FlushInterval: cfg.FlushInterval,
		Logger:        cfg.Logger,
		Registerer:    cfg.Registerer,
	}, w.write)
	if err != nil {
		w.close()
		return nil, err
	}
	return &Sink{Lines: l, w: w}, nil
}

// Close closes the file. Call it after Run returned.
func (s *Sink) Close() error { return s.w.close() }

// rotator is the file and its rotation.
type rotator struct {
	path     string
	maxBytes int64
	maxFiles int
	sync     bool

	mu   sync.Mutex
	f    *os.File
	size int64
}

func (r *rotator) open() error {
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open %s: %w", r.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", r.path, err)
	}
	r.f, r.size = f, fi.Size()
	return nil
}

func (r *rotator) write(b []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		if err := r.open(); err != nil {
			return err
		}
	}
	if r.size > 0 && r.size+int64(len(b)) > r.maxBytes {
		if err := r.rotate(); err != nil {
			return err
		}
	}
	n, err := r.f.Write(b)
	r.size += int64(n)
	if err != nil {
		return fmt.Errorf("write %s: %w", r.path, err)
	}
	if r.sync {
		if err := r.f.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", r.path, err)
		}
	}
	return nil
}

// rotate shifts PATH.i to PATH.i+1, PATH to PATH.1, and opens a new PATH.
func (r *rotator) rotate() error {
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", r.path, err)
	}
	r.f = nil
	os.Remove(fmt.Sprintf("%s.%d", r.path, r.maxFiles))
	for i := r.maxFiles - 1; i >= 1; i-- {
		old := fmt.Sprintf("%s.%d", r.path, i)
		if err := os.Rename(old, fmt.Sprintf("%s.%d", r.path, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("rotate %s: %w", old, err)
		}
	}
	if err := os.Rename(r.path, r.path+".1"); err != nil {
		return fmt.Errorf("rotate %s: %w", r.path, err)
	}
	return r.open()
}

func (r *rotator) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

var _ sinks.Sink = (*Sink)(nil)
