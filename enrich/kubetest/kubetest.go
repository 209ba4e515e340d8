// Package kubetest runs a real etcd and kube-apiserver on 127.0.0.1 for
// tests that need an API server with real behaviour: authentication,
// RBAC, field selectors, watches, server-side dry-run.
//
// The binaries are built once by .ci/setup.d/kube (kube-apiserver and
// kubectl v1.37.2, etcd v3.7.3) into $SKIFF_KUBE_BIN, or by default
// $XDG_CACHE_HOME/skiff/kube/bin (~/.cache/skiff/kube/bin). When they are
// missing, Start fails the test if the CI environment variable is set and
// skips it otherwise, naming the script that builds them.
//
// A cluster has no scheduler, controller manager or kubelet: objects are
// stored and served, nothing reconciles them. Pods can be created with
// spec.nodeName set directly and stay Pending; namespaces made with
// Cluster.Namespace get the "default" ServiceAccount that pod admission
// requires. Authentication is by static token (the admin), client
// certificates (Cluster.User) and service-account tokens
// (Cluster.ServiceAccount); authorization is RBAC only.
//
// Typical use:
//
//	c := kubetest.Start(t)                  // etcd + apiserver, stopped at t's cleanup
//	admin := c.AdminClient(t)               // system:masters
//	c.Namespace(t, "demo")
//	agent := c.ServiceAccount(t, "logging", "agent", rbacv1.PolicyRule{
//		APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"},
//	})                                      // *rest.Config holding that SA's token
//	kubeconfig := c.Kubeconfig(t, agent)    // a file for kubectl, helm, or enrich.NewClient
//	c.StopAPIServer(t); c.StartAPIServer(t) // same address, same data
//
// Programs that are not tests (the benchmark harness) start a cluster with
// StartIn and use the methods that return errors instead of taking a
// testing.TB: CreateNamespace, CreateServiceAccount and WriteKubeconfig.
//
// Pods and Namespaces turn a clientset, a real or a fake one, into what
// enrich.Client holds, for tests that run enrichment over a clientset.
//
// Each cluster uses free loopback ports and its own temporary directory, so
// tests in different packages can run clusters at the same time. Starting
// one takes a few seconds (more on a busy machine) and about 300 MB of
// memory; share one cluster among the tests of a package where possible.
package kubetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Versions built by .ci/setup.d/kube.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.7.3"
)

// SetupScript is the script that builds the binaries.
const SetupScript = ".ci/setup.d/kube"

// How long a server may take to become ready; generous, since the
// machines running the tests may be busy.
const readyTimeout = 3 * time.Minute

// BinDir returns the directory holding the binaries: $SKIFF_KUBE_BIN, or
// skiff/kube/bin under the user's cache directory.
func BinDir() string {
	if d := os.Getenv("SKIFF_KUBE_BIN"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return filepath.Join(os.TempDir(), "skiff", "kube", "bin")
		}
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "skiff", "kube", "bin")
}

// Bin returns the path of a binary built by the setup script
// ("kube-apiserver", "etcd" or "kubectl"), or an error naming the script
// when it is missing.
func Bin(name string) (string, error) {
	p := filepath.Join(BinDir(), name)
	if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s not found in %s: run %s to build kube-apiserver, etcd and kubectl (about 10 minutes once, cached afterwards)", name, BinDir(), SetupScript)
	}
	return p, nil
}

// Require returns the path of the named binary, or ends the test: Fatal
// when the CI environment variable is set, Skip otherwise.
func Require(t testing.TB, name string) string {
	t.Helper()
	p, err := Bin(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal(err)
	}
	t.Skip(err)
	return ""
}

// Cluster is a running etcd and kube-apiserver. Its methods are safe for
// concurrent use, except that StopAPIServer and StartAPIServer must not
// race with each other.
type Cluster struct {
	dir        string
	pki        *pki
	apiBin     string
	etcdBin    string
	apiPort    int
	etcdURL    string
	adminToken string

	mu   sync.Mutex
	etcd *process
	api  *process
}

// Start starts etcd and kube-apiserver and waits until the API server is
// ready. Both are stopped when the test ends; if the test failed, the end
// of their logs is written to the test log.
func Start(t testing.TB) *Cluster {
	t.Helper()
	apiBin, etcdBin := Require(t, "kube-apiserver"), Require(t, "etcd")
	c, err := start(t.TempDir(), apiBin, etcdBin)
	if err != nil {
		t.Fatalf("kubetest: %v", err)
	}
	t.Cleanup(func() { c.stop(t) })
	return c
}

// StartIn is Start for programs that are not tests, such as the benchmark
// harness: the certificates, data and logs go to dir, which must exist,
// and it returns once the API server is ready. stop ends both servers and
// may be called more than once. A missing binary is an error naming
// SetupScript (see Bin); on any error nothing is left running.
func StartIn(dir string) (c *Cluster, stop func(), err error) {
	apiBin, err := Bin("kube-apiserver")
	if err != nil {
		return nil, nil, err
	}
	etcdBin, err := Bin("etcd")
	if err != nil {
		return nil, nil, err
	}
	c, err = start(dir, apiBin, etcdBin)
	if err != nil {
		return nil, nil, fmt.Errorf("kubetest: %w", err)
	}
	return c, func() { c.shutdown() }, nil
}

// start starts etcd and kube-apiserver in dir; on error it stops what it
// started.
func start(dir, apiBin, etcdBin string) (*Cluster, error) {
	c := &Cluster{dir: dir, apiBin: apiBin, etcdBin: etcdBin}
	var err error
	if c.pki, err = newPKI(c.dir); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	c.adminToken = randomToken()
	tokens := fmt.Sprintf("%s,admin,admin-uid,system:masters\n", c.adminToken)
	if err := os.WriteFile(c.pki.path("tokens.csv"), []byte(tokens), 0o600); err != nil {
		return nil, err
	}
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	c.apiPort = ports[0]
	if err := c.startEtcd(ports[1], ports[2]); err != nil {
		c.shutdown()
		return nil, err
	}
	if err := c.startAPIServer(); err != nil {
		c.shutdown()
		return nil, err
	}
	return c, nil
}

// URL returns the API server's address, https://127.0.0.1:<port>.
func (c *Cluster) URL() string { return "https://127.0.0.1:" + strconv.Itoa(c.apiPort) }

// CAData returns the PEM of the CA that signed the API server's
// certificate.
func (c *Cluster) CAData() []byte { return bytes.Clone(c.pki.caPEM) }

// CAFile returns the path of CAData's file.
func (c *Cluster) CAFile() string { return c.pki.path("ca.crt") }

// Dir returns the cluster's temporary directory (certificates, data, logs).
func (c *Cluster) Dir() string { return c.dir }

// AdminConfig returns a new rest.Config for the administrator (group
// system:masters: RBAC allows everything), authenticated by static token.
func (c *Cluster) AdminConfig() *rest.Config {
	cfg := c.baseConfig()
	cfg.BearerToken = c.adminToken
	return cfg
}

// AdminClient returns a clientset for the administrator.
func (c *Cluster) AdminClient(t testing.TB) kubernetes.Interface {
	t.Helper()
	return mustClient(t, c.AdminConfig())
}

// Client returns a clientset for cfg (for example one returned by
// ServiceAccount or User), failing the test on error.
func (c *Cluster) Client(t testing.TB, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	return mustClient(t, cfg)
}

func (c *Cluster) baseConfig() *rest.Config {
	return &rest.Config{
		Host:            c.URL(),
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CAData()},
		QPS:             200,
		Burst:           400,
		Timeout:         30 * time.Second,
	}
}

func mustClient(t testing.TB, cfg *rest.Config) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatalf("kubetest: client: %v", err)
	}
	return cs
}

func (c *Cluster) startEtcd(clientPort, peerPort int) error {
	c.etcdURL = "http://127.0.0.1:" + strconv.Itoa(clientPort)
	peer := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	p, err := startProcess(c.dir, "etcd", c.etcdBin,
		"--name", "kubetest",
		"--data-dir", filepath.Join(c.dir, "etcd-data"),
		"--listen-client-urls", c.etcdURL, "--advertise-client-urls", c.etcdURL,
		"--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
		"--initial-cluster", "kubetest="+peer, "--initial-cluster-state", "new",
		"--quota-backend-bytes", strconv.Itoa(2<<30),
		"--log-level", "warn",
	)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.etcd = p
	c.mu.Unlock()
	return p.waitReady(http.DefaultClient, c.etcdURL+"/health")
}

func (c *Cluster) startAPIServer() error {
	pk := c.pki.path
	p, err := startProcess(c.dir, "kube-apiserver", c.apiBin,
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(c.apiPort),
		"--etcd-servers="+c.etcdURL,
		"--tls-cert-file="+pk("apiserver.crt"), "--tls-private-key-file="+pk("apiserver.key"),
		"--client-ca-file="+pk("ca.crt"), "--token-auth-file="+pk("tokens.csv"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+pk("sa.pub"), "--service-account-signing-key-file="+pk("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--authorization-mode=RBAC", "--endpoint-reconciler-type=none",
		"--allow-privileged=true", "--profiling=false", "--v=1",
	)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.api = p
	c.mu.Unlock()
	return p.waitReady(c.adminHTTP(), c.URL()+"/readyz")
}

// adminHTTP is an HTTP client trusting the CA and sending the admin token.
func (c *Cluster) adminHTTP() *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.pki.caPEM)
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: bearer{c.adminToken, &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		}},
	}
}

type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// StopAPIServer stops the API server (SIGTERM, then SIGKILL after 5s: its
// graceful termination can take longer than a test wants to wait).
// etcd keeps running, so StartAPIServer brings back the same data.
func (c *Cluster) StopAPIServer(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	p := c.api
	c.api = nil
	c.mu.Unlock()
	if p == nil {
		t.Fatal("kubetest: StopAPIServer: not running")
	}
	p.stop(5 * time.Second)
}

// StartAPIServer starts the API server again on the same address after
// StopAPIServer, and waits until it is ready.
func (c *Cluster) StartAPIServer(t testing.TB) {
	t.Helper()
	c.mu.Lock()
	running := c.api != nil
	c.mu.Unlock()
	if running {
		t.Fatal("kubetest: StartAPIServer: already running")
	}
	if err := c.startAPIServer(); err != nil {
		t.Fatalf("kubetest: restart: %v", err)
	}
}

// APIServerRunning reports whether the API server runs (it does between
// Start or StartAPIServer and StopAPIServer).
func (c *Cluster) APIServerRunning() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.api != nil
}

func (c *Cluster) stop(t testing.TB) {
	for _, p := range c.shutdown() {
		if t.Failed() {
			t.Logf("kubetest: end of the %s log (%s):\n%s", p.name, p.logPath, p.tail(40))
		}
	}
}

// shutdown stops the API server, then etcd, and returns the processes it
// stopped.
func (c *Cluster) shutdown() []*process {
	c.mu.Lock()
	api, etcd := c.api, c.etcd
	c.api, c.etcd = nil, nil
	c.mu.Unlock()
	var out []*process
	for _, p := range []*process{api, etcd} {
		if p == nil {
			continue
		}
		p.stop(5 * time.Second)
		out = append(out, p)
	}
	return out
}

// process is a server process writing its output to a log file.
type process struct {
	name    string
	logPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error // valid after done
}

// startProcess starts bin with args; its output goes to dir/<name>.log
// (appended to, across restarts).
func startProcess(dir, name, bin string, args ...string) (*process, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// waitReady polls url until it answers 200, the process exits, or the
// ready timeout passes.
func (p *process) waitReady(client *http.Client, url string) error {
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				return nil
			}
			err = fmt.Errorf("%s: %s", url, resp.Status)
		}
		cancel()
		last = err
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%v); end of its log:\n%s", p.name, p.err, p.tail(40))
		case <-deadline.C:
			p.stop(5 * time.Second)
			return fmt.Errorf("%s not ready after %v (%v); end of its log:\n%s", p.name, readyTimeout, last, p.tail(40))
		case <-tick.C:
		}
	}
}

// stop ends the process: SIGTERM, then SIGKILL after grace.
func (p *process) stop(grace time.Duration) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// tail returns the last n lines of the process's log.
func (p *process) tail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("kubetest: no randomness: " + err.Error()))
	}
	return hex.EncodeToString(b)
}
