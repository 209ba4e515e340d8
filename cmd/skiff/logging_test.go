package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRepeatsRateLimited(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, "info", "json")
	now := time.Unix(1000, 0)
	log.Handler().(*dedupHandler).now = func() time.Time { return now }
	for range 5 {
		log.Warn("put failed", slog.String("err", "503"))
	}
	log.Info("other")
	now = now.Add(repeatWindow)
	log.Warn("put failed", slog.String("err", "503"))
	log.Debug("hidden")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines; want 3:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[2], `"repeated":4`) || strings.Contains(lines[0], "repeated") {
		t.Errorf("lines = %q", lines)
	}
	if !strings.HasPrefix(lines[0], "{") {
		t.Errorf("format json wrote %q", lines[0])
	}
}
