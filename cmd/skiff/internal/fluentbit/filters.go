package fluentbit

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/tailer/journal"
)

// targets returns the skiff inputs of the records f acts on.
func (t *translator) targets(f *fbFilter) []*skInput {
	var out []*skInput
	for _, in := range f.ins {
		if in.sk != nil && !slices.Contains(out, in.sk) {
			out = append(out, in.sk)
		}
	}
	return out
}

// translateFilters translates the filters, in order, then writes the
// inputs (whose parsers, rules and fields filters set).
func (t *translator) translateFilters() {
	for i, f := range t.filters {
		sks := t.targets(f)
		if len(sks) == 0 {
			t.item(f.s, nil, Changed, "acts on no translated input's records: left out")
			continue
		}
		name := f.s.Value("alias")
		if name == "" {
			name = fmt.Sprintf("%s-%d", f.plugin, i+1)
		}
		switch f.plugin {
		case "kubernetes":
			t.kubernetesFilter(f, sks)
		case "aws":
			t.awsFilter(f, sks)
		case "modify":
			t.modifyFilter(f, sks, name)
		case "record_modifier":
			t.recordModifier(f, sks, name)
		case "grep":
			t.grepFilter(f, sks, name)
		case "nest":
			t.nestFilter(f, sks, name)
		case "parser":
			t.parserFilter(f, sks)
		case "multiline":
			t.multilineFilter(f, sks)
		case "stdout", "expect":
			t.item(f.s, nil, Changed, "for debugging and tests: left out (skiff tail prints records as skiff would ship them)")
		case "lua", "wasm":
			t.item(f.s, nil, NotTranslated, "skiff runs no scripts: write what it does as filters (keep, drop, lift, rename, remove, add), redact rules or parsers")
		case "rewrite_tag":
			t.item(f.s, nil, NotTranslated, "skiff routes by input, not by tag: a pod's log group and stream can be chosen with templates ({kubernetes.namespace_name}, labels) or the pod's skiff.io/log-group annotation")
		case "throttle":
			t.item(f.s, nil, NotTranslated, "skiff's rate limits are per pod or container (limits:, lines_per_second, bytes_per_second), not for the whole node")
		default:
			t.item(f.s, nil, NotTranslated, "skiff has no %s filter", f.plugin)
		}
	}
	if t.kube == nil && t.skiffApp() != nil {
		from := "from no [FILTER] kubernetes: Fluent Bit added no pod metadata"
		t.doc.set([]string{"kubernetes", "enabled"}, false, from)
		t.doc.set([]string{"cloudwatch", "parse"}, "", "from no [FILTER] kubernetes with Merge_Log: Fluent Bit merged no JSON lines")
		t.notes = append(t.notes, "No kubernetes filter: skiff's kubernetes.enabled is written false and cloudwatch.parse \"\", as Fluent Bit added no pod metadata and merged no JSON lines. Records still carry the pod, namespace and container the file's name gives.")
	}
	t.writeInputs()
}

// kubernetesFilter translates the kubernetes filter's settings into
// skiff's kubernetes and cloudwatch (parse, merge_key) keys.
func (t *translator) kubernetesFilter(f *fbFilter, sks []*skInput) {
	s := f.s
	if t.kube != nil {
		t.item(s, nil, Changed, "skiff has one kubernetes section: the filter at %s is translated", relPos(t.cfg.Path, t.kube.Pos))
		return
	}
	t.kube = s
	var names []string
	for _, sk := range sks {
		names = append(names, sk.name)
	}
	if !slices.ContainsFunc(sks, func(sk *skInput) bool { return sk.name == config.ApplicationInput }) {
		t.item(s, nil, Changed, "skiff adds pod metadata to the records of every container log file: here Fluent Bit added it to %s only", strings.Join(names, ", "))
	} else {
		t.item(s, nil, Translated, "kubernetes: pod metadata from the API server (one watch per node), for %s; skiff adds it to every container log file's records", strings.Join(names, ", "))
	}
	merge := s.Value("merge_log")
	mergeOn := isOn(merge)
	mergeKey, hasKey := s.Get("merge_log_key")
	labels, annotations := true, true // Fluent Bit's defaults
	for i := range s.Entries {
		e := &s.Entries[i]
		switch k := strings.ToLower(e.Key); k {
		case "match", "match_regex":
			t.item(s, e, Translated, "acts on %s", strings.Join(names, ", "))
		case "merge_log":
			if mergeOn {
				t.set(s, e, []string{"cloudwatch", "parse"}, "json", ": lines that start with { are parsed as JSON objects")
			} else {
				t.set(s, e, []string{"cloudwatch", "parse"}, "", "")
			}
		case "merge_log_key":
			if mergeOn && slices.Contains([]string{"log", "stream", "time", "kubernetes"}, e.Value) {
				t.item(s, e, NotTranslated, "skiff's records always have log, stream, time and kubernetes: the parsed object cannot go under %s", e.Value)
			} else if mergeOn {
				t.set(s, e, []string{"cloudwatch", "merge_key"}, e.Value, "")
			} else {
				t.item(s, e, Changed, "not used: Merge_Log is off")
			}
		case "keep_log":
			switch {
			case !mergeOn:
				t.item(s, e, Changed, "not used: Merge_Log is off")
			case !isOn(e.Value) && hasKey:
				t.item(s, e, Changed, "skiff keeps the line in log beside the parsed object under %s", mergeKey.Value)
			case !isOn(e.Value):
				t.item(s, e, Translated, "cloudwatch.merge_key: \"\" merges a JSON line's members in place of log")
			default:
				t.item(s, e, Changed, "with merge_key \"\" skiff merges a JSON line's members in place of log")
			}
		case "merge_parser":
			t.item(s, e, Changed, "skiff parses JSON lines (cloudwatch.parse); choose a parser per input (tail.parser), per container (parsers.containers) or per pod (skiff.io/parser)")
		case "merge_log_trim":
			t.item(s, e, Changed, "not needed")
		case "labels":
			labels = isOn(e.Value)
		case "annotations":
			annotations = isOn(e.Value)
		case "k8s-logging.parser":
			t.item(s, e, Changed, "skiff always honors a pod's fluentbit.io/parser (and skiff.io/parser) annotation")
		case "k8s-logging.exclude":
			t.item(s, e, Changed, "skiff always honors a pod's fluentbit.io/exclude (and skiff.io/exclude) annotation")
		case "kube_url", "kube_ca_file", "kube_ca_path", "kube_token_file", "kube_token_command", "kube_token_ttl":
			t.item(s, e, Changed, "skiff uses the in-cluster service account (or kubernetes.kubeconfig)")
		case "use_kubelet", "kubelet_port", "kubelet_host", "use_tag_for_meta", "use_pod_association":
			t.item(s, e, Changed, "not needed: skiff watches the node's pods on the API server, one watch per node")
		case "kube_tag_prefix", "regex_parser":
			t.item(s, e, Changed, "not needed: skiff reads the pod, namespace and container from the file's name")
		case "buffer_size", "kube_meta_cache_ttl", "kube_meta_preload_cache_dir", "dns_retries", "dns_wait_time", "cache_use_docker_id", "use_journal", "dummy_meta", "kube_meta_namespace_cache_ttl":
			t.item(s, e, Changed, "not needed: skiff keeps every pod of the node, from its watch (kubernetes.deleted_pod_grace keeps a deleted pod's for its last lines)")
		case "owner_references":
			t.set(s, e, []string{"kubernetes", "owner_references"}, isOn(e.Value), "")
		case "namespace_labels", "namespace_annotations":
			t.set(s, e, []string{"kubernetes", "namespace_metadata"}, isOn(e.Value), "")
		default:
			if !t.common(s, e) {
				t.item(s, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
	if _, ok := s.Get("merge_log"); !ok {
		t.set(s, nil, []string{"cloudwatch", "parse"}, "", " (Fluent Bit's default: Merge_Log off)")
	}
	if mergeOn && !hasKey {
		t.set(s, nil, []string{"cloudwatch", "merge_key"}, "", " (no Merge_Log_Key: the members go to the top)")
	}
	for _, l := range []struct {
		key string
		on  bool
	}{{"labels", labels}, {"annotations", annotations}} {
		e, ok := s.Get(l.key)
		var ep *Entry
		why := ""
		if ok {
			ep = &e
		} else {
			why = " (Fluent Bit's default: " + strings.ToUpper(l.key[:1]) + l.key[1:] + " on)"
		}
		if l.on {
			why += "; they can double what each event costs"
		}
		t.set(s, ep, []string{"kubernetes", l.key}, l.on, why)
	}
}

// awsFilter adds the node's az and ec2_instance_id to the inputs' records.
func (t *translator) awsFilter(f *fbFilter, sks []*skInput) {
	s := f.s
	var names []string
	for _, sk := range sks {
		if sk.name == config.ApplicationInput {
			t.item(s, nil, NotTranslated, "skiff adds az and ec2_instance_id to the records of inputs.<name> (ec2_metadata), not to the application input's")
			continue
		}
		sk.ec2 = true
		sk.addFrom("ec2_metadata", t.doc.from(s, nil))
		names = append(names, sk.key("ec2_metadata"))
	}
	if len(names) > 0 {
		t.item(s, nil, Translated, "%s: true (az and ec2_instance_id, from the instance metadata service)", strings.Join(names, ", "))
	}
	for i := range s.Entries {
		e := &s.Entries[i]
		switch k := strings.ToLower(e.Key); k {
		case "match", "match_regex":
			t.item(s, e, Translated, "acts on %s", inputNames(sks))
		case "imds_version":
			t.item(s, e, Changed, "skiff asks the instance metadata service with IMDSv2, once at start")
		case "az", "ec2_instance_id":
			if isOn(e.Value) {
				t.item(s, e, Translated, "ec2_metadata adds it")
			} else {
				t.item(s, e, Changed, "ec2_metadata adds both az and ec2_instance_id")
			}
		case "ec2_instance_type", "private_ip", "vpc_id", "ami_id", "account_id", "hostname", "tags_enabled", "entity":
			if isOn(e.Value) {
				t.item(s, e, NotTranslated, "skiff adds az and ec2_instance_id only")
			} else {
				t.item(s, e, Translated, "off, as in skiff")
			}
		case "retry_interval_s", "tags_include", "tags_exclude":
			t.item(s, e, Changed, "not needed")
		default:
			if !t.common(s, e) {
				t.item(s, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
}

// reservedKeys are the keys of skiff's record shape that filters cannot
// rename or remove.
var reservedKeys = []string{"log", "stream", "time", "kubernetes", "_p"}

// filterFor returns the filter entries to write for sks: one without
// input when they are all of skiff's inputs, else one per input.
func (t *translator) filterFor(sks []*skInput) []string {
	if len(sks) == len(t.skiff) {
		return []string{""}
	}
	var out []string
	for _, sk := range sks {
		out = append(out, sk.name)
	}
	return out
}

// addFilters writes a filter for the inputs sks.
func (t *translator) addFilters(s *Section, e *Entry, sks []*skInput, name string, keys []string, vals map[string]any) string {
	var written []string
	for i, in := range t.filterFor(sks) {
		n := name
		if i > 0 {
			n = fmt.Sprintf("%s-%d", name, i+1)
		}
		v := maps.Clone(vals)
		v["name"] = n
		k := append([]string{"name"}, keys...)
		if in != "" {
			v["input"] = in
			k = slices.Insert(k, 1, "input")
		}
		t.doc.addFilter(t.doc.from(s, e), k, v)
		written = append(written, n)
	}
	return "filters " + strings.Join(written, ", ")
}

// grepFilter turns Regex and Exclude rules into keep and drop filters.
func (t *translator) grepFilter(f *fbFilter, sks []*skInput, name string) {
	s := f.s
	op := strings.ToLower(s.Value("logical_op"))
	rules := 0
	for _, e := range s.Entries {
		if k := strings.ToLower(e.Key); k == "regex" || k == "exclude" {
			rules++
		}
	}
	n := 0
	for i := range s.Entries {
		e := &s.Entries[i]
		k := strings.ToLower(e.Key)
		switch k {
		case "match", "match_regex":
			t.item(s, e, Translated, "acts on %s", inputNames(sks))
			continue
		case "logical_op":
			if op == "or" && rules > 1 {
				t.item(s, e, NotTranslated, "skiff's filters in a row all apply: keep rules are ANDed, drop rules ORed")
			} else {
				t.item(s, e, Translated, "skiff's keep filters in a row must all match, and any drop filter drops")
			}
			continue
		case "regex", "exclude":
		default:
			if !t.common(s, e) {
				t.item(s, e, Changed, "no skiff equivalent: left out")
			}
			continue
		}
		if op == "or" && rules > 1 {
			t.item(s, e, NotTranslated, "Logical_Op or: skiff cannot keep a record that matches any one of several rules")
			continue
		}
		key, re, _ := strings.Cut(strings.TrimSpace(e.Value), " ")
		re = fbRegex(strings.TrimSpace(re))
		if key == "" || re == "" {
			t.item(s, e, NotTranslated, "not KEY REGEX")
			continue
		}
		if t.journalGrep(s, e, sks, k == "exclude", key, re) {
			continue
		}
		field, err := t.recordField(key)
		if err == nil {
			_, err = regexp.Compile(re)
		}
		if err != nil {
			t.item(s, e, NotTranslated, "%v", err)
			continue
		}
		action := "keep"
		if k == "exclude" {
			action = "drop"
		}
		n++
		fname := name
		if rules > 1 {
			fname = fmt.Sprintf("%s-%d", name, n)
		}
		w := t.addFilters(s, e, sks, fname, []string{"field", "regex", "action"}, map[string]any{"field": field, "regex": re, "action": action})
		t.item(s, e, Translated, "%s: %s the records whose %s matches", w, action, field)
	}
}

// recordField translates a record accessor ($kubernetes['namespace_name'],
// log) into a skiff filter field.
func (t *translator) recordField(key string) (string, error) {
	key = strings.TrimPrefix(key, "$")
	name, rest, _ := strings.Cut(key, "[")
	var keys []string
	for _, k := range strings.Split(strings.TrimSuffix(rest, "]"), "][") {
		if k = strings.Trim(k, `'"`); k != "" {
			keys = append(keys, k)
		}
	}
	switch {
	case name == "kubernetes" && len(keys) == 1 && slices.Contains([]string{"namespace_name", "pod_name", "container_name"}, keys[0]):
		return "kubernetes." + keys[0], nil
	case name == "kubernetes" && len(keys) == 2 && keys[0] == "labels":
		return "kubernetes.labels." + keys[1], nil
	case name == "kubernetes":
		return "", fmt.Errorf("$%s: skiff's filters read kubernetes.namespace_name, pod_name, container_name and labels", key)
	case name == "time" || name == "_p":
		return "", fmt.Errorf("%s: skiff's filters do not read it", name)
	}
	return strings.Join(append([]string{name}, keys...), "."), nil
}

func inputNames(sks []*skInput) string {
	var n []string
	for _, sk := range sks {
		n = append(n, sk.name)
	}
	return strings.Join(n, ", ")
}

// literalAlt matches a regex that is an anchored choice of literal
// values: ^(2|9|10)$, ^kernel$.
var literalAlt = regexp.MustCompile(`^\^(?:\((?:\?:)?([\w-]+(?:\|[\w-]+)*)\)|([\w-]+))\$$`)

// journalGrep translates a grep rule on journal inputs that picks
// literal values of a field into the inputs' match (keep) or not (drop)
// terms, which see every field of the entry as Fluent Bit's grep does.
func (t *translator) journalGrep(s *Section, e *Entry, sks []*skInput, drop bool, key, re string) bool {
	m := literalAlt.FindStringSubmatch(re)
	if m == nil || strings.ContainsAny(key, "$[") || slices.ContainsFunc(sks, func(sk *skInput) bool { return sk.typ != config.InputJournal }) {
		return false
	}
	vals := strings.Split(m[1]+m[2], "|")
	var terms []string
	for _, v := range vals {
		terms = append(terms, key+"="+v)
	}
	if (journal.Filter{{Fields: terms}}).Validate() != nil {
		return false // not a journal field: a filter on the record's key
	}
	var keys []string
	for _, sk := range sks {
		if drop {
			sk.not = append(sk.not, terms...)
			sk.addFrom("not", t.doc.from(s, e))
			keys = append(keys, sk.key("not"))
			continue
		}
		if slices.ContainsFunc(sk.match, func(m string) bool { return strings.HasPrefix(m, key+"=") }) {
			t.item(s, e, NotTranslated, "%s already has terms on %s: skiff's terms on one field are alternatives", sk.key("match"), key)
			return true
		}
		sk.match = append(sk.match, terms...)
		sk.addFrom("match", t.doc.from(s, e))
		keys = append(keys, sk.key("match"))
	}
	t.item(s, e, Translated, "%s: %s", strings.Join(keys, ", "), show(terms))
	return true
}

// fbRegex is a Fluent Bit regex as RE2's text: Fluent Bit takes
// /pattern/ and /pattern/i as well as a bare pattern.
func fbRegex(s string) string {
	switch {
	case len(s) >= 3 && s[0] == '/' && strings.HasSuffix(s, "/i"):
		return "(?i)" + s[1:len(s)-2]
	case len(s) >= 2 && s[0] == '/' && s[len(s)-1] == '/':
		return s[1 : len(s)-1]
	}
	return s
}
