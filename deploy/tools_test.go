package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
)

// cacheDir is where the .ci/setup.d scripts install tools.
func cacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "skiff")
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "skiff")
}

// missingTool fails the test under CI, where .ci/setup must have installed
// every tool, and skips it elsewhere.
func missingTool(t testing.TB, name, setup string) {
	t.Helper()
	msg := fmt.Sprintf("%s not found; run %s (or ./.ci/setup)", name, setup)
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// findTool returns the first executable among the candidates, then $PATH.
func findTool(name string, candidates ...string) string {
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

func kubeBin(name string) string {
	dir := os.Getenv("SKIFF_KUBE_BIN")
	if dir == "" {
		dir = filepath.Join(cacheDir(), "kube", "bin")
	}
	return filepath.Join(dir, name)
}

// helmPath returns helm v3 from .ci/setup.d/helm.
func helmPath(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SKIFF_HELM_BIN")
	if dir == "" {
		dir = filepath.Join(cacheDir(), "helm", "bin")
	}
	p := findTool("helm", filepath.Join(dir, "helm"))
	if p == "" {
		missingTool(t, "helm", ".ci/setup.d/helm")
	}
	return p
}

// kubectlPath returns the kubectl built by .ci/setup.d/kube, or one on $PATH
// outside CI (any kubectl with kustomize renders the same).
func kubectlPath(t testing.TB) string {
	t.Helper()
	p := kubeBin("kubectl")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if os.Getenv("CI") == "" {
		if p := findTool("kubectl"); p != "" {
			return p
		}
	}
	missingTool(t, "kubectl", ".ci/setup.d/kube")
	return ""
}

// run runs a command with a deadline and returns its stdout; stderr goes into
// the error.
func run(t testing.TB, stdin io.Reader, env []string, name string, args ...string) ([]byte, error) {
	t.Helper()
	return runCmd(stdin, "", env, name, args...)
}

// runIn is run in directory dir.
func runIn(t testing.TB, dir string, env []string, name string, args ...string) ([]byte, error) {
	t.Helper()
	return runCmd(nil, dir, env, name, args...)
}

func runCmd(stdin io.Reader, dir string, env []string, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute) // a cold go build on a busy machine
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Stdin = stdin
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.Bytes())
	}
	return stdout.Bytes(), nil
}

// mustRun is run that fails the test on error.
func mustRun(t testing.TB, stdin io.Reader, env []string, name string, args ...string) []byte {
	t.Helper()
	out, err := run(t, stdin, env, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// renderKustomize renders deploy/kubernetes/<dir>.
func renderKustomize(t testing.TB, dir string) []byte {
	t.Helper()
	return mustRun(t, nil, nil, kubectlPath(t), "kustomize", filepath.Join("kubernetes", dir))
}

// chartDir is the Helm chart.
const chartDir = "helm/skiff"

// testCluster is the cluster name the tests install the chart with: the
// chart requires config.cluster.
const testCluster = "test-cluster"

// withCluster prepends --set config.cluster=testCluster to args (a later
// --set config.cluster in args wins).
func withCluster(args ...string) []string {
	return append([]string{"--set", "config.cluster=" + testCluster}, args...)
}

// renderHelm renders the chart as release "skiff" in namespace "skiff" for
// cluster testCluster with the given --set/--values arguments.
func renderHelm(t testing.TB, args ...string) []byte {
	t.Helper()
	out, err := helmTemplate(t, withCluster(args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// helmTemplate is helm template with exactly the given arguments (no
// cluster name unless they set one).
func helmTemplate(t testing.TB, args ...string) ([]byte, error) {
	t.Helper()
	base := []string{"template", "skiff", chartDir, "--namespace", "skiff"}
	return run(t, nil, helmEnv(t), helmPath(t), append(base, args...)...)
}

// helmEnv keeps helm's caches and config inside the test's temp dir.
func helmEnv(t testing.TB) []string {
	dir := t.TempDir()
	return []string{
		"HELM_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"HELM_DATA_HOME=" + filepath.Join(dir, "data"),
	}
}

// parseObjects splits multi-document YAML into objects, skipping empty ones.
func parseObjects(t testing.TB, data []byte) []*unstructured.Unstructured {
	t.Helper()
	dec := k8syaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return objs
		}
		if err != nil {
			t.Fatalf("parse rendered YAML: %v", err)
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}
