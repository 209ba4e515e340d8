package enrich

import (
	"context"
	"testing"

	"github.com/skiff-agent/skiff/tailer"
)

type discard struct{}

func (discard) Write(context.Context, []tailer.Record) error { return nil }

// BenchmarkWrite measures Write for batches of 512 records from 8 cached
// pods: the per-record cost of enrichment on the hot path.
//
//	go test -run '^$' -bench Write -benchmem ./enrich/
func BenchmarkWrite(b *testing.B) {
	cfg := DefaultConfig()
	e := newBenchEnricher(b, cfg)
	var batch []tailer.Record
	for i := range 8 {
		uid := string(rune('a' + i))
		e.store.put(meta(uid))
		batch = append(batch, records(uid, 64, nil)...)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/record")
}

func newBenchEnricher(b *testing.B, cfg Config) *Enricher {
	cfg.NodeName = testNode
	e, err := New(cfg, fakeClient(), discard{})
	if err != nil {
		b.Fatal(err)
	}
	return e
}
