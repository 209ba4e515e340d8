package main

import (
	"context"
	"errors"

	"golang.org/x/sync/errgroup"

	"github.com/skiff-agent/skiff/tailer"
	"github.com/skiff-agent/skiff/tailer/journal"
)

// nodeInputs are the tailer and, when a journal input is enabled, the
// journal reader, seen by the pipeline as one input.
type nodeInputs struct {
	files   *tailer.Tailer
	journal *journal.Input // nil without journal inputs
}

// Run runs both until ctx is done or one fails.
func (n *nodeInputs) Run(ctx context.Context) error {
	if n.journal == nil {
		return n.files.Run(ctx)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return n.files.Run(gctx) })
	g.Go(func() error { return named("journal", n.journal.Run(gctx)) })
	return g.Wait()
}

// Drain reads the open files, then the journal, to their current end.
func (n *nodeInputs) Drain(ctx context.Context) error {
	err := n.files.Drain(ctx)
	if n.journal != nil && ctx.Err() == nil {
		err = errors.Join(err, n.journal.Drain(ctx))
	}
	return err
}

func (n *nodeInputs) Watch(ctx context.Context) error { return n.files.Watch(ctx) }
func (n *nodeInputs) Pending() tailer.Pending         { return n.files.Pending() }

// Close closes the files and the journal.
func (n *nodeInputs) Close() error {
	err := n.files.Close()
	if n.journal != nil {
		err = errors.Join(err, n.journal.Close())
	}
	return err
}

// Checkpoint saves the files' positions and the journal's cursor.
func (n *nodeInputs) Checkpoint() error {
	err := n.files.Checkpoint()
	if n.journal != nil {
		err = errors.Join(err, n.journal.Checkpoint())
	}
	return err
}
