package enrich

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// UserAgent is sent with every request to the API server.
const UserAgent = "skiff"

// Client is what enrichment reads from the API server. It is not
// client-go's clientset: that one registers every API group at start and
// costs the agent about 10 MB of memory.
type Client struct {
	// Pods lists and watches the pods of all namespaces.
	Pods ListWatcher
	// Namespaces lists and watches the namespaces; it may be nil unless
	// Config.NamespaceMetadata is on.
	Namespaces ListWatcher
}

// ListWatcher lists and watches one resource as client-go's typed clients
// do: List returns the typed list (*corev1.PodList) and watch events carry
// the typed object (*corev1.Pod). Both block until the server answers or
// ctx is done, and are safe for concurrent use; the caller stops the watch.
// A ListWatcher whose IsWatchListSemanticsUnSupported() bool method returns
// true gets plain lists, not streamed ones (client-go's fake clientsets
// need that).
type ListWatcher interface {
	List(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
}

// NewClient returns a client for the API server: in-cluster (the pod's
// service account) when kubeconfig is "", else from that kubeconfig file
// (its current context), for running on a laptop. It speaks protobuf,
// which is smaller and cheaper to decode than JSON.
func NewClient(kubeconfig string) (*Client, error) {
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
func NewClientForConfig(cfg *rest.Config) (*Client, error) {
	// Only core/v1 is known: what the typed client of client-go would
	// register for it, and nothing of the other API groups.
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	c := rest.CopyConfig(cfg)
	c.UserAgent = UserAgent
	c.ContentType = "application/vnd.kubernetes.protobuf"
	c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	gv := corev1.SchemeGroupVersion
	c.GroupVersion = &gv
	c.APIPath = "/api"
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	return &Client{
		Pods:       &coreResource{rc, "pods", func() runtime.Object { return &corev1.PodList{} }},
		Namespaces: &coreResource{rc, "namespaces", func() runtime.Object { return &corev1.NamespaceList{} }},
	}, nil
}

// coreResource lists and watches one core/v1 resource of all namespaces, with
// the same requests as client-go's typed clients (gentype.Client).
type coreResource struct {
	rc      rest.Interface
	name    string
	newList func() runtime.Object
}

func (r *coreResource) List(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
	list := r.newList()
	err := r.rc.Get().
		Resource(r.name).
		VersionedParams(&opts, metav1.ParameterCodec).
		Timeout(timeout(opts)).
		Do(ctx).
		Into(list)
	return list, err
}

func (r *coreResource) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	opts.Watch = true
	return r.rc.Get().
		Resource(r.name).
		VersionedParams(&opts, metav1.ParameterCodec).
		Timeout(timeout(opts)).
		Watch(ctx)
}

// timeout is the request's timeout, 0 (none, not the client's) when opts
// has none, as in client-go's typed clients.
func timeout(opts metav1.ListOptions) time.Duration {
	if opts.TimeoutSeconds == nil {
		return 0
	}
	return time.Duration(*opts.TimeoutSeconds) * time.Second
}
