package cloudwatch

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	"github.com/skiff-agent/skiff/tailer"
)

// captureTransport keeps the last request's body and headers.
type captureTransport struct {
	mu     sync.Mutex
	body   []byte
	header http.Header
}

func (c *captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	c.mu.Lock()
	c.body, c.header = b, r.Header.Clone()
	c.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body: io.NopCloser(bytes.NewReader([]byte("{}"))), Request: r}, nil
}

// TestOwnSerializerMatchesSDK: our PutLogEvents body decodes to the same
// value as the SDK's, with the same target and content type.
func TestOwnSerializerMatchesSDK(t *testing.T) {
	var tr captureTransport
	client := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		HTTPClient:  &http.Client{Transport: &tr},
		Retryer:     aws.NopRetryer{},
	})
	s, err := newSink(Config{LogGroup: "/g/ü", LogStream: "s \"q\"", Format: "raw", BufferBytes: 1 << 20, FlushInterval: time.Second,
		MaxConcurrency: 1, RequestTimeout: time.Minute, Logger: discard()}, client)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var recs []tailer.Record
	for _, m := range []string{"plain", `{"json":"x\"y"}`, "tab\there\nnl", "ctl\x01\x1f", "üñí ☃ 😀", "bad\xffutf8", "<>&", "\u2028\u2029"} {
		recs = append(recs, rec(m, now, testFile, nil))
	}
	write(t, s, recs...)
	s.sealAll(0, true)
	b := s.ready[0]
	bodies := make([]map[string]any, 2)
	headers := make([]http.Header, 2)
	for i, sdk := range []bool{true, false} {
		s.snd.opts.sdkSerializer = sdk
		if _, err := s.snd.put(context.Background(), b, b.events); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(tr.body, &bodies[i]); err != nil {
			t.Fatalf("body %s: %v", tr.body, err)
		}
		headers[i] = tr.header
	}
	if !reflect.DeepEqual(bodies[0], bodies[1]) {
		t.Errorf("bodies differ:\nsdk: %v\nown: %v", bodies[0], bodies[1])
	}
	for _, h := range []string{"X-Amz-Target", "Content-Type"} {
		if headers[0].Get(h) != headers[1].Get(h) {
			t.Errorf("%s: sdk %q, own %q", h, headers[0].Get(h), headers[1].Get(h))
		}
	}
}
