// Package stdout is a sink that writes records as JSON lines (or raw lines)
// to an io.Writer, normally os.Stdout: for development and debugging.
//
// It keeps the Sink contract: records are buffered under the byte budget
// and acknowledged once their block was written in full. A write error is
// retried with backoff until Run's context ends; a block that was written
// in part is written again whole, so lines can repeat after such an error.
package stdout

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/sinks"
)

// Options configure the stdout sink. The zero value writes JSON lines.
type Options struct {
	// Encoder says how records become lines (format, parse, labels,
	// annotations, host).
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
func (o Options) Validate() error {
	var errs []error
	if o.BufferBytes < 0 {
		errs = append(errs, &sinks.FieldError{Field: "BufferBytes", Msg: "must not be negative"})
	}
	errs = append(errs, sinks.Within("Encoder", o.Encoder.Validate()))
	return errors.Join(errs...)
}

// Sink writes lines to an io.Writer. It implements sinks.Sink.
type Sink struct {
	*sinks.Lines
}

// New returns a sink writing to w. Writes to w come from one goroutine.
func New(w io.Writer, opts Options) (*Sink, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("stdout sink: %w", err)
	}
	l, err := sinks.NewLines(sinks.LinesConfig{
		Output:        "stdout",
		Encoder:       opts.Encoder,
		BufferBytes:   opts.BufferBytes,
		FlushInterval: opts.FlushInterval,
		Logger:        opts.Logger,
		Registerer:    opts.Registerer,
	}, sinks.WriterBlocks(w))
	if err != nil {
		return nil, err
	}
	return &Sink{Lines: l}, nil
}

var _ sinks.Sink = (*Sink)(nil)
