//go:build race

package multiline

// raceEnabled: the race detector makes sync.Pool drop items, so regexp
// matching allocates under it.
const raceEnabled = true
