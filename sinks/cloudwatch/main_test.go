package cloudwatch

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
	"github.com/skiff-agent/skiff/tailer"
)

// TestMain refuses every dial that is not to loopback, so that no test can
// reach AWS by accident, the SDK's credential chain included.
func TestMain(m *testing.M) {
	base := http.DefaultTransport.(*http.Transport)
	dial := (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	guard := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("test refuses non-loopback dial to %s", addr)
		}
		return dial(ctx, network, addr)
	}
	base.DialContext = guard
	testDial = guard
	os.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	os.Setenv("AWS_CONFIG_FILE", os.DevNull)
	os.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	os.Exit(m.Run())
}

// testDial refuses non-loopback dials; every test sink dials through it.
var testDial func(ctx context.Context, network, addr string) (net.Conn, error)

// testCurves are short waits, so that tests of retries run fast.
var testCurves = curves{
	fastBase: time.Millisecond, fastMax: 20 * time.Millisecond,
	slowBase: 2 * time.Millisecond, slowMax: 50 * time.Millisecond,
	short: 5 * time.Millisecond, pauseBase: 5 * time.Millisecond, pauseMax: 50 * time.Millisecond,
	grace: time.Second,
}

const (
	testAccessKey = "AKIDEXAMPLE"
	testSecretKey = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
)

// putLog records what cwlocal accepted, batch by batch.
type putLog struct {
	mu      sync.Mutex
	batches []int // events per accepted PutLogEvents
}

func (p *putLog) onPut(_, _ string, evs []cwlocal.Event) {
	p.mu.Lock()
	p.batches = append(p.batches, len(evs))
	p.mu.Unlock()
}

func (p *putLog) sizes() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]int(nil), p.batches...)
}

// startServer starts cwlocal with signature checks for one test.
func startServer(t testing.TB, opts cwlocal.Options) (*cwlocal.Server, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.AccessKey, opts.SecretKey = testAccessKey, testSecretKey
	opts.Registerer = reg
	srv, err := cwlocal.NewServer(opts)
	if err != nil {
		t.Fatalf("NewServer: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, reg
}

// newTestSink returns a sink pointed at srv through the real SDK, with
// static credentials and short retry curves.
func newTestSink(t testing.TB, srv *cwlocal.Server, cfg Config, opts ...option) (*Sink, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Region = "us-east-1"
	cfg.Endpoint = srv.URL()
	if cfg.Credentials == nil {
		cfg.Credentials = credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, "")
	}
	cfg.Registerer = reg
	s, err := newWithOptions(context.Background(), cfg, append([]option{withDial(testDial), withCurves(testCurves)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s, reg
}

// runSink runs s until the test ends (or the returned stop is called).
func runSink(t testing.TB, s *Sink) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func flushSink(t testing.TB, s *Sink) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// acker counts acknowledgements.
type acker struct{ n atomic.Int64 }

func (a *acker) Ack(n int) { a.n.Add(int64(n)) }

var testFile = &tailer.FileMeta{Path: "/var/log/containers/web-1_shop_app-abc.log", Namespace: "shop", Pod: "web-1",
	PodUID: "uid-1", Container: "app", ContainerID: "abc", Restart: 0}

// fileFor returns path metadata for pod i, so that records of different i
// land in different streams with the default template.
func fileFor(i int) *tailer.FileMeta {
	f := *testFile
	f.Pod = fmt.Sprintf("web-%d", i)
	return &f
}

func rec(msg string, ts time.Time, f *tailer.FileMeta, a tailer.Acker) tailer.Record {
	return tailer.Record{Time: ts, Stream: tailer.Stdout, Message: []byte(msg), File: f, Pos: tailer.Position{Acker: a}}
}

func write(t testing.TB, s *Sink, recs ...tailer.Record) {
	t.Helper()
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// messages returns the messages of a stream.
func messages(srv *cwlocal.Server, group, stream string) []string {
	evs := srv.Events(group, stream)
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Message
	}
	return out
}

// counter reads a counter (or the sum of a counter vector's series that
// match labels) from reg.
func counter(t testing.TB, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := 0
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
					match++
				}
			}
			if match == len(labels) {
				sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return sum
}

func pad(id string, n int) string {
	if len(id) >= n {
		return id
	}
	return id + strings.Repeat("x", n-len(id))
}
