package cwlocal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchBody is a full PutLogEvents batch (about 1 MiB of messages) of
// skiff's default JSON format: each message is a JSON document, so every
// quote is escaped in the body, as the SDK sends it.
func benchBody(b *testing.B) (body []byte, messageBytes int) {
	b.Helper()
	type ev struct {
		Timestamp int64  `json:"timestamp"`
		Message   string `json:"message"`
	}
	ts := time.Now().UnixMilli()
	var events []ev
	size := 0
	for i := 0; ; i++ {
		m := fmt.Sprintf(`{"time":"2026-11-26T12:00:00.%09dZ","stream":"stdout","log":"GET /api/v1/items?id=%d 200 0.003s ua=curl/8.0","kubernetes":{"pod_name":"web-7f9c5d-x2x4q","namespace_name":"default","container_name":"app","host":"node-1"}}`, i, i)
		if size+len(m)+eventOverhead > MaxBatchBytes || len(events) == MaxBatchEvents {
			break
		}
		size += len(m) + eventOverhead
		messageBytes += len(m)
		events = append(events, ev{ts, m})
	}
	body, err := json.Marshal(map[string]any{"logGroupName": "/bench", "logStreamName": "node-1/app", "logEvents": events})
	if err != nil {
		b.Fatal(err)
	}
	return body, messageBytes
}

// nopWriter is the cheapest ResponseWriter, to measure the handler alone.
type nopWriter struct {
	h      http.Header
	status int
}

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(s int)           { w.status = s }

// BenchmarkPutLogEvents runs full batches through the HTTP handler (no
// sockets): decoding, validation, and storing (store) or counting only
// (discard). MB/s is of request bodies; msg-MB/s of accepted message bytes.
func BenchmarkPutLogEvents(b *testing.B) {
	for _, discard := range []bool{false, true} {
		name := "store"
		if discard {
			name = "discard"
		}
		b.Run(name, func(b *testing.B) {
			s := startServer(b, Options{Discard: discard, MaxBytes: 1 << 40})
			body, msgBytes := benchBody(b)
			rawPostB(b, s, "CreateLogGroup", `{"logGroupName":"/bench"}`)
			rawPostB(b, s, "CreateLogStream", `{"logGroupName":"/bench","logStreamName":"node-1/app"}`)
			req, _ := http.NewRequest(http.MethodPost, "/", nil)
			req.Header.Set("Content-Type", contentType)
			req.Header.Set("X-Amz-Target", targetPrefix+"PutLogEvents")
			req.Header.Set("Authorization", fakeAuth)
			w := &nopWriter{h: http.Header{}}
			rd := bytes.NewReader(body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				if i%256 == 255 && !discard {
					b.StopTimer()
					s.store.mu.Lock()
					g := s.store.groups["/bench"]
					s.store.deleteStream(g, g.streams["node-1/app"])
					s.store.createStream(g, "node-1/app", 0)
					s.store.mu.Unlock()
					b.StartTimer()
				}
				rd.Reset(body)
				req.Body = io.NopCloser(rd)
				req.ContentLength = int64(len(body))
				w.status = 0
				s.ServeHTTP(w, req)
				if w.status != 200 {
					b.Fatalf("status %d", w.status)
				}
			}
			reportCPU(b, cpu0, len(body), msgBytes)
		})
	}
}

// BenchmarkPutLogEventsLoopback posts full batches over loopback HTTP with
// one client connection, as a benchmark harness would.
func BenchmarkPutLogEventsLoopback(b *testing.B) {
	s := startServer(b, Options{Discard: true})
	body, msgBytes := benchBody(b)
	rawPostB(b, s, "CreateLogGroup", `{"logGroupName":"/bench"}`)
	rawPostB(b, s, "CreateLogStream", `{"logGroupName":"/bench","logStreamName":"node-1/app"}`)
	client := &http.Client{Transport: &http.Transport{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for range b.N {
		req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-Amz-Target", targetPrefix+"PutLogEvents")
		req.Header.Set("Authorization", fakeAuth)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	reportCPU(b, cpu0, len(body), msgBytes)
}

// cpuTime is the process's user + system CPU time. The machine is shared,
// so wall-clock MB/s understates the server; MB per CPU-second does not.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports message MB/s of wall time, and body and message MB per
// CPU-second of the whole process (client included in the loopback case).
func reportCPU(b *testing.B, cpu0 time.Duration, bodyBytes, msgBytes int) {
	cpu := (cpuTime() - cpu0).Seconds()
	n := float64(b.N)
	b.ReportMetric(float64(msgBytes)*n/b.Elapsed().Seconds()/1e6, "msg-MB/s")
	if cpu > 0 {
		b.ReportMetric(float64(bodyBytes)*n/cpu/1e6, "MB/cpu-s")
		b.ReportMetric(float64(msgBytes)*n/cpu/1e6, "msg-MB/cpu-s")
	}
}

func rawPostB(b *testing.B, s *Server, op, body string) {
	b.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	req.Header.Set("Authorization", fakeAuth)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("%s: status %d", op, resp.StatusCode)
	}
}
