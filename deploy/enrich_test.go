package deploy

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/enrich"
	"github.com/skiff-agent/skiff/tailer"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
)

// collect is a tailer.Consumer that keeps the pod metadata of what it gets.
type collect struct {
	mu   sync.Mutex
	pods []*tailer.PodMeta
}

func (c *collect) Write(_ context.Context, recs []tailer.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range recs {
		c.pods = append(c.pods, r.Pod)
		r.Pos.Ack()
	}
	return nil
}

type countAcks struct{ n atomic.Int64 }

func (a *countAcks) Ack(n int) { a.n.Add(int64(n)) }

// testEnrichWith runs the agent's enrichment, with the agent's client, as
// the rendered ServiceAccount of agentCfg (only the rendered ClusterRole's
// permissions) and checks that the records of this node's pod get its
// metadata.
func testEnrichWith(t *testing.T, agentCfg *rest.Config, pods map[string]*corev1.Pod) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client, err := enrich.NewClientForConfig(agentCfg)
	if err != nil {
		t.Fatal(err)
	}
	out := &collect{}
	cfg := enrich.DefaultConfig()
	cfg.NodeName = "node-a"
	cfg.MetadataWait = 30 * time.Second // bounds the wait on a busy machine; the pod is there already
	e, err := enrich.New(cfg, client, out)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()

	web := pods["web-a"]
	acks := &countAcks{}
	recs := []tailer.Record{{
		Time:    time.Now(),
		Message: []byte("GET / 200"),
		File:    &tailer.FileMeta{Namespace: web.Namespace, Pod: web.Name, PodUID: string(web.UID), Container: "app", Restart: 0},
		Pos:     tailer.Position{Acker: acks, Offset: 10},
	}}
	if err := e.Write(ctx, recs); err != nil {
		t.Fatalf("enrich as the agent: %v", err)
	}
	out.mu.Lock()
	got := append([]*tailer.PodMeta(nil), out.pods...)
	out.mu.Unlock()
	if len(got) != 1 || got[0] == nil {
		t.Fatalf("enriched %d records, pod %v; want web-a's metadata", len(got), got)
	}
	if got[0].Name != "web-a" || got[0].Labels["app"] != "web-a" || got[0].Host != "node-a" {
		t.Errorf("pod metadata = %+v; want web-a on node-a with label app=web-a", got[0])
	}
	if acks.n.Load() != 1 {
		t.Errorf("acks = %d; want 1", acks.n.Load())
	}
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("enrich Run: %v", err)
	}
}
