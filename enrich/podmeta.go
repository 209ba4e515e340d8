package enrich

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/skiff-agent/skiff/tailer"
)

// podObject is what the pod informer stores instead of the whole Pod: the
// identity the informer needs (namespace, name, UID, resource version) and
// the metadata built from the Pod when it arrived. Keeping only this is what
// holds the cache to a few hundred bytes per pod beyond labels and
// annotations.
type podObject struct {
	metav1.ObjectMeta
	meta *tailer.PodMeta
}

// GetObjectKind implements runtime.Object.
func (p *podObject) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object. The metadata is immutable, so
// the copy shares it.
func (p *podObject) DeepCopyObject() runtime.Object {
	c := &podObject{meta: p.meta}
	p.ObjectMeta.DeepCopyInto(&c.ObjectMeta)
	return c
}

// builder turns Pods into PodMeta values.
type builder struct {
	labels, annotations bool
	labelKeys, annKeys  keyFilter
	excludeSelf         bool
	ownerRefs           bool // attach the owner references
	// checkGroup and checkStream judge the log group and log stream
	// annotations; nil passes them through.
	checkGroup, checkStream func(string) error
	// parsers and multiline are the names the parser and multiline
	// annotations may take.
	parsers, multiline []string
	// invalid is told about an annotation control whose value is ignored,
	// with a reason (reasonValue, reasonDestination) and why.
	invalid func(pod *corev1.Pod, key, value, reason, why string)
}

// transform is the informer's transform: it replaces a Pod by a podObject.
// Anything else (a tombstone) passes unchanged.
func (b *builder) transform(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return obj, nil
	}
	return &podObject{
		ObjectMeta: metav1.ObjectMeta{
			Name:            pod.Name,
			Namespace:       pod.Namespace,
			UID:             pod.UID,
			ResourceVersion: pod.ResourceVersion,
		},
		meta: b.build(pod),
	}, nil
}

// build returns the metadata of pod. The label and annotation maps are
// shared with pod when no key filter applies; pod must not be modified
// afterwards (informer objects never are).
func (b *builder) build(pod *corev1.Pod) *tailer.PodMeta {
	m := &tailer.PodMeta{
		Name:      pod.Name,
		Namespace: pod.Namespace,
		UID:       string(pod.UID),
		Host:      pod.Spec.NodeName,
		PodIP:     pod.Status.PodIP,
	}
	if b.labels {
		m.Labels = filterKeys(pod.Labels, b.labelKeys)
	}
	if b.annotations {
		m.Annotations = filterKeys(pod.Annotations, b.annKeys)
	}
	m.OwnerKind, m.OwnerName = owner(pod)
	if b.ownerRefs {
		for _, r := range pod.OwnerReferences {
			m.OwnerReferences = append(m.OwnerReferences, tailer.OwnerReference{
				APIVersion: r.APIVersion, Kind: r.Kind, Name: r.Name, UID: string(r.UID),
				Controller: r.Controller != nil && *r.Controller, BlockOwnerDeletion: r.BlockOwnerDeletion != nil && *r.BlockOwnerDeletion,
			})
		}
	}
	m.Containers = containers(pod)
	m.Controls = b.controls(pod)
	if b.excludeSelf && pod.Labels[SelfLabel] == SelfValue {
		m.Controls.Exclude = true
	}
	return m
}

// namespace returns what the pods of a namespace carry of its metadata:
// its labels and annotations, each when switched on, with the same key
// filters as the pods' own.
func (b *builder) namespace(ns NamespaceMeta) NamespaceMeta {
	var out NamespaceMeta
	if b.labels {
		out.Labels = filterKeys(ns.Labels, b.labelKeys)
	}
	if b.annotations {
		out.Annotations = filterKeys(ns.Annotations, b.annKeys)
	}
	return out
}

func filterKeys(in map[string]string, f keyFilter) map[string]string {
	if len(in) == 0 {
		return nil
	}
	if f.empty() {
		return in
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		if f.keep(k) {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// owner names the pod's workload from its controller reference, without
// API calls: a ReplicaSet named <deployment>-<pod-template-hash> is a
// Deployment's, and a Job named <cronjob>-<minutes since 1970> a CronJob's.
func owner(pod *corev1.Pod) (kind, name string) {
	refs := pod.OwnerReferences
	if len(refs) == 0 {
		return "", ""
	}
	ref := refs[0]
	for _, r := range refs {
		if r.Controller != nil && *r.Controller {
			ref = r
			break
		}
	}
	switch ref.Kind {
	case "ReplicaSet":
		if h := pod.Labels["pod-template-hash"]; h != "" {
			if d, ok := strings.CutSuffix(ref.Name, "-"+h); ok && d != "" {
				return "Deployment", d
			}
		}
	case "Job":
		if cj, ok := cronJobOf(ref.Name); ok {
			return "CronJob", cj
		}
	}
	return ref.Kind, ref.Name
}

// Bounds of a CronJob's scheduled time in minutes since 1970 (the suffix
// the CronJob controller gives its Jobs): years 2010 to 2200.
const (
	minCronMinutes = 21_000_000
	maxCronMinutes = 120_000_000
)

func cronJobOf(job string) (string, bool) {
	i := strings.LastIndexByte(job, '-')
	if i <= 0 {
		return "", false
	}
	n, err := strconv.ParseUint(job[i+1:], 10, 64)
	if err != nil || n < minCronMinutes || n > maxCronMinutes {
		return "", false
	}
	return job[:i], true
}

// containers maps every container of the pod (init and ephemeral ones
// included) to its image and, once the kubelet reported it, its image ID
// and container ID. The image the runtime reports wins over the spec's.
func containers(pod *corev1.Pod) map[string]tailer.ContainerMeta {
	n := len(pod.Spec.Containers) + len(pod.Spec.InitContainers) + len(pod.Spec.EphemeralContainers)
	if n == 0 {
		return nil
	}
	out := make(map[string]tailer.ContainerMeta, n)
	for _, c := range pod.Spec.InitContainers {
		out[c.Name] = tailer.ContainerMeta{Image: c.Image}
	}
	for _, c := range pod.Spec.Containers {
		out[c.Name] = tailer.ContainerMeta{Image: c.Image}
	}
	for _, c := range pod.Spec.EphemeralContainers {
		out[c.Name] = tailer.ContainerMeta{Image: c.Image}
	}
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses, pod.Status.EphemeralContainerStatuses} {
		for _, s := range list {
			c := out[s.Name]
			if s.Image != "" {
				c.Image = s.Image
			}
			c.ImageID = s.ImageID
			c.ContainerID = s.ContainerID
			out[s.Name] = c
		}
	}
	return out
}

// sameMeta reports whether a and b carry the same metadata, so that an
// update changing nothing skiff uses keeps the published pointer.
func sameMeta(a, b *tailer.PodMeta) bool {
	return a.Name == b.Name && a.Namespace == b.Namespace && a.UID == b.UID &&
		a.Host == b.Host && a.PodIP == b.PodIP &&
		a.OwnerKind == b.OwnerKind && a.OwnerName == b.OwnerName &&
		slices.Equal(a.OwnerReferences, b.OwnerReferences) &&
		a.Controls == b.Controls &&
		maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations) &&
		maps.Equal(a.NamespaceLabels, b.NamespaceLabels) &&
		maps.Equal(a.NamespaceAnnotations, b.NamespaceAnnotations) &&
		maps.Equal(a.Containers, b.Containers)
}
