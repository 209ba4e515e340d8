package enrich

import (
	"context"
	"maps"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"

	"github.com/skiff-agent/skiff/tailer"
)

type rig struct {
	e   *Enricher
	cs  *fake.Clientset
	out *collector
	log *lockedBuffer
	reg *prometheus.Registry
}

// startRig runs an Enricher with real informers over the fake clientset
// until the test ends.
func startRig(t *testing.T, cfg Config, setup func(*fake.Clientset), objs ...runtime.Object) *rig {
	t.Helper()
	r := &rig{cs: fake.NewClientset(objs...), out: &collector{}, log: &lockedBuffer{}, reg: prometheus.NewRegistry()}
	if setup != nil {
		setup(r.cs)
	}
	cfg.NodeName = testNode
	cfg.Logger = testLogger(r.log)
	cfg.Registerer = r.reg
	e, err := New(cfg, clientFor(r.cs), r.out)
	if err != nil {
		t.Fatal(err)
	}
	r.e = e
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
	return r
}

func (r *rig) synced(t *testing.T) {
	t.Helper()
	if !cache.WaitForCacheSync(t.Context().Done(), r.e.Synced) {
		t.Fatal("informer did not sync")
	}
}

func (r *rig) write(t *testing.T, recs []tailer.Record) []got {
	t.Helper()
	if err := r.e.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return r.out.take()
}

func TestInformerLifecycle(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MetadataWait = -1 // unit of interest here: the cache, not the wait
	r := startRig(t, cfg, nil, testPod("shop", "web-1", "uid-1", map[string]string{"app": "web"}, nil))
	r.synced(t)
	ctx := context.Background()
	pods := r.cs.CoreV1().Pods("shop")

	// Add.
	g := r.write(t, records("uid-1", 2, nil))
	if g[0].pod == nil || g[0].pod.Name != "web-1" || g[0].pod.Labels["app"] != "web" || g[0].pod.Containers["app"].ContainerID == "" {
		t.Fatalf("after add: pod = %+v", g[0].pod)
	}
	first := g[0].pod

	// Update: a label change publishes a new pointer; the old one is intact.
	p := testPod("shop", "web-1", "uid-1", map[string]string{"app": "web", "version": "2"}, nil)
	if _, err := pods.Update(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, r.e, "the label change is cached", func() bool { return r.e.Pod("uid-1").Labels["version"] == "2" })
	g = r.write(t, records("uid-1", 1, nil))
	if g[0].pod == first || g[0].pod.Labels["version"] != "2" {
		t.Errorf("after relabel: pod %+v (same pointer: %v)", g[0].pod, g[0].pod == first)
	}
	if _, ok := first.Labels["version"]; ok {
		t.Error("the metadata attached before the update was modified")
	}

	// Delete: the metadata stays for the grace period.
	if err := pods.Delete(ctx, "web-1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, r.e, "the deletion is seen", func() bool { _, d := r.e.store.counts(); return d == 1 })
	g = r.write(t, records("uid-1", 1, nil))
	if g[0].pod == nil || g[0].pod.Name != "web-1" {
		t.Errorf("late line of a deleted pod: pod = %v; want its metadata", g[0].pod)
	}

	// Re-create with a new UID: each file gets its own pod.
	if _, err := pods.Create(ctx, testPod("shop", "web-1", "uid-2", map[string]string{"app": "web", "version": "3"}, nil), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, r.e, "the new pod is cached", func() bool { return r.e.Pod("uid-2") != nil })
	g = r.write(t, append(records("uid-1", 1, nil), records("uid-2", 1, nil)...))
	if g[0].pod.UID != "uid-1" || g[0].pod.Labels["version"] != "2" || g[1].pod.UID != "uid-2" || g[1].pod.Labels["version"] != "3" {
		t.Errorf("after re-create: %v / %v", g[0].pod, g[1].pod)
	}
	if got := counter(t, r.e.m.hit); got != 6 {
		t.Errorf("hits = %v; want 6", got)
	}
}

func TestInformerAnnotationControls(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MetadataWait = -1
	cfg.CheckLogGroup = refuseSpaces
	r := startRig(t, cfg, nil,
		testPod("a", "quiet", "u-ex", nil, map[string]string{"fluentbit.io/exclude": "true"}),
		testPod("a", "json", "u-json", nil, map[string]string{"skiff.io/parser": "json", "skiff.io/log-group": "not valid!"}),
		testPod("logging", "skiff-abc", "u-self", map[string]string{SelfLabel: SelfValue}, nil),
	)
	r.synced(t)
	var a acks
	var batch []tailer.Record
	for _, uid := range []string{"u-ex", "u-json", "u-self", "u-ex"} {
		batch = append(batch, records(uid, 2, &a)...)
	}
	g := r.write(t, batch)
	if len(g) != 2 || g[0].pod.UID != "u-json" || g[0].pod.Controls.Parser != "json" || g[0].pod.Controls.LogGroup != "" {
		t.Fatalf("forwarded %+v; want the two records of u-json with parser json and no log group", g)
	}
	if a.n.Load() != 8 {
		t.Errorf("acks = %d; want 8 (6 dropped + 2 forwarded)", a.n.Load())
	}
	if got := counter(t, r.e.m.excluded); got != 6 {
		t.Errorf("excluded = %v; want 6", got)
	}

	// An invalid value is counted and logged once, not at every update.
	p := testPod("a", "json", "u-json", map[string]string{"x": "1"}, map[string]string{"skiff.io/parser": "json", "skiff.io/log-group": "not valid!"})
	if _, err := r.cs.CoreV1().Pods("a").Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, r.e, "the update is cached", func() bool { return r.e.Pod("u-json").Labels["x"] == "1" })
	if got := counter(t, r.e.m.invalid.WithLabelValues(AnnotationLogGroup, reasonDestination)); got != 1 {
		t.Errorf("invalid log-group count = %v; want 1", got)
	}
	if n := strings.Count(r.log.String(), "ignoring invalid pod annotation"); n != 1 {
		t.Errorf("invalid annotation logged %d times; want 1\n%s", n, r.log.String())
	}
}

func TestInformerForbiddenThenAllowed(t *testing.T) {
	var lists atomic.Int32
	calls := make(chan int32, 16)
	const denied = 2
	forbid := func(cs *fake.Clientset) {
		cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
			n := lists.Add(1)
			calls <- n
			if n <= denied {
				return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", nil)
			}
			return false, nil, nil
		})
	}
	cfg := DefaultConfig()
	cfg.MetadataWait = -1
	r := startRig(t, cfg, forbid, testPod("shop", "web-1", "uid-1", nil, nil))

	// While forbidden, records flow with path metadata.
	<-calls
	g := r.write(t, records("uid-1", 1, nil))
	if len(g) != 1 || g[0].pod != nil {
		t.Fatalf("while forbidden: %+v; want the record with path metadata", g)
	}
	<-calls // the second list: the first failure has been handled
	if got := counter(t, r.e.m.watchErrors.WithLabelValues("pods", stateForbidden)); got < 1 {
		t.Errorf("forbidden errors = %v; want at least 1", got)
	}
	if got := counter(t, r.e.m.watchUp.WithLabelValues("pods")); got != 0 {
		t.Errorf("watch up = %v while forbidden", got)
	}

	// Allowed again: the cache fills, and each state change was logged once.
	r.synced(t)
	waitUntil(t, r.e, "the pod is cached", func() bool { return r.e.Pod("uid-1") != nil })
	if got := counter(t, r.e.m.watchUp.WithLabelValues("pods")); got != 1 {
		t.Errorf("watch up = %v after recovery", got)
	}
	logs := r.log.String()
	if n := strings.Count(logs, "cannot list or watch"); n != 1 {
		t.Errorf("failure logged %d times; want once\n%s", n, logs)
	}
	if !strings.Contains(logs, "state=forbidden") || strings.Count(logs, "reachable again") != 1 {
		t.Errorf("want one forbidden line and one recovery line:\n%s", logs)
	}
	if r.e.podWatch.current() != stateOK {
		t.Errorf("state = %s; want ok", r.e.podWatch.current())
	}
}

func TestNamespaceMetadata(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NamespaceMetadata = true
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: map[string]string{"team": "a"}}}
	r := startRig(t, cfg, nil, ns)
	r.synced(t)
	m, ok := r.e.Namespace("shop")
	if !ok || m.Labels["team"] != "a" {
		t.Errorf("Namespace(shop) = %v, %v", m, ok)
	}
	if _, ok := r.e.Namespace("other"); ok {
		t.Error("unknown namespace found")
	}
}

func TestNamespaceMetadataOnRecords(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MetadataWait = -1
	cfg.NamespaceMetadata = true
	cfg.ExcludeLabels = []string{"kubernetes.io/*"}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:        "shop",
		Labels:      map[string]string{"team": "a", "kubernetes.io/metadata.name": "shop"},
		Annotations: map[string]string{"owner": "ops"},
	}}
	r := startRig(t, cfg, nil, ns,
		testPod("shop", "web-1", "uid-1", map[string]string{"app": "web"}, nil),
		testPod("other", "db-1", "uid-2", nil, nil))
	r.synced(t)
	waitUntil(t, r.e, "the namespace reaches the pod", func() bool {
		p := r.e.Pod("uid-1")
		return p != nil && p.NamespaceLabels["team"] == "a"
	})
	g := r.write(t, append(records("uid-1", 1, nil), records("uid-2", 1, nil)...))
	first := g[0].pod
	if want := map[string]string{"team": "a"}; !maps.Equal(first.NamespaceLabels, want) {
		t.Errorf("namespace labels = %v; want %v (filtered like pod labels)", first.NamespaceLabels, want)
	}
	if first.NamespaceAnnotations["owner"] != "ops" || first.Labels["app"] != "web" {
		t.Errorf("pod = %+v", first)
	}
	if p := g[1].pod; p == nil || p.NamespaceLabels != nil || p.NamespaceAnnotations != nil {
		t.Errorf("pod of an unknown namespace = %+v; want no namespace metadata", p)
	}
	other := g[1].pod

	// A label change of the namespace publishes a new pointer for its pods
	// only; what was published before is intact.
	ns = ns.DeepCopy()
	ns.Labels["team"] = "b"
	if _, err := r.cs.CoreV1().Namespaces().Update(context.Background(), ns, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, r.e, "the namespace change is published", func() bool {
		return r.e.Pod("uid-1").NamespaceLabels["team"] == "b"
	})
	g = r.write(t, append(records("uid-1", 1, nil), records("uid-2", 1, nil)...))
	if g[0].pod == first || g[0].pod.NamespaceLabels["team"] != "b" || g[0].pod.Labels["app"] != "web" {
		t.Errorf("after namespace relabel: pod %+v (same pointer: %v)", g[0].pod, g[0].pod == first)
	}
	if first.NamespaceLabels["team"] != "a" {
		t.Error("the metadata attached before the namespace update was modified")
	}
	if g[1].pod != other {
		t.Error("a pod of another namespace got a new pointer")
	}

	// A pod update keeps the namespace's metadata.
	published := g[0].pod
	p := testPod("shop", "web-1", "uid-1", map[string]string{"app": "web", "v": "2"}, nil)
	if _, err := r.cs.CoreV1().Pods("shop").Update(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, r.e, "the pod update is cached", func() bool { return r.e.Pod("uid-1").Labels["v"] == "2" })
	if m := r.e.Pod("uid-1"); m.NamespaceLabels["team"] != "b" || m == published {
		t.Errorf("after pod update: %+v", m)
	}

	// Deleting the namespace takes its metadata off.
	if err := r.cs.CoreV1().Namespaces().Delete(context.Background(), "shop", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, r.e, "the namespace deletion is seen", func() bool { return r.e.Pod("uid-1").NamespaceLabels == nil })
}

func TestNamespaceMetadataLabelsOff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MetadataWait = -1
	cfg.NamespaceMetadata = true
	cfg.Labels = false
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name: "shop", Labels: map[string]string{"team": "a"}, Annotations: map[string]string{"owner": "ops"},
	}}
	r := startRig(t, cfg, nil, ns, testPod("shop", "web-1", "uid-1", map[string]string{"app": "web"}, nil))
	r.synced(t)
	waitUntil(t, r.e, "the namespace reaches the pod", func() bool {
		p := r.e.Pod("uid-1")
		return p != nil && p.NamespaceAnnotations["owner"] == "ops"
	})
	if p := r.e.Pod("uid-1"); p.NamespaceLabels != nil || p.Labels != nil {
		t.Errorf("labels off: pod %+v", p)
	}
}
