package nodesim

import (
	"math/bits"
	"time"
)

// hist is a log-linear histogram of durations in microseconds: exact below
// 64 µs, then 32 buckets per power of two (about 3% relative error).
type hist struct {
	counts [2048]int64
	n      int64
	max    int64
}

func histIndex(v int64) int {
	if v < 64 {
		return int(max(v, 0))
	}
	shift := bits.Len64(uint64(v)) - 6 // v>>shift is in [32, 63]
	return 64 + (shift-1)*32 + int(v>>shift) - 32
}

// histValue is the middle of bucket i.
func histValue(i int) int64 {
	if i < 64 {
		return int64(i)
	}
	shift := (i-64)/32 + 1
	lo := int64((i-64)%32+32) << shift
	return lo + (int64(1)<<shift)/2
}

func (h *hist) add(d time.Duration) {
	us := d.Microseconds()
	h.counts[histIndex(us)]++
	h.n++
	h.max = max(h.max, us)
}

// quantile returns the q-quantile (0 < q <= 1), never above the maximum.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := int64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(histValue(i), h.max)) * time.Microsecond
		}
	}
	return time.Duration(h.max) * time.Microsecond
}
