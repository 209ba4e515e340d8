package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"1024": 1024, "512MiB": 512 << 20, "1GiB": 1 << 30, "100MB": 100e6, "3KiB": 3072} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "0", "lots", "1XB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) succeeded", in)
		}
	}
}

func TestParseFlags(t *testing.T) {
	env := map[string]string{"CWLOCAL_ACCESS_KEY": "AK", "CWLOCAL_SECRET_KEY": "SK"}
	o, _, err := parseFlags([]string{"--throttle", "--max-bytes", "2GiB", "--error-rate", "0.5", "--latency", "20ms", "--fault-ops", "PutLogEvents,CreateLogStream", "--outage-for", "1m"},
		func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.Addr != "127.0.0.1:4566" || !o.Throttle || o.MaxBytes != 2<<30 || o.AccessKey != "AK" || o.SecretKey != "SK" ||
		o.Faults.ErrorRate != 0.5 || o.Faults.Latency != 20*time.Millisecond || len(o.Faults.Operations) != 2 || o.Faults.OutageUntil.IsZero() {
		t.Errorf("options = %+v", o)
	}
	for _, args := range [][]string{{"--error-rate", "2"}, {"--latency", "soon"}, {"--max-bytes", "x"}, {"extra"}, {"--nope"}} {
		if _, _, err := parseFlags(args, func(string) string { return "" }, io.Discard); err == nil || exitCode(err) != 2 {
			t.Errorf("parseFlags(%q) = %v; want a usage error", args, err)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server's logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"--listen", "127.0.0.1:0"}, func(string) string { return "" }, &logs)
	}()
	re := regexp.MustCompile(`url=(\S+)`)
	var url string
	for url == "" {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s", err, logs.String())
		case <-time.After(10 * time.Millisecond):
		}
		if m := re.FindStringSubmatch(logs.String()); m != nil {
			url = m[1]
		}
	}
	resp, err := http.Get(url + "/_cwlocal/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("health: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.Contains(logs.String(), "shutting down") {
		t.Errorf("logs lack the shutdown line:\n%s", logs.String())
	}
}

func TestRunBadFlags(t *testing.T) {
	err := run(context.Background(), []string{"--log-format", "xml"}, func(string) string { return "" }, io.Discard)
	if err == nil || !errors.Is(err, errUsage) {
		t.Errorf("run(--log-format xml) = %v; want a usage error", err)
	}
}
