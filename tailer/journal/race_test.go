//go:build race

package journal

// raceEnabled: the race detector makes sync.Pool drop items, so the zstd
// decoder's pooled buffers are allocated again under it.
const raceEnabled = true
