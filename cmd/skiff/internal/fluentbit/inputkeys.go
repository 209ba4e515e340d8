package fluentbit

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/tailer/journal"
)

// hostJournal says which journal entries skiff's default host inputs take.
var hostJournal = map[string]string{
	"host-dmesg":    "_TRANSPORT=kernel",
	"host-messages": "priorities 0..6, except the mail, cron and authpriv facilities",
	"host-secure":   "SYSLOG_FACILITY=10 (authpriv)",
}

// journalFields are the fields a Fluent Bit systemd input's records
// usually hold, under their own names: what skiff keeps when Fluent Bit
// kept every field.
var journalFields = []string{"MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "SYSLOG_FACILITY", "_HOSTNAME", "_SYSTEMD_UNIT", "_PID", "_COMM", "_TRANSPORT"}

// readFroms translates the inputs' Read_from_Head (tail) and
// Read_From_Tail (systemd) into tail.read_from and journal.read_from:
// those written first, then Fluent Bit's defaults of the others.
func (t *translator) readFroms() {
	for _, explicit := range []bool{true, false} {
		for _, sk := range t.skiff {
			for _, in := range sk.members {
				head := in.plugin == "tail"
				if in.kind == kindHostFile && sk.typ == config.InputJournal {
					continue // reported with the input: the journal's
				}
				key := map[bool]string{true: "read_from_head", false: "read_from_tail"}[head]
				if _, ok := in.s.Get(key); ok == explicit {
					path := []string{"journal", "read_from"}
					if head {
						path = []string{"tail", "read_from"}
					}
					t.readFrom(in.s, head, path)
				}
			}
		}
	}
}

// readFrom translates Read_from_Head (head) or Read_From_Tail (!head)
// into path's beginning or end; an absent key is Fluent Bit's default
// (both off).
func (t *translator) readFrom(s *Section, head bool, path []string) {
	key := "read_from_tail"
	if head {
		key = "read_from_head"
	}
	e, ok := s.Get(key)
	on := ok && isOn(e.Value)
	switch {
	case ok && len(e.Unresolved) > 0:
		t.item(s, &e, Changed, "depends on %s, which is not set here: %s keeps skiff's default (%v); pass --set %s=... to translate it", "${"+e.Unresolved[0]+"}", strings.Join(path, "."), show(t.defaultAt(path)), e.Unresolved[0])
		return
	case ok && !isBool(e.Value):
		t.item(s, &e, Changed, "not a boolean: %s keeps skiff's default", strings.Join(path, "."))
		return
	}
	v := "end"
	if on == head {
		v = "beginning"
	}
	var ep *Entry
	why := " (where files without a checkpoint are read from at the first start)"
	if ok {
		ep = &e
	} else {
		why = fmt.Sprintf(" (Fluent Bit's default: %s off)", key)
	}
	t.setShared(s, ep, path, v, why)
}

func (t *translator) defaultAt(path []string) any {
	v, _ := t.doc.defaultOf(path)
	return v
}

// setShared is setGlobal for keys whose conflicts do not matter much
// (where a first start reads from): the first value holds, and a
// different later one is only changed.
func (t *translator) setShared(s *Section, e *Entry, path []string, v any, why string) {
	key := strings.Join(path, ".")
	if g, ok := t.globals[key]; ok && yamlText(g.value) != yamlText(v) {
		if e == nil {
			t.item(s, nil, Changed, "Fluent Bit's default would make %s %s, but skiff has one for all inputs: %s, from %s", key, show(v), show(g.value), relPos(t.cfg.Path, g.at))
			return
		}
		t.item(s, e, Changed, "skiff has one %s for all inputs: %s, from %s", key, show(g.value), relPos(t.cfg.Path, g.at))
		return
	}
	t.setGlobal(s, e, path, v, why)
}

// fileKeys reports the settings of a tail input that became files of
// sk, and translates them.
func (t *translator) fileKeys(sk *skInput, in *fbInput) {
	s := in.s
	if sk.name == config.ApplicationInput {
		t.item(s, nil, Translated, "the application input: tail.include, and cloudwatch.log_group and log_stream")
	} else {
		t.item(s, nil, Translated, "inputs.%s, a files input", sk.name)
	}
	for i := range s.Entries {
		e := &s.Entries[i]
		k := strings.ToLower(e.Key)
		switch k {
		case "tag":
			t.item(s, e, Translated, "its records go to %s%s", outsOf(in), tagNote(in, "skiff's {tag} is what Fluent Bit's tail puts for *: the path with dots"))
		case "path":
			sk.addFrom("include", t.doc.from(s, e))
			merged := ""
			if len(sk.members) > 1 {
				merged = fmt.Sprintf(" (%d Fluent Bit inputs with the same tag, destination and settings are one skiff input: its include and exclude read the files they read together)", len(sk.members))
			}
			t.item(s, e, Translated, "%s: %s%s", sk.key("include"), show(sk.include), merged)
		case "exclude_path":
			sk.addFrom("exclude", t.doc.from(s, e))
			t.item(s, e, Translated, "%s: %s", sk.key("exclude"), show(sk.exclude))
		case "read_from_head":
			// below
		case "multiline.parser":
			t.multilineParsers(sk, s, e)
		case "parser":
			t.tailParser(sk, in, e)
		case "docker_mode":
			t.item(s, e, Translated, "built in: skiff joins the pieces docker splits long lines into, and CRI's partial lines")
		case "docker_mode_flush":
			t.item(s, e, Changed, "not needed: skiff joins split lines as they are read")
		case "docker_mode_parser":
			t.item(s, e, NotTranslated, "a first-line regex that joins lines: give the containers a multi-line rule instead (tail.multiline, multiline.containers, or the pod annotation skiff.io/multiline)")
		case "multiline", "parser_firstline", "multiline_flush":
			t.oldMultiline(sk, s, e)
		case "db", "db.locking", "db.journal_mode", "db.sync", "db.compare_filename":
			t.item(s, e, Changed, "skiff's checkpoint is in tail.state_dir (/var/lib/skiff): positions are saved once their lines are acknowledged")
		case "refresh_interval":
			t.item(s, e, Changed, "not needed: skiff watches the directories (fsnotify), with a safety rescan every tail.rescan_interval (60s)")
		case "rotate_wait":
			t.item(s, e, Changed, "not needed: skiff reads a rotated file to its end, and keeps a deleted one open (tail.max_deleted_bytes) or in the spool until its lines are acknowledged")
		case "skip_long_lines", "buffer_chunk_size", "buffer_max_size":
			t.item(s, e, Changed, "skiff never skips a line: its line limit is tail.max_line_bytes (1048550, CloudWatch's largest event), and longer lines are split (tail.long_lines)")
		case "skip_empty_lines":
			t.item(s, e, Changed, "skiff ships every line")
		case "key":
			if in.kind == kindPlain && e.Value == "message" {
				t.item(s, e, Translated, "skiff's plain-text records are {\"message\": line}")
			} else if in.kind == kindPlain {
				t.item(s, e, Changed, "skiff's plain-text records keep the line under message")
			} else {
				t.item(s, e, Changed, "skiff's container records keep the line under log")
			}
		case "path_key", "offset_key":
			t.item(s, e, NotTranslated, "skiff's records do not carry the file's path or offset: templates have {tag} and {file.*}")
		case "tag_regex":
			t.item(s, e, Changed, "skiff's {tag} is the path with dots; templates have {file.namespace}, {file.pod}, {file.container} instead of the regex's groups")
		case "ignore_older", "ignore_active_older_files":
			t.item(s, e, Changed, "skiff reads every file it finds; a file without a checkpoint from tail.read_from")
		default:
			if strings.HasPrefix(k, "parser_") {
				t.oldMultiline(sk, s, e)
			} else if !t.common(s, e) {
				t.item(s, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
}

// tagNote says how in's tag shows in log stream names: what skiff's
// {tag} holds, when the tag has a "*".
func tagNote(in *fbInput, star string) string {
	if strings.Contains(in.tag, "*") {
		return "; " + star
	}
	return ""
}

// outsOf names the outputs of an input.
func outsOf(in *fbInput) string {
	var l []string
	for _, o := range in.outs {
		l = append(l, o.s.Label())
	}
	return strings.Join(l, ", ")
}

// hostFileInput makes a tail input of /var/log/dmesg, messages or secure
// skiff's default journal input that ships the same entries to the same
// stream (Container Insights' own host inputs); if that one is taken, a
// plain files input.
func (t *translator) hostFileInput(in *fbInput) {
	name := hostFiles[in.paths[0]]
	if t.defaults[name] != nil {
		sk := t.newInput(t.newName(in), config.InputFiles, in)
		sk.include, sk.format = in.paths, "plain"
		t.destination(sk, in)
		t.fileKeys(sk, in)
		return
	}
	sk := t.newInput(name, config.InputJournal, in)
	t.destination(sk, in)
	s := in.s
	t.item(s, nil, Translated, "inputs.%s: skiff reads the same entries from the journal (%s)", name, hostJournal[name])
	for i := range s.Entries {
		e := &s.Entries[i]
		switch k := strings.ToLower(e.Key); k {
		case "tag":
			t.item(s, e, Translated, "its records go to %s", outsOf(in))
		case "path":
			t.item(s, e, Changed, "skiff reads these entries from the journal, inputs.%s (%s), as nodes that no longer write %s need; for the file itself: type: files, include: [%s], format: plain", name, hostJournal[name], e.Value, e.Value)
		case "parser":
			t.item(s, e, Changed, "the journal gives host, ident, pid and message: the fields the syslog parser made")
		case "key":
			t.item(s, e, Changed, "the journal records' text is under message")
		case "read_from_head":
			t.item(s, e, Changed, "the journal is read from journal.read_from at the first start")
		case "db", "db.locking", "db.journal_mode", "db.sync":
			t.item(s, e, Changed, "skiff's journal cursor is in tail.state_dir (journal.cursor)")
		case "refresh_interval", "rotate_wait", "skip_long_lines", "buffer_chunk_size", "buffer_max_size":
			t.item(s, e, Changed, "not needed for the journal")
		default:
			if !t.common(s, e) {
				t.item(s, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
}

// journalInput makes a systemd input a journal input: Systemd_Filter is
// its match.
func (t *translator) journalInput(in *fbInput) {
	s := in.s
	filters := s.All("systemd_filter")
	var terms, fieldsOf []string
	for _, e := range filters {
		terms = append(terms, e.Value)
		f, _, _ := strings.Cut(e.Value, "=")
		fieldsOf = append(fieldsOf, f)
	}
	and := strings.EqualFold(s.Value("systemd_filter_type"), "and")
	distinct := slices.Compact(slices.Sorted(slices.Values(fieldsOf)))
	problem := ""
	switch err := (journal.Filter{{Fields: terms}}).Validate(); {
	case err != nil:
		problem = fmt.Sprintf("not journal matches skiff takes: %v", err)
	case !and && len(distinct) > 1:
		problem = "Fluent Bit takes an entry matching any of these filters; skiff's match needs a term of every field to hold: give each field an input of its own"
	case and && len(distinct) < len(fieldsOf):
		problem = "Fluent Bit needs all of these filters to hold; skiff's terms on one field are alternatives"
	}
	match, priority := terms, ""
	if problem == "" && !and {
		if p, ok := priorityRange(terms); ok {
			match, priority = nil, p
		}
	}
	if problem != "" {
		match = nil
	}
	candidate := ""
	dp := config.DefaultInputs(true)["dataplane"]
	if problem == "" && len(terms) > 0 && !and && !slices.ContainsFunc(terms, func(m string) bool { return !slices.Contains(dp.Match, m) }) {
		candidate = "dataplane"
	}
	for _, name := range slices.Sorted(maps.Keys(config.DefaultInputs(true))) {
		def := config.DefaultInputs(true)[name]
		if candidate == "" && def.Type == config.InputJournal && def.Priority == priority && sameSet(def.Match, match) {
			candidate = name
		}
	}
	d := t.dest(t.cw(in), in)
	name := t.takeover(config.InputJournal, d.group, d.stream, candidate)
	if name == "" {
		name = t.newName(in)
	}
	sk := t.newInput(name, config.InputJournal, in)
	sk.match, sk.priority, sk.not = match, priority, nil
	if !slices.ContainsFunc(in.filters, func(f *fbFilter) bool { return f.plugin == "modify" }) {
		sk.fields = map[string]string{}
		for _, f := range journalFields {
			sk.fields[journalKey(s, f)] = f
		}
		t.item(s, nil, Changed, "Fluent Bit ships every field of a journal entry; skiff ships the keys of %s: %s (add the fields you query)", sk.key("fields"), show(sk.fields))
		sk.addFrom("fields", t.doc.from(s, nil))
	}
	t.destination(sk, in)
	t.item(s, nil, Translated, "inputs.%s, a journal input", name)
	for i := range s.Entries {
		e := &s.Entries[i]
		switch k := strings.ToLower(e.Key); k {
		case "tag":
			t.item(s, e, Translated, "its records go to %s%s", outsOf(in), tagNote(in, "skiff's {tag} is the entry's unit, as Fluent Bit's systemd input puts it for *"))
		case "systemd_filter", "systemd_filter_type":
			if problem != "" {
				t.item(s, e, NotTranslated, "%s", problem)
				continue
			}
			if sk.priority != "" {
				sk.addFrom("priority", t.doc.from(s, e))
				t.item(s, e, Translated, "%s: %s", sk.key("priority"), sk.priority)
				continue
			}
			sk.addFrom("match", t.doc.from(s, e))
			t.item(s, e, Translated, "%s: %s", sk.key("match"), show(sk.match))
		case "read_from_tail":
			// below
		case "path":
			if !filepath.IsAbs(e.Value) {
				t.item(s, e, NotTranslated, "skiff reads journal directories by absolute path")
				continue
			}
			if e.Value == "/var/log/journal" || e.Value == "/run/log/journal" {
				t.item(s, e, Translated, "journal.dirs: skiff reads /var/log/journal and /run/log/journal, journald's persistent and volatile directories (skiff's default)")
				continue
			}
			t.setShared(s, e, []string{"journal", "dirs"}, []string{e.Value}, "")
		case "db", "db.sync":
			t.item(s, e, Changed, "skiff's journal cursor is in tail.state_dir (journal.cursor), saved once the entries are acknowledged")
		case "max_fields", "max_entries":
			t.item(s, e, Changed, "not needed: skiff reads entries as the output takes them")
		case "strip_underscores", "lowercase":
			t.item(s, e, Changed, "skiff names a journal record's keys in %s", sk.key("fields"))
		default:
			if !t.common(s, e) {
				t.item(s, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
}

// journalKey is the record key Fluent Bit's systemd input gives field f.
func journalKey(s *Section, f string) string {
	if isOn(s.Value("strip_underscores")) {
		f = strings.TrimLeft(f, "_")
	}
	if isOn(s.Value("lowercase")) {
		f = strings.ToLower(f)
	}
	return f
}

// writeInputs writes the inputs' keys, once filters have set their
// parsers, rules, fields and metadata.
func (t *translator) writeInputs() {
	for _, sk := range t.skiff {
		put := func(key string, v any) {
			froms := sk.from[key]
			if len(froms) == 0 {
				froms = []string{t.doc.from(sk.members[0].s, nil)}
			}
			for _, f := range froms {
				t.doc.set(sk.path(key), v, f)
			}
		}
		if sk.name == config.ApplicationInput {
			put("include", sk.include)
			put("exclude", nonNil(sk.exclude))
			put("multiline", sk.multiline)
			put("parser", sk.parser)
			put("log_group", sk.group)
			put("log_stream", sk.stream)
			continue
		}
		opt := func(key string, v any, empty bool) {
			if sk.deflt || !empty {
				put(key, v)
			}
		}
		if !sk.deflt {
			put("type", sk.typ)
		}
		if sk.typ == config.InputFiles {
			opt("include", sk.include, len(sk.include) == 0)
			opt("exclude", nonNil(sk.exclude), len(sk.exclude) == 0)
			opt("format", sk.format, sk.format == "")
			opt("multiline", sk.multiline, sk.multiline == "")
			opt("parser", sk.parser, sk.parser == "")
		} else {
			opt("match", nonNil(sk.match), len(sk.match) == 0)
			opt("priority", sk.priority, sk.priority == "")
			opt("not", nonNil(sk.not), len(sk.not) == 0)
			opt("fields", sk.fields, len(sk.fields) == 0)
		}
		put("log_group", sk.group)
		put("log_stream", sk.stream)
		opt("ec2_metadata", sk.ec2, !sk.ec2)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// disableDefaults turns off skiff's default inputs that no Fluent Bit
// input became: skiff would otherwise ship what Fluent Bit did not.
func (t *translator) disableDefaults() {
	var off []string
	for _, name := range slices.Sorted(maps.Keys(config.DefaultInputs(true))) {
		if t.defaults[name] != nil {
			continue
		}
		off = append(off, name)
		t.doc.set([]string{"inputs", name, "enabled"}, false,
			fmt.Sprintf("skiff's default input %s (Container Insights') has no counterpart in the Fluent Bit configuration", name))
	}
	if len(off) > 0 {
		t.notes = append(t.notes, fmt.Sprintf("skiff's default inputs %s (Container Insights' dataplane and host logs) have no counterpart in the Fluent Bit configuration: they are written with enabled: false, so that skiff ships what Fluent Bit did. Remove those lines to ship them too.", strings.Join(off, ", ")))
	}
}

// priorityRange turns PRIORITY=N terms that make a range (0 to 6) into
// skiff's priority ("0..6").
func priorityRange(terms []string) (string, bool) {
	var ps []int
	for _, m := range terms {
		v, ok := strings.CutPrefix(m, "PRIORITY=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 || n > 7 {
			return "", false
		}
		ps = append(ps, n)
	}
	slices.Sort(ps)
	ps = slices.Compact(ps)
	if len(ps) == 0 || ps[len(ps)-1]-ps[0] != len(ps)-1 {
		return "", false
	}
	if len(ps) == 1 {
		return strconv.Itoa(ps[0]), true
	}
	return fmt.Sprintf("%d..%d", ps[0], ps[len(ps)-1]), true
}
