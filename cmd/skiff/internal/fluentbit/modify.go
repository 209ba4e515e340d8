package fluentbit

import (
	"cmp"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
)

// keepOnly matches the Remove_regex idiom that keeps a few keys:
// ^((?!a|b|c).)*$ removes every key that contains none of a, b, c.
var keepOnly = regexp.MustCompile(`^\^\(\(\?!([A-Za-z0-9_|]+)\)\.\)\*\$$`)

// pair splits "A B" values (Rename, Add, Set).
func pair(v string) (string, string, bool) {
	a, b, ok := strings.Cut(strings.TrimSpace(v), " ")
	return a, strings.TrimSpace(b), ok && strings.TrimSpace(b) != ""
}

// modifyFilter translates the modify filter: on journal inputs its
// renames and removals choose the record's fields; on file inputs its
// renames, removals and additions become a filter.
func (t *translator) modifyFilter(f *fbFilter, sks []*skInput, name string) {
	s := f.s
	if c, ok := s.Get("condition"); ok {
		t.item(s, nil, NotTranslated, "Condition %s: skiff's filters change the records their field and regex match, not by conditions; the whole filter is not translated", c.Value)
		return
	}
	var journals, files []*skInput
	for _, sk := range sks {
		if sk.typ == config.InputJournal {
			journals = append(journals, sk)
		} else {
			files = append(files, sk)
		}
	}
	fields := map[string]string{} // record key → journal field
	all := true                   // every other field too, as Fluent Bit keeps them
	rename, add := map[string]string{}, map[string]string{}
	var remove []string
	var fileKeys []*Entry
	for i := range s.Entries {
		e := &s.Entries[i]
		k := strings.ToLower(e.Key)
		switch k {
		case "match", "match_regex":
			t.item(s, e, Translated, "acts on %s", inputNames(sks))
		case "rename", "hard_rename":
			a, b, ok := pair(e.Value)
			if !ok {
				t.item(s, e, Changed, "not KEY NEW_KEY: left out")
				continue
			}
			if len(journals) > 0 {
				fields[b] = a
			}
			if len(files) > 0 {
				if slices.Contains(reservedKeys, a) || slices.Contains(reservedKeys, b) {
					t.item(s, e, NotTranslated, "skiff's records always have log, stream, time and kubernetes: they cannot be renamed")
					continue
				}
				rename[a] = b
				fileKeys = append(fileKeys, e)
			}
			t.item(s, e, Translated, "%s", t.modifyWhere(journals, files, "fields: "+b+": "+a, "rename: "+a+": "+b))
		case "remove":
			if len(journals) > 0 {
				delete(fields, e.Value)
			}
			if len(files) > 0 {
				if slices.Contains(reservedKeys, e.Value) {
					t.item(s, e, NotTranslated, "skiff's records always have log, stream, time and kubernetes")
					continue
				}
				remove = append(remove, e.Value)
				fileKeys = append(fileKeys, e)
			}
			t.item(s, e, Translated, "%s", t.modifyWhere(journals, files, "fields without "+e.Value, "remove: "+e.Value))
		case "remove_regex", "remove_wildcard":
			m := keepOnly.FindStringSubmatch(e.Value)
			re, err := regexp.Compile(fbRegex(e.Value))
			if len(journals) == 0 || len(files) > 0 || k == "remove_regex" && m == nil && err != nil {
				t.item(s, e, NotTranslated, "skiff's filters remove fields by name, not by pattern")
				continue
			}
			if k == "remove_wildcard" {
				t.item(s, e, Changed, "skiff's journal records hold only the keys of fields")
				all = false
				continue
			}
			if m == nil {
				for key := range fields {
					if re.MatchString(key) {
						delete(fields, key)
					}
				}
				if !slices.ContainsFunc(journalFields, func(f string) bool { return !re.MatchString(f) }) {
					all = false
					t.item(s, e, Translated, "%s: it removes the entries' own fields (%s): skiff's records hold only the keys of fields", t.fieldsKeys(journals), strings.Join(journalFields, ", "))
				} else {
					t.item(s, e, Changed, "%s: skiff's records hold only the keys of fields", t.fieldsKeys(journals))
				}
				continue
			}
			keep := strings.Split(m[1], "|")
			for key := range fields {
				if !slices.ContainsFunc(keep, func(w string) bool { return strings.Contains(key, w) }) {
					delete(fields, key)
				}
			}
			all = false
			t.item(s, e, Translated, "%s: only the keys %s", t.fieldsKeys(journals), strings.Join(keep, ", "))
		case "add", "set":
			a, b, ok := pair(e.Value)
			if !ok {
				t.item(s, e, Changed, "not KEY VALUE: left out")
				continue
			}
			add[a] = b
			fileKeys = append(fileKeys, e)
			t.item(s, e, Translated, "a filter's add: %s: %s", a, b)
		default:
			if !t.common(s, e) {
				t.item(s, e, NotTranslated, "skiff's filters rename, remove and add fields; %s is not translated", e.Key)
			}
		}
	}
	for _, sk := range journals {
		if all {
			for _, jf := range journalFields {
				if !slices.Contains(slices.Collect(maps.Values(fields)), jf) {
					fields[journalKey(sk.members[0].s, jf)] = jf
				}
			}
			t.item(s, nil, Changed, "Fluent Bit also kept every other field of the entries; skiff ships the keys of %s: %s", sk.key("fields"), show(fields))
		}
		sk.fields = fields
		sk.addFrom("fields", t.doc.from(s, nil))
	}
	if len(rename)+len(remove)+len(add) > 0 && len(files)+len(journals) > 0 {
		keys, vals := []string{}, map[string]any{}
		if len(rename) > 0 {
			keys, vals["rename"] = append(keys, "rename"), rename
		}
		if len(remove) > 0 {
			keys, vals["remove"] = append(keys, "remove"), remove
		}
		if len(add) > 0 {
			keys, vals["add"] = append(keys, "add"), add
		}
		targets := files
		if len(add) > 0 {
			targets = sks
		}
		t.addFilters(s, fileKeys[0], targets, name, keys, vals)
		if len(rename)+len(remove) > 0 {
			t.item(s, nil, Changed, "skiff's rename and remove act on the parsed fields (a JSON line's, or a parser's), which is where Fluent Bit's keys were with Merge_Log")
		}
	}
}

func (t *translator) modifyWhere(journals, files []*skInput, j, f string) string {
	var parts []string
	if len(journals) > 0 {
		parts = append(parts, t.fieldsKeys(journals)+": "+strings.TrimPrefix(j, "fields: "))
	}
	if len(files) > 0 {
		parts = append(parts, "a filter's "+f)
	}
	return strings.Join(parts, "; ")
}

func (t *translator) fieldsKeys(sks []*skInput) string {
	var k []string
	for _, sk := range sks {
		k = append(k, sk.key("fields"))
	}
	return strings.Join(k, ", ")
}

// recordModifier translates Record (add) and Remove_key (remove).
func (t *translator) recordModifier(f *fbFilter, sks []*skInput, name string) {
	s := f.s
	add := map[string]string{}
	var remove []string
	var first *Entry
	for i := range s.Entries {
		e := &s.Entries[i]
		switch k := strings.ToLower(e.Key); k {
		case "match", "match_regex":
			t.item(s, e, Translated, "acts on %s", inputNames(sks))
		case "record":
			a, b, ok := pair(e.Value)
			if !ok {
				t.item(s, e, Changed, "not KEY VALUE: left out")
				continue
			}
			add[a] = b
			first = cmp.Or(first, e)
			t.item(s, e, Translated, "a filter's add: %s: %s", a, b)
		case "remove_key":
			if slices.Contains(reservedKeys, e.Value) {
				t.item(s, e, NotTranslated, "skiff's records always have log, stream, time and kubernetes")
				continue
			}
			remove = append(remove, e.Value)
			first = cmp.Or(first, e)
			t.item(s, e, Translated, "a filter's remove: %s (of the parsed fields)", e.Value)
		case "allowlist_key", "whitelist_key":
			t.item(s, e, NotTranslated, "skiff's records keep their shape: a filter removes named fields only")
		case "uuid_key":
			t.item(s, e, NotTranslated, "skiff adds no UUIDs")
		default:
			if !t.common(s, e) {
				t.item(s, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
	if first == nil {
		return
	}
	keys, vals := []string{}, map[string]any{}
	if len(remove) > 0 {
		keys, vals["remove"] = append(keys, "remove"), remove
	}
	if len(add) > 0 {
		keys, vals["add"] = append(keys, "add"), add
	}
	t.addFilters(s, first, sks, name, keys, vals)
}

// nestFilter translates Operation lift.
func (t *translator) nestFilter(f *fbFilter, sks []*skInput, name string) {
	s := f.s
	if !strings.EqualFold(s.Value("operation"), "lift") {
		t.item(s, nil, NotTranslated, "skiff's filters lift a nested object (lift:), but do not nest fields")
		return
	}
	under, ok := s.Get("nested_under")
	if !ok {
		t.item(s, nil, NotTranslated, "a lift without Nested_under")
		return
	}
	for i := range s.Entries {
		e := &s.Entries[i]
		switch k := strings.ToLower(e.Key); k {
		case "match", "match_regex":
			t.item(s, e, Translated, "acts on %s", inputNames(sks))
		case "operation", "nested_under":
			t.item(s, e, Translated, "a filter's lift: %s", under.Value)
		case "add_prefix":
			t.item(s, e, Translated, "a filter's lift_prefix: %s", e.Value)
		default:
			if !t.common(s, e) {
				t.item(s, e, NotTranslated, "skiff's lift takes a prefix only")
			}
		}
	}
	keys, vals := []string{"lift"}, map[string]any{"lift": under.Value}
	if p := s.Value("add_prefix"); p != "" {
		keys, vals["lift_prefix"] = append(keys, "lift_prefix"), p
	}
	t.addFilters(s, &under, sks, name, keys, vals)
}

// parserFilter makes the parser it names the parser of its inputs.
func (t *translator) parserFilter(f *fbFilter, sks []*skInput) {
	s := f.s
	key := s.Value("key_name")
	parsed := false
	for i := range s.Entries {
		e := &s.Entries[i]
		switch k := strings.ToLower(e.Key); k {
		case "match", "match_regex":
			t.item(s, e, Translated, "acts on %s", inputNames(sks))
		case "key_name":
			if e.Value == "log" || e.Value == "message" {
				t.item(s, e, Translated, "skiff's parsers parse the line")
			} else {
				t.item(s, e, NotTranslated, "skiff's parsers parse the line (log), not %s", e.Value)
			}
		case "parser":
			if key != "log" && key != "message" {
				t.item(s, e, NotTranslated, "see Key_Name")
				continue
			}
			if parsed {
				t.item(s, e, Changed, "skiff tries one parser per record: the first is kept")
				continue
			}
			name, why := t.parserRef(e.Value)
			if name == "" {
				t.item(s, e, NotTranslated, "%s", why)
				continue
			}
			parsed = true
			var keys []string
			for _, sk := range sks {
				if sk.typ != config.InputFiles {
					t.item(s, e, NotTranslated, "inputs.%s reads the journal: skiff's parsers are for files", sk.name)
					continue
				}
				sk.parser = name
				sk.addFrom("parser", t.doc.from(s, e))
				keys = append(keys, sk.key("parser"))
			}
			if len(keys) > 0 {
				t.item(s, e, Translated, "%s: %s%s", strings.Join(keys, ", "), name, why)
			}
		case "reserve_data", "preserve_key":
			t.item(s, e, Changed, "skiff keeps the record (and the line in log); the parsed fields go under the merge key")
		case "unescape_key":
			t.item(s, e, Changed, "not needed")
		default:
			if !t.common(s, e) {
				t.item(s, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
}

// multilineFilter makes the rule it names the rule of its inputs.
func (t *translator) multilineFilter(f *fbFilter, sks []*skInput) {
	s := f.s
	for i := range s.Entries {
		e := &s.Entries[i]
		switch k := strings.ToLower(e.Key); k {
		case "match", "match_regex":
			t.item(s, e, Translated, "acts on %s", inputNames(sks))
		case "multiline.parser":
			for _, sk := range sks {
				t.multilineParsers(sk, s, e)
			}
		case "multiline.key_content":
			if e.Value == "log" || e.Value == "message" {
				t.item(s, e, Translated, "skiff joins lines")
			} else {
				t.item(s, e, NotTranslated, "skiff joins lines (log), not %s", e.Value)
			}
		case "mode":
			if strings.EqualFold(e.Value, "partial_message") {
				t.item(s, e, Translated, "built in: skiff joins the partial lines of docker and CRI")
			} else {
				t.item(s, e, Translated, "skiff joins lines as they are read")
			}
		case "flush_ms":
			t.item(s, e, Changed, "skiff's multiline.quiet (1s) is how long a record waits for its next line")
		case "buffer", "emitter_name", "emitter_storage.type", "emitter_mem_buf_limit":
			t.item(s, e, Changed, "not needed: skiff joins lines in the tailer, before anything is buffered")
		default:
			if !t.common(s, e) {
				t.item(s, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
}
