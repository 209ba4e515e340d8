package parse

import (
	"bytes"
	"encoding/json"
	"maps"
	"strconv"
	"testing"
	"unicode/utf8"
)

// checkObject fails unless out is one valid JSON object, valid UTF-8, with unique keys at every level.
func checkObject(t *testing.T, name string, line, out []byte) {
	t.Helper()
	if !utf8.Valid(out) {
		t.Fatalf("%s.Parse(%q) = %q: invalid UTF-8", name, line, out)
	}
	if !json.Valid(out) || len(out) == 0 || out[0] != '{' {
		t.Fatalf("%s.Parse(%q) = %q: not a JSON object", name, line, out)
	}
}

// checkUniqueKeys fails if the object out has a key twice.
func checkUniqueKeys(t *testing.T, name string, line, out []byte) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%s.Parse(%q) = %q: %v", name, line, out, err)
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	n, depth := 0, 0 // n counts the keys and values of the top level
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if depth == 1 && tok != json.Delim('}') {
			n++
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
	if keys := n / 2; keys != len(m) {
		t.Fatalf("%s.Parse(%q) = %q: %d keys, %d unique", name, line, out, keys, len(m))
	}
}

// parseChecked parses line after a prefix and checks that the prefix is kept and that a refusal leaves
// dst unchanged; it returns the object.
func parseChecked(t *testing.T, p Parser, line []byte) ([]byte, bool) {
	t.Helper()
	dst := []byte("prefix")
	out, ok := p.Parse(dst, line)
	if !bytes.HasPrefix(out, dst) || !ok && len(out) != len(dst) {
		t.Fatalf("%s.Parse(%q) = %q, %v: dst not kept", p.Name(), line, out, ok)
	}
	out = out[len(dst):]
	if ok {
		checkObject(t, p.Name(), line, out)
	}
	return out, ok
}

func addSamples(f *testing.F, names ...string) {
	for _, name := range names {
		for _, line := range readSamples(f, name) {
			f.Add(line)
		}
	}
}

func FuzzJSON(f *testing.F) {
	addSamples(f, "json")
	for _, s := range []string{`{}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `{"a":[1,{"b":null}],"c":-0.5e+7}`, `[1]`, `{"a":01}`} {
		f.Add([]byte(s))
	}
	p := builtin(f, "json")
	f.Fuzz(func(t *testing.T, line []byte) {
		out, ok := parseChecked(t, p, line)
		trimmed := trimJSONSpace(line)
		want := json.Valid(trimmed) && len(trimmed) > 0 && trimmed[0] == '{'
		if ok != want {
			t.Fatalf("json.Parse(%q) accepted = %v; encoding/json says %v", line, ok, want)
		}
		if ok && utf8.Valid(trimmed) && !bytes.Equal(out, trimmed) {
			t.Fatalf("json.Parse(%q) = %q; want the line as it is", line, out)
		}
	})
}

func FuzzLogfmt(f *testing.F) {
	addSamples(f, "logfmt")
	for _, s := range []string{
		`a=1 b`, `a="\u00e9\x41\101" a=2`, `a= b="" c`, "\xff=1 \xfe=\"\xfd\"", `a="x\"`,
		"key\x00value with blanks\x00k2\x00\x00k3\x00plain\x00key\x00again\x00\xff\x00\\\"\n\x01",
	} {
		f.Add([]byte(s))
	}
	p := builtin(f, "logfmt")
	f.Fuzz(func(t *testing.T, data []byte) {
		// Any line: a valid object with unique keys, or a refusal.
		if out, ok := parseChecked(t, p, data); ok {
			checkUniqueKeys(t, "logfmt", data, out)
		}

		// A round trip: a map read from the data (NUL-separated keys and values), written as logfmt,
		// parses back to the same map.
		fields := bytes.Split(data, []byte{0})
		var kvs []string
		for _, f := range fields {
			kvs = append(kvs, string(f))
		}
		checkLogfmtRoundTrip(t, p, kvs)
	})
}

// checkLogfmtRoundTrip writes the keys and values kvs (k1, v1, k2, v2...) as logfmt, some values
// unquoted where they can be, and checks that the line parses back to the map they make.
func checkLogfmtRoundTrip(t *testing.T, p Parser, kvs []string) {
	t.Helper()
	want := map[string]any{}
	var line []byte
	for i := 0; i+1 < len(kvs); i += 2 {
		k := logfmtKey(kvs[i])
		if k == "" {
			continue
		}
		v := string([]rune(kvs[i+1])) // invalid bytes as U+FFFD, as the parser reads them
		want[k] = v
		line = append(line, k...)
		line = append(line, '=')
		if logfmtPlain(v) && i%4 == 0 {
			line = append(line, v...)
		} else {
			line = strconv.AppendQuote(line, v)
		}
		line = append(line, ' ')
	}
	out, ok := p.Parse(nil, line)
	if ok != (len(want) > 0) {
		t.Fatalf("logfmt.Parse(%q) accepted = %v; want %v", line, ok, len(want) > 0)
	}
	if !ok {
		return
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("logfmt.Parse(%q) = %q: %v", line, out, err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("logfmt.Parse(%q) = %v; want %v", line, got, want)
	}
}

// logfmtKey keeps the bytes of b that a logfmt key may hold, as valid UTF-8.
func logfmtKey(s string) string {
	var k []rune
	for _, r := range s {
		if r > ' ' && r != '=' && r != '"' {
			k = append(k, r)
		}
	}
	return string(k)
}

// logfmtPlain reports whether v can be written unquoted.
func logfmtPlain(v string) bool {
	if v == "" {
		return false // k= is "" too, but write it quoted to test that
	}
	for i := range len(v) {
		if v[i] <= ' ' || v[i] == '"' {
			return false
		}
	}
	return true
}

func FuzzKlog(f *testing.F) {
	addSamples(f, "klog")
	f.Add([]byte(`I0101 00:00:00.000000       1 x.go:1] "m" a="1" a={"b":"c d"} time="t" e=&{x y}`))
	p := builtin(f, "klog")
	f.Fuzz(func(t *testing.T, line []byte) {
		if out, ok := parseChecked(t, p, line); ok {
			checkUniqueKeys(t, "klog", line, out)
		}
	})
}

func FuzzRegex(f *testing.F) {
	names := []string{"nginx", "apache2", "k8s-nginx-ingress", "syslog-rfc5424", "syslog-rfc3164", "apache_error"}
	addSamples(f, names...)
	var parsers []Parser
	for _, name := range names {
		parsers = append(parsers, builtin(f, name))
	}
	typed, err := NewRegex("typed", `^(?P<n>\S*) (?P<f>\S*) (?P<b>\S*) (?P<s>.*)$`,
		map[string]string{"n": "integer", "f": "float", "b": "bool"})
	if err != nil {
		f.Fatal(err)
	}
	parsers = append(parsers, typed)
	f.Add([]byte("1 2.5 true rest"))
	f.Add([]byte("+1 1e999 T \xff\"\\"))
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, p := range parsers {
			if out, ok := parseChecked(t, p, line); ok {
				checkUniqueKeys(t, p.Name(), line, out)
			}
		}
	})
}

// FuzzUnquote checks the quoted-string decoder against strconv.Unquote on strings strconv.Quote wrote.
func FuzzUnquote(f *testing.F) {
	f.Add([]byte("a\"b\\c\n\x00\x7f\xff é 😀 \u2028"))
	f.Fuzz(func(t *testing.T, data []byte) {
		q := []byte(strconv.Quote(string(data)))
		out, end, ok := appendUnquoted(nil, q, 0)
		if !ok || end != len(q) {
			t.Fatalf("appendUnquoted(%s) = %q, %d, %v", q, out, end, ok)
		}
		if e, ok := skipQuoted(q, 0); !ok || e != end {
			t.Fatalf("skipQuoted(%s) = %d, %v; want %d, true", q, e, ok, end)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil || !utf8.Valid(out) {
			t.Fatalf("appendUnquoted(%s) = %q: %v", q, out, err)
		}
		if want := string([]rune(string(data))); got != want {
			t.Fatalf("appendUnquoted(%s) = %q; want %q", q, got, want)
		}

		// Whatever the bytes after a quote: the decoder and the validator agree, and the output is valid.
		raw := append([]byte{'"'}, data...)
		out, end, ok = appendUnquoted(nil, raw, 0)
		e, ok2 := skipQuoted(raw, 0)
		if ok != ok2 || ok && e != end {
			t.Fatalf("appendUnquoted(%q) = %d, %v; skipQuoted = %d, %v", raw, end, ok, e, ok2)
		}
		if ok && (!json.Valid(out) || !utf8.Valid(out)) {
			t.Fatalf("appendUnquoted(%q) = %q: not a valid JSON string", raw, out)
		}
	})
}
