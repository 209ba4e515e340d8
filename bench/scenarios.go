package main

import (
	"context"
	"fmt"
	"math"
	"strings"
	"syscall"
	"time"

	"github.com/skiff-agent/skiff/bench/nodesim"
	"github.com/skiff-agent/skiff/enrich/kubetest"
	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

// scenario produces the results of one agent.
type scenario struct {
	name, doc string
	run       func(ctx context.Context, h *harness, ad Adapter) []Result
}

var scenarios = []scenario{
	{"steady", "each --rates rate for --duration: throughput, CPU, memory, latency, loss", runSteady},
	{"max", "the highest rate delivered with zero loss while keeping up (doubling, then bisection)", runMax},
	{"burst", "5,000 lines/s with two 3 s bursts at 50,000 lines/s", runBurst},
	{"idle", "1,000 idle files (one line each, then nothing): CPU at rest over --duration from 10 s after start-up, RSS peak including start-up", runIdle},
	{"outage", "5,000 lines/s, the destination answers 500 for 20 s while files rotate every 256 KiB", runOutage},
	{"throttle", "10,000 lines/s against the real quotas plus 30% ThrottlingException", runThrottle},
	{"sigterm", "10,000 lines/s, SIGTERM and restart halfway: shutdown time, loss, duplicates", runSigterm},
	{"partial-failure", "10,000 lines/s for 30 s, 30% ThrottlingException and 20% 503 at random: keeping up, drain, loss", runPartialFailure},
	{"sigterm-outage", "5,000 lines/s, 20 s outage from 20 s, SIGTERM at 30 s and restart: exit, loss, duplicates", runSigtermOutage},
	{"kill9", "10,000 lines/s, SIGKILL and restart twice: loss and duplicates", runKill9},
	{"kill9-outage", "5,000 lines/s, 40 s outage from 10 s, SIGKILL at 25 s and 35 s while files rotate every 256 KiB and the oldest are deleted", runKill9Outage},
	{"sigterm-long-outage", "5,000 lines/s, outage from 10 s to 70 s, SIGTERM at 30 s, restart at 64 s, files rotating every 256 KiB meanwhile", runSigtermLongOutage},
	{"api-down", "1,000 lines/s with enrichment on and the API server unreachable: shipping must go on", runAPIDown},
	{"enrich", "1,000 lines/s (or each --rates rate given) from 100 pods, enrichment on against a real kube-apiserver holding them (needs " + kubeSetup + ")", runEnrich},
	{"pods1000", "1,000 lines/s (or each --rates rate given) from 1,000 pods, enrichment off", runPods1000},
	{"journal", "5,000 lines/s and 500 journal entries/s (kubelet, containerd, kernel, sshd) to the application, dataplane and host groups", runJournal},
	{"multiline", "10,000 lines/s (or each --rates rate given) as the applications print them, a fifth of the pods logging Java stack traces of 21 lines, joined by each agent's java rule; l/s, lost and dup count messages (a trace is one)", runMultiline},
}

func findScenario(name string) *scenario {
	for i := range scenarios {
		if scenarios[i].name == name {
			return &scenarios[i]
		}
	}
	return nil
}

// base is the spec every scenario starts from: --pods pods writing
// --line-bytes lines with kubelet's rotation (10 MiB, 5 files).
func (h *harness) base(name string, rate float64) spec {
	return spec{
		Scenario: name, Label: rateLabel(rate), Rate: rate, Duration: h.opts.Duration,
		Sim: nodesim.Config{Pods: h.opts.Pods, LineBytes: h.opts.LineBytes, JSONFraction: h.opts.JSON,
			LongFraction: h.opts.Long, RotateBytes: nodesim.DefaultRotateBytes, MaxFiles: nodesim.DefaultMaxFiles},
		DrainQuiet: 5 * time.Second, DrainMax: 30 * time.Second,
	}
}

func rateLabel(rate float64) string {
	switch {
	case rate >= 1000 && math.Mod(rate, 1000) == 0:
		return fmt.Sprintf("%.0fk/s", rate/1000)
	default:
		return fmt.Sprintf("%.0f/s", rate)
	}
}

// runJournal writes the pods' lines and a node's journal: all three
// Container Insights groups. Agents that do not read the simulator's
// journal files measure the pods' lines only.
func runJournal(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("journal", 5000)
	sp.Journal = 500
	return []Result{h.runOne(ctx, ad, sp)}
}

// Java stack traces: multiline's share of pods and lines per trace after
// the logger line.
const (
	traceFraction = 0.2
	traceLines    = 20
)

// runMultiline: a fifth of the pods log Java stack traces (a logger line
// with the marker, then 20 lines of exception, frames and causes), the
// others ordinary lines; the agents join lines with their java rule, on
// every container. The rate is in lines: 10,000 lines/s by default, or the
// --rates given on the command line.
func runMultiline(ctx context.Context, h *harness, ad Adapter) []Result {
	rates := []float64{10000}
	if h.opts.RatesSet {
		rates = h.opts.Rates
	}
	var out []Result
	for _, rate := range rates {
		sp := h.base("multiline", rate)
		sp.Label = fmt.Sprintf("%s lines/s, %.0f%% traces", strings.TrimSuffix(rateLabel(rate), "/s"), 100*traceFraction)
		sp.Sim.TraceFraction, sp.Sim.TraceLines = traceFraction, traceLines
		sp.Multiline = "java"
		out = append(out, h.runOne(ctx, ad, sp))
	}
	return out
}

func runSteady(ctx context.Context, h *harness, ad Adapter) []Result {
	var out []Result
	for _, rate := range h.opts.Rates {
		out = append(out, h.runOne(ctx, ad, h.base("steady", rate)))
	}
	return out
}

// runMax doubles the rate from --max-start until the agent falls behind
// or loses lines, then bisects; the result is the best passing trial.
func runMax(ctx context.Context, h *harness, ad Adapter) []Result {
	var pass, fail float64
	var best *Result
	var trials []Result
	rate := h.opts.MaxStart
	for range h.opts.MaxTrials {
		if ctx.Err() != nil {
			break
		}
		sp := h.base("max-trial", rate)
		sp.Duration = h.opts.MaxDuration
		sp.DrainMax = 15 * time.Second
		res := h.runOne(ctx, ad, sp)
		trials = append(trials, res)
		h.progress.println(summary(res))
		if res.KeptUp {
			pass, best = rate, &trials[len(trials)-1]
		} else {
			fail = rate
			if res.Error == "" && res.OfferedLPS < 0.95*rate && pass == 0 {
				break // the simulator itself cannot go this fast on this machine
			}
			// Short of a rate it could not offer, the search bisects
			// below it as after any other failed step.
		}
		switch {
		case fail == 0:
			rate *= 2
		case pass == 0:
			rate /= 2
		default:
			if fail/pass < 1.15 {
				return append(trials, maxResult(best))
			}
			rate = math.Round((pass+fail)/2/1000) * 1000
		}
	}
	if best == nil {
		return append(trials, Result{Agent: ad.Name, Scenario: "max", Error: "no trial kept up"})
	}
	return append(trials, maxResult(best))
}

func maxResult(best *Result) Result {
	r := *best
	r.Scenario, r.Label = "max", rateLabel(best.TargetRate)
	return r
}

func runBurst(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("burst", 5000)
	sp.Label = "5k/s, 50k/s bursts"
	sp.Duration = max(h.opts.Duration, 25*time.Second)
	setRate := func(v float64) func(*runner) error {
		return func(r *runner) error { r.sim.SetRate(v); return nil }
	}
	sp.Actions = []action{{5 * time.Second, setRate(50000)}, {8 * time.Second, setRate(5000)},
		{15 * time.Second, setRate(50000)}, {18 * time.Second, setRate(5000)}}
	return []Result{h.runOne(ctx, ad, sp)}
}

// idleSettle is how long the idle scenario lets the agent rest after
// start-up before it measures.
const idleSettle = 10 * time.Second

// runIdle: 1,000 files with one line each. Once the agent delivered them
// all it rests idleSettle, then its CPU is measured over --duration with
// nothing written; the RSS peak is the high-water mark since it started.
func runIdle(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("idle", 0)
	sp.Label = "1000 files"
	sp.Sim.Pods = 1000
	sp.Settle = idleSettle
	return []Result{h.runOne(ctx, ad, sp)}
}

// Pods of the enrich and pods1000 scenarios.
const (
	enrichPods = 100
	manyPods   = 1000
)

// kubeSetup names what the enrich scenario needs installed.
const kubeSetup = "kube-apiserver and etcd from " + kubetest.SetupScript

// scenarioRates is 1,000 lines/s, or the --rates given on the command line.
func (h *harness) scenarioRates() []float64 {
	if h.opts.RatesSet {
		return h.opts.Rates
	}
	return []float64{1000}
}

// enrichSpecs are the enrich scenario's runs: 100 pods writing each rate
// in all, enrichment on against a live API server holding those pods.
func enrichSpecs(h *harness) []spec {
	var out []spec
	for _, rate := range h.scenarioRates() {
		sp := h.base("enrich", rate)
		sp.Label = fmt.Sprintf("%s, %d pods", rateLabel(rate), enrichPods)
		sp.Sim.Pods = enrichPods
		sp.Kube = kubeLive
		sp.DrainQuiet = 10 * time.Second
		out = append(out, sp)
	}
	return out
}

// runEnrich measures enrichment against a real kube-apiserver and etcd
// (enrich/kubetest), started for each run with the simulated pods in it;
// without those binaries it is skipped.
func runEnrich(ctx context.Context, h *harness, ad Adapter) []Result {
	if why := kubeMissing(); why != "" {
		return []Result{{Agent: ad.Name, Scenario: "enrich", Skipped: why}}
	}
	var out []Result
	for _, sp := range enrichSpecs(h) {
		out = append(out, h.runOne(ctx, ad, sp))
	}
	return out
}

// pods1000Specs are the pods1000 scenario's runs: 1,000 pods writing each
// rate in all (1 line/s each at 1,000 lines/s), enrichment off.
func pods1000Specs(h *harness) []spec {
	var out []spec
	for _, rate := range h.scenarioRates() {
		sp := h.base("pods1000", rate)
		sp.Label = fmt.Sprintf("%s, %d pods", rateLabel(rate), manyPods)
		sp.Sim.Pods = manyPods
		out = append(out, sp)
	}
	return out
}

func runPods1000(ctx context.Context, h *harness, ad Adapter) []Result {
	var out []Result
	for _, sp := range pods1000Specs(h) {
		out = append(out, h.runOne(ctx, ad, sp))
	}
	return out
}

func runOutage(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("outage", 5000)
	sp.Label = "20 s of 500s"
	sp.Duration = 40 * time.Second
	sp.Sim.RotateBytes = 256 << 10
	sp.DrainQuiet, sp.DrainMax = 15*time.Second, 120*time.Second
	sp.Actions = []action{faultsAt(5*time.Second, cwlocal.Faults{Outage: true}), faultsAt(25*time.Second, cwlocal.Faults{})}
	return []Result{h.runOne(ctx, ad, sp)}
}

func runThrottle(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("throttle", 10000)
	sp.Label = "quotas + 30%"
	sp.Throttle = true
	// From the start of writing, not during start-up: an agent's first puts
	// (the readiness lines) go through, as they would before a load spike.
	sp.Actions = []action{{0, func(r *runner) error {
		r.srv.SetFaults(cwlocal.Faults{Throttle: true, ThrottleRate: 0.3, Operations: []string{"PutLogEvents"}})
		return nil
	}}}
	sp.DrainQuiet, sp.DrainMax = 10*time.Second, 60*time.Second
	return []Result{h.runOne(ctx, ad, sp)}
}

func runSigterm(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("sigterm", 10000)
	sp.Actions = []action{{sp.Duration / 2, func(r *runner) error { return r.restart(syscall.SIGTERM) }}}
	sp.DrainQuiet = 10 * time.Second
	return []Result{h.runOne(ctx, ad, sp)}
}

// runPartialFailure: scattered errors (a busy region) are noise, not an
// outage: the agent should keep up, retrying promptly.
func runPartialFailure(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("partial-failure", 10000)
	sp.Label = "30% throttle + 20% 503"
	sp.Duration = 30 * time.Second
	sp.Actions = []action{{0, func(r *runner) error {
		r.srv.SetFaults(cwlocal.Faults{ThrottleRate: 0.3, ErrorRate: 0.2, Operations: []string{"PutLogEvents"}})
		return nil
	}}}
	sp.DrainQuiet, sp.DrainMax = 10*time.Second, 120*time.Second
	return []Result{h.runOne(ctx, ad, sp)}
}

// runSigtermOutage: SIGTERM in the middle of an outage that ends inside
// the shutdown window (25 s by default for skiff): the drain should finish
// once the endpoint is back, and the restart send nothing twice.
func runSigtermOutage(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("sigterm-outage", 5000)
	sp.Label = "20 s outage, SIGTERM at 30 s"
	sp.Duration = 60 * time.Second
	sp.Actions = []action{
		{20 * time.Second, func(r *runner) error {
			r.srv.SetFaults(cwlocal.Faults{OutageUntil: time.Now().Add(20 * time.Second)})
			return nil
		}},
		{30 * time.Second, func(r *runner) error { return r.restart(syscall.SIGTERM) }},
	}
	sp.DrainQuiet, sp.DrainMax = 10*time.Second, 120*time.Second
	return []Result{h.runOne(ctx, ad, sp)}
}

func runKill9(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("kill9", 10000)
	kill := func(r *runner) error { return r.restart(syscall.SIGKILL) }
	sp.Actions = []action{{sp.Duration / 3, kill}, {2 * sp.Duration / 3, kill}}
	sp.DrainQuiet = 10 * time.Second
	return []Result{h.runOne(ctx, ad, sp)}
}

// faultsAt sets the endpoint's faults.
func faultsAt(at time.Duration, f cwlocal.Faults) action {
	return action{at, func(r *runner) error { r.srv.SetFaults(f); return nil }}
}

// runKill9Outage: crashes in the middle of an outage while the kubelet
// rotates and deletes files whose lines are not delivered yet; restarting
// half a second after each kill.
func runKill9Outage(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("kill9-outage", 5000)
	sp.Label = "40 s outage, 2 kills"
	sp.Duration = 60 * time.Second
	sp.Sim.RotateBytes = 256 << 10
	kill := func(r *runner) error { r.stop(syscall.SIGKILL); return nil }
	sp.Actions = []action{
		faultsAt(10*time.Second, cwlocal.Faults{Outage: true}),
		{25 * time.Second, kill},
		{25*time.Second + 500*time.Millisecond, (*runner).start},
		{35 * time.Second, kill},
		{35*time.Second + 500*time.Millisecond, (*runner).start},
		faultsAt(50*time.Second, cwlocal.Faults{}),
	}
	sp.DrainQuiet, sp.DrainMax = 15*time.Second, 180*time.Second
	return []Result{h.runOne(ctx, ad, sp)}
}

// runSigtermLongOutage: SIGTERM in an outage that outlasts the shutdown
// window; the agent stays down for a while as the kubelet rotates and
// deletes, and the next start must find everything.
func runSigtermLongOutage(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("sigterm-long-outage", 5000)
	sp.Label = "60 s outage, down 30-64 s"
	sp.Duration = 90 * time.Second
	sp.Sim.RotateBytes = 256 << 10
	sp.Actions = []action{
		faultsAt(10*time.Second, cwlocal.Faults{Outage: true}),
		{30 * time.Second, func(r *runner) error { r.stop(syscall.SIGTERM); return nil }},
		{64 * time.Second, (*runner).start},
		faultsAt(70*time.Second, cwlocal.Faults{}),
	}
	sp.DrainQuiet, sp.DrainMax = 15*time.Second, 180*time.Second
	return []Result{h.runOne(ctx, ad, sp)}
}

func runAPIDown(ctx context.Context, h *harness, ad Adapter) []Result {
	sp := h.base("api-down", 1000)
	sp.Kube = kubeDead
	sp.DrainQuiet = 10 * time.Second
	return []Result{h.runOne(ctx, ad, sp)}
}
