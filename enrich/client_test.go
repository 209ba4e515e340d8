package enrich

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// request is what the API server sees of a request.
type request struct {
	method, path, query, accept, userAgent string
}

// recorder is an API server that answers every list with an empty list
// and every watch with one ADDED event, and keeps the last request.
type recorder struct {
	mu   sync.Mutex
	last request
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.last = request{r.Method, r.URL.Path, r.URL.Query().Encode(), r.Header.Get("Accept"), r.Header.Get("User-Agent")}
	rec.mu.Unlock()
	kind := map[string]string{"/api/v1/pods": "Pod", "/api/v1/namespaces": "Namespace"}[r.URL.Path]
	w.Header().Set("Content-Type", "application/json")
	if r.URL.Query().Get("watch") == "true" {
		fmt.Fprintf(w, `{"type":"ADDED","object":{"kind":%q,"apiVersion":"v1","metadata":{"name":"x","resourceVersion":"7"}}}`+"\n", kind)
		return
	}
	fmt.Fprintf(w, `{"kind":"%sList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]}`, kind)
}

func (rec *recorder) take() request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	r := rec.last
	rec.last = request{}
	return r
}

// The Client sends the same requests as client-go's typed clients with
// skiff's settings (what NewClientForConfig used before it dropped the
// clientset), for every option an informer sets, and gets typed objects.
func TestClientRequestsAsTypedClient(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	// A client timeout, which typed clients drop for requests without
	// TimeoutSeconds.
	cfg := &rest.Config{Host: srv.URL, Timeout: 30 * time.Second}
	client, err := NewClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	typedCfg := rest.CopyConfig(cfg)
	typedCfg.UserAgent = UserAgent
	typedCfg.ContentType = "application/vnd.kubernetes.protobuf"
	typedCfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(typedCfg)
	if err != nil {
		t.Fatal(err)
	}

	timeout, yes := int64(293), true
	opts := []metav1.ListOptions{
		{},
		{FieldSelector: "spec.nodeName=node-a", ResourceVersion: "0", Limit: 500},
		{FieldSelector: "spec.nodeName=node-a", LabelSelector: "app=web", ResourceVersion: "12",
			ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan, Continue: "abc", TimeoutSeconds: &timeout},
		{FieldSelector: "spec.nodeName=node-a", ResourceVersion: "12", AllowWatchBookmarks: true, TimeoutSeconds: &timeout},
		{FieldSelector: "spec.nodeName=node-a", SendInitialEvents: &yes, AllowWatchBookmarks: true,
			ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan},
	}
	type api struct {
		list  func(context.Context, metav1.ListOptions) (runtime.Object, error)
		watch func(context.Context, metav1.ListOptions) (watch.Interface, error)
	}
	resources := []struct {
		name         string
		typed, ours  api
		list, object runtime.Object
	}{
		{"pods",
			api{func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return cs.CoreV1().Pods("").List(ctx, o)
			},
				cs.CoreV1().Pods("").Watch},
			api{client.Pods.List, client.Pods.Watch}, &corev1.PodList{}, &corev1.Pod{}},
		{"namespaces",
			api{func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return cs.CoreV1().Namespaces().List(ctx, o)
			},
				cs.CoreV1().Namespaces().Watch},
			api{client.Namespaces.List, client.Namespaces.Watch}, &corev1.NamespaceList{}, &corev1.Namespace{}},
	}
	ctx := t.Context()
	for _, r := range resources {
		for _, o := range opts {
			if _, err := r.typed.list(ctx, o); err != nil {
				t.Fatalf("typed list %s: %v", r.name, err)
			}
			want := rec.take()
			if want.path != "/api/v1/"+r.name {
				t.Fatalf("typed list %s: server saw %+v", r.name, want)
			}
			got, err := r.ours.list(ctx, o)
			if err != nil {
				t.Fatalf("list %s: %v", r.name, err)
			}
			if req := rec.take(); req != want {
				t.Errorf("list %s %+v:\nsent %+v\nwant %+v", r.name, o, req, want)
			}
			if fmt.Sprintf("%T", got) != fmt.Sprintf("%T", r.list) {
				t.Errorf("list %s = %T; want %T", r.name, got, r.list)
			}

			w, err := r.typed.watch(ctx, o)
			if err != nil {
				t.Fatalf("typed watch %s: %v", r.name, err)
			}
			w.Stop()
			want = rec.take()
			w, err = r.ours.watch(ctx, o)
			if err != nil {
				t.Fatalf("watch %s: %v", r.name, err)
			}
			ev := <-w.ResultChan()
			w.Stop()
			if req := rec.take(); req != want {
				t.Errorf("watch %s %+v:\nsent %+v\nwant %+v", r.name, o, req, want)
			}
			if ev.Type != watch.Added || fmt.Sprintf("%T", ev.Object) != fmt.Sprintf("%T", r.object) {
				t.Errorf("watch %s: event %s %T; want ADDED %T", r.name, ev.Type, ev.Object, r.object)
			}
		}
	}
}
