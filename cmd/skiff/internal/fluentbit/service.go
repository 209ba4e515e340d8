package fluentbit

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/enrich/parse"
)

// skiffPort is skiff's HTTP port: next to Fluent Bit's 2020, so that both
// can run on a node during a migration.
const skiffPort = "2021"

// translateService translates [SERVICE].
func (t *translator) translateService() {
	for _, s := range t.cfg.Of("service") {
		server, hasServer := s.Get("http_server")
		for i := range s.Entries {
			e := &s.Entries[i]
			switch k := strings.ToLower(e.Key); k {
			case "flush":
				secs, err := strconv.ParseFloat(e.Value, 64)
				if err != nil || secs <= 0 {
					t.item(s, e, Changed, "not a number of seconds: cloudwatch.flush_interval keeps skiff's default (1s)")
					continue
				}
				d := config.Duration(time.Duration(secs * float64(time.Second)))
				t.setGlobal(s, e, []string{"cloudwatch", "flush_interval"}, d.String(), ": the longest a line waits in a batch")
			case "grace":
				t.item(s, e, Changed, "skiff's shutdown_timeout (25s) bounds the flush at SIGTERM; keep it below the pod's terminationGracePeriodSeconds (30s by default)")
			case "log_level":
				level, ok := map[string]string{"error": "error", "warn": "warn", "warning": "warn", "info": "info", "debug": "debug", "trace": "debug"}[strings.ToLower(e.Value)]
				if !ok {
					t.item(s, e, Changed, "log.level keeps skiff's default (info): skiff always logs errors")
					continue
				}
				t.set(s, e, []string{"log", "level"}, level, "")
			case "daemon":
				t.item(s, e, Changed, "not needed: skiff runs in the foreground")
			case "parsers_file":
				if slices.ContainsFunc(t.cfg.MissingParsers, func(m Entry) bool { return m.Pos == e.Pos }) {
					t.item(s, e, Changed, "not found beside the configuration (Fluent Bit's own parsers.conf is in its image): a parser of it that is used is taken as skiff's built-in of the same name (%s)", strings.Join(parse.Builtins(), ", "))
					continue
				}
				t.item(s, e, Translated, "read: its parsers are translated where they are used")
			case "plugins_file":
				t.item(s, e, Changed, "not needed: external plugins are reported where the pipeline uses them")
			case "http_server":
				t.httpServer(s, e)
			case "http_listen", "http_port":
				switch {
				case len(server.Unresolved) > 0:
					t.item(s, e, Changed, "see HTTP_Server")
				case hasServer && isOn(server.Value):
					t.item(s, e, Translated, "part of http.listen, with HTTP_Server")
				default:
					t.item(s, e, Changed, "not used: HTTP_Server is off")
				}
			case "health_check", "hc_errors_count", "hc_retry_failure_count", "hc_period":
				t.item(s, e, Changed, "skiff always serves /healthz (liveness) and /readyz (readiness) on http.listen")
			default:
				if !t.common(s, e) {
					t.item(s, e, Changed, "no skiff equivalent: left out")
				}
			}
		}
	}
}

// httpServer translates HTTP_Server, HTTP_Listen and HTTP_Port into
// http.listen, on skiff's port.
func (t *translator) httpServer(s *Section, e *Entry) {
	if len(e.Unresolved) > 0 {
		t.item(s, e, Changed, "depends on ${%s}, which is not set here: http.listen keeps skiff's default (127.0.0.1:2021); pass --set %s=On to translate it", e.Unresolved[0], e.Unresolved[0])
		return
	}
	if !isOn(e.Value) {
		t.item(s, e, Changed, "skiff's http.listen stays 127.0.0.1:2021, loopback only, for its /healthz and /readyz (\"off\" turns it off)")
		return
	}
	host := s.Value("http_listen")
	if host == "" {
		host = "0.0.0.0" // Fluent Bit's default
	}
	if _, _, err := net.SplitHostPort(net.JoinHostPort(host, skiffPort)); err != nil || strings.ContainsAny(host, "$ ") {
		t.item(s, e, Changed, "HTTP_Listen %q is not a host: http.listen keeps skiff's default (127.0.0.1:2021)", host)
		return
	}
	why := fmt.Sprintf(": /metrics, /healthz, /readyz on skiff's port %s, next to Fluent Bit's %s so both can run during the migration", skiffPort, cmp.Or(s.Value("http_port"), "2020"))
	t.set(s, e, []string{"http", "listen"}, net.JoinHostPort(host, skiffPort), why)
}

// translateParsers writes the parsers and multi-line rules that are used,
// and reports every [PARSER] and [MULTILINE_PARSER].
func (t *translator) translateParsers() {
	for _, p := range t.cfg.Of("parser") {
		name := p.Value("name")
		format := strings.ToLower(p.Value("format"))
		custom := format == "regex" && !slices.Contains(parse.Builtins(), name)
		switch {
		case t.decoders[p] && !t.used[p]:
			t.item(p, nil, Changed, "not needed: skiff decodes the container runtime's format (CRI, docker json-file) itself")
			continue
		case !t.used[p]:
			t.item(p, nil, Changed, "not used by anything translated: left out")
			continue
		case custom:
			t.item(p, nil, Translated, "parsers.custom.%s", name)
		default:
			t.item(p, nil, Translated, "skiff's built-in parser")
		}
		for i := range p.Entries {
			e := &p.Entries[i]
			switch k := strings.ToLower(e.Key); {
			case k == "name":
			case k == "format":
				t.item(p, e, Translated, "%s", map[bool]string{true: "parsers.custom." + name + ": a regex", false: "skiff's built-in"}[custom])
			case k == "regex" && custom:
				t.set(p, e, []string{"parsers", "custom", name, "regex"}, fbRegex(e.Value), "")
			case k == "types" && custom:
				types, skipped := parserTypes(e.Value)
				if len(types) > 0 {
					t.set(p, e, []string{"parsers", "custom", name, "types"}, types, "")
				}
				if len(skipped) > 0 {
					t.item(p, e, Changed, "skiff's fields are strings unless integer, float or bool: %s stay strings", strings.Join(skipped, ", "))
				}
			case k == "regex", k == "types":
				t.item(p, e, Changed, "skiff's built-in parser of this name has these fields (as strings)")
			case strings.HasPrefix(k, "time_"):
				t.item(p, e, Changed, "skiff keeps the time the runtime wrote as the record's time; the parsed field stays as written")
			default:
				t.item(p, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
	for _, p := range t.cfg.Of("multiline_parser") {
		if !t.used[p] {
			t.item(p, nil, Changed, "not used by anything translated: left out")
			continue
		}
		r := t.customMultiline(p)
		from := t.doc.from(p, nil)
		t.doc.set([]string{"multiline", "custom", r.name, "start"}, r.start, from)
		t.doc.set([]string{"multiline", "custom", r.name, "continuation"}, r.cont, from)
		t.item(p, nil, Translated, "multiline.custom.%s: start %s, continuation %s", r.name, r.start, r.cont)
		for i := range p.Entries {
			e := &p.Entries[i]
			switch strings.ToLower(e.Key) {
			case "name":
			case "type", "rule":
				t.item(p, e, Translated, "part of multiline.custom.%s", r.name)
			case "flush_timeout":
				if r.quiet > 0 {
					t.setShared(p, e, []string{"multiline", "quiet"}, config.Duration(r.quiet).String(), ": how long a record waits for its next line")
				}
			default:
				t.item(p, e, Changed, "no skiff equivalent: left out")
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.oldRules)) {
		r := t.oldRules[name]
		for _, sk := range t.skiff {
			if sk.multiline != name {
				continue
			}
			from := strings.Join(sk.from["multiline"], "\n")
			t.doc.set([]string{"multiline", "custom", name, "start"}, r.start, from)
			t.doc.set([]string{"multiline", "custom", name, "continuation"}, r.cont, from)
		}
	}
}

// parserTypes reads "key:type key:type" into skiff's types, and lists
// those it has no type for.
func parserTypes(v string) (map[string]string, []string) {
	types := map[string]string{}
	var skipped []string
	for _, kv := range strings.Fields(v) {
		k, typ, _ := strings.Cut(kv, ":")
		switch typ = strings.ToLower(typ); typ {
		case "integer", "float", "bool":
			types[k] = typ
		case "string":
		default:
			skipped = append(skipped, kv)
		}
	}
	return types, skipped
}
