package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newRegistry returns a fresh registry with the Go and process collectors
// and skiff_build_info; the components add theirs.
func newRegistry(bi buildInfo) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "skiff_build_info",
		Help: "Always 1; the labels say which skiff is running.",
		ConstLabels: prometheus.Labels{
			"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion,
		},
	})
	info.Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		info,
	)
	return reg
}

// health is what /healthz and /readyz report.
type health struct {
	// beat is the last heartbeat of the supervisor, in Unix nanoseconds.
	beat atomic.Int64
	// ready is set once the configuration is loaded and the inputs run,
	// and cleared when shutdown begins.
	ready atomic.Bool
}

// stallAfter is how long without a heartbeat before /healthz fails.
const stallAfter = 30 * time.Second

// heartbeat beats every second until ctx is done: /healthz says the
// process schedules goroutines and its supervisor is alive.
func (h *health) heartbeat(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	h.beat.Store(time.Now().UnixNano())
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			h.beat.Store(now.UnixNano())
		}
	}
}

// server is the one HTTP port.
type server struct {
	ln     net.Listener
	srv    *http.Server
	status *statusHandler // serves /status; the agent gives it the tailer's files
}

// listen binds addr at once, so that a taken port is a start-up error.
func listen(addr string, reg *prometheus.Registry, h *health, withPprof bool) (*server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	status := &statusHandler{version: readBuildInfo().Version}
	mux.Handle("GET "+statusPath, status)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		if age := time.Since(time.Unix(0, h.beat.Load())); age > stallAfter {
			http.Error(w, fmt.Sprintf("supervisor stalled for %s\n", age.Round(time.Second)), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !h.ready.Load() {
			http.Error(w, "not ready\n", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return &server{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, status: status}, nil
}

// Addr is the address the server listens on.
func (s *server) Addr() string { return s.ln.Addr().String() }

// Run serves until ctx is done.
func (s *server) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = s.srv.Shutdown(sctx)
	})
	defer stop()
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}
