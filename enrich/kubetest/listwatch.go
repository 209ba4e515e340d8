package kubetest

import (
	"context"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/watchlist"
)

// ListWatch is an enrich.ListWatcher over a clientset, fake ones included,
// for tests that give enrichment a clientset instead of enrich.NewClient.
type ListWatch struct {
	list        func(context.Context, metav1.ListOptions) (runtime.Object, error)
	watch       func(context.Context, metav1.ListOptions) (watch.Interface, error)
	noWatchList bool
}

// Pods lists and watches the pods of all namespaces through cs.
func Pods(cs kubernetes.Interface) *ListWatch {
	api := cs.CoreV1().Pods("")
	return &ListWatch{
		list:        func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return api.List(ctx, o) },
		watch:       api.Watch,
		noWatchList: watchlist.DoesClientNotSupportWatchListSemantics(cs),
	}
}

// Namespaces lists and watches the namespaces through cs.
func Namespaces(cs kubernetes.Interface) *ListWatch {
	api := cs.CoreV1().Namespaces()
	return &ListWatch{
		list:        func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return api.List(ctx, o) },
		watch:       api.Watch,
		noWatchList: watchlist.DoesClientNotSupportWatchListSemantics(cs),
	}
}

// List lists through the clientset.
func (l *ListWatch) List(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	return l.list(ctx, opts)
}

// Watch watches through the clientset.
func (l *ListWatch) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	return l.watch(ctx, opts)
}

// IsWatchListSemanticsUnSupported tells informers whether the clientset
// cannot stream lists (fake clientsets cannot).
func (l *ListWatch) IsWatchListSemanticsUnSupported() bool { return l.noWatchList }
