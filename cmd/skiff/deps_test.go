package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The agent carries no test equipment: neither the standard library's
// testing packages nor our own suites (sinks/sinktest, enrich/kubetest).
func TestNoTestPackagesInTheAgent(t *testing.T) {
	for _, pkg := range agentDeps(t) {
		ours := strings.HasPrefix(pkg, "github.com/skiff-agent/skiff/")
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") || ours && strings.HasSuffix(pkg, "test") {
			t.Errorf("skiff depends on %s", pkg)
		}
	}
}

// The agent reads core/v1 only. client-go's clientset registers every API
// group at start, about 10 MB of resident memory.
func TestNoClientsetInTheAgent(t *testing.T) {
	for _, pkg := range agentDeps(t) {
		if strings.HasPrefix(pkg, "k8s.io/client-go/kubernetes") || strings.HasPrefix(pkg, "k8s.io/api/") && pkg != "k8s.io/api/core/v1" {
			t.Errorf("skiff depends on %s", pkg)
		}
	}
}

// agentDeps returns the packages the agent is built from.
func agentDeps(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	return strings.Fields(string(out))
}
