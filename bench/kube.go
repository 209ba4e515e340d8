package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/skiff-agent/skiff/bench/nodesim"
	"github.com/skiff-agent/skiff/enrich/kubetest"
)

// kubeMode is how a run sets up Kubernetes enrichment.
type kubeMode int

const (
	kubeOff  kubeMode = iota // enrichment off
	kubeDead                 // on, against an address where nothing listens (api-down)
	kubeLive                 // on, against a real kube-apiserver holding the simulated pods (enrich)
)

// The live API server's objects.
const (
	// nodeName is the node the agents run on (EnvNodeName) and the pods'
	// spec.nodeName.
	nodeName = "bench-node"
	// agentNamespace and agentAccount are the agents' service account.
	agentNamespace = "amazon-cloudwatch"
	agentAccount   = "cloudwatch-agent"
	// enrichedMark is the value of every simulated pod's
	// app.kubernetes.io/part-of label: an event holding it carries
	// metadata the agent got from the API server, not from the file's path.
	enrichedMark = "skiff-bench-enrich"
	// podsPerApp simulated pods form one Deployment's replicas.
	podsPerApp = 10
	// kubeCreators is how many pods are created at once.
	kubeCreators = 8
	// appVersion is the simulated apps' version and image tag.
	appVersion = "1.4.2"
)

// agentRules is what the agents may do: read pods and namespaces, as a
// log agent's ClusterRole allows.
var agentRules = []rbacv1.PolicyRule{{
	APIGroups: []string{""}, Resources: []string{"pods", "namespaces"}, Verbs: []string{"get", "list", "watch"},
}}

// kubeMissing says why the live API server cannot run, or "" when
// kube-apiserver and etcd are installed.
func kubeMissing() string {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		if _, err := kubetest.Bin(name); err != nil {
			return "needs a real kube-apiserver: " + err.Error()
		}
	}
	return ""
}

// liveKube is a real etcd and kube-apiserver (enrich/kubetest) holding the
// pods of a simulated node, and the agents' credentials for it.
type liveKube struct {
	cluster *kubetest.Cluster
	stop    func()
	admin   kubernetes.Interface
	// pods are the pods as created, by pod index.
	pods []*corev1.Pod
	// uids maps pod names to the UIDs the API server gave them, which the
	// simulated files must carry (nodesim.Config.UIDs).
	uids map[string]string
	// kubeconfig and token are the agents' credentials (the service
	// account's token), both files in the cluster's directory.
	kubeconfig, token string
}

// startKube starts etcd and kube-apiserver in dir, creates sim's namespace
// and pods (as nodesim names them, bound to nodeName, labelled and
// annotated like a Deployment's) through the API as its administrator,
// and a service account for the agents allowed agentRules. It returns
// once the pods exist; the caller stops the servers with stop.
func startKube(ctx context.Context, dir string, sim nodesim.Config) (_ *liveKube, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	c, stop, err := kubetest.StartIn(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			stop()
		}
	}()
	admin, err := kubernetes.NewForConfig(c.AdminConfig())
	if err != nil {
		return nil, fmt.Errorf("kube admin client: %w", err)
	}
	k := &liveKube{cluster: c, stop: stop, admin: admin, uids: map[string]string{}}
	ns := sim.Namespace
	if ns == "" {
		ns = nodesim.DefaultNamespace
	}
	if err := c.CreateNamespace(ctx, ns); err != nil {
		return nil, err
	}
	agent, err := c.CreateServiceAccount(ctx, agentNamespace, agentAccount, agentRules...)
	if err != nil {
		return nil, err
	}
	k.kubeconfig = filepath.Join(dir, "agent-kubeconfig")
	if err := kubetest.WriteKubeconfig(k.kubeconfig, agent); err != nil {
		return nil, err
	}
	// Without a newline, as the kubelet projects it: Fluent Bit sends the
	// file's bytes as they are.
	if k.token, err = writeFile(dir, "agent-token", agent.BearerToken); err != nil {
		return nil, err
	}
	k.pods = make([]*corev1.Pod, max(sim.Pods, 1))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(kubeCreators)
	for i := range k.pods {
		g.Go(func() error {
			pod, err := admin.CoreV1().Pods(ns).Create(gctx, simPod(ns, i, max(sim.Containers, 1)), metav1.CreateOptions{})
			if err != nil {
				return fmt.Errorf("create pod %s/%s: %w", ns, nodesim.PodName(i), err)
			}
			k.pods[i] = pod
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, p := range k.pods {
		k.uids[p.Name] = string(p.UID)
	}
	return k, nil
}

// setStatus reports every pod as a kubelet would once its containers run:
// Running and ready, with IPs, and each container's ID as the simulator
// named its log file.
func (k *liveKube) setStatus(ctx context.Context, sim *nodesim.Sim) error {
	ids := map[[2]string]string{} // pod, container → container ID
	for i := range sim.Streams() {
		st := sim.Stream(i)
		ids[[2]string{st.Pod, st.Container}] = st.ContainerID
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(kubeCreators)
	for i, pod := range k.pods {
		g.Go(func() error {
			p := pod.DeepCopy()
			p.Status = runningStatus(p, i, ids)
			got, err := k.admin.CoreV1().Pods(p.Namespace).UpdateStatus(gctx, p, metav1.UpdateOptions{})
			if err != nil {
				return fmt.Errorf("status of pod %s/%s: %w", p.Namespace, p.Name, err)
			}
			k.pods[i] = got
			return nil
		})
	}
	return g.Wait()
}

// setEnv points the contract's enrichment variables at the API server.
func (k *liveKube) setEnv(env map[string]string) {
	env[EnvKubeAPI], env[EnvKubeconfig] = k.cluster.URL(), k.kubeconfig
	env[EnvKubeToken], env[EnvKubeCAFile] = k.token, k.cluster.CAFile()
}

// simPod is simulated pod i as a Deployment's replica would be created:
// bound to nodeName, the app's labels (app.kubernetes.io/part-of is
// enrichedMark) and annotations, a controller reference to its ReplicaSet,
// containers named as nodesim names them with an image, a port and
// resource requests.
func simPod(ns string, i, containers int) *corev1.Pod {
	app := fmt.Sprintf("shop-%02d", i/podsPerApp)
	hash := digest(app)[:10]
	rs := app + "-" + hash
	controller := true
	image := "registry.example.com/shop/" + app + ":" + appVersion
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: nodesim.PodName(i), Namespace: ns,
			Labels: map[string]string{
				"app.kubernetes.io/name":     app,
				"app.kubernetes.io/instance": app + "-prod",
				"app.kubernetes.io/version":  appVersion,
				"app.kubernetes.io/part-of":  enrichedMark,
				"pod-template-hash":          hash,
			},
			Annotations: map[string]string{
				"kubectl.kubernetes.io/restartedAt": "2026-12-01T09:30:00Z",
				"prometheus.io/scrape":              "true",
				"prometheus.io/port":                "8080",
				"checksum/config":                   digest(app + "/config"),
			},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs,
				UID: types.UID(uuidOf(ns + "/" + rs)), Controller: &controller, BlockOwnerDeletion: &controller,
			}},
		},
		Spec: corev1.PodSpec{NodeName: nodeName},
	}
	for c := range containers {
		pod.Spec.Containers = append(pod.Spec.Containers, corev1.Container{
			Name: nodesim.ContainerName(c), Image: image,
			Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: int32(8080 + c), Protocol: corev1.ProtocolTCP}},
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi"),
			}},
		})
	}
	return pod
}

// runningStatus is pod i's status once its containers run; ids maps pod
// and container names to container IDs.
func runningStatus(pod *corev1.Pod, i int, ids map[[2]string]string) corev1.PodStatus {
	now := metav1.NewTime(time.Now().Truncate(time.Second))
	ip := fmt.Sprintf("10.244.%d.%d", i/250, i%250+2)
	st := corev1.PodStatus{
		Phase: corev1.PodRunning, HostIP: "10.0.0.10", HostIPs: []corev1.HostIP{{IP: "10.0.0.10"}},
		PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}, StartTime: &now, QOSClass: corev1.PodQOSBurstable,
	}
	for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		st.Conditions = append(st.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	for _, c := range pod.Spec.Containers {
		started := true
		st.ContainerStatuses = append(st.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: strings.TrimSuffix(c.Image, ":"+appVersion) + "@sha256:" + digest(c.Image),
			ContainerID: "containerd://" + ids[[2]string{pod.Name, c.Name}],
			Ready:       true, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	return st
}

// digest is the hex SHA-256 of s.
func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// uuidOf is a UUID-shaped string derived from s.
func uuidOf(s string) string {
	x := digest(s)
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-a" + x[17:20] + "-" + x[20:32]
}
