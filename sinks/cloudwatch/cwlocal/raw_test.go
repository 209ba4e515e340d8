package cwlocal

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

const fakeAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000"

type rawResponse struct {
	status  int
	header  http.Header
	body    string
	errType string
	message string
}

// rawPost sends one API request with plain net/http. headers override the
// defaults (target, content type); a nil headers map sends no Authorization.
func rawPost(t *testing.T, s *Server, op, body string, headers map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL()+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if op != "" {
		req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", op, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := rawResponse{status: resp.StatusCode, header: resp.Header, body: string(b)}
	var e struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &e) == nil {
		out.errType, out.message = e.Type, e.Message
	}
	return out
}

func signed(extra map[string]string) map[string]string {
	h := map[string]string{"Authorization": fakeAuth}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

func TestBadInput(t *testing.T) {
	s := startServer(t, Options{})
	rawPost(t, s, "CreateLogGroup", `{"logGroupName":"/g"}`, signed(nil))
	rawPost(t, s, "CreateLogStream", `{"logGroupName":"/g","logStreamName":"s"}`, signed(nil))
	for _, tc := range []struct {
		name, op, body string
		headers        map[string]string
		status         int
		errType        string
	}{
		{"malformed JSON", "CreateLogGroup", `{"logGroupName":`, nil, 400, "SerializationException"},
		{"malformed put", "PutLogEvents", `{"logGroupName":"/g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"x"`, nil, 400, "SerializationException"},
		{"wrong type", "CreateLogGroup", `{"logGroupName":5}`, nil, 400, "SerializationException"},
		{"put wrong type", "PutLogEvents", `{"logGroupName":"/g","logStreamName":"s","logEvents":[{"timestamp":"1","message":"x"}]}`, nil, 400, "SerializationException"},
		{"fractional timestamp", "PutLogEvents", `{"logGroupName":"/g","logStreamName":"s","logEvents":[{"timestamp":1.5,"message":"x"}]}`, nil, 400, "SerializationException"},
		{"invalid UTF-8", "PutLogEvents", "{\"logGroupName\":\"/g\",\"logStreamName\":\"s\",\"logEvents\":[{\"timestamp\":1,\"message\":\"a\xffb\"}]}", nil, 400, "SerializationException"},
		{"trailing data", "PutLogEvents", `{"logGroupName":"/g","logStreamName":"s","logEvents":[]} x`, nil, 400, "SerializationException"},
		{"not an object", "PutLogEvents", `[1,2]`, nil, 400, "SerializationException"},
		{"unknown operation", "MakeCoffee", `{}`, nil, 400, "UnknownOperationException"},
		{"no target", "", `{}`, nil, 400, "UnknownOperationException"},
		{"wrong content type", "CreateLogGroup", `{"logGroupName":"/h"}`, map[string]string{"Content-Type": "text/plain"}, 400, "SerializationException"},
		{"oversized body", "PutLogEvents", strings.Repeat(" ", MaxBodyBytes+1), nil, 413, "RequestEntityTooLargeException"},
		{"null logEvents", "PutLogEvents", `{"logGroupName":"/g","logStreamName":"s","logEvents":null}`, nil, 400, "InvalidParameterException"},
		{"empty body", "CreateLogGroup", ``, nil, 400, "InvalidParameterException"},
	} {
		r := rawPost(t, s, tc.op, tc.body, signed(tc.headers))
		if r.status != tc.status || r.errType != tc.errType || r.message == "" {
			t.Errorf("%s: %d %s %q; want %d %s", tc.name, r.status, r.errType, r.message, tc.status, tc.errType)
		}
		if r.header.Get("Content-Type") != "application/x-amz-json-1.1" || r.header.Get("x-amzn-RequestId") == "" || r.header.Get("Date") == "" {
			t.Errorf("%s: headers %v lack content type, request id or date", tc.name, r.header)
		}
	}
	// Escapes decode as JSON says; the server still works after all that.
	r := rawPost(t, s, "PutLogEvents", `{"logGroupName":"/g","logStreamName":"s","logEvents":[{"timestamp":1,"message":"t\tab \"q\" \u00e9 \ud83d\ude00 \/"}]}`, signed(nil))
	if r.status != 200 {
		t.Fatalf("escaped put: %d %s", r.status, r.body)
	}
	r = rawPost(t, s, "PutLogEvents", `{"logGroupName":"/g","logStreamName":"s","logEvents":[{"timestamp":`+nowMillisString()+`,"message":"t\tab \"q\" \u00e9 \ud83d\ude00 \/"}],"sequenceToken":"whatever","entity":{"keyAttributes":{"Type":"Service"}}}`, signed(nil))
	if r.status != 200 {
		t.Fatalf("escaped put: %d %s", r.status, r.body)
	}
	evs := s.Events("/g", "s")
	if len(evs) != 1 || evs[0].Message != "t\tab \"q\" é 😀 /" {
		t.Errorf("events = %+v; want the decoded message", evs)
	}
}

func TestMetricsEndpoint(t *testing.T) {
	s := startServer(t, Options{})
	rawPost(t, s, "CreateLogGroup", `{"logGroupName":"/g"}`, signed(nil))
	rawPost(t, s, "CreateLogGroup", `{"logGroupName":"/g"}`, signed(nil))
	resp, err := http.Get(s.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`skiff_cwlocal_requests_total{operation="CreateLogGroup",status="200"} 1`,
		`skiff_cwlocal_requests_total{operation="CreateLogGroup",status="400"} 1`,
		`skiff_cwlocal_errors_total{operation="CreateLogGroup",type="ResourceAlreadyExistsException"} 1`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func nowMillisString() string { return strconv.FormatInt(time.Now().UnixMilli(), 10) }
