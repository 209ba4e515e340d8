//go:build !skiffwip

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
)

func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "skiff run: not available in this build yet")
	return exitFailed
}

func tailCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "skiff tail: not available in this build yet")
	return exitFailed
}

func demoCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "skiff demo: not available in this build yet")
	return exitFailed
}

// checkComponents asks each component to check its part of cfg.
func checkComponents(cfg *config.Config) []*config.FieldError { return nil }
