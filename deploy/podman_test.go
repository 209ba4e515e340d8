package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// podman runs podman with its own storage under the tool cache (never the
// machine's default store), and the settings this kind of machine needs:
// runc (crun refuses cgroups v1 "hybrid" mode) and ulimits within the hard
// limits (raising them needs CAP_SYS_RESOURCE).
type podman struct {
	path, root, runroot string
}

func newPodman(t testing.TB) *podman {
	t.Helper()
	p := findTool("podman")
	if p == "" || findTool("runc") == "" {
		missingTool(t, "podman and runc", ".ci/setup.d/podman")
	}
	dir := filepath.Join(cacheDir(), "podman")
	return &podman{path: p, root: filepath.Join(dir, "storage"), runroot: filepath.Join(dir, "run")}
}

func (p *podman) cmd(t testing.TB, args ...string) ([]byte, error) {
	t.Helper()
	base := []string{"--root", p.root, "--runroot", p.runroot, "--runtime", "runc", "--cgroup-manager", "cgroupfs", "--events-backend", "none"}
	return run(t, nil, nil, p.path, append(base, args...)...)
}

// containerfile turns the Dockerfile's final stage into one that copies the
// builder's outputs from the build context instead of another stage.
func containerfile(t testing.TB) string {
	t.Helper()
	stages := parseDockerfile(t, filepath.Join("..", "Dockerfile"))
	var b strings.Builder
	for _, in := range stages[len(stages)-1] {
		args := in.args
		if in.cmd == "COPY" {
			from, rest, ok := strings.Cut(args, " ")
			if !ok || !strings.HasPrefix(from, "--from=") {
				t.Fatalf("Dockerfile line %d: final stage COPY %s; want --from=<builder>", in.line, args)
			}
			args = strings.ReplaceAll(rest, "/out/", "")
		}
		fmt.Fprintf(&b, "%s %s\n", in.cmd, args)
	}
	return b.String()
}

// The image runs the way the DaemonSet runs it: read-only root filesystem,
// no network, UID 0 without any capability, no privilege escalation.
func TestImageRuns(t *testing.T) {
	pm := newPodman(t)
	out := dockerBuild(t)
	cf := filepath.Join(out, "Containerfile")
	if err := os.WriteFile(cf, []byte(containerfile(t)), 0o644); err != nil {
		t.Fatal(err)
	}
	image := fmt.Sprintf("localhost/skiff-imagetest:%d", os.Getpid())
	if _, err := pm.cmd(t, "build", "--network=none", "--build-arg", "VERSION=imagetest", "-t", image, "-f", cf, out); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pm.cmd(t, "rmi", "-f", image) })

	inspect, err := pm.cmd(t, "image", "inspect", "--format", "{{.Config.User}} {{json .Config.Entrypoint}} {{index .Config.Labels \"org.opencontainers.image.version\"}}", image)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(inspect)), `0:0 ["/skiff"] imagetest`; got != want {
		t.Errorf("image config = %q; want %q", got, want)
	}

	// The DaemonSet's container settings.
	runArgs := func(extra ...string) []string {
		a := []string{"run", "--rm", "--network=none", "--read-only", "--read-only-tmpfs=false",
			"--user", "0:0", "--cap-drop=all", "--security-opt", "no-new-privileges",
			"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}
		return append(a, extra...)
	}

	t.Run("version", func(t *testing.T) {
		got, err := pm.cmd(t, append(runArgs(image), "version")...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(got), "skiff imagetest ") {
			t.Errorf("skiff version in the image = %q", got)
		}
	})

	// The base's ConfigMap, mounted as the DaemonSet mounts it, validates
	// inside the image (CA bundle, paths and environment as in the cluster).
	t.Run("validate config", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "skiff.yaml")
		data, err := os.ReadFile(filepath.Join("kubernetes", "base", "skiff.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(cfg, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// CLUSTER_NAME is the eks overlay's; the base names no cluster.
		args := runArgs("-v", filepath.Dir(cfg)+":/etc/skiff:ro", "-e", "NODE_NAME=node-a", "-e", "AWS_REGION=us-east-1",
			"-e", "KUBERNETES_SERVICE_HOST=10.96.0.1", "-e", "CLUSTER_NAME="+testCluster, image,
			"validate", "--config", "/etc/skiff/skiff.yaml")
		if got, err := pm.cmd(t, args...); err != nil {
			t.Errorf("%v\n%s", err, got)
		}
	})

	// skiff demo: a simulated node shipping to an in-process CloudWatch on
	// loopback. It needs scratch space for the simulated log files, so /tmp
	// is a tmpfs here; the agent itself writes only to /var/lib/skiff.
	t.Run("demo", func(t *testing.T) {
		got, err := pm.cmd(t, append(runArgs("--tmpfs", "/tmp:rw,size=64m", image), "demo", "--duration", "5s")...)
		if err != nil {
			t.Fatalf("%v\n%s", err, got)
		}
		if !regexp.MustCompile(`(?m)^\s*lost\s+0$`).Match(got) {
			t.Errorf("skiff demo in the image lost lines:\n%s", got)
		}
		t.Logf("skiff demo in the image:\n%s", got)
	})
}
