package cloudwatch

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
	"github.com/skiff-agent/skiff/tailer"
)

var benchPod = &tailer.PodMeta{
	Name: "web-1", Namespace: "shop", UID: "0b6c1c8e-6f0e-4a53-9d3c-2f8e4b0e7c11", Host: "ip-10-0-1-23.ec2.internal",
	Labels:      map[string]string{"app": "web", "pod-template-hash": "7d4b9c8f6", "tier": "front"},
	Annotations: map[string]string{"kubectl.kubernetes.io/default-container": "app"},
	Containers:  map[string]tailer.ContainerMeta{"app": {Image: "nginx:1.27", ImageID: "docker.io/library/nginx@sha256:0a1b2c", ContainerID: "containerd://abc"}},
}

// benchRecords returns n records of size-byte lines over pods streams.
func benchRecords(n, size, pods int) []tailer.Record {
	line := []byte(strings.Repeat(`10.0.3.7 - - "GET /api/v1/items?id=42 HTTP/1.1" 200 512 "curl/8.5" `, size/60+1)[:size])
	files := make([]*tailer.FileMeta, pods)
	for i := range files {
		files[i] = fileFor(i)
	}
	recs := make([]tailer.Record, n)
	now := time.Now()
	for i := range recs {
		recs[i] = tailer.Record{Time: now, Stream: tailer.Stdout, Message: line, File: files[i%pods], Pod: benchPod}
	}
	return recs
}

// BenchmarkWrite measures records to sealed batches: encoding (JSON shape
// with labels and annotations), routing, batching, budget. MB/s counts the
// lines' bytes.
func BenchmarkWrite(b *testing.B) {
	s, err := newSink(Config{LogGroup: DefaultLogGroup, LogStream: DefaultLogStream, Cluster: "prod", Labels: true, Annotations: true,
		BufferBytes: 64 << 20, BatchBytes: DefaultBatchBytes, FlushInterval: time.Second, MaxConcurrency: 8, Logger: discard()}, nil)
	if err != nil {
		b.Fatal(err)
	}
	recs := benchRecords(512, 256, 50)
	b.SetBytes(int64(len(recs) * 256))
	b.ReportAllocs()
	ctx := context.Background()
	cpu := startCPU(b, int64(len(recs)*256))
	defer cpu.stop()
	for b.Loop() {
		if err := s.Write(ctx, recs); err != nil {
			b.Fatal(err)
		}
		s.sealAll(0, true)
		s.mu.Lock()
		for _, bt := range s.ready {
			bt.d.pending--
			s.b.Release(bt.charge)
			bt.recycle()
		}
		s.ready = s.ready[:0]
		s.mu.Unlock()
	}
}

// okTransport answers every request with an empty 200, after reading it.
type okTransport struct{}

func (okTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
		Body: io.NopCloser(bytes.NewReader([]byte("{}"))), Request: r}, nil
}

// BenchmarkPutLogEventsSDK measures the SDK's side of one request:
// serialization, signing, the middleware stack, with a transport that
// answers at once. "full" is a full batch (about 1 MiB of 256-byte JSON
// messages), "small" six of them: one pod's batch when it writes a line a
// second, where the cost per request is what counts.
func BenchmarkPutLogEventsSDK(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"full", 1300}, {"small", 6}} {
		for _, how := range []string{"sdk-serializer", "own-serializer", "direct"} {
			b.Run(size.name+"/"+how, func(b *testing.B) { benchPut(b, size.n, how) })
		}
	}
}

func benchPut(b *testing.B, n int, how string) {
	client := cloudwatchlogs.New(cloudwatchlogs.Options{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, ""),
		HTTPClient:  &http.Client{Transport: okTransport{}},
		Retryer:     aws.NopRetryer{},
	})
	s, err := newSink(Config{LogGroup: "/g", LogStream: "s", Labels: true, Annotations: true, BufferBytes: 64 << 20,
		BatchBytes: MaxBatchBytes, FlushInterval: time.Second, MaxConcurrency: 8, RequestTimeout: time.Minute, Logger: discard()}, client)
	if err != nil {
		b.Fatal(err)
	}
	if s.snd.direct == nil {
		b.Fatal("no direct path")
	}
	s.snd.opts.sdkPut = how == "own-serializer"
	recs := benchRecords(n, 256, 1)
	if err := s.Write(context.Background(), recs); err != nil {
		b.Fatal(err)
	}
	s.sealAll(0, true)
	bt := s.ready[0]
	if len(bt.events) != n {
		b.Fatalf("%d events in the batch; want %d", len(bt.events), n)
	}
	b.SetBytes(int64(bt.size))
	b.ReportAllocs()
	// The SDK's serializer gets the input built once, outside the loop.
	in := &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"),
		LogEvents: make([]types.InputLogEvent, len(bt.events))}
	for i, e := range bt.events {
		var msg string
		head, tail := bt.escaped(e)
		if err := json.Unmarshal(slices.Concat([]byte{'"'}, head, tail, []byte{'"'}), &msg); err != nil {
			b.Fatal(err)
		}
		in.LogEvents[i] = types.InputLogEvent{Message: &msg, Timestamp: &bt.events[i].ts}
	}
	cpu := startCPU(b, int64(bt.size))
	defer cpu.stop()
	for b.Loop() {
		var err error
		if how == "sdk-serializer" {
			_, err = client.PutLogEvents(context.Background(), in)
		} else {
			_, err = s.snd.put(context.Background(), bt, bt.events)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(bt.events)), "events/batch")
}

// BenchmarkEndToEnd measures records to acknowledgements through the real
// SDK over loopback HTTP to cwlocal (discarding messages), 50 streams. With
// SKIFF_BENCH_CWLOCAL=http://127.0.0.1:4566 it uses a cwlocal started
// apart (go run ./cmd/cwlocal --discard), so that its CPU is not counted.
func BenchmarkEndToEnd(b *testing.B) {
	for _, format := range []string{"json", "raw"} {
		b.Run(format, func(b *testing.B) {
			cfg := Config{Cluster: "prod", Format: format, Labels: true, Annotations: true,
				AutoCreateGroup: true, FlushInterval: 100 * time.Millisecond, Logger: discard()}
			var s *Sink
			if url := os.Getenv("SKIFF_BENCH_CWLOCAL"); url != "" {
				// cwlocal in its own process: the CPU measured is the sink's alone.
				cfg.Region, cfg.Endpoint = "us-east-1", url
				cfg.Credentials = credentials.NewStaticCredentialsProvider(testAccessKey, testSecretKey, "")
				var err error
				if s, err = newWithOptions(context.Background(), cfg, withDial(testDial)); err != nil {
					b.Fatal(err)
				}
			} else {
				srv, _ := startServer(b, cwlocal.Options{Discard: true})
				s, _ = newTestSink(b, srv, cfg)
			}
			runSink(b, s)
			recs := benchRecords(1024, 256, 50)
			var a acker
			for i := range recs {
				recs[i].Pos = tailer.Position{Acker: &a}
			}
			b.SetBytes(int64(len(recs) * 256))
			b.ReportAllocs()
			ctx := context.Background()
			cpu := startCPU(b, int64(len(recs)*256))
			defer cpu.stop()
			for b.Loop() {
				if err := s.Write(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
			flushSink(b, s)
			if got := a.n.Load(); got != int64(b.N*len(recs)) {
				b.Fatalf("acknowledged %d of %d", got, b.N*len(recs))
			}
			b.ReportMetric(float64(s.snd.lim.current()), "concurrency")
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// cpuMeter reports process CPU time per operation and message megabytes per
// CPU second: numbers that hold on a loaded machine, where wall-clock MB/s
// does not.
type cpuMeter struct {
	b     *testing.B
	bytes int64
	start time.Duration
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(b *testing.B, bytesPerOp int64) *cpuMeter {
	return &cpuMeter{b: b, bytes: bytesPerOp, start: cpuTime()}
}

func (m *cpuMeter) stop() {
	cpu := cpuTime() - m.start
	if m.b.N == 0 || cpu <= 0 {
		return
	}
	m.b.ReportMetric(float64(cpu.Nanoseconds())/float64(m.b.N), "cpu-ns/op")
	m.b.ReportMetric(float64(m.bytes)*float64(m.b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
}
