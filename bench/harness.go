package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// harness runs scenarios against agents and writes the results.
type harness struct {
	opts         options
	stdout       io.Writer
	tmp          string
	keep, tls    bool
	readyTimeout time.Duration
	progress     *progress
	adapters     []Adapter
	results      []Result
	started      time.Time
	meta         Meta
}

// Meta describes where and how the results were taken.
type Meta struct {
	Date      string            `json:"date"`
	Command   string            `json:"command"`
	Machine   string            `json:"machine"`
	CPUs      int               `json:"cpus"`
	MemoryGiB float64           `json:"memory_gib"`
	Kernel    string            `json:"kernel"`
	Go        string            `json:"go"`
	Commit    string            `json:"commit"`
	Versions  map[string]string `json:"versions"`
	Settings  map[string]string `json:"settings"`
	Note      string            `json:"note,omitempty"`
	Seconds   float64           `json:"seconds"`
}

func newHarness(ctx context.Context, o options, stdout, stderr io.Writer) (*harness, error) {
	tmp, err := os.MkdirTemp("", "skiff-bench-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	h := &harness{opts: o, stdout: stdout, tmp: tmp, keep: o.Keep, tls: o.TLS, readyTimeout: 60 * time.Second,
		progress: newProgress(stderr), started: time.Now()}
	if o.Out == "" {
		h.opts.Out = filepath.Join(moduleRoot(), "bench", "results", time.Now().UTC().Format("2006-01-02T150405Z"))
	}
	h.meta = Meta{
		Date: time.Now().UTC().Format(time.RFC3339), Command: commandLine(o.Args),
		CPUs: runtime.NumCPU(), MemoryGiB: memTotalGiB(), Kernel: kernel(), Go: runtime.Version(),
		Machine: cpuModel(), Versions: map[string]string{}, Note: o.Note, Commit: commit(ctx),
		Settings: map[string]string{
			"pods": fmt.Sprint(o.Pods), "line_bytes": fmt.Sprint(o.LineBytes), "duration": o.Duration.String(),
			"json_fraction": fmt.Sprint(o.JSON), "long_fraction": fmt.Sprint(o.Long), "tls_for_all": fmt.Sprint(o.TLS),
			"rotation": "10 MiB, 5 files",
		},
	}
	for _, name := range o.Agents {
		ad, err := h.adapter(ctx, name)
		if err != nil {
			h.close()
			return nil, err
		}
		if ad.Binary != "" {
			h.meta.Versions[ad.Name] = version(ctx, ad)
		} else {
			h.progress.println(fmt.Sprintf("skipping %s: %s", ad.Name, ad.Missing))
		}
		h.adapters = append(h.adapters, ad)
	}
	return h, nil
}

func (h *harness) adapter(ctx context.Context, name string) (Adapter, error) {
	switch name {
	case "skiff":
		bin := h.opts.Skiff
		if bin == "" {
			var err error
			if bin, err = buildSkiff(ctx, h.tmp); err != nil {
				return Adapter{}, err
			}
		}
		path, missing := lookBinary(bin, "skiff")
		return skiffAdapter(path, missing), nil
	case "fluent-bit":
		path, missing := lookBinary(h.opts.FluentBit, "fluent-bit")
		return fluentBitAdapter(path, missing), nil
	}
	if cmd, ok := h.opts.Peers[name]; ok {
		return externalAdapter(name, cmd), nil
	}
	return Adapter{}, fmt.Errorf("unknown agent %q (skiff, fluent-bit, or --peer %s=command)", name, name)
}

// buildSkiff builds ./cmd/skiff of the module the harness runs in, as the
// Dockerfile and the Makefile build it: static, without the symbol table.
// A binary built with cgo maps the C library too (about 1.5 MiB more RSS).
func buildSkiff(ctx context.Context, dir string) (string, error) {
	out := filepath.Join(dir, "skiff")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, "./cmd/skiff")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = moduleRoot()
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/skiff: %w\n%s", err, b)
	}
	// Written out, as an image's binary is on a node: pages the kernel
	// has not written back yet cannot leave the page cache, so skiff
	// could not release the ones it does not use (see README, Memory).
	f, err := os.Open(out)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", out, err)
	}
	return out, nil
}

// moduleRoot is the directory holding go.mod, found from the working directory.
func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

func version(ctx context.Context, ad Adapter) string {
	var arg string
	switch ad.Name {
	case "skiff":
		arg = "version"
	case "fluent-bit":
		arg = "--version"
	default:
		return ad.Binary
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	b, err := exec.CommandContext(ctx, ad.Binary, arg).CombinedOutput()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	return line
}

func (h *harness) close() {
	if !h.keep {
		os.RemoveAll(h.tmp)
	} else {
		h.progress.println("kept run directories under " + h.tmp)
	}
}

// runAll runs every scenario for every agent, then writes the results.
func (h *harness) runAll(ctx context.Context) error {
	for _, name := range h.opts.Scenarios {
		sc := findScenario(name)
		for _, ad := range h.adapters {
			if ctx.Err() != nil {
				break
			}
			if ad.Binary == "" {
				h.results = append(h.results, Result{Agent: ad.Name, Scenario: name, Skipped: ad.Missing})
				continue
			}
			for _, res := range sc.run(ctx, h, ad) {
				if res.Scenario != "max-trial" { // printed as they ran
					h.progress.println(summary(res))
				}
				h.results = append(h.results, res)
			}
		}
	}
	h.meta.Seconds = time.Since(h.started).Seconds()
	if err := h.write(); err != nil {
		return err
	}
	return ctx.Err()
}

func summary(r Result) string {
	switch {
	case r.Skipped != "":
		return fmt.Sprintf("%s %s: skipped: %s", r.Agent, r.Scenario, r.Skipped)
	case r.Error != "":
		return fmt.Sprintf("%s %s %s: error: %s", r.Agent, r.Scenario, r.Label, firstLine(r.Error))
	}
	return fmt.Sprintf("%s %s %s: offered %.0f/s delivered %.0f/s, %.3f cores, RSS %.1f MiB peak, p99 %.0f ms, lost %d, dup %d, kept up %v %s",
		r.Agent, r.Scenario, r.Label, r.OfferedLPS, r.DeliveredLPS, r.Cores, r.RSSPeakMi, r.P99ms, r.Lost, r.Duplicates, r.KeptUp, r.KeptUpWhy)
}

// commandLine is the harness's command, with arguments quoted where needed.
func commandLine(args []string) string {
	out := []string{"go", "run", "./bench"}
	for _, a := range args {
		if strings.ContainsAny(a, " \t'\"$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out = append(out, a)
	}
	return strings.Join(out, " ")
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// commit names the checkout the harness runs from ("+dirty" when it has
// uncommitted changes).
func commit(ctx context.Context) string {
	dir := moduleRoot()
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.CommandContext(ctx, "git", "-C", dir, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += "+dirty"
	}
	return c
}

func memTotalGiB() float64 {
	b, _ := os.ReadFile("/proc/meminfo")
	return float64(parseStatusKB(b, "MemTotal:")) / (1 << 30)
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
