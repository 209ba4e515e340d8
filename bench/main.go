// Command bench measures log agents on a simulated Kubernetes node: a node
// simulator writes CRI log files with kubelet-like rotation, the agent under
// test (the built skiff binary, Fluent Bit, or any peer behind the adapter
// contract) ships them to an in-process CloudWatch Logs emulator, and every
// line is counted: throughput, CPU, memory, latency, loss and duplicates.
//
//	go run ./bench [flags] [scenario ...]
//
// See bench/README.md for the scenarios, the output and the adapter contract.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run parses args, runs the scenarios and writes the results; it returns
// the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, getenv, stderr)
	if err != nil {
		if err == errHelp {
			return 0
		}
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	if opts.Replot != "" {
		if err := replot(opts.Replot, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		return 0
	}
	h, err := newHarness(ctx, opts, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer h.close()
	if err := h.runAll(ctx); err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	return 0
}
