// Command skiff is a per-node log shipping agent: it tails container log
// files, enriches lines with pod metadata and ships them to CloudWatch Logs,
// saving a file's position only once its lines were accepted.
//
// Usage:
//
//	skiff run --config FILE      run the agent
//	skiff validate --config FILE check a configuration
//	skiff config --config FILE   print the effective configuration
//	skiff tail PATH...           decode log files, print records as JSON lines
//	skiff demo                   a simulated node shipping to a local CloudWatch
//	skiff version                print the version
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
