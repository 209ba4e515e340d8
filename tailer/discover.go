package tailer

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// parseMeta tells what a log file's paths say about it. path is where it
// was found, target the resolved file. Kubernetes facts come from a target
// of the form /var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log (or a
// rotated <n>.log.<timestamp>); the container ID from a /var/log/containers
// name <pod>_<ns>_<container>-<id>.log when it was not truncated.
func parseMeta(path, target string) *FileMeta {
	m := &FileMeta{Path: path, Target: target, Restart: -1}
	base := filepath.Base(target)
	dir := filepath.Dir(target)
	container := filepath.Base(dir)
	pod := filepath.Base(filepath.Dir(dir))
	parts := strings.Split(pod, "_")
	if i := strings.Index(base, ".log"); i > 0 && len(parts) == 3 && parts[0] != "" && parts[1] != "" && parts[2] != "" {
		if n, err := strconv.Atoi(base[:i]); err == nil && n >= 0 {
			m.Namespace, m.Pod, m.PodUID, m.Container, m.Restart = parts[0], parts[1], parts[2], container, n
		}
	}
	// The link name ends in -<64 hex>.log unless it was cut at 255 bytes.
	if name := filepath.Base(path); strings.HasSuffix(name, ".log") {
		name = strings.TrimSuffix(name, ".log")
		if i := strings.LastIndexByte(name, '-'); i >= 0 && isHex64(name[i+1:]) {
			m.ContainerID = name[i+1:]
			if m.Container != "" && !strings.HasSuffix(name[:i], "_"+m.Container) {
				m.ContainerID = "" // the link belongs to another container
			}
		}
	}
	return m
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// mtimeSlack covers the coarse clock of file modification times when they
// are compared with the tailer's clock; erring this way re-reads a rotated
// file rather than missing one.
const mtimeSlack = 2 * time.Second

// found is a file discovery saw.
type found struct {
	path, target string
	id           fileID
	size         int64
	input        int    // index in Tailer.inputs
	tag          string // the tag, when not the path's own
}

// glob returns the files the inputs' include patterns match, minus the
// ones they exclude, each resolved to its target. Paths are unique; a path
// belongs to the first input that takes it.
func (t *Tailer) glob() (out map[string]found, dangling []string) {
	out = make(map[string]found)
	for i, in := range t.inputs {
		t.globInput(i, in, out, &dangling)
	}
	return out, dangling
}

func (t *Tailer) globInput(i int, in Input, out map[string]found, dangling *[]string) {
	for _, pattern := range in.Include {
		matches, _ := filepath.Glob(pattern) // the pattern was validated
		for _, p := range matches {
			if _, dup := out[p]; dup {
				continue
			}
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				// Dangling: the target was rotated or removed, or is not
				// created yet. Watch where it will appear.
				if dest, err := os.Readlink(p); err == nil {
					if !filepath.IsAbs(dest) {
						dest = filepath.Join(filepath.Dir(p), dest)
					}
					*dangling = append(*dangling, filepath.Dir(dest))
				}
				continue
			}
			if excluded(in.Exclude, p) || excluded(in.Exclude, target) {
				continue
			}
			fi, err := os.Stat(target)
			if err != nil || !fi.Mode().IsRegular() {
				continue
			}
			out[p] = found{path: p, target: target, id: idOf(fi), size: fi.Size(), input: i}
		}
	}
}

// inputOf returns the input a file found without discovery belongs to: a
// rotated sibling of target, or a spooled file. It is the input of the file
// now at target when there is one, else the first input whose patterns take
// path or target, else the first input.
func (t *Tailer) inputOf(path, target string) int {
	if f := t.byTarget[target]; f != nil {
		return f.meta.input
	}
	for i, in := range t.inputs {
		for _, p := range []string{path, target} {
			for _, pattern := range in.Include {
				if ok, _ := filepath.Match(pattern, p); ok && !excluded(in.Exclude, p) {
					return i
				}
			}
		}
	}
	return 0
}

// inputNamed returns the index of the input named name, as a checkpoint
// or the spool remembers it, else inputOf(path, target).
func (t *Tailer) inputNamed(name, path, target string) int {
	if name != "" {
		for i, in := range t.inputs {
			if in.Name == name {
				return i
			}
		}
	}
	return t.inputOf(path, target)
}

// withEntry gives nf the input and tag a checkpoint entry remembers.
func (nf *found) withEntry(t *Tailer, input, tag string) {
	if input != "" {
		nf.input = t.inputNamed(input, nf.path, nf.target)
	}
	if tag != "" {
		nf.tag = tag
	}
}

// newMeta returns the FileMeta of a file of input in; tag "" is the
// path's own.
func (t *Tailer) newMeta(path, target, tag string, in int) *FileMeta {
	m := parseMeta(path, target)
	m.input, m.Input = in, t.inputs[in].Name
	m.Tag = cmp.Or(tag, Tag(path))
	if t.inputs[in].Format == FormatPlain {
		m.format = formatPlain
	}
	return m
}

// Tag returns the tag Fluent Bit's tail input gives a file's records in
// place of "*": the path without its leading slash, with dots for slashes
// (var.log.containers.<name>.log).
func Tag(path string) string {
	return strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", ".")
}

func excluded(patterns []string, path string) bool {
	for _, pattern := range patterns {
		if ok, _ := filepath.Match(pattern, path); ok {
			return true
		}
		if ok, _ := filepath.Match(pattern, filepath.Base(path)); ok {
			return true
		}
	}
	return false
}

// watchDir adds a directory to the watcher once and reports whether it is
// new.
func (t *Tailer) watchDir(dir string) bool {
	if t.watcher == nil || t.watched[dir] {
		return false
	}
	if err := t.watcher.Add(dir); err != nil {
		t.log.Debug("cannot watch directory; the rescan covers it", logPath, dir, logError, err)
		return false
	}
	t.watched[dir] = true
	return true
}

// watchPatterns watches the directories where files the include patterns
// match can appear: the pattern's directory and, for a directory part with
// wildcards (/var/log/pods/*/*/*.log), each level under its last literal
// directory, so that a new pod directory is seen when it is created. A
// directory that does not exist yet is watched from its nearest existing
// ancestor; its creation triggers a scan, which watches it.
func (t *Tailer) watchPatterns() {
	// A directory created while its parent was being added to the watch
	// has no event: look again until nothing new is watched.
	for range 8 {
		added := false
		for _, pattern := range t.includes() {
			for _, d := range patternDirs(filepath.Dir(pattern)) {
				added = t.watchDir(d) || added
			}
		}
		if !added {
			return
		}
	}
}

// patternDirs returns the existing directories to watch for a directory
// pattern.
func patternDirs(dir string) []string {
	literal, rest := dir, ""
	for i := 0; i < len(dir); i++ {
		if strings.ContainsRune(`*?[\`, rune(dir[i])) {
			cut := strings.LastIndexByte(dir[:i], filepath.Separator)
			literal, rest = filepath.Clean(dir[:cut+1]), dir[cut+1:]
			break
		}
	}
	if !isDir(literal) {
		for p := filepath.Dir(literal); ; p = filepath.Dir(p) {
			if isDir(p) {
				return []string{p}
			}
			if p == filepath.Dir(p) {
				return nil
			}
		}
	}
	out := []string{literal}
	level := literal
	for _, part := range strings.Split(rest, string(filepath.Separator)) {
		if part == "" {
			continue
		}
		level = filepath.Join(level, part)
		matches, _ := filepath.Glob(level)
		for _, m := range matches {
			if isDir(m) {
				out = append(out, m)
			}
		}
	}
	return out
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// scan compares what the patterns match with the files followed: it starts
// followers for new files, detaches the ones whose path now leads to another
// file (rotation) or nowhere (deletion), and enforces the bounds.
func (t *Tailer) scan(start func(*follower)) {
	// Watch first, then look: a file created in between is seen by one or
	// the other.
	t.mu.Lock()
	t.watchPatterns()
	t.mu.Unlock()
	files, dangling := t.glob()
	now := time.Now()

	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.started {
		// At the first start, a rotated file resumed in the middle of a
		// multi-line group hands it to the live file of its path: they are
		// linked before either starts.
		run := start
		var later []*follower
		start = func(f *follower) { later = append(later, f) }
		defer func() {
			linkResumed(t.byPath, later)
			for _, f := range later {
				run(f)
			}
		}()
	}
	for _, d := range dangling {
		t.watchDir(d)
	}
	// Paths that moved on or disappeared. A rotation's new file may come
	// a scan later than the rename: the file a path led to is remembered
	// while it is open.
	for p, f := range t.previous {
		if f.closed.Load() {
			delete(t.previous, p)
		}
	}
	for p, f := range t.byPath {
		if nf, ok := files[p]; ok && nf.id == f.id {
			continue
		} else if ok {
			t.catchRotated(f.meta.Target, start)
		}
		t.previous[p] = f
		delete(t.byPath, p)
		if !t.attached(f) {
			if t.byTarget[f.meta.Target] == f {
				delete(t.byTarget, f.meta.Target)
			}
			if fi, err := f.file.Stat(); err == nil && linksOf(fi) == 0 {
				f.deleted.Store(true)
			} else if err == nil {
				// Still linked somewhere: renamed away, as rotation does.
				t.m.filesRotated.Inc()
				t.log.Debug("file rotated", f.logAttrs()...)
			}
			f.detach()
		}
	}
	for id, u := range t.unreadable {
		if _, ok := files[u.path]; !ok || files[u.path].id != id {
			// Gone before it could ever be read.
			t.m.skipped.WithLabelValues(skipUnreadable).Add(float64(u.size))
			t.log.Warn("a log file that could not be opened is gone; its bytes were never read",
				logPath, u.path, logBytes, u.size, logReason, skipUnreadable, logError, u.err)
			delete(t.unreadable, id)
		}
	}
	for p, w := range t.waiting {
		if _, ok := files[p]; !ok {
			t.m.skipped.WithLabelValues(skipMaxOpenFiles).Add(float64(w.size))
			t.log.Warn("file gone before a slot to read it was free; its bytes were skipped",
				logPath, p, logBytes, w.size, logReason, skipMaxOpenFiles)
			delete(t.waiting, p)
		}
	}
	for p, nf := range files {
		if f := t.byPath[p]; f != nil {
			continue
		}
		if f := t.byID[nf.id]; f != nil {
			// The same file under one more path, or back under its path.
			t.byPath[p] = f
			t.byTarget[nf.target] = f
			f.detached.Store(false)
			continue
		}
		if len(t.byID) >= t.cfg.MaxOpenFiles {
			if _, ok := t.waiting[p]; !ok {
				t.log.Warn("open files limit reached; the file waits for a slot", logPath, p, "max_open_files", t.cfg.MaxOpenFiles)
			}
			t.waiting[p] = nf
			continue
		}
		delete(t.waiting, p)
		if t.started {
			t.catchRotated(nf.target, start)
		}
		f := t.open(nf, !t.started)
		if f == nil {
			continue
		}
		if f.id != nf.id && t.started {
			// The file globbed a moment ago was rotated away before it
			// was opened: look for it next to its old name.
			t.catchRotated(nf.target, start)
		}
		t.byPath[p] = f
		t.watchDir(filepath.Dir(nf.target))
		if pred := t.previous[p]; pred != nil && pred != f && f.off == 0 && pred.detached.Load() {
			f.link(pred)
		}
		delete(t.previous, p)
		start(f)
	}
	if !t.started {
		t.started = true
		t.resumeRotated(start)
		t.resumeSpools(start)
		if t.resumed() {
			t.countGone()
		}
	}
	t.enforceDeleted()
	t.ckpts.expire(now, t.isOpen)
}

// attached reports whether some path still leads to f. Callers hold t.mu.
func (t *Tailer) attached(f *follower) bool {
	for _, g := range t.byPath {
		if g == f {
			return true
		}
	}
	return false
}

// open opens a newly found file and decides where to start reading it: at
// its checkpoint when one matches its identity, else at its start, or at its
// end for files found at the first start when read_from is end. Callers hold
// t.mu.
func (t *Tailer) open(nf found, firstScan bool) *follower {
	file, err := os.Open(nf.target)
	if errors.Is(err, os.ErrNotExist) {
		// Renamed or deleted since the glob, which is no reason to count
		// its bytes as unreadable: a rotated file is found next to its old
		// name by the scan its successor causes.
		return nil
	}
	if err != nil {
		if _, known := t.unreadable[nf.id]; !known {
			// Logged once per file; retried at every scan and when its
			// mode changes. Its bytes count as skipped only if it goes
			// before it could be read.
			t.log.Warn("cannot open log file; retrying when its permissions change",
				logPath, nf.path, logTarget, nf.target, logBytes, nf.size, logError, err)
			t.watchDir(filepath.Dir(nf.target))
		}
		t.unreadable[nf.id] = unreadableFile{path: nf.path, size: nf.size, err: err}
		return nil
	}
	delete(t.unreadable, nf.id)
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		return nil
	}
	nf.id, nf.size = idOf(fi), fi.Size()
	start := int64(0)
	if e, ok := t.ckpts.take(nf.id); ok {
		if same, _ := e.fingerprint().matches(file); same && e.Offset <= nf.size {
			start = e.Offset
		} else {
			t.log.Info("checkpoint is for an older file with the same inode; reading from the start", logPath, nf.path)
			t.displaced = append(t.displaced, e)
		}
	} else if e, ok := t.displacedCopy(nf, file); ok {
		start = e.Offset
		t.log.Info("resuming the copy of a file truncated while skiff was stopped", logPath, nf.path, logOffset, start)
	} else if firstScan && t.cfg.ReadFrom == ReadFromEnd && !t.resumed() && !t.ckpts.broken() {
		start = nf.size
	}
	fp, _ := readFingerprint(file, int(min(nf.size, fingerprintBytes)))
	f := newFollower(t.deps, file, nf.id, t.newMeta(nf.path, nf.target, nf.tag, nf.input), start, fp)
	f.size.Store(max(nf.size, start))
	t.byID[nf.id] = f
	t.byTarget[nf.target] = f
	t.ckpts.opened(nf.id, fp) // an earlier file with the same inode is gone
	t.m.filesOpened.Inc()
	t.log.Debug("following file", logPath, nf.path, logTarget, nf.target, logOffset, start)
	return f
}

// displacedCopy returns the checkpoint entry of a file truncated while
// skiff was stopped whose copy file is: next to it, starting with its first
// bytes, and holding at least what was acknowledged. Callers hold t.mu.
func (t *Tailer) displacedCopy(nf found, file *os.File) (ckptEntry, bool) {
	for _, e := range t.displaced {
		if filepath.Dir(e.Target) != filepath.Dir(nf.target) || e.Offset > nf.size {
			continue
		}
		if same, err := e.fingerprint().matches(file); err == nil && same {
			return e, true
		}
	}
	return ckptEntry{}, false
}

// rotatedFound is the found of a file rotated away from target: it belongs
// to target's input, and keeps its tag.
func (t *Tailer) rotatedFound(path, target string, id fileID, size int64) found {
	nf := found{path: path, target: path, id: id, size: size, input: t.inputOf(target, target)}
	if f := t.byTarget[target]; f != nil {
		nf.tag = f.meta.Tag
	}
	return nf
}

// catchRotated looks for files that were rotated in and out of a path
// between two scans, so that discovery never saw them under it: unknown
// <name>.<suffix> siblings of target modified since the tailer started.
// They are read from the start. Callers hold t.mu.
func (t *Tailer) catchRotated(target string, start func(*follower)) {
	for _, r := range rotatedSiblings(target) {
		full, fi := r.path, r.fi
		if fi.ModTime().Before(t.startedAt.Add(-mtimeSlack)) {
			continue
		}
		id := idOf(fi)
		if t.byID[id] != nil || t.ckpts.wasSeen(id, full) {
			continue
		}
		f := t.open(t.rotatedFound(full, target, id, fi.Size()), false)
		if f == nil {
			continue
		}
		t.log.Info("found a file rotated between two scans", f.logAttrs()...)
		f.detachedSince(fi.ModTime())
		start(f)
	}
}

// rotatedFile is a rotated sibling of a followed file.
type rotatedFile struct {
	path string
	fi   os.FileInfo
}

// rotatedSiblings returns the regular files <name>.<suffix> next to
// target, as rotation leaves them, without the compressed (.gz) and
// temporary (.tmp) ones.
func rotatedSiblings(target string) []rotatedFile {
	dir, base := filepath.Split(target)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []rotatedFile
	for _, de := range entries {
		name := de.Name()
		if !strings.HasPrefix(name, base+".") || strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".tmp") {
			continue
		}
		full := filepath.Join(dir, name)
		fi, err := os.Stat(full)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		out = append(out, rotatedFile{full, fi})
	}
	return out
}

// sameContent reports whether the file at path starts with the bytes fp
// was taken from.
func sameContent(path string, fp fingerprint) bool {
	file, err := os.Open(path)
	if err != nil {
		return false
	}
	defer file.Close()
	same, _ := fp.matches(file)
	return same
}

// enforceDeleted keeps the unread bytes of deleted files under
// MaxDeletedBytes by giving up on the files deleted first. Callers hold t.mu.
func (t *Tailer) enforceDeleted() {
	var total int64
	var deleted []*follower
	for _, f := range t.byID {
		if f.deleted.Load() && f.skip.Load() == nil {
			total += f.unread()
			deleted = append(deleted, f)
		}
	}
	for total > t.cfg.MaxDeletedBytes && len(deleted) > 0 {
		oldest := 0
		for i, f := range deleted {
			if f.detachAt.Load() < deleted[oldest].detachAt.Load() {
				oldest = i
			}
		}
		f := deleted[oldest]
		deleted = append(deleted[:oldest], deleted[oldest+1:]...)
		total -= f.unread()
		f.skipRest(skipMaxDeletedBytes)
	}
}
