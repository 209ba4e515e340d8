package deploy

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/skiff-agent/skiff/enrich/kubetest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAPIServer checks the rendered manifests against a real kube-apiserver
// (one cluster for all subtests): server-side dry-run of every rendering,
// Pod Security admission of the DaemonSet's pod, and the rendered RBAC.
func TestAPIServer(t *testing.T) {
	kubectl := kubetest.Kubectl(t)
	c := kubetest.Start(t)
	admin := c.Kubeconfig(t, c.AdminConfig())
	c.Namespace(t, "skiff")

	renderings := []struct {
		name string
		yaml func(t *testing.T) []byte
	}{
		{"kustomize base", func(t *testing.T) []byte { return renderKustomize(t, "base") }},
		{"kustomize eks", func(t *testing.T) []byte { return renderKustomize(t, "overlays/eks") }},
		{"kustomize dev", func(t *testing.T) []byte { return renderKustomize(t, "overlays/dev") }},
		{"helm default", func(t *testing.T) []byte { return renderHelm(t) }},
		{"helm options", func(t *testing.T) []byte {
			return renderHelm(t, "--set", "config.kubernetes.namespace_metadata=true", "--set", "service.enabled=true",
				"--set", "dashboards.enabled=true", "--set", `serviceAccount.annotations.eks\.amazonaws\.com/role-arn=arn:aws:iam::111122223333:role/skiff`)
		}},
		{"helm host network", func(t *testing.T) []byte {
			return renderHelm(t, "--set", "hostNetwork=true", "--set", "hostPaths.journal=", "--set", "config.journal.dirs={/var/log/journal}")
		}},
	}
	for _, r := range renderings {
		t.Run("dry-run "+r.name, func(t *testing.T) {
			data := r.yaml(t)
			out := mustRun(t, bytes.NewReader(data), nil, kubectl, "--kubeconfig", admin, "apply", "--dry-run=server", "-f", "-")
			// kubectl reports each object as <kind>[.<group>]/<name> <what> (server dry run).
			for _, u := range parseObjects(t, data) {
				re := regexp.MustCompile(`(?m)^` + strings.ToLower(u.GetKind()) + `(\.[a-z0-9.-]+)?/` + regexp.QuoteMeta(u.GetName()) + ` .*\(server dry run\)$`)
				if !re.Match(out) {
					t.Errorf("kubectl apply --dry-run=server did not report %s %s:\n%s", u.GetKind(), u.GetName(), out)
				}
			}
		})
	}

	t.Run("helm install, upgrade, uninstall", func(t *testing.T) {
		env := append(helmEnv(t), "KUBECONFIG="+admin)
		helm := helmPath(t)
		out := mustRun(t, nil, env, helm, "install", "skiff-helm", chartDir, "--namespace", "skiff-helm", "--create-namespace",
			"--set", "config.cluster=prod", "--set", "config.cloudwatch.region=eu-west-1", "--wait=false")
		for _, want := range []string{"STATUS: deployed", "rollout status daemonset/skiff-helm", "No IAM role",
			"/aws/containerinsights/prod/application: the containers", "/aws/containerinsights/prod/dataplane: inputs dataplane, dataplane-containers",
			"/aws/containerinsights/prod/host: inputs host-dmesg, host-messages, host-secure"} {
			if !bytes.Contains(out, []byte(want)) {
				t.Errorf("helm install output lacks %q:\n%s", want, out)
			}
		}
		out = mustRun(t, nil, env, helm, "upgrade", "skiff-helm", chartDir, "--namespace", "skiff-helm", "--reuse-values", "--set", "config.log.level=debug")
		if !bytes.Contains(out, []byte("REVISION: 2")) {
			t.Errorf("helm upgrade output:\n%s", out)
		}
		// Without a cluster name nothing is installed.
		if out, err := run(t, nil, env, helm, "install", "skiff-nocluster", chartDir, "--namespace", "skiff-helm", "--wait=false"); err == nil ||
			!strings.Contains(err.Error(), "--set config.cluster=NAME") {
			t.Errorf("helm install without config.cluster: err = %v\n%s; want it refused, saying how to set it", err, out)
		}
		mustRun(t, nil, env, helm, "uninstall", "skiff-helm", "--namespace", "skiff-helm")
	})

	// Install the base for real: the objects the next subtests use.
	base := renderKustomize(t, "base")
	mustRun(t, bytes.NewReader(base), nil, kubectl, "--kubeconfig", admin, "apply", "-f", "-")
	r := load(t, base)

	t.Run("pod security", func(t *testing.T) { testPodSecurity(t, c, r) })
	t.Run("rbac", func(t *testing.T) { testRBAC(t, c, r) })
}

// warnings collects the API server's warning headers.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

// podFrom returns a pod with the DaemonSet's template, as the DaemonSet
// controller would create it.
func podFrom(r *rendered, namespace string) *corev1.Pod {
	tpl := r.ds.Spec.Template.DeepCopy()
	tpl.Spec.NodeName = "node-a"
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "skiff-", Namespace: namespace, Labels: tpl.Labels, Annotations: tpl.Annotations},
		Spec:       tpl.Spec,
	}
}

// The namespace's label admits the pod; a baseline namespace would refuse
// it (hostPath); and against "restricted" the pod misses only hostPath and
// running as root.
func testPodSecurity(t *testing.T, c *kubetest.Cluster, r *rendered) {
	ctx := context.Background()
	var w warnings
	cfg := c.AdminConfig()
	cfg.WarningHandler = &w
	admin := c.Client(t, cfg)
	dryRun := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}

	if _, err := admin.CoreV1().Pods(r.ds.Namespace).Create(ctx, podFrom(r, r.ds.Namespace), dryRun); err != nil {
		t.Errorf("pod of the DaemonSet in namespace %s: %v", r.ds.Namespace, err)
	}

	for ns, labels := range map[string]map[string]string{
		"psa-baseline":   {"pod-security.kubernetes.io/enforce": "baseline"},
		"psa-restricted": {"pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "restricted"},
	} {
		c.Namespace(t, ns)
		nsObj, err := admin.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		nsObj.Labels = labels
		if _, err := admin.CoreV1().Namespaces().Update(ctx, nsObj, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: r.ds.Spec.Template.Spec.ServiceAccountName}}
		if _, err := admin.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}

	_, err := admin.CoreV1().Pods("psa-baseline").Create(ctx, podFrom(r, "psa-baseline"), dryRun)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "hostPath") {
		t.Errorf("pod in a baseline namespace: err = %v; want forbidden for hostPath volumes", err)
	}

	w.mu.Lock()
	w.list = nil
	w.mu.Unlock()
	if _, err := admin.CoreV1().Pods("psa-restricted").Create(ctx, podFrom(r, "psa-restricted"), dryRun); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	got := strings.Join(w.list, "\n")
	w.mu.Unlock()
	// The warning lists the violated controls as "<control> (<details>)".
	_, list, _ := strings.Cut(got, `"restricted:latest": `)
	var controls []string
	for _, m := range regexp.MustCompile(`([^,()][^()]*) \(([^()]*)\)`).FindAllStringSubmatch(list, -1) {
		controls = append(controls, strings.TrimSpace(m[1]))
		if strings.TrimSpace(m[1]) == "restricted volume types" && !strings.HasSuffix(m[2], `use restricted volume type "hostPath"`) {
			t.Errorf("restricted volume types: %s; want hostPath only", m[2])
		}
	}
	slices.Sort(controls)
	if want := []string{"restricted volume types", "runAsNonRoot != true", "runAsUser=0"}; !slices.Equal(controls, want) {
		t.Errorf("restricted profile violations %q; want exactly %q (hostPath and root)", controls, want)
	}
	t.Logf("Pod Security restricted, what the agent cannot meet: %s", got)
}

// The agent's service account, with only the rendered ClusterRole, can watch
// its node's pods and nothing else.
func testRBAC(t *testing.T, c *kubetest.Cluster, r *rendered) {
	ctx := context.Background()
	admin := c.AdminClient(t)
	c.Namespace(t, "shop")
	pods := map[string]*corev1.Pod{}
	for _, p := range []struct{ name, node string }{{"web-a", "node-a"}, {"web-b", "node-b"}} {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: "shop", Labels: map[string]string{"app": p.name}},
			Spec:       corev1.PodSpec{NodeName: p.node, Containers: []corev1.Container{{Name: "app", Image: "example/app:1"}}},
		}
		created, err := admin.CoreV1().Pods("shop").Create(ctx, pod, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		pods[p.name] = created
	}

	// A token of the rendered ServiceAccount; its only permissions are the
	// rendered ClusterRole's, through the rendered binding.
	agentCfg := c.ServiceAccount(t, r.ds.Namespace, r.ds.Spec.Template.Spec.ServiceAccountName)
	agent := c.Client(t, agentCfg)

	list, err := agent.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=node-a"})
	if err != nil {
		t.Fatalf("list this node's pods as the agent: %v", err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "web-a" {
		t.Errorf("pods on node-a = %d items; want web-a only", len(list.Items))
	}
	watch, err := agent.CoreV1().Pods("").Watch(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=node-a", ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatalf("watch as the agent: %v", err)
	}
	watch.Stop()
	if _, err := agent.CoreV1().Pods("shop").Get(ctx, "web-a", metav1.GetOptions{}); err != nil {
		t.Errorf("get pod as the agent: %v", err)
	}

	forbidden := map[string]func() error{
		"list secrets": func() error { _, err := agent.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); return err },
		"list nodes":   func() error { _, err := agent.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); return err },
		"list namespaces (namespace metadata is off)": func() error {
			_, err := agent.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
			return err
		},
		"read pod logs": func() error {
			return agent.CoreV1().Pods("shop").GetLogs("web-a", &corev1.PodLogOptions{}).Do(ctx).Error()
		},
		"delete a pod": func() error { return agent.CoreV1().Pods("shop").Delete(ctx, "web-b", metav1.DeleteOptions{}) },
		"create a pod": func() error {
			_, err := agent.CoreV1().Pods("shop").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "x"},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Image: "x"}}}}, metav1.CreateOptions{})
			return err
		},
	}
	for what, call := range forbidden {
		if err := call(); !apierrors.IsForbidden(err) {
			t.Errorf("%s as the agent: err = %v; want forbidden", what, err)
		}
	}

	testEnrichWith(t, agentCfg, pods)
}
