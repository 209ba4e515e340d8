package main

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

// The floor ships what it says to a real endpoint through the SDK and
// reports its memory.
func TestFloorShips(t *testing.T) {
	var events atomic.Int64
	srv, err := cwlocal.NewServer(cwlocal.Options{Discard: true, OnPut: func(_, _ string, evs []cwlocal.Event) {
		events.Add(int64(len(evs)))
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	env := map[string]string{"GOGC": "100"} // leave this test binary's collector alone
	t.Setenv("AWS_ACCESS_KEY_ID", "floor")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "floor")
	var out bytes.Buffer
	args := []string{"--endpoint", srv.URL(), "--rate", "40", "--streams", "4", "--duration", "1ms"}
	if err := run(context.Background(), args, func(k string) string { return env[k] }, &out); err != nil {
		t.Fatal(err)
	}
	if got := events.Load(); got != 40 {
		t.Errorf("endpoint got %d events; want one second of 40 lines/s", got)
	}
	if !strings.HasPrefix(out.String(), "shipped 40 lines in 4 streams at 40 lines/s: RSS peak ") {
		t.Errorf("report %q", out.String())
	}
}

func TestFloorBadFlags(t *testing.T) {
	for _, args := range [][]string{{}, {"--endpoint", "http://x", "--rate", "10", "--streams", "20"}, {"--bogus"}} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := run(ctx, args, func(string) string { return "" }, new(bytes.Buffer))
		cancel()
		if err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
