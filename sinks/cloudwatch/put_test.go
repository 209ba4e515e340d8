package cloudwatch

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

// cannedTransport records each request and answers with its response.
type cannedTransport struct {
	mu      sync.Mutex
	status  int
	header  http.Header
	body    string
	err     error
	reqs    []*http.Request
	bodies  [][]byte
	readErr error // an error while reading the request body
}

func (c *cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, err := io.ReadAll(r.Body)
	r.Body.Close()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reqs, c.bodies, c.readErr = append(c.reqs, r), append(c.bodies, b), err
	if c.err != nil {
		return nil, c.err
	}
	h := c.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: c.status, Header: h, Body: io.NopCloser(strings.NewReader(c.body)), Request: r}, nil
}

// sinkWithTransport returns a sink whose SDK client answers through tr, and
// a sealed batch of three records.
func sinkWithTransport(t *testing.T, tr http.RoundTripper, creds aws.CredentialsProvider) (*Sink, *batch) {
	t.Helper()
	client := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:      "eu-west-1",
		Credentials: creds,
		HTTPClient:  &http.Client{Transport: tr},
		Retryer:     aws.NopRetryer{},
	})
	s, err := newSink(Config{LogGroup: "/g", LogStream: "s", Format: "raw", BufferBytes: 1 << 20, BatchBytes: DefaultBatchBytes,
		FlushInterval: time.Second, MaxConcurrency: 1, RequestTimeout: time.Minute, Logger: discard()}, client)
	if err != nil {
		t.Fatal(err)
	}
	if s.snd.direct == nil {
		t.Fatal("the sink makes its PutLogEvents requests through the SDK")
	}
	now := time.Now()
	write(t, s, rec("one", now, testFile, nil), rec("two \"q\"", now, testFile, nil), rec("three", now, testFile, nil))
	s.sealAll(0, true)
	return s, s.ready[0]
}

// TestDirectPutRequestMatchesSDK: the request made without the SDK's stack
// is the one the SDK makes (method, URL, body, the headers the service
// reads, what is signed and in which scope), and it is signed with the
// session token when there is one.
func TestDirectPutRequestMatchesSDK(t *testing.T) {
	tr := &cannedTransport{status: 200, body: "{}"}
	creds := credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, "session-token")
	s, b := sinkWithTransport(t, tr, creds)
	for _, sdk := range []bool{true, false} {
		s.snd.opts.sdkPut = sdk
		if _, err := s.snd.put(context.Background(), b, b.events); err != nil {
			t.Fatalf("sdk %v: %v", sdk, err)
		}
	}
	if tr.readErr != nil {
		t.Fatal(tr.readErr)
	}
	viaSDK, direct := tr.reqs[0], tr.reqs[1]
	host := func(r *http.Request) string { return cmp.Or(r.Host, r.URL.Host) }
	if viaSDK.Method != direct.Method || viaSDK.URL.String() != direct.URL.String() || host(viaSDK) != host(direct) {
		t.Errorf("SDK %s %s (host %q), direct %s %s (host %q)", viaSDK.Method, viaSDK.URL, host(viaSDK), direct.Method, direct.URL, host(direct))
	}
	if direct.URL.String() != "https://logs.eu-west-1.amazonaws.com/" {
		t.Errorf("direct URL %s", direct.URL)
	}
	if !bytes.Equal(tr.bodies[0], tr.bodies[1]) {
		t.Errorf("bodies differ:\nSDK:    %s\ndirect: %s", tr.bodies[0], tr.bodies[1])
	}
	if viaSDK.ContentLength != direct.ContentLength || direct.ContentLength != int64(len(tr.bodies[1])) {
		t.Errorf("Content-Length: SDK %d, direct %d, body %d", viaSDK.ContentLength, direct.ContentLength, len(tr.bodies[1]))
	}
	for _, h := range []string{"X-Amz-Target", "Content-Type", "X-Amz-Security-Token", "X-Amz-Content-Sha256"} {
		if viaSDK.Header.Get(h) != direct.Header.Get(h) {
			t.Errorf("%s: SDK %q, direct %q", h, viaSDK.Header.Get(h), direct.Header.Get(h))
		}
	}
	if direct.Header.Get("X-Amz-Security-Token") != "session-token" {
		t.Errorf("X-Amz-Security-Token %q", direct.Header.Get("X-Amz-Security-Token"))
	}
	if !strings.HasPrefix(direct.Header.Get("User-Agent"), "aws-sdk-go-v2/") {
		t.Errorf("User-Agent %q", direct.Header.Get("User-Agent"))
	}
	// Authorization: AWS4-HMAC-SHA256 Credential=AKID/date/region/logs/aws4_request, SignedHeaders=..., Signature=...
	auth := func(r *http.Request) (scope, signed string) {
		for _, part := range strings.Split(strings.TrimPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "), ", ") {
			k, v, _ := strings.Cut(part, "=")
			switch k {
			case "Credential":
				scope = v
			case "SignedHeaders":
				signed = v
			}
		}
		return scope, signed
	}
	sdkScope, sdkSigned := auth(viaSDK)
	scope, signed := auth(direct)
	if scope != sdkScope || !strings.HasSuffix(scope, "/eu-west-1/logs/aws4_request") {
		t.Errorf("credential scope: SDK %q, direct %q", sdkScope, scope)
	}
	for _, h := range []string{"content-type", "host", "x-amz-date", "x-amz-security-token", "x-amz-target"} {
		if !strings.Contains(";"+signed+";", ";"+h+";") {
			t.Errorf("%s not signed (signed: %s; the SDK signs %s)", h, signed, sdkSigned)
		}
	}
}

// TestDirectPutDecodesLikeSDK: for each answer the service (or a proxy in
// front of it) gives, the direct path returns what the SDK returns: the
// same error text, code, message, HTTP status and class, or the same
// rejected-events information.
func TestDirectPutDecodesLikeSDK(t *testing.T) {
	jsonCT := http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Requestid": {"rid-1"}}
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		err    error
	}{
		{"accepted", 200, jsonCT, `{"nextSequenceToken":"49"}`, nil},
		{"accepted, empty body", 200, jsonCT, ``, nil},
		{"rejected events", 200, jsonCT, `{"rejectedLogEventsInfo":{"tooOldLogEventEndIndex":1,"tooNewLogEventStartIndex":2,"expiredLogEventEndIndex":1}}`, nil},
		{"rejected entity", 200, jsonCT, `{"rejectedEntityInfo":{"errorType":"InvalidEntity"}}`, nil},
		{"throttled", 400, jsonCT, `{"__type":"ThrottlingException","message":"Rate exceeded"}`, nil},
		{"not found, namespaced", 400, jsonCT, `{"__type":"com.amazonaws.logs#ResourceNotFoundException","message":"The specified log group does not exist."}`, nil},
		{"code in the header", 400, http.Header{"X-Amzn-Errortype": {"InvalidParameterException:http://internal.amazon.com/"}}, `{"message":"bad"}`, nil},
		{"Message capitalised", 400, jsonCT, `{"__type":"InvalidSignatureException","Message":"Signature expired"}`, nil},
		{"KMS", 400, jsonCT, `{"__type":"AccessDeniedException","message":"The KMS key is disabled"}`, nil},
		{"503 from a proxy", 503, http.Header{"Content-Type": {"text/html"}}, `<html><body>Service Unavailable</body></html>`, nil},
		{"500 without a message", 500, jsonCT, `{"__type":"ServiceUnavailableException"}`, nil},
		{"unknown code without a message", 400, jsonCT, `{"__type":"SomethingNewException"}`, nil},
		{"error, no code", 400, jsonCT, `{"message":"what"}`, nil},
		{"413, no body", 413, nil, ``, nil},
		{"429, no body", 429, nil, ``, nil},
		{"accepted, body not JSON", 200, jsonCT, `not json`, nil},
		{"connection refused", 0, nil, ``, errors.New("dial tcp 127.0.0.1:1: connect: connection refused")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &cannedTransport{status: c.status, header: c.header, body: c.body, err: c.err}
			s, b := sinkWithTransport(t, tr, credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""))
			var outs [2]*cloudwatchlogs.PutLogEventsOutput
			var errs [2]error
			for i, sdk := range []bool{true, false} {
				s.snd.opts.sdkPut = sdk
				outs[i], errs[i] = s.snd.put(context.Background(), b, b.events)
			}
			viaSDK, direct := errs[0], errs[1]
			if (viaSDK == nil) != (direct == nil) {
				t.Fatalf("SDK error %v, direct error %v", viaSDK, direct)
			}
			if viaSDK == nil {
				if !reflect.DeepEqual(outs[0].RejectedLogEventsInfo, outs[1].RejectedLogEventsInfo) ||
					!reflect.DeepEqual(outs[0].RejectedEntityInfo, outs[1].RejectedEntityInfo) ||
					aws.ToString(outs[0].NextSequenceToken) != aws.ToString(outs[1].NextSequenceToken) {
					t.Errorf("outputs differ:\nSDK:    %+v\ndirect: %+v", outs[0], outs[1])
				}
				return
			}
			sc, ss := classify(viaSDK)
			dc, ds := classify(direct)
			if sc != dc || ss != ds || httpStatus(viaSDK) != httpStatus(direct) || groupMissing(viaSDK) != groupMissing(direct) {
				t.Errorf("SDK: class %d %q status %d; direct: class %d %q status %d", sc, ss, httpStatus(viaSDK), dc, ds, httpStatus(direct))
			}
			var sa, da smithy.APIError
			if errors.As(viaSDK, &sa) != errors.As(direct, &da) {
				t.Fatalf("API error: SDK %v, direct %v", sa, da)
			}
			// Without a message in the body, the SDK's is empty or
			// "UnknownError" depending on whether the code is in its model;
			// the direct path's is empty. Nothing reads it then.
			if sa != nil && (sa.ErrorCode() != da.ErrorCode() || strings.Contains(c.body, "essage") && sa.ErrorMessage() != da.ErrorMessage()) {
				t.Errorf("SDK %q %q, direct %q %q", sa.ErrorCode(), sa.ErrorMessage(), da.ErrorCode(), da.ErrorMessage())
			}
			var sd, dd *smithy.DeserializationError
			if errors.As(viaSDK, &sd) != errors.As(direct, &dd) {
				t.Errorf("deserialization error: SDK %v, direct %v", viaSDK, direct)
			}
			// The text up to the decoder's own words is the same.
			cut := func(err error) string { s, _, _ := strings.Cut(err.Error(), "deserialization failed"); return s }
			if sa == nil && cut(viaSDK) != cut(direct) {
				t.Errorf("error text:\nSDK:    %v\ndirect: %v", viaSDK, direct)
			}
			if sa != nil && !strings.Contains(direct.Error(), "PutLogEvents") {
				t.Errorf("direct error %q does not name the operation", direct)
			}
		})
	}
}

// TestDirectPutClockSkew: against a server whose clock is an hour ahead,
// the first request is refused (signature expired) and the next ones are
// signed in the server's time, learnt from its Date header, so that every
// record is delivered.
func TestDirectPutClockSkew(t *testing.T) {
	srv, _ := startServer(t, cwlocal.Options{ClockOffset: time.Hour})
	s, reg := newTestSink(t, srv, Config{LogGroup: "/skew", LogStream: "s", Format: "raw", AutoCreateGroup: true,
		FlushInterval: 10 * time.Millisecond, Logger: discard()})
	if s.snd.direct == nil {
		t.Fatal("no direct path")
	}
	runSink(t, s)
	var a acker
	now := time.Now().Add(time.Hour)
	for i := range 20 {
		write(t, s, rec("line "+string(rune('a'+i)), now, testFile, &a))
	}
	flushSink(t, s)
	if got := len(messages(srv, "/skew", "s")); got != 20 || a.n.Load() != 20 {
		t.Fatalf("delivered %d, acknowledged %d; want 20", got, a.n.Load())
	}
	if n := counter(t, reg, "skiff_cloudwatch_requests_total", map[string]string{"operation": "PutLogEvents", "status": "InvalidSignatureException"}); n < 1 {
		t.Errorf("%v PutLogEvents refused for their signing time; want the first one (is the server's clock ahead?)", n)
	}
	if skew := time.Duration(s.snd.direct.skew.Load()); skew < 59*time.Minute || skew > 61*time.Minute {
		t.Errorf("skew %v; want about an hour", skew)
	}
}
