package tailer

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"github.com/fsnotify/fsnotify"
)

// newWatcher returns the platform's watcher: inotify, asked for exactly the
// events the tailer uses.
func newWatcher() (watcher, error) {
	w, err := newInotify()
	if err != nil {
		return nil, err
	}
	return w, nil
}

// dirMask is what a watched directory reports: entries created, moved in
// or out, deleted, their attributes changed, and the directory itself
// deleted or moved. Not IN_MODIFY: a directory watch with it reports
// every write to every file in it, one wakeup of the agent per line a
// container writes (fsnotify's directory watches always ask for it, which
// cost 40% of the agent's CPU at 10,000 lines/s).
const dirMask = syscall.IN_CREATE | syscall.IN_MOVED_TO | syscall.IN_MOVED_FROM |
	syscall.IN_DELETE | syscall.IN_DELETE_SELF | syscall.IN_MOVE_SELF | syscall.IN_ATTRIB

// writeMask is a file's one-shot watch: its next write or truncation.
const writeMask = syscall.IN_MODIFY | syscall.IN_ONESHOT

// inotify is a watcher on one inotify instance. Its reader goroutine turns
// directory events into fsnotify events and calls a file watch's wakeup.
type inotify struct {
	file   *os.File // the instance, non-blocking: reads wait in the netpoller
	events chan fsnotify.Event
	errors chan error
	done   chan struct{}
	closed sync.Once

	mu    sync.Mutex
	dirs  map[int32]string // directory watches
	files map[int32]func() // armed file watches and their wakeups
}

func newInotify() (*inotify, error) {
	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC | syscall.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify_init1: %w", err)
	}
	w := &inotify{
		file:   os.NewFile(uintptr(fd), "inotify"),
		events: make(chan fsnotify.Event, eventBuffer),
		errors: make(chan error),
		done:   make(chan struct{}),
		dirs:   make(map[int32]string),
		files:  make(map[int32]func()),
	}
	go w.read()
	return w, nil
}

func (w *inotify) Events() <-chan fsnotify.Event { return w.events }
func (w *inotify) Errors() <-chan error          { return w.errors }
func (w *inotify) armsWrites() bool              { return true }

// Add watches dir; adding it again changes nothing.
func (w *inotify) Add(dir string) error {
	// Under mu, so that no event of the new watch is read before the
	// watch is known.
	w.mu.Lock()
	defer w.mu.Unlock()
	var wd int
	err := w.control(func(fd int) (err error) {
		wd, err = syscall.InotifyAddWatch(fd, dir, dirMask)
		return err
	})
	if err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	w.dirs[int32(wd)] = dir
	return nil
}

// watchWrite watches the open file itself, through its descriptor's
// /proc/self/fd link: a rotated or deleted file is still the one watched.
func (w *inotify) watchWrite(file *os.File, wake func()) (int32, error) {
	rc, err := file.SyscallConn()
	if err != nil {
		return 0, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var wd int
	var werr error
	err = rc.Control(func(ffd uintptr) {
		werr = w.control(func(fd int) (err error) {
			wd, err = syscall.InotifyAddWatch(fd, "/proc/self/fd/"+strconv.Itoa(int(ffd)), writeMask)
			return err
		})
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return 0, fmt.Errorf("watch %s: %w", file.Name(), err)
	}
	w.files[int32(wd)] = wake
	return int32(wd), nil
}

func (w *inotify) unwatchWrite(wd int32) {
	w.mu.Lock()
	_, armed := w.files[wd]
	delete(w.files, wd)
	w.mu.Unlock()
	if armed {
		// Fails harmlessly when the watch fired meanwhile.
		_ = w.control(func(fd int) error {
			_, err := syscall.InotifyRmWatch(fd, uint32(wd))
			return err
		})
	}
}

// control runs op on the instance's descriptor, kept open meanwhile.
func (w *inotify) control(op func(fd int) error) error {
	rc, err := w.file.SyscallConn()
	if err != nil {
		return err
	}
	var operr error
	if err := rc.Control(func(fd uintptr) { operr = op(int(fd)) }); err != nil {
		return err
	}
	return operr
}

func (w *inotify) Close() error {
	err := os.ErrClosed
	w.closed.Do(func() {
		close(w.done)
		err = w.file.Close()
	})
	return err
}

// read turns the instance's events into the tailer's until it is closed.
func (w *inotify) read() {
	defer close(w.events)
	buf := make([]byte, 16<<10)
	for {
		n, err := w.file.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) || !w.sendError(err) {
				return
			}
			continue
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			raw := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			end := off + syscall.SizeofInotifyEvent + int(raw.Len)
			if end > n {
				break // never: the kernel returns whole events
			}
			name := buf[off+syscall.SizeofInotifyEvent : end]
			for len(name) > 0 && name[len(name)-1] == 0 {
				name = name[:len(name)-1]
			}
			if !w.handle(raw.Wd, raw.Mask, name) {
				return
			}
			off = end
		}
	}
}

// handle delivers one event; it reports false once the watcher is closed.
func (w *inotify) handle(wd int32, mask uint32, name []byte) bool {
	if mask&syscall.IN_Q_OVERFLOW != 0 {
		return w.sendError(fsnotify.ErrEventOverflow)
	}
	w.mu.Lock()
	wake, isFile := w.files[wd]
	dir, isDir := w.dirs[wd]
	if mask&syscall.IN_IGNORED != 0 {
		// The watch is gone: fired (one-shot), removed, or its inode
		// deleted.
		delete(w.files, wd)
		delete(w.dirs, wd)
	} else if isFile && mask&syscall.IN_MODIFY != 0 {
		delete(w.files, wd)
	}
	w.mu.Unlock()
	switch {
	case isFile:
		if mask&syscall.IN_MODIFY != 0 {
			wake()
		}
		return true
	case !isDir || mask&syscall.IN_IGNORED != 0:
		return true
	}
	ev := fsnotify.Event{Name: dir}
	if len(name) > 0 {
		ev.Name = dir + "/" + string(name)
	}
	if mask&(syscall.IN_CREATE|syscall.IN_MOVED_TO) != 0 {
		ev.Op |= fsnotify.Create
	}
	if mask&(syscall.IN_DELETE|syscall.IN_DELETE_SELF) != 0 {
		ev.Op |= fsnotify.Remove
	}
	if mask&(syscall.IN_MOVED_FROM|syscall.IN_MOVE_SELF) != 0 {
		ev.Op |= fsnotify.Rename
	}
	if mask&syscall.IN_ATTRIB != 0 {
		ev.Op |= fsnotify.Chmod
	}
	if ev.Op == 0 {
		return true
	}
	select {
	case w.events <- ev:
		return true
	case <-w.done:
		return false
	}
}

func (w *inotify) sendError(err error) bool {
	select {
	case w.errors <- err:
		return true
	case <-w.done:
		return false
	}
}
