package cloudwatch

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
)

// TestRoleARNAssumedThroughSTS: with role_arn and external_id, the sink
// asks STS (a local stand-in, found through AWS_ENDPOINT_URL_STS) for
// credentials and signs its CloudWatch calls with them.
func TestRoleARNAssumedThroughSTS(t *testing.T) {
	var mu sync.Mutex
	var form url.Values
	sts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		form = r.PostForm
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		w.Write([]byte(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>AKIDASSUMED</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey>
<SessionToken>session-token</SessionToken><Expiration>` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/shipper/skiff</Arn><AssumedRoleId>AROA:skiff</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleResponse>`))
	}))
	defer sts.Close()
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)

	srv, err := cwlocal.NewServer(cwlocal.Options{AccessKey: "AKIDASSUMED", SecretKey: "assumed-secret"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s, _ := newTestSink(t, srv, Config{LogGroup: "/role", LogStream: "s", Format: "raw", AutoCreateGroup: true,
		RoleARN: "arn:aws:iam::123456789012:role/shipper", ExternalID: "ext-42"})
	runSink(t, s)
	var a acker
	write(t, s, rec("via role", time.Now(), testFile, &a))
	flushSink(t, s)
	if got := messages(srv, "/role", "s"); len(got) != 1 || a.n.Load() != 1 {
		t.Errorf("stored %v, acknowledged %d", got, a.n.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	for k, want := range map[string]string{"Action": "AssumeRole", "RoleArn": "arn:aws:iam::123456789012:role/shipper",
		"ExternalId": "ext-42", "RoleSessionName": "skiff"} {
		if got := form.Get(k); got != want {
			t.Errorf("STS %s = %q; want %q", k, got, want)
		}
	}
}
