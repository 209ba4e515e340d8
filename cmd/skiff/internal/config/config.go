// Package config is skiff's configuration: one YAML file, decoded into one
// documented struct.
//
// Guarantees: every key has a default that works on an EKS node, so an empty
// file (or no file) is a valid configuration; `${VAR}` and `${VAR:-default}`
// are expanded inside values (never inside keys, and never into YAML syntax);
// every error names the file, the line and the full key path, and all errors
// of a file are reported at once. Unknown keys are errors, since a misspelled
// key that is silently ignored is a setting that silently does not apply.
//
// Limits: one file, no includes; a value that comes from an environment
// variable is checked after expansion, and its message quotes both forms.
package config

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Outputs that skiff can ship to.
const (
	OutputCloudWatch = "cloudwatch"
	OutputStdout     = "stdout"
	OutputFile       = "file"
)

// Config is the whole of skiff's configuration. Load fills it from Default,
// then from the file; a field's comment states its default.
type Config struct {
	// Cluster names the cluster in log group names ({cluster}). Default
	// $CLUSTER_NAME, else "default".
	Cluster string `yaml:"cluster"`
	// NodeName is the node whose pods are watched and the {host} of records.
	// Default $NODE_NAME (the chart sets it from spec.nodeName), else the
	// host name.
	NodeName string `yaml:"node_name"`
	// ShutdownTimeout bounds the flush on SIGTERM; keep it below the pod's
	// terminationGracePeriodSeconds (30 s). Default 25s.
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
	// HTTP is the one port for metrics, health and profiling.
	HTTP HTTP `yaml:"http"`
	// Log is skiff's own logging.
	Log Log `yaml:"log"`
	// Tail says which files are read and how.
	Tail Tail `yaml:"tail"`
	// Kubernetes is pod metadata enrichment.
	Kubernetes Kubernetes `yaml:"kubernetes"`
	// Output is where records go: cloudwatch (default), stdout or file.
	Output string `yaml:"output"`
	// CloudWatch configures output: cloudwatch.
	CloudWatch CloudWatch `yaml:"cloudwatch"`
	// File configures output: file.
	File File `yaml:"file"`
	// Stdout configures output: stdout.
	Stdout Stdout `yaml:"stdout"`
}

// HTTP is the HTTP endpoint: /metrics, /healthz, /readyz, /debug/pprof.
type HTTP struct {
	// Listen is host:port; "" or "off" disables it. Default 127.0.0.1:2021
	// (next to Fluent Bit's 2020); the chart sets 0.0.0.0:2021.
	Listen string `yaml:"listen"`
	// Pprof serves /debug/pprof. Default false.
	Pprof bool `yaml:"pprof"`
}

// Log is skiff's own logging, on stderr.
type Log struct {
	// Level is debug, info (default), warn or error.
	Level string `yaml:"level"`
	// Format is auto (default: text on a terminal, JSON otherwise), json or
	// text.
	Format string `yaml:"format"`
}

// Tail configures the tailer.
type Tail struct {
	// Include lists the globs of files to read. Default
	// ["/var/log/containers/*.log"].
	Include []string `yaml:"include"`
	// Exclude lists globs of files never to read. Default none.
	Exclude []string `yaml:"exclude"`
	// ReadFrom is where a file found on the first start, without a
	// checkpoint, is read from: beginning (default) or end.
	ReadFrom string `yaml:"read_from"`
	// StateDir holds the checkpoint file; "" keeps no checkpoints. Default
	// /var/lib/skiff (a hostPath in the chart).
	StateDir string `yaml:"state_dir"`
	// CheckpointInterval is how often acknowledged positions are saved.
	// Default 1s.
	CheckpointInterval Duration `yaml:"checkpoint_interval"`
	// MaxLineBytes is the longest record; longer lines are split or
	// truncated. Default 1048550 (CloudWatch's largest event).
	MaxLineBytes Size `yaml:"max_line_bytes"`
	// LongLines is split (default) or truncate.
	LongLines string `yaml:"long_lines"`
	// MaxOpenFiles bounds open files. Default 1024.
	MaxOpenFiles int `yaml:"max_open_files"`
	// MaxDeletedBytes bounds the unread bytes held in deleted files.
	// Default 1GiB.
	MaxDeletedBytes Size `yaml:"max_deleted_bytes"`
	// MaxSpoolBytes bounds the spool under state_dir that keeps the
	// unacknowledged bytes of deleted files across restarts. Default 1GiB.
	MaxSpoolBytes Size `yaml:"max_spool_bytes"`
	// RescanInterval is the safety rescan next to fsnotify. Default 60s.
	RescanInterval Duration `yaml:"rescan_interval"`
	// ReadBudget is how much of one file is read per round, so that one
	// noisy pod cannot starve the others. Default 256KiB.
	ReadBudget Size `yaml:"read_budget"`
}

// Kubernetes configures pod metadata enrichment.
type Kubernetes struct {
	// Enabled turns enrichment on. Default true inside a cluster
	// ($KUBERNETES_SERVICE_HOST set), false elsewhere.
	Enabled bool `yaml:"enabled"`
	// Kubeconfig is the kubeconfig file; "" means in-cluster. Default "".
	Kubeconfig string `yaml:"kubeconfig"`
	// MetadataWait is how long a line of an unknown pod waits for its
	// metadata before it goes out with path metadata only. Default 2s.
	MetadataWait Duration `yaml:"metadata_wait"`
	// DeletedPodGrace keeps a deleted pod's metadata for its last lines.
	// Default 5m.
	DeletedPodGrace Duration `yaml:"deleted_pod_grace"`
	// NamespaceMetadata also watches namespaces and adds their labels and
	// annotations to records as kubernetes.namespace_labels and
	// kubernetes.namespace_annotations (needs RBAC on namespaces). Default false.
	NamespaceMetadata bool `yaml:"namespace_metadata"`
	// Labels attaches pod labels. Default true.
	Labels bool `yaml:"labels"`
	// Annotations attaches pod annotations. Default true.
	Annotations bool `yaml:"annotations"`
	// IncludeLabels, when not empty, keeps only the label keys it matches;
	// ExcludeLabels drops the keys it matches. A pattern is a key, or a
	// prefix followed by "*". Default none.
	IncludeLabels []string `yaml:"include_labels"`
	ExcludeLabels []string `yaml:"exclude_labels"`
	// IncludeAnnotations and ExcludeAnnotations do the same for annotations.
	// Default none.
	IncludeAnnotations []string `yaml:"include_annotations"`
	ExcludeAnnotations []string `yaml:"exclude_annotations"`
	// ExcludeSelf skips skiff's own pods (label
	// app.kubernetes.io/name=skiff). Default true.
	ExcludeSelf bool `yaml:"exclude_self"`
}

// CloudWatch configures the CloudWatch Logs output.
type CloudWatch struct {
	// Region is the AWS region. Default $AWS_REGION, else
	// $AWS_DEFAULT_REGION; required.
	Region string `yaml:"region"`
	// Endpoint overrides the service URL (cwlocal, LocalStack, a VPC
	// endpoint). Default "": the region's public endpoint.
	Endpoint string `yaml:"endpoint"`
	// LogGroup is the log group template. Default
	// /aws/containerinsights/{cluster}/application.
	LogGroup string `yaml:"log_group"`
	// LogStream is the log stream template. Default
	// {kubernetes.pod_name}_{kubernetes.namespace_name}_{kubernetes.container_name}.
	LogStream string `yaml:"log_stream"`
	// Format is json (default: Fluent Bit's kubernetes filter shape) or raw
	// (the line alone).
	Format string `yaml:"format"`
	// Parse is "" (default) or json: merge JSON lines into the record.
	Parse string `yaml:"parse"`
	// BufferBytes is the memory budget for batched and in-flight data; the
	// only buffer in memory. Default 64MiB.
	BufferBytes Size `yaml:"buffer_bytes"`
	// FlushInterval is the longest a batch waits. Default 1s.
	FlushInterval Duration `yaml:"flush_interval"`
	// MaxConcurrency bounds parallel PutLogEvents calls; 0 picks a default.
	MaxConcurrency int `yaml:"max_concurrency"`
	// MaxRetryDuration gives up on a batch after this long (counted); 0
	// (default) retries until shutdown.
	MaxRetryDuration Duration `yaml:"max_retry_duration"`
	// AutoCreateGroup creates missing log groups. Default true.
	AutoCreateGroup bool `yaml:"auto_create_group"`
	// RetentionDays sets the retention of groups skiff creates; 0 (default)
	// leaves it unset (never expire).
	RetentionDays int `yaml:"retention_days"`
	// LogGroupClass is STANDARD (default) or INFREQUENT_ACCESS for groups
	// skiff creates.
	LogGroupClass string `yaml:"log_group_class"`
	// KMSKeyID encrypts groups skiff creates. Default "".
	KMSKeyID string `yaml:"kms_key_id"`
	// Tags are put on groups skiff creates. Default none.
	Tags map[string]string `yaml:"tags"`
	// RoleARN is a role to assume on top of the default credentials.
	// Default "".
	RoleARN string `yaml:"role_arn"`
	// ExternalID goes with RoleARN. Default "".
	ExternalID string `yaml:"external_id"`
}

// File configures the file output: one JSON line per record.
type File struct {
	// Path is the file records are appended to; its directory must exist.
	// Required for output: file.
	Path string `yaml:"path"`
	// MaxBytes rotates the file at this size. Default 100MiB.
	MaxBytes Size `yaml:"max_bytes"`
	// MaxFiles is how many rotated files are kept. Default 5.
	MaxFiles int `yaml:"max_files"`
	// Sync fsyncs every block before acknowledging it. Default false.
	Sync bool `yaml:"sync"`
	// Format is json (default) or raw.
	Format string `yaml:"format"`
	// Parse is "" (default) or json: merge JSON lines into the record.
	Parse string `yaml:"parse"`
}

// Stdout configures the stdout output: one JSON line per record.
type Stdout struct {
	// Format is json (default) or raw.
	Format string `yaml:"format"`
	// Parse is "" (default) or json: merge JSON lines into the record.
	Parse string `yaml:"parse"`
}

// Default returns the configuration used for every key the file leaves out.
// getenv supplies the environment-dependent defaults (nil means none).
func Default(getenv func(string) string) Config {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	first := func(vals ...string) string {
		for _, v := range vals {
			if v != "" {
				return v
			}
		}
		return ""
	}
	return Config{
		Cluster:         first(getenv("CLUSTER_NAME"), "default"),
		NodeName:        first(getenv("NODE_NAME"), hostname()),
		ShutdownTimeout: Duration(25 * time.Second),
		HTTP:            HTTP{Listen: "127.0.0.1:2021"},
		Log:             Log{Level: "info", Format: "auto"},
		Tail: Tail{
			Include:            []string{"/var/log/containers/*.log"},
			ReadFrom:           "beginning",
			StateDir:           "/var/lib/skiff",
			CheckpointInterval: Duration(time.Second),
			MaxLineBytes:       1048550,
			LongLines:          "split",
			MaxOpenFiles:       1024,
			MaxDeletedBytes:    1 << 30,
			MaxSpoolBytes:      1 << 30,
			RescanInterval:     Duration(time.Minute),
			ReadBudget:         256 << 10,
		},
		Kubernetes: Kubernetes{
			Enabled:         getenv("KUBERNETES_SERVICE_HOST") != "",
			MetadataWait:    Duration(2 * time.Second),
			DeletedPodGrace: Duration(5 * time.Minute),
			Labels:          true,
			Annotations:     true,
			ExcludeSelf:     true,
		},
		Output: OutputCloudWatch,
		CloudWatch: CloudWatch{
			Region:          first(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")),
			LogGroup:        "/aws/containerinsights/{cluster}/application",
			LogStream:       "{kubernetes.pod_name}_{kubernetes.namespace_name}_{kubernetes.container_name}",
			Format:          "json",
			BufferBytes:     64 << 20,
			FlushInterval:   Duration(time.Second),
			AutoCreateGroup: true,
			LogGroupClass:   "STANDARD",
		},
		File:   File{Format: "json", MaxBytes: 100 << 20, MaxFiles: 5},
		Stdout: Stdout{Format: "json"},
	}
}

// FieldError is a problem with one key's value. Load turns it into an Error
// that also names the file and line.
type FieldError struct {
	// Key is the dotted key path, such as "tail.read_from".
	Key string
	// Msg says what is wrong and what would be right.
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// Validate checks the values that decoding alone cannot: choices, ranges and
// the keys one output requires. It returns every problem found, each a
// *FieldError, joined.
func (c *Config) Validate() []*FieldError {
	var errs []*FieldError
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	oneOf := func(key, val string, choices ...string) {
		if !slices.Contains(choices, val) {
			bad(key, "%q is not one of %s", val, strings.Join(choices, ", "))
		}
	}
	positive := func(key string, d Duration) {
		if d <= 0 {
			bad(key, "must be positive, got %s", d)
		}
	}
	if c.Cluster == "" {
		bad("cluster", "must not be empty")
	}
	positive("shutdown_timeout", c.ShutdownTimeout)
	oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf("log.format", c.Log.Format, "auto", "json", "text")

	t := &c.Tail
	if len(t.Include) == 0 {
		bad("tail.include", "must list at least one glob")
	}
	for _, k := range []struct {
		key   string
		globs []string
	}{{"tail.include", t.Include}, {"tail.exclude", t.Exclude}} {
		for _, g := range k.globs {
			if err := checkGlob(g); err != nil {
				bad(k.key, "%q: %v", g, err)
			}
		}
	}
	oneOf("tail.read_from", t.ReadFrom, "beginning", "end")
	positive("tail.checkpoint_interval", t.CheckpointInterval)
	if t.MaxLineBytes < 1024 || t.MaxLineBytes > 1048550 {
		bad("tail.max_line_bytes", "must be between 1KiB and 1048550 (CloudWatch's largest event), got %d", t.MaxLineBytes)
	}
	oneOf("tail.long_lines", t.LongLines, "split", "truncate")
	if t.MaxOpenFiles < 1 {
		bad("tail.max_open_files", "must be at least 1, got %d", t.MaxOpenFiles)
	}
	if t.MaxDeletedBytes < 0 {
		bad("tail.max_deleted_bytes", "must not be negative")
	}
	if t.MaxSpoolBytes < 0 {
		bad("tail.max_spool_bytes", "must not be negative")
	}
	positive("tail.rescan_interval", t.RescanInterval)
	if t.ReadBudget < 4096 {
		bad("tail.read_budget", "must be at least 4KiB, got %d", t.ReadBudget)
	}

	k := &c.Kubernetes
	if k.MetadataWait < 0 {
		bad("kubernetes.metadata_wait", "must not be negative")
	}
	if k.DeletedPodGrace < 0 {
		bad("kubernetes.deleted_pod_grace", "must not be negative")
	}
	if k.Enabled && c.NodeName == "" {
		bad("node_name", "must be set when kubernetes.enabled is true (the chart sets NODE_NAME from spec.nodeName)")
	}

	oneOf("output", c.Output, OutputCloudWatch, OutputStdout, OutputFile)
	switch c.Output {
	case OutputCloudWatch:
		errs = append(errs, c.CloudWatch.validate()...)
	case OutputFile:
		if c.File.Path == "" {
			bad("file.path", "must be set when output is file")
		}
		oneOf("file.format", c.File.Format, "json", "raw")
		oneOf("file.parse", c.File.Parse, "", "json")
		if c.File.MaxBytes < 1<<20 {
			bad("file.max_bytes", "must be at least 1MiB, got %s", c.File.MaxBytes)
		}
		if c.File.MaxFiles < 1 {
			bad("file.max_files", "must be at least 1, got %d", c.File.MaxFiles)
		}
	case OutputStdout:
		oneOf("stdout.format", c.Stdout.Format, "json", "raw")
		oneOf("stdout.parse", c.Stdout.Parse, "", "json")
	}
	return errs
}

func (cw *CloudWatch) validate() []*FieldError {
	var errs []*FieldError
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: "cloudwatch." + key, Msg: fmt.Sprintf(format, args...)})
	}
	if cw.Region == "" {
		bad("region", "not set, and neither is AWS_REGION: set cloudwatch.region, AWS_REGION or --region")
	}
	if cw.Endpoint != "" && !strings.HasPrefix(cw.Endpoint, "http://") && !strings.HasPrefix(cw.Endpoint, "https://") {
		bad("endpoint", "%q must be a URL starting with http:// or https://", cw.Endpoint)
	}
	if cw.LogGroup == "" {
		bad("log_group", "must not be empty")
	}
	if cw.LogStream == "" {
		bad("log_stream", "must not be empty")
	}
	if !slices.Contains([]string{"json", "raw"}, cw.Format) {
		bad("format", "%q is not one of json, raw", cw.Format)
	}
	if !slices.Contains([]string{"", "json"}, cw.Parse) {
		bad("parse", "%q is not one of \"\", json", cw.Parse)
	}
	if cw.BufferBytes < 2<<20 {
		bad("buffer_bytes", "must be at least 2MiB (two full batches), got %s", cw.BufferBytes)
	}
	if cw.FlushInterval <= 0 {
		bad("flush_interval", "must be positive, got %s", cw.FlushInterval)
	}
	if cw.MaxConcurrency < 0 {
		bad("max_concurrency", "must not be negative")
	}
	if cw.MaxRetryDuration < 0 {
		bad("max_retry_duration", "must not be negative")
	}
	if cw.RetentionDays != 0 && !slices.Contains(retentionDays, cw.RetentionDays) {
		bad("retention_days", "%d is not a value CloudWatch accepts (%s)", cw.RetentionDays, joinInts(retentionDays))
	}
	if !slices.Contains([]string{"STANDARD", "INFREQUENT_ACCESS"}, cw.LogGroupClass) {
		bad("log_group_class", "%q is not one of STANDARD, INFREQUENT_ACCESS", cw.LogGroupClass)
	}
	if cw.ExternalID != "" && cw.RoleARN == "" {
		bad("external_id", "needs role_arn")
	}
	return errs
}

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}
