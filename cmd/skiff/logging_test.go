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

// TestRepeatsPerSubject: the same message about another file or
// destination is not a repeat.
func TestRepeatsPerSubject(t *testing.T) {
	var buf bytes.Buffer
	log := newLogger(&buf, "info", "json")
	now := time.Unix(1000, 0)
	log.Handler().(*dedupHandler).now = func() time.Time { return now }
	for range 3 {
		log.Warn("bytes skipped", slog.String("path", "/a.log"))
		log.Warn("bytes skipped", slog.String("path", "/b.log"))
		log.Warn("put failed", slog.String("group", "g1"), slog.String("stream", "s"))
		log.Warn("put failed", slog.String("group", "g2"), slog.String("stream", "s"))
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines; want one per file and destination (4):\n%s", len(lines), buf.String())
	}
	for i, want := range []string{`"/a.log"`, `"/b.log"`, `"g1"`, `"g2"`} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d = %s; want %s", i, lines[i], want)
		}
	}
}
