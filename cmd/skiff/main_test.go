package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// skiffBin is the skiff binary built once by TestMain; the end-to-end tests
// run it as a user would.
var skiffBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	// Tests talk to loopback only.
	dialer := &net.Dialer{Control: func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("test dialed %s: only loopback is allowed", address)
		}
		return nil
	}}
	http.DefaultTransport.(*http.Transport).DialContext = dialer.DialContext

	dir, err := os.MkdirTemp("", "skiff-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	skiffBin = filepath.Join(dir, "skiff")
	build := exec.Command("go", "build", "-o", skiffBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "build skiff: %v\n", err)
		return 1
	}
	// Written out, as an image's binary is on a node: the agent releases
	// the pages of its executable that it does not use, which the kernel
	// can drop only once they are on disk.
	if err := syncFile(skiffBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// runBin runs the built binary to completion with env (nothing else of
// the test's environment) and returns its exit code and output.
func runBin(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	cmd := exec.CommandContext(context.Background(), skiffBin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String(), errb.String()
	} else if err != nil {
		t.Fatalf("run skiff %v: %v", args, err)
	}
	return 0, out.String(), errb.String()
}

// TestValidateBinary is the table of what `skiff validate` tells a person
// for each mistake, exactly.
func TestValidateBinary(t *testing.T) {
	dir := t.TempDir()
	env := []string{"AWS_REGION=eu-west-1", "BUF=lots"}
	for _, tc := range []struct {
		name, yaml string
		flags      []string
		want       string
	}{
		{"typo", "tail:\n  inclde: [/var/log/containers/*.log]\n", nil,
			`%s:2: tail.inclde: unknown key (did you mean "tail.include"?)`},
		{"misplaced key", "region: eu-west-1\n", nil,
			`%s:1: region: unknown key (did you mean "cloudwatch.region"?)`},
		{"duration", "shutdown_timeout: 25\n", nil,
			`%s:1: shutdown_timeout: "25" is not a duration: add a unit, as in 25s or 25ms`},
		{"size from env", "cloudwatch:\n  buffer_bytes: ${BUF}\n", nil,
			`%s:2: cloudwatch.buffer_bytes: "lots" is not a size (examples: 65536, 512Ki, 64Mi, 64MiB, 64M, 1Gi) (expanded from "${BUF}")`},
		{"choice", "output: kafka\n", nil,
			`%s:1: output: "kafka" is not one of cloudwatch, stdout, file`},
		{"bad template", "cloudwatch:\n  log_group: /aws/{cluster/app\n", nil,
			`%s:2: cloudwatch.log_group: invalid template "/aws/{cluster/app": '{' at byte 5 is not closed`},
		{"unknown template field", "cloudwatch:\n  log_stream: \"{kubernetes.pod}\"\n", nil,
			`%s:2: cloudwatch.log_stream: invalid template "{kubernetes.pod}": unknown field {kubernetes.pod}`},
		{"region missing", "cloudwatch:\n  region: ${NO_SUCH_VAR}\n", []string{"--region", ""},
			`flag --region: cloudwatch.region: not set, and neither is AWS_REGION: set cloudwatch.region, AWS_REGION or --region`},
		{"flag", "", []string{"--log-level", "loud"},
			`flag --log-level: log.level: "loud" is not one of debug, info, warn, error`},
		{"yaml", "tail:\n  include: /a\n exclude: /b\n", nil,
			`%s:2: did not find expected key`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"validate", "--config", path}, tc.flags...)
			code, _, stderr := runBin(t, env, args...)
			want := tc.want
			if strings.Contains(want, "%s") {
				want = fmt.Sprintf(want, path)
			}
			if code != exitConfig || strings.TrimSpace(stderr) != want {
				t.Errorf("skiff validate = %d\n%s\nwant %d\n%s", code, stderr, exitConfig, want)
			}
		})
	}
}

func TestValidateExampleBinary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skiff.yaml")
	if err := os.WriteFile(path, exampleConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runBin(t, []string{"AWS_REGION=eu-west-1"}, "validate", "--config", path); code != 0 || stdout != path+": ok\n" {
		t.Errorf("skiff validate example = %d, %q, %q", code, stdout, stderr)
	}
}
