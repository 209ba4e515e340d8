package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/enrich"
	"github.com/skiff-agent/skiff/enrich/kubetest"
)

// TestWiringWithEnrichment runs the pipeline in process (tailer → enrich
// → stdout sink) over a node layout, with a fake API server that knows the
// pod: the records come out with the pod's labels.
func TestWiringWithEnrichment(t *testing.T) {
	root := t.TempDir()
	const uid = "0f4b6b9e-5a8e-4c1e-9a59-3c8f1f2f7a11"
	podDir := filepath.Join(root, "pods", "shop_web-1_"+uid, "app")
	if err := os.MkdirAll(podDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "containers"), 0o755); err != nil {
		t.Fatal(err)
	}
	lines := "2026-11-26T10:00:00.000000001Z stdout F hello from web-1\n" +
		"2026-11-26T10:00:00.000000002Z stderr F second line\n"
	if err := os.WriteFile(filepath.Join(podDir, "0.log"), []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "containers", "web-1_shop_app-"+strings.Repeat("ab", 32)+".log")
	if err := os.Symlink(filepath.Join(podDir, "0.log"), link); err != nil {
		t.Fatal(err)
	}
	cs := fake.NewClientset(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", Namespace: "shop", UID: uid, Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{Name: "app", Image: "shop/web:1.2"}}},
	})
	client := &enrich.Client{Pods: kubetest.Pods(cs), Namespaces: kubetest.Namespaces(cs)}

	cfg := config.Default(nil)
	cfg.NodeName = "node-1"
	cfg.Output = config.OutputStdout
	cfg.HTTP.Listen = "off"
	cfg.Kubernetes.Enabled = true
	cfg.Kubernetes.Labels = true
	cfg.Inputs = nil // the machine's own journal stays out of the records
	cfg.Tail.Include = []string{filepath.Join(root, "containers", "*.log")}
	cfg.Tail.StateDir = ""
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatal(errs[0])
	}
	var out bytes.Buffer
	a, err := newAgent(context.Background(), cfg, deps{
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), reg: newRegistry(readBuildInfo()), stdout: &out,
		kubeClient: func(string) (*enrich.Client, error) { return client, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // read what is there, as `skiff tail` does, and stop
	if err := a.pipe.run(ctx); err != nil {
		t.Fatalf("run = %v", err)
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(got) != 2 {
		t.Fatalf("got %d records; want 2:\n%s", len(got), out.String())
	}
	for _, want := range []string{`"log":"hello from web-1"`, `"pod_name":"web-1"`, `"namespace_name":"shop"`, `"labels":{"app":"web"}`, `"host":"node-1"`} {
		if !strings.Contains(got[0], want) {
			t.Errorf("record %s lacks %s", got[0], want)
		}
	}
}
