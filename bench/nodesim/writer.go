package nodesim

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// flushBytes is the batch size above which a writer writes what it built.
const flushBytes = 256 << 10

// criTime is containerd's timestamp, with a fixed number of digits.
const criTime = "2006-01-02T15:04:05.000000000Z07:00"

// stream is one container's log: its current file and rotated files. Only
// the worker owning it touches it, except seq (read by counters), info and
// links (under mu), and the restart and recreate requests.
type stream struct {
	idx     int
	pod     int
	info    StreamInfo // under mu while Run runs (lifecycle.go changes it)
	mu      sync.Mutex
	links   []string // every link the stream had, oldest first; under mu
	f       *os.File
	size    int64
	rotated []string // oldest first
	stamp   string   // the time part of the last rotated name
	stampN  int      // and its -N suffix (0: none)
	tokens  float64
	cost    int64 // lines per message: 1, or 1+TraceLines for a trace stream
	rng     *rand.Rand
	buf     []byte
	mk      []byte
	seq     atomic.Int64 // lines written

	// The container's life (lifecycle.go): restarts is the current
	// instance (its file is <restarts>.log), prev the instance before,
	// kept as the kubelet keeps one dead container; restart and
	// recreate are requests the writer carries out at its next tick.
	restarts int
	prev     *instance
	restart  atomic.Bool
	recreate atomic.Bool
}

func (s *Sim) newStream(idx, pod int, uid, name string) (*stream, error) {
	st := &stream{idx: idx, pod: pod, cost: 1, rng: rand.New(rand.NewPCG(s.cfg.Seed, uint64(idx)))}
	if err := s.begin(st, uid, name); err != nil {
		return nil, err
	}
	return st, nil
}

// begin creates the files of st's current container instance: its
// directory, an empty <restarts>.log, and the link to it.
func (s *Sim) begin(st *stream, uid, name string) error {
	ns, pod := s.cfg.Namespace, PodName(st.pod)
	id := containerID(uid, name)
	if st.restarts > 0 {
		id = containerID(uid, name+"/"+strconv.Itoa(st.restarts))
	}
	info := StreamInfo{
		Namespace: ns, Pod: pod, UID: uid, Container: name, ContainerID: id,
		Dir:  filepath.Join(s.PodsDir(), ns+"_"+pod+"_"+uid, name),
		Link: filepath.Join(s.ContainersDir(), pod+"_"+ns+"_"+name+"-"+id+".log"),
	}
	info.Traces = st.info.Traces
	st.mu.Lock()
	st.info = info
	st.links = append(st.links, info.Link)
	st.mu.Unlock()
	if err := os.MkdirAll(info.Dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", info.Dir, err)
	}
	if err := st.open(); err != nil {
		return err
	}
	if err := os.Symlink(st.current(), info.Link); err != nil && !errors.Is(err, fs.ErrExist) {
		st.close()
		return fmt.Errorf("link %s: %w", info.Link, err)
	}
	return nil
}

func (st *stream) current() string {
	return filepath.Join(st.info.Dir, strconv.Itoa(st.restarts)+".log")
}

func (st *stream) open() error {
	f, err := os.OpenFile(st.current(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open %s: %w", st.current(), err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat %s: %w", st.current(), err)
	}
	st.f, st.size = f, fi.Size()
	return nil
}

func (st *stream) close() {
	if st.f != nil {
		st.f.Close()
		st.f = nil
	}
}

// writeLines writes n messages stamped now, in batches of about
// flushBytes, rotating between batches when the file is full: a message
// (a trace's lines, a long line's chunks) is never split between writes
// or files.
func (s *Sim) writeLines(st *stream, n int, now time.Time) error {
	if st.f == nil {
		return fmt.Errorf("write %s: %w", st.current(), fs.ErrClosed)
	}
	var ts [64]byte
	stamp := now.UTC().AppendFormat(ts[:0], criTime)
	pending, msgBytes := 0, 0
	for i := range n {
		var m int
		if st.info.Traces {
			st.buf, m = s.appendTrace(st, st.buf, st.seq.Load()+int64(pending), now, stamp)
		} else {
			st.buf, m = s.appendLine(st, st.buf, st.seq.Load()+int64(pending), now, stamp)
		}
		pending++
		msgBytes += m
		full := s.cfg.RotateBytes > 0 && st.size+int64(len(st.buf)) >= s.cfg.RotateBytes
		if full || len(st.buf) >= flushBytes || i == n-1 {
			if err := s.flush(st, pending, msgBytes); err != nil {
				return err
			}
			pending, msgBytes = 0, 0
		}
	}
	return nil
}

func (s *Sim) flush(st *stream, lines, msgBytes int) error {
	w, err := st.f.Write(st.buf)
	st.size += int64(w)
	s.bytes.Add(int64(w))
	st.buf = st.buf[:0]
	if err != nil {
		return fmt.Errorf("write %s: %w", st.current(), err)
	}
	st.seq.Add(int64(lines))
	s.lines.Add(int64(lines))
	if st.info.Traces {
		s.traces.Add(int64(lines))
	}
	s.msgBytes.Add(int64(msgBytes))
	if s.cfg.RotateBytes > 0 && st.size >= s.cfg.RotateBytes {
		return s.rotate(st)
	}
	return nil
}

// rotate does what the kubelet does: rename N.log to N.log.<time>, have
// the runtime reopen 0.log, delete the oldest rotated files beyond MaxFiles.
func (s *Sim) rotate(st *stream) error {
	if !s.cfg.CopyTruncate {
		st.close()
	}
	// Names within one second take increasing suffixes, never one freed by
	// a deletion, so that they sort in rotation order.
	stamp := time.Now().UTC().Format("20060102-150405")
	n := 0
	if stamp == st.stamp {
		n = st.stampN + 1
	}
	base := filepath.Base(st.current()) + "." + stamp
	name := base
	for ; ; n++ {
		if n > 0 {
			name = base + "-" + strconv.Itoa(n)
		}
		if _, err := os.Lstat(filepath.Join(st.info.Dir, name)); errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	st.stamp, st.stampN = stamp, n
	to := filepath.Join(st.info.Dir, name)
	if s.cfg.CopyTruncate {
		if err := copyTruncate(st.current(), to, st.f); err != nil {
			return err
		}
		st.size = 0
	} else if err := os.Rename(st.current(), to); err != nil {
		return fmt.Errorf("rotate %s: %w", st.current(), err)
	}
	s.rotations.Add(1)
	st.rotated = append(st.rotated, to)
	for len(st.rotated) > s.cfg.MaxFiles-1 {
		if err := os.Remove(st.rotated[0]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("remove rotated file", "path", st.rotated[0], "err", err)
		} else {
			s.removed.Add(1)
		}
		st.rotated = st.rotated[1:]
	}
	if s.cfg.CopyTruncate {
		return nil
	}
	return st.open()
}

// copyTruncate copies the file at from to to, then truncates it through w,
// the writer's descriptor (opened with O_APPEND, so it writes at the new end).
func copyTruncate(from, to string, w *os.File) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("copytruncate %s: %w", from, err)
	}
	if err := os.WriteFile(to, data, 0o640); err != nil {
		return fmt.Errorf("copytruncate %s: %w", from, err)
	}
	if err := w.Truncate(0); err != nil {
		return fmt.Errorf("copytruncate %s: %w", from, err)
	}
	return nil
}

// appendLine appends the CRI line(s) of message seq of st and returns the
// message length.
func (s *Sim) appendLine(st *stream, b []byte, seq int64, now time.Time, stamp []byte) ([]byte, int) {
	kind := st.rng.Float64()
	long := kind < s.cfg.LongFraction
	json := !long && kind < s.cfg.LongFraction+s.cfg.JSONFraction
	size := s.cfg.LineBytes
	if long {
		size = s.cfg.LongBytes
	}
	const jsonHead, jsonMid, jsonTail = `{"marker":"`, `","level":"info","msg":"`, `"}`
	overhead := 0
	if json {
		overhead = len(jsonHead) + len(jsonMid) + len(jsonTail)
	}
	m := Marker{Stream: st.idx, Seq: seq, Written: now, Len: size}
	st.mk = AppendMarker(st.mk[:0], m)
	for range 2 { // the marker holds the length, which may have to grow to fit it
		if len(st.mk)+overhead > m.Len {
			m.Len = len(st.mk) + overhead
			st.mk = AppendMarker(st.mk[:0], m)
		}
	}
	pad := s.filler[:m.Len-len(st.mk)-overhead]
	if !long {
		b = append(b, stamp...)
		b = append(b, " stdout F "...)
		if json {
			b = append(b, jsonHead...)
			b = append(b, st.mk...)
			b = append(b, jsonMid...)
			b = append(b, pad...)
			b = append(b, jsonTail...)
		} else {
			b = append(b, st.mk...)
			b = append(b, pad...)
		}
		return append(b, '\n'), m.Len
	}
	// A long message: marker then filler, cut into chunks, P...P F.
	msg := len(st.mk) + len(pad)
	for off := 0; off < msg; off += s.cfg.ChunkBytes {
		end := min(off+s.cfg.ChunkBytes, msg)
		b = append(b, stamp...)
		if end < msg {
			b = append(b, " stdout P "...)
		} else {
			b = append(b, " stdout F "...)
		}
		from := off // bytes off..end of marker+pad, without building the message
		if from < len(st.mk) {
			b = append(b, st.mk[from:min(end, len(st.mk))]...)
			from = min(end, len(st.mk))
		}
		if from < end {
			b = append(b, pad[from-len(st.mk):end-len(st.mk)]...)
		}
		b = append(b, '\n')
	}
	return b, m.Len
}
