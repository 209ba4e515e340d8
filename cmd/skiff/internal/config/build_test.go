package config

import "testing"

// With output cloudwatch, the destination annotations are judged by the
// CloudWatch sink's naming rules (templates allowed); with another output
// they pass through.
func TestEnrichJudgesDestinationsForCloudWatch(t *testing.T) {
	cfg := Default(env("AWS_REGION", "eu-west-1"))
	ec := cfg.EnrichConfig()
	if ec.CheckLogGroup == nil || ec.CheckLogStream == nil {
		t.Fatal("output cloudwatch: no destination checks")
	}
	for _, tc := range []struct {
		check func(string) error
		v     string
		ok    bool
	}{
		{ec.CheckLogGroup, "/team/{kubernetes.namespace_name}", true},
		{ec.CheckLogGroup, "bad group", false},
		{ec.CheckLogStream, "web-{kubernetes.pod_name}", true},
		{ec.CheckLogStream, "web {x}", false},
	} {
		if err := tc.check(tc.v); (err == nil) != tc.ok {
			t.Errorf("check(%q) = %v; want ok %v", tc.v, err, tc.ok)
		}
	}
	cfg.Output = OutputStdout
	if ec := cfg.EnrichConfig(); ec.CheckLogGroup != nil || ec.CheckLogStream != nil {
		t.Error("output stdout: destination annotations judged by CloudWatch's rules")
	}
}

// Every component field error names the file's key.
func TestComponentErrorsNameKeys(t *testing.T) {
	cfg := Default(env("AWS_REGION", "eu-west-1"))
	cfg.Tail.ReadBudget = 1
	cfg.Tail.ReadFrom = "middle"
	cfg.Kubernetes.ExcludeAnnotations = []string{"a*b"}
	cfg.CloudWatch.MaxConcurrency = -1
	cfg.File.Format = "xml"
	cfg.Stdout.Parse = "csv"
	want := map[string]bool{
		"tail.read_budget": true, "tail.read_from": true, "kubernetes.exclude_annotations": true,
		"cloudwatch.max_concurrency": true, "file.format": true, "stdout.parse": true,
	}
	for _, fe := range cfg.componentErrors() {
		if !want[fe.Key] {
			t.Errorf("unexpected %v", fe)
		}
		delete(want, fe.Key)
	}
	for k := range want {
		t.Errorf("no error for %s", k)
	}
}
