package nodesim

import (
	"math/bits"
	"sync"
	"time"
)

// Counter counts what a destination accepted against what a Source wrote.
// It is safe for concurrent use.
type Counter struct {
	src Source

	mu        sync.Mutex
	seen      [][]uint64 // per stream, a bit per sequence number
	messages  int64
	unique    int64
	bytes     int64
	dups      int64
	unmarked  int64
	foreign   int64
	latencies hist
}

// Tally is a Counter's account at one moment.
type Tally struct {
	// Written is the number of lines the source wrote.
	Written int64 `json:"written"`
	// Delivered is the number of distinct written lines received.
	Delivered int64 `json:"delivered"`
	// DeliveredBytes is the message bytes of those lines (from their markers).
	DeliveredBytes int64 `json:"delivered_bytes"`
	// Lost is Written minus the distinct written lines received.
	Lost int64 `json:"lost"`
	// Duplicates counts receptions of a line received before.
	Duplicates int64 `json:"duplicates"`
	// Messages is every message observed.
	Messages int64 `json:"messages"`
	// Unmarked counts messages without a marker (an agent's split pieces, or
	// foreign lines).
	Unmarked int64 `json:"unmarked"`
	// Foreign counts markers naming a stream the source does not have, or a
	// line it has not written (yet).
	Foreign int64 `json:"foreign"`
	// LatencyP50, LatencyP99 and LatencyMax are write-to-accept times of
	// first receptions.
	LatencyP50 time.Duration `json:"latency_p50_ns"`
	LatencyP99 time.Duration `json:"latency_p99_ns"`
	LatencyMax time.Duration `json:"latency_max_ns"`
}

// NewCounter returns a Counter comparing deliveries with src.
func NewCounter(src Source) *Counter {
	return &Counter{src: src, seen: make([][]uint64, src.Streams())}
}

// Observe records one message the destination accepted at time at.
func (c *Counter) Observe(at time.Time, msg string) {
	m, ok := FindMarker(msg)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.messages++
	switch {
	case !ok:
		c.unmarked++
		return
	case m.Stream < 0 || m.Stream >= len(c.seen) || m.Seq < 0:
		c.foreign++
		return
	}
	set := c.seen[m.Stream]
	word := int(m.Seq / 64)
	if word >= len(set) {
		grown := make([]uint64, max(word+1, 2*len(set)))
		copy(grown, set)
		set = grown
		c.seen[m.Stream] = set
	}
	mask := uint64(1) << (m.Seq % 64)
	if set[word]&mask != 0 {
		c.dups++
		return
	}
	set[word] |= mask
	c.unique++
	c.bytes += int64(m.Len)
	c.latencies.add(at.Sub(m.Written))
}

// ResetLatency forgets the latencies observed so far, for instance those
// of preload lines that waited for the agent to start.
func (c *Counter) ResetLatency() {
	c.mu.Lock()
	c.latencies = hist{}
	c.mu.Unlock()
}

// Delivered returns the distinct lines received so far and their message bytes.
func (c *Counter) Delivered() (lines, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unique, c.bytes
}

// Tally compares what was received with what the source has written now.
func (c *Counter) Tally() Tally {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := Tally{
		DeliveredBytes: c.bytes,
		Duplicates:     c.dups,
		Messages:       c.messages,
		Unmarked:       c.unmarked,
		Foreign:        c.foreign,
		LatencyP50:     c.latencies.quantile(0.50),
		LatencyP99:     c.latencies.quantile(0.99),
		LatencyMax:     time.Duration(c.latencies.max) * time.Microsecond,
	}
	for i, set := range c.seen {
		written := c.src.StreamLines(i)
		t.Written += written
		got := countBelow(set, written)
		t.Delivered += got
		t.Lost += written - got
		t.Foreign += popcount(set) - got
	}
	return t
}

func countBelow(set []uint64, n int64) int64 {
	var c int64
	full := int(n / 64)
	for i := 0; i < full && i < len(set); i++ {
		c += int64(bits.OnesCount64(set[i]))
	}
	if rem := n % 64; rem > 0 && full < len(set) {
		c += int64(bits.OnesCount64(set[full] & (uint64(1)<<rem - 1)))
	}
	return c
}

func popcount(set []uint64) int64 {
	var c int64
	for _, w := range set {
		c += int64(bits.OnesCount64(w))
	}
	return c
}
