package kubetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// tokenSeconds is the lifetime of service-account tokens made here.
const tokenSeconds = 24 * 60 * 60

// Namespace creates the namespace (if missing) and its "default"
// ServiceAccount, which pod admission requires and which no controller
// manager creates here.
func (c *Cluster) Namespace(t testing.TB, name string) {
	t.Helper()
	if err := c.CreateNamespace(context.Background(), name); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
}

// CreateNamespace is Namespace for programs that are not tests: it returns
// the error.
func (c *Cluster) CreateNamespace(ctx context.Context, name string) error {
	cs, err := kubernetes.NewForConfig(c.AdminConfig())
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	_, err = cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}
	_, err = cs.CoreV1().ServiceAccounts(name).Create(ctx, sa, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create default service account in %s: %w", name, err)
	}
	return nil
}

// ServiceAccount creates the ServiceAccount namespace/name (and its
// namespace), grants it rules cluster-wide through a ClusterRole and
// ClusterRoleBinding named kubetest:<namespace>:<name> (no rules: no
// permissions at all), and returns a rest.Config that authenticates with a
// token of that ServiceAccount from the TokenRequest API, as
// system:serviceaccount:<namespace>:<name>.
func (c *Cluster) ServiceAccount(t testing.TB, namespace, name string, rules ...rbacv1.PolicyRule) *rest.Config {
	t.Helper()
	cfg, err := c.CreateServiceAccount(context.Background(), namespace, name, rules...)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return cfg
}

// CreateServiceAccount is ServiceAccount for programs that are not tests:
// it returns the error. The token is valid for a day.
func (c *Cluster) CreateServiceAccount(ctx context.Context, namespace, name string, rules ...rbacv1.PolicyRule) (*rest.Config, error) {
	if err := c.CreateNamespace(ctx, namespace); err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(c.AdminConfig())
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := cs.CoreV1().ServiceAccounts(namespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create service account %s/%s: %w", namespace, name, err)
	}
	if len(rules) > 0 {
		if err := c.grant(ctx, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: namespace}, rules...); err != nil {
			return nil, err
		}
	}
	exp := int64(tokenSeconds)
	tr, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &exp}}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token for %s/%s: %w", namespace, name, err)
	}
	cfg := c.baseConfig()
	cfg.BearerToken = tr.Status.Token
	return cfg, nil
}

// User returns a rest.Config that authenticates as user, member of groups,
// with a client certificate signed by the cluster's CA, after granting it
// rules cluster-wide (no rules: no permissions).
func (c *Cluster) User(t testing.TB, user string, groups []string, rules ...rbacv1.PolicyRule) *rest.Config {
	t.Helper()
	certPEM, keyPEM, err := c.pki.clientCert(user, groups...)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	if len(rules) > 0 {
		c.Grant(t, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}, rules...)
	}
	cfg := c.baseConfig()
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return cfg
}

// Grant creates (or replaces) a ClusterRole with rules and binds it to
// subject. The role and binding are named after the subject, so granting
// again replaces the subject's earlier rules.
func (c *Cluster) Grant(t testing.TB, subject rbacv1.Subject, rules ...rbacv1.PolicyRule) {
	t.Helper()
	if err := c.grant(context.Background(), subject, rules...); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
}

func (c *Cluster) grant(ctx context.Context, subject rbacv1.Subject, rules ...rbacv1.PolicyRule) error {
	cs, err := kubernetes.NewForConfig(c.AdminConfig())
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	name := "kubetest:" + strings.ToLower(subject.Kind)
	if subject.Namespace != "" {
		name += ":" + subject.Namespace
	}
	name += ":" + subject.Name
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); apierrors.IsAlreadyExists(err) {
		_, err = cs.RbacV1().ClusterRoles().Update(ctx, role, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("update cluster role %s: %w", name, err)
		}
	} else if err != nil {
		return fmt.Errorf("create cluster role %s: %w", name, err)
	}
	binding := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
		Subjects:   []rbacv1.Subject{subject},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, binding, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create cluster role binding %s: %w", name, err)
	}
	return nil
}

// Kubeconfig writes a kubeconfig file for cfg (a config from AdminConfig,
// ServiceAccount or User) into a temporary directory of the test and
// returns its path, for kubectl --kubeconfig, helm or enrich.NewClient.
func (c *Cluster) Kubeconfig(t testing.TB, cfg *rest.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := WriteKubeconfig(path, cfg); err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	return path
}

// WriteKubeconfig writes a kubeconfig file for cfg at path, readable by its
// owner only (mode 0600): Kubeconfig for programs that are not tests. The
// credentials (token, client certificate) and the CA are inline.
func WriteKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kubetest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["user"] = &clientcmdapi.AuthInfo{
		Token:                 cfg.BearerToken,
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
	}
	kc.Contexts["kubetest"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: "user", Namespace: "default"}
	kc.CurrentContext = "kubetest"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// Kubectl returns the path of the kubectl built by the setup script, or
// ends the test as Require does.
func Kubectl(t testing.TB) string {
	t.Helper()
	return Require(t, "kubectl")
}

// String describes the cluster for logs.
func (c *Cluster) String() string {
	return fmt.Sprintf("kube-apiserver %s at %s (etcd %s at %s)", KubernetesVersion, c.URL(), EtcdVersion, c.etcdURL)
}
