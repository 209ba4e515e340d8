package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/cmd/skiff/internal/fluentbit"
	"github.com/skiff-agent/skiff/sinks/cloudwatch"
	"github.com/skiff-agent/skiff/tailer"
)

// migrateCases are the configurations of testdata/migrate (see its
// README): real ones from public repositories, a YAML rendering of
// Container Insights', and one written to hold a case of everything.
var migrateCases = []struct {
	name, path string
	code       int
}{
	{"container-insights", "container-insights/fluent-bit.conf", exitOK},
	{"container-insights-yaml", "container-insights-yaml/fluent-bit.yaml", exitOK},
	{"fluent-bit-helm", "fluent-bit-helm/fluent-bit.conf", exitIncomplete},
	{"aws-k8s-metadata-customize-cw", "aws-k8s-metadata-customize-cw/fluent-bit.conf", exitIncomplete},
	{"aws-k8s-metadata-customize-tag", "aws-k8s-metadata-customize-tag/fluent-bit.conf", exitIncomplete},
	{"features", "features/fluent-bit.conf", exitIncomplete},
}

// podEnv is what skiff's chart gives a pod, as skiff validate would see
// the migrated file on a node.
var podEnv = envOf("KUBERNETES_SERVICE_HOST", "10.100.0.1", "CLUSTER_NAME", "prod", "AWS_REGION", "eu-west-1", "NODE_NAME", "ip-10-0-1-5")

// migrate runs skiff migrate --out on a testdata/migrate configuration and
// returns the exit code, the file written and the report.
func migrate(t *testing.T, path string, flags ...string) (code int, out []byte, report string) {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "skiff.yaml")
	args := append(append([]string{"migrate", "--out", dst}, flags...), filepath.Join("testdata", "migrate", path))
	code, stdout, stderr := runForTest(t, envOf(), args...)
	if stdout != "" {
		t.Errorf("skiff migrate --out wrote to stdout: %q", stdout)
	}
	out, err := os.ReadFile(dst)
	if err != nil && code != exitConfig && code != exitUsage {
		t.Fatalf("skiff migrate = %d and wrote no file: %v\n%s", code, err, stderr)
	}
	return code, out, stderr
}

// Each configuration's translation and report are the golden files
// testdata/migrate/NAME.skiff.yaml and NAME.report (go test -run
// TestMigrateGolden -update rewrites them), skiff validate takes the
// translation, and the exit code says whether something that matters was
// left out.
func TestMigrateGolden(t *testing.T) {
	for _, c := range migrateCases {
		t.Run(c.name, func(t *testing.T) {
			code, out, report := migrate(t, c.path)
			if code != c.code {
				t.Errorf("skiff migrate %s = %d; want %d\n%s", c.path, code, c.code, report)
			}
			golden(t, filepath.Join("testdata", "migrate", c.name+".skiff.yaml"), out)
			golden(t, filepath.Join("testdata", "migrate", c.name+".report"), []byte(report))

			path := filepath.Join(t.TempDir(), "skiff.yaml")
			if err := os.WriteFile(path, out, 0o600); err != nil {
				t.Fatal(err)
			}
			if code, _, errs := runForTest(t, podEnv, "validate", path); code != exitOK {
				t.Errorf("skiff validate of the translation of %s = %d\n%s\n%s", c.path, code, errs, out)
			}
			incomplete := strings.Contains(string(out), "# INCOMPLETE:")
			if incomplete != (c.code == exitIncomplete) || strings.Contains(report, "NOT TRANSLATED") != incomplete {
				t.Errorf("%s: exit %d, but the file says INCOMPLETE: %v and the report NOT TRANSLATED: %v", c.path, code, incomplete, !incomplete)
			}
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run TestMigrateGolden -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -run TestMigrateGolden -update rewrites it); got:\n%s", path, got)
	}
}

// skiff's defaults are Container Insights' layout: migrating Container
// Insights' own Fluent Bit configuration (classic or YAML) keeps every
// default destination, input and journal selection, and the two formats
// translate to the same configuration.
func TestMigrateContainerInsightsIsDefault(t *testing.T) {
	def := config.Default(podEnv)
	var loaded []config.Config
	for _, path := range []string{"container-insights/fluent-bit.conf", "container-insights-yaml/fluent-bit.yaml"} {
		code, out, report := migrate(t, path)
		if code != exitOK {
			t.Fatalf("skiff migrate %s = %d\n%s", path, code, report)
		}
		cfg, err := config.Load("skiff.yaml", out, podEnv)
		if err != nil {
			t.Fatalf("%s: %v\n%s", path, err, out)
		}
		loaded = append(loaded, cfg)
		if cfg.CloudWatch.LogGroup != def.CloudWatch.LogGroup || cfg.CloudWatch.LogStream != def.CloudWatch.LogStream {
			t.Errorf("%s: application destination %s %s; want skiff's default %s %s", path,
				cfg.CloudWatch.LogGroup, cfg.CloudWatch.LogStream, def.CloudWatch.LogGroup, def.CloudWatch.LogStream)
		}
		if !reflect.DeepEqual(cfg.Tail.Include, def.Tail.Include) {
			t.Errorf("%s: tail.include %v; want %v", path, cfg.Tail.Include, def.Tail.Include)
		}
		if len(cfg.Inputs) != len(def.Inputs) {
			t.Errorf("%s: inputs %v; want skiff's default inputs", path, cfg.Inputs)
		}
		for name, want := range def.Inputs {
			got := cfg.Inputs[name]
			if got.Enabled != want.Enabled || got.Type != want.Type || got.LogGroup != want.LogGroup || got.LogStream != want.LogStream ||
				!reflect.DeepEqual(got.Include, want.Include) || !reflect.DeepEqual(got.Match, want.Match) ||
				got.Priority != want.Priority || !reflect.DeepEqual(got.Not, want.Not) || got.EC2Metadata != want.EC2Metadata {
				t.Errorf("%s: inputs.%s = %+v; want skiff's default %+v", path, name, got, want)
			}
		}
		// And the names they render, for a pod on this node.
		link := "/var/log/containers/web-1_shop_app-" + strings.Repeat("0", 64) + ".log"
		rec := &tailer.Record{Stream: tailer.Stdout, File: &tailer.FileMeta{Path: link, Namespace: "shop", Pod: "web-1",
			Container: "app", ContainerID: strings.Repeat("0", 64), Input: config.ApplicationInput, Tag: tailer.Tag(link)}}
		group, stream, err := cloudwatch.Destination(cfg.CloudWatchConfig(), rec)
		if err != nil || group != "/aws/containerinsights/prod/application" || stream != "ip-10-0-1-5-application.var.log.containers.web-1_shop_app-"+strings.Repeat("0", 64)+".log" {
			t.Errorf("%s: a pod's lines go to %s %s (%v); want Container Insights' names", path, group, stream, err)
		}
	}
	if len(loaded) == 2 && !reflect.DeepEqual(loaded[0], loaded[1]) {
		t.Errorf("the classic and YAML forms of Container Insights' configuration translate differently:\n%+v\n%+v", loaded[0], loaded[1])
	}
}

func TestMigrateCommand(t *testing.T) {
	path := filepath.Join("testdata", "migrate", "container-insights", "fluent-bit.conf")
	// Without --out the file goes to stdout, the report to stderr.
	code, stdout, stderr := runForTest(t, envOf(), "migrate", "--set", "READ_FROM_HEAD=Off", "--set", "HTTP_SERVER=On", path)
	if code != exitOK || !strings.Contains(stdout, "  read_from: end\n") || !strings.Contains(stdout, "  listen: 0.0.0.0:2021\n") ||
		!strings.HasPrefix(stderr, "skiff migrate "+path) {
		t.Errorf("skiff migrate --set = %d\n%s\n%s", code, stdout, stderr)
	}
	// --env takes what --set does not give from the environment.
	code, stdout, _ = runForTest(t, envOf("READ_FROM_HEAD", "On"), "migrate", "--env", path)
	if code != exitOK || strings.Contains(stdout, "read_from") {
		t.Errorf("skiff migrate --env with READ_FROM_HEAD=On = %d, wrote read_from:\n%s", code, stdout)
	}
	if code, stdout, _ := runForTest(t, envOf(), "migrate", "--help"); code != exitOK || stdout != "" {
		t.Errorf("skiff migrate --help = %d, %q", code, stdout)
	}
	if _, _, stderr := runForTest(t, envOf(), "migrate", "--help"); !strings.Contains(stderr, "Examples:\n  skiff migrate ") {
		t.Errorf("skiff migrate --help printed\n%s\nwant a description and examples", stderr)
	}
	if code, _, _ := runForTest(t, envOf()); code != exitUsage {
		t.Errorf("skiff = %d", code)
	}
	for _, args := range [][]string{{"migrate"}, {"migrate", "a.conf", "b.conf"}, {"migrate", "--set", "X", path}} {
		if code, _, _ := runForTest(t, envOf(), args...); code != exitUsage {
			t.Errorf("skiff %v = %d; want %d", args, code, exitUsage)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "fluent-bit.conf")
	if err := os.WriteFile(bad, []byte("[INPUT]\nName tail\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "missing.conf"), bad} {
		if code, _, stderr := runForTest(t, envOf(), "migrate", p); code != exitConfig || !strings.HasPrefix(stderr, "skiff migrate: "+p) {
			t.Errorf("skiff migrate %s = %d, %q; want %d and where", p, code, stderr, exitConfig)
		}
	}
}

// The environment skiff migrate validates in is the one the tests use.
func TestMigratePodEnv(t *testing.T) {
	for _, k := range []string{"KUBERNETES_SERVICE_HOST", "CLUSTER_NAME", "AWS_REGION", "NODE_NAME"} {
		if fluentbit.PodEnv(k) == "" || podEnv(k) == "" {
			t.Errorf("%s is not set in a pod's environment", k)
		}
	}
}
