package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1  // a runtime failure, or a shutdown that left data unacknowledged
	exitUsage  = 2  // bad command line
	exitConfig = 78 // bad configuration (EX_CONFIG)
)

//go:embed skiff.example.yaml
var exampleConfig []byte

const usage = `skiff ships container logs to CloudWatch Logs, and never loses a line.

Usage:
  skiff run [--config FILE] [flags]   run the agent (skiff run --help for flags)
  skiff validate [--config FILE]      check a configuration: exit 0, or print every error
  skiff config [--config FILE]        print the effective configuration and a pod's log group and stream
  skiff tail [-f] PATH...             decode log files and print records as JSON lines
  skiff migrate [--out FILE] FILE     translate a Fluent Bit configuration into skiff's, with a report
  skiff demo [--duration 8s]          a simulated node shipping to a local CloudWatch
  skiff top [--addr 127.0.0.1:2021]   watch a running agent: rates, buffer, lag, per pod and file
  skiff example-config                print the commented example configuration
  skiff version                       print the version

Start with: go run ./cmd/skiff demo
`

// run is the whole program: it parses args, runs one subcommand and returns
// the exit code. ctx is cancelled by the first SIGTERM or SIGINT.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "run":
		return runCommand(ctx, args, getenv, stdout, stderr)
	case "validate":
		return validateCommand(args, getenv, stdout, stderr)
	case "config":
		return configCommand(args, getenv, stdout, stderr)
	case "tail":
		return tailCommand(ctx, args, getenv, stdout, stderr)
	case "migrate":
		return migrateCommand(args, getenv, stdout, stderr)
	case "demo":
		return demoCommand(ctx, args, getenv, stdout, stderr)
	case "top":
		return topCommand(ctx, args, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, readBuildInfo())
		return exitOK
	case "example-config":
		_, _ = stdout.Write(exampleConfig)
		return exitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "skiff: unknown command %q\n\n%s", cmd, usage)
	return exitUsage
}

// parseExit is the exit code for a flag parsing error: 0 for -help.
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// configFlags are the flags of run, validate and config: the config file,
// and the few keys a person changes by hand. Each sets one key, decoded and
// checked as the file's values are.
type configFlags struct {
	path      string
	overrides []*override
}

// override is the flag of one key. A list key takes a comma-separated
// list, or the flag repeated.
type override struct {
	flag, key string
	val       string
	set       bool
}

func (o *override) String() string { return o.val }
func (o *override) Set(s string) error {
	if o.set && o.key == "tail.include" {
		o.val += "," + s
	} else {
		o.val = s
	}
	o.set = true
	return nil
}

func newConfigFlags(fs *flag.FlagSet) *configFlags {
	cf := &configFlags{}
	fs.StringVar(&cf.path, "config", "", "configuration `file` (YAML); none means every default")
	for _, o := range []struct{ flag, key, usage string }{
		{"http-listen", "http.listen", "serve /metrics, /healthz, /readyz on `host:port` (\"off\" disables)"},
		{"log-level", "log.level", "debug, info, warn or error"},
		{"log-format", "log.format", "auto, json or text"},
		{"output", "output", "cloudwatch, stdout or file"},
		{"endpoint", "cloudwatch.endpoint", "CloudWatch Logs `URL` (cwlocal, LocalStack, a VPC endpoint)"},
		{"region", "cloudwatch.region", "AWS region"},
		{"log-group", "cloudwatch.log_group", "log group `template`"},
		{"state-dir", "tail.state_dir", "checkpoint `directory` (\"\" for none)"},
		{"include", "tail.include", "file `glob` to read (repeatable; replaces the configured list)"},
		{"cluster", "cluster", "cluster `name` for {cluster}"},
	} {
		ov := &override{flag: o.flag, key: o.key}
		cf.overrides = append(cf.overrides, ov)
		fs.Var(ov, o.flag, o.usage)
	}
	return cf
}

// load reads the file (or none), applies the flags and validates: every
// problem of the file, the flags and the components' own rules, at once.
func (cf *configFlags) load(getenv func(string) string) (cfg config.Config, err error) {
	name, data := "(defaults)", []byte(nil)
	if cf.path != "" {
		if data, err = os.ReadFile(cf.path); err != nil {
			return config.Config{}, fmt.Errorf("read config: %w", err)
		}
		name = cf.path
	}
	cfg, src, err := config.Parse(name, data, getenv)
	if src.Syntax() {
		return cfg, err
	}
	for _, o := range cf.overrides {
		if o.set {
			src.Override(&cfg, o.key, o.flag, o.val)
		}
	}
	return cfg, src.Check(cfg.Validate())
}

// loadUnchecked reads the file and applies the flags, reporting only what
// decoding found: a caller that changes the configuration validates it.
func (cf *configFlags) loadUnchecked(getenv func(string) string) (config.Config, error) {
	name, data := "(defaults)", []byte(nil)
	if cf.path != "" {
		var err error
		if data, err = os.ReadFile(cf.path); err != nil {
			return config.Config{}, fmt.Errorf("read config: %w", err)
		}
		name = cf.path
	}
	cfg, src, err := config.Parse(name, data, getenv)
	if src.Syntax() {
		return cfg, err
	}
	return cfg, src.Check(nil)
}

func validateCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("skiff validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setHelp(fs, validateHelp)
	cf := newConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 && cf.path == "" {
		cf.path = fs.Arg(0)
	}
	if _, err := cf.load(getenv); err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	name := cf.path
	if name == "" {
		name = "the defaults"
	}
	fmt.Fprintf(stdout, "%s: ok\n", name)
	return exitOK
}
