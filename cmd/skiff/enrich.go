package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/enrich"
	"github.com/skiff-agent/skiff/tailer"
)

// enricher is enrichment as the pipeline sees it: a consumer in front of
// the sink, with its own Run (the informers).
type enricher interface {
	tailer.Consumer
	runner
	// Pod returns the cached metadata of a pod, or nil.
	Pod(uid string) *tailer.PodMeta
}

// newEnricher connects to the API server (in-cluster, or the kubeconfig)
// with newClient (nil: enrich.NewClient) and returns the enricher in front
// of next.
func newEnricher(cfg config.Config, newClient func(string) (*enrich.Client, error), log *slog.Logger,
	reg prometheus.Registerer, next tailer.Consumer, parsers, multiline []string) (enricher, error) {
	if newClient == nil {
		newClient = enrich.NewClient
	}
	client, err := newClient(cfg.Kubernetes.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("enrich: %w", err)
	}
	ec := cfg.EnrichConfig()
	ec.Logger, ec.Registerer = log, reg
	ec.Parsers, ec.MultilineRules = parsers, multiline
	return enrich.New(ec, client, next)
}
