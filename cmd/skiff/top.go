package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// defaultTopAddr is http.listen's default: skiff top run on the node
// reaches the agent there.
const defaultTopAddr = "127.0.0.1:2021"

// What skiff top finds at an address that is not a skiff agent's.
var (
	// errNotSkiff: the address answers without skiff's metrics.
	errNotSkiff = errors.New("no skiff_build_info in /metrics: not a skiff agent")
	// errNotFound is a 404: the agent does not serve the path (an agent
	// from before /status).
	errNotFound = errors.New("not found")
)

// topCommand is `skiff top`: a live view of a running agent, read from its
// /metrics and /status.
func topCommand(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("skiff top", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setHelp(fs, topHelp)
	addr := fs.String("addr", defaultTopAddr, "the agent's HTTP `host:port` (http.listen)")
	every := fs.Duration("interval", time.Second, "time between two frames")
	once := fs.Bool("once", false, "print one snapshot (totals, no rates) and exit; 1 when the agent is unreachable")
	top := fs.Int("top", 8, "rows in the namespace, pod and file tables")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 || *every < 100*time.Millisecond || *top < 1 {
		fmt.Fprintln(stderr, "skiff top: takes no arguments; --interval is at least 100ms, --top at least 1")
		return exitUsage
	}
	base := *addr
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	t := &topper{addr: *addr, base: strings.TrimSuffix(base, "/"), top: *top,
		client: &http.Client{Timeout: max(*every, 2*time.Second)}}
	if *once {
		cur, err := t.sample(ctx)
		if err != nil {
			fmt.Fprintln(stderr, t.unreachable(err))
			return exitFailed
		}
		fmt.Fprintln(stdout, strings.Join(buildModel(t.addr, nil, cur, t.top).screen(0, 0), "\n"))
		return exitOK
	}
	t.live(ctx, stdout, *every)
	return exitOK
}

// topper reads one agent.
type topper struct {
	addr   string // as given
	base   string // http://addr
	top    int
	client *http.Client
}

// live draws a frame every interval until ctx is done: redrawn in place on
// a terminal, one line per interval otherwise. An unreachable agent is
// said so, and tried again at the next interval.
func (t *topper) live(ctx context.Context, w io.Writer, every time.Duration) {
	tty := isTerminal(w)
	if tty {
		fmt.Fprint(w, "\x1b[?25l\x1b[H\x1b[2J") // hide the cursor, clear
		defer fmt.Fprint(w, "\x1b[?25h")
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var prev *topSample
	hinted := false
	for {
		cur, err := t.sample(ctx)
		if ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && tty:
			rows, cols := termSize(w)
			lines := append([]string{"skiff top  " + t.addr, ""}, strings.Split(t.unreachable(err), "\n")...)
			drawScreen(w, fit(append(lines, "", fmt.Sprintf("trying again every %s; Ctrl-C to stop", every)), rows, cols))
		case err != nil && !hinted:
			fmt.Fprintln(w, t.unreachable(err))
			hinted = true
		case err != nil:
			fmt.Fprintf(w, "%s  cannot read the agent at %s: %v\n", time.Now().Format("15:04:05"), t.addr, err)
		case tty:
			drawScreen(w, buildModel(t.addr, prev, cur, t.top).screen(termSize(w)))
		default:
			fmt.Fprintln(w, buildModel(t.addr, prev, cur, t.top).plainLine())
		}
		if err == nil {
			prev = cur
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// drawScreen redraws the terminal with lines, from its top left corner.
func drawScreen(w io.Writer, lines []string) {
	var b strings.Builder
	b.WriteString("\x1b[H")
	for _, l := range lines {
		b.WriteString(l)
		b.WriteString("\x1b[K\n") // erase the rest of the line
	}
	b.WriteString("\x1b[J") // and below
	_, _ = io.WriteString(w, b.String())
}

// sample reads /metrics, then /status (absent from older agents).
func (t *topper) sample(ctx context.Context) (*topSample, error) {
	body, err := t.get(ctx, "/metrics", "text/plain;version=0.0.4")
	if err != nil {
		return nil, err
	}
	at := time.Now()
	ms, err := parseMetrics(body)
	body.Close()
	if err != nil {
		return nil, err
	}
	if !ms.has("skiff_build_info") {
		return nil, errNotSkiff
	}
	s := &topSample{at: at, m: ms}
	body, err = t.get(ctx, statusPath, "application/json")
	if errors.Is(err, errNotFound) {
		return s, nil
	} else if err != nil {
		return nil, err
	}
	defer body.Close()
	var st agentStatus
	if err := json.NewDecoder(body).Decode(&st); err != nil {
		return nil, fmt.Errorf("decode %s: %w", statusPath, err)
	}
	s.status = &st
	return s, nil
}

// get returns the body of a 200 response to GET path.
func (t *topper) get(ctx context.Context, path, accept string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("GET %s: %w", path, errNotFound)
		}
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return resp.Body, nil
}

// unreachable says what went wrong and how to reach an agent.
func (t *topper) unreachable(err error) string {
	return fmt.Sprintf(`skiff top: cannot read the agent at %s: %v
  skiff serves /metrics and %s on http.listen (%s by default).
  Run skiff top on the node, or forward the port of the node's skiff pod:
    kubectl -n skiff get pods -o wide -l app.kubernetes.io/name=skiff
    kubectl -n skiff port-forward pod/POD 2021:2021
    skiff top --addr 127.0.0.1:2021`,
		t.addr, err, statusPath, defaultTopAddr)
}
