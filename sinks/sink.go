// Package sinks defines what every destination of records guarantees, and
// holds what sinks share.
package sinks

import (
	"context"

	"github.com/skiff-agent/skiff/tailer"
)

// Sink ships records to a destination.
//
// A Sink copies what it needs from the records in Write, holds them under a
// byte budget (batched plus in flight), and acknowledges every record's
// Position exactly once: after the destination accepted it, or after it was
// dropped for a reason that a metric counts. When the budget is full, Write
// blocks; a sink never drops data to make room.
type Sink interface {
	tailer.Consumer
	// Run sends batches until ctx is done, then returns. What was written
	// and not yet acknowledged stays held for Flush.
	Run(ctx context.Context) error
	// Flush sends everything written so far and returns once all of it is
	// acknowledged, or with ctx's error when ctx is done first. It is called
	// during shutdown, after the last Write, while Run still runs.
	Flush(ctx context.Context) error
}
