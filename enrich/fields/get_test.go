package fields

import (
	"fmt"
	"strings"
	"testing"
)

const sample = `{"level":"info", "msg" : "caf\u00e9 \"q\"\n", "n":-1.5e3, "ok":true, "nil":null,
	"http":{"status":200,"req":{"method":"GET","h":{"a.b":1}}}, "arr":[1,{"x":"}"}],
	"log.level":"warn", "log":{"level":"debug"}, "dup":1, "dup":2, "k\u00e9y":"v", "e\\x":"esc",
	"":"empty", "bad\ud800":"lone", "pair\ud83d\ude00":"emoji"}`

func TestGet(t *testing.T) {
	tests := []struct {
		path string
		want string // "" for absent
	}{
		{"level", `"info"`},
		{"msg", `"caf\u00e9 \"q\"\n"`},
		{"n", `-1.5e3`},
		{"ok", `true`},
		{"nil", `null`},
		{"http", `{"status":200,"req":{"method":"GET","h":{"a.b":1}}}`},
		{"http.status", `200`},
		{"http.req.method", `"GET"`},
		{"http.req.h.a.b", `1`},
		{"http.req.h.a", ""},
		{"http.status.x", ""},
		{"http.", ""},
		{"arr", `[1,{"x":"}"}]`},
		{"arr.0", ""},
		{"arr.x", ""},
		{"log.level", `"warn"`}, // the longest key wins
		{"log", `{"level":"debug"}`},
		{"dup", `2`}, // the last one, as encoding/json
		{"kéy", `"v"`},
		{"k\\u00e9y", ""}, // paths are decoded text
		{`e\x`, `"esc"`},
		{"", `"empty"`},
		{"bad\ufffd", `"lone"`},
		{"bad\xff", `"lone"`}, // invalid UTF-8 counts as U+FFFD
		{"pair😀", `"emoji"`},
		{"missing", ""},
		{"Level", ""},
		{"leve", ""},
		{"levels", ""},
	}
	for _, tt := range tests {
		got, ok := Get([]byte(sample), tt.path)
		if string(got) != tt.want || ok != (tt.want != "") {
			t.Errorf("Get(sample, %q) = %q, %v; want %q", tt.path, got, ok, tt.want)
		}
	}
}

func TestGetInvalid(t *testing.T) {
	for _, obj := range []string{
		``, `[]`, `"x"`, `{`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,}`, `{"a" 1}`, `{a:1}`,
		`{"a":tru}`, `{"a":{"b":1}`, `{"a":1 "b":2}`, `{"a":"\`, `{"a":1,"b"}`, "\x00{}",
	} {
		if got, ok := Get([]byte(obj), "a"); ok {
			t.Errorf("Get(%q, a) = %q, true; want false", obj, got)
		}
	}
	// Broken past the member still fails: the last duplicate could follow.
	if got, ok := Get([]byte(`{"a":1,"b":`), "a"); ok {
		t.Errorf("Get of a truncated object = %q, true; want false", got)
	}
	if got, ok := Get([]byte(" \n{ } "), "a"); ok {
		t.Errorf("Get({}, a) = %q, true; want false", got)
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"level", "info", true},
		{"msg", "café \"q\"\n", true},
		{"n", "-1.5e3", true},
		{"ok", "true", true},
		{"nil", "null", true},
		{"http.status", "200", true},
		{"http", "", false},
		{"arr", "", false},
		{"bad\ufffd", "lone", true},
		{"missing", "", false},
	}
	for _, tt := range tests {
		got, ok := String([]byte("prefix:"), []byte(sample), tt.path)
		if string(got) != "prefix:"+tt.want || ok != tt.ok {
			t.Errorf("String(sample, %q) = %q, %v; want %q, %v", tt.path, got, ok, "prefix:"+tt.want, tt.ok)
		}
	}
}

func TestStringEscapes(t *testing.T) {
	tests := []struct{ in, want string }{
		{`"plain"`, "plain"},
		{`"\u00e9\u00E9"`, "éé"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\ud83dx"`, "\ufffdx"},
		{`"\ude00\ud83d"`, "\ufffd\ufffd"},
		{`"\ud83d\u0041"`, "\ufffdA"},
		{`"\b\f\n\r\t\/\\\""`, "\b\f\n\r\t/\\\""},
		{"\"\xff\xfe\"", "\ufffd\ufffd"},
		{`"\u0000"`, "\x00"},
	}
	for _, tt := range tests {
		got, ok := String(nil, []byte(`{"v":`+tt.in+`}`), "v")
		if !ok || string(got) != tt.want {
			t.Errorf("String(%s) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestMembers(t *testing.T) {
	var got []string
	Members([]byte(`{ "a" : 1 , "b\"c":{"x":[1,2]},"d":"e"}`), func(k, v []byte) bool {
		got = append(got, fmt.Sprintf("%s=%s", k, v))
		return true
	})
	if want := `a=1 b\"c={"x":[1,2]} d="e"`; strings.Join(got, " ") != want {
		t.Errorf("Members = %q; want %q", strings.Join(got, " "), want)
	}
	n := 0
	Members([]byte(`{"a":1,"b":2,"c":3}`), func(k, v []byte) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("Members called fn %d times after it returned false; want 2", n)
	}
	for _, obj := range []string{``, `[1]`, `{"a":}`, `{}`} {
		Members([]byte(obj), func(k, v []byte) bool {
			t.Errorf("Members(%q) called fn with %q, %q", obj, k, v)
			return true
		})
	}
}
