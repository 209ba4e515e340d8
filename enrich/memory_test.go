package enrich

import (
	"context"
	"encoding/json"
	"fmt"
	goruntime "runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
)

// podListJSON returns n pods of a Deployment shaped like the ones an API
// server returns (two containers, resources, env, probes, managed fields,
// conditions), with labels and annotations of the given number of entries.
func podListJSON(n, labels, annotations int) []byte {
	yes := true
	list := corev1.PodList{}
	for i := range n {
		p := corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{
				Name: fmt.Sprintf("web-7c9f8d6b5-%05d", i), Namespace: "shop",
				UID:             types.UID(fmt.Sprintf("6f1c2d3e-0000-4000-8000-%012d", i)),
				ResourceVersion: fmt.Sprint(100000 + i),
				Labels:          map[string]string{},
				Annotations:     map[string]string{},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet",
					Name: "web-7c9f8d6b5", UID: "rs-uid", Controller: &yes}},
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: "Update",
					FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{}}}`)}},
			},
			Spec: corev1.PodSpec{NodeName: testNode},
		}
		for k := range labels {
			p.Labels[fmt.Sprintf("label-%d", k)] = fmt.Sprintf("value-%d", k)
		}
		for k := range annotations {
			p.Annotations[fmt.Sprintf("example.com/annotation-%d", k)] = fmt.Sprintf("value-%d", k)
		}
		for _, c := range []string{"app", "sidecar"} {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{
				Name: c, Image: "registry.example.com/team/" + c + ":1.2.3",
				Env: []corev1.EnvVar{{Name: "MODE", Value: "production"}, {Name: "PORT", Value: "8080"}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
					corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")}},
				ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}},
			})
			p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{
				Name: c, Ready: true, Image: "registry.example.com/team/" + c + ":1.2.3",
				ImageID:     "registry.example.com/team/" + c + "@sha256:" + fmt.Sprintf("%064d", i),
				ContainerID: "containerd://" + fmt.Sprintf("%064x", i*2+len(c)),
			})
		}
		p.Status.PodIP = fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		list.Items = append(list.Items, p)
	}
	b, err := json.Marshal(&list)
	if err != nil {
		panic(err)
	}
	return b
}

// heapWithPods returns the live heap after an Enricher has cached the pods
// of listJSON (decoded afresh, as from the wire).
func heapWithPods(b *testing.B, listJSON []byte) uint64 {
	cs := fake.NewClientset()
	cs.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		var l corev1.PodList
		if err := json.Unmarshal(listJSON, &l); err != nil {
			return true, nil, err
		}
		return true, &l, nil
	})
	cfg := DefaultConfig()
	cfg.NodeName = testNode
	e, err := New(cfg, clientFor(cs), &collector{})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	if !cache.WaitForCacheSync(ctx.Done(), e.Synced) {
		b.Fatal("not synced")
	}
	var ms goruntime.MemStats
	goruntime.GC()
	goruntime.GC()
	goruntime.ReadMemStats(&ms)
	goruntime.KeepAlive(e)
	cancel()
	<-done
	return ms.HeapAlloc
}

// BenchmarkCacheMemory reports the heap the cache holds per pod for 1,000
// pods: with no labels or annotations ("bare", the target is under 4 KiB),
// and with 8 labels and 4 annotations.
//
//	go test -run '^$' -bench CacheMemory -benchtime 3x ./enrich/
func BenchmarkCacheMemory(b *testing.B) {
	const pods = 1000
	for _, tc := range []struct {
		name                string
		labels, annotations int
	}{{"bare", 0, 0}, {"labels=8,annotations=4", 8, 4}} {
		b.Run(tc.name, func(b *testing.B) {
			empty := podListJSON(0, 0, 0)
			full := podListJSON(pods, tc.labels, tc.annotations)
			var sum float64
			for b.Loop() {
				base := heapWithPods(b, empty)
				with := heapWithPods(b, full)
				sum += (float64(with) - float64(base)) / pods
			}
			b.ReportMetric(sum/float64(b.N), "B/pod")
		})
	}
}
