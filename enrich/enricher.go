package enrich

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/tools/cache"

	"github.com/skiff-agent/skiff/tailer"
)

// Enricher attaches pod metadata to records and forwards them to the next
// consumer. Write is safe for concurrent use; Run must be called once.
type Enricher struct {
	cfg   Config
	log   *slog.Logger
	next  tailer.Consumer
	store *store
	m     *metrics

	pods       cache.SharedIndexInformer
	podsSynced func() bool // the first list has reached the cache
	podWatch   *watchState
	namespaces *namespaces // nil unless Config.NamespaceMetadata

	invalidMu   sync.Mutex
	invalidSeen map[string]struct{}

	running atomic.Bool
	bufs    sync.Pool // *[]tailer.Record, for batches with excluded records
}

// maxInvalidSeen bounds the memory of which invalid annotations were
// already reported; past it the record starts over (and may log again).
const maxInvalidSeen = 4096

// New returns an Enricher for the pods of cfg.NodeName, read through client,
// that forwards records to next. It contacts no server until Run.
func New(cfg Config, client *Client, next tailer.Consumer) (*Enricher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("enrich: %w", err)
	}
	if client == nil || client.Pods == nil || next == nil {
		return nil, errors.New("enrich: client and next consumer are required")
	}
	if cfg.NamespaceMetadata && client.Namespaces == nil {
		return nil, errors.New("enrich: namespace metadata needs a client for namespaces")
	}
	cfg = cfg.withDefaults()
	e := &Enricher{
		cfg:         cfg,
		log:         cfg.Logger,
		next:        next,
		store:       newStore(cfg.MetadataWait, cfg.DeletedPodGrace),
		invalidSeen: make(map[string]struct{}),
	}
	m, err := newMetrics(cfg.Registerer, e.store)
	if err != nil {
		return nil, err
	}
	e.m = m
	b := &builder{
		labels:      cfg.Labels,
		annotations: cfg.Annotations,
		labelKeys:   keyFilter{include: cfg.IncludeLabels, exclude: cfg.ExcludeLabels},
		annKeys:     keyFilter{include: cfg.IncludeAnnotations, exclude: cfg.ExcludeAnnotations},
		excludeSelf: cfg.ExcludeSelf,
		ownerRefs:   cfg.OwnerReferences,
		checkGroup:  cfg.CheckLogGroup,
		checkStream: cfg.CheckLogStream,
		parsers:     cfg.Parsers,
		multiline:   cfg.MultilineRules,
		invalid:     e.invalidAnnotation,
	}
	e.podWatch = newWatchState("pods", e.log, m)
	selector := fields.OneTermEqualSelector("spec.nodeName", cfg.NodeName).String()
	lw := e.podWatch.listWatch(client.Pods, selector)
	e.pods = cache.NewSharedIndexInformerWithOptions(lw, &corev1.Pod{}, cache.SharedIndexInformerOptions{
		ResyncPeriod:      cfg.ResyncPeriod,
		ObjectDescription: "pods on node " + cfg.NodeName,
	})
	if err := e.pods.SetTransform(b.transform); err != nil {
		return nil, fmt.Errorf("pod informer: %w", err)
	}
	if err := e.pods.SetWatchErrorHandlerWithContext(e.podWatch.failed); err != nil {
		return nil, fmt.Errorf("pod informer: %w", err)
	}
	reg, err := e.pods.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    e.podAdded,
		UpdateFunc: e.podUpdated,
		DeleteFunc: e.podDeleted,
	})
	if err != nil {
		return nil, fmt.Errorf("pod informer: %w", err)
	}
	e.podsSynced = reg.HasSynced
	if cfg.NamespaceMetadata {
		changed := func(name string, ns NamespaceMeta, ok bool) {
			e.store.setNamespace(name, b.namespace(ns), ok)
		}
		if e.namespaces, err = newNamespaces(client.Namespaces, e.log, m, changed); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// Run runs the informers and the sweeper of deleted pods until ctx is
// done, then waits for them to stop and returns nil. Failures to reach the
// API server are not errors here: they are retried, logged and counted.
func (e *Enricher) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("enrich: Run called twice")
	}
	ictx := clientLogContext(ctx, e.log)
	var wg sync.WaitGroup
	wg.Go(func() { e.pods.RunWithContext(ictx) })
	if e.namespaces != nil {
		wg.Go(func() { e.namespaces.run(ictx) })
	}
	defer wg.Wait()
	return e.sweep(ctx, sweepInterval(e.cfg.DeletedPodGrace))
}

// sweepInterval is how often deleted pods are looked for: a tenth of the
// grace period, between 1s and 1m, so a pod stays at most 10% longer than
// its grace.
func sweepInterval(grace time.Duration) time.Duration {
	return min(max(grace/10, time.Second), time.Minute)
}

// sweep forgets deleted pods past their grace period every interval until
// ctx is done.
func (e *Enricher) sweep(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-t.C:
			if n := e.store.sweep(now); n > 0 {
				e.log.Debug("forgot deleted pods", "pods", n)
			}
		}
	}
}

// Synced reports whether the pods (and namespaces) of the informers' first
// list are in the cache. It is for information and tests: readiness must
// not wait for it, since records flow with path metadata until then.
func (e *Enricher) Synced() bool {
	if e.namespaces != nil && !e.namespaces.synced() {
		return false
	}
	return e.podsSynced()
}

// Write attaches the pod metadata to recs, drops (and acknowledges) the
// records of excluded pods, and forwards the rest to the next consumer.
// A batch with a pod that is not cached yet waits for it at most until that
// pod's wait bound. Write returns early only with ctx's error, or with the
// next consumer's error. It is safe for concurrent use.
func (e *Enricher) Write(ctx context.Context, recs []tailer.Record) error {
	hits, noUID, unknown := e.store.attach(recs)
	e.m.hit.Add(float64(hits))
	if noUID > 0 {
		e.m.noUID.Add(float64(noUID))
	}
	if unknown {
		if err := e.resolve(ctx, recs); err != nil {
			return err
		}
	}
	excluded := 0
	for i := range recs {
		if p := recs[i].Pod; p != nil && p.Controls.Exclude {
			excluded++
		}
	}
	if excluded == 0 {
		return e.next.Write(ctx, recs)
	}
	return e.writeKept(ctx, recs, excluded)
}

// resolve waits for the pods of recs that are not cached yet, each until
// its own deadline, and attaches what arrived.
func (e *Enricher) resolve(ctx context.Context, recs []tailer.Record) error {
	now := time.Now()
	type wait struct {
		until time.Time
		first bool // this batch asked first: its outcome is the pod's
	}
	deadlines := make(map[string]wait)
	for i := range recs {
		if recs[i].Pod == nil && recs[i].File != nil && recs[i].File.PodUID != "" {
			uid := recs[i].File.PodUID
			if _, ok := deadlines[uid]; !ok {
				until, first := e.store.deadline(uid, now)
				deadlines[uid] = wait{until, first}
			}
		}
	}
	// All deadlines are fixed before the first wait, so the batch waits at
	// most MetadataWait in all, however many pods it holds.
	found := make(map[string]*tailer.PodMeta, len(deadlines))
	for uid, w := range deadlines {
		m, err := e.store.await(ctx, uid, w.until)
		if err != nil {
			return err
		}
		found[uid] = m
		if w.first && e.cfg.MetadataWait > 0 {
			if m != nil {
				e.m.waits.WithLabelValues("arrived").Inc()
			} else {
				e.m.waits.WithLabelValues("timeout").Inc()
			}
		}
	}
	for i := range recs {
		if recs[i].Pod != nil || recs[i].File == nil || recs[i].File.PodUID == "" {
			continue
		}
		e.m.miss.Inc()
		if m := found[recs[i].File.PodUID]; m != nil {
			recs[i].Pod = m
			e.m.waited.Inc()
		} else {
			e.m.fell.Inc()
		}
	}
	return nil
}

// writeKept forwards the records of recs that are not excluded, in order,
// and acknowledges the excluded ones.
func (e *Enricher) writeKept(ctx context.Context, recs []tailer.Record, excluded int) error {
	bp, _ := e.bufs.Get().(*[]tailer.Record)
	if bp == nil {
		bp = new([]tailer.Record)
	}
	kept := (*bp)[:0]
	for i := range recs {
		if p := recs[i].Pod; p != nil && p.Controls.Exclude {
			recs[i].Pos.Ack()
			continue
		}
		kept = append(kept, recs[i])
	}
	e.m.excluded.Add(float64(excluded))
	var err error
	if len(kept) > 0 {
		err = e.next.Write(ctx, kept)
	}
	clear(kept)
	*bp = kept[:0]
	e.bufs.Put(bp)
	return err
}

// Pod returns the cached metadata of the pod with the given UID, or nil.
func (e *Enricher) Pod(uid string) *tailer.PodMeta { return e.store.get(uid) }

func (e *Enricher) podAdded(obj any) {
	if p, ok := obj.(*podObject); ok {
		e.store.put(p.meta)
		e.m.podEvents.WithLabelValues("add").Inc()
	}
}

func (e *Enricher) podUpdated(_, obj any) {
	if p, ok := obj.(*podObject); ok {
		e.store.put(p.meta)
		e.m.podEvents.WithLabelValues("update").Inc()
	}
}

func (e *Enricher) podDeleted(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	if p, ok := obj.(*podObject); ok {
		e.store.remove(string(p.UID), time.Now())
		e.m.podEvents.WithLabelValues("delete").Inc()
	}
}

// invalidAnnotation counts and logs an ignored annotation control once per
// pod and value.
func (e *Enricher) invalidAnnotation(pod *corev1.Pod, key, value, reason, why string) {
	id := string(pod.UID) + "\x00" + key + "\x00" + value
	e.invalidMu.Lock()
	_, seen := e.invalidSeen[id]
	if !seen {
		if len(e.invalidSeen) >= maxInvalidSeen {
			clear(e.invalidSeen)
		}
		e.invalidSeen[id] = struct{}{}
	}
	e.invalidMu.Unlock()
	if seen {
		return
	}
	e.m.invalid.WithLabelValues(key, reason).Inc()
	e.log.Warn("ignoring invalid pod annotation", "namespace", pod.Namespace, "pod", pod.Name,
		"annotation", key, "value", value, "reason", why)
}
