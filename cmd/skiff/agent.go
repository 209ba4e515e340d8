package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/enrich"
	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/sinks/cloudwatch"
	"github.com/skiff-agent/skiff/sinks/file"
	"github.com/skiff-agent/skiff/sinks/stdout"
	"github.com/skiff-agent/skiff/tailer"
	"github.com/skiff-agent/skiff/tailer/journal"
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
	// journalFiles are journal files the journal inputs read besides
	// journal.dirs' (skiff tail FILE).
	journalFiles []string
	// kubeClient connects to the API server; nil is enrich.NewClient.
	kubeClient func(kubeconfig string) (*enrich.Client, error)
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
	tc := cfg.TailerConfig()
	tc.Logger, tc.Registerer = d.log.With("component", "tailer"), d.reg
	tl, err := tailer.New(tc, next)
	if err != nil {
		return nil, fmt.Errorf("tailer: %w", err)
	}
	a.tailer = tl
	in := &nodeInputs{files: tl}
	if jc, ok := cfg.JournalConfig(); ok {
		// Journal records carry no pod: they go to the sink directly.
		jc.Logger, jc.Registerer = d.log.With("component", "journal"), d.reg
		jc.Reader.Files = d.journalFiles
		if in.journal, err = journal.NewInput(jc, sink); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	if l := cfg.HTTP.Listen; l != "" && l != "off" {
		if a.srv, err = listen(l, d.reg, a.health, cfg.HTTP.Pprof); err != nil {
			return nil, err
		}
		aux = append(aux, a.srv)
	}
	a.pipe = &pipeline{
		in: in, sink: sink, aux: aux, health: a.health,
		shutdownTimeout: cfg.ShutdownTimeout.Std(), force: d.force, log: d.log,
	}
	return a, nil
}

// newSink returns the sink of cfg.Output. Its errors name the sink.
func newSink(ctx context.Context, cfg config.Config, d deps) (sinks.Sink, error) {
	log := d.log.With(attrOutput, cfg.Output)
	var s sinks.Sink
	var err error
	switch cfg.Output {
	case config.OutputStdout:
		o := cfg.StdoutOptions()
		o.Logger, o.Registerer = log, d.reg
		s, err = stdout.New(d.stdout, o)
	case config.OutputFile:
		fc := cfg.FileConfig()
		fc.Logger, fc.Registerer = log, d.reg
		s, err = file.New(fc)
	default:
		cc := cfg.CloudWatchConfig()
		cc.Logger, cc.Registerer = log, d.reg
		s, err = cloudwatch.New(ctx, cc)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}
