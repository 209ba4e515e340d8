package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	cliAccessKey = "AKIDCLITEST"
	cliSecretKey = "cli/secret/key"
)

// startBinary builds cmd/cwlocal, runs it with args on a random loopback
// port and returns its URL and CA file (when --tls).
func startBinary(t *testing.T, args ...string) (url, caFile string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cwlocal")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, append([]string{"--listen", "127.0.0.1:0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil {
			t.Errorf("cwlocal did not exit cleanly on SIGINT: %v", err)
		}
	})
	lines := bufio.NewScanner(stderr)
	re := regexp.MustCompile(`msg="cwlocal listening" url=(\S+) ca_file=(\S*)`)
	for lines.Scan() {
		if m := re.FindStringSubmatch(lines.Text()); m != nil {
			go io.Copy(io.Discard, stderr)
			return m[1], m[2]
		}
	}
	t.Fatalf("cwlocal exited without a listening line: %v", lines.Err())
	return "", ""
}

// awsCLI finds the AWS CLI v2 (Debian's awscli is /usr/bin/aws; a pyenv
// shim earlier on PATH may be v1).
func awsCLI(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/aws", "aws"} {
		path, err := exec.LookPath(p)
		if err != nil {
			continue
		}
		out, err := exec.Command(path, "--version").CombinedOutput()
		if err == nil && strings.HasPrefix(string(out), "aws-cli/2.") {
			return path
		}
	}
	msg := "AWS CLI v2 not found (want /usr/bin/aws from the Debian package awscli; run .ci/setup.d/awscli)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestAWSCLI drives the real AWS CLI v2 against the built binary over HTTPS
// with signature checks: the CLI's own SigV4 signer and JSON must pass.
func TestAWSCLI(t *testing.T) {
	aws := awsCLI(t)
	url, caFile := startBinary(t, "--tls", "--access-key", cliAccessKey, "--secret-key", cliSecretKey)
	if caFile == "" {
		t.Fatal("no CA file logged")
	}
	home := t.TempDir()
	run := func(secret string, args ...string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, aws, append([]string{"logs", "--endpoint-url", url, "--output", "json"}, args...)...)
		cmd.Env = []string{
			"HOME=" + home, "PATH=" + os.Getenv("PATH"),
			"AWS_ACCESS_KEY_ID=" + cliAccessKey, "AWS_SECRET_ACCESS_KEY=" + secret,
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CA_BUNDLE=" + caFile, "AWS_PAGER=",
			"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
			"AWS_EC2_METADATA_DISABLED=true", "AWS_RETRY_MODE=standard", "AWS_MAX_ATTEMPTS=1",
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run(cliSecretKey, args...)
		if err != nil {
			t.Fatalf("aws logs %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	now := time.Now().UnixMilli()
	must("create-log-group", "--log-group-name", "/cli/test")
	must("create-log-stream", "--log-group-name", "/cli/test", "--log-stream-name", "node-a.pod.ctr")
	out := must("put-log-events", "--log-group-name", "/cli/test", "--log-stream-name", "node-a.pod.ctr", "--log-events",
		fmt.Sprintf("timestamp=%d,message=hello", now), fmt.Sprintf("timestamp=%d,message=world", now+1))
	var put struct {
		NextSequenceToken string `json:"nextSequenceToken"`
	}
	if err := json.Unmarshal([]byte(out), &put); err != nil || len(put.NextSequenceToken) != 56 {
		t.Errorf("put-log-events output %q: %v", out, err)
	}
	// The reads and the error cases are independent: run them at once (the
	// CLI takes seconds to start).
	type result struct {
		out string
		err error
	}
	calls := map[string][]string{
		"get":    {cliSecretKey, "get-log-events", "--log-group-name", "/cli/test", "--log-stream-name", "node-a.pod.ctr", "--start-from-head"},
		"filter": {cliSecretKey, "filter-log-events", "--log-group-name", "/cli/test", "--filter-pattern", "world"},
		"dup":    {cliSecretKey, "create-log-group", "--log-group-name", "/cli/test"},
		"secret": {"wrong-secret", "describe-log-groups"},
	}
	results := make(map[string]result)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, args := range calls {
		wg.Go(func() {
			out, err := run(args[0], args[1:]...)
			mu.Lock()
			results[name] = result{out, err}
			mu.Unlock()
		})
	}
	wg.Wait()

	r := results["get"]
	var get struct {
		Events []struct {
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.out), &get); r.err != nil || err != nil || len(get.Events) != 2 ||
		get.Events[0].Message != "hello" || get.Events[1].Message != "world" || get.Events[0].Timestamp != now {
		t.Errorf("get-log-events: %v %v\n%s", r.err, err, r.out)
	}
	r = results["filter"]
	var filter struct {
		Events []struct {
			LogStreamName string `json:"logStreamName"`
			Message       string `json:"message"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.out), &filter); r.err != nil || err != nil || len(filter.Events) != 1 ||
		filter.Events[0].Message != "world" || filter.Events[0].LogStreamName != "node-a.pod.ctr" {
		t.Errorf("filter-log-events: %v %v\n%s", r.err, err, r.out)
	}

	// Errors as the CLI shows them for AWS.
	var ee *exec.ExitError
	r = results["dup"]
	if !errors.As(r.err, &ee) || !strings.Contains(r.out, "(ResourceAlreadyExistsException) when calling the CreateLogGroup operation") ||
		!strings.Contains(r.out, "The specified log group already exists") {
		t.Errorf("duplicate group: %v\n%s", r.err, r.out)
	}
	r = results["secret"]
	if !errors.As(r.err, &ee) || !strings.Contains(r.out, "(InvalidSignatureException) when calling the DescribeLogGroups operation") {
		t.Errorf("wrong secret: %v\n%s", r.err, r.out)
	}
}
