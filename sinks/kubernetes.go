package sinks

import (
	"strings"

	"github.com/skiff-agent/skiff/tailer"
)

// Kubernetes is the kubernetes.* view of a record: what the JSON shape
// writes under "kubernetes" and what destination templates read as
// {kubernetes.…}, so that both always agree. Each value is the pod
// metadata's when it has one, else what the file's path says; Host falls
// back to the node name the sink was given.
type Kubernetes struct {
	PodName, NamespaceName, PodID, Host string
	PodIP                               string
	ContainerName                       string
	DockerID                            string // the container ID without its runtime scheme
	ContainerHash                       string // the image ID without its scheme
	ContainerImage                      string
}

// KubernetesOf returns the view of a record's file and pod metadata
// (either may be nil); host is the node name used when the pod's is
// unknown.
func KubernetesOf(file *tailer.FileMeta, pod *tailer.PodMeta, host string) Kubernetes {
	var f tailer.FileMeta
	if file != nil {
		f = *file
	}
	k := Kubernetes{
		PodName: f.Pod, NamespaceName: f.Namespace, PodID: f.PodUID, Host: host,
		ContainerName: f.Container, DockerID: f.ContainerID,
	}
	if pod == nil {
		return k
	}
	or := func(v *string, podValue string) {
		if podValue != "" {
			*v = podValue
		}
	}
	or(&k.PodName, pod.Name)
	or(&k.NamespaceName, pod.Namespace)
	or(&k.PodID, pod.UID)
	or(&k.Host, pod.Host)
	k.PodIP = pod.PodIP
	c := pod.Containers[f.Container]
	if k.DockerID == "" {
		k.DockerID = stripScheme(c.ContainerID)
	}
	k.ContainerHash = stripScheme(c.ImageID)
	k.ContainerImage = c.Image
	return k
}

// stripScheme removes a runtime prefix such as "containerd://".
func stripScheme(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		return s[i+3:]
	}
	return s
}
