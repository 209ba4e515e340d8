package cwlocal

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
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

// FuzzHandler sends arbitrary bodies to every operation: the server never
// panics and answers 200 or a 4xx with a JSON error, and keeps working.
func FuzzHandler(f *testing.F) {
	ops := make([]string, 0, 16)
	for op := range (&Server{}).operations() {
		ops = append(ops, op)
	}
	slices.Sort(ops)
	f.Add(uint8(0), []byte(`{"logGroupName":"/g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"m"}]}`))
	f.Add(uint8(1), []byte(`{"logGroupName":"/g","kmsKeyId":"arn:aws:kms:us-east-1:123456789012:key/k","tags":{"a":"b"}}`))
	f.Add(uint8(5), []byte(`{"logGroupName":"/g","logStreamNames":["s"],"filterPattern":"?a -b \"c d\"","nextToken":"1/2/3","limit":5}`))
	f.Add(uint8(7), []byte(`{"logGroupIdentifier":"arn:aws:logs:us-east-1:000000000000:log-group:/g:*","logStreamName":"s","nextToken":"b/00000000000000000000000000000000000000000000000000000001"}`))
	f.Add(uint8(9), []byte(`{"logGroupName":"/g","retentionInDays":7}`))
	s, err := NewServer(Options{MaxBytes: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	do := func(op string, body []byte) int {
		req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-Amz-Target", targetPrefix+op)
		req.Header.Set("Authorization", fakeAuth)
		w := &nopWriter{h: http.Header{}}
		s.ServeHTTP(w, req)
		return w.status
	}
	do("CreateLogGroup", []byte(`{"logGroupName":"/g"}`))
	do("CreateLogStream", []byte(`{"logGroupName":"/g","logStreamName":"s"}`))
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		name := ops[int(op)%len(ops)]
		if name == "DeleteLogGroup" || name == "PutLogGroupDeletionProtection" {
			name = "DescribeLogGroups" // keep /g usable
		}
		if st := do(name, body); st != 200 && st != 400 && st != 413 {
			t.Errorf("%s %q: status %d", name, body, st)
		}
		if st := do("DescribeLogStreams", []byte(`{"logGroupName":"/g"}`)); st != 200 {
			t.Fatalf("server broken after %s %q: DescribeLogStreams status %d", name, body, st)
		}
	})
}
