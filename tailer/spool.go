package tailer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// The spool keeps, under StateDir, a copy of the bytes of a followed file
// that the output has not acknowledged yet, so that a restart can read them
// after the file itself is gone: the kubelet deletes rotated files on its own
// schedule, also while skiff is down or the output is failing.
//
// A spool entry is two files named after the original file's identity:
// <dev>-<ino>-<fingerprint>.data holds the original's bytes at their own
// offsets (its first fingerprint bytes, a hole, then [base, end)), so that a
// follower reads it exactly as it read the original and checkpoint offsets
// apply unchanged; <name>.json says what the data is. The data is fsynced
// before the description is written (atomically), so a description always
// describes durable data; a data file without one is an interrupted copy and
// is removed at the next start.
const (
	spoolDirName  = "spool"
	spoolMetaExt  = ".json"
	spoolDataExt  = ".data"
	spoolVersion  = 1
	spoolCopyBuf  = 256 << 10
	spoolDataMode = 0o600
)

// The spool's errors.
var (
	errSpoolFull = errors.New("spool full")
	errSpoolMeta = errors.New("bad spool description")
)

// spoolMeta is the on-disk description of one spool entry.
type spoolMeta struct {
	Version          int    `json:"version"`
	Dev              uint64 `json:"dev"`   // the original file's device
	Inode            uint64 `json:"inode"` // and inode
	FingerprintBytes int    `json:"fingerprint_bytes"`
	Fingerprint      string `json:"fingerprint"`
	Base             int64  `json:"base"` // first spooled offset
	End              int64  `json:"end"`  // end of the spooled bytes
	Path             string `json:"path"`
	Target           string `json:"target"`
	Input            string `json:"input,omitempty"`
	Tag              string `json:"tag,omitempty"`
	// Written is the file's modification time (Unix nanoseconds), to
	// order it among its path's rotated files at the next start.
	Written int64 `json:"written,omitempty"`
}

func (m spoolMeta) origID() fileID { return fileID{Dev: m.Dev, Ino: m.Inode} }

func (m spoolMeta) fingerprint() fingerprint {
	return ckptEntry{FingerprintBytes: m.FingerprintBytes, Fingerprint: m.Fingerprint}.fingerprint()
}

// spoolFile is one spool entry. Its fields are guarded by the spool's lock.
type spoolFile struct {
	name string // base name without extension
	meta spoolMeta
	// evicted is called, without the spool's lock, when the bound made the
	// spool give this entry up; nil for none.
	evicted func()
	removed bool
}

func (sf *spoolFile) held() int64 { return sf.meta.End - sf.meta.Base }

// spool is the set of spool entries and their byte bound.
type spool struct {
	dir string
	max int64
	m   *metrics

	mu    sync.Mutex
	used  int64
	files []*spoolFile // in creation order: the first is the oldest
	// done are the entries whose files were acknowledged and closed since
	// the last checkpoint: they go once a checkpoint says so (removeDone),
	// not before, or a crash in between would leave a checkpoint that
	// names bytes as unacknowledged with nothing left to read them from.
	done []*spoolFile
}

func newSpool(stateDir string, max int64, m *metrics) *spool {
	if stateDir == "" {
		return nil
	}
	return &spool{dir: filepath.Join(stateDir, spoolDirName), max: max, m: m}
}

// bytes returns the bytes the spool holds.
func (s *spool) bytes() int64 {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

func (s *spool) path(name, ext string) string { return filepath.Join(s.dir, name+ext) }

// save copies the bytes [from, to) of src, the file with identity id and
// fingerprint fp, into the spool, with src's first fp.N bytes. With sf
// non-nil it extends that entry instead (from is then its end). It makes room
// by giving up the oldest other entries (mayEvict) or fails with
// errSpoolFull. The returned entry is durable.
func (s *spool) save(sf *spoolFile, src io.ReaderAt, id fileID, fp fingerprint, meta *FileMeta, written, from, to int64, mayEvict bool, onEvict func()) (*spoolFile, error) {
	if s == nil {
		return nil, errSpoolFull
	}
	if sf != nil {
		from = sf.meta.End
	}
	if to <= from {
		return sf, nil
	}
	evicted, err := s.reserve(sf, to-from, mayEvict)
	for _, e := range evicted {
		if e.evicted != nil {
			e.evicted()
		}
	}
	if err != nil {
		return sf, err
	}
	next, err := s.write(sf, src, id, fp, meta, written, from, to, onEvict)
	if err != nil {
		s.mu.Lock()
		s.used -= to - from
		s.mu.Unlock()
		return sf, err
	}
	s.m.spooledBytes.Add(float64(to - from))
	return next, nil
}

// reserve accounts n more bytes, evicting the oldest entries other than
// keep when allowed. It returns the evicted entries.
func (s *spool) reserve(keep *spoolFile, n int64, mayEvict bool) ([]*spoolFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var evicted []*spoolFile
	if n > s.max {
		return nil, errSpoolFull
	}
	for s.used+n > s.max {
		if !mayEvict {
			return evicted, errSpoolFull
		}
		i := 0
		for i < len(s.files) && s.files[i] == keep {
			i++
		}
		if i == len(s.files) {
			return evicted, errSpoolFull
		}
		old := s.files[i]
		s.dropLocked(old)
		evicted = append(evicted, old)
	}
	s.used += n
	return evicted, nil
}

// write copies the bytes and writes the description.
func (s *spool) write(sf *spoolFile, src io.ReaderAt, id fileID, fp fingerprint, meta *FileMeta, written, from, to int64, onEvict func()) (*spoolFile, error) {
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create %s: %w", s.dir, err)
	}
	m := spoolMeta{
		Version: spoolVersion, Dev: id.Dev, Inode: id.Ino,
		FingerprintBytes: fp.N, Fingerprint: fmt.Sprintf("%016x", fp.Sum),
		Base: from, End: to, Path: meta.Path, Target: meta.Target, Input: meta.Input, Tag: meta.Tag,
		Written: written,
	}
	name := fmt.Sprintf("%d-%d-%016x", id.Dev, id.Ino, fp.Sum)
	if sf != nil {
		m.Base, name = sf.meta.Base, sf.name
	}
	data, err := os.OpenFile(s.path(name, spoolDataExt), os.O_WRONLY|os.O_CREATE, spoolDataMode)
	if err != nil {
		return nil, fmt.Errorf("create spool data: %w", err)
	}
	if sf == nil && fp.N > 0 {
		if err := copyRange(data, src, 0, int64(min(fp.N, int(from)))); err != nil {
			data.Close()
			return nil, err
		}
	}
	if err := copyRange(data, src, from, to); err != nil {
		data.Close()
		return nil, err
	}
	if err := data.Sync(); err != nil {
		data.Close()
		return nil, fmt.Errorf("sync spool data: %w", err)
	}
	if err := data.Close(); err != nil {
		return nil, fmt.Errorf("close spool data: %w", err)
	}
	desc, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(s.path(name, spoolMetaExt), append(desc, '\n')); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sf == nil {
		sf = &spoolFile{name: name}
		s.files = append(s.files, sf)
		s.m.spoolFiles.Inc()
	}
	sf.meta = m
	sf.evicted = onEvict
	return sf, nil
}

// copyRange copies src's bytes [from, to) to dst at the same offsets.
func copyRange(dst io.WriterAt, src io.ReaderAt, from, to int64) error {
	if to <= from {
		return nil
	}
	w := io.NewOffsetWriter(dst, from)
	n, err := io.CopyBuffer(w, io.NewSectionReader(src, from, to-from), make([]byte, min(spoolCopyBuf, to-from)))
	if err != nil {
		return fmt.Errorf("copy to the spool: %w", err)
	}
	if n < to-from {
		return fmt.Errorf("copy to the spool: %w", io.ErrUnexpectedEOF)
	}
	return nil
}

// remove deletes an entry whose bytes were all acknowledged or are read
// from their original again.
func (s *spool) remove(sf *spoolFile) {
	if s == nil || sf == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLocked(sf)
}

// acknowledged marks an entry whose file was acknowledged whole and closed:
// it is removed after the next checkpoint.
func (s *spool) acknowledged(sf *spoolFile) {
	if s == nil || sf == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = append(s.done, sf)
}

// takeDone returns the entries acknowledged so far, for the checkpoint
// about to be written: they are removed once it is (removeDone).
func (s *spool) takeDone() []*spoolFile {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	done := s.done
	s.done = nil
	return done
}

// removeDone removes the entries takeDone returned after the checkpoint
// was written, or keeps them for the next one if it was not.
func (s *spool) removeDone(done []*spoolFile, written bool) {
	if s == nil || len(done) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !written {
		s.done = append(s.done, done...)
		return
	}
	for _, sf := range done {
		s.dropLocked(sf)
	}
}

func (s *spool) dropLocked(sf *spoolFile) {
	if sf.removed {
		return
	}
	sf.removed = true
	s.used -= sf.held()
	for i, g := range s.files {
		if g == sf {
			s.files = append(s.files[:i], s.files[i+1:]...)
			break
		}
	}
	// The description goes first: without it the data is an interrupted
	// copy.
	_ = os.Remove(s.path(sf.name, spoolMetaExt))
	_ = os.Remove(s.path(sf.name, spoolDataExt))
	s.m.spoolFiles.Dec()
}

// open opens an entry's data for reading.
func (s *spool) open(sf *spoolFile) (*os.File, error) {
	return os.Open(s.path(sf.name, spoolDataExt))
}

// load reads the entries a previous run left, removing interrupted copies
// and descriptions without data.
func (s *spool) load() ([]*spoolFile, error) {
	if s == nil {
		return nil, nil
	}
	des, err := os.ReadDir(s.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.dir, err)
	}
	metas := make(map[string]bool)
	for _, de := range des {
		if name, ok := strings.CutSuffix(de.Name(), spoolMetaExt); ok {
			metas[name] = true
		}
	}
	var out []*spoolFile
	var errs []error
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), spoolDataExt)
		if !ok {
			if n, isMeta := strings.CutSuffix(de.Name(), spoolMetaExt); !isMeta || !dataExists(s, n) {
				_ = os.Remove(filepath.Join(s.dir, de.Name()))
			}
			continue
		}
		if !metas[name] {
			_ = os.Remove(filepath.Join(s.dir, de.Name())) // an interrupted copy
			continue
		}
		m, err := readSpoolMeta(s.path(name, spoolMetaExt))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, &spoolFile{name: name, meta: m})
	}
	s.mu.Lock()
	for _, sf := range out {
		s.files = append(s.files, sf)
		s.used += sf.held()
		s.m.spoolFiles.Inc()
	}
	s.mu.Unlock()
	return out, errors.Join(errs...)
}

func dataExists(s *spool, name string) bool {
	_, err := os.Stat(s.path(name, spoolDataExt))
	return err == nil
}

func readSpoolMeta(path string) (spoolMeta, error) {
	var m spoolMeta
	b, err := os.ReadFile(path)
	if err != nil {
		return m, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w %s: %w", errSpoolMeta, path, err)
	}
	if m.Version != spoolVersion || m.Base < 0 || m.End < m.Base || m.FingerprintBytes < 0 || m.FingerprintBytes > fingerprintBytes {
		return m, fmt.Errorf("%w %s: version %d, bytes [%d, %d)", errSpoolMeta, path, m.Version, m.Base, m.End)
	}
	return m, nil
}
