package cwlocal

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func TestFaultsOutageAndErrors(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s := startServer(t, Options{now: fixedClock(now)})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	mustCreate(t, c, "/g", "s")
	put := func() error {
		_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"), LogEvents: evs("a", now.UnixMilli())})
		return err
	}
	for _, f := range []Faults{{Outage: true}, {ErrorRate: 1}, {OutageUntil: now.Add(time.Second)}} {
		s.SetFaults(f)
		err := put()
		var su *types.ServiceUnavailableException
		if !errors.As(err, &su) {
			t.Fatalf("%+v: err = %v; want ServiceUnavailableException", f, err)
		}
		apiErr(t, "outage", err, "ServiceUnavailableException", 500, "The service cannot complete the request.")
	}
	// A window that has passed, and faults limited to other operations, do nothing.
	for _, f := range []Faults{{OutageUntil: now}, {Outage: true, Operations: []string{"CreateLogStream"}}} {
		s.SetFaults(f)
		if err := put(); err != nil {
			t.Errorf("%+v: %v", f, err)
		}
	}
	s.SetFaults(Faults{ThrottleRate: 1})
	apiErr(t, "throttle rate", put(), "ThrottlingException", 400, "Rate exceeded")
	s.SetFaults(Faults{})
	if err := put(); err != nil {
		t.Fatalf("after clearing faults: %v", err)
	}
}

// TestSeededFaults: with a seed, setting the same faults again repeats the
// same outcomes request by request, and another seed gives others.
func TestSeededFaults(t *testing.T) {
	s := startServer(t, Options{})
	c := newClient(s, testAccessKey, testSecretKey, func(o *cloudwatchlogs.Options) { o.RetryMaxAttempts = 1 })
	ctx := context.Background()
	mustCreate(t, c, "/g", "s")
	outcomes := func(seed uint64) string {
		s.SetFaults(Faults{ErrorRate: 0.2, ThrottleRate: 0.3, Seed: seed})
		var b strings.Builder
		for range 60 {
			_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"),
				LogEvents: evs("a", time.Now().UnixMilli())})
			var su *types.ServiceUnavailableException
			var th *types.ThrottlingException
			switch {
			case err == nil:
				b.WriteByte('.')
			case errors.As(err, &su):
				b.WriteByte('E')
			case errors.As(err, &th):
				b.WriteByte('T')
			default:
				t.Fatalf("put: %v", err)
			}
		}
		return b.String()
	}
	first := outcomes(7)
	if again := outcomes(7); again != first {
		t.Errorf("seed 7 again:\n%s\nwant\n%s", again, first)
	}
	if other := outcomes(8); other == first {
		t.Errorf("seed 8 gave the outcomes of seed 7: %s", first)
	}
	for _, k := range "ET." {
		if !strings.ContainsRune(first, k) {
			t.Errorf("outcomes %s: no %c in 60 requests", first, k)
		}
	}
}

// TestFailAttemptsRetried: the SDK's own retries get through when only the
// first attempts fail, and the data is stored once.
func TestFailAttemptsRetried(t *testing.T) {
	s := startServer(t, Options{Faults: Faults{FailAttempts: 2}})
	c := newClient(s, testAccessKey, testSecretKey, func(o *cloudwatchlogs.Options) { o.RetryMaxAttempts = 3 })
	ctx := context.Background()
	mustCreate(t, c, "/g", "s")
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"),
		LogEvents: evs("a", time.Now().UnixMilli())}); err != nil {
		t.Fatalf("PutLogEvents with 2 failed attempts of 3: %v", err)
	}
	if n := len(s.Events("/g", "s")); n != 1 {
		t.Errorf("stored %d events; want 1", n)
	}
	mustCreate(t, c, "/g", "a")
	if got := s.Streams("/g"); !slices.Equal(got, []string{"a", "s"}) {
		t.Errorf("Streams(/g) = %q; want [a s]", got)
	}
	if got := s.Streams("/none"); got != nil {
		t.Errorf("Streams(/none) = %q; want nil", got)
	}
}

func TestThrottleAtQuota(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s := startServer(t, Options{Throttle: true, now: fixedClock(now)})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	// The clock stands still: the bucket holds one second of the quota.
	for i := range 10 {
		if _, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/g" + string(rune('a'+i)))}); err != nil {
			t.Fatalf("CreateLogGroup %d of 10: %v", i+1, err)
		}
	}
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/g11")})
	var te *types.ThrottlingException
	if !errors.As(err, &te) {
		t.Fatalf("11th CreateLogGroup in one second: err = %v; want ThrottlingException", err)
	}
	apiErr(t, "11th CreateLogGroup", err, "ThrottlingException", 400, "Rate exceeded")
	for i := range 50 {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/ga"), LogStreamName: aws.String(strings.Repeat("s", i+1))}); err != nil {
			t.Fatalf("CreateLogStream %d of 50: %v", i+1, err)
		}
	}
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/ga"), LogStreamName: aws.String("x")})
	apiErr(t, "51st CreateLogStream", err, "ThrottlingException", 400, "Rate exceeded")
	// Quotas are per operation: puts still go through.
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/ga"), LogStreamName: aws.String("s"), LogEvents: evs("a", now.UnixMilli())}); err != nil {
		t.Errorf("PutLogEvents: %v", err)
	}
}

func TestThrottleBucket(t *testing.T) {
	fs := newFaultState(Faults{Throttle: true})
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	n := 0
	for fs.take("PutLogEvents", t0, nil) {
		n++
	}
	if n != 5000 {
		t.Errorf("burst = %d; want 5000", n)
	}
	if !fs.take("PutLogEvents", t0.Add(time.Millisecond/5), nil) {
		t.Error("no token after 0.2 ms at 5000/s")
	}
	if fs.take("PutLogEvents", t0.Add(time.Millisecond/5), nil) {
		t.Error("a second token after 0.2 ms at 5000/s")
	}
}

func TestDroppedConnection(t *testing.T) {
	s := startServer(t, Options{Faults: Faults{DropRate: 1}})
	c := newClient(s, testAccessKey, testSecretKey)
	_, err := c.CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/g")})
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 0 || !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v; want the connection closed without a response", err)
	}
}

func TestLatency(t *testing.T) {
	s := startServer(t, Options{Faults: Faults{Latency: time.Hour}})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/g")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want the client's deadline", err)
	}
}

func TestControlAPI(t *testing.T) {
	s := startServer(t, Options{})
	post := func(body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(s.URL()+"/_cwlocal/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, out := post(`{"error_rate":0.25,"latency":"5ms","outage_for":"60s","throttle":true,"operations":["PutLogEvents"]}`)
	if code != 200 || out["latency"] != "5ms" || out["error_rate"] != 0.25 {
		t.Fatalf("POST faults = %d %v", code, out)
	}
	f := s.Faults()
	if f.ErrorRate != 0.25 || f.Latency != 5*time.Millisecond || !f.Throttle || f.OutageUntil.Before(time.Now().Add(59*time.Second)) ||
		len(f.Operations) != 1 {
		t.Errorf("Faults() = %+v", f)
	}
	for _, bad := range []string{`{"error_rate":2}`, `{"latency":"soon"}`, `{"nonsense":1}`, `{`} {
		if code, out := post(bad); code != 400 || out["error"] == nil {
			t.Errorf("POST %s = %d %v; want 400 with an error", bad, code, out)
		}
	}
	if code, _ := post(`{}`); code != 200 || s.Faults().ErrorRate != 0 {
		t.Errorf("POST {} did not clear the faults: %+v", s.Faults())
	}
	resp, err := http.Get(s.URL() + "/_cwlocal/faults")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET faults: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestTLSGeneratedCA(t *testing.T) {
	caOut := t.TempDir() + "/ca.pem"
	s := startServer(t, Options{TLS: true, CAOut: caOut, AccessKey: testAccessKey, SecretKey: testSecretKey})
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || s.CAFile() != caOut {
		t.Fatalf("URL %s, CAFile %s", s.URL(), s.CAFile())
	}
	pemBytes, err := os.ReadFile(s.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("CA file holds no certificate")
	}
	hc := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	})
	c := newClient(s, testAccessKey, testSecretKey, func(o *cloudwatchlogs.Options) { o.HTTPClient = hc })
	mustCreate(t, c, "/tls", "s")
	if _, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/tls"), LogStreamName: aws.String("s"),
		LogEvents: evs("over TLS", time.Now().UnixMilli())}); err != nil {
		t.Fatalf("PutLogEvents over TLS: %v", err)
	}
	// localhost is in the certificate too.
	hc2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc2.Get(strings.Replace(s.URL(), "127.0.0.1", "localhost", 1) + "/_cwlocal/health")
	if err != nil {
		t.Fatalf("GET via localhost: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// Without the CA the client refuses the server.
	_, err = newClient(s, testAccessKey, testSecretKey).CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/x")})
	if err == nil || !strings.Contains(err.Error(), "certificate signed by unknown authority") {
		t.Errorf("without the CA: err = %v; want an unknown authority error", err)
	}
}

func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	s, err := NewServer(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	mustCreate(t, c, "/p", "s")
	mustCreate(t, c, "/p", "gone")
	mustCreate(t, c, "/q", "")
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/tagged"), Tags: map[string]string{"a": "b"}, LogGroupClass: types.LogGroupClassInfrequentAccess})
	if err != nil {
		t.Fatal(err)
	}
	c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/p"), RetentionInDays: aws.Int32(30)})
	c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/p"), LogStreamName: aws.String("s"), LogEvents: evs("one\nline", now.UnixMilli(), now.UnixMilli()+1)})
	c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("/p"), LogStreamName: aws.String("gone")})
	c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/q")})
	before := s.Events("/p", "s")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A torn record at the end (a crash during a write) is dropped.
	f, err := os.OpenFile(dir+"/"+journalFile, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{200, 1, jPut, 3})
	f.Close()

	s2 := startServer(t, Options{Dir: dir})
	after := s2.Events("/p", "s")
	if len(after) != 2 || after[0] != before[0] || after[1] != before[1] {
		t.Errorf("after restart: %+v; want %+v", after, before)
	}
	c2 := newClient(s2, testAccessKey, testSecretKey)
	groups, err := c2.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups.LogGroups {
		names = append(names, *g.LogGroupName)
	}
	if strings.Join(names, ",") != "/p,/tagged" || aws.ToInt32(groups.LogGroups[0].RetentionInDays) != 30 || groups.LogGroups[1].LogGroupClass != types.LogGroupClassInfrequentAccess {
		t.Errorf("groups after restart = %v %+v", names, groups.LogGroups)
	}
	streams, _ := c2.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/p")})
	if len(streams.LogStreams) != 1 || *streams.LogStreams[0].LogStreamName != "s" {
		t.Errorf("streams after restart = %+v", streams.LogStreams)
	}
	// The restarted server keeps appending to the compacted journal.
	mustCreate(t, c2, "/p", "new")
	c2.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/p"), LogStreamName: aws.String("new"), LogEvents: evs("third", now.UnixMilli())})
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s3 := startServer(t, Options{Dir: dir})
	if got := s3.Events("/p", "s"); len(got) != 2 || got[0] != before[0] {
		t.Errorf("after the second restart: %+v; want %+v", got, before)
	}
	if got := s3.Events("/p", "new"); len(got) != 1 || got[0].Message != "third" {
		t.Errorf("after the second restart, new stream: %+v", got)
	}
}

func TestStoreFull(t *testing.T) {
	s := startServer(t, Options{MaxBytes: 100})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	mustCreate(t, c, "/g", "s")
	put := func(msg string) error {
		_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"), LogEvents: evs(msg, time.Now().UnixMilli())})
		return err
	}
	if err := put(strings.Repeat("a", 74)); err != nil { // 74 + 26 = 100
		t.Fatal(err)
	}
	err := put("b")
	apiErr(t, "full store", err, "LimitExceededException", 400, "cwlocal store is full: 100 of 100 bytes used, 27 more needed")
	if _, err := c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, c, "/g", "s")
	if err := put("b"); err != nil {
		t.Errorf("after deleting the data: %v", err)
	}
}

func TestTLSGivenCertificate(t *testing.T) {
	cert, caPEM, err := generateCert(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	os.WriteFile(dir+"/cert.pem", chain, 0o600)
	os.WriteFile(dir+"/key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	s := startServer(t, Options{TLS: true, CertFile: dir + "/cert.pem", KeyFile: dir + "/key.pem"})
	if s.CAFile() != "" {
		t.Errorf("CAFile() = %q with a given certificate; want \"\"", s.CAFile())
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := hc.Get(s.URL() + "/_cwlocal/health")
	if err != nil {
		t.Fatalf("GET over TLS with the given certificate: %v", err)
	}
	resp.Body.Close()

	if _, err := NewServer(Options{TLS: true, CertFile: dir + "/missing.pem", KeyFile: dir + "/key.pem"}); err == nil {
		t.Error("NewServer with a missing certificate succeeded")
	}
}

// TestDenyGroups: a denied log group gets the service's AccessDeniedException
// (typed by the SDK, HTTP 400, the IAM message naming the action and the
// resource) on every operation, through the control API too; other groups
// are served.
func TestDenyGroups(t *testing.T) {
	now := time.Now()
	s := startServer(t, Options{})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	mustCreate(t, c, "/ok", "s")
	mustCreate(t, c, "/denied", "s")
	put := func(group string) error {
		_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(group),
			LogStreamName: aws.String("s"), LogEvents: evs("a", now.UnixMilli())})
		return err
	}
	s.SetFaults(Faults{DenyGroups: []string{"/denied"}, Operations: []string{"CreateLogGroup"}})
	err := put("/denied")
	var ad *types.AccessDeniedException
	if !errors.As(err, &ad) {
		t.Fatalf("put to a denied group: %v; want AccessDeniedException", err)
	}
	apiErr(t, "deny put", err, "AccessDeniedException", 400,
		"User: arn:aws:sts::000000000000:assumed-role/skiff/cwlocal is not authorized to perform: logs:PutLogEvents on resource: "+
			"arn:aws:logs:us-east-1:000000000000:log-group:/denied:log-stream:s because no identity-based policy allows the logs:PutLogEvents action")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/denied"), LogStreamName: aws.String("t")})
	apiErr(t, "deny create", err, "AccessDeniedException", 400, "User: arn:aws:sts::000000000000:assumed-role/skiff/cwlocal is not authorized to perform: logs:CreateLogStream")
	if err := put("/ok"); err != nil {
		t.Errorf("put to an allowed group: %v", err)
	}
	resp, err := http.Post(s.URL()+"/_cwlocal/faults", "application/json", strings.NewReader(`{"deny_groups":["/ok"]}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("POST deny_groups: %v %v", resp, err)
	}
	resp.Body.Close()
	if err := put("/denied"); err != nil {
		t.Errorf("put after the denial moved: %v", err)
	}
	apiErr(t, "deny via control API", put("/ok"), "AccessDeniedException", 400, "User: ")
	if got := s.Events("/denied", "s"); len(got) != 1 {
		t.Errorf("%d events in /denied; want the 1 put after the denial was lifted", len(got))
	}
}
