package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

// errUsage marks errors in the command line (exit code 2).
var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
		return 2
	}
	return 1
}

// run starts the server and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	opts, logOpts, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, logOpts)
	if err != nil {
		return err
	}
	opts.Logger = log
	s, err := cwlocal.NewServer(opts)
	if err != nil {
		log.Error("cwlocal: start failed", "err", err)
		return err
	}
	<-ctx.Done()
	log.Info("cwlocal: shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := s.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Error("cwlocal: shutdown", "err", err)
		return err
	}
	return nil
}

type logOptions struct {
	level, format string
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (cwlocal.Options, logOptions, error) {
	var (
		o                                 cwlocal.Options
		lo                                logOptions
		maxBytes, latency, outageFor      string
		faultOps                          string
		errorRate, dropRate, throttleRate float64
		failAttempts                      int
		outage                            bool
	)
	fs := flag.NewFlagSet("cwlocal", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.Addr, "listen", "127.0.0.1:4566", "listen address")
	fs.BoolVar(&o.TLS, "tls", false, "serve HTTPS; without --cert/--key a CA and a certificate for 127.0.0.1 and localhost are generated")
	fs.StringVar(&o.CertFile, "cert", "", "PEM certificate for --tls")
	fs.StringVar(&o.KeyFile, "key", "", "PEM private key for --tls")
	fs.StringVar(&o.CAOut, "ca-out", "", "write the generated CA here (default: a temporary file, path logged)")
	fs.StringVar(&o.AccessKey, "access-key", getenv("CWLOCAL_ACCESS_KEY"), "verify SigV4 signatures for this access key id (env CWLOCAL_ACCESS_KEY)")
	fs.StringVar(&o.SecretKey, "secret-key", getenv("CWLOCAL_SECRET_KEY"), "secret key for --access-key (env CWLOCAL_SECRET_KEY)")
	fs.BoolVar(&o.Throttle, "throttle", false, "throttle at the service quotas (PutLogEvents 5000/s, CreateLogStream 50/s, CreateLogGroup 10/s, ...)")
	fs.StringVar(&maxBytes, "max-bytes", "1GiB", "store cap (message bytes + 26 per event), e.g. 512MiB")
	fs.StringVar(&o.Dir, "dir", "", "persist the store in this directory")
	fs.BoolVar(&o.Discard, "discard", false, "accept and count events without keeping them (benchmarks)")
	fs.StringVar(&o.Region, "region", cwlocal.DefaultRegion, "region used in ARNs")
	fs.Float64Var(&errorRate, "error-rate", 0, "probability of ServiceUnavailableException (HTTP 500)")
	fs.BoolVar(&outage, "outage", false, "fail every request with ServiceUnavailableException")
	fs.StringVar(&outageFor, "outage-for", "", "fail every request for this long after start, e.g. 60s")
	fs.StringVar(&latency, "latency", "", "added latency per request, e.g. 50ms")
	fs.Float64Var(&dropRate, "drop-rate", 0, "probability of closing the connection without a response")
	fs.Float64Var(&throttleRate, "throttle-rate", 0, "probability of ThrottlingException regardless of rate")
	fs.IntVar(&failAttempts, "fail-attempts", 0, "fail the first N attempts of each SDK call (Amz-Sdk-Request header)")
	fs.StringVar(&faultOps, "fault-ops", "", "comma-separated operations the faults apply to (default all)")
	fs.StringVar(&lo.level, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&lo.format, "log-format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, lo, err
		}
		return o, lo, fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return o, lo, fmt.Errorf("%w: unexpected arguments %q", errUsage, fs.Args())
	}
	n, err := parseBytes(maxBytes)
	if err != nil {
		return o, lo, fmt.Errorf("%w: --max-bytes: %v", errUsage, err)
	}
	o.MaxBytes = n
	f := cwlocal.Faults{ErrorRate: errorRate, Outage: outage, DropRate: dropRate, ThrottleRate: throttleRate, FailAttempts: failAttempts}
	for name, p := range map[string]float64{"error-rate": errorRate, "drop-rate": dropRate, "throttle-rate": throttleRate} {
		if p < 0 || p > 1 {
			return o, lo, fmt.Errorf("%w: --%s %v: want a probability in [0, 1]", errUsage, name, p)
		}
	}
	if latency != "" {
		if f.Latency, err = time.ParseDuration(latency); err != nil {
			return o, lo, fmt.Errorf("%w: --latency: %v", errUsage, err)
		}
	}
	if outageFor != "" {
		d, err := time.ParseDuration(outageFor)
		if err != nil {
			return o, lo, fmt.Errorf("%w: --outage-for: %v", errUsage, err)
		}
		f.OutageUntil = time.Now().Add(d)
	}
	if faultOps != "" {
		f.Operations = strings.Split(faultOps, ",")
	}
	o.Faults = f
	return o, lo, nil
}

// parseBytes reads a size like 1073741824, 512MiB, 1GiB or 100MB.
func parseBytes(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive size", s)
	}
	return n * mult, nil
}

func newLogger(w io.Writer, lo logOptions) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(lo.level)); err != nil {
		return nil, fmt.Errorf("%w: --log-level %q", errUsage, lo.level)
	}
	ho := &slog.HandlerOptions{Level: level}
	switch lo.format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, fmt.Errorf("%w: --log-format %q: want text or json", errUsage, lo.format)
}
