package tailer

import (
	"os"

	"github.com/fsnotify/fsnotify"
)

// watcher reports changes to the directories it watches (entries created,
// renamed, removed, their modes changed) as fsnotify events. A watcher that
// armsWrites reports a file's writes only when asked, one write at a time
// (watchWrite): a file written line by line is then read at the end of its
// read gap, not woken by each line. Otherwise every write to a file in a
// watched directory is an event.
type watcher interface {
	Add(dir string) error
	Events() <-chan fsnotify.Event
	Errors() <-chan error
	Close() error
	// armsWrites reports whether writes come only from watchWrite.
	armsWrites() bool
	// watchWrite calls wake once at the file's next write (or truncation)
	// and returns the watch, for unwatchWrite; asking again before that
	// replaces the watch.
	watchWrite(file *os.File, wake func()) (int32, error)
	// unwatchWrite cancels a watch watchWrite returned, fired or not.
	unwatchWrite(wd int32)
}

// defaultWatcher makes the watcher of a new Tailer: the platform's. The
// tests run with fsnotify's everywhere when SKIFF_TEST_WATCHER=fsnotify.
var defaultWatcher = newWatcher

// fsWatcher is fsnotify's watcher: its directory watches report every
// write, so watchWrite has nothing to do.
type fsWatcher struct{ w *fsnotify.Watcher }

func newFsWatcher() (watcher, error) {
	w, err := fsnotify.NewBufferedWatcher(eventBuffer)
	if err != nil {
		return nil, err
	}
	return fsWatcher{w}, nil
}

func (w fsWatcher) Add(dir string) error                       { return w.w.Add(dir) }
func (w fsWatcher) Events() <-chan fsnotify.Event              { return w.w.Events }
func (w fsWatcher) Errors() <-chan error                       { return w.w.Errors }
func (w fsWatcher) Close() error                               { return w.w.Close() }
func (w fsWatcher) armsWrites() bool                           { return false }
func (w fsWatcher) unwatchWrite(int32)                         {}
func (w fsWatcher) watchWrite(*os.File, func()) (int32, error) { return 0, nil }
