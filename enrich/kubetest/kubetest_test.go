package kubetest

import (
	"strings"
	"testing"
)

func TestBinMissingNamesTheSetupScript(t *testing.T) {
	t.Setenv("SKIFF_KUBE_BIN", t.TempDir())
	_, err := Bin("kube-apiserver")
	if err == nil || !strings.Contains(err.Error(), SetupScript) {
		t.Errorf("Bin on an empty directory = %v; want an error naming %s", err, SetupScript)
	}
}

func TestBinDir(t *testing.T) {
	t.Setenv("SKIFF_KUBE_BIN", "")
	t.Setenv("XDG_CACHE_HOME", "/x/cache")
	if got := BinDir(); got != "/x/cache/skiff/kube/bin" {
		t.Errorf("BinDir = %s; want /x/cache/skiff/kube/bin", got)
	}
}

func TestStartInWithoutBinaries(t *testing.T) {
	t.Setenv("SKIFF_KUBE_BIN", t.TempDir())
	c, stop, err := StartIn(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), SetupScript) || c != nil || stop != nil {
		t.Errorf("StartIn without binaries = %v, %v; want no cluster and an error naming %s", c, err, SetupScript)
	}
}
