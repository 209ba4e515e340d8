package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/skiff-agent/skiff/bench/nodesim"
	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
	"github.com/skiff-agent/skiff/tailer"
)

// Demo credentials: cwlocal checks SigV4 signatures made with them, so the
// demo exercises the same signing path as a real account.
const (
	demoAccessKey = "AKIDSKIFFDEMO"
	demoSecretKey = "skiff-demo-secret"
	demoRegion    = "us-east-1"
	demoCluster   = "demo"
	demoNode      = "demo-node"
)

// demoOptions are the flags of `skiff demo`.
type demoOptions struct {
	duration   time.Duration
	pods       int
	rate       float64
	rotate     int64
	keep       bool
	httpListen string
	journal    float64 // journal entries per second; 0: none
}

// demoCommand is `skiff demo`: a simulated node (pods writing CRI logs with
// kubelet-like rotation) in a temporary directory, the real agent pipeline
// reading it, and cwlocal standing in for CloudWatch Logs, all in this
// process. Ctrl-C (or --duration) stops the writers, then the agent
// exactly as SIGTERM would; the report counts every line read back from
// cwlocal.
func demoCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("skiff demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setHelp(fs, demoHelp)
	var o demoOptions
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long, exactly as Ctrl-C would (0: run until Ctrl-C)")
	fs.IntVar(&o.pods, "pods", 6, "simulated pods")
	fs.Float64Var(&o.rate, "rate", 3000, "lines per second written, over all pods")
	fs.Int64Var(&o.rotate, "rotate-bytes", 256<<10, "rotate a container's log at this size (the kubelet's is 10 MiB)")
	fs.BoolVar(&o.keep, "keep", false, "keep the local CloudWatch running after the report, to read the logs back")
	fs.StringVar(&o.httpListen, "http-listen", "127.0.0.1:0", "the agent's /metrics port (\"off\" disables)")
	fs.Float64Var(&o.journal, "journal-rate", 100, "systemd journal entries per second (kubelet, containerd, kernel, sshd), shipped to /dataplane and /host; 0: no journal")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if o.pods < 1 || o.rate <= 0 || o.rotate < 4096 || o.journal < 0 {
		fmt.Fprintln(stderr, "skiff demo: --pods must be at least 1, --rate positive, --rotate-bytes at least 4096")
		return exitUsage
	}
	if err := runDemo(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "skiff demo: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// errLost is returned when the report finds lines that were not delivered.
var errLost = errors.New("lines were lost")

func runDemo(ctx context.Context, o demoOptions, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "skiff-demo-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	logPath := filepath.Join(dir, "skiff.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("create %s: %w", logPath, err)
	}
	defer logFile.Close()
	log := newLogger(logFile, "info", "json")

	sim, err := nodesim.New(nodesim.Config{
		Root:        filepath.Join(dir, "log"),
		Pods:        o.pods,
		Namespace:   "shop",
		Rate:        o.rate,
		LineBytes:   200,
		RotateBytes: o.rotate,
		MaxFiles:    5,
		Seed:        uint64(time.Now().UnixNano()),
	})
	if err != nil {
		return fmt.Errorf("node simulator: %w", err)
	}
	var jsim *nodesim.Journal
	if o.journal > 0 {
		jsim, err = nodesim.NewJournal(nodesim.JournalConfig{
			Dir: filepath.Join(dir, "journal"), Rate: o.journal, RotateBytes: 1 << 20, Hostname: demoNode,
		})
		if err != nil {
			return fmt.Errorf("journal simulator: %w", err)
		}
	}
	live := newDemoLive(sim)
	cw, err := cwlocal.NewServer(cwlocal.Options{
		AccessKey: demoAccessKey, SecretKey: demoSecretKey, Region: demoRegion,
		OnPut:  live.onPut,
		Logger: log.With("component", "cwlocal"),
	})
	if err != nil {
		return fmt.Errorf("cwlocal: %w", err)
	}
	defer cw.Close()

	// The agent's own configuration: the defaults, pointed at the
	// simulated node and at cwlocal, with static demo credentials.
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": demoAccessKey, "AWS_SECRET_ACCESS_KEY": demoSecretKey,
		"AWS_SESSION_TOKEN": "", "AWS_PROFILE": "", "AWS_REGION": demoRegion,
	} {
		os.Setenv(k, v)
	}
	cfg := config.Default(func(string) string { return "" })
	cfg.Cluster = demoCluster
	cfg.NodeName = demoNode
	cfg.HTTP.Listen = o.httpListen
	cfg.Tail.Include = []string{sim.Glob()}
	cfg.Tail.StateDir = filepath.Join(dir, "state")
	cfg.Tail.RescanInterval = config.Duration(5 * time.Second)
	cfg.CloudWatch.Region = demoRegion
	cfg.CloudWatch.Endpoint = cw.URL()
	if jsim != nil {
		// Container Insights' journal inputs, on as in a cluster, without
		// the EC2 metadata a laptop has not.
		for _, name := range []string{"dataplane", "host-dmesg", "host-messages", "host-secure"} {
			in := cfg.Inputs[name]
			in.Enabled, in.EC2Metadata = true, false
			cfg.Inputs[name] = in
		}
		cfg.Journal.Dirs, cfg.Journal.ReadFrom = []string{jsim.Dir()}, "beginning"
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		return fmt.Errorf("demo config: %v", errs[0])
	}
	if err := os.MkdirAll(cfg.Tail.StateDir, 0o700); err != nil {
		return err
	}
	reg := newRegistry(readBuildInfo())
	force := make(chan struct{})
	agentCtx, stopAgent := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAgent()
	a, err := newAgent(agentCtx, cfg, deps{log: log, reg: reg, stdout: io.Discard, force: force})
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}

	// Ctrl-C and --duration end the demo the same way: the writers stop,
	// then the agent gets its stop signal. A second Ctrl-C cuts the flush.
	stop := ctx
	if o.duration > 0 {
		var cancel context.CancelFunc
		stop, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	view := newDemoView(stdout, live, reg, demoHeader{
		dir: dir, glob: sim.Glob(), pods: o.pods, rate: o.rate, rotate: o.rotate,
		endpoint: cw.URL(), group: groupName(), logPath: logPath, metrics: metricsURL(a),
	})
	var stopping atomic.Bool
	g, gctx := errgroup.WithContext(context.WithoutCancel(ctx))
	simCtx, stopSim := context.WithCancel(gctx)
	g.Go(func() error {
		err := sim.Run(simCtx)
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return err
	})
	if jsim != nil {
		g.Go(func() error { return jsim.Run(simCtx) })
	}
	var agentErr error
	agentDone := make(chan struct{})
	go func() {
		defer close(agentDone)
		agentErr = a.pipe.run(agentCtx)
	}()
	viewCtx, stopView := context.WithCancel(context.Background())
	var viewWG sync.WaitGroup
	viewWG.Go(func() { view.run(viewCtx, &stopping) })

	select {
	case <-stop.Done():
	case <-agentDone: // the agent failed on its own
	}
	stopping.Store(true)
	stopSim()
	simErr := g.Wait()
	stopAgent() // the agent's SIGTERM
	// A Ctrl-C that arrives now cuts the flush short; the one that ended
	// the run (when a signal ended it) is in sigs too, and does not count.
	needed := 1
	if ctx.Err() != nil {
		needed = 2
	}
	go func() {
		for n := 0; ; {
			select {
			case <-sigs:
				if n++; n == needed {
					close(force)
					return
				}
			case <-agentDone:
				return
			}
		}
	}()
	<-agentDone
	stopView()
	viewWG.Wait()

	rep := readBack(cw, sim)
	if jsim != nil {
		rep.journal = readBackJournal(cw, jsim)
	}
	rep.cut = errors.Is(agentErr, errIncomplete)
	fmt.Fprint(stdout, rep.format(cw.URL(), o.keep))
	if err := errors.Join(simErr, agentErr); err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(stdout, "\nThe local CloudWatch keeps running; Ctrl-C to end.")
		<-sigs
	}
	if rep.tally.Lost > 0 {
		return fmt.Errorf("%w: %d of %d", errLost, rep.tally.Lost, rep.tally.Written)
	}
	if rep.journal != nil && rep.journal.tally.Lost > 0 {
		return fmt.Errorf("%w: %d of %d journal entries", errLost, rep.journal.tally.Lost, rep.journal.tally.Written)
	}
	return nil
}

func groupName() string { return "/aws/containerinsights/" + demoCluster + "/application" }

// streamName is the default log stream template applied to a simulated
// pod's file on node: <node>-application.<its path with dots>.
func streamName(node string, s nodesim.StreamInfo) string { return streamNameOf(node, s.Link) }

// streamNameOf is the stream the lines of the file behind link go to.
func streamNameOf(node, link string) string { return node + "-application." + tailer.Tag(link) }

func metricsURL(a *agent) string {
	if a.srv == nil {
		return ""
	}
	return "http://" + a.srv.Addr() + "/metrics"
}

// demoLive counts what cwlocal accepts, as it accepts it, for the view.
type demoLive struct {
	sim     *nodesim.Sim
	counter *nodesim.Counter
	puts    atomic.Int64
	mu      sync.Mutex
	shipped []int64 // per stream, first receptions and repeats alike
}

func newDemoLive(sim *nodesim.Sim) *demoLive {
	return &demoLive{sim: sim, counter: nodesim.NewCounter(sim), shipped: make([]int64, sim.Streams())}
}

func (l *demoLive) onPut(group, stream string, events []cwlocal.Event) {
	l.puts.Add(1)
	now := time.Now()
	for _, e := range events {
		l.counter.Observe(now, e.Message)
		if m, ok := nodesim.FindMarker(e.Message); ok && m.Stream >= 0 && m.Stream < len(l.shipped) {
			l.mu.Lock()
			l.shipped[m.Stream]++
			l.mu.Unlock()
		}
	}
}

func (l *demoLive) perStream() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int64(nil), l.shipped...)
}

// demoReport is the account made by reading every event back from cwlocal.
type demoReport struct {
	tally   nodesim.Tally
	streams []string
	events  int
	// cut is set when the flush was cut short (a second Ctrl-C): what was
	// not delivered is not lost, the agent reads it again at its next start.
	cut bool
	// journal is the account of the journal's entries, when there is one.
	journal *journalReport
}

// journalReport counts the journal's entries where the default inputs ship
// them: each kind at its first destination (kubelet and containerd entries
// are also in /host's messages stream, as on a Container Insights node).
type journalReport struct {
	tally  nodesim.Tally
	events map[string]int // by group
}

// journalDestination is where the default inputs ship a kind of entry
// first: group suffix and stream.
func journalDestination(kind string) (group, stream string) {
	switch kind {
	case "kernel":
		return "host", demoNode + ".host.dmesg"
	case "sshd":
		return "host", demoNode + ".host.secure"
	}
	return "dataplane", demoNode + "-dataplane.systemd." + kind + ".service"
}

func readBackJournal(cw *cwlocal.Server, j *nodesim.Journal) *journalReport {
	c := nodesim.NewCounter(j)
	r := &journalReport{events: map[string]int{}}
	for _, k := range nodesim.JournalKinds {
		group, stream := journalDestination(k.Name)
		for _, e := range cw.Events("/aws/containerinsights/"+demoCluster+"/"+group, stream) {
			c.Observe(time.UnixMilli(e.IngestionTime), e.Message)
			r.events[group]++
		}
	}
	r.tally = c.Tally()
	return r
}

func readBack(cw *cwlocal.Server, sim *nodesim.Sim) demoReport {
	c := nodesim.NewCounter(sim)
	r := demoReport{}
	for i := range sim.Streams() {
		// One destination per container instance: a restarted or
		// recreated container writes under a new link.
		for _, link := range sim.Links(i) {
			name := streamNameOf(demoNode, link)
			r.streams = append(r.streams, name)
			for _, e := range cw.Events(groupName(), name) {
				c.Observe(time.UnixMilli(e.IngestionTime), e.Message)
				r.events++
			}
		}
	}
	r.tally = c.Tally()
	return r
}
