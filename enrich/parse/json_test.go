package parse

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJSON(t *testing.T) {
	checkParse(t, builtin(t, "json"), []parseCase{
		{
			`{"level":"info","ts":1710407271.123456,"msg":"hi","n":-1.5e+3,"ok":true,"nested":{"a":[1,2,{"b":null}],"e":[]},"o":{}}`,
			`{"level":"info","ts":1710407271.123456,"msg":"hi","n":-1.5e+3,"ok":true,"nested":{"a":[1,2,{"b":null}],"e":[]},"o":{}}`,
		},
		{"  \t{ \"a\" : [ 1 , 2 ] }\r\n", `{ "a" : [ 1 , 2 ] }`},
		{`{}`, `{}`},
		{`{"esc":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`, `{"esc":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}`},
		{"{\"bad\":\"\xff\xfe\",\"ok\":\"é\"}", "{\"bad\":\"\uFFFD\uFFFD\",\"ok\":\"é\"}"},
		{`{"dup":1,"dup":2}`, `{"dup":1,"dup":2}`}, // valid JSON, passed as it is
		{`[1,2]`, refused},
		{`"string"`, refused},
		{`42`, refused},
		{`null`, refused},
		{`{"a":1} {"b":2}`, refused},
		{`{"a":1}x`, refused},
		{`{"a":}`, refused},
		{`{a:1}`, refused},
		{`{"a":1,}`, refused},
		{`{"a":[1,]}`, refused},
		{`{"a":01}`, refused},
		{`{"a":1.}`, refused},
		{`{"a":.5}`, refused},
		{`{"a":-}`, refused},
		{`{"a":1e}`, refused},
		{`{"a":tru}`, refused},
		{`{"a":"\x"}`, refused},
		{`{"a":"\u12"}`, refused},
		{"{\"a\":\"\x01\"}", refused},
		{`{"a":"unterminated}`, refused},
		{`{"a":[}`, refused},
		{`{"a":{]}`, refused},
		{`{"a" 1}`, refused},
		{`{`, refused},
		{`plain text`, refused},
		{``, refused},
		{`   `, refused},
	})
}

// TestValidJSON compares validJSON with encoding/json on inputs near the edges of the grammar.
func TestValidJSON(t *testing.T) {
	inputs := []string{
		``, ` `, `{}`, `[]`, `[[]]`, `{"a":{"b":[]}}`, `0`, `-0`, `-0.0e-0`, `1E+2`, `00`, `-`, `+1`, `1.e2`,
		`"\u0000"`, `"\uD800"`, `"\/"`, `"\'"`, "\"\x7f\"", "\"\xff\"", `true`, `truex`, `nul`, `[1 2]`,
		`{"a" "b"}`, `{"a":1 "b":2}`, `{,}`, `[,]`, `{"a":1}}`, `[1]]`, `]`, `}`, "\t[\n]\r ", `"a`, `"\`,
		strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth),
		strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1),
		strings.Repeat(`{"a":`, maxJSONDepth) + "1" + strings.Repeat("}", maxJSONDepth),
		strings.Repeat(`{"a":`, maxJSONDepth+1) + "1" + strings.Repeat("}", maxJSONDepth+1),
		strings.Repeat("[", 100) + strings.Repeat("]", 99),
	}
	for _, in := range inputs {
		if got, want := validJSON([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("validJSON(%.40q) = %v; want %v (encoding/json)", in, got, want)
		}
	}
}
