package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/enrich"
	"github.com/skiff-agent/skiff/enrich/process"
	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/sinks/cloudwatch"
	"github.com/skiff-agent/skiff/sinks/file"
	"github.com/skiff-agent/skiff/sinks/stdout"
	"github.com/skiff-agent/skiff/tailer"
	"github.com/skiff-agent/skiff/tailer/journal"
	"github.com/skiff-agent/skiff/tailer/multiline"
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
	extra := ec2Fields(ctx, cfg, d)
	sink, err := newSink(ctx, cfg, d, extra)
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
	pc, errs := cfg.ProcessConfig()
	rules, merrs := cfg.MultilineRules()
	if err := configErrors(append(errs, merrs...)); err != nil {
		return nil, err
	}
	if !pc.Empty() || (cfg.Kubernetes.Enabled && len(pc.Named) > 0) {
		pc.Logger, pc.Registerer = d.log.With("component", "process"), d.reg
		st, err := process.New(pc, sink)
		if err != nil {
			return nil, fmt.Errorf("process: %w", err)
		}
		next = st
	}
	// Journal records carry no pod: they skip enrichment.
	journalNext := next
	var pods func(uid string) *tailer.PodMeta
	if cfg.Kubernetes.Enabled {
		en, err := newEnricher(cfg, d.kubeClient, d.log.With("component", "enrich"), d.reg, next, slices.Sorted(maps.Keys(pc.Named)), rules.Names())
		if err != nil {
			return nil, err
		}
		aux = append(aux, en)
		next = en
		pods = en.Pod
	}
	tc := cfg.TailerConfig()
	tc.Logger, tc.Registerer = d.log.With("component", "tailer"), d.reg
	if !rules.Empty() {
		// A pod's annotation may name a rule: until its metadata arrives,
		// the rule is not decided, and a new file waits for it, at most
		// metadata_wait, or multilineWait at a start, where the first list
		// of pods may take longer; nothing is lost by waiting.
		tc.Multiline = func(file *tailer.FileMeta) (*multiline.Rule, bool) {
			if pods == nil || file.PodUID == "" {
				return rules.Rule(file, nil), true
			}
			pod := pods(file.PodUID)
			return rules.Rule(file, pod), pod != nil
		}
		tc.MultilineWait = max(cfg.Kubernetes.MetadataWait.Std(), multilineWait)
	}
	tl, err := tailer.New(tc, next)
	if err != nil {
		return nil, fmt.Errorf("tailer: %w", err)
	}
	a.tailer = tl
	in := &nodeInputs{files: tl}
	if jc, ok := cfg.JournalConfig(); ok {
		jc.Logger, jc.Registerer = d.log.With("component", "journal"), d.reg
		jc.Reader.Files = d.journalFiles
		for i := range jc.Routes {
			jc.Routes[i].Extra = extra[jc.Routes[i].Name]
		}
		if in.journal, err = journal.NewInput(jc, journalNext); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
	}
	if l := cfg.HTTP.Listen; l != "" && l != "off" {
		if a.srv, err = listen(l, d.reg, a.health, cfg.HTTP.Pprof); err != nil {
			return nil, err
		}
		a.srv.status.setFiles(tl.Files)
		aux = append(aux, a.srv)
	}
	a.pipe = &pipeline{
		in: in, sink: sink, aux: aux, health: a.health,
		shutdownTimeout: cfg.ShutdownTimeout.Std(), force: d.force, log: d.log,
	}
	return a, nil
}

// ec2Fields returns, by input, the fields of the node's EC2 metadata for
// the inputs that ask for them; none when no input does or the instance
// metadata service does not answer (logged: the records go without them).
func ec2Fields(ctx context.Context, cfg config.Config, d deps) map[string][][2]string {
	inputs := cfg.EC2MetadataInputs()
	if len(inputs) == 0 {
		return nil
	}
	ec2, err := cloudwatch.LookupEC2(ctx, cloudwatch.DefaultEC2Timeout)
	if err != nil {
		d.log.Warn("no EC2 instance metadata: records of these inputs go without az and ec2_instance_id",
			slog.Any("inputs", inputs), slog.Any(attrErr, err))
		return nil
	}
	out := make(map[string][][2]string, len(inputs))
	for _, in := range inputs {
		out[in] = ec2.Fields()
	}
	return out
}

// newSink returns the sink of cfg.Output, adding extra to the records of
// each input. Its errors name the sink.
func newSink(ctx context.Context, cfg config.Config, d deps, extra map[string][][2]string) (sinks.Sink, error) {
	log := d.log.With(attrOutput, cfg.Output)
	var s sinks.Sink
	var err error
	switch cfg.Output {
	case config.OutputStdout:
		o := cfg.StdoutOptions()
		o.Logger, o.Registerer = log, d.reg
		o.Encoder.InputFields = extra
		s, err = stdout.New(d.stdout, o)
	case config.OutputFile:
		fc := cfg.FileConfig()
		fc.Logger, fc.Registerer = log, d.reg
		fc.Encoder.InputFields = extra
		s, err = file.New(fc)
	default:
		cc := cfg.CloudWatchConfig()
		cc.Logger, cc.Registerer = log, d.reg
		cc.InputFields = extra
		s, err = cloudwatch.New(ctx, cc)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// configErrors joins what building a component's configuration found wrong,
// which Validate has reported already; nil when nothing is.
func configErrors(errs []*config.FieldError) error {
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// multilineWait is the least a newly opened file waits for its pod's
// metadata, which may name its multi-line rule.
const multilineWait = 5 * time.Second
