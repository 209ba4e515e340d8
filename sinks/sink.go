// Package sinks defines what every destination of records guarantees, and
// holds what sinks share: the byte Budget, the Encoder of the Fluent Bit
// kubernetes-filter JSON shape, acknowledgement bookkeeping (Acks), the
// Lines sink that the stdout and file sinks are built on, and the shared
// metrics. The suite every sink passes is package sinktest.
//
// # Guarantees
//
// Every record a sink receives is acknowledged exactly once: after the
// destination accepted it, or after it was dropped for a reason counted in
// skiff_output_dropped_records_total. Records are held in memory only
// under the byte budget; when it is full, Write blocks, and that blocking
// is the backpressure that stops the readers. No sink drops data to make
// room.
//
// # Limits
//
// The budget counts message bytes (plus 26 per event for CloudWatch), not
// the Go memory around them: slice capacity and request bodies in flight
// come on top. Acknowledgements of different batches complete in any
// order.
package sinks

import (
	"context"
	"errors"

	"github.com/skiff-agent/skiff/tailer"
)

// ErrPaused is wrapped by the error Write returns, at once and having
// taken nothing, when records are routed to a destination that refuses
// them and holds its share of the budget: the caller keeps the records and
// writes them again later (the tailer does at its next poll). Flush wraps
// it when what is left is held for such destinations.
var ErrPaused = errors.New("destination paused")

// Sink ships records to a destination.
//
// A Sink copies what it needs from the records in Write, holds them under a
// byte budget (batched plus in flight), and acknowledges every record's
// Position exactly once: after the destination accepted it, or after it was
// dropped for a reason that a metric counts. Consecutive records that share
// an Acker are acknowledged with one Ack(n). When the budget is full, Write
// blocks; a sink never drops data to make room.
//
// Write is safe for concurrent use. If Write returns ctx's error, the
// records it had not yet taken are not acknowledged (the tailer reads them
// again after a restart); those it took are. A sink that pauses one
// destination (see ErrPaused) refuses its records instead of blocking, so
// that a blocked Write never stalls the records of other destinations.
type Sink interface {
	tailer.Consumer
	// Run sends batches until ctx is done, then returns once its requests
	// have stopped. What was written and not yet acknowledged stays held.
	Run(ctx context.Context) error
	// Flush sends everything written so far and returns once all of it is
	// acknowledged, or with ctx's error when ctx is done first. It is called
	// during shutdown, after the last Write, while Run still runs; without
	// Run nothing is sent and Flush waits for ctx.
	Flush(ctx context.Context) error
}

// Drainer is implemented by a sink whose retries wait on long curves. The
// shutdown calls Drain once, when it begins, before the input reads its
// open files to their end: from then on the sink retries on its short
// shutdown curve, so that the input's last reads, which wait for budget
// that only delivery frees, do not wait for a probe scheduled as if the
// agent were staying up.
type Drainer interface {
	Drain()
}
