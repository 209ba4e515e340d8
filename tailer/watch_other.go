//go:build !linux

package tailer

// newWatcher returns the platform's watcher: fsnotify's.
func newWatcher() (watcher, error) { return newFsWatcher() }
