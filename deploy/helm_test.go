package deploy

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
)

func TestHelmLint(t *testing.T) {
	for _, values := range []string{
		"",
		"serviceMonitor.enabled=true,prometheusRule.enabled=true,dashboards.enabled=true",
		"config.kubernetes.namespace_metadata=true,config.output=stdout",
		"hostNetwork=true,hostPaths.journal=,config.journal.dirs={/var/log/journal}",
	} {
		args := append([]string{"lint", "--strict", chartDir}, withCluster()...)
		if values != "" {
			args = append(args, "--set", values)
		}
		out := mustRun(t, nil, helmEnv(t), helmPath(t), args...)
		if !bytes.Contains(out, []byte("0 chart(s) failed")) {
			t.Errorf("helm lint --set %s:\n%s", values, out)
		}
	}
}

func TestHelmDefault(t *testing.T) {
	r := load(t, renderHelm(t))
	checkInvariants(t, r)
	checkJournalMounts(t, r)
	checkContainerInsights(t, r)
	spec := r.ds.Spec.Template.Spec
	if spec.HostNetwork || spec.DNSPolicy != corev1.DNSClusterFirst {
		t.Errorf("hostNetwork %v, dnsPolicy %q; want false, ClusterFirst by default", spec.HostNetwork, spec.DNSPolicy)
	}
	// config.cluster is the config's cluster and the pod's CLUSTER_NAME.
	if e := r.env("CLUSTER_NAME"); r.config.Cluster != testCluster || e == nil || e.Value != testCluster {
		t.Errorf("cluster %q, env CLUSTER_NAME %+v; want both %q", r.config.Cluster, e, testCluster)
	}
	if r.effective.Cluster != testCluster {
		t.Errorf("effective cluster = %q; want %q", r.effective.Cluster, testCluster)
	}
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
		// Container Insights' Fluent Bit runs in the node's network.
		name: "host network",
		args: []string{"--set", "hostNetwork=true"},
		check: func(t *testing.T, r *rendered) {
			if spec := r.ds.Spec.Template.Spec; !spec.HostNetwork || spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
				t.Errorf("hostNetwork %v, dnsPolicy %q; want true, ClusterFirstWithHostNet", spec.HostNetwork, spec.DNSPolicy)
			}
		},
	}, {
		name: "host network, node DNS",
		args: []string{"--set", "hostNetwork=true", "--set", "dnsPolicy=Default"},
		check: func(t *testing.T, r *rendered) {
			if spec := r.ds.Spec.Template.Spec; !spec.HostNetwork || spec.DNSPolicy != corev1.DNSDefault {
				t.Errorf("hostNetwork %v, dnsPolicy %q; want true, Default", spec.HostNetwork, spec.DNSPolicy)
			}
		},
	}, {
		name: "dns policy without host network",
		args: []string{"--set", "dnsPolicy=ClusterFirstWithHostNet"},
		check: func(t *testing.T, r *rendered) {
			if spec := r.ds.Spec.Template.Spec; spec.HostNetwork || spec.DNSPolicy != corev1.DNSClusterFirstWithHostNet {
				t.Errorf("hostNetwork %v, dnsPolicy %q; want false, ClusterFirstWithHostNet", spec.HostNetwork, spec.DNSPolicy)
			}
		},
	}, {
		// A node that keeps its journal on disk only.
		name: "persistent journal only",
		args: []string{"--set", "hostPaths.journal=", "--set", "config.journal.dirs={/var/log/journal}"},
		check: func(t *testing.T, r *rendered) {
			for _, v := range r.ds.Spec.Template.Spec.Volumes {
				if v.HostPath != nil && v.HostPath.Path == "/run/log/journal" {
					t.Errorf("volume %s mounts /run/log/journal; want none with hostPaths.journal empty", v.Name)
				}
			}
		},
	}, {
		// The name from a variable the user supplies (here literally; in
		// practice from a ConfigMap such as fluent-bit-cluster-info): the
		// chart then sets no CLUSTER_NAME of its own.
		name: "cluster from the environment",
		args: []string{"--set", "config.cluster=${CLUSTER_NAME}", "--set", "env[0].name=CLUSTER_NAME", "--set", "env[0].value=from-env"},
		check: func(t *testing.T, r *rendered) {
			n := 0
			for _, e := range r.container.Env {
				if e.Name == "CLUSTER_NAME" {
					n++
				}
			}
			if n != 1 || r.effective.Cluster != "from-env" {
				t.Errorf("%d CLUSTER_NAME variables, effective cluster %q; want 1 (the user's), from-env", n, r.effective.Cluster)
			}
		},
	}, {
		name: "inputs changed and added",
		args: []string{"--set", "config.inputs.host-dmesg.enabled=false",
			"--set-json", `config.inputs.app-files={"type": "files", "include": ["/var/log/app/*.log"], "format": "plain",
				"log_group": "/aws/containerinsights/{cluster}/app-files", "log_stream": "{host}.app"}`,
			"--set-json", `config.inputs.sshd={"type": "journal", "match": ["_SYSTEMD_UNIT=sshd.service"],
				"log_group": "/aws/containerinsights/{cluster}/host", "log_stream": "{host}.host.sshd"}`},
		check: func(t *testing.T, r *rendered) {
			in := r.effective.Inputs
			if in["host-dmesg"].Enabled || !in["host-messages"].Enabled || !in["app-files"].Enabled || in["sshd"].Type != "journal" {
				t.Errorf("inputs = %+v; want host-dmesg off, host-messages on, app-files and sshd added", in)
			}
		},
	}, {
		// Values without the keys newer than the first chart, as helm
		// upgrade --reuse-values keeps them: skiff's defaults apply, and
		// the journal's mount is still there.
		name: "values without the newer keys",
		args: []string{"--set", "hostPaths.journal=null", "--set", "hostNetwork=null", "--set", "dnsPolicy=null",
			"--set", "config.inputs=null", "--set", "config.journal=null"},
		check: func(t *testing.T, r *rendered) {
			checkJournalMounts(t, r)
			checkContainerInsights(t, r)
			if spec := r.ds.Spec.Template.Spec; spec.HostNetwork || spec.DNSPolicy != corev1.DNSClusterFirst {
				t.Errorf("hostNetwork %v, dnsPolicy %q; want false, ClusterFirst", spec.HostNetwork, spec.DNSPolicy)
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
	const howToSetCluster = "config.cluster is required: set the cluster's name with --set config.cluster=NAME"
	tests := []struct {
		name      string
		args      []string
		want      string
		noCluster bool // render without withCluster's config.cluster
	}{
		// skiff refuses to start in a cluster without a cluster name; the
		// chart says so, and how to set it, before anything is installed.
		{"no cluster", nil, howToSetCluster, true},
		{"empty cluster", []string{"--set", "config.cluster="}, howToSetCluster, false},
		{"blank cluster", []string{"--set", "config.cluster=  "}, howToSetCluster, false},
		{"grace equal to shutdown", []string{"--set", "terminationGracePeriodSeconds=25"}, "must be above config.shutdown_timeout", false},
		{"shutdown above grace", []string{"--set", "config.shutdown_timeout=1m"}, "must be above config.shutdown_timeout", false},
		{"unknown config key", []string{"--set", "config.tail.stat_dir=/x"}, "stat_dir", false},
		{"unknown top-level key", []string{"--set", "tolerration=x"}, "tolerration", false},
		{"bad duration", []string{"--set", "config.cloudwatch.flush_interval=5"}, "flush_interval", false},
		{"listen without port", []string{"--set", "config.http.listen=off"}, "config.http.listen", false},
		{"unknown input key", []string{"--set", "config.inputs.dataplane.units=kubelet"}, "units", false},
		{"input named application", []string{"--set", "config.inputs.application.type=files"}, "application", false},
		{"bad input type", []string{"--set", "config.inputs.dataplane.type=syslog"}, "type", false},
		{"bad match term", []string{"--set", "config.inputs.dataplane.match={kubelet}"}, "match", false},
		{"unknown journal key", []string{"--set", "config.journal.dir=/x"}, "dir", false},
		{"merge key of the record", []string{"--set", "config.cloudwatch.merge_key=log"}, "merge_key", false},
		{"bad dns policy", []string{"--set", "dnsPolicy=None"}, "dnsPolicy", false},
		{"journal dir not mounted", []string{"--set", "hostPaths.journal="}, "config.journal.dirs: /run/log/journal is not under", false},
		{"journal dir outside the mounts", []string{"--set", "config.journal.dirs={/srv/journal}"}, "config.journal.dirs: /srv/journal is not under", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !tt.noCluster {
				args = withCluster(args...)
			}
			_, err := helmTemplate(t, args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("helm template %v: err = %v; want it to mention %q", tt.args, err, tt.want)
			}
		})
	}
}

// deploy/grafana/alerts.yaml is the chart's PrometheusRule for release skiff
// without namespace selectors, usable without the Prometheus Operator.
func TestAlertsMatchChart(t *testing.T) {
	r := load(t, renderHelm(t, "--set", "prometheusRule.enabled=true", "--set", "prometheusRule.namespaced=false"))
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
