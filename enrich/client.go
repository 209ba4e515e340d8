package enrich

import (
	"fmt"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// UserAgent is sent with every request to the API server.
const UserAgent = "skiff"

// NewClient returns a client for the API server: in-cluster (the pod's
// service account) when kubeconfig is "", else from that kubeconfig file
// (its current context), for running on a laptop. It speaks protobuf,
// which is smaller and cheaper to decode than JSON.
func NewClient(kubeconfig string) (kubernetes.Interface, error) {
	var cfg *rest.Config
	var err error
	if kubeconfig == "" {
		cfg, err = rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("in-cluster config (set kubernetes.kubeconfig when not running in a pod): %w", err)
		}
	} else {
		cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("load kubeconfig %s: %w", kubeconfig, err)
		}
	}
	return NewClientForConfig(cfg)
}

// NewClientForConfig returns a client for cfg with skiff's user agent and
// protobuf encoding. cfg is copied, not modified.
func NewClientForConfig(cfg *rest.Config) (kubernetes.Interface, error) {
	c := rest.CopyConfig(cfg)
	c.UserAgent = UserAgent
	c.ContentType = "application/vnd.kubernetes.protobuf"
	c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return cs, nil
}
