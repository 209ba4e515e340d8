package sinks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/tailer"
)

// Defaults of LinesConfig.
const (
	DefaultFlushInterval = time.Second
	DefaultBlockBytes    = 256 << 10
)

// LinesConfig configures a Lines sink. The zero value, plus a writer, works.
type LinesConfig struct {
	// Output names the sink in metrics (the output label) and logs.
	Output string
	// Encoder says how records become lines; JSON by default.
	Encoder EncoderConfig
	// BufferBytes is the byte budget; default DefaultBufferBytes.
	BufferBytes int64
	// FlushInterval is the longest a line waits before it is written;
	// default 1s.
	FlushInterval time.Duration
	// BlockBytes is the size at which a block of lines is written at once;
	// default 256 KiB.
	BlockBytes int
	// Logger receives errors; nil discards them.
	Logger *slog.Logger
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// WriteBlockFunc writes a block of complete lines. It returns nil only when
// the block is written in full; a failed block is offered again, whole.
type WriteBlockFunc func(block []byte) error

// Lines is a Sink that writes records as lines (JSON lines by default) in
// blocks: Write encodes and buffers under the byte budget, Run writes the
// blocks in order through a WriteBlockFunc and acknowledges them once it
// returned nil. A failed write is retried with backoff until Run's context
// ends; nothing is dropped. The stdout and file sinks are built on it.
type Lines struct {
	cfg   LinesConfig
	write WriteBlockFunc
	enc   *Encoder
	b     *Budget
	m     *Metrics
	log   *slog.Logger

	mu     sync.Mutex
	cur    *block
	sealed []*block
	wake   chan struct{}
}

type block struct {
	buf    []byte
	acks   Acks
	n      int   // records
	charge int64 // bytes taken from the budget
	born   time.Time
}

// NewLines returns a Lines sink writing through write.
func NewLines(cfg LinesConfig, write WriteBlockFunc) (*Lines, error) {
	if cfg.FlushInterval <= 0 {
		cfg.FlushInterval = DefaultFlushInterval
	}
	if cfg.BlockBytes <= 0 {
		cfg.BlockBytes = DefaultBlockBytes
	}
	if cfg.Output == "" {
		cfg.Output = "lines"
	}
	enc, err := NewEncoder(cfg.Encoder)
	if err != nil {
		return nil, fmt.Errorf("%s sink: %w", cfg.Output, err)
	}
	l := &Lines{
		cfg:   cfg,
		write: write,
		enc:   enc,
		b:     NewBudget(cfg.BufferBytes),
		log:   cfg.Logger,
		wake:  make(chan struct{}, 1),
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.m, err = NewMetrics(cfg.Registerer, cfg.Output, l.b, enc)
	if err != nil {
		return nil, fmt.Errorf("%s sink metrics: %w", cfg.Output, err)
	}
	return l, nil
}

// Budget returns the sink's byte budget.
func (l *Lines) Budget() *Budget { return l.b }

// Write encodes recs into lines and buffers them, blocking while the
// budget is full. It is safe for concurrent use.
func (l *Lines) Write(ctx context.Context, recs []tailer.Record) error {
	var pend block
	flush := func() error {
		if pend.n == 0 && len(pend.buf) == 0 {
			pend.acks.Done()
			return nil
		}
		if err := l.b.Acquire(ctx, pend.charge); err != nil {
			return err
		}
		l.add(&pend)
		pend.buf, pend.n, pend.charge = pend.buf[:0], 0, 0
		pend.acks.Reset()
		return nil
	}
	for i := range recs {
		rec := &recs[i]
		start := len(pend.buf)
		pend.buf = l.enc.Append(pend.buf, rec)
		if len(pend.buf) == start {
			// Nothing to write: an empty raw line.
			l.m.Dropped.WithLabelValues(DropEmpty).Inc()
			rec.Pos.Ack()
			continue
		}
		pend.buf = append(pend.buf, '\n')
		pend.acks.Add(rec.Pos)
		pend.n++
		pend.charge = l.b.Clamp(int64(len(pend.buf)))
		if pend.charge >= l.b.Limit()/4 || len(pend.buf) >= l.cfg.BlockBytes {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// add appends a pending block to the current one, sealing it when full.
func (l *Lines) add(p *block) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		l.cur = &block{born: time.Now()}
	}
	c := l.cur
	c.buf = append(c.buf, p.buf...)
	c.acks.Append(&p.acks)
	c.n += p.n
	c.charge += p.charge
	if len(c.buf) >= l.cfg.BlockBytes || c.charge >= l.b.Limit()/4 {
		l.sealLocked()
	}
}

func (l *Lines) sealLocked() {
	if l.cur == nil {
		return
	}
	l.sealed = append(l.sealed, l.cur)
	l.cur = nil
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// Run writes blocks until ctx is done.
func (l *Lines) Run(ctx context.Context) error {
	t := time.NewTicker(l.cfg.FlushInterval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-l.wake:
		case <-l.b.Full():
			l.mu.Lock()
			l.sealLocked()
			l.mu.Unlock()
		case <-t.C:
			l.mu.Lock()
			if l.cur != nil && time.Since(l.cur.born) >= l.cfg.FlushInterval {
				l.sealLocked()
			}
			l.mu.Unlock()
		}
		for {
			l.mu.Lock()
			if len(l.sealed) == 0 {
				l.mu.Unlock()
				break
			}
			bl := l.sealed[0]
			l.mu.Unlock()
			if err := l.writeBlock(ctx, bl); err != nil {
				return nil // ctx done; the block stays queued for Flush
			}
			l.mu.Lock()
			l.sealed[0] = nil
			l.sealed = l.sealed[1:]
			l.mu.Unlock()
		}
	}
}

// writeBlock writes bl, retrying until it succeeds or ctx is done.
func (l *Lines) writeBlock(ctx context.Context, bl *block) error {
	delay := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		err := l.write(bl.buf)
		if err == nil {
			if attempt > 0 {
				l.log.Info("output recovered", "output", l.cfg.Output, "attempts", attempt+1)
			}
			break
		}
		if attempt == 0 {
			l.log.Error("output write failed; retrying", "output", l.cfg.Output, "err", err)
		}
		l.m.Errors.WithLabelValues(RetryWrite).Inc()
		l.m.Retries.WithLabelValues(RetryWrite).Inc()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(rand.N(delay) + time.Millisecond):
		}
		delay = min(2*delay, 5*time.Second)
	}
	l.m.ProcRecords.Add(float64(bl.n))
	l.m.ProcBytes.Add(float64(len(bl.buf)))
	bl.acks.Done()
	l.b.Release(bl.charge)
	return nil
}

// Flush writes everything buffered and returns once it is acknowledged,
// or with ctx's error. Run must be running.
func (l *Lines) Flush(ctx context.Context) error {
	l.mu.Lock()
	l.sealLocked()
	l.mu.Unlock()
	select {
	case <-l.b.Idle():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s sink flush: %w", l.cfg.Output, ctx.Err())
	}
}

// WriterBlocks returns a WriteBlockFunc for w. A short write is an error;
// the whole block is written again, which can repeat the lines of a block
// that was written in part.
func WriterBlocks(w io.Writer) WriteBlockFunc {
	return func(b []byte) error {
		n, err := w.Write(b)
		if err == nil && n < len(b) {
			err = io.ErrShortWrite
		}
		if err != nil {
			return errors.Join(fmt.Errorf("write %d bytes", len(b)), err)
		}
		return nil
	}
}
