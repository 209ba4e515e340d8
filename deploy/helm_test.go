package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestHelmLint(t *testing.T) {
	out := mustRun(t, nil, helmEnv(t), helmPath(t), "lint", "--strict", chartDir)
	if !bytes.Contains(out, []byte("0 chart(s) failed")) {
		t.Errorf("helm lint:\n%s", out)
	}
	for _, values := range []string{
		"serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboards.enabled=true",
		"config.kubernetes.namespace_metadata=true,config.output=stdout",
	} {
		out := mustRun(t, nil, helmEnv(t), helmPath(t), "lint", "--strict", chartDir, "--set", values)
		if !bytes.Contains(out, []byte("0 chart(s) failed")) {
			t.Errorf("helm lint --set %s:\n%s", values, out)
		}
	}
}

func TestHelmDefault(t *testing.T) {
	r := load(t, renderHelm(t))
	checkInvariants(t, r)
	if r.ds.Name != "skiff" || r.ds.Namespace != "skiff" {
		t.Errorf("DaemonSet %s/%s; want skiff/skiff for release skiff in namespace skiff", r.ds.Namespace, r.ds.Name)
	}
	for _, u := range r.objs {
		switch u.GetKind() {
		case "ServiceMonitor", "PrometheusRule", "Service":
			t.Errorf("%s rendered by default", u.GetKind())
		}
	}
}

// A config change must change the pod template, so that pods roll.
func TestHelmChecksumConfig(t *testing.T) {
	a := load(t, renderHelm(t)).ds.Spec.Template.Annotations["checksum/config"]
	b := load(t, renderHelm(t, "--set", "config.log.level=debug")).ds.Spec.Template.Annotations["checksum/config"]
	if a == "" || a == b {
		t.Errorf("checksum/config = %q, then %q after a config change; want set and different", a, b)
	}
}

func TestHelmVariants(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		check func(*testing.T, *rendered)
	}{{
		name: "namespace metadata",
		args: []string{"--set", "config.kubernetes.namespace_metadata=true"},
	}, {
		name: "IRSA and cluster",
		args: []string{"--set", `serviceAccount.annotations.eks\.amazonaws\.com/role-arn=arn:aws:iam::111122223333:role/skiff`,
			"--set", "config.cluster=prod", "--set", "config.cloudwatch.region=eu-west-1"},
		check: func(t *testing.T, r *rendered) {
			if r.sa.Annotations["eks.amazonaws.com/role-arn"] == "" {
				t.Error("no IRSA annotation")
			}
			if r.config.Cluster != "prod" || r.config.CloudWatch.Region != "eu-west-1" {
				t.Errorf("cluster %q region %q", r.config.Cluster, r.config.CloudWatch.Region)
			}
		},
	}, {
		name: "other port and longer shutdown",
		args: []string{"--set", "config.http.listen=0.0.0.0:9100", "--set", "config.shutdown_timeout=55s",
			"--set", "terminationGracePeriodSeconds=60"},
	}, {
		name: "name override",
		args: []string{"--set", "nameOverride=logs"},
		check: func(t *testing.T, r *rendered) {
			if r.ds.Spec.Template.Annotations["skiff.io/exclude"] != "true" {
				t.Error("pods renamed away from app.kubernetes.io/name=skiff lack skiff.io/exclude")
			}
		},
	}, {
		name: "monitoring",
		args: []string{"--set", "serviceMonitor.enabled=true", "--set", "prometheusRule.enabled=true", "--set", "dashboards.enabled=true"},
		check: func(t *testing.T, r *rendered) {
			kinds := map[string]bool{}
			for _, u := range r.objs {
				kinds[u.GetKind()+"/"+u.GetName()] = true
			}
			for _, k := range []string{"Service/skiff", "ServiceMonitor/skiff", "PrometheusRule/skiff", "ConfigMap/skiff-dashboard"} {
				if !kinds[k] {
					t.Errorf("%s not rendered", k)
				}
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := load(t, renderHelm(t, tt.args...))
			checkInvariants(t, r)
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// The chart refuses values that would break the agent.
func TestHelmRefuses(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"grace equal to shutdown", []string{"--set", "terminationGracePeriodSeconds=25"}, "must be above config.shutdown_timeout"},
		{"shutdown above grace", []string{"--set", "config.shutdown_timeout=1m"}, "must be above config.shutdown_timeout"},
		{"unknown config key", []string{"--set", "config.tail.stat_dir=/x"}, "stat_dir"},
		{"unknown top-level key", []string{"--set", "tolerration=x"}, "tolerration"},
		{"bad duration", []string{"--set", "config.cloudwatch.flush_interval=5"}, "flush_interval"},
		{"listen without port", []string{"--set", "config.http.listen=off"}, "config.http.listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := helmTemplate(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("helm template %v: err = %v; want it to mention %q", tt.args, err, tt.want)
			}
		})
	}
}

// deploy/grafana/alerts.yaml is the chart's PrometheusRule for release skiff
// in namespace skiff, usable without the Prometheus Operator.
func TestAlertsMatchChart(t *testing.T) {
	r := load(t, renderHelm(t, "--set", "prometheusRule.enabled=true"))
	var spec any
	for _, u := range r.objs {
		if u.GetKind() == "PrometheusRule" {
			spec = u.Object["spec"]
		}
	}
	if spec == nil {
		t.Fatal("no PrometheusRule rendered")
	}
	var file any
	data, err := os.ReadFile("grafana/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalize(spec), normalize(file)) {
		got, _ := yaml.Marshal(spec)
		t.Errorf("grafana/alerts.yaml differs from the chart's PrometheusRule; the chart renders:\n%s", got)
	}
}

// normalize maps YAML decoders' map types onto one.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range v {
			m[k] = normalize(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = normalize(e)
		}
		return s
	case int64:
		return int(v)
	}
	return v
}

// The chart ships the dashboard of deploy/grafana.
func TestDashboardCopy(t *testing.T) {
	a, err := os.ReadFile("grafana/skiff-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(chartDir, "files", "skiff-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("helm/skiff/files/skiff-dashboard.json differs from grafana/skiff-dashboard.json; copy it")
	}
}
