// Command cwlocal runs a CloudWatch Logs compatible server on loopback, for
// trying skiff without an AWS account, for the demo and for benchmarks.
//
// Usage:
//
//	cwlocal [flags]
//
// Point a client at it with --endpoint-url http://127.0.0.1:4566 (AWS CLI),
// AWS_ENDPOINT_URL_CLOUDWATCH_LOGS (SDKs) or skiff's cloudwatch.endpoint.
// Faults can be changed while it runs: POST /_cwlocal/faults.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	stop()
	if err != nil {
		os.Exit(exitCode(err))
	}
}
