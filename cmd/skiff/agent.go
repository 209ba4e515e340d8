package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/sinks/cloudwatch"
	"github.com/skiff-agent/skiff/sinks/file"
	"github.com/skiff-agent/skiff/sinks/stdout"
	"github.com/skiff-agent/skiff/tailer"
)

// agent is a configured pipeline, ready to run: the same wiring serves
// `skiff run`, `skiff tail` and `skiff demo`.
type agent struct {
	pipe   *pipeline
	tailer *tailer.Tailer
	sink   sinks.Sink
	reg    *prometheus.Registry
	srv    *server // nil when http.listen is off
	health *health
}

// deps are what the caller gives the agent besides its configuration.
type deps struct {
	log    *slog.Logger
	reg    *prometheus.Registry
	stdout io.Writer     // output: stdout writes here
	force  chan struct{} // closed on the second signal
	// kubeClient connects to the API server; nil is enrich.NewClient.
	kubeClient func(kubeconfig string) (kubernetes.Interface, error)
}

// newAgent builds the components of cfg: sink, then enrichment (when
// kubernetes.enabled) in front of it, then the tailer in front of that.
// Every component registers its metrics on d.reg and logs to d.log.
// The sink is closed by the pipeline's run, or here when a later step fails.
func newAgent(ctx context.Context, cfg config.Config, d deps) (_ *agent, err error) {
	a := &agent{reg: d.reg, health: &health{}}
	sink, err := newSink(ctx, cfg, d)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = closeSink(sink)
		}
	}()
	a.sink = sink
	var aux []runner
	var next tailer.Consumer = sink
	if cfg.Kubernetes.Enabled {
		en, err := newEnricher(cfg, d.kubeClient, d.log.With("component", "enrich"), d.reg, sink)
		if err != nil {
			return nil, err
		}
		aux = append(aux, en)
		next = en
	}
	t := cfg.Tail
	tl, err := tailer.New(tailer.Config{
		Include:            t.Include,
		Exclude:            t.Exclude,
		ReadFrom:           t.ReadFrom,
		StateDir:           t.StateDir,
		CheckpointInterval: t.CheckpointInterval.Std(),
		MaxLineBytes:       int(t.MaxLineBytes),
		LongLines:          t.LongLines,
		MaxOpenFiles:       t.MaxOpenFiles,
		MaxDeletedBytes:    int64(t.MaxDeletedBytes),
		MaxSpoolBytes:      int64(t.MaxSpoolBytes),
		RescanInterval:     t.RescanInterval.Std(),
		ReadBudget:         int(t.ReadBudget),
		Logger:             d.log.With("component", "tailer"),
		Registerer:         d.reg,
	}, next)
	if err != nil {
		return nil, fmt.Errorf("tailer: %w", err)
	}
	a.tailer = tl
	if l := cfg.HTTP.Listen; l != "" && l != "off" {
		if a.srv, err = listen(l, d.reg, a.health, cfg.HTTP.Pprof); err != nil {
			return nil, err
		}
		aux = append(aux, a.srv)
	}
	a.pipe = &pipeline{
		in: tl, sink: sink, aux: aux, health: a.health,
		shutdownTimeout: cfg.ShutdownTimeout.Std(), force: d.force, log: d.log,
	}
	return a, nil
}

func encoderConfig(cfg config.Config, format, parse string) sinks.EncoderConfig {
	return sinks.EncoderConfig{
		Format: format, Parse: parse, Host: cfg.NodeName,
		Labels: cfg.Kubernetes.Labels, Annotations: cfg.Kubernetes.Annotations,
	}
}

func newSink(ctx context.Context, cfg config.Config, d deps) (sinks.Sink, error) {
	log := d.log.With(attrOutput, cfg.Output)
	switch cfg.Output {
	case config.OutputStdout:
		s, err := stdout.New(d.stdout, stdout.Options{
			Encoder:    encoderConfig(cfg, cfg.Stdout.Format, cfg.Stdout.Parse),
			Logger:     log,
			Registerer: d.reg,
		})
		if err != nil {
			return nil, fmt.Errorf("stdout: %w", err)
		}
		return s, nil
	case config.OutputFile:
		s, err := file.New(file.Config{
			Path:       cfg.File.Path,
			MaxBytes:   int64(cfg.File.MaxBytes),
			MaxFiles:   cfg.File.MaxFiles,
			Sync:       cfg.File.Sync,
			Encoder:    encoderConfig(cfg, cfg.File.Format, cfg.File.Parse),
			Logger:     log,
			Registerer: d.reg,
		})
		if err != nil {
			return nil, fmt.Errorf("file: %w", err)
		}
		return s, nil
	}
	cw := cfg.CloudWatch
	s, err := cloudwatch.New(ctx, cloudwatch.Config{
		Region:           cw.Region,
		Endpoint:         cw.Endpoint,
		LogGroup:         cw.LogGroup,
		LogStream:        cw.LogStream,
		Cluster:          cfg.Cluster,
		Host:             cfg.NodeName,
		Format:           cw.Format,
		Parse:            cw.Parse,
		Labels:           cfg.Kubernetes.Labels,
		Annotations:      cfg.Kubernetes.Annotations,
		BufferBytes:      int64(cw.BufferBytes),
		FlushInterval:    cw.FlushInterval.Std(),
		MaxConcurrency:   cw.MaxConcurrency,
		MaxRetryDuration: cw.MaxRetryDuration.Std(),
		AutoCreateGroup:  cw.AutoCreateGroup,
		RetentionDays:    cw.RetentionDays,
		LogGroupClass:    cw.LogGroupClass,
		KMSKeyID:         cw.KMSKeyID,
		Tags:             cw.Tags,
		RoleARN:          cw.RoleARN,
		ExternalID:       cw.ExternalID,
		Logger:           log,
		Registerer:       d.reg,
	})
	if err != nil {
		return nil, fmt.Errorf("cloudwatch: %w", err)
	}
	return s, nil
}

// checkComponents asks the components to check what only they know: the
// sink's name templates.
func checkComponents(cfg *config.Config) []*config.FieldError {
	var errs []*config.FieldError
	if cfg.Output == config.OutputCloudWatch {
		for _, t := range []struct{ key, src string }{
			{"cloudwatch.log_group", cfg.CloudWatch.LogGroup},
			{"cloudwatch.log_stream", cfg.CloudWatch.LogStream},
		} {
			if _, err := cloudwatch.ParseTemplate(t.src); err != nil {
				errs = append(errs, &config.FieldError{Key: t.key, Msg: err.Error()})
			}
		}
	}
	return errs
}
