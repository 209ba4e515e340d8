package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The agent carries no test equipment: neither the standard library's
// testing packages nor our own suites (sinks/sinktest, enrich/kubetest).
func TestNoTestPackagesInTheAgent(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		ours := strings.HasPrefix(pkg, "github.com/skiff-agent/skiff/")
		if pkg == "testing" || strings.HasPrefix(pkg, "testing/") || ours && strings.HasSuffix(pkg, "test") {
			t.Errorf("skiff depends on %s", pkg)
		}
	}
}
