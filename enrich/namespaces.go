package enrich

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
)

// NamespaceMeta is a namespace's labels and annotations. Its maps are
// never modified; a change publishes a new value.
type NamespaceMeta struct {
	Labels      map[string]string
	Annotations map[string]string
}

// namespaces is the optional namespace informer and its small cache.
type namespaces struct {
	informer cache.SharedIndexInformer
	watch    *watchState
	synced   func() bool

	mu    sync.RWMutex
	byKey map[string]NamespaceMeta
}

// newNamespaces returns the namespace informer. changed is called, from
// the informer's goroutine and in event order, with each namespace's new
// labels and annotations, or with ok false when it is deleted.
func newNamespaces(api ListWatcher, log *slog.Logger, m *metrics, changed func(name string, meta NamespaceMeta, ok bool)) (*namespaces, error) {
	n := &namespaces{byKey: make(map[string]NamespaceMeta), watch: newWatchState("namespaces", log, m)}
	lw := n.watch.listWatch(api, "")
	n.informer = cache.NewSharedIndexInformerWithOptions(lw, &corev1.Namespace{}, cache.SharedIndexInformerOptions{
		ObjectDescription: "namespaces",
	})
	if err := n.informer.SetWatchErrorHandlerWithContext(n.watch.failed); err != nil {
		return nil, fmt.Errorf("namespace informer: %w", err)
	}
	err := n.informer.SetTransform(func(obj any) (any, error) {
		if ns, ok := obj.(*corev1.Namespace); ok {
			// Keep the identity and the maps only.
			return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
				Name: ns.Name, UID: ns.UID, ResourceVersion: ns.ResourceVersion,
				Labels: ns.Labels, Annotations: ns.Annotations,
			}}, nil
		}
		return obj, nil
	})
	if err != nil {
		return nil, fmt.Errorf("namespace informer: %w", err)
	}
	set := func(obj any) {
		if ns, ok := obj.(*corev1.Namespace); ok {
			meta := NamespaceMeta{Labels: ns.Labels, Annotations: ns.Annotations}
			n.mu.Lock()
			n.byKey[ns.Name] = meta
			n.mu.Unlock()
			changed(ns.Name, meta, true)
		}
	}
	reg, err := n.informer.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, obj any) { set(obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			if ns, ok := obj.(*corev1.Namespace); ok {
				n.mu.Lock()
				delete(n.byKey, ns.Name)
				n.mu.Unlock()
				changed(ns.Name, NamespaceMeta{}, false)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("namespace informer: %w", err)
	}
	n.synced = reg.HasSynced
	return n, nil
}

func (n *namespaces) run(ctx context.Context) { n.informer.RunWithContext(ctx) }

// Namespace returns the labels and annotations of the named namespace when
// Config.NamespaceMetadata is on and the namespace is known. They are the
// namespace's own, before the key filters that apply to what records carry.
func (e *Enricher) Namespace(name string) (NamespaceMeta, bool) {
	if e.namespaces == nil {
		return NamespaceMeta{}, false
	}
	e.namespaces.mu.RLock()
	defer e.namespaces.mu.RUnlock()
	m, ok := e.namespaces.byKey[name]
	return m, ok
}
