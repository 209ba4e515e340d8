package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/tailer"
)

// input is what the supervisor needs of the tailer.
type input interface {
	// Run discovers and follows files until ctx is done.
	Run(ctx context.Context) error
	// Drain reads every open file to its current end, after Run returned.
	Drain(ctx context.Context) error
	// Watch, after Run returned and until ctx is done, finds the files
	// that appear without reading them, so that Close keeps them too.
	Watch(ctx context.Context) error
	// Close, after the flush, keeps what is still not acknowledged where
	// the next start finds it and closes the files.
	Close() error
	// Checkpoint saves the acknowledged positions now.
	Checkpoint() error
	// Pending says where the bytes not acknowledged yet are.
	Pending() tailer.Pending
}

// runner is a long-lived component: it runs until ctx is done.
type runner interface {
	Run(ctx context.Context) error
}

// pipeline is one running agent: input → (enrich) → sink, plus the
// components that live as long as the sink (enrichment, the HTTP port).
type pipeline struct {
	in   input
	sink sinks.Sink
	// aux run until the sink has flushed: enrichment, the HTTP server.
	aux             []runner
	health          *health
	shutdownTimeout time.Duration
	// force ends the flush at once: the second signal.
	force <-chan struct{}
	log   *slog.Logger
}

// auxStopGrace is how long the shutdown waits for an aux component to
// return once told to stop, after the flush.
const auxStopGrace = 2 * time.Second

// stopWithin runs r until ctx is done and returns its error; once ctx is
// done it waits at most grace for r to return, then gives up on it, since
// the process is exiting. client-go's informers can sleep through a retry
// backoff without looking at their context (up to a minute with the API
// server unreachable), which would hold the exit past shutdown_timeout.
func stopWithin(ctx context.Context, r runner, grace time.Duration, log *slog.Logger) error {
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		log.Warn("a component did not stop in time; exiting without it",
			slog.String("component", fmt.Sprintf("%T", r)), slog.Duration("waited", grace))
		return nil
	}
}

// errIncomplete means the flush was cut short; what was not acknowledged is
// read again at the next start.
var errIncomplete = errors.New("shutdown incomplete")

// run runs the pipeline until ctx is done (the first signal) or a component
// fails, then shuts down in two phases: the input stops discovering, drains
// its open files to their current end, the sink flushes until every record
// is acknowledged, and the checkpoint is written last. The drain and flush
// have shutdownTimeout, and end early when force is closed. run returns nil
// after a complete shutdown, errIncomplete (wrapped) after a cut-short one,
// or the error of a component that failed. A sink that holds resources
// (an io.Closer, such as the file sink) is closed last, after the
// checkpoint.
func (p *pipeline) run(ctx context.Context) error {
	// The sink and the aux components outlive ctx: they stop only after
	// the flush, so that they can deliver what was read.
	compCtx, stopComps := context.WithCancel(context.WithoutCancel(ctx))
	defer stopComps()
	g, gctx := errgroup.WithContext(compCtx)
	g.Go(func() error { return named("sink", p.sink.Run(gctx)) })
	for _, r := range p.aux {
		g.Go(func() error { return stopWithin(gctx, r, auxStopGrace, p.log) })
	}
	g.Go(func() error { return p.health.heartbeat(gctx) })

	// The input stops at the signal, or when a component failed.
	inCtx, stopIn := context.WithCancel(gctx)
	defer context.AfterFunc(ctx, stopIn)()
	p.health.ready.Store(true)
	inErr := p.in.Run(inCtx)
	stopIn()
	p.health.ready.Store(false)
	if inErr != nil && errors.Is(inErr, context.Canceled) && inCtx.Err() != nil {
		inErr = nil
	}
	if inErr != nil {
		inErr = named("tailer", inErr)
	}

	// Files keep appearing and rotating away while the open ones drain
	// and flush: they are found, for Close to keep.
	watchCtx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		_ = p.in.Watch(watchCtx)
	}()

	failed := gctx.Err() != nil // a component returned an error
	var flushErr error
	if !failed {
		p.log.Info("shutting down: reading open files to their end, then flushing",
			slog.Duration("timeout", p.shutdownTimeout))
		drainCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.shutdownTimeout)
		stopForce := p.onForce(cancel)
		start := time.Now()
		// The sink retries on its shutdown curve before the input's
		// last reads wait on it for budget.
		if d, ok := p.sink.(sinks.Drainer); ok {
			d.Drain()
		}
		// A file the input could not drain (its destination is paused)
		// does not keep the others' records from being flushed.
		flushErr = p.in.Drain(drainCtx)
		if drainCtx.Err() == nil {
			flushErr = errors.Join(flushErr, p.sink.Flush(drainCtx))
		}
		if flushErr != nil && drainCtx.Err() != nil {
			why := "the shutdown timeout passed"
			if !errors.Is(drainCtx.Err(), context.DeadlineExceeded) {
				why = "a second signal arrived"
			}
			flushErr = fmt.Errorf("%w: %s after %s", errIncomplete, why, time.Since(start).Round(time.Millisecond))
		} else if flushErr != nil {
			flushErr = fmt.Errorf("%w: %w", errIncomplete, flushErr)
		}
		stopForce()
		cancel()
	}
	stopComps()
	compErr := g.Wait()
	stopWatch()
	<-watched
	inCloseErr := named("close input", p.in.Close())
	ckErr := p.in.Checkpoint()
	if ckErr != nil {
		ckErr = named("checkpoint", ckErr)
	}
	closeErr := closeSink(p.sink)
	err := errors.Join(compErr, inErr, flushErr, inCloseErr, ckErr, closeErr)
	pend := p.in.Pending()
	where := []any{
		slog.Int64(attrUnacked, pend.Live+pend.Rotated+pend.Spooled),
		slog.Int64(attrLiveBytes, pend.Live), slog.Int64(attrRotatedBytes, pend.Rotated),
		slog.Int64(attrSpooledBytes, pend.Spooled), slog.Int64(attrLostBytes, pend.Lost),
	}
	if err != nil {
		msg := "stopped; unacknowledged bytes in live files, rotated files and the spool will be read again at the next start"
		if pend.Lost > 0 {
			msg += "; lost_bytes could be kept nowhere and are lost (counted in skiff_input_skipped_bytes_total)"
		}
		p.log.Error(msg, append(where, slog.Any(attrErr, err))...)
		return err
	}
	p.log.Info("stopped: everything read was delivered and checkpointed", where...)
	return nil
}

// closeSink closes s when it holds resources (it is an io.Closer). Call it
// once, after s.Run returned.
func closeSink(s sinks.Sink) error {
	c, ok := s.(io.Closer)
	if !ok {
		return nil
	}
	if err := c.Close(); err != nil {
		return fmt.Errorf("close sink: %w", err)
	}
	return nil
}

// onForce calls cancel when force is closed; the returned func stops that.
func (p *pipeline) onForce(cancel context.CancelFunc) (stop func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-p.force:
			cancel()
		case <-done:
		}
	}()
	return func() { close(done) }
}

func named(what string, err error) error {
	if err == nil || errors.Is(err, context.Canceled) {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
