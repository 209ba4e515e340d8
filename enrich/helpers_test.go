package enrich

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/skiff-agent/skiff/tailer"
)

// collector is the next consumer in tests: it keeps what it was given.
type collector struct {
	mu   sync.Mutex
	recs []got
	err  error
}

type got struct {
	msg string
	pod *tailer.PodMeta
}

func (c *collector) Write(_ context.Context, recs []tailer.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		c.recs = append(c.recs, got{string(r.Message), r.Pod})
		r.Pos.Ack()
	}
	return c.err
}

func (c *collector) take() []got {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.recs
	c.recs = nil
	return out
}

// acks counts acknowledgements.
type acks struct{ n atomic.Int64 }

func (a *acks) Ack(n int) { a.n.Add(int64(n)) }

// lockedBuffer is a log destination safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func testLogger(buf *lockedBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

const testNode = "node-a"

func testPod(ns, name, uid string, labels, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, UID: types.UID(uid),
			Labels: labels, Annotations: annotations,
		},
		Spec: corev1.PodSpec{
			NodeName:   testNode,
			Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}},
		},
		Status: corev1.PodStatus{
			PodIP: "10.0.0.7",
			ContainerStatuses: []corev1.ContainerStatus{{
				Name: "app", Image: "docker.io/library/nginx:1.27",
				ImageID:     "docker.io/library/nginx@sha256:abc",
				ContainerID: "containerd://0123456789abcdef",
			}},
		},
	}
}

// records returns n records of the pod with the given UID, sharing one
// FileMeta and acked through a.
func records(uid string, n int, a tailer.Acker) []tailer.Record {
	f := &tailer.FileMeta{Path: "/var/log/pods/ns_p_" + uid + "/app/0.log", PodUID: uid, Container: "app", Restart: 0}
	recs := make([]tailer.Record, n)
	for i := range recs {
		recs[i] = tailer.Record{Message: []byte(uid), File: f, Pos: tailer.Position{Acker: a, Offset: int64(i + 1)}}
	}
	return recs
}

func counter(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	return testutil.ToFloat64(c)
}

// waitUntil waits for cond to hold, re-checking whenever the cache of e
// changes. It fails the test after a generous bound (a safety net against
// hanging, never a timing assertion).
func waitUntil(t *testing.T, e *Enricher, what string, cond func() bool) {
	t.Helper()
	limit := time.NewTimer(20 * time.Second)
	defer limit.Stop()
	for {
		ch := e.store.updated()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-limit.C:
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}
