package main

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/tailer"
)

// enricher is enrichment as the pipeline sees it: a consumer in front of
// the sink, with its own Run (the informers).
type enricher interface {
	tailer.Consumer
	runner
}

func newEnricher(cfg config.Config, log *slog.Logger, reg prometheus.Registerer, next tailer.Consumer) (enricher, error) {
	return nil, errors.New("kubernetes.enabled: pod metadata enrichment is not in this build yet; set kubernetes.enabled: false")
}
