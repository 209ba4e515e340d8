package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestEndpoints(t *testing.T) {
	h := &health{}
	srv, err := listen("127.0.0.1:0", newRegistry(readBuildInfo()), h, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- srv.Run(ctx) }()
	base := "http://" + srv.Addr()

	if code, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz before start = %d; want 503", code)
	}
	h.ready.Store(true)
	if code, _ := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz when running = %d; want 200", code)
	}
	if code, _ := get(t, base+"/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz without a heartbeat = %d; want 503", code)
	}
	h.beat.Store(time.Now().UnixNano())
	if code, _ := get(t, base+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d; want 200", code)
	}
	code, body := get(t, base+"/metrics")
	for _, want := range []string{"skiff_build_info{", "go_goroutines", "process_resident_memory_bytes"} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics = %d, lacks %s", code, want)
		}
	}
	if code, _ := get(t, base+"/debug/pprof/"); code != http.StatusOK {
		t.Errorf("/debug/pprof/ = %d", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	if _, err := listen(srv.Addr(), newRegistry(readBuildInfo()), h, false); err != nil {
		t.Logf("rebinding after close: %v", err)
	}
}

func TestListenTaken(t *testing.T) {
	srv, err := listen("127.0.0.1:0", newRegistry(readBuildInfo()), &health{}, false)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.ln.Close()
	if _, err := listen(srv.Addr(), newRegistry(readBuildInfo()), &health{}, false); err == nil || !strings.HasPrefix(err.Error(), "listen "+srv.Addr()) {
		t.Errorf("listen on a taken port = %v", err)
	}
}
