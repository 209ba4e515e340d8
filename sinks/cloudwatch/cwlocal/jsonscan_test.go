package cwlocal

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzDecodePut checks the fast PutLogEvents decoder against encoding/json:
// any body it accepts is valid JSON, and messages encoded by encoding/json
// (with its escaping of <, >, &, control characters and U+2028) come back
// exactly as encoding/json decodes them.
func FuzzDecodePut(f *testing.F) {
	f.Add([]byte(`{"logGroupName":"/g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"a\"b"}]}`), "plain")
	f.Add([]byte(`{"logEvents":[{"message":"\ud83d\ude00 \u00e9","timestamp":1e3}],"x":[true,false,null,{"y":-1.5e-3}]}`), "quote \" and \\ and \n\t\x01 <&> \u2028 é 😀")
	f.Add([]byte(`{"logEvents":[{"message":"\ud800"}]}`), "\xff\xfe invalid")
	f.Add([]byte(`  {"a" : [ 1 , 2 ] }  `), strings.Repeat("x\"", 20))
	f.Fuzz(func(t *testing.T, body []byte, msg string) {
		var req putRequest
		if decodePut(body, &req) == nil && !json.Valid(body) {
			t.Errorf("decodePut accepted invalid JSON %q", body)
		}

		type ev struct {
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		}
		in := struct {
			Group  string `json:"logGroupName"`
			Stream string `json:"logStreamName"`
			Events []ev   `json:"logEvents"`
		}{msg, msg, []ev{{1, msg}, {2, msg + msg}}}
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		var want struct {
			Group  string `json:"logGroupName"`
			Events []ev   `json:"logEvents"`
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		req = putRequest{}
		if err := decodePut(b, &req); err != nil {
			t.Fatalf("decodePut(%q): %v", b, err)
		}
		if string(req.group) != want.Group || len(req.events) != 2 {
			t.Fatalf("decodePut(%q) = group %q, %d events; want %q, 2", b, req.group, len(req.events), want.Group)
		}
		for i, e := range req.events {
			if string(e.msg) != want.Events[i].Message || e.ts != want.Events[i].Timestamp {
				t.Errorf("event %d = %d %q; want %d %q", i, e.ts, e.msg, want.Events[i].Timestamp, want.Events[i].Message)
			}
		}
	})
}

func TestSkipPlain(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{
		{"", 0}, {"abcdefghijklmnop", 16}, {"abcdefgh\x1f", 8}, {"abc\x00defghijk", 3}, {"\x7f\x80\xff é!~", 8},
		{"abcdefg\"", 7}, {"abcdefghi\\", 9}, {"a\\\"", 1}, {"\x1f\"", 0}, {"abcdefghijklmno\x01", 15},
	} {
		if got := skipPlain([]byte(tc.in), 0); got != tc.want {
			t.Errorf("skipPlain(%q) = %d; want %d", tc.in, got, tc.want)
		}
	}
}
