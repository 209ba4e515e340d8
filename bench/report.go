package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// report is what results.json holds.
type report struct {
	Meta    Meta     `json:"meta"`
	Results []Result `json:"results"`
}

// replot rewrites results.md and the plots of dir from its results.json.
func replot(dir string, stdout, stderr io.Writer) error {
	b, err := os.ReadFile(filepath.Join(dir, "results.json"))
	if err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("decode %s: %w", filepath.Join(dir, "results.json"), err)
	}
	h := &harness{opts: options{Out: dir}, stdout: stdout, progress: newProgress(stderr), meta: rep.Meta, results: rep.Results}
	return h.write()
}

// write stores results.json, results.md and the plots in the output dir.
func (h *harness) write() error {
	dir := h.opts.Out
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	b, err := json.MarshalIndent(report{Meta: h.meta, Results: h.results}, "", " ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	figs := h.figures()
	var names []string
	for _, f := range figs {
		if err := os.WriteFile(filepath.Join(dir, f.file), []byte(f.fig.svg()), 0o644); err != nil {
			return fmt.Errorf("write plot: %w", err)
		}
		names = append(names, f.file)
	}
	md := markdown(h.meta, h.results, names)
	if err := os.WriteFile(filepath.Join(dir, "results.md"), []byte(md), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	fmt.Fprint(h.stdout, md)
	h.progress.println("results in " + dir)
	return nil
}

func markdown(m Meta, results []Result, plots []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Benchmark results, %s\n\n", m.Date)
	fmt.Fprintf(&b, "- Command: `%s` (%.0f s), checkout %s\n", m.Command, m.Seconds, m.Commit)
	fmt.Fprintf(&b, "- Machine: %d CPUs (%s), %.0f GiB, Linux %s, %s\n", m.CPUs, m.Machine, m.MemoryGiB, m.Kernel, m.Go)
	for _, k := range sortedKeys(m.Versions) {
		fmt.Fprintf(&b, "- %s: %s\n", k, m.Versions[k])
	}
	var settings []string
	for _, k := range sortedKeys(m.Settings) {
		settings = append(settings, k+" "+m.Settings[k])
	}
	fmt.Fprintf(&b, "- Settings: %s\n", strings.Join(settings, ", "))
	if m.Note != "" {
		fmt.Fprintf(&b, "- Note: %s\n", m.Note)
	}
	b.WriteString("\nOffered lines/s are over the writing window, delivered lines/s and MB/s over the same window after a warm-up of a quarter of it (at most 3 s) (MB = 10^6 message bytes); cores = agent CPU seconds per second " +
		"while writing (idle: at rest, after start-up and a settling period); CPU s/GB = agent CPU (writing and draining) per GB delivered; latency = write to CloudWatch accept; " +
		"lost and dup are exact, from the per-line markers; harness = the simulator, cwlocal and the counter on the same cores. " +
		"Where the pods write stack traces (multiline), l/s, lost and dup count messages (a trace is one, found by the marker on its first line); the notes give the lines the applications printed.\n\n")
	b.WriteString("| scenario | load | agent | offered l/s | delivered l/s | MB/s | cores | CPU s/GB | RSS peak / avg (anon peak) MiB | latency p50 / p99 / max ms | lost | dup | kept up | harness cores | notes |\n")
	b.WriteString("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|---|\n")
	for _, r := range results {
		if r.Scenario == "max-trial" {
			continue
		}
		if r.Skipped != "" || r.Error != "" {
			why := r.Skipped
			if why == "" {
				why = "error: " + firstLine(r.Error)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | | | | | | | | | | | | %s |\n", r.Scenario, r.Label, r.Agent, mdEsc(why))
			continue
		}
		kept := "yes"
		if !r.KeptUp {
			kept = "no: " + r.KeptUpWhy
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %.0f | %.2f | %.3f | %.1f | %.1f / %.1f (%.1f) | %.0f / %.0f / %.0f | %d | %d | %s | %.2f | %s |\n",
			r.Scenario, r.Label, r.Agent, r.OfferedLPS, r.DeliveredLPS, r.DeliveredMBps, r.Cores, r.CPUPerGB,
			r.RSSPeakMi, r.RSSAvgMi, r.AnonPeakMi, r.P50ms, r.P99ms, r.MaxMs, r.Lost, r.Duplicates, mdEsc(kept), r.HarnessCores, mdEsc(notes(r)))
	}
	var trials []string
	for _, r := range results {
		if r.Scenario == "max-trial" {
			s := fmt.Sprintf("%s %s: kept up", r.Agent, r.Label)
			if !r.KeptUp {
				s = fmt.Sprintf("%s %s: no (%s)", r.Agent, r.Label, r.KeptUpWhy)
				if r.Error != "" {
					s = fmt.Sprintf("%s %s: error (%s)", r.Agent, r.Label, firstLine(r.Error))
				}
			}
			trials = append(trials, s)
		}
	}
	if len(trials) > 0 {
		b.WriteString("\nMax search trials: " + strings.Join(trials, "; ") + ".\n")
	}
	if len(plots) > 0 {
		b.WriteString("\nPlots:\n\n")
		for _, p := range plots {
			fmt.Fprintf(&b, "- [%s](%s)\n", p, p)
		}
	}
	return b.String()
}

// notes summarizes a result's scenario-specific numbers.
func notes(r Result) string {
	var out []string
	e := r.Extra
	if v, ok := e["restarts"]; ok {
		out = append(out, fmt.Sprintf("%.0f restarts", v))
	}
	if v, ok := e["sigterm_stop_s"]; ok {
		out = append(out, fmt.Sprintf("SIGTERM exit in %.1f s", v))
	}
	if v := e["backlog_at_end"]; r.TargetRate > 0 && v/r.TargetRate >= 0.05 {
		out = append(out, fmt.Sprintf("%.1f s behind at the end", v/r.TargetRate))
	}
	if r.Traces > 0 {
		// Every event without a marker is a piece of a trace shipped apart
		// from its first line (ordinary lines all carry one).
		out = append(out, fmt.Sprintf("%.0f app lines/s; %d traces of %d lines written; %d events delivered, %d unmarked (%.2f events per trace)",
			r.AppLPS, r.Traces, 1+r.FrameLines/r.Traces, r.Events, r.Unmarked, 1+float64(r.Unmarked)/float64(r.Traces)))
	}
	if v, ok := e["settle_s"]; ok {
		out = append(out, fmt.Sprintf("cores at rest: over %.0f s from %.0f s after every file's first line was delivered (start-up %.2f CPU s, then %.3f cores while settling); RSS peak since start",
			r.Duration, v, e["startup_cpu_s"], e["settle_cores"]))
	}
	if r.Events > 0 && r.Traces == 0 { // a live API server's run
		out = append(out, fmt.Sprintf("%d of %d events carried the pod's metadata from the API server", r.Enriched, r.Events))
	}
	if r.Unmarked > 0 && r.Traces == 0 || r.Foreign > 0 {
		out = append(out, fmt.Sprintf("%d unmarked, %d foreign", r.Unmarked, r.Foreign))
	}
	if r.JournalWritten > 0 {
		out = append(out, fmt.Sprintf("journal: %d entries written, %d delivered to /dataplane and /host, %d lost",
			r.JournalWritten, r.JournalDelivered, r.JournalLost))
	}
	for _, n := range r.Notes {
		if !strings.HasPrefix(n, "agent log tail") {
			out = append(out, n)
		}
	}
	return strings.Join(out, "; ")
}

func mdEsc(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ") }

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

type namedFigure struct {
	file string
	fig  figure
}

// figures: for every scenario and load, the timelines of every agent; and
// the steady runs across rates.
func (h *harness) figures() []namedFigure {
	colors := map[string]string{}
	var legend []series
	var agents []string
	for _, ad := range h.adapters {
		agents = append(agents, ad.Name)
	}
	for _, r := range h.results { // replotting: the agents come from the results
		if !slices.Contains(agents, r.Agent) {
			agents = append(agents, r.Agent)
		}
	}
	for i, a := range agents {
		colors[a] = palette[i%len(palette)]
		legend = append(legend, series{name: a, color: colors[a]})
	}
	var out []namedFigure
	type key struct{ scenario, label string }
	var order []key
	byKey := map[key][]Result{}
	for _, r := range h.results {
		if len(r.Samples) < 2 || r.Scenario == "max-trial" {
			continue
		}
		k := key{r.Scenario, r.Label}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	for _, k := range order {
		rs := byKey[k]
		tput := panel{title: "delivered lines/s (dashed: offered; vertical: events, end of writing)", xLabel: "seconds since the writers started"}
		cpu := panel{title: "agent CPU (cores)", xLabel: "seconds"}
		mem := panel{title: "agent RSS (MiB)", xLabel: "seconds"}
		for _, r := range rs {
			c := colors[r.Agent]
			var xs, off, del, cores, rss []float64
			for _, s := range r.Samples[1:] {
				xs = append(xs, s.T)
				off, del = append(off, s.Offered), append(del, s.DeliveredRate)
				cores, rss = append(cores, s.Cores), append(rss, float64(s.RSS)/(1<<20))
			}
			tput.lines = append(tput.lines, series{name: r.Agent, color: c, xs: xs, ys: del},
				series{name: r.Agent + " offered", color: c, dashed: true, xs: xs, ys: off})
			cpu.lines = append(cpu.lines, series{name: r.Agent, color: c, xs: xs, ys: cores})
			mem.lines = append(mem.lines, series{name: r.Agent, color: c, xs: xs, ys: rss})
		}
		// Dashed lines: the scenario's actions and the end of writing.
		var marks []float64
		for k, v := range rs[0].Extra {
			if k == "write_end_s" || strings.HasPrefix(k, "event_") {
				marks = append(marks, v)
			}
		}
		tput.marks, cpu.marks, mem.marks = marks, marks, marks
		name := fmt.Sprintf("timeline-%s-%s.svg", k.scenario, fileSafe(k.label))
		out = append(out, namedFigure{name, figure{title: fmt.Sprintf("%s, %s", k.scenario, k.label), legend: legend,
			panels: []panel{tput, cpu, mem}}})
	}
	// Across rates: steady runs and the max result.
	var cats []string
	for _, r := range h.results {
		if (r.Scenario == "steady" || r.Scenario == "max") && r.Error == "" && r.Skipped == "" {
			label := r.Label
			if r.Scenario == "max" {
				label = "max"
			}
			if !slices.Contains(cats, label) {
				cats = append(cats, label)
			}
		}
	}
	if len(cats) == 0 {
		return out
	}
	mk := func(title string, f func(Result) float64) panel {
		p := panel{title: title, cats: cats}
		for _, agent := range agents {
			ys := make([]float64, len(cats))
			for i := range ys {
				ys[i] = math.NaN()
			}
			for _, r := range h.results {
				if (r.Scenario == "steady" || r.Scenario == "max") && r.Agent == agent && r.Error == "" && r.Skipped == "" {
					label := r.Label
					if r.Scenario == "max" {
						label = "max"
					}
					ys[slices.Index(cats, label)] = f(r)
				}
			}
			p.groups = append(p.groups, series{name: agent, color: colors[agent], ys: ys})
		}
		return p
	}
	out = append(out, namedFigure{"rates.svg", figure{title: "steady rates and max (the highest rate kept up): agent by agent", legend: legend, panels: []panel{
		mk("delivered lines/s", func(r Result) float64 { return r.DeliveredLPS }),
		mk("agent CPU (cores)", func(r Result) float64 { return r.Cores }),
		mk("agent RSS peak (MiB)", func(r Result) float64 { return r.RSSPeakMi }),
		mk("write-to-accept p99 (ms)", func(r Result) float64 { return r.P99ms }),
	}}})
	return out
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		}
		return '_'
	}, s)
}
