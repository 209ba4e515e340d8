package enrich

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-agent/skiff/tailer"
)

func TestOwner(t *testing.T) {
	yes := true
	ref := func(kind, name string, controller bool) metav1.OwnerReference {
		r := metav1.OwnerReference{Kind: kind, Name: name}
		if controller {
			r.Controller = &yes
		}
		return r
	}
	tests := []struct {
		name     string
		refs     []metav1.OwnerReference
		labels   map[string]string
		kind, to string
	}{
		{"none", nil, nil, "", ""},
		{"deployment", []metav1.OwnerReference{ref("ReplicaSet", "web-5d4f8c7b9", true)}, map[string]string{"pod-template-hash": "5d4f8c7b9"}, "Deployment", "web"},
		{"deployment with dashes", []metav1.OwnerReference{ref("ReplicaSet", "my-web-app-7c9f", true)}, map[string]string{"pod-template-hash": "7c9f"}, "Deployment", "my-web-app"},
		{"bare replicaset", []metav1.OwnerReference{ref("ReplicaSet", "web-abc", true)}, nil, "ReplicaSet", "web-abc"},
		{"replicaset hash mismatch", []metav1.OwnerReference{ref("ReplicaSet", "web-abc", true)}, map[string]string{"pod-template-hash": "xyz"}, "ReplicaSet", "web-abc"},
		{"daemonset", []metav1.OwnerReference{ref("DaemonSet", "skiff", true)}, nil, "DaemonSet", "skiff"},
		{"statefulset", []metav1.OwnerReference{ref("StatefulSet", "db", true)}, nil, "StatefulSet", "db"},
		{"cronjob", []metav1.OwnerReference{ref("Job", "backup-29384520", true)}, nil, "CronJob", "backup"},
		{"job with date suffix", []metav1.OwnerReference{ref("Job", "backup-20240101", true)}, nil, "Job", "backup-20240101"},
		{"plain job", []metav1.OwnerReference{ref("Job", "migrate", true)}, nil, "Job", "migrate"},
		{"controller wins", []metav1.OwnerReference{ref("ConfigMap", "x", false), ref("StatefulSet", "db", true)}, nil, "StatefulSet", "db"},
		{"no controller: first", []metav1.OwnerReference{ref("Node", "node-a", false)}, nil, "Node", "node-a"},
	}
	for _, tt := range tests {
		pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{OwnerReferences: tt.refs, Labels: tt.labels}}
		kind, name := owner(pod)
		if kind != tt.kind || name != tt.to {
			t.Errorf("%s: owner = %s/%s; want %s/%s", tt.name, kind, name, tt.kind, tt.to)
		}
	}
}

// refuseSpaces stands in for a sink's naming rules: it refuses values with
// a space.
func refuseSpaces(v string) error {
	if strings.Contains(v, " ") {
		return errors.New("no spaces")
	}
	return nil
}

func TestControls(t *testing.T) {
	tests := []struct {
		ann     map[string]string
		want    tailer.Controls
		invalid []string
	}{
		{nil, tailer.Controls{}, nil},
		{map[string]string{"skiff.io/exclude": "true"}, tailer.Controls{Exclude: true}, nil},
		{map[string]string{"fluentbit.io/exclude": "True"}, tailer.Controls{Exclude: true}, nil},
		{map[string]string{"skiff.io/exclude": "false", "fluentbit.io/exclude": "true"}, tailer.Controls{}, nil},
		{map[string]string{"skiff.io/exclude": "yes"}, tailer.Controls{}, []string{"skiff.io/exclude/value"}},
		{map[string]string{"fluentbit.io/parser": "json"}, tailer.Controls{Parser: "json"}, nil},
		{map[string]string{"skiff.io/parser": "JSON"}, tailer.Controls{Parser: "json"}, nil},
		{map[string]string{"fluentbit.io/parser": "apache2"}, tailer.Controls{}, []string{"fluentbit.io/parser/value"}},
		{map[string]string{"skiff.io/log-group": "/team/{kubernetes.namespace_name}", "skiff.io/log-stream": "web-{x}"},
			tailer.Controls{LogGroup: "/team/{kubernetes.namespace_name}", LogStream: "web-{x}"}, nil},
		{map[string]string{"skiff.io/log-group": "bad group", "skiff.io/log-stream": "a b"}, tailer.Controls{},
			[]string{"skiff.io/log-group/destination", "skiff.io/log-stream/destination"}},
	}
	for _, tt := range tests {
		var invalid []string
		b := &builder{checkGroup: refuseSpaces, checkStream: refuseSpaces,
			invalid: func(_ *corev1.Pod, key, _, reason, _ string) { invalid = append(invalid, key+"/"+reason) }}
		got := b.controls(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: tt.ann}})
		if got != tt.want {
			t.Errorf("controls(%v) = %+v; want %+v", tt.ann, got, tt.want)
		}
		if strings.Join(invalid, ",") != strings.Join(tt.invalid, ",") {
			t.Errorf("controls(%v) reported invalid %v; want %v", tt.ann, invalid, tt.invalid)
		}
	}
}

// Without a sink's rules, destination annotations pass through as they are.
func TestControlsPassThrough(t *testing.T) {
	ann := map[string]string{"skiff.io/log-group": "bad group", "skiff.io/log-stream": "web {x}"}
	got := (&builder{}).controls(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Annotations: ann}})
	if want := (tailer.Controls{LogGroup: "bad group", LogStream: "web {x}"}); got != want {
		t.Errorf("controls(%v) = %+v; want %+v", ann, got, want)
	}
}

func TestBuild(t *testing.T) {
	pod := testPod("shop", "web-1", "uid-1",
		map[string]string{"app": "web", "team": "a", "pod-template-hash": "h"},
		map[string]string{"example.com/owner": "x", "kubectl.kubernetes.io/last-applied-configuration": "{}"})
	pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox"}}
	b := &builder{labels: true, annotations: true,
		labelKeys: keyFilter{exclude: []string{"pod-template-hash"}},
		annKeys:   keyFilter{exclude: []string{"kubectl.kubernetes.io/*"}}}
	m := b.build(pod)
	if m.Name != "web-1" || m.Namespace != "shop" || m.UID != "uid-1" || m.Host != testNode || m.PodIP != "10.0.0.7" {
		t.Errorf("identity = %+v", m)
	}
	if want := map[string]string{"app": "web", "team": "a"}; !maps.Equal(m.Labels, want) {
		t.Errorf("labels = %v; want %v", m.Labels, want)
	}
	if want := map[string]string{"example.com/owner": "x"}; !maps.Equal(m.Annotations, want) {
		t.Errorf("annotations = %v; want %v", m.Annotations, want)
	}
	want := map[string]tailer.ContainerMeta{
		"app":  {Image: "docker.io/library/nginx:1.27", ImageID: "docker.io/library/nginx@sha256:abc", ContainerID: "containerd://0123456789abcdef"},
		"init": {Image: "busybox"},
	}
	if !maps.Equal(m.Containers, want) {
		t.Errorf("containers = %v; want %v", m.Containers, want)
	}

	b = &builder{labels: false, annotations: true, annKeys: keyFilter{include: []string{"example.com/*"}}}
	m = b.build(pod)
	if m.Labels != nil || !maps.Equal(m.Annotations, map[string]string{"example.com/owner": "x"}) {
		t.Errorf("labels off, annotations example.com/*: got %v, %v", m.Labels, m.Annotations)
	}

	self := testPod("logging", "skiff-x", "uid-2", map[string]string{SelfLabel: SelfValue}, nil)
	if !(&builder{excludeSelf: true}).build(self).Controls.Exclude {
		t.Error("skiff's own pod not excluded")
	}
	if (&builder{}).build(self).Controls.Exclude {
		t.Error("skiff's own pod excluded with ExcludeSelf off")
	}
}

// fieldsOf returns the Field of every *FieldError in err.
func fieldsOf(err error) []string {
	var out []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, fieldsOf(e)...)
		}
	} else if fe, ok := err.(*FieldError); ok {
		out = append(out, fe.Field)
	}
	return out
}

func TestConfigValidate(t *testing.T) {
	if got := fieldsOf((Config{}).Validate()); strings.Join(got, ",") != "NodeName" {
		t.Errorf("empty config: fields %v; want [NodeName]", got)
	}
	c := DefaultConfig()
	c.NodeName = "n"
	if err := c.Validate(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	c.ExcludeLabels = []string{"a*b*"}
	c.DeletedPodGrace = -1
	if got := fieldsOf(c.Validate()); strings.Join(got, ",") != "DeletedPodGrace,ExcludeLabels" {
		t.Errorf("bad pattern and grace: fields %v; want [DeletedPodGrace ExcludeLabels]", got)
	}
}

// Owner references are attached only when asked for, in the API's shape.
func TestBuildOwnerReferences(t *testing.T) {
	pod := testPod("shop", "web-1", "uid-1", map[string]string{"pod-template-hash": "7d4b9c"}, nil)
	yes := true
	pod.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d4b9c", UID: "rs-uid",
		Controller: &yes, BlockOwnerDeletion: &yes}}
	if refs := (&builder{}).build(pod).OwnerReferences; refs != nil {
		t.Errorf("owner references without asking: %v", refs)
	}
	m := (&builder{ownerRefs: true}).build(pod)
	want := []tailer.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d4b9c", UID: "rs-uid", Controller: true, BlockOwnerDeletion: true}}
	if !slices.Equal(m.OwnerReferences, want) || m.OwnerKind != "Deployment" || m.OwnerName != "web" {
		t.Errorf("owner references %v, workload %s/%s", m.OwnerReferences, m.OwnerKind, m.OwnerName)
	}
	other := (&builder{ownerRefs: true}).build(pod)
	if !sameMeta(m, other) {
		t.Error("the same pod built twice is not the same metadata")
	}
	pod.OwnerReferences[0].Name = "web-8e5c0d"
	if sameMeta(m, (&builder{ownerRefs: true}).build(pod)) {
		t.Error("a changed owner reference is the same metadata")
	}
}
