package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	errHelp = errors.New("help")
	// errUnsupported, wrapped by Adapter.Command, says the agent cannot
	// run the scenario as built; its result is skipped, not an error.
	errUnsupported = errors.New("not supported by this build of the agent")
)

// options are the command line.
type options struct {
	Agents      []string
	Skiff       string
	FluentBit   string
	Peers       map[string]string
	Out         string
	Duration    time.Duration
	Rates       []float64
	RatesSet    bool // --rates was given: multiline runs them too
	Pods        int
	LineBytes   int
	JSON, Long  float64
	TLS         bool
	Keep        bool
	MaxStart    float64
	MaxTrials   int
	MaxDuration time.Duration
	Scenarios   []string
	Note        string
	Replot      string
	Args        []string
}

const usageText = `Usage: go run ./bench [flags] [scenario ...]

Scenarios (default: steady max; "all" runs every one):
`

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (options, error) {
	o := options{Peers: map[string]string{}, Args: args}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	agents := fs.String("agents", "skiff,fluent-bit", "agents to measure, in order (skiff, fluent-bit, or a --peer name)")
	fs.StringVar(&o.Skiff, "skiff", "", "a built skiff binary (default: go build ./cmd/skiff into a temp dir)")
	fs.StringVar(&o.FluentBit, "fluent-bit", getenv("FLUENT_BIT"), "the fluent-bit binary (default: $FLUENT_BIT, else fluent-bit on PATH)")
	fs.Func("peer", "another agent: name=command (the command reads the SKIFF_BENCH_* variables); repeatable", func(s string) error {
		name, cmd, ok := strings.Cut(s, "=")
		if !ok || name == "" || cmd == "" {
			return fmt.Errorf("want name=command, got %q", s)
		}
		o.Peers[name] = cmd
		return nil
	})
	fs.StringVar(&o.Out, "out", "", "output directory (default bench/results/<UTC time> in the module)")
	fs.DurationVar(&o.Duration, "duration", 20*time.Second, "writing time of each run")
	rates := fs.String("rates", "1000,10000,50000", "steady rates, total lines/s (multiline: 10000 unless given)")
	fs.IntVar(&o.Pods, "pods", 50, "simulated pods (one container each)")
	fs.IntVar(&o.LineBytes, "line-bytes", 256, "message size in bytes")
	fs.Float64Var(&o.JSON, "json-fraction", 0, "fraction of JSON lines")
	fs.Float64Var(&o.Long, "long-fraction", 0, "fraction of 40 KiB lines written as 16 KiB partial chunks")
	fs.BoolVar(&o.TLS, "tls", false, "HTTPS for every agent (agents that need it always get it)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the runs' temp directories (node files, configs, agent logs)")
	fs.Float64Var(&o.MaxStart, "max-start", 20000, "max: first rate tried, lines/s")
	fs.IntVar(&o.MaxTrials, "max-trials", 7, "max: trials per agent")
	fs.DurationVar(&o.MaxDuration, "max-duration", 15*time.Second, "max: writing time of each trial")
	fs.StringVar(&o.Replot, "replot", "", "rewrite results.md and the plots of a results directory from its results.json, run nothing")
	fs.StringVar(&o.Note, "note", "", "a note stored with the results (e.g. what else ran on the machine)")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		for _, s := range scenarios {
			fmt.Fprintf(stderr, "  %-20s %s\n", s.name, s.doc)
		}
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, errHelp
		}
		return o, err
	}
	for _, a := range strings.Split(*agents, ",") {
		if a = strings.TrimSpace(a); a != "" {
			o.Agents = append(o.Agents, a)
		}
	}
	for name := range o.Peers {
		if !slices.Contains(o.Agents, name) {
			o.Agents = append(o.Agents, name)
		}
	}
	for _, r := range strings.Split(*rates, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(r), 64)
		if err != nil || v <= 0 {
			return o, fmt.Errorf("--rates: bad rate %q", r)
		}
		o.Rates = append(o.Rates, v)
	}
	fs.Visit(func(f *flag.Flag) { o.RatesSet = o.RatesSet || f.Name == "rates" })
	o.Scenarios = fs.Args()
	if len(o.Scenarios) == 0 {
		o.Scenarios = []string{"steady", "max"}
	}
	if slices.Contains(o.Scenarios, "all") {
		o.Scenarios = nil
		for _, s := range scenarios {
			o.Scenarios = append(o.Scenarios, s.name)
		}
	}
	for _, name := range o.Scenarios {
		if findScenario(name) == nil {
			return o, fmt.Errorf("unknown scenario %q (go run ./bench -h lists them)", name)
		}
	}
	if o.Pods < 1 || o.Duration <= 0 || o.LineBytes < 1 {
		return o, errors.New("--pods, --duration and --line-bytes must be positive")
	}
	return o, nil
}
