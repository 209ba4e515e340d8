package deploy

import (
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// defaultShutdownTimeout is skiff's default for shutdown_timeout.
const defaultShutdownTimeout = 25 * time.Second

// rendered is one rendering (a Kustomize overlay or a Helm values set), typed.
type rendered struct {
	objs         []*unstructured.Unstructured
	ds           *appsv1.DaemonSet
	container    corev1.Container
	configMaps   map[string]*corev1.ConfigMap
	role         *rbacv1.ClusterRole
	binding      *rbacv1.ClusterRoleBinding
	sa           *corev1.ServiceAccount
	namespace    *corev1.Namespace // only when the rendering has one
	config       skiffConfig
	configText   string
	containerEnv map[string]string // literal env values, for ${VAR} in the config
	// assumeEnv are variables the rendering leaves to whoever applies it
	// (the Kustomize base's CLUSTER_NAME, which the overlays set), as
	// NAME=value; validateConfig adds them to the pod's environment.
	assumeEnv []string
	// effective is skiff's effective configuration of configText in the
	// pod's environment (`skiff config`), set by checkInvariants.
	effective effectiveConfig
}

// effectiveConfig is the part of `skiff config`'s output (the effective
// configuration, defaults included) these tests reason about.
type effectiveConfig struct {
	Cluster string `yaml:"cluster"`
	Tail    struct {
		Include []string `yaml:"include"`
		Exclude []string `yaml:"exclude"`
	} `yaml:"tail"`
	Inputs map[string]struct {
		Enabled  bool     `yaml:"enabled"`
		Type     string   `yaml:"type"`
		Include  []string `yaml:"include"`
		LogGroup string   `yaml:"log_group"`
	} `yaml:"inputs"`
	Journal struct {
		Dirs []string `yaml:"dirs"`
	} `yaml:"journal"`
	Kubernetes struct {
		Labels      bool `yaml:"labels"`
		Annotations bool `yaml:"annotations"`
	} `yaml:"kubernetes"`
	Output     string `yaml:"output"`
	CloudWatch struct {
		LogGroup  string `yaml:"log_group"`
		LogStream string `yaml:"log_stream"`
		Parse     string `yaml:"parse"`
		MergeKey  string `yaml:"merge_key"`
	} `yaml:"cloudwatch"`
}

// skiffConfig is the part of skiff.yaml these tests reason about.
type skiffConfig struct {
	Cluster         string `yaml:"cluster"`
	NodeName        string `yaml:"node_name"`
	ShutdownTimeout string `yaml:"shutdown_timeout"`
	HTTP            struct {
		Listen string `yaml:"listen"`
	} `yaml:"http"`
	Tail struct {
		Include  []string `yaml:"include"`
		StateDir string   `yaml:"state_dir"`
	} `yaml:"tail"`
	Kubernetes struct {
		Enabled           any `yaml:"enabled"`
		NamespaceMetadata any `yaml:"namespace_metadata"`
		ExcludeSelf       any `yaml:"exclude_self"`
	} `yaml:"kubernetes"`
	Output     string `yaml:"output"`
	CloudWatch struct {
		Region   string `yaml:"region"`
		LogGroup string `yaml:"log_group"`
	} `yaml:"cloudwatch"`
}

func convert(t testing.TB, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// load types the objects of one rendering and finds skiff's config.
func load(t testing.TB, data []byte) *rendered {
	t.Helper()
	r := &rendered{objs: parseObjects(t, data), configMaps: map[string]*corev1.ConfigMap{}}
	for _, u := range r.objs {
		switch u.GetKind() {
		case "DaemonSet":
			if r.ds != nil {
				t.Fatalf("two DaemonSets: %s and %s", r.ds.Name, u.GetName())
			}
			r.ds = &appsv1.DaemonSet{}
			convert(t, u, r.ds)
		case "ConfigMap":
			cm := &corev1.ConfigMap{}
			convert(t, u, cm)
			r.configMaps[cm.Name] = cm
		case "ClusterRole":
			r.role = &rbacv1.ClusterRole{}
			convert(t, u, r.role)
		case "ClusterRoleBinding":
			r.binding = &rbacv1.ClusterRoleBinding{}
			convert(t, u, r.binding)
		case "ServiceAccount":
			r.sa = &corev1.ServiceAccount{}
			convert(t, u, r.sa)
		case "Namespace":
			r.namespace = &corev1.Namespace{}
			convert(t, u, r.namespace)
		}
	}
	if r.ds == nil {
		t.Fatal("no DaemonSet rendered")
	}
	for _, c := range r.ds.Spec.Template.Spec.Containers {
		if c.Name == "skiff" {
			r.container = c
		}
	}
	if r.container.Name == "" {
		t.Fatal("DaemonSet has no container named skiff")
	}
	r.containerEnv = map[string]string{}
	for _, e := range r.container.Env {
		if e.ValueFrom == nil {
			r.containerEnv[e.Name] = e.Value
		}
	}
	for _, v := range r.ds.Spec.Template.Spec.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		cm, ok := r.configMaps[v.ConfigMap.Name]
		if !ok {
			t.Fatalf("volume %s: ConfigMap %s is not rendered", v.Name, v.ConfigMap.Name)
		}
		text, ok := cm.Data["skiff.yaml"]
		if !ok {
			t.Fatalf("ConfigMap %s has no skiff.yaml", cm.Name)
		}
		r.configText = text
		if err := yaml.Unmarshal([]byte(text), &r.config); err != nil {
			t.Fatalf("ConfigMap %s: skiff.yaml: %v", cm.Name, err)
		}
	}
	if r.configText == "" {
		t.Fatal("the DaemonSet mounts no ConfigMap with skiff.yaml")
	}
	return r
}

// expand resolves ${VAR} and ${VAR:-default} against the container's literal
// env, as skiff does at start (values from the downward API count as set).
func (r *rendered) expand(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		name, def, _ := strings.Cut(s[i+2:i+j], ":-")
		if v := r.containerEnv[name]; v != "" {
			b.WriteString(v)
		} else {
			b.WriteString(def)
		}
		s = s[i+j+1:]
	}
}

// boolValue reads a config boolean that may be a ${VAR} reference.
func (r *rendered) boolValue(t testing.TB, v any, def bool) bool {
	t.Helper()
	switch v := v.(type) {
	case nil:
		return def
	case bool:
		return v
	case string:
		s := r.expand(v)
		if s == "" {
			return def
		}
		b, err := strconv.ParseBool(s)
		if err != nil {
			t.Fatalf("config boolean %q expands to %q", v, s)
		}
		return b
	}
	t.Fatalf("config boolean has type %T", v)
	return false
}

func (r *rendered) env(name string) *corev1.EnvVar {
	for i := range r.container.Env {
		if r.container.Env[i].Name == name {
			return &r.container.Env[i]
		}
	}
	return nil
}

// checkInvariants checks what every rendering of the DaemonSet must hold.
func checkInvariants(t *testing.T, r *rendered) {
	t.Helper()
	spec := r.ds.Spec.Template.Spec
	c := r.container

	// Grace above the agent's own flush deadline.
	shutdown := defaultShutdownTimeout
	if s := r.expand(r.config.ShutdownTimeout); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("shutdown_timeout %q: %v", s, err)
		}
		shutdown = d
	}
	if spec.TerminationGracePeriodSeconds == nil {
		t.Error("terminationGracePeriodSeconds unset (30s default); set it explicitly above shutdown_timeout")
	} else if grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second; grace <= shutdown {
		t.Errorf("terminationGracePeriodSeconds = %v; want above shutdown_timeout %v", grace, shutdown)
	}

	// Rollout: one node at a time, never two agents on one node.
	us := r.ds.Spec.UpdateStrategy
	if us.Type != appsv1.RollingUpdateDaemonSetStrategyType || us.RollingUpdate == nil ||
		us.RollingUpdate.MaxUnavailable == nil || us.RollingUpdate.MaxUnavailable.String() != "1" {
		t.Errorf("updateStrategy = %+v; want RollingUpdate with maxUnavailable 1", us)
	} else if us.RollingUpdate.MaxSurge != nil && us.RollingUpdate.MaxSurge.String() != "0" {
		t.Errorf("maxSurge = %v; want 0", us.RollingUpdate.MaxSurge)
	}

	// Scheduling.
	if spec.PriorityClassName != "system-node-critical" {
		t.Errorf("priorityClassName = %q; want system-node-critical", spec.PriorityClassName)
	}
	if !slices.ContainsFunc(spec.Tolerations, func(tl corev1.Toleration) bool {
		return tl.Key == "" && tl.Operator == corev1.TolerationOpExists && tl.Effect == ""
	}) {
		t.Errorf("tolerations = %+v; want one {operator: Exists}", spec.Tolerations)
	}
	if spec.HostPID || spec.HostIPC {
		t.Error("pod uses the host's PID or IPC namespace")
	}
	// hostNetwork is an option (Container Insights' Fluent Bit runs so);
	// with it, ClusterFirst silently falls back to the node's resolver, so
	// cluster DNS must be asked for by name (or Default chosen outright).
	if spec.HostNetwork && (spec.DNSPolicy == "" || spec.DNSPolicy == corev1.DNSClusterFirst) {
		t.Errorf("hostNetwork with dnsPolicy %q: want ClusterFirstWithHostNet (or Default, chosen outright)", spec.DNSPolicy)
	}

	// Self-exclusion: the pods carry the label skiff skips.
	if got := r.ds.Spec.Template.Labels["app.kubernetes.io/name"]; got != "skiff" && r.ds.Spec.Template.Annotations["skiff.io/exclude"] != "true" {
		t.Errorf("pod label app.kubernetes.io/name = %q and no skiff.io/exclude annotation: skiff would ship its own logs", got)
	}
	if !r.boolValue(t, r.config.Kubernetes.ExcludeSelf, true) {
		t.Error("kubernetes.exclude_self is false: skiff would ship its own logs")
	}

	// Security context: UID 0 (root-owned 0640 logs), everything else locked.
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("container has no securityContext")
	}
	if sc.RunAsUser == nil || *sc.RunAsUser != 0 {
		t.Errorf("runAsUser = %v; want 0 (container logs are root-owned 0640)", sc.RunAsUser)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("privileged: true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation not false")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem not true")
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("capabilities = %+v; want drop [ALL], add nothing", sc.Capabilities)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil && spec.SecurityContext != nil {
		seccomp = spec.SecurityContext.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("seccompProfile = %+v; want RuntimeDefault", seccomp)
	}

	// Mounts: every host path read-only except the state directory, which
	// holds tail.state_dir.
	hostPaths := map[string]*corev1.HostPathVolumeSource{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath
		}
	}
	var varlog, state bool
	stateDir := r.expand(r.config.Tail.StateDir)
	for _, m := range c.VolumeMounts {
		hp, ok := hostPaths[m.Name]
		if !ok {
			if m.MountPath == "/etc/skiff" && !m.ReadOnly {
				t.Error("config mount is writable")
			}
			continue
		}
		switch {
		case hp.Path == "/var/log":
			varlog = true
			if !m.ReadOnly {
				t.Error("/var/log is mounted read-write")
			}
		case hp.Path == "/var/lib/skiff":
			state = true
			if hp.Type == nil || *hp.Type != corev1.HostPathDirectoryOrCreate {
				t.Errorf("state hostPath type = %v; want DirectoryOrCreate", hp.Type)
			}
			if stateDir == "" || (stateDir != m.MountPath && !strings.HasPrefix(stateDir, m.MountPath+"/")) {
				t.Errorf("tail.state_dir %q is not on the state mount %s: checkpoints would not survive a restart", stateDir, m.MountPath)
			}
		default:
			if !m.ReadOnly {
				t.Errorf("hostPath %s mounted read-write at %s", hp.Path, m.MountPath)
			}
		}
	}
	if !varlog || !state {
		t.Errorf("mounts: /var/log %v, /var/lib/skiff %v; want both", varlog, state)
	}

	// Downward API.
	for name, path := range map[string]string{"NODE_NAME": "spec.nodeName", "POD_NAME": "metadata.name", "POD_NAMESPACE": "metadata.namespace"} {
		e := r.env(name)
		if e == nil || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != path {
			t.Errorf("env %s: want fieldRef %s", name, path)
		}
	}
	if got := r.expand(r.config.NodeName); got != "" {
		t.Errorf("node_name expands to the literal %q; want ${NODE_NAME} from the downward API", got)
	}

	// Resources: requests, a memory limit, no CPU limit, GOMEMLIMIT from it.
	res := c.Resources
	if res.Requests.Cpu().IsZero() || res.Requests.Memory().IsZero() {
		t.Errorf("requests = %v; want cpu and memory", res.Requests)
	}
	if _, ok := res.Limits[corev1.ResourceCPU]; ok {
		t.Errorf("CPU limit %v: a throttled agent falls behind", res.Limits.Cpu())
	}
	if res.Limits.Memory().IsZero() {
		t.Error("no memory limit")
	}
	if e := r.env("GOMEMLIMIT"); e == nil || e.ValueFrom == nil || e.ValueFrom.ResourceFieldRef == nil ||
		e.ValueFrom.ResourceFieldRef.Resource != "limits.memory" || e.ValueFrom.ResourceFieldRef.ContainerName != "skiff" {
		t.Errorf("GOMEMLIMIT = %+v; want resourceFieldRef limits.memory of container skiff", e)
	}

	// The HTTP port: probes and scrape annotations point at http.listen.
	port := listenPort(t, r.expand(r.config.HTTP.Listen))
	host, _, _ := net.SplitHostPort(r.expand(r.config.HTTP.Listen))
	if host != "0.0.0.0" && host != "" && host != "::" {
		t.Errorf("http.listen host %q: the kubelet and Prometheus cannot reach it", host)
	}
	var named int32
	for _, p := range c.Ports {
		if p.Name == "http" {
			named = p.ContainerPort
		}
	}
	if named != port {
		t.Errorf("containerPort http = %d; want %d from http.listen", named, port)
	}
	checkProbe(t, "liveness", c.LivenessProbe, "/healthz")
	checkProbe(t, "readiness", c.ReadinessProbe, "/readyz")
	ann := r.ds.Spec.Template.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != strconv.Itoa(int(port)) || ann["prometheus.io/path"] != "/metrics" {
		t.Errorf("scrape annotations = %v; want scrape true, port %d, path /metrics", ann, port)
	}

	// RBAC: pods (and namespaces only with namespace metadata), read-only.
	checkRBAC(t, r)

	// The config is one the agent accepts, in the container's environment,
	// and what it reads is inside the pod.
	validateConfig(t, r)
	r.effective = effectiveOf(t, r)
	checkReadMounts(t, r)
}

// checkReadMounts checks that everything skiff reads, by its effective
// configuration (skiff's defaults included), is inside a read-only hostPath
// mounted at its own path: the globs of tail.include and of the enabled
// files inputs, and, with an enabled journal input, every directory of
// journal.dirs. (The same path: /var/log/containers/*.log are symlinks
// into /var/log/pods, and a journal directory means the same in and out.)
func checkReadMounts(t *testing.T, r *rendered) {
	t.Helper()
	spec := r.ds.Spec.Template.Spec
	hostPaths := map[string]string{}
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	inside := func(path string) bool {
		return slices.ContainsFunc(r.container.VolumeMounts, func(m corev1.VolumeMount) bool {
			hp, ok := hostPaths[m.Name]
			mp := strings.TrimSuffix(m.MountPath, "/")
			return ok && m.ReadOnly && hp == m.MountPath && (path == mp || strings.HasPrefix(path, mp+"/"))
		})
	}
	e := r.effective
	for _, g := range e.Tail.Include {
		if !inside(g) {
			t.Errorf("tail.include %q is outside every read-only hostPath mount", g)
		}
	}
	journal := false
	for _, name := range slices.Sorted(maps.Keys(e.Inputs)) {
		in := e.Inputs[name]
		if !in.Enabled {
			continue
		}
		journal = journal || in.Type == "journal"
		for _, g := range in.Include {
			if !inside(g) {
				t.Errorf("inputs.%s.include %q is outside every read-only hostPath mount", name, g)
			}
		}
	}
	if journal {
		if len(e.Journal.Dirs) == 0 {
			t.Error("journal inputs enabled, and journal.dirs is empty")
		}
		for _, d := range e.Journal.Dirs {
			if !inside(d) {
				t.Errorf("journal.dirs %q is outside every read-only hostPath mount: the journal inputs would read nothing there", d)
			}
		}
	}
}

// checkJournalMounts checks the journal's two default directories: the
// volatile /run/log/journal is a hostPath of its own, read-only, created
// where the node keeps none (so that the pod starts everywhere), and the
// persistent /var/log/journal is inside the read-only /var/log mount.
func checkJournalMounts(t *testing.T, r *rendered) {
	t.Helper()
	var run *corev1.HostPathVolumeSource
	var name string
	for _, v := range r.ds.Spec.Template.Spec.Volumes {
		if v.HostPath != nil && v.HostPath.Path == "/run/log/journal" {
			run, name = v.HostPath, v.Name
		}
	}
	if run == nil {
		t.Fatal("no hostPath volume for /run/log/journal")
	}
	if run.Type == nil || *run.Type != corev1.HostPathDirectoryOrCreate {
		t.Errorf("/run/log/journal hostPath type = %v; want DirectoryOrCreate (a node may keep no volatile journal)", run.Type)
	}
	i := slices.IndexFunc(r.container.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == name })
	if i < 0 {
		t.Fatalf("volume %s (/run/log/journal) is not mounted", name)
	}
	if m := r.container.VolumeMounts[i]; m.MountPath != "/run/log/journal" || !m.ReadOnly {
		t.Errorf("volume %s mounted at %s, read-only %v; want /run/log/journal, read-only", name, m.MountPath, m.ReadOnly)
	}
	if !slices.Contains(r.effective.Journal.Dirs, "/var/log/journal") || !slices.Contains(r.effective.Journal.Dirs, "/run/log/journal") {
		t.Errorf("journal.dirs = %v; want /var/log/journal and /run/log/journal", r.effective.Journal.Dirs)
	}
	// checkReadMounts found both inside read-only mounts of their own path.
}

// checkContainerInsights checks that a rendering left at its defaults ships
// as Container Insights does: the application, dataplane and host groups,
// its stream names, no pod labels or annotations, JSON lines parsed into
// log_processed, and the dataplane containers out of the application group.
func checkContainerInsights(t *testing.T, r *rendered) {
	t.Helper()
	e := r.effective
	groups := map[string][]string{e.CloudWatch.LogGroup: {"application"}}
	for _, name := range slices.Sorted(maps.Keys(e.Inputs)) {
		if in := e.Inputs[name]; in.Enabled {
			groups[in.LogGroup] = append(groups[in.LogGroup], name)
		}
	}
	want := map[string][]string{
		"/aws/containerinsights/{cluster}/application": {"application"},
		"/aws/containerinsights/{cluster}/dataplane":   {"dataplane", "dataplane-containers"},
		"/aws/containerinsights/{cluster}/host":        {"host-dmesg", "host-messages", "host-secure"},
	}
	if fmt.Sprint(groups) != fmt.Sprint(want) {
		t.Errorf("log groups (and inputs) = %v; want %v", groups, want)
	}
	cw := e.CloudWatch
	if cw.LogStream != "{host}-application.{tag}" || cw.Parse != "json" || cw.MergeKey != "log_processed" {
		t.Errorf("cloudwatch log_stream %q, parse %q, merge_key %q; want {host}-application.{tag}, json, log_processed", cw.LogStream, cw.Parse, cw.MergeKey)
	}
	if e.Kubernetes.Labels || e.Kubernetes.Annotations {
		t.Errorf("kubernetes labels %v, annotations %v; want both off, as Container Insights", e.Kubernetes.Labels, e.Kubernetes.Annotations)
	}
	for _, g := range []string{"/var/log/containers/aws-node*", "/var/log/containers/kube-proxy*"} {
		if !slices.Contains(e.Tail.Exclude, g) {
			t.Errorf("tail.exclude = %v; want %s (the dataplane-containers input's)", e.Tail.Exclude, g)
		}
	}
}

// validateConfig runs `skiff validate` (the binary the image ships) on the
// rendered skiff.yaml with the environment the container would have.
func validateConfig(t *testing.T, r *rendered) {
	t.Helper()
	if out, err := skiffOn(t, r, "validate"); err != nil {
		t.Errorf("rendered skiff.yaml does not validate: %v\n%s\n%s", err, out, r.configText)
	}
}

// effectiveOf is `skiff config` of the rendered skiff.yaml in the
// container's environment: its effective configuration.
func effectiveOf(t *testing.T, r *rendered) effectiveConfig {
	t.Helper()
	out, err := skiffOn(t, r, "config")
	if err != nil {
		t.Fatalf("skiff config: %v\n%s", err, out)
	}
	var e effectiveConfig
	if err := yaml.Unmarshal(out, &e); err != nil {
		t.Fatalf("skiff config: %v\n%s", err, out)
	}
	return e
}

// skiffOn runs `skiff <cmd> --config` on the rendered skiff.yaml with
// podEnv.
func skiffOn(t *testing.T, r *rendered, cmd string) ([]byte, error) {
	t.Helper()
	bin := filepath.Join(dockerBuild(t), "skiff")
	cfg := filepath.Join(t.TempDir(), "skiff.yaml")
	if err := os.WriteFile(cfg, []byte(r.configText), 0o644); err != nil {
		t.Fatal(err)
	}
	return run(t, nil, podEnv(t, r), bin, cmd, "--config", cfg)
}

// podEnv is the environment skiff has in the pod: the downward API's
// values, the container's literal variables and those from rendered
// ConfigMaps, KUBERNETES_SERVICE_HOST (every pod has it; skiff then
// requires a cluster name), AWS_REGION (EKS's IRSA webhook injects it;
// us-east-1 here) and r.assumeEnv. CLUSTER_NAME is cleared first, so that
// the test's own environment cannot supply one.
func podEnv(t *testing.T, r *rendered) []string {
	t.Helper()
	env := []string{"CLUSTER_NAME=", "KUBERNETES_SERVICE_HOST=10.96.0.1", "KUBERNETES_SERVICE_PORT=443",
		"NODE_NAME=node-a", "POD_NAME=skiff-abcde", "POD_NAMESPACE=" + r.ds.Namespace, "POD_UID=uid-1", "AWS_REGION=us-east-1"}
	for _, e := range r.container.Env {
		switch {
		case e.ValueFrom == nil:
			env = append(env, e.Name+"="+e.Value)
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm, ok := r.configMaps[ref.Name]
			if !ok {
				t.Fatalf("env %s: ConfigMap %s not rendered", e.Name, ref.Name)
			}
			env = append(env, e.Name+"="+cm.Data[ref.Key])
		}
	}
	return append(env, r.assumeEnv...)
}

func listenPort(t testing.TB, listen string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatalf("http.listen %q: %v", listen, err)
	}
	n, err := strconv.ParseUint(p, 10, 16)
	if err != nil {
		t.Fatalf("http.listen %q: %v", listen, err)
	}
	return int32(n)
}

func checkProbe(t *testing.T, what string, p *corev1.Probe, path string) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s probe: want httpGet %s", what, path)
		return
	}
	if p.HTTPGet.Path != path || p.HTTPGet.Port.String() != "http" {
		t.Errorf("%s probe = %s on port %s; want %s on port http", what, p.HTTPGet.Path, p.HTTPGet.Port.String(), path)
	}
}

// checkRBAC checks the ClusterRole and its binding to the DaemonSet's account.
func checkRBAC(t *testing.T, r *rendered) {
	t.Helper()
	if r.role == nil || r.binding == nil {
		t.Fatal("no ClusterRole or ClusterRoleBinding rendered")
	}
	want := map[string]bool{"pods": true}
	if r.boolValue(t, r.config.Kubernetes.NamespaceMetadata, false) {
		want["namespaces"] = true
	}
	got := map[string]bool{}
	for _, rule := range r.role.Rules {
		if !slices.Equal(rule.APIGroups, []string{""}) || len(rule.NonResourceURLs) > 0 || len(rule.ResourceNames) > 0 {
			t.Errorf("rule %+v: want core API group resources only", rule)
		}
		v := slices.Sorted(slices.Values(rule.Verbs))
		if !slices.Equal(v, []string{"get", "list", "watch"}) {
			t.Errorf("rule %+v: verbs %v; want get, list, watch", rule, v)
		}
		for _, res := range rule.Resources {
			got[res] = true
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ClusterRole resources = %v; want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
	}
	if r.binding.RoleRef.Name != r.role.Name || r.binding.RoleRef.Kind != "ClusterRole" {
		t.Errorf("binding refers to %s %s; want ClusterRole %s", r.binding.RoleRef.Kind, r.binding.RoleRef.Name, r.role.Name)
	}
	sa := r.ds.Spec.Template.Spec.ServiceAccountName
	bound := slices.ContainsFunc(r.binding.Subjects, func(s rbacv1.Subject) bool {
		return s.Kind == "ServiceAccount" && s.Name == sa && s.Namespace == r.ds.Namespace
	})
	if !bound {
		t.Errorf("binding subjects %+v do not include ServiceAccount %s/%s", r.binding.Subjects, r.ds.Namespace, sa)
	}
	if r.sa == nil || r.sa.Name != sa {
		t.Errorf("ServiceAccount %s is not rendered", sa)
	}
}
