package tailer

import (
	"slices"
	"strings"
	"time"
)

// FileStatus is one open file as the tailer saw it when Files was called.
type FileStatus struct {
	// Path is the path the file was discovered under, Target the file it
	// resolves to (the /var/log/pods file), or Path.
	Path, Target string
	// Input names the set of files the file belongs to.
	Input string
	// Namespace, Pod and Container come from the file's name; empty for a
	// file that names no pod.
	Namespace, Pod, Container string
	// Offset is the read offset: every byte before it has been read. It
	// goes back to 0 when the file is truncated.
	Offset int64
	// Size is the file's size at the follower's last look; Size - Offset
	// is its lag, as in skiff_input_lag_bytes.
	Size int64
	// Unacked is the bytes read and not yet acknowledged by the output.
	Unacked int64
	// Opened is when the tailer opened the file.
	Opened time.Time
	// Detached says the file's path no longer leads to it (rotated or
	// deleted); it is read to its end, then closed.
	Detached bool
}

// Lag returns the bytes written to the file and not read yet.
func (s FileStatus) Lag() int64 { return max(0, s.Size-s.Offset) }

// Files returns the status of every open file, sorted by Path then
// Target. It is safe to call at any time from any goroutine; it holds the
// tailer's discovery lock for a copy of each file's counters (no I/O), so
// it costs about as much as one scrape of skiff_input_lag_bytes.
func (t *Tailer) Files() []FileStatus {
	t.mu.Lock()
	out := make([]FileStatus, 0, len(t.byID))
	for _, f := range t.byID {
		out = append(out, FileStatus{
			Path:      f.meta.Path,
			Target:    f.meta.Target,
			Input:     f.meta.Input,
			Namespace: f.meta.Namespace,
			Pod:       f.meta.Pod,
			Container: f.meta.Container,
			Offset:    f.readOff.Load(),
			Size:      f.size.Load(),
			Unacked:   f.acks.Load().unacked(),
			Opened:    f.opened,
			Detached:  f.detached.Load(),
		})
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b FileStatus) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Target, b.Target)
	})
	return out
}
