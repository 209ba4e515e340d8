package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/sinks"
)

// runCommand is `skiff run`: the agent, until SIGTERM or SIGINT.
func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	// Package initialisation ran a little of most of the executable: its
	// pages go back before anything else is read (see releaseCodePages).
	released, releaseErr := releaseCodePages()
	fs := flag.NewFlagSet("skiff run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setHelp(fs, runHelp)
	cf := newConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "skiff run: unexpected argument %q (use --config FILE)\n", fs.Arg(0))
		return exitUsage
	}
	cfg, err := cf.load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	log := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	logCodePages(log, "start", released, releaseErr)
	bi := readBuildInfo()
	configName := cf.path
	if configName == "" {
		configName = "(none: defaults and flags)"
	}
	log.Info("starting skiff", slog.String(attrVersion, bi.Version), slog.String(attrConfig, configName),
		slog.String(attrOutput, cfg.Output), slog.String("node", cfg.NodeName),
		slog.Any("include", cfg.Tail.Include), slog.Bool("kubernetes", cfg.Kubernetes.Enabled))
	if limit, set := memoryLimit(cfg, getenv); set {
		log.Info("GOMEMLIMIT not set: using the buffer budget plus the measured overhead as a soft memory limit",
			slog.Int64("bytes", limit))
	}
	gcPercent(getenv)
	if !cfg.HTTP.Pprof {
		// Nothing reads heap profiles: do not sample allocations for
		// them (their buckets are memory that is never returned).
		runtime.MemProfileRate = 0
	}
	force, stopForce := secondSignal()
	defer stopForce()
	a, err := newAgent(ctx, cfg, deps{log: log, reg: newRegistry(bi), stdout: stdout, force: force})
	if err != nil {
		log.Error("cannot start", slog.Any(attrErr, err))
		return exitFailed
	}
	if a.srv != nil {
		log.Info("serving /metrics, /healthz, /readyz", slog.String(attrAddr, a.srv.Addr()))
	}
	releaseCodePagesLogged(log, "built")
	settled := time.AfterFunc(codePagesSettle, func() { releaseCodePagesLogged(log, "settled") })
	defer settled.Stop()
	if err := a.pipe.run(ctx); err != nil {
		return exitFailed
	}
	return exitOK
}

// memOverhead is the memory skiff needs besides the sink's budget, with
// some room: about 42 MiB measured with the budget full and GOMEMLIMIT
// at budget + 36 MiB (see TestMemoryOverhead).
const memOverhead = 48 << 20

// memoryLimit sets the Go runtime's soft memory limit to the budget plus
// memOverhead, unless GOMEMLIMIT is set: without a limit the garbage
// collector lets the heap grow to twice what is live, which with a full
// 64 MiB budget is twice the memory skiff needs.
func memoryLimit(cfg config.Config, getenv func(string) string) (int64, bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, false
	}
	budget := int64(cfg.CloudWatch.BufferBytes)
	if cfg.Output != config.OutputCloudWatch {
		budget = sinks.DefaultBufferBytes // the stdout and file sinks' budget
	}
	limit := budget + memOverhead
	debug.SetMemoryLimit(limit)
	return limit, true
}

// defaultGOGC is the garbage collector's target unless GOGC is set: the
// heap may grow by half of what is live between two collections, not by
// all of it. Measured with the bench (steady, 10,000 lines/s, 50 pods):
// GOGC 100 peaked at 76 MiB RSS and 0.18 cores, 50 at 64 MiB and 0.21,
// 25 at 57 MiB and 0.25. Memory is what a DaemonSet pays on every node.
const defaultGOGC = 50

// gcPercent sets defaultGOGC unless GOGC is set.
func gcPercent(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGOGC)
	}
}

// codePagesSettle is how long after the inputs start skiff releases its
// executable's pages the last time. It releases them first before the
// configuration is read (package initialisation touched most of the
// file), then once the agent is built (the configuration, the AWS SDK's
// configuration chain, the checkpoints), and then after the first scan,
// flushes and requests, code the steady state does not run again. With
// the bench at 10,000 lines/s, a last release 10 s after the start left
// the peak at 27.0 MiB, 3 s after at 24.9 (its steady state was 23.5
// either way).
const codePagesSettle = 3 * time.Second

// releaseCodePagesLogged releases the executable's pages (see
// releaseCodePages) and says how much, or why not, at debug level: it
// changes how much memory skiff shows, not what it does. Each stage has
// its own message, which the logger's repeat filter tells apart.
func releaseCodePagesLogged(log *slog.Logger, stage string) {
	n, err := releaseCodePages()
	logCodePages(log, stage, n, err)
}

func logCodePages(log *slog.Logger, stage string, n int64, err error) {
	if err != nil {
		if !errors.Is(err, errors.ErrUnsupported) {
			log.Debug("kept the executable's pages ("+stage+")", slog.Any(attrErr, err))
		}
		return
	}
	log.Debug("released the executable's pages ("+stage+")", slog.Int64("bytes", n))
}

// secondSignal returns a channel closed when a second SIGTERM or SIGINT
// arrives (the first one cancels the run context).
func secondSignal() (force chan struct{}, stop func()) {
	force = make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		for n := 0; ; {
			select {
			case <-sigs:
				if n++; n == 2 {
					close(force)
				}
			case <-done:
				return
			}
		}
	}()
	return force, func() { signal.Stop(sigs); close(done) }
}
