package deploy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestKustomizeBase(t *testing.T) {
	r := load(t, renderKustomize(t, "base"))
	// The base names no cluster: skiff in a pod refuses to start until
	// CLUSTER_NAME is set (the eks overlay sets it), never ships under a
	// made-up name.
	if out, err := skiffOn(t, r, "validate"); err == nil || !strings.Contains(err.Error(), "cluster") {
		t.Errorf("the base's skiff.yaml without CLUSTER_NAME: err = %v (%s); want it refused for the cluster name", err, out)
	}
	r.assumeEnv = []string{"CLUSTER_NAME=" + testCluster}
	checkInvariants(t, r)
	checkNamespace(t, r)
	checkJournalMounts(t, r)
	checkContainerInsights(t, r)
	if r.effective.Cluster != testCluster {
		t.Errorf("cluster = %q; want %q from CLUSTER_NAME", r.effective.Cluster, testCluster)
	}
	if got := r.expand(r.config.CloudWatch.LogGroup); got != "/aws/containerinsights/{cluster}/application" {
		t.Errorf("log_group = %q; want the Container Insights layout", got)
	}
}

func TestKustomizeEKS(t *testing.T) {
	r := load(t, renderKustomize(t, "overlays/eks"))
	checkInvariants(t, r)
	checkNamespace(t, r)
	// Cluster name and region come from the overlay's cluster-info ConfigMap.
	for name, key := range map[string]string{"CLUSTER_NAME": "cluster.name", "AWS_REGION": "logs.region"} {
		e := r.env(name)
		if e == nil || e.ValueFrom == nil || e.ValueFrom.ConfigMapKeyRef == nil {
			t.Fatalf("env %s: want a configMapKeyRef", name)
		}
		ref := e.ValueFrom.ConfigMapKeyRef
		cm, ok := r.configMaps[ref.Name]
		if !ok {
			t.Fatalf("env %s refers to ConfigMap %s, which is not rendered", name, ref.Name)
		}
		if ref.Key != key || cm.Data[key] == "" {
			t.Errorf("env %s: key %s in %s = %q; want key %s set", name, ref.Key, ref.Name, cm.Data[ref.Key], key)
		}
	}
	if r.config.Cluster != "${CLUSTER_NAME}" || r.config.CloudWatch.Region != "${AWS_REGION}" {
		t.Errorf("cluster %q, region %q: want them from ${CLUSTER_NAME} (no fallback) and ${AWS_REGION}", r.config.Cluster, r.config.CloudWatch.Region)
	}
	if r.effective.Cluster != "my-cluster" {
		t.Errorf("effective cluster = %q; want my-cluster from skiff-cluster-info", r.effective.Cluster)
	}
	if r.sa.Annotations["eks.amazonaws.com/role-arn"] == "" {
		t.Error("ServiceAccount has no IRSA role annotation")
	}
}

func TestKustomizeDev(t *testing.T) {
	r := load(t, renderKustomize(t, "overlays/dev"))
	checkInvariants(t, r)
	checkNamespace(t, r)
	if r.config.Output != "stdout" {
		t.Errorf("output = %q; want stdout", r.config.Output)
	}
	if !r.boolValue(t, r.config.Kubernetes.NamespaceMetadata, false) {
		t.Error("dev overlay: namespace_metadata off; the component should turn it on")
	}
	if r.container.ImagePullPolicy != corev1.PullNever {
		t.Errorf("imagePullPolicy = %s; want Never (locally loaded image)", r.container.ImagePullPolicy)
	}
}

// checkNamespace checks that the namespace admits hostPath volumes.
func checkNamespace(t *testing.T, r *rendered) {
	t.Helper()
	if r.namespace == nil {
		t.Fatal("no Namespace rendered")
	}
	if r.namespace.Name != r.ds.Namespace {
		t.Errorf("Namespace %s; DaemonSet in %s", r.namespace.Name, r.ds.Namespace)
	}
	// Pod Security Admission allows hostPath volumes only at "privileged".
	if got := r.namespace.Labels["pod-security.kubernetes.io/enforce"]; got != "privileged" {
		t.Errorf("namespace label pod-security.kubernetes.io/enforce = %q; want privileged (hostPath)", got)
	}
}
