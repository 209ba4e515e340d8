package fluentbit

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/skiff-agent/skiff/enrich/parse"
	"github.com/skiff-agent/skiff/tailer/multiline"
)

// mlRule is a [MULTILINE_PARSER] (or a tail's Parser_Firstline) as a
// skiff multiline.custom rule, or why it is not one.
type mlRule struct {
	name, start, cont string
	quiet             time.Duration
	problem           string
}

// isContainerDecoder reports whether a tail input's Parser decodes the
// container runtime's format, which skiff does itself.
func (t *translator) isContainerDecoder(name string) bool {
	switch strings.ToLower(name) {
	case "docker", "cri", "json", "docker-daemon", "containerd", "crio", "cri-o":
		return true
	}
	p := t.parsers[name]
	return p != nil && strings.EqualFold(p.Value("format"), "json")
}

// tailParser translates a tail input's Parser.
func (t *translator) tailParser(sk *skInput, in *fbInput, e *Entry) {
	if in.kind == kindContainers {
		if t.isContainerDecoder(e.Value) {
			if p := t.parsers[e.Value]; p != nil {
				t.decoders[p] = true
			}
			t.item(in.s, e, Translated, "built in: skiff decodes CRI and docker json-file lines itself")
			return
		}
		t.item(in.s, e, NotTranslated, "parses the file's raw lines; skiff decodes the container format itself and parses the log with a parser (tail.parser, parsers.containers, skiff.io/parser)")
		return
	}
	name, why := t.parserRef(e.Value)
	if name == "" {
		t.item(in.s, e, NotTranslated, "%s", why)
		return
	}
	sk.parser = name
	sk.addFrom("parser", t.doc.from(in.s, e))
	t.item(in.s, e, Translated, "%s: %s%s", sk.key("parser"), name, why)
}

// parserRef returns the skiff parser of a Fluent Bit parser's name, with
// a remark, or "" and why there is none.
func (t *translator) parserRef(name string) (string, string) {
	builtin := slices.Contains(parse.Builtins(), name)
	p := t.parsers[name]
	if p == nil {
		switch {
		case builtin:
			return name, " (skiff's built-in of the same name)"
		case name == "docker":
			return "json", " (Fluent Bit's docker parser is JSON)"
		}
		return "", fmt.Sprintf("parser %q is not defined here (and is not one of skiff's: %s)", name, strings.Join(parse.Builtins(), ", "))
	}
	switch format := strings.ToLower(p.Value("format")); format {
	case "json", "logfmt":
		t.used[p] = true
		return format, fmt.Sprintf(" (a %s parser: skiff's built-in)", format)
	case "regex":
		if builtin {
			t.used[p] = true
			return name, " (assumed to be Fluent Bit's stock parser of that name: skiff's built-in has its fields)"
		}
		if _, err := regexp.Compile(p.Value("regex")); err != nil {
			return "", fmt.Sprintf("parser %s's Regex is not an RE2 regular expression: %v", name, err)
		}
		t.used[p] = true
		return name, " (parsers.custom." + name + ")"
	default:
		return "", fmt.Sprintf("parser %s has Format %s: skiff's parsers are regex, json and logfmt", name, format)
	}
}

// multilineParsers translates a multiline.parser list for sk.
func (t *translator) multilineParsers(sk *skInput, s *Section, e *Entry) {
	var done []string
	for _, name := range splitList(e.Value) {
		switch lower := strings.ToLower(name); {
		case lower == "docker" || lower == "cri":
			done = append(done, name+": built in (partial lines are joined)")
		case sk.typ != "files":
			t.item(s, e, NotTranslated, "inputs.%s reads the journal: skiff's multi-line rules are for files", sk.name)
			return
		case t.mlParsers[name] != nil:
			r := t.customMultiline(t.mlParsers[name])
			if r.problem != "" {
				t.item(s, e, NotTranslated, "%s: %s", name, r.problem)
				return
			}
			done = append(done, t.setRule(sk, s, e, r.name)+" (multiline.custom."+r.name+")")
		case slices.Contains(multiline.Builtins(), lower):
			done = append(done, t.setRule(sk, s, e, lower)+" (skiff's built-in rule)")
		default:
			t.item(s, e, NotTranslated, "%s: not a multiline parser of this configuration, nor one of skiff's rules (%s)", name, strings.Join(multiline.Builtins(), ", "))
			return
		}
	}
	t.item(s, e, Translated, "%s", strings.Join(done, "; "))
}

// setRule makes rule sk's multi-line rule, unless it has one.
func (t *translator) setRule(sk *skInput, s *Section, e *Entry, rule string) string {
	if sk.multiline != "" && sk.multiline != rule {
		return fmt.Sprintf("%s: skiff takes one rule per input; %s keeps %s", rule, sk.key("multiline"), sk.multiline)
	}
	sk.multiline = rule
	sk.addFrom("multiline", t.doc.from(s, e))
	return sk.key("multiline") + ": " + rule
}

// ruleTokens splits a classic rule line: "state" "/regex/" "next".
func ruleTokens(v string) []string {
	var out []string
	for v = strings.TrimSpace(v); v != ""; v = strings.TrimSpace(v) {
		if v[0] != '"' {
			end := strings.IndexAny(v, " \t")
			if end < 0 {
				end = len(v)
			}
			out = append(out, v[:end])
			v = v[end:]
			continue
		}
		var b strings.Builder
		i := 1
		for ; i < len(v) && v[i] != '"'; i++ {
			if v[i] == '\\' && i+1 < len(v) && v[i+1] == '"' {
				i++
			}
			b.WriteByte(v[i])
		}
		out = append(out, b.String())
		v = v[min(i+1, len(v)):]
	}
	return out
}

// customMultiline translates a [MULTILINE_PARSER] of the simple shape
// skiff's custom rules have: rules from "start_state" to one state, and
// rules of that state that stay in it.
func (t *translator) customMultiline(p *Section) mlRule {
	name := p.Value("name")
	r := mlRule{name: name}
	if slices.Contains(multiline.Builtins(), name) {
		r.name = name + "-custom"
	}
	if typ := strings.ToLower(p.Value("type")); typ != "regex" {
		r.problem = fmt.Sprintf("type %s: skiff's custom rules are regular expressions", typ)
		return r
	}
	var starts, conts []string
	cont := ""
	for _, e := range p.All("rule") {
		tok := ruleTokens(e.Value)
		if len(tok) != 3 {
			r.problem = fmt.Sprintf("rule %s: want \"state\" \"/regex/\" \"next state\"", e.Value)
			return r
		}
		state, re, next := tok[0], strings.TrimSuffix(strings.TrimPrefix(tok[1], "/"), "/"), tok[2]
		if _, err := regexp.Compile(re); err != nil {
			r.problem = fmt.Sprintf("%s is not an RE2 regular expression: %v", tok[1], err)
			return r
		}
		if cont == "" && state == "start_state" {
			cont = next
		}
		switch {
		case state == "start_state" && next == cont && next != "start_state":
			starts = append(starts, re)
		case state == cont && next == cont && state != "start_state":
			conts = append(conts, re)
		default:
			r.problem = "more states than a start and a continuation: skiff's custom rules are two patterns"
			return r
		}
	}
	if len(starts) == 0 || len(conts) == 0 {
		r.problem = "no start_state rule, or no continuation rule"
		return r
	}
	r.start, r.cont = alternation(starts), alternation(conts)
	if _, err := multiline.New(r.name, r.start, r.cont); err != nil {
		r.problem = err.Error()
		return r
	}
	if ms := p.Value("flush_timeout"); ms != "" {
		if d, err := time.ParseDuration(ms + "ms"); err == nil {
			r.quiet = d
		}
	}
	t.used[p] = true
	return r
}

func alternation(res []string) string {
	if len(res) == 1 {
		return res[0]
	}
	return "(?:" + strings.Join(res, ")|(?:") + ")"
}

// oldMultiline translates tail's Multiline On with Parser_Firstline and
// Parser_N: a rule whose start is the first-line parser's regex and whose
// continuation is the others'.
func (t *translator) oldMultiline(sk *skInput, s *Section, e *Entry) {
	k := strings.ToLower(e.Key)
	if k != "multiline" {
		if isOn(s.Value("multiline")) {
			t.item(s, e, Translated, "part of the rule of Multiline, above")
		} else {
			t.item(s, e, Changed, "not used: Multiline is off")
		}
		return
	}
	if !isOn(e.Value) {
		t.item(s, e, Translated, "off, as skiff's default")
		return
	}
	regexOf := func(name string) (string, bool) {
		p := t.parsers[name]
		if p == nil || !strings.EqualFold(p.Value("format"), "regex") {
			return "", false
		}
		_, err := regexp.Compile(p.Value("regex"))
		return p.Value("regex"), err == nil
	}
	first, ok := regexOf(s.Value("parser_firstline"))
	if !ok {
		t.item(s, e, NotTranslated, "Parser_Firstline %q is not a regex parser of this configuration that RE2 takes", s.Value("parser_firstline"))
		return
	}
	var conts []string
	for _, pe := range s.Entries {
		if n := strings.ToLower(pe.Key); strings.HasPrefix(n, "parser_") && n != "parser_firstline" {
			if re, ok := regexOf(pe.Value); ok {
				conts = append(conts, re)
			}
		}
	}
	if len(conts) == 0 {
		t.item(s, e, NotTranslated, "Fluent Bit joins every line that does not match Parser_Firstline; a skiff rule needs a continuation pattern (RE2 has no negative lookahead): write multiline.custom yourself, or use a built-in rule")
		return
	}
	name := s.Value("parser_firstline") + "-multiline"
	if t.oldRules == nil {
		t.oldRules = map[string]mlRule{}
	}
	t.oldRules[name] = mlRule{name: name, start: first, cont: alternation(conts)}
	t.item(s, e, Translated, "%s (multiline.custom.%s: start from Parser_Firstline, continuation from Parser_N)", t.setRule(sk, s, e, name), name)
}
