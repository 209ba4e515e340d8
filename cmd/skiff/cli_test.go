package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func runForTest(t *testing.T, getenv func(string) string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, getenv, &out, &errb)
	return code, out.String(), errb.String()
}

func TestValidateExample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "skiff.yaml")
	if err := os.WriteFile(path, exampleConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runForTest(t, envOf("AWS_REGION", "eu-central-1"), "validate", "--config", path)
	if code != exitOK || !strings.HasSuffix(out, ": ok\n") {
		t.Fatalf("validate example = %d, %q, %q", code, out, errs)
	}
	code, _, errs = runForTest(t, envOf(), "validate", "--config", path)
	line := 1 + bytes.Count(exampleConfig[:bytes.Index(exampleConfig, []byte("  region: "))], []byte("\n"))
	want := fmt.Sprintf("%s:%d: cloudwatch.region: not set, and neither is AWS_REGION: set cloudwatch.region, AWS_REGION or --region\n", path, line)
	if code != exitConfig || errs != want {
		t.Errorf("validate without a region = %d, %q; want %d, %q", code, errs, exitConfig, want)
	}
	code, _, errs = runForTest(t, envOf(), "validate", "--config", path, "--region", "us-west-2", "--output", "nowhere")
	want = "flag --output: output: \"nowhere\" is not one of cloudwatch, stdout, file\n"
	if code != exitConfig || errs != want {
		t.Errorf("validate with flags = %d, %q; want %d, %q", code, errs, exitConfig, want)
	}
}

func TestUsage(t *testing.T) {
	if code, _, errs := runForTest(t, envOf()); code != exitUsage || !strings.Contains(errs, "skiff demo") {
		t.Errorf("no args = %d, %q", code, errs)
	}
	if code, _, errs := runForTest(t, envOf(), "frobnicate"); code != exitUsage || !strings.HasPrefix(errs, `skiff: unknown command "frobnicate"`) {
		t.Errorf("unknown command = %d, %q", code, errs)
	}
	if code, out, _ := runForTest(t, envOf(), "version"); code != exitOK || !strings.HasPrefix(out, "skiff ") {
		t.Errorf("version = %d, %q", code, out)
	}
}

// TestSubcommandHelp: every subcommand's --help says what it does and shows
// examples before its flags.
func TestSubcommandHelp(t *testing.T) {
	for _, cmd := range []string{"run", "validate", "config", "tail", "demo", "migrate", "top"} {
		code, _, stderr := runForTest(t, envOf(), cmd, "--help")
		if code != exitOK {
			t.Errorf("skiff %s --help: exit %d; want %d", cmd, code, exitOK)
		}
		for _, want := range []string{"usage: skiff " + cmd, "\nExamples:\n  skiff ", "\nFlags:\n"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("skiff %s --help lacks %q:\n%s", cmd, want, stderr)
			}
		}
	}
}
