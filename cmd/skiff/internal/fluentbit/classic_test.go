package fluentbit

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// show is a compact form of parsed sections for test messages.
func sections(ss []*Section) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "[%s]", s.Kind)
		for _, e := range s.Entries {
			fmt.Fprintf(&b, " %s=%s", e.Key, e.Value)
		}
		for _, g := range s.Groups {
			fmt.Fprintf(&b, " {%s", g.Kind)
			for _, e := range g.Entries {
				fmt.Fprintf(&b, " %s=%s", e.Key, e.Value)
			}
			b.WriteString("}")
		}
		b.WriteString("; ")
	}
	return b.String()
}

// memFS serves files from a map, for Load.
type memFS map[string]string

func (m memFS) options() Options {
	return Options{
		ReadFile: func(name string) ([]byte, error) {
			if s, ok := m[name]; ok {
				return []byte(s), nil
			}
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		},
		Glob: func(pattern string) ([]string, error) {
			var out []string
			for name := range m {
				if ok, _ := path.Match(pattern, name); ok {
					out = append(out, name)
				}
			}
			return out, nil
		},
	}
}

func TestParseClassic(t *testing.T) {
	for _, c := range []struct {
		name, in, want, err string
	}{
		{"sections and entries", "[SERVICE]\n    Flush 5\n\n[INPUT]\n    Name tail\n    Path /var/log/*.log\n",
			"[service] Flush=5; [input] Name=tail Path=/var/log/*.log; ", ""},
		{"section names and keys keep their case; kinds are lower case", "[Output]\n    NAME  cloudwatch_logs\n",
			"[output] NAME=cloudwatch_logs; ", ""},
		{"the value runs to the end of the line, trimmed", "[FILTER]\n    Rename   _HOSTNAME    hostname  \n",
			"[filter] Rename=_HOSTNAME    hostname; ", ""},
		{"a tab separates key and value too", "[INPUT]\n\tName\ttail\n", "[input] Name=tail; ", ""},
		{"comments: at the start, or indented; none at the end of a line", "# top\n[INPUT]\n    # indented\n    Name tail # not a comment\n#x\n",
			"[input] Name=tail # not a comment; ", ""},
		{"blank and white-space lines", "[INPUT]\n\n    \n    Name tail\n\t\n", "[input] Name=tail; ", ""},
		{"CRLF line ends", "[INPUT]\r\n    Name tail\r\n    Tag kube.*\r\n", "[input] Name=tail Tag=kube.*; ", ""},
		{"no newline at the end", "[INPUT]\n    Name tail", "[input] Name=tail; ", ""},
		{"any consistent indentation", "[INPUT]\n  Name tail\n[OUTPUT]\n  Name null\n", "[input] Name=tail; [output] Name=null; ", ""},
		{"a key written twice is two entries", "[INPUT]\n    Systemd_Filter A=1\n    Systemd_Filter A=2\n",
			"[input] Systemd_Filter=A=1 Systemd_Filter=A=2; ", ""},
		{"no continuation lines: a trailing backslash is part of the value", "[PARSER]\n    Regex ^a\\\n    Name x\n",
			`[parser] Regex=^a\ Name=x; `, ""},
		{"groups: indented twice", "[INPUT]\n    Name tail\n    [PROCESSOR]\n        Name lua\n    Tag x\n",
			"[input] Name=tail Tag=x {processor Name=lua}; ", ""},
		{"@SET and @INCLUDE are not entries", "@SET a=b\n[INPUT]\n    Name tail\n", "[input] Name=tail; ", ""},
		{"an entry must be indented", "[INPUT]\nName tail\n", "", "must be indented"},
		{"deeper indentation is not a continuation", "[INPUT]\n    Name tail\n      Tag x\n", "", "extra indentation"},
		{"less indentation than the file's", "[INPUT]\n    Name tail\n  Tag x\n", "", "invalid indentation"},
		{"tabs and spaces mixed", "[INPUT]\n    Name tail\n\tTag x\n", "", "invalid indentation"},
		{"a key needs a value", "[INPUT]\n    Name\n", "", `key "Name" has no value`},
		{"a header needs its ]", "[INPUT\n    Name tail\n", "", "no closing ]"},
		{"an empty header", "[]\n", "", "empty section name"},
		{"an unknown command", "@FOO bar\n", "", "unknown command"},
		{"@SET needs =", "@SET a\n", "", "want @SET KEY=VALUE"},
		{"an entry outside a section", "    Name tail\n", "", "outside a [SECTION]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Load("f.conf", memFS{"f.conf": c.in}.options())
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || !strings.HasPrefix(err.Error(), "f.conf:") {
					t.Fatalf("Load(%q) = %v; want an error with f.conf:LINE and %q", c.in, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(%q): %v", c.in, err)
			}
			if got := sections(cfg.Sections); got != c.want {
				t.Errorf("Load(%q) = %s; want %s", c.in, got, c.want)
			}
		})
	}
}

// Lines are numbered as in the file, whatever is skipped.
func TestParseClassicPositions(t *testing.T) {
	cfg, err := Load("f.conf", memFS{"f.conf": "# c\n\n[INPUT]\n    # c\n    Name tail\n\n    Tag x\n"}.options())
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sections[0]
	if s.Pos != (Pos{"f.conf", 3}) || s.Entries[0].Pos != (Pos{"f.conf", 5}) || s.Entries[1].Pos != (Pos{"f.conf", 7}) {
		t.Errorf("positions %v %v %v; want f.conf:3, :5, :7", s.Pos, s.Entries[0].Pos, s.Entries[1].Pos)
	}
	if e, ok := s.Get("TAG"); !ok || e.Value != "x" || s.Plugin() != "tail" {
		t.Errorf("Get(TAG) = %v, %v; Plugin() = %q: keys are case-insensitive", e, ok, s.Plugin())
	}
}

func TestLoadIncludes(t *testing.T) {
	files := memFS{
		"/etc/fb/fluent-bit.conf":  "[SERVICE]\n    Flush 1\n@INCLUDE inputs/in-*.conf\n@INCLUDE /abs/out.conf\n    Grace 5\n",
		"/etc/fb/inputs/in-b.conf": "[INPUT]\n    Name b\n",
		"/etc/fb/inputs/in-a.conf": "[INPUT]\n    Name a\n@INCLUDE inputs/c.conf\n", // relative to the main file's directory
		"/etc/fb/inputs/c.conf":    "[INPUT]\n    Name c\n",
		"/abs/out.conf":            "[OUTPUT]\n    Name null\n",
	}
	cfg, err := Load("/etc/fb/fluent-bit.conf", files.options())
	if err != nil {
		t.Fatal(err)
	}
	// A file's entries after an @INCLUDE still belong to its section.
	want := "[service] Flush=1 Grace=5; [input] Name=a; [input] Name=c; [input] Name=b; [output] Name=null; "
	if got := sections(cfg.Sections); got != want {
		t.Errorf("sections %s; want %s", got, want)
	}
	wantFiles := []string{"/etc/fb/fluent-bit.conf", "/etc/fb/inputs/in-a.conf", "/etc/fb/inputs/c.conf", "/etc/fb/inputs/in-b.conf", "/abs/out.conf"}
	if !reflect.DeepEqual(cfg.Files, wantFiles) {
		t.Errorf("files %v; want %v", cfg.Files, wantFiles)
	}
}

func TestLoadIncludeErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		files memFS
		err   error
		where string
	}{
		{"a cycle", memFS{"/m.conf": "@INCLUDE a.conf\n", "/a.conf": "@INCLUDE b.conf\n", "/b.conf": "[INPUT]\n    Name x\n@INCLUDE a.conf\n"}, ErrIncludedTwice, "/b.conf:3:"},
		{"itself", memFS{"/m.conf": "@INCLUDE m.conf\n"}, ErrIncludedTwice, "/m.conf:1:"},
		{"itself, by a glob", memFS{"/m.conf": "@INCLUDE *.conf\n"}, ErrIncludedTwice, "/m.conf:1:"},
		{"a glob that matches nothing", memFS{"/m.conf": "[SERVICE]\n    Flush 1\n@INCLUDE conf.d/*.conf\n"}, ErrNoMatch, "/m.conf:3:"},
		{"a missing file", memFS{"/m.conf": "@INCLUDE nope.conf\n"}, fs.ErrNotExist, "/m.conf:1:"},
		{"an error in an included file", memFS{"/m.conf": "@INCLUDE a.conf\n", "/a.conf": "[INPUT]\nName x\n"}, nil, "/a.conf:2:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load("/m.conf", c.files.options())
			if err == nil || c.err != nil && !errors.Is(err, c.err) || !strings.HasPrefix(err.Error(), c.where) {
				t.Errorf("Load = %v; want %v at %s", err, c.err, c.where)
			}
		})
	}
}

func TestLoadVariables(t *testing.T) {
	files := memFS{"/m.conf": "@SET group=/eks/${CLUSTER}\n[OUTPUT]\n    Name cloudwatch_logs\n    log_group_name ${group}/app\n" +
		"    region ${AWS_REGION}\n    log_stream_prefix ${HOST_NAME}-${HOST_NAME}\n    role_arn ${broken\n@SET late=yes\n    endpoint ${late}\n"}
	opt := files.options()
	opt.Lookup = func(name string) (string, bool) {
		v, ok := map[string]string{"AWS_REGION": "eu-west-1", "late": "no"}[name]
		return v, ok
	}
	cfg, err := Load("/m.conf", opt)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.Sections[0]
	for key, want := range map[string]string{
		"log_group_name":    "/eks/${CLUSTER}/app", // @SET values are taken as written
		"region":            "eu-west-1",           // the lookup, when the files set nothing
		"log_stream_prefix": "${HOST_NAME}-${HOST_NAME}",
		"role_arn":          "${broken", // no }: text
		"endpoint":          "yes",      // @SET wins, wherever it is
	} {
		if got := s.Value(key); got != want {
			t.Errorf("%s = %q; want %q", key, got, want)
		}
	}
	if e, _ := s.Get("log_stream_prefix"); !reflect.DeepEqual(e.Unresolved, []string{"HOST_NAME"}) {
		t.Errorf("Unresolved = %v; want [HOST_NAME]", e.Unresolved)
	}
}

// Parsers_File files are read; one that is not there (Fluent Bit's own
// parsers.conf, in its image) is listed, not an error.
func TestLoadParsersFile(t *testing.T) {
	files := memFS{
		"/fb/fluent-bit.conf": "[SERVICE]\n    Parsers_File parsers.conf\n    Parsers_File /fluent-bit/etc/parsers.conf\n    Parsers_File parsers.conf\n",
		"/fb/parsers.conf":    "[PARSER]\n    Name p\n    Format json\n",
	}
	cfg, err := Load("/fb/fluent-bit.conf", files.options())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Of("parser")) != 1 || len(cfg.MissingParsers) != 1 || cfg.MissingParsers[0].Pos.Line != 3 {
		t.Errorf("parsers %s, missing %v; want one parser and line 3 missing", sections(cfg.Of("parser")), cfg.MissingParsers)
	}
}

func TestParseYAML(t *testing.T) {
	files := memFS{
		"/fb/fluent-bit.yaml": `env:
  GROUP: /eks/prod
includes:
  - more.yaml
service:
  Flush: 1
  http_server: on
pipeline:
  inputs:
    - name: systemd
      tag: host.*
      systemd_filter: [_SYSTEMD_UNIT=a.service, _SYSTEMD_UNIT=b.service]
      processors:
        logs:
          - name: lua
  outputs:
    - name: cloudwatch_logs
      match: '*'
      log_group_name: ${GROUP}
multiline_parsers:
  - name: ml
    type: regex
    rules:
      - {state: start_state, regex: '/^\d "x"/', next_state: cont}
      - {state: cont, regex: '/^\s/', next_state: cont}
`,
		"/fb/more.yaml": "pipeline:\n  filters:\n    - name: grep\n      match: '*'\n      exclude: log ^$\n",
	}
	cfg, err := Load("/fb/fluent-bit.yaml", files.options())
	if err != nil {
		t.Fatal(err)
	}
	want := `[filter] name=grep match=* exclude=log ^$; [service] Flush=1 http_server=on; ` +
		`[input] name=systemd tag=host.* systemd_filter=_SYSTEMD_UNIT=a.service systemd_filter=_SYSTEMD_UNIT=b.service {processors}; ` +
		`[output] name=cloudwatch_logs match=* log_group_name=/eks/prod; ` +
		`[multiline_parser] name=ml type=regex rule="start_state" "/^\d \"x\"/" "cont" rule="cont" "/^\s/" "cont"; `
	if got := sections(cfg.Sections); got != want {
		t.Errorf("sections\n%s\nwant\n%s", got, want)
	}
	if got := ruleTokens(cfg.Of("multiline_parser")[0].Entries[2].Value); !slices.Equal(got, []string{"start_state", `/^\d "x"/`, "cont"}) {
		t.Errorf("ruleTokens = %q", got)
	}
	for _, bad := range []string{"pipeline: [a]\n", "pipeline:\n  inputz: []\n", "- a\n", "service: [a]\n", "a: [\n"} {
		if _, err := Load("/x.yaml", memFS{"/x.yaml": bad}.options()); err == nil || !strings.HasPrefix(err.Error(), "/x.yaml") {
			t.Errorf("Load(%q) = %v; want an error at /x.yaml", bad, err)
		}
	}
}
