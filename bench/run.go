package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/skiff-agent/skiff/bench/nodesim"
	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

// spec is one measured run of one agent.
type spec struct {
	Scenario string
	Label    string
	Rate     float64       // target lines/s while writing
	Duration time.Duration // writing window
	Sim      nodesim.Config
	Throttle bool // cwlocal's real quotas
	Faults   cwlocal.Faults
	// Kube switches Kubernetes enrichment on, against a dead API server
	// or a live one holding the simulated pods.
	Kube kubeMode
	// Settle is how long the agent rests after start-up (every file's
	// first line delivered) before the clock starts (idle).
	Settle time.Duration
	// Journal is systemd journal entries per second, written beside the
	// pods' lines for agents that ship the journal (Adapter.Journal).
	Journal float64
	// Multiline is the multi-line rule the agents are asked to join the
	// containers' lines with (EnvMultiline); "" for none.
	Multiline string
	// Actions run at offsets into the writing window.
	Actions []action
	// DrainQuiet ends the drain when nothing arrived for this long;
	// DrainMax bounds it.
	DrainQuiet, DrainMax time.Duration
}

// action is something a scenario does while the writers run.
type action struct {
	At time.Duration
	Do func(r *runner) error
}

// runner holds one run's moving parts.
type runner struct {
	h       *harness
	spec    spec
	ad      Adapter
	dir     string
	sim     *nodesim.Sim
	counter *nodesim.Counter
	// jsim and jcounter are the journal and what arrived of it in the
	// dataplane and host groups (each entry at its first destination).
	jsim     *nodesim.Journal
	jcounter *nodesim.Counter
	srv      *cwlocal.Server
	// kube is the live API server (Kube == kubeLive), and enriched the
	// events that arrived with its metadata (holding enrichedMark).
	kube     *liveKube
	enriched atomic.Int64
	// recordRate is the target in messages per second, which is less than
	// spec.Rate (lines per second) when the pods write stack traces.
	recordRate float64
	env        []string
	argv       []string
	t0         time.Time // writers started

	mu       sync.Mutex
	proc     *agentProc
	cpuDone  time.Duration // CPU of agent processes that exited
	peak     int64
	anonPeak int64 // the largest RssAnon sampled
	samples  []Sample
	writeEnd *Sample // the moment the writers stopped
	final    *Sample // after the agent exited
	extra    map[string]float64
	notes    []string
}

// runOne measures one agent in one spec.
func (h *harness) runOne(ctx context.Context, ad Adapter, sp spec) Result {
	res := Result{Agent: ad.Name, Scenario: sp.Scenario, Label: sp.Label, TargetRate: sp.Rate, Duration: sp.Duration.Seconds()}
	if ad.Binary == "" {
		res.Skipped = ad.Missing
		return res
	}
	dir, err := os.MkdirTemp(h.tmp, ad.Name+"-"+sp.Scenario+"-")
	if err != nil {
		res.Error = err.Error()
		return res
	}
	r := &runner{h: h, spec: sp, ad: ad, dir: dir, extra: map[string]float64{}}
	err = r.run(ctx)
	if errors.Is(err, errUnsupported) {
		os.RemoveAll(dir)
		res.Skipped = err.Error()
		return res
	}
	res = r.result(res)
	if err != nil {
		res.Error = err.Error()
		if tail := tailFile(filepath.Join(dir, "work", "agent.log"), 1500); tail != "" {
			res.Notes = append(res.Notes, "agent log tail: "+tail)
		}
	}
	if !h.keep && err == nil {
		os.RemoveAll(dir)
	}
	return res
}

func (r *runner) run(ctx context.Context) error {
	sp := r.spec
	cfg := sp.Sim
	cfg.Root = filepath.Join(r.dir, "node")
	cfg.Rate = sp.Rate
	if cfg.Preload == 0 {
		cfg.Preload = 1 // the readiness probe: every file's first line delivered
	}
	if sp.Kube == kubeLive {
		// On a node, pods exist in the API before they write, and their
		// files carry the UIDs the API server gave them.
		k, err := startKube(ctx, filepath.Join(r.dir, "kube"), cfg)
		if err != nil {
			return err
		}
		defer k.stop()
		r.kube = k
		cfg.UIDs = k.uids
	}
	sim, err := nodesim.New(cfg)
	if err != nil {
		return err
	}
	r.sim = sim
	if r.kube != nil {
		if err := r.kube.setStatus(ctx, sim); err != nil {
			return err
		}
	}
	r.recordRate = sim.RecordRate()
	r.counter = nodesim.NewCounter(sim)
	if sp.Journal > 0 && r.ad.Journal {
		r.jsim, err = nodesim.NewJournal(nodesim.JournalConfig{Dir: filepath.Join(r.dir, "journal"), Rate: sp.Journal, Hostname: "bench-node"})
		if err != nil {
			return err
		}
		r.jcounter = nodesim.NewCounter(r.jsim)
	} else if sp.Journal > 0 {
		r.addNote("the journal is not measured for this agent: the simulator's journal files have no hash tables, which libsystemd needs")
	}
	tls := r.h.tls || r.ad.NeedsTLS
	srv, err := cwlocal.NewServer(cwlocal.Options{
		TLS:      tls,
		CAOut:    filepath.Join(r.dir, "ca.pem"),
		Throttle: sp.Throttle,
		Faults:   sp.Faults,
		Discard:  true,
		OnPut: func(group, stream string, events []cwlocal.Event) {
			now := time.Now()
			c := r.counter
			if r.jcounter != nil && (strings.HasSuffix(group, "/dataplane") || strings.HasSuffix(group, "/host")) {
				if strings.HasSuffix(stream, ".host.messages") {
					return // the second destination of kubelet, containerd and kernel entries
				}
				c = r.jcounter
			}
			for _, e := range events {
				c.Observe(now, e.Message)
				if r.kube != nil && strings.Contains(e.Message, enrichedMark) {
					r.enriched.Add(1)
				}
			}
		},
	})
	if err != nil {
		return fmt.Errorf("start cwlocal: %w", err)
	}
	r.srv = srv
	defer srv.Close()
	if err := r.prepareEnv(tls); err != nil {
		return err
	}
	if err := r.startAgent(); err != nil {
		return err
	}
	defer r.stopAgent(syscall.SIGKILL) // only if something below failed

	if err := r.waitReady(ctx, int64(sim.Streams()*cfg.Preload), r.h.readyTimeout); err != nil {
		return err
	}
	r.counter.ResetLatency() // the preload lines waited for the agent to start
	if sp.Settle > 0 {
		if err := r.settle(ctx); err != nil {
			return err
		}
	}
	sampleCtx, stopSampling := context.WithCancel(ctx)
	samplerDone := make(chan struct{})
	r.t0 = time.Now()
	go func() { defer close(samplerDone); r.sample(sampleCtx) }()
	defer func() { stopSampling(); <-samplerDone }()

	writeCtx, cancel := context.WithTimeout(ctx, sp.Duration)
	defer cancel()
	simErr := make(chan error, 1)
	go func() { simErr <- sim.Run(writeCtx) }()
	if r.jsim != nil {
		go func() { _ = r.jsim.Run(writeCtx) }()
	}
	actErr := make(chan error, 1)
	go func() { actErr <- r.act(writeCtx) }()
	if err := <-simErr; err != nil {
		return fmt.Errorf("simulator: %w", err)
	}
	if err := <-actErr; err != nil {
		return err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	end := r.snapshot()
	r.mu.Lock()
	r.writeEnd = &end
	r.mu.Unlock()
	r.note("write_end_s", end.T)
	written := sim.Stats().Lines
	delivered, _ := r.counter.Delivered()
	r.note("backlog_at_end", float64(written-delivered))
	drained := r.drain(ctx)
	r.note("drain_s", drained.Seconds())
	took, err := r.stopAgent(syscall.SIGTERM)
	r.note("final_shutdown_s", took.Seconds())
	fin := r.snapshot()
	r.mu.Lock()
	r.final = &fin
	r.mu.Unlock()
	if err != nil {
		r.addNote("final SIGTERM: " + err.Error())
	}
	return nil
}

func (r *runner) prepareEnv(tls bool) error {
	u, err := url.Parse(r.srv.URL())
	if err != nil {
		return fmt.Errorf("cwlocal url %s: %w", r.srv.URL(), err)
	}
	state, work := filepath.Join(r.dir, "state"), filepath.Join(r.dir, "work")
	for _, d := range []string{state, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return err
	}
	env := map[string]string{
		EnvLogRoot: r.sim.Root(), EnvLogGlob: r.sim.Glob(),
		EnvEndpoint: r.srv.URL(), EnvEndpointHost: u.Hostname(), EnvEndpointPort: u.Port(),
		EnvTLS: "off", EnvCAFile: "", EnvStateDir: state, EnvWorkDir: work,
		EnvRegion: region, EnvLogGroup: "/bench/" + r.ad.Name, EnvCluster: "bench", EnvNodeName: nodeName,
		EnvHTTPAddr: httpAddr,
	}
	if tls {
		env[EnvTLS], env[EnvCAFile] = "on", r.srv.CAFile()
	}
	if r.jsim != nil {
		env[EnvJournalDir] = r.jsim.Dir()
	}
	if r.spec.Multiline != "" {
		env[EnvMultiline] = r.spec.Multiline
	}
	switch {
	case r.spec.Kube == kubeDead:
		if err := deadKube(env, work); err != nil {
			return err
		}
	case r.kube != nil:
		r.kube.setEnv(env)
	}
	argv, extra, err := r.ad.Command(env)
	if err != nil {
		return fmt.Errorf("%s adapter: %w", r.ad.Name, err)
	}
	r.argv = argv
	r.env = agentEnv(env, extra)
	return nil
}

const region = "us-east-1"

// agentEnv is the agent's environment: PATH and HOME from ours, no AWS_*
// settings of the person running the harness, fake credentials.
func agentEnv(contract map[string]string, extra []string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "PATH" || k == "HOME" || k == "TMPDIR" || k == "LANG" {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID=AKIDBENCHEXAMPLE", "AWS_SECRET_ACCESS_KEY=bench/secret/EXAMPLEKEY",
		"AWS_REGION="+region, "AWS_DEFAULT_REGION="+region, "AWS_EC2_METADATA_DISABLED=true")
	for k, v := range contract {
		env = append(env, k+"="+v)
	}
	return append(env, extra...)
}

// deadKube points the enrichment variables at a loopback port where
// nothing listens. The CA file is the endpoint's ("" without TLS): any
// PEM will do, for agents that load one at start.
func deadKube(env map[string]string, work string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	api := "https://" + addr
	token, err := writeFile(work, "token", "bench-token\n")
	if err != nil {
		return err
	}
	kc, err := writeFile(work, "kubeconfig", fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: dead
  cluster: {server: %q, insecure-skip-tls-verify: true}
users:
- name: bench
  user: {tokenFile: %q}
contexts:
- name: dead
  context: {cluster: dead, user: bench}
current-context: dead
`, api, token))
	if err != nil {
		return err
	}
	env[EnvKubeAPI], env[EnvKubeconfig], env[EnvKubeToken], env[EnvKubeCAFile] = api, kc, token, env[EnvCAFile]
	return nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (r *runner) startAgent() error {
	p, err := startAgent(r.argv, r.env, filepath.Join(r.dir, "work", "agent.log"))
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.proc = p
	r.mu.Unlock()
	return nil
}

// stopAgent stops the current process and books its CPU and peak memory.
func (r *runner) stopAgent(sig syscall.Signal) (time.Duration, error) {
	r.mu.Lock()
	p := r.proc
	r.mu.Unlock()
	if p == nil {
		return 0, nil
	}
	if u, err := readTree(p.pid()); err == nil { // the last VmHWM
		r.mu.Lock()
		r.peak = max(r.peak, u.Peak)
		r.anonPeak = max(r.anonPeak, u.Anon)
		r.mu.Unlock()
	}
	took, err := p.stop(sig, 40*time.Second)
	cpu := p.cpu()
	r.mu.Lock()
	if r.proc == p {
		r.proc = nil
		r.cpuDone += cpu
	}
	r.mu.Unlock()
	return took, err
}

// reap books an agent process that exited on its own (a crash, or an
// agent that gave up) and notes it.
func (r *runner) reap() {
	r.mu.Lock()
	p := r.proc
	r.mu.Unlock()
	if p == nil || !p.exited() {
		return
	}
	cpu := p.cpu()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != p {
		return
	}
	r.proc = nil
	r.cpuDone += cpu
	if !p.stopping.Load() {
		r.notes = append(r.notes, fmt.Sprintf("the agent exited by itself at %.1fs: %v", time.Since(r.t0).Seconds(), p.err))
	}
}

// restart stops the agent with sig and starts it again with the same
// state; it records how long the stop took.
func (r *runner) restart(sig syscall.Signal) error {
	r.stop(sig)
	return r.start()
}

// stop stops the agent with sig, noting how long it took and how it ended.
func (r *runner) stop(sig syscall.Signal) {
	took, err := r.stopAgent(sig)
	name := "sigkill"
	if sig == syscall.SIGTERM {
		name = "sigterm"
	}
	r.note(name+"_stop_s", max(r.extraValue(name+"_stop_s"), took.Seconds()))
	if err != nil {
		r.addNote(fmt.Sprintf("%v at %.1fs: %v", sig, time.Since(r.t0).Seconds(), err))
	}
}

// start starts the agent again after a stop, with the same state.
func (r *runner) start() error {
	r.note("restarts", r.extraValue("restarts")+1)
	return r.startAgent()
}

func (r *runner) waitReady(ctx context.Context, want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		got, _ := r.counter.Delivered()
		if got >= want {
			return nil
		}
		r.mu.Lock()
		p := r.proc
		r.mu.Unlock()
		if p == nil {
			return fmt.Errorf("%s exited before it was ready", r.ad.Name)
		}
		if p.exited() {
			return fmt.Errorf("%s exited before it was ready: %v", r.ad.Name, p.err)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %d of %d preload lines delivered", r.ad.Name, timeout, got, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// settle waits spec.Settle once the agent delivered every file's first
// line, so that the window measures it at rest; it notes the agent's CPU
// until then (start-up) and its cores while settling.
func (r *runner) settle(ctx context.Context) error {
	ready := r.snapshot()
	r.h.progress.update(fmt.Sprintf("%-10s %-9s %-10s settling for %v after start-up", r.ad.Name, r.spec.Scenario, r.spec.Label, r.spec.Settle))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(r.spec.Settle):
	}
	r.mu.Lock()
	p := r.proc
	r.mu.Unlock()
	if p == nil || p.exited() {
		return fmt.Errorf("%s exited while settling after start-up", r.ad.Name)
	}
	settled := r.snapshot()
	r.note("startup_cpu_s", ready.CPU)
	r.note("settle_s", r.spec.Settle.Seconds())
	r.note("settle_cores", (settled.CPU-ready.CPU)/r.spec.Settle.Seconds())
	return nil
}

// act runs the scenario's actions at their offsets.
func (r *runner) act(ctx context.Context) error {
	for i, a := range r.spec.Actions {
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Until(r.t0.Add(a.At))):
		}
		r.note(fmt.Sprintf("event_%d_s", i), time.Since(r.t0).Seconds())
		if err := a.Do(r); err != nil {
			return err
		}
	}
	return nil
}

// drain waits until every written line arrived, nothing arrived for
// DrainQuiet, or DrainMax passed.
func (r *runner) drain(ctx context.Context) time.Duration {
	t0 := time.Now()
	quiet, maxWait := r.spec.DrainQuiet, r.spec.DrainMax
	last, lastChange := int64(-1), time.Now()
	for {
		written := r.sim.Stats().Lines
		got, _ := r.counter.Delivered()
		if r.jsim != nil {
			jgot, _ := r.jcounter.Delivered()
			written, got = written+r.jsim.Written(), got+jgot
		}
		if got >= written {
			return time.Since(t0)
		}
		if got != last {
			last, lastChange = got, time.Now()
		}
		if time.Since(lastChange) >= quiet || time.Since(t0) >= maxWait {
			return time.Since(t0)
		}
		select {
		case <-ctx.Done():
			return time.Since(t0)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (r *runner) note(key string, v float64) {
	r.mu.Lock()
	r.extra[key] = v
	r.mu.Unlock()
}

func (r *runner) extraValue(key string) float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.extra[key]
}

func (r *runner) addNote(s string) {
	r.mu.Lock()
	r.notes = append(r.notes, s)
	r.mu.Unlock()
}

func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(b))
}
