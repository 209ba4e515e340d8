package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestValidateAndRunAgree runs the built binary's `skiff validate` and
// `skiff run` over the same files: a file validate accepts starts the
// agent (which then stops on SIGTERM with exit 0), and a file it refuses
// makes run refuse it too, before starting anything, with the same
// message and exit code. The bad files hold the mistakes that used to pass
// one and fail the other, and those that used to hide each other.
func TestValidateAndRunAgree(t *testing.T) {
	dir := t.TempDir()
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	// Every run starts from a runnable base: nothing to read, no
	// checkpoints, an ephemeral port, a CloudWatch endpoint on loopback
	// that is never called since there are no records.
	base := "http:\n  listen: 127.0.0.1:0\nlog:\n  format: json\n"
	flags := []string{"--include", filepath.Join(logs, "*.log"), "--state-dir", ""}
	env := []string{"AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test"}
	tests := []struct {
		name, yaml string
		ok         bool
	}{
		{"defaults", "", true},
		{"cloudwatch on loopback", "cloudwatch:\n  endpoint: http://127.0.0.1:1\n  retention_days: 30\n", true},
		{"stdout", "output: stdout\n", true},
		{"sizes in Kubernetes units", "tail:\n  read_budget: 1Mi\n  max_deleted_bytes: 512M\ncloudwatch:\n  buffer_bytes: 64M\n", true},
		{"sizes in bytes and IEC units", "tail:\n  read_budget: 65536\ncloudwatch:\n  buffer_bytes: 64MiB\n", true},
		{"cluster with a fallback", "cluster: ${CLUSTER_NAME:-prod}\n", true},
		{"read budget above the tailer's limit", "tail:\n  read_budget: 128MiB\n", false},
		{"max line below the tailer's limit", "tail:\n  max_line_bytes: 100\n", false},
		{"misspelt output and bad retention", "output: cloudwatc\ncloudwatch:\n  retention_days: 45\n", false},
		{"stdout output and a bad cloudwatch section", "output: stdout\ncloudwatch:\n  retention_days: 45\n  log_stream: \"{nope}\"\n", false},
		{"cluster from an unset variable", "cluster: ${CLUSTER_NAME}\n", false},
		{"file output without a path", "output: file\n", false},
		{"bad format of an unused output", "file:\n  format: xml\nstdout:\n  parse: logfmt\n", false},
		{"bad label pattern with enrichment off", "kubernetes:\n  exclude_labels: [\"a*b*\"]\n", false},
		{"endpoint without a scheme", "cloudwatch:\n  endpoint: localhost:4566\n", false},
		{"group class", "cloudwatch:\n  log_group_class: DELIVERY\n", false},
		{"external id without a role", "cloudwatch:\n  external_id: x\n", false},
		{"buffer below two batches", "cloudwatch:\n  buffer_bytes: 1Mi\n", false},
		{"zero open files", "tail:\n  max_open_files: 0\n", false},
	}
	// Files with several problems: every one is reported.
	reported := map[string][]string{
		"misspelt output and bad retention":          {"output", "cloudwatch.retention_days"},
		"stdout output and a bad cloudwatch section": {"cloudwatch.retention_days", "cloudwatch.log_stream"},
		"bad format of an unused output":             {"file.format", "stdout.parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(base+tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"--config", path}, flags...)
			vcode, vout, verr := runBin(t, env, append([]string{"validate"}, args...)...)
			if tc.ok {
				if vcode != exitOK || vout != path+": ok\n" {
					t.Fatalf("skiff validate = %d, %q, %q; want ok", vcode, vout, verr)
				}
				if code, stderr := runUntilServing(t, env, args); code != exitOK {
					t.Errorf("skiff run = %d after SIGTERM; want 0 since validate passed\n%s", code, stderr)
				}
				return
			}
			if vcode != exitConfig || verr == "" {
				t.Fatalf("skiff validate = %d, %q; want %d and the problems", vcode, verr, exitConfig)
			}
			for _, key := range reported[tc.name] {
				if !strings.Contains(verr, ": "+key+": ") {
					t.Errorf("skiff validate says\n%s\nwant a problem with %s too", verr, key)
				}
			}
			rcode, _, rerr := runBin(t, env, append([]string{"run"}, args...)...)
			if rcode != exitConfig || rerr != verr {
				t.Errorf("skiff run = %d\n%s\nwant %d and what validate says\n%s", rcode, rerr, exitConfig, verr)
			}
		})
	}
}

// runUntilServing starts `skiff run args...`, waits for it to serve
// its HTTP port (every component was built), sends SIGTERM and returns the
// exit code and stderr. A run that exits before serving returns its code.
func runUntilServing(t *testing.T, env, args []string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, skiffBin, append([]string{"run"}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	cmd.Stderr = io.MultiWriter(pw, &stderr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	serving := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			if !found && strings.Contains(sc.Text(), "serving /metrics") {
				found = true
				close(serving)
			}
		}
	})
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
	var err error
	select {
	case <-serving:
		if serr := cmd.Process.Signal(syscall.SIGTERM); serr != nil {
			t.Fatal(serr)
		}
		err = <-exited
	case err = <-exited:
	case <-ctx.Done():
		err = <-exited
	}
	wg.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stderr.String()
	} else if err != nil {
		t.Fatalf("skiff run: %v", err)
	}
	return exitOK, stderr.String()
}
