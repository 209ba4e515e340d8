package nodesim

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
)

// Sim is a simulated node: its pods' log files and the writers filling them.
type Sim struct {
	cfg     Config
	log     *slog.Logger
	filler  []byte
	streams []*stream
	// traceBody and traceBytes are every trace's lines after the first,
	// and its message length without the marker.
	traceBody  []string
	traceBytes int
	rate       atomic.Uint64 // math.Float64bits of the total rate
	started    atomic.Bool

	lines     atomic.Int64
	bytes     atomic.Int64
	msgBytes  atomic.Int64
	rotations atomic.Int64
	removed   atomic.Int64
	traces    atomic.Int64
	restarts  atomic.Int64
	recreated atomic.Int64
	podGen    []atomic.Int64 // per pod: how many times it was deleted and created again
}

// Stats are the totals a Sim has written so far.
type Stats struct {
	// Lines is the number of complete messages written (a long line split
	// in partial chunks counts once, a stack trace counts once): what the
	// markers count.
	Lines int64
	// Traces is how many of Lines are stack traces (Config.TraceFraction).
	Traces int64
	// FrameLines is the number of lines of those traces after their first
	// (Traces × Config.TraceLines): they carry no marker. The lines the
	// applications printed are Lines + FrameLines.
	FrameLines int64
	// Bytes is what was written to the files, CRI prefixes and newlines included.
	Bytes int64
	// MessageBytes is the size of the messages alone.
	MessageBytes int64
	// Rotations is the number of times a 0.log was renamed.
	Rotations int64
	// Removed is the number of rotated files deleted.
	Removed int64
	// Restarts is the number of container restarts (Sim.Restart), and
	// Recreated the number of containers deleted with their pod and
	// created again (Sim.Recreate).
	Restarts, Recreated int64
}

// Source tells a Counter how many lines each stream wrote. *Sim implements it.
type Source interface {
	// Streams is the number of streams; markers name streams 0..Streams()-1.
	Streams() int
	// StreamLines is the number of lines stream i has written so far.
	StreamLines(i int) int64
}

// New validates cfg, creates the node layout under cfg.Root (directories,
// an empty 0.log per container, the symlinks) and writes the preload lines.
func New(cfg Config) (*Sim, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	root, err := filepath.Abs(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", cfg.Root, err)
	}
	cfg.Root = root
	s := &Sim{cfg: cfg, log: cfg.Logger, podGen: make([]atomic.Int64, cfg.Pods)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.rate.Store(math.Float64bits(cfg.totalRate()))
	s.filler = makeFiller(max(cfg.LineBytes, cfg.LongBytes))
	s.traceBody = traceBody(cfg.TraceLines)
	s.traceBytes = traceBytes(s.traceBody)
	for _, dir := range []string{s.PodsDir(), s.ContainersDir()} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	for p := range cfg.Pods {
		pod := PodName(p)
		uid := cfg.UIDs[pod]
		if uid == "" {
			uid = uuidFrom(cfg.Seed, cfg.Namespace, pod)
		}
		for c := range cfg.Containers {
			st, err := s.newStream(len(s.streams), p, uid, ContainerName(c))
			if err != nil {
				s.closeAll()
				return nil, err
			}
			if cfg.tracePod(p) {
				st.info.Traces, st.cost = true, int64(1+cfg.TraceLines)
			}
			s.streams = append(s.streams, st)
		}
	}
	if cfg.Preload > 0 {
		now := time.Now()
		for _, st := range s.streams {
			if err := s.writeLines(st, cfg.Preload, now); err != nil {
				s.closeAll()
				return nil, err
			}
		}
	}
	return s, nil
}

// PodName is the name of pod p of a Sim (from 0): sim-0000, sim-0001, ...
func PodName(p int) string { return fmt.Sprintf("sim-%04d", p) }

// ContainerName is the name of container c of a pod (from 0): app, then
// side1, side2, ...
func ContainerName(c int) string {
	if c == 0 {
		return "app"
	}
	return "side" + strconv.Itoa(c)
}

// Run writes lines at the configured rate until ctx ends (then it returns
// nil) or every stream wrote Config.Lines lines. It returns the first write
// or rotation error. Files are closed when Run returns. Run may be called once.
func (s *Sim) Run(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return fmt.Errorf("nodesim: Run called twice")
	}
	defer s.closeAll()
	g, ctx := errgroup.WithContext(ctx)
	w := s.cfg.Workers
	for i := range w {
		var mine []*stream
		for j := i; j < len(s.streams); j += w {
			mine = append(mine, s.streams[j])
		}
		g.Go(func() error { return s.work(ctx, mine) })
	}
	return g.Wait()
}

// work is one writer goroutine serving its share of the streams.
func (s *Sim) work(ctx context.Context, mine []*stream) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := time.Now()
		dt := now.Sub(last).Seconds()
		last = now
		per := s.Rate() / float64(len(s.streams))
		done := 0
		for _, st := range mine {
			if err := s.lifecycle(st); err != nil {
				return err
			}
			if s.cfg.Lines > 0 && st.seq.Load() >= s.cfg.Lines {
				done++
				continue
			}
			// A writer that was starved of CPU catches up on at most five
			// seconds of lines, so the offered rate stays the asked rate on
			// a busy machine without unbounded bursts after a long stall.
			// Tokens are lines; a message costs its lines (a trace 1+TraceLines).
			st.tokens = min(st.tokens+per*dt, max(5*per, float64(st.cost)))
			n := int64(st.tokens) / st.cost
			if s.cfg.Lines > 0 {
				n = min(n, s.cfg.Lines-st.seq.Load())
			}
			if n <= 0 {
				continue
			}
			st.tokens -= float64(n * st.cost)
			if err := s.writeLines(st, int(n), now); err != nil {
				return err
			}
		}
		if s.cfg.Lines > 0 && done == len(mine) {
			return nil
		}
	}
}

// SetRate changes the total rate (lines per second over all streams) while
// running; 0 pauses the writers.
func (s *Sim) SetRate(total float64) { s.rate.Store(math.Float64bits(max(total, 0))) }

// Rate is the current total rate in lines per second.
func (s *Sim) Rate() float64 { return math.Float64frombits(s.rate.Load()) }

// RecordRate is the current rate in messages per second, what the markers
// count: Rate, less the lines of stack traces after their first.
func (s *Sim) RecordRate() float64 {
	var sum float64
	for _, st := range s.streams {
		sum += 1 / float64(st.cost)
	}
	return s.Rate() / float64(len(s.streams)) * sum
}

// Stats returns the totals written so far.
func (s *Sim) Stats() Stats {
	return Stats{
		Lines:        s.lines.Load(),
		Traces:       s.traces.Load(),
		FrameLines:   s.traces.Load() * int64(s.cfg.TraceLines),
		Bytes:        s.bytes.Load(),
		MessageBytes: s.msgBytes.Load(),
		Rotations:    s.rotations.Load(),
		Removed:      s.removed.Load(),
		Restarts:     s.restarts.Load(),
		Recreated:    s.recreated.Load(),
	}
}

// Streams is the number of pod containers writing.
func (s *Sim) Streams() int { return len(s.streams) }

// StreamLines is the number of lines stream i has written so far.
func (s *Sim) StreamLines(i int) int64 {
	if i < 0 || i >= len(s.streams) {
		return 0
	}
	return s.streams[i].seq.Load()
}

// Root is the absolute node root (the stand-in for /var/log).
func (s *Sim) Root() string { return s.cfg.Root }

// PodsDir is <root>/pods.
func (s *Sim) PodsDir() string { return filepath.Join(s.cfg.Root, "pods") }

// ContainersDir is <root>/containers, the directory agents watch.
func (s *Sim) ContainersDir() string { return filepath.Join(s.cfg.Root, "containers") }

// Glob is the pattern matching every container symlink: <root>/containers/*.log.
func (s *Sim) Glob() string { return filepath.Join(s.ContainersDir(), "*.log") }

// StreamInfo describes one stream's identity and files.
type StreamInfo struct {
	Namespace, Pod, UID, Container, ContainerID string
	// Dir holds 0.log and its rotated files.
	Dir string
	// Link is the symlink in the containers directory.
	Link string
	// Traces: the stream writes Java stack traces (Config.TraceFraction).
	Traces bool
}

// Stream describes stream i: its current container (Restart and Recreate
// change it).
func (s *Sim) Stream(i int) StreamInfo {
	st := s.streams[i]
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.info
}

func (s *Sim) closeAll() {
	for _, st := range s.streams {
		st.close()
	}
}

func uuidFrom(seed uint64, parts ...string) string {
	h := sha256.New()
	fmt.Fprint(h, seed)
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	x := hex.EncodeToString(h.Sum(nil))
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-a" + x[17:20] + "-" + x[20:32]
}

func containerID(uid, name string) string {
	sum := sha256.Sum256([]byte(uid + "/" + name))
	return hex.EncodeToString(sum[:])
}

// makeFiller returns n bytes of text that never contains MarkerPrefix and
// needs no JSON escaping.
func makeFiller(n int) []byte {
	const text = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt "
	b := make([]byte, 0, n+len(text))
	for len(b) < n {
		b = append(b, text...)
	}
	return b[:n]
}
