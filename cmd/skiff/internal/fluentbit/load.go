package fluentbit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxFiles bounds the files one configuration may read, as Fluent Bit's
// FLB_CF_FILE_NUM_LIMIT does.
const MaxFiles = 1000

// Errors of Load, wrapped in an *Error that says where.
var (
	ErrIncludedTwice = errors.New("already read: an include cycle, or the same file included twice")
	ErrNoMatch       = errors.New("no file matches")
	ErrTooManyFiles  = fmt.Errorf("more than %d files", MaxFiles)
)

// Options says where Load finds files and the variables the files do not
// define.
type Options struct {
	// Lookup gives the value of a ${NAME} that no @SET (or env:) defines,
	// as Fluent Bit's environment would. Nil means none: such references
	// stay in the values, listed in Entry.Unresolved.
	Lookup func(name string) (string, bool)
	// ReadFile and Glob read the file system; nil means os.ReadFile and
	// filepath.Glob.
	ReadFile func(name string) ([]byte, error)
	Glob     func(pattern string) ([]string, error)
}

// IsYAML reports whether a file is in Fluent Bit's YAML format, by its
// name, as Fluent Bit tells them apart.
func IsYAML(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	return ext == ".yaml" || ext == ".yml"
}

// Load reads a Fluent Bit configuration (classic or YAML, by the file's
// extension), the files it includes (@INCLUDE, includes:) and its
// [SERVICE] Parsers_File files, and expands ${NAME} in every value: with
// the files' own @SET (env:) variables first, then opt.Lookup. A
// Parsers_File that cannot be read is listed in Config.MissingParsers,
// not an error: Fluent Bit's own parsers.conf is in its image, not beside
// the configuration.
//
// Includes are read as Fluent Bit reads them: a classic @INCLUDE that is
// not absolute is relative to the main file's directory, a YAML include
// to the including file's; a path with "*" is a glob, read in sorted
// order, and must match a file. A file read twice (a cycle) is an error,
// as it is for Fluent Bit.
func Load(path string, opt Options) (*Config, error) {
	if opt.ReadFile == nil {
		opt.ReadFile = os.ReadFile
	}
	if opt.Glob == nil {
		opt.Glob = filepath.Glob
	}
	l := &loader{opt: opt, root: filepath.Dir(path), seen: map[string]bool{},
		cfg: &Config{Path: path, Vars: map[string]string{}, Format: "classic"}}
	if IsYAML(path) {
		l.cfg.Format = "yaml"
	}
	if err := l.read(path, Pos{File: path}); err != nil {
		return nil, err
	}
	for _, s := range l.cfg.Sections {
		l.expandSection(s)
	}
	for _, svc := range l.cfg.Of("service") {
		for _, e := range svc.All("parsers_file") {
			p := e.Value
			if !filepath.IsAbs(p) {
				p = filepath.Join(l.root, p)
			}
			n := len(l.cfg.Sections)
			switch err := l.read(p, e.Pos); {
			case errors.Is(err, fs.ErrNotExist):
				l.cfg.MissingParsers = append(l.cfg.MissingParsers, e)
				continue
			case errors.Is(err, ErrIncludedTwice): // its sections are in
				continue
			case err != nil:
				return nil, err
			}
			for _, s := range l.cfg.Sections[n:] {
				l.expandSection(s)
			}
		}
	}
	return l.cfg, nil
}

type loader struct {
	opt  Options
	root string // the main file's directory
	seen map[string]bool
	cfg  *Config
}

// read reads one file and, recursively, what it includes.
func (l *loader) read(path string, from Pos) error {
	key := filepath.Clean(path)
	if abs, err := filepath.Abs(path); err == nil {
		key = abs
	}
	if l.seen[key] {
		return &Error{Pos: from, Msg: fmt.Sprintf("%s: %v", path, ErrIncludedTwice), Err: ErrIncludedTwice}
	}
	if len(l.seen) >= MaxFiles {
		return &Error{Pos: from, Msg: ErrTooManyFiles.Error(), Err: ErrTooManyFiles}
	}
	l.seen[key] = true
	data, err := l.opt.ReadFile(path)
	if err != nil {
		return &Error{Pos: from, Msg: err.Error(), Err: err}
	}
	l.cfg.Files = append(l.cfg.Files, path)
	var items []classicItem
	if IsYAML(path) {
		items, err = parseYAML(path, data)
	} else {
		items, err = parseClassic(path, data)
	}
	if err != nil {
		return err
	}
	var section, group *Section
	for _, it := range items {
		switch it.kind {
		case itemSection:
			if it.section != nil {
				l.cfg.Sections = append(l.cfg.Sections, it.section)
				section, group = nil, nil
				continue
			}
			section = &Section{Kind: it.name, Pos: it.pos}
			group = nil
			l.cfg.Sections = append(l.cfg.Sections, section)
		case itemGroup:
			if section == nil {
				return &Error{Pos: it.pos, Msg: "a group outside a section"}
			}
			group = &Section{Kind: it.name, Pos: it.pos}
			section.Groups = append(section.Groups, group)
		case itemEntry:
			e := Entry{Key: it.key, Value: it.value, Pos: it.pos}
			switch {
			case section == nil:
				return &Error{Pos: it.pos, Msg: fmt.Sprintf("%s: an entry outside a [SECTION]", it.key)}
			case it.group && group != nil:
				group.Entries = append(group.Entries, e)
			default:
				group = nil
				section.Entries = append(section.Entries, e)
			}
		case itemSet:
			l.cfg.Vars[it.name] = it.value
		case itemInclude:
			if err := l.include(path, it); err != nil {
				return err
			}
		}
	}
	return nil
}

// include reads the files of one @INCLUDE or includes: item.
func (l *loader) include(from string, it classicItem) error {
	p := it.name
	if !filepath.IsAbs(p) {
		dir := l.root // classic: Fluent Bit's root_path
		if IsYAML(from) {
			dir = filepath.Dir(from)
		}
		p = filepath.Join(dir, p)
	}
	if !strings.Contains(p, "*") {
		return l.read(p, it.pos)
	}
	matches, err := l.opt.Glob(p)
	if err != nil {
		return &Error{Pos: it.pos, Msg: fmt.Sprintf("@INCLUDE %s: %v", it.name, err)}
	}
	if len(matches) == 0 {
		return &Error{Pos: it.pos, Msg: fmt.Sprintf("@INCLUDE %s: %v", it.name, ErrNoMatch), Err: ErrNoMatch}
	}
	slices.Sort(matches)
	for _, m := range matches {
		if err := l.read(m, it.pos); err != nil {
			return err
		}
	}
	return nil
}

func (l *loader) expandSection(s *Section) {
	for i := range s.Entries {
		s.Entries[i].Value, s.Entries[i].Unresolved = l.expand(s.Entries[i].Value)
	}
	for _, g := range s.Groups {
		l.expandSection(g)
	}
}

// expand replaces ${NAME} with the file's variable, else Lookup's value,
// and keeps (and lists) the references neither defines. A "${" without
// "}" is literal text, as for Fluent Bit.
func (l *loader) expand(v string) (string, []string) {
	if !strings.Contains(v, "${") {
		return v, nil
	}
	var b strings.Builder
	var unresolved []string
	for {
		i := strings.Index(v, "${")
		if i < 0 {
			break
		}
		end := strings.IndexByte(v[i:], '}')
		if end < 0 {
			break
		}
		name := v[i+2 : i+end]
		b.WriteString(v[:i])
		if val, ok := l.cfg.Vars[name]; ok {
			b.WriteString(val)
		} else if val, ok := l.lookup(name); ok {
			b.WriteString(val)
		} else {
			b.WriteString(v[i : i+end+1])
			if !slices.Contains(unresolved, name) {
				unresolved = append(unresolved, name)
			}
		}
		v = v[i+end+1:]
	}
	b.WriteString(v)
	return b.String(), unresolved
}

func (l *loader) lookup(name string) (string, bool) {
	if l.opt.Lookup == nil {
		return "", false
	}
	return l.opt.Lookup(name)
}
