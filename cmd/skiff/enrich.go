package main

import (
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/enrich"
	"github.com/skiff-agent/skiff/tailer"
)

// enricher is enrichment as the pipeline sees it: a consumer in front of
// the sink, with its own Run (the informers).
type enricher interface {
	tailer.Consumer
	runner
}

// newEnricher connects to the API server (in-cluster, or the kubeconfig)
// with newClient (nil: enrich.NewClient) and returns the enricher in front
// of next.
func newEnricher(cfg config.Config, newClient func(string) (kubernetes.Interface, error), log *slog.Logger,
	reg prometheus.Registerer, next tailer.Consumer) (enricher, error) {
	k := cfg.Kubernetes
	if newClient == nil {
		newClient = enrich.NewClient
	}
	client, err := newClient(k.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	en, err := enrich.New(enrich.Config{
		NodeName:           cfg.NodeName,
		Kubeconfig:         k.Kubeconfig,
		MetadataWait:       k.MetadataWait.Std(),
		DeletedPodGrace:    k.DeletedPodGrace.Std(),
		NamespaceMetadata:  k.NamespaceMetadata,
		Labels:             k.Labels,
		Annotations:        k.Annotations,
		IncludeLabels:      k.IncludeLabels,
		ExcludeLabels:      k.ExcludeLabels,
		IncludeAnnotations: k.IncludeAnnotations,
		ExcludeAnnotations: k.ExcludeAnnotations,
		ExcludeSelf:        k.ExcludeSelf,
		Logger:             log,
		Registerer:         reg,
	}, client, next)
	if err != nil {
		return nil, fmt.Errorf("enrich: %w", err)
	}
	return en, nil
}
