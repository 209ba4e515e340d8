package nodesim

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"
)

// Defaults for Config fields left zero.
const (
	DefaultNamespace   = "bench"
	DefaultLineBytes   = 256
	DefaultLongBytes   = 40 << 10
	DefaultChunkBytes  = 16 << 10
	DefaultRotateBytes = 10 << 20
	DefaultMaxFiles    = 5
	DefaultTick        = 10 * time.Millisecond
	DefaultTraceLines  = 20
)

// Config describes a simulated node. The zero value (with Root set) is one
// pod with one container writing nothing.
type Config struct {
	// Root is the directory standing for /var/log; pods/ and containers/
	// are created in it. Required.
	Root string
	// Pods is the number of pods; default 1.
	Pods int
	// Containers is the number of containers per pod; default 1.
	Containers int
	// Namespace of every pod; default "bench".
	Namespace string
	// UIDs gives pods (by PodName) the UIDs their directories carry, for
	// pods that exist elsewhere too (an API server gave them their UIDs);
	// a pod not in it gets a UID derived from Seed. Default nil.
	UIDs map[string]string
	// Rate is the total lines per second over all streams, counting the
	// lines the applications print: a long line split into partial chunks
	// is one line, a stack trace is its 1+TraceLines lines. When zero,
	// PerPodRate applies; when both are zero nothing is written after the
	// preload (idle files).
	Rate float64
	// PerPodRate is lines per second per pod (shared by its containers),
	// used when Rate is zero.
	PerPodRate float64
	// Lines stops each stream after this many messages (a stack trace is
	// one); Run returns nil when every stream is done. 0 = run until the
	// context ends.
	Lines int64
	// Preload messages are written to every stream before Run starts the
	// clock (they carry the time New ran). Default 0.
	Preload int
	// LineBytes is the size of an ordinary message (without the CRI prefix
	// and newline); default 256. A message is never shorter than its marker.
	LineBytes int
	// JSONFraction of the lines are JSON objects of LineBytes; default 0.
	JSONFraction float64
	// LongFraction of the lines are LongBytes long and written as partial
	// CRI lines of ChunkBytes; default 0.
	LongFraction float64
	// LongBytes is the size of a long message; default 40 KiB.
	LongBytes int
	// ChunkBytes is the largest chunk of a partial line; default 16 KiB (containerd).
	ChunkBytes int
	// TraceFraction of the pods (rounded to whole pods, spread evenly)
	// write nothing but Java stack traces: a logger line holding the
	// marker, then TraceLines lines of exception, frames and causes, in
	// one write. JSONFraction and LongFraction apply to the other pods.
	// Default 0.
	TraceFraction float64
	// TraceLines is the number of lines of a trace after its logger line;
	// default 20.
	TraceLines int
	// RotateBytes rotates 0.log once it holds at least this many bytes;
	// default 10 MiB; negative disables rotation.
	RotateBytes int64
	// MaxFiles is how many files of a container are kept, 0.log included;
	// default 5; at least 2.
	MaxFiles int
	// CopyTruncate rotates as logrotate's copytruncate does: 0.log is
	// copied to 0.log.<time> and truncated in place, the writer keeps its
	// descriptor. Default: rename, as the kubelet does.
	CopyTruncate bool
	// Tick is how often writers wake up and write what the rate allows;
	// default 10ms.
	Tick time.Duration
	// Workers is the number of writer goroutines sharing the streams;
	// default min(2, streams).
	Workers int
	// Seed makes pod UIDs, container IDs and the line mix reproducible;
	// default 1.
	Seed uint64
	// Logger receives rotation errors and the like; nil discards.
	Logger *slog.Logger
}

// Errors returned by Validate.
var (
	ErrNoRoot    = errors.New("nodesim: root directory required")
	ErrBadConfig = errors.New("nodesim: invalid config")
)

// Validate reports the first invalid field, after defaults are applied.
func (c Config) Validate() error {
	c = c.withDefaults()
	switch {
	case c.Root == "":
		return ErrNoRoot
	case c.Pods < 1 || c.Containers < 1:
		return fmt.Errorf("%w: pods %d, containers %d: both must be at least 1", ErrBadConfig, c.Pods, c.Containers)
	case c.Rate < 0 || c.PerPodRate < 0:
		return fmt.Errorf("%w: negative rate", ErrBadConfig)
	case c.LineBytes < 1 || c.LongBytes < 1 || c.ChunkBytes < 1:
		return fmt.Errorf("%w: line, long and chunk sizes must be positive", ErrBadConfig)
	case c.JSONFraction < 0 || c.LongFraction < 0 || c.JSONFraction+c.LongFraction > 1:
		return fmt.Errorf("%w: fractions must be in [0,1] and sum to at most 1", ErrBadConfig)
	case c.TraceFraction < 0 || c.TraceFraction > 1 || c.TraceLines < 1:
		return fmt.Errorf("%w: trace fraction must be in [0,1] and trace lines at least 1", ErrBadConfig)
	case c.MaxFiles < 2:
		return fmt.Errorf("%w: max files %d: must be at least 2", ErrBadConfig, c.MaxFiles)
	case c.Tick <= 0:
		return fmt.Errorf("%w: tick must be positive", ErrBadConfig)
	case c.Preload < 0 || c.Lines < 0:
		return fmt.Errorf("%w: negative line count", ErrBadConfig)
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Pods == 0 {
		c.Pods = 1
	}
	if c.Containers == 0 {
		c.Containers = 1
	}
	if c.Namespace == "" {
		c.Namespace = DefaultNamespace
	}
	if c.LineBytes == 0 {
		c.LineBytes = DefaultLineBytes
	}
	if c.LongBytes == 0 {
		c.LongBytes = DefaultLongBytes
	}
	if c.ChunkBytes == 0 {
		c.ChunkBytes = DefaultChunkBytes
	}
	if c.TraceLines == 0 {
		c.TraceLines = DefaultTraceLines
	}
	if c.RotateBytes == 0 {
		c.RotateBytes = DefaultRotateBytes
	}
	if c.MaxFiles == 0 {
		c.MaxFiles = DefaultMaxFiles
	}
	if c.Tick == 0 {
		c.Tick = DefaultTick
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if n := c.Pods * c.Containers; c.Workers > n && n > 0 {
		c.Workers = n
	}
	return c
}

// totalRate is the configured rate over all streams.
func (c Config) totalRate() float64 {
	if c.Rate > 0 {
		return c.Rate
	}
	return c.PerPodRate * float64(c.Pods)
}

// tracePods is the number of pods writing traces.
func (c Config) tracePods() int { return int(math.Round(c.TraceFraction * float64(c.Pods))) }

// tracePod reports whether pod p (of c.Pods) writes traces: tracePods()
// of them, spread evenly (with 50 pods and 0.2: pods 4, 9, ..., 49).
func (c Config) tracePod(p int) bool {
	k := c.tracePods()
	return (p+1)*k/c.Pods > p*k/c.Pods
}
