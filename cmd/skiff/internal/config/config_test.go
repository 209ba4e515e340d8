package config

import (
	"fmt"
	"os"
	"testing"
	"time"
)

func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestExampleIsValidAndShowsDefaults(t *testing.T) {
	data, err := os.ReadFile("../../skiff.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	getenv := env("AWS_REGION", "eu-west-1", "NODE_NAME", "node-1")
	got, err := Load("skiff.example.yaml", data, getenv)
	if err != nil {
		t.Fatalf("Load(example) = %v", err)
	}
	want := Default(getenv)
	k := &want.Kubernetes
	k.IncludeLabels, k.ExcludeLabels, k.IncludeAnnotations, k.ExcludeAnnotations = []string{}, []string{}, []string{}, []string{}
	want.CloudWatch.Tags = map[string]string{}
	if g, w := dump(t, got), dump(t, want); g != w {
		t.Errorf("the example does not show the defaults:\n got %s\nwant %s", g, w)
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	cfg, err := Load("empty.yaml", nil, env("AWS_REGION", "us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ShutdownTimeout.Std() != 25*time.Second || cfg.HTTP.Listen != "127.0.0.1:2021" ||
		cfg.CloudWatch.BufferBytes != 64<<20 || cfg.Output != OutputCloudWatch || cfg.Kubernetes.Enabled {
		t.Errorf("defaults = %+v", cfg)
	}
	cfg, _ = Load("empty.yaml", nil, env("KUBERNETES_SERVICE_HOST", "10.0.0.1", "NODE_NAME", "n"))
	if !cfg.Kubernetes.Enabled || cfg.NodeName != "n" {
		t.Errorf("in a cluster: kubernetes.enabled = %v, node_name = %q", cfg.Kubernetes.Enabled, cfg.NodeName)
	}
}

func TestExpansion(t *testing.T) {
	src := `
cluster: ${CLUSTER:-prod}-${ZONE}
cloudwatch:
  region: ${REGION}
  log_group: /cost/$$HOME/$x
  buffer_bytes: ${BUF:-8MiB}
tail:
  include: ${GLOB}
`
	cfg, err := Load("f.yaml", []byte(src), env("ZONE", "a", "REGION", "ap-south-1", "GLOB", "/logs/*.log"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Cluster != "prod-a" || cfg.CloudWatch.Region != "ap-south-1" ||
		cfg.CloudWatch.LogGroup != "/cost/$HOME/$x" || cfg.CloudWatch.BufferBytes != 8<<20 ||
		len(cfg.Tail.Include) != 1 || cfg.Tail.Include[0] != "/logs/*.log" {
		t.Errorf("expanded = %+v", cfg)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{
		"0": 0, "65536": 65536, "512KiB": 512 << 10, "64MiB": 64 << 20, "1GiB": 1 << 30,
		"10MB": 10e6, "1 GiB": 1 << 30, "100B": 100,
		"64M": 64e6, "64Mi": 64 << 20, "64 M": 64e6, "512k": 512e3, "512K": 512e3, "512Ki": 512 << 10,
		"2Ti": 2 << 40, "1T": 1e12, "1kB": 1e3,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "64 X", "-1", "+1", "1.5GiB", "1.5Gi", "1e6", "GiB", "Mi", "64iB", "64MiBB", "64mi", "99999999999TiB"} {
		if got, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d; want an error", in, got)
		}
	}
}

// TestBadConfigs is the table of what a person gets for each mistake.
func TestBadConfigs(t *testing.T) {
	getenv := env("AWS_REGION", "us-east-1", "N", "abc")
	for _, tc := range []struct{ name, src, want string }{
		{"syntax", "cluster: a\n  node_name: b\n",
			"f.yaml:2: mapping values are not allowed in this context"},
		{"tabs", "tail:\n\tinclude: x\n",
			"f.yaml:2: found character that cannot start any token"},
		{"not a mapping", "- a\n- b\n",
			"f.yaml:1: the file must be a mapping of keys, got a list"},
		{"unknown top-level key", "clster: prod\n",
			`f.yaml:1: clster: unknown key (did you mean "cluster"?)`},
		{"key in the wrong section", "region: eu-west-1\n",
			`f.yaml:1: region: unknown key (did you mean "cloudwatch.region"?)`},
		{"unknown nested key", "tail:\n  includes: [/a/*.log]\n",
			`f.yaml:2: tail.includes: unknown key (did you mean "tail.include"?)`},
		{"unknown key, nothing close", "cloudwatch:\n  compression: gzip\n",
			`f.yaml:2: cloudwatch.compression: unknown key`},
		{"duplicate key", "cluster: a\ncluster: b\n",
			`f.yaml:2: cluster: set twice (first at line 1)`},
		{"duration without unit", "shutdown_timeout: 25\n",
			`f.yaml:1: shutdown_timeout: "25" is not a duration: add a unit, as in 25s or 25ms`},
		{"bad duration", "tail:\n  checkpoint_interval: soon\n",
			`f.yaml:2: tail.checkpoint_interval: "soon" is not a duration (examples: 500ms, 1s, 5m)`},
		{"negative duration", "shutdown_timeout: -5s\n",
			`f.yaml:1: shutdown_timeout: "-5s" is negative`},
		{"zero duration", "shutdown_timeout: 0s\n",
			`f.yaml:1: shutdown_timeout: must be positive, got 0s`},
		{"bad size", "cloudwatch:\n  buffer_bytes: 64X\n",
			`f.yaml:2: cloudwatch.buffer_bytes: "64X" is not a size (examples: 65536, 512Ki, 64Mi, 64MiB, 64M, 1Gi)`},
		{"size too small", "cloudwatch:\n  buffer_bytes: 1MiB\n",
			`f.yaml:2: cloudwatch.buffer_bytes: must be at least 2MiB (two full batches), got 1MiB`},
		{"bad bool", "http:\n  pprof: yes\n",
			`f.yaml:2: http.pprof: "yes" is not true or false`},
		{"bad int from env", "tail:\n  max_open_files: ${N}\n",
			`f.yaml:2: tail.max_open_files: "abc" is not a whole number (expanded from "${N}")`},
		{"bad reference", "cluster: ${1X}\n",
			`f.yaml:1: cluster: "${1X}": "${1X}" is not a variable name (want ${NAME} or ${NAME:-default})`},
		{"unclosed reference", "cluster: ${X\n",
			`f.yaml:1: cluster: "${X": ${ without a closing }`},
		{"list for a value", "output: [stdout]\n",
			`f.yaml:1: output: want a single value, got a list`},
		{"value for a section", "tail: /var/log\n",
			`f.yaml:1: tail: this key must be a mapping of keys, got a value`},
		{"bad choice", "tail:\n  read_from: middle\n",
			`f.yaml:2: tail.read_from: "middle" is not one of beginning, end`},
		{"bad output", "output: s3\n",
			`f.yaml:1: output: "s3" is not one of cloudwatch, stdout, file`},
		{"relative glob", "tail:\n  include: [logs/*.log]\n",
			`f.yaml:2: tail.include: "logs/*.log": must be an absolute path`},
		{"bad glob", "tail:\n  exclude: [\"/a/[\"]\n",
			`f.yaml:2: tail.exclude: "/a/[": syntax error in pattern`},
		{"file output without path", "output: file\n",
			`f.yaml: file.path: must be set when output is file`},
		{"bad endpoint", "cloudwatch:\n  endpoint: localhost:4566\n",
			`f.yaml:2: cloudwatch.endpoint: "localhost:4566" must be a URL starting with http:// or https://`},
		{"retention", "cloudwatch:\n  retention_days: 10\n",
			`f.yaml:2: cloudwatch.retention_days: 10 is not a value CloudWatch accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)`},
		{"line too long", "tail:\n  max_line_bytes: 2MiB\n",
			`f.yaml:2: tail.max_line_bytes: must be between 1024 and 1048550 (CloudWatch's largest event), got 2097152`},
		{"read budget the tailer refuses", "tail:\n  read_budget: 128MiB\n",
			`f.yaml:2: tail.read_budget: must be between 4096 (4 KiB) and 67108864 (64 MiB), got 134217728`},
		{"an unknown output hides no other problem", "output: cloudwatc\ncloudwatch:\n  retention_days: 45\n",
			"f.yaml:1: output: \"cloudwatc\" is not one of cloudwatch, stdout, file\n" +
				"f.yaml:3: cloudwatch.retention_days: 45 is not a value CloudWatch accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)"},
		{"a section of another output is checked", "output: stdout\ncloudwatch:\n  log_group: \"/a/{nope}\"\n  log_group_class: COLD\n",
			"f.yaml:3: cloudwatch.log_group: invalid template \"/a/{nope}\": unknown field {nope}\n" +
				"f.yaml:4: cloudwatch.log_group_class: \"COLD\" is not one of STANDARD, INFREQUENT_ACCESS"},
		{"cluster from an unset variable", "cluster: ${CLUSTER_NAME}\n",
			`f.yaml:1: cluster: "${CLUSTER_NAME}" expanded to nothing: set the variable, or name a fallback as in ${VAR:-name}`},
		{"bad format of the file output", "file:\n  format: xml\n",
			`f.yaml:2: file.format: "xml" is not one of json, raw`},
		{"kubernetes pattern", "kubernetes:\n  exclude_labels: [\"a*b*\"]\n",
			`f.yaml:2: kubernetes.exclude_labels: pattern "a*b*": want a key, or a prefix followed by *`},
		{"two problems", "tail:\n  long_lines: wrap\nlog:\n  level: verbose\n",
			"f.yaml:2: tail.long_lines: \"wrap\" is not one of split, truncate\n" +
				"f.yaml:4: log.level: \"verbose\" is not one of debug, info, warn, error"},
		{"input without a type", "inputs:\n  audit:\n    include: [/var/log/audit/audit.log]\n    log_group: /a\n    log_stream: b\n",
			`f.yaml:2: inputs.audit.type: "" is not one of files, journal`},
		{"input without a destination", "inputs:\n  audit:\n    type: files\n    include: [/var/log/audit/audit.log]\n",
			"f.yaml:2: inputs.audit.log_group: must not be empty\nf.yaml:2: inputs.audit.log_stream: must not be empty"},
		{"bad priority", "inputs:\n  host-messages:\n    priority: loud\n",
			`f.yaml:2: inputs.host-messages: priority: "loud" is not a priority: 0 to 7 or emerg, alert, crit, err, warning, notice, info, debug`},
		{"bad match", "inputs:\n  dataplane:\n    match: [kubelet]\n",
			`f.yaml:3: inputs.dataplane.match: "kubelet" is not FIELD=value`},
		{"a files key on a journal input", "inputs:\n  dataplane:\n    include: [/x]\n",
			`f.yaml:3: inputs.dataplane.include: is a key of files inputs; this input is of type journal`},
		{"bad input format", "inputs:\n  dataplane-containers:\n    format: syslog\n",
			`f.yaml:3: inputs.dataplane-containers.format: "syslog" is not one of auto, plain`},
		{"unknown input key", "inputs:\n  dataplane:\n    unit: kubelet\n",
			`f.yaml:3: inputs.dataplane.unit: unknown key (did you mean "inputs.dataplane.not"?)`},
		{"input named like the application's", "inputs:\n  application:\n    type: files\n    include: [/x]\n    log_group: /a\n    log_stream: b\n",
			`f.yaml:2: inputs.application: "application" cannot name an input: not empty, not application (tail.include's), without spaces, dots or braces`},
		{"bad journal read_from", "journal:\n  read_from: middle\n",
			`f.yaml:2: journal.read_from: "middle" is not one of beginning, end`},
		{"unknown multiline rule", "tail:\n  multiline: cobol\n",
			`f.yaml:2: tail.multiline: "cobol" is not a rule: dotnet, go, java, nodejs, python, ruby`},
		{"bad custom multiline rule", "multiline:\n  custom:\n    app:\n      start: '^(\\d'\n      continuation: '^\\s'\n",
			"f.yaml:3: multiline.custom.app: multiline rule \"app\": start: error parsing regexp: missing closing ): `^(\\d`"},
		{"multiline choice of an unknown rule", "multiline:\n  containers:\n    - {namespace: shop, rule: jav}\n",
			`f.yaml:3: multiline.containers[0].rule: "jav" is not a rule: dotnet, go, java, nodejs, python, ruby`},
		{"unknown parser", "inputs:\n  extra: {type: files, include: [/x/*.log], parser: yaml, log_group: g, log_stream: s}\n",
			`f.yaml:2: inputs.extra.parser: "yaml" is not a parser: apache, apache2, apache_error, envoy, glog, json, k8s-nginx-ingress, klog, logfmt, nginx, syslog-rfc3164, syslog-rfc5424`},
		{"regex parser without groups", "parsers:\n  custom:\n    mine: {regex: '^\\w+$'}\n",
			`f.yaml:3: parsers.custom.mine: parser "mine": regexp has no named group (?P<name>...) or (?<name>...)`},
		{"filter with a bad regex and action", "filters:\n  - name: x\n    field: log\n    regex: '(['\n    action: delete\n",
			"f.yaml:4: filters[0].regex: error parsing regexp: missing closing ]: `[`\n" +
				`f.yaml:5: filters[0].action: "delete" is not drop, keep or empty (change records)`},
		{"filter that does nothing", "filters:\n  - name: x\n    namespace: shop\n",
			"f.yaml:2: filters[0]: a filter that neither drops nor keeps must change something (lift, rename, remove or add)"},
		{"filter with a bad label selector", "filters:\n  - {name: x, labels: 'app in (', action: drop}\n",
			"f.yaml:2: filters[0].labels: unable to parse requirement: found '', expected: ',', ')' or identifier"},
		{"unknown redaction rule", "redact:\n  rules: [ssn]\n",
			`f.yaml:2: redact.rules: "ssn" is not a rule: aws_access_key_id, aws_secret_access_key, bearer_token, credit_card, email, jwt, private_key`},
		{"limit without a rate", "limits:\n  - {namespace: noisy, action: hold}\n",
			"f.yaml:2: limits[0]: a limit needs lines_per_second or bytes_per_second"},
		{"decoding and validation problems together", "output: kafka\nshutdown_timeout: 25\n",
			"f.yaml:1: output: \"kafka\" is not one of cloudwatch, stdout, file\n" +
				"f.yaml:2: shutdown_timeout: \"25\" is not a duration: add a unit, as in 25s or 25ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("f.yaml", []byte(tc.src), getenv)
			if err == nil {
				t.Fatalf("Load(%q) = nil; want %q", tc.src, tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("Load(%q) =\n%s\nwant\n%s", tc.src, err, tc.want)
			}
		})
	}
}

// TestInputsChangeTheDefaults: an input named in the file changes the
// default of that name key by key; a new name adds an input; the
// components get the enabled ones.
func TestInputsChangeTheDefaults(t *testing.T) {
	src := `
inputs:
  host-dmesg:
    enabled: false
  dataplane:
    log_stream: "{host}-kubelet"
  secure-file:
    type: files
    include: [/var/log/secure]
    format: plain
    log_group: /aws/containerinsights/{cluster}/host
    log_stream: "{host}.host.secure-file"
`
	cfg, err := Load("f.yaml", []byte(src), env("AWS_REGION", "eu-west-1", "KUBERNETES_SERVICE_HOST", "10.0.0.1", "CLUSTER_NAME", "prod"))
	if err != nil {
		t.Fatal(err)
	}
	if in := cfg.Inputs["host-dmesg"]; in.Enabled || in.Type != InputJournal {
		t.Errorf("host-dmesg = %+v; want the default, disabled", in)
	}
	if in := cfg.Inputs["dataplane"]; in.LogStream != "{host}-kubelet" || len(in.Match) != 3 || in.LogGroup != dataplaneGroup {
		t.Errorf("dataplane = %+v; want the default with its stream changed", in)
	}
	tc := cfg.TailerConfig()
	if len(tc.Inputs) != 2 || tc.Inputs[0].Name != "dataplane-containers" || tc.Inputs[1].Name != "secure-file" ||
		tc.Inputs[1].Format != "plain" || tc.Name != ApplicationInput {
		t.Errorf("tailer inputs = %+v", tc.Inputs)
	}
	jc, ok := cfg.JournalConfig()
	var names []string
	for _, r := range jc.Routes {
		names = append(names, r.Name)
	}
	if !ok || fmt.Sprint(names) != "[dataplane host-messages host-secure]" || jc.StateDir != cfg.Tail.StateDir {
		t.Errorf("journal routes %v, state dir %q", names, jc.StateDir)
	}
	routes := cfg.CloudWatchConfig().Routes
	if r := routes["secure-file"]; r.LogStream != "{host}.host.secure-file" || len(routes) != 5 {
		t.Errorf("routes = %v", routes)
	}

	// Outside a cluster the default inputs are off: a laptop's journal is
	// not shipped unless asked; an input the file adds is on.
	cfg, err = Load("f.yaml", []byte(src), env("AWS_REGION", "eu-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.JournalConfig(); ok || len(cfg.TailerConfig().Inputs) != 1 {
		t.Errorf("outside a cluster: journal inputs on %v, file inputs %+v", ok, cfg.TailerConfig().Inputs)
	}
}

// In a cluster, the cluster name must be given: skiff never ships to a
// made-up group.
func TestClusterRequiredInCluster(t *testing.T) {
	_, err := Load("f.yaml", nil, env("AWS_REGION", "eu-west-1", "KUBERNETES_SERVICE_HOST", "10.0.0.1"))
	want := "f.yaml: cluster: not set: name the cluster the log groups are for with cluster:, $CLUSTER_NAME or the chart's config.cluster (skiff does not guess one)"
	if err == nil || err.Error() != want {
		t.Errorf("Load in a cluster without a name = %v; want %s", err, want)
	}
	cfg, err := Load("f.yaml", nil, env("AWS_REGION", "eu-west-1", "KUBERNETES_SERVICE_HOST", "10.0.0.1", "CLUSTER_NAME", "prod"))
	if err != nil || cfg.Cluster != "prod" {
		t.Errorf("with CLUSTER_NAME: %v, cluster %q", err, cfg.Cluster)
	}
	if cfg, err := Load("f.yaml", nil, env("AWS_REGION", "eu-west-1")); err != nil || cfg.Cluster != DefaultCluster {
		t.Errorf("outside a cluster: %v, cluster %q", err, cfg.Cluster)
	}
}

func TestMissingRegion(t *testing.T) {
	_, err := Load("f.yaml", []byte("cloudwatch:\n  region: ${AWS_REGION}\n"), env())
	want := "f.yaml:2: cloudwatch.region: not set, and neither is AWS_REGION: set cloudwatch.region, AWS_REGION or --region"
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v; want %s", err, want)
	}
	_, err = Load("f.yaml", nil, env())
	if want := "f.yaml: cloudwatch.region: not set, and neither is AWS_REGION: set cloudwatch.region, AWS_REGION or --region"; err == nil || err.Error() != want {
		t.Errorf("Load(empty) = %v; want %s", err, want)
	}
	if _, err := Load("f.yaml", []byte("output: stdout\n"), env()); err != nil {
		t.Errorf("stdout needs no region: %v", err)
	}
}

func TestFlagOrigin(t *testing.T) {
	cfg, src, err := Parse("f.yaml", []byte("output: stdout\n"), env())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Output = "kafka"
	src.SetFlag("output", "output")
	err = src.Check(cfg.Validate())
	if want := `flag --output: output: "kafka" is not one of cloudwatch, stdout, file`; err == nil || err.Error() != want {
		t.Errorf("Check = %v; want %s", err, want)
	}
}

func dump(t *testing.T, c Config) string {
	t.Helper()
	return fmt.Sprintf("%+v", c)
}

// Flags are decoded and checked as the file's values are, and located at
// the flag.
func TestOverride(t *testing.T) {
	cfg, src, err := Parse("f.yaml", []byte("output: stdout\n"), env())
	if err != nil {
		t.Fatal(err)
	}
	src.Override(&cfg, "tail.include", "include", "/a/*.log,/b/*.log")
	src.Override(&cfg, "log.level", "log-level", "loud")
	src.Override(&cfg, "http.pprof", "pprof", "maybe")
	if len(cfg.Tail.Include) != 2 || cfg.Tail.Include[1] != "/b/*.log" {
		t.Errorf("tail.include = %q; want the two globs", cfg.Tail.Include)
	}
	err = src.Check(cfg.Validate())
	want := "flag --pprof: http.pprof: \"maybe\" is not true or false\n" +
		"flag --log-level: log.level: \"loud\" is not one of debug, info, warn, error"
	if err == nil || err.Error() != want {
		t.Errorf("Check =\n%v\nwant\n%s", err, want)
	}
}
