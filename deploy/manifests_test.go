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
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		t.Error("pod uses host namespaces")
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
	for _, inc := range r.config.Tail.Include {
		if !strings.HasPrefix(inc, "/var/log/") {
			t.Errorf("tail.include %q is outside the /var/log mount", inc)
		}
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

	// The config is one the agent accepts, in the container's environment.
	validateConfig(t, r)
}

// validateConfig runs `skiff validate` (the binary the image ships) on the
// rendered skiff.yaml with the environment the container would have. EKS's
// IRSA webhook injects AWS_REGION; elsewhere it is us-east-1 here.
func validateConfig(t *testing.T, r *rendered) {
	t.Helper()
	bin := filepath.Join(dockerBuild(t), "skiff")
	cfg := filepath.Join(t.TempDir(), "skiff.yaml")
	if err := os.WriteFile(cfg, []byte(r.configText), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"NODE_NAME=node-a", "POD_NAME=skiff-abcde", "POD_NAMESPACE=" + r.ds.Namespace, "POD_UID=uid-1", "AWS_REGION=us-east-1"}
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
	if out, err := run(t, nil, env, bin, "validate", "--config", cfg); err != nil {
		t.Errorf("rendered skiff.yaml does not validate: %v\n%s\n%s", err, out, r.configText)
	}
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
