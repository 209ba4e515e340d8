package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/tailer/journal"
)

// tailCommand is `skiff tail PATH...`: the agent's pipeline with the
// stdout sink, no checkpoints and no HTTP port. It reads the files to their
// end and exits, or with -f follows them (and new files matching the globs)
// until Ctrl-C.
func tailCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("skiff tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	follow := fs.Bool("f", false, "follow: keep reading as the files grow, rotate and appear, until Ctrl-C")
	format := fs.String("format", "json", "json (the shape shipped to CloudWatch) or raw (the message alone)")
	level := fs.String("log-level", "warn", "skiff's own log level, on stderr")
	configPath := fs.String("config", "", "take the multiline, parsers, redact, filters and limits sections of this configuration `file`")
	rule := fs.String("multiline", "", "join lines with this multi-line `rule`: java, python, go, nodejs, ruby, dotnet, or a custom rule of --config")
	parser := fs.String("parser", "", "parse lines with this `parser`: json, logfmt, nginx, apache2, klog, syslog-rfc5424, ..., or a custom parser of --config")
	setHelp(fs, helpText{
		usage: "skiff tail [-f] [--format json|raw] [--multiline RULE] [--parser NAME] [--config FILE] PATH|GLOB...",
		about: `Prints the records skiff would ship from log files (CRI, docker json-file,
plain text, or journal files), as JSON lines; with -f follows them through
rotations until Ctrl-C. Use it to try a multi-line rule, a parser, redaction
or filters on real logs before rolling them out.`,
		examples: []string{
			"skiff tail /var/log/containers/web-*.log",
			"skiff tail --multiline java --parser logfmt /var/log/containers/api-*.log",
			"skiff tail --config skiff.yaml --parser payments /tmp/sample.log   # a custom parser",
			"skiff tail /var/log/journal/*/system.journal                       # journal records",
		},
	})
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	cfg := config.Default(getenv)
	if *configPath != "" {
		c, err := (&configFlags{path: *configPath}).loadUnchecked(getenv)
		if err != nil {
			fmt.Fprintf(stderr, "skiff tail: %v\n", err)
			return exitConfig
		}
		cfg.Multiline, cfg.Parsers, cfg.Redact, cfg.Filters, cfg.Limits = c.Multiline, c.Parsers, c.Redact, c.Filters, c.Limits
		cfg.CloudWatch.MergeKey = c.CloudWatch.MergeKey
	}
	cfg.Tail.Multiline, cfg.Tail.Parser = *rule, *parser
	cfg.Output = config.OutputStdout
	cfg.Stdout.Format = *format
	// Records in the shape the default configuration ships.
	cfg.Stdout.Parse, cfg.Stdout.MergeKey = cfg.CloudWatch.Parse, cfg.CloudWatch.MergeKey
	cfg.HTTP.Listen = "off"
	cfg.Kubernetes.Enabled = false
	cfg.Log.Level = *level
	cfg.Tail.StateDir = ""
	cfg.Tail.Include, cfg.Tail.Exclude = nil, nil
	// Only the paths given are read: files by the application input,
	// journal files (told by their first bytes) by the default journal
	// inputs, which shape their entries as they ship them.
	var journals []string
	for name, in := range cfg.Inputs {
		if in.Type == config.InputFiles {
			in.Enabled = false
		}
		in.EC2Metadata = false // no instance metadata lookup for a look at a file
		cfg.Inputs[name] = in
	}
	for _, a := range fs.Args() {
		abs, err := filepath.Abs(a)
		if err != nil {
			fmt.Fprintf(stderr, "skiff tail: %v\n", err)
			return exitUsage
		}
		if journal.IsJournalFile(abs) {
			journals = append(journals, abs)
			continue
		}
		cfg.Tail.Include = append(cfg.Tail.Include, abs)
	}
	if len(cfg.Tail.Include) == 0 {
		// The application input needs a glob; this one matches nothing.
		cfg.Tail.Include = []string{"/nonexistent/skiff-tail/*"}
	}
	cfg.Journal.Dirs, cfg.Journal.ReadFrom = nil, "beginning"
	if len(journals) == 0 {
		for name, in := range cfg.Inputs {
			in.Enabled = false
			cfg.Inputs[name] = in
		}
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintf(stderr, "skiff tail: %v\n", e)
		}
		return exitUsage
	}
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	force, stopForce := secondSignal()
	defer stopForce()
	a, err := newAgent(ctx, cfg, deps{log: log, reg: newRegistry(readBuildInfo()), stdout: stdout, force: force, journalFiles: journals})
	if err != nil {
		fmt.Fprintf(stderr, "skiff tail: %v\n", err)
		return exitFailed
	}
	runCtx := ctx
	if !*follow {
		// Stop discovery at once: the drain reads every file found to its
		// current end, and the pipeline exits when that is written.
		c, cancel := context.WithCancel(ctx)
		cancel()
		runCtx = c
	}
	if err := a.pipe.run(runCtx); err != nil {
		return exitFailed
	}
	return exitOK
}
