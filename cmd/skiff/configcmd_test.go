package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// skiff config prints what run would use: a file that validates and means
// the same, after defaults, environment and flags, and the destination of
// a sample pod.
func TestConfigCommand(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "skiff.yaml")
	src := "cluster: ${CLUSTER_NAME:-dev}\ncloudwatch:\n  log_stream: \"{kubernetes.namespace_name}/{kubernetes.pod_name}\"\n  buffer_bytes: 32Mi\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := envOf("AWS_REGION", "eu-west-1", "CLUSTER_NAME", "prod", "NODE_NAME", "node-1")
	var out, errb bytes.Buffer
	args := []string{"config", "--config", path, "--sample-namespace", "shop", "--sample-pod", "web-1", "--log-level", "debug"}
	if code := run(context.Background(), args, getenv, &out, &errb); code != exitOK {
		t.Fatalf("skiff config = %d\n%s", code, errb.String())
	}
	for _, want := range []string{
		"cluster: prod\n", "node_name: node-1\n", "  level: debug\n", "  buffer_bytes: 32MiB\n", "  region: eu-west-1\n",
		"#   log group:  /aws/containerinsights/prod/application\n", "#   log stream: shop/web-1\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("skiff config printed\n%s\nwant it to hold %q", out.String(), want)
		}
	}
	// What it prints is a configuration that validates, in an environment
	// that no longer supplies anything.
	printed := filepath.Join(dir, "printed.yaml")
	if err := os.WriteFile(printed, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(context.Background(), []string{"validate", printed}, envOf(), &out, &errb); code != exitOK {
		t.Errorf("skiff validate of the printed config = %d\n%s", code, errb.String())
	}
	if code := run(context.Background(), []string{"config", "--config", path}, envOf(), &out, &errb); code != exitConfig {
		t.Errorf("skiff config without a region = %d; want %d as validate", code, exitConfig)
	}
}
