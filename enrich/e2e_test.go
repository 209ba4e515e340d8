package enrich

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/skiff-agent/skiff/enrich/kubetest"
	"github.com/skiff-agent/skiff/tailer"
)

// e2eLimit bounds every wait of the end-to-end tests (a safety net on a
// busy machine, not a timing assertion).
const e2eLimit = 2 * time.Minute

var readPods = rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}}

// latest is the next consumer of the end-to-end tests: it remembers the
// last metadata seen per pod UID and how many records each UID had.
type latest struct {
	mu    sync.Mutex
	pod   map[string]*tailer.PodMeta
	count map[string]int
}

func (l *latest) Write(_ context.Context, recs []tailer.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range recs {
		uid := r.File.PodUID
		l.pod[uid] = r.Pod
		l.count[uid]++
		r.Pos.Ack()
	}
	return nil
}

func (l *latest) get(uid string) (*tailer.PodMeta, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pod[uid], l.count[uid]
}

// feeder writes a batch of records for every UID in its list, over and
// over, like a tailer following the pods' files, until stopped.
type feeder struct {
	mu   sync.Mutex
	uids []string
}

func (f *feeder) add(uid string) {
	f.mu.Lock()
	f.uids = append(f.uids, uid)
	f.mu.Unlock()
}

func (f *feeder) run(ctx context.Context, t *testing.T, e *Enricher) {
	for ctx.Err() == nil {
		f.mu.Lock()
		var batch []tailer.Record
		for _, uid := range f.uids {
			batch = append(batch, records(uid, 3, nil)...)
		}
		f.mu.Unlock()
		if err := e.Write(ctx, batch); err != nil && ctx.Err() == nil {
			t.Errorf("Write: %v", err)
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// eventually polls cond until it holds or e2eLimit passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	limit := time.Now().Add(e2eLimit)
	for !cond() {
		if time.Now().After(limit) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type e2e struct {
	e    *Enricher
	out  *latest
	feed *feeder
	log  *lockedBuffer
}

// startE2E runs an Enricher as the identity of cfg and a feeder until the
// test ends.
func startE2E(t *testing.T, cfg *rest.Config, wait time.Duration) *e2e {
	t.Helper()
	client, err := NewClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return startE2EClient(t, client, wait)
}

func startE2EClient(t *testing.T, client *Client, wait time.Duration) *e2e {
	t.Helper()
	var err error
	x := &e2e{out: &latest{pod: map[string]*tailer.PodMeta{}, count: map[string]int{}}, feed: &feeder{}, log: &lockedBuffer{}}
	c := DefaultConfig()
	c.NodeName = testNode
	c.MetadataWait = wait
	c.Logger = testLogger(x.log)
	x.e, err = New(c, client, x.out)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = x.e.Run(ctx) })
	wg.Go(func() { x.feed.run(ctx, t, x.e) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if t.Failed() {
			t.Logf("enricher log:\n%s", x.log.String())
		}
	})
	return x
}

func createPod(t *testing.T, cs kubernetes.Interface, ns, name, node string, labels map[string]string) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels,
			Annotations: map[string]string{"fluentbit.io/parser": "json"}},
		Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27"}}},
	}
	p, err := cs.CoreV1().Pods(ns).Create(context.Background(), p, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s/%s: %v", ns, name, err)
	}
	return p
}

func TestAPIServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real kube-apiserver")
	}
	c := kubetest.Start(t)
	admin := c.AdminClient(t)
	c.Namespace(t, "demo")
	agent := c.ServiceAccount(t, "logging", "agent", readPods)

	t.Run("pods created, relabelled and deleted while records flow", func(t *testing.T) {
		x := startE2E(t, agent, time.Second)
		ctx := context.Background()
		web := createPod(t, admin, "demo", "web-1", testNode, map[string]string{"app": "web"})
		other := createPod(t, admin, "demo", "elsewhere", "node-b", nil)
		uid := string(web.UID)
		x.feed.add(uid)
		x.feed.add(string(other.UID))

		eventually(t, "records of web-1 carry its metadata", func() bool {
			p, _ := x.out.get(uid)
			return p != nil && p.Name == "web-1" && p.Labels["app"] == "web" && p.Controls.Parser == "json"
		})
		first, _ := x.out.get(uid)

		web.Labels["version"] = "2"
		if _, err := admin.CoreV1().Pods("demo").Update(ctx, web, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "records of web-1 carry the new label", func() bool {
			p, _ := x.out.get(uid)
			return p.Labels["version"] == "2"
		})
		if _, ok := first.Labels["version"]; ok {
			t.Error("metadata attached before the relabel was modified")
		}

		// No kubelet confirms a graceful deletion here: delete at once.
		if err := admin.CoreV1().Pods("demo").Delete(ctx, "web-1", metav1.DeleteOptions{GracePeriodSeconds: new(int64)}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the deletion is seen", func() bool { _, d := x.e.store.counts(); return d == 1 })
		_, n := x.out.get(uid)
		eventually(t, "more records of the deleted pod", func() bool { _, m := x.out.get(uid); return m > n+10 })
		if p, _ := x.out.get(uid); p == nil || p.Labels["version"] != "2" {
			t.Errorf("late records of the deleted pod: %+v; want its metadata (grace)", p)
		}

		if p, n := x.out.get(string(other.UID)); p != nil || n == 0 {
			t.Errorf("pod of another node: metadata %v after %d records; want none (field selector)", p, n)
		}
		if x.e.Pod(string(other.UID)) != nil {
			t.Error("pod of another node cached")
		}
	})

	t.Run("API server stopped and restarted mid-run", func(t *testing.T) {
		x := startE2E(t, agent, 300*time.Millisecond)
		known := createPod(t, admin, "demo", "known", testNode, map[string]string{"app": "known"})
		x.feed.add(string(known.UID))
		eventually(t, "the known pod is enriched", func() bool { p, _ := x.out.get(string(known.UID)); return p != nil })

		c.StopAPIServer(t)
		t.Cleanup(func() {
			if !c.APIServerRunning() {
				c.StartAPIServer(t)
			}
		})
		eventually(t, "the watch reports the outage", func() bool { return x.e.podWatch.current() == stateUnavailable })
		// Records keep flowing: cached pods keep their metadata, unknown
		// ones ship with path metadata.
		x.feed.add("unknown-during-outage")
		_, n := x.out.get(string(known.UID))
		eventually(t, "records flow during the outage", func() bool {
			_, m := x.out.get(string(known.UID))
			_, u := x.out.get("unknown-during-outage")
			return m > n+30 && u > 30
		})
		if p, _ := x.out.get(string(known.UID)); p == nil {
			t.Error("cached pod lost its metadata during the outage")
		}
		if p, _ := x.out.get("unknown-during-outage"); p != nil {
			t.Errorf("unknown pod got metadata %v", p)
		}

		c.StartAPIServer(t)
		later := createPod(t, admin, "demo", "later", testNode, nil)
		x.feed.add(string(later.UID))
		eventually(t, "enrichment resumes for a pod created after the restart", func() bool {
			p, _ := x.out.get(string(later.UID))
			return p != nil && p.Name == "later"
		})
		// One line per change of state: unavailable, then (while the new
		// server starts) possibly one more state, then ok again.
		logs := x.log.String()
		if n := strings.Count(logs, "cannot list or watch"); n < 1 || n > 3 || !strings.Contains(logs, "state=unavailable") ||
			!strings.Contains(logs, "reachable again") {
			t.Errorf("want an unavailable line, a recovery line, and no repeats:\n%s", logs)
		}
		if counter(t, x.e.m.watchErrors.WithLabelValues("pods", stateUnavailable)) == 0 {
			t.Error("no unavailable errors counted")
		}
		if counter(t, x.e.m.fell) == 0 {
			t.Error("no fallback lookups counted")
		}
	})

	t.Run("client forbidden from listing pods", func(t *testing.T) {
		nobody := c.ServiceAccount(t, "logging", "nobody")
		x := startE2E(t, nobody, 200*time.Millisecond)
		p := createPod(t, admin, "demo", "secret", testNode, nil)
		x.feed.add(string(p.UID))
		eventually(t, "the watch reports forbidden", func() bool { return x.e.podWatch.current() == stateForbidden })
		eventually(t, "records flow", func() bool { _, n := x.out.get(string(p.UID)); return n > 30 })
		if got, _ := x.out.get(string(p.UID)); got != nil {
			t.Errorf("forbidden client attached %v", got)
		}
		if counter(t, x.e.m.watchErrors.WithLabelValues("pods", stateForbidden)) == 0 {
			t.Error("forbidden errors not counted")
		}
		logs := x.log.String()
		if strings.Count(logs, "state=forbidden") != 1 || !strings.Contains(logs, "system:serviceaccount:logging:nobody") {
			t.Errorf("want one forbidden line naming the identity:\n%s", logs)
		}
		if x.e.Synced() {
			t.Error("Synced while forbidden")
		}
	})
	t.Run("standalone with a kubeconfig file", func(t *testing.T) {
		user := c.User(t, "laptop-user", []string{"developers"}, readPods)
		client, err := NewClient(c.Kubeconfig(t, user))
		if err != nil {
			t.Fatal(err)
		}
		p := createPod(t, admin, "demo", "from-laptop", testNode, map[string]string{"app": "laptop"})
		x := startE2EClient(t, client, time.Second)
		x.feed.add(string(p.UID))
		eventually(t, "records are enriched through the kubeconfig's identity", func() bool {
			got, _ := x.out.get(string(p.UID))
			return got != nil && got.Labels["app"] == "laptop"
		})
	})

	t.Run("the client lists and watches this node's pods as the typed client does", func(t *testing.T) {
		testClientAgainst(t, agent, admin)
	})
}

// testClientAgainst lists and watches this node's pods with a Client for
// cfg and checks that it sees what admin, a typed client, sees, as typed
// objects: the field selector, resource version and watch-list options
// reach the server.
func testClientAgainst(t *testing.T, cfg *rest.Config, admin kubernetes.Interface) {
	client, err := NewClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), e2eLimit)
	defer cancel()
	createPod(t, admin, "demo", "lw-here", testNode, nil)
	createPod(t, admin, "demo", "lw-there", "node-b", nil)
	onNode := metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("spec.nodeName", testNode).String()}
	names := func(l *corev1.PodList) []string {
		var n []string
		for _, p := range l.Items {
			n = append(n, p.Namespace+"/"+p.Name)
		}
		slices.Sort(n)
		return n
	}
	typed := func() []string {
		l, err := admin.CoreV1().Pods("").List(ctx, onNode)
		if err != nil {
			t.Fatal(err)
		}
		return names(l)
	}

	obj, err := client.Pods.List(ctx, onNode)
	if err != nil {
		t.Fatal(err)
	}
	list, ok := obj.(*corev1.PodList)
	if !ok {
		t.Fatalf("list = %T; want *v1.PodList", obj)
	}
	if got, want := names(list), typed(); !slices.Equal(got, want) || !slices.Contains(got, "demo/lw-here") {
		t.Errorf("pods on %s = %q; want %q, with demo/lw-here", testNode, got, want)
	}

	o := onNode
	o.ResourceVersion = list.ResourceVersion
	w, err := client.Pods.Watch(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	createPod(t, admin, "demo", "lw-there-later", "node-b", nil)
	createPod(t, admin, "demo", "lw-here-later", testNode, nil)
	select {
	case ev := <-w.ResultChan(): // a zero event if it ended
		if p, ok := ev.Object.(*corev1.Pod); ev.Type != watch.Added || !ok || p.Name != "lw-here-later" {
			t.Errorf("first event after the list: %s %T %v; want ADDED *v1.Pod lw-here-later", ev.Type, ev.Object, ev.Object)
		}
	case <-ctx.Done():
		t.Fatal("no event for lw-here-later")
	}

	// A streamed list, as informers ask for it: the pods, then a bookmark.
	yes := true
	o = onNode
	o.SendInitialEvents, o.AllowWatchBookmarks = &yes, true
	o.ResourceVersionMatch = metav1.ResourceVersionMatchNotOlderThan
	want := typed()
	ws, err := client.Pods.Watch(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Stop()
	streamed := &corev1.PodList{}
	for done := false; !done; {
		select {
		case ev, open := <-ws.ResultChan():
			p, ok := ev.Object.(*corev1.Pod)
			switch {
			case !open:
				t.Fatal("streamed list: the watch ended before its bookmark")
			case !ok:
				t.Fatalf("streamed list: %s %T %v; want *v1.Pod", ev.Type, ev.Object, ev.Object)
			case ev.Type == watch.Added:
				streamed.Items = append(streamed.Items, *p)
			case ev.Type == watch.Bookmark && p.Annotations[metav1.InitialEventsAnnotationKey] == "true":
				done = true
			}
		case <-ctx.Done():
			t.Fatal("streamed list did not end with its bookmark")
		}
	}
	if got := names(streamed); !slices.Equal(got, want) {
		t.Errorf("streamed pods on %s = %q; want %q", testNode, got, want)
	}
}
