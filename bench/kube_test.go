package main

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiff-agent/skiff/bench/nodesim"
	"github.com/skiff-agent/skiff/enrich/kubetest"
)

// TestSimPod: the pods the enrich scenario creates match the simulated
// files (name, namespace, containers) and look like a Deployment's.
func TestSimPod(t *testing.T) {
	pod := simPod("shop", 23, 2)
	if pod.Name != nodesim.PodName(23) || pod.Namespace != "shop" || pod.Spec.NodeName != nodeName {
		t.Errorf("pod %s/%s on %q; want shop/%s on %s", pod.Namespace, pod.Name, pod.Spec.NodeName, nodesim.PodName(23), nodeName)
	}
	if n := len(pod.Spec.Containers); n != 2 || pod.Spec.Containers[0].Name != nodesim.ContainerName(0) || pod.Spec.Containers[1].Name != nodesim.ContainerName(1) {
		t.Errorf("containers %+v; want app and side1", pod.Spec.Containers)
	}
	l := pod.Labels
	if l["app.kubernetes.io/part-of"] != enrichedMark || l["app.kubernetes.io/name"] != "shop-02" || len(pod.Annotations) == 0 {
		t.Errorf("labels %v, annotations %v; want the app's, marked %s", l, pod.Annotations, enrichedMark)
	}
	if refs := pod.OwnerReferences; len(refs) != 1 || refs[0].Name != "shop-02-"+l["pod-template-hash"] {
		t.Errorf("owner references %+v; want the ReplicaSet shop-02-<pod-template-hash>", refs)
	}
	st := runningStatus(pod, 23, map[[2]string]string{{pod.Name, "app"}: "abc", {pod.Name, "side1"}: "def"})
	if st.Phase != corev1.PodRunning || st.PodIP == "" || len(st.ContainerStatuses) != 2 ||
		st.ContainerStatuses[0].ContainerID != "containerd://abc" || st.ContainerStatuses[1].ContainerID != "containerd://def" {
		t.Errorf("status %+v; want Running with the simulator's container IDs", st)
	}
}

// TestEnrichScenarioWithSkiff runs the enrich scenario's path with the
// skiff binary of this checkout and a real kube-apiserver: the pods are
// created through the API with the simulated files' names, the files
// carry the UIDs the API server gave them, and every event skiff delivers
// carries the pod's labels from the API server; nothing is lost.
func TestEnrichScenarioWithSkiff(t *testing.T) {
	kubetest.Require(t, "kube-apiserver")
	kubetest.Require(t, "etcd")
	ad := skiffAdapter(testSkiff(t), "")
	h := testHarness(t, ad)
	sp := spec{Scenario: "enrich", Label: "test", Rate: 500, Duration: 3 * time.Second, Kube: kubeLive,
		Sim:        nodesim.Config{Pods: 10, LineBytes: 120, RotateBytes: -1},
		DrainQuiet: 3 * time.Second, DrainMax: 20 * time.Second}
	res := h.runOne(context.Background(), ad, sp)
	if res.Error != "" {
		t.Fatalf("run failed: %s\n%s", res.Error, strings.Join(res.Notes, "\n"))
	}
	if res.Written < 1000 || res.Lost != 0 || res.Delivered != res.Written {
		t.Errorf("written %d, delivered %d, lost %d; want every line", res.Written, res.Delivered, res.Lost)
	}
	if res.Events < res.Written || res.Enriched != res.Events {
		t.Errorf("%d of %d events enriched; want all %d lines' events", res.Enriched, res.Events, res.Written)
	}
}

// TestEnrichSkippedWithoutBinaries: without kube-apiserver and etcd the
// enrich scenario is skipped, naming the script that builds them.
func TestEnrichSkippedWithoutBinaries(t *testing.T) {
	t.Setenv("SKIFF_KUBE_BIN", t.TempDir())
	ad := fakeAdapter(0, 0)
	res := runEnrich(context.Background(), testHarness(t, ad), ad)
	if len(res) != 1 || res[0].Error != "" || !strings.Contains(res[0].Skipped, kubetest.SetupScript) {
		t.Errorf("results %+v; want one skipped, naming %s", res, kubetest.SetupScript)
	}
}
