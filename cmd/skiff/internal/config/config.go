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
	"cmp"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/skiff-agent/skiff/enrich"
	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/sinks/cloudwatch"
	"github.com/skiff-agent/skiff/sinks/file"
	"github.com/skiff-agent/skiff/tailer"
	"github.com/skiff-agent/skiff/tailer/journal"
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
	// $CLUSTER_NAME (the chart sets it from config.cluster, which it
	// requires); outside a cluster, else "default". In a cluster
	// ($KUBERNETES_SERVICE_HOST set) with output cloudwatch, skiff refuses
	// to start without it rather than ship to a made-up group.
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
	// Tail says which files are read and how: the application input, and
	// the settings every file input shares.
	Tail Tail `yaml:"tail"`
	// Inputs are the inputs besides the application's, by name: sets of
	// files, or entries of the systemd journal, each with its destination.
	// The defaults are Container Insights' dataplane and host inputs,
	// enabled in a cluster ($KUBERNETES_SERVICE_HOST set); an input given
	// here changes the default of the same name key by key, or adds one.
	Inputs map[string]Input `yaml:"inputs"`
	// Journal says where the journal inputs read.
	Journal Journal `yaml:"journal"`
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
	// Multiline joins stack traces into one record.
	Multiline Multiline `yaml:"multiline"`
	// Parsers are parsers of your own and parsers chosen per container.
	Parsers Parsers `yaml:"parsers"`
	// Redact replaces secrets before anything leaves the node.
	Redact Redact `yaml:"redact"`
	// Filters keep, drop or change records, in order.
	Filters []Filter `yaml:"filters"`
	// Limits bound the rate of each pod's records.
	Limits []Limit `yaml:"limits"`
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
	// Exclude lists globs of files never to read. Default the aws-node and
	// kube-proxy containers, which the dataplane-containers input reads.
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
	// Multiline names the multi-line rule of the application input's
	// files: java, python, go, nodejs, ruby, dotnet or a custom one.
	// Default none.
	Multiline string `yaml:"multiline"`
	// Parser names the parser of the application input's lines (json,
	// logfmt, nginx, ... or a custom one). Default none (cloudwatch.parse
	// still merges JSON lines).
	Parser string `yaml:"parser"`
}

// Input types.
const (
	InputFiles   = "files"
	InputJournal = "journal"
)

// Input is one named input and its destination.
type Input struct {
	// Enabled turns the input on. Default: the default inputs are on in a
	// cluster ($KUBERNETES_SERVICE_HOST set) and off elsewhere; an input
	// the file adds is on.
	Enabled bool `yaml:"enabled"`
	// Type is files or journal. Required for a new input.
	Type string `yaml:"type"`
	// Include lists the globs of the files of a files input; a file is
	// read by the first input that includes it (the application input
	// first, then the others by name).
	Include []string `yaml:"include"`
	// Exclude lists globs of files the input leaves alone.
	Exclude []string `yaml:"exclude"`
	// Format is auto (default: CRI or docker json-file, told apart by the
	// first line) or plain (lines of text, such as /var/log/messages).
	Format string `yaml:"format"`
	// Multiline and Parser are as tail.multiline and tail.parser, for a
	// files input's files.
	Multiline string `yaml:"multiline"`
	Parser    string `yaml:"parser"`
	// Match lists FIELD=value terms a journal entry must have: terms on
	// the same field are alternatives, terms on different fields must all
	// hold (journalctl's matches). Default none: every entry.
	Match []string `yaml:"match"`
	// Priority keeps journal entries whose PRIORITY is in a range, such as
	// "0..6" or "emerg..info" (journalctl -p). Default any.
	Priority string `yaml:"priority"`
	// Not lists FIELD=value terms a journal entry must not have.
	Not []string `yaml:"not"`
	// Fields maps the keys of a journal input's records to journal fields.
	// Default {hostname: _HOSTNAME, systemd_unit: _SYSTEMD_UNIT, message:
	// MESSAGE}.
	Fields map[string]string `yaml:"fields"`
	// LogGroup and LogStream are the input's CloudWatch destination,
	// templates as cloudwatch.log_group's; {tag} is what Fluent Bit's tag
	// holds in place of "*" (var.log.containers.<file>, or the journal
	// entry's unit).
	LogGroup  string `yaml:"log_group"`
	LogStream string `yaml:"log_stream"`
	// EC2Metadata adds the node's az and ec2_instance_id to the records,
	// from the instance metadata service, as Container Insights' aws
	// filter does for its dataplane and host records. Default true for the
	// default inputs, false for an added one.
	EC2Metadata bool `yaml:"ec2_metadata"`
}

// newSection makes a new input, named in the file without a default:
// enabled, in the auto format for files.
func (in *Input) newSection() { in.Enabled = true }

// Journal configures where the journal inputs read.
type Journal struct {
	// Dirs are the journal directories. Default [/var/log/journal,
	// /run/log/journal].
	Dirs []string `yaml:"dirs"`
	// ReadFrom is where the journal is read from on the first start,
	// without a saved cursor: end (default, as Container Insights'
	// Read_From_Tail) or beginning.
	ReadFrom string `yaml:"read_from"`
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
	// Labels attaches pod labels. Default false, as Container Insights.
	Labels bool `yaml:"labels"`
	// Annotations attaches pod annotations. Default false, as Container
	// Insights.
	Annotations bool `yaml:"annotations"`
	// OwnerReferences attaches the pod's owner references as
	// kubernetes.ownerReferences, as Fluent Bit's owner_references.
	// Default false.
	OwnerReferences bool `yaml:"owner_references"`
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
	// {host}-application.{tag}: <node>-application.var.log.containers.<file>,
	// Container Insights' name.
	LogStream string `yaml:"log_stream"`
	// Format is json (default: Fluent Bit's kubernetes filter shape) or raw
	// (the line alone).
	Format string `yaml:"format"`
	// Parse is json (default) or "": parse JSON lines (those that start
	// with "{") into the record; a pod's fluentbit.io/parser or
	// skiff.io/parser annotation asks for the same.
	Parse string `yaml:"parse"`
	// MergeKey is where a parsed line's object goes, beside the line in
	// "log": log_processed (default, Container Insights' Merge_Log_Key);
	// "" merges its members at the top level in place of "log".
	MergeKey string `yaml:"merge_key"`
	// BufferBytes is the memory budget for batched and in-flight data; the
	// only buffer in memory. Default 64MiB.
	BufferBytes Size `yaml:"buffer_bytes"`
	// FlushInterval is the longest a batch waits. Default 1s.
	FlushInterval Duration `yaml:"flush_interval"`
	// MaxFlushInterval bounds how far FlushInterval stretches when many
	// streams fill batches at once. Default 5s; less than FlushInterval
	// means FlushInterval (no stretching).
	MaxFlushInterval Duration `yaml:"max_flush_interval"`
	// BatchBytes sends a stream's batch once it holds this much, before
	// FlushInterval. Default 256KiB, at most 1MiB.
	BatchBytes Size `yaml:"batch_bytes"`
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
	// Parse is "" (default) or json: parse JSON lines into the record.
	Parse string `yaml:"parse"`
	// MergeKey is as cloudwatch.merge_key. Default log_processed.
	MergeKey string `yaml:"merge_key"`
}

// Stdout configures the stdout output: one JSON line per record.
type Stdout struct {
	// Format is json (default) or raw.
	Format string `yaml:"format"`
	// Parse is "" (default) or json: parse JSON lines into the record.
	Parse string `yaml:"parse"`
	// MergeKey is as cloudwatch.merge_key. Default log_processed.
	MergeKey string `yaml:"merge_key"`
}

// Default returns the configuration used for every key the file leaves out:
// each component's documented defaults, and those that depend on the
// environment. getenv supplies the environment (nil means none).
func Default(getenv func(string) string) Config {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return Config{
		Cluster:         defaultCluster(getenv),
		NodeName:        cmp.Or(getenv("NODE_NAME"), hostname()),
		ShutdownTimeout: Duration(25 * time.Second),
		HTTP:            HTTP{Listen: "127.0.0.1:2021"},
		Log:             Log{Level: "info", Format: "auto"},
		Tail: Tail{
			Include:            []string{tailer.DefaultInclude},
			Exclude:            []string{"/var/log/containers/aws-node*", "/var/log/containers/kube-proxy*"},
			ReadFrom:           tailer.ReadFromBeginning,
			StateDir:           "/var/lib/skiff",
			CheckpointInterval: Duration(tailer.DefaultCheckpointInterval),
			MaxLineBytes:       tailer.DefaultMaxLineBytes,
			LongLines:          tailer.LongLinesSplit,
			MaxOpenFiles:       tailer.DefaultMaxOpenFiles,
			MaxDeletedBytes:    tailer.DefaultMaxDeletedBytes,
			MaxSpoolBytes:      tailer.DefaultMaxSpoolBytes,
			RescanInterval:     Duration(tailer.DefaultRescanInterval),
			ReadBudget:         tailer.DefaultReadBudget,
		},
		Inputs:  DefaultInputs(getenv("KUBERNETES_SERVICE_HOST") != ""),
		Journal: Journal{Dirs: []string{journal.DefaultPersistentDir, journal.DefaultVolatileDir}, ReadFrom: journal.ReadFromEnd},
		Kubernetes: Kubernetes{
			Enabled:         getenv("KUBERNETES_SERVICE_HOST") != "",
			MetadataWait:    Duration(enrich.DefaultMetadataWait),
			DeletedPodGrace: Duration(enrich.DefaultDeletedPodGrace),
			ExcludeSelf:     true,
		},
		Output: OutputCloudWatch,
		CloudWatch: CloudWatch{
			Region:           cmp.Or(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION")),
			LogGroup:         cloudwatch.DefaultLogGroup,
			LogStream:        ApplicationLogStream,
			Format:           sinks.FormatJSON,
			Parse:            sinks.ParseJSON,
			MergeKey:         DefaultMergeKey,
			BufferBytes:      sinks.DefaultBufferBytes,
			FlushInterval:    Duration(cloudwatch.DefaultFlushInterval),
			BatchBytes:       cloudwatch.DefaultBatchBytes,
			MaxFlushInterval: Duration(cloudwatch.DefaultMaxFlushInterval),
			AutoCreateGroup:  true,
			LogGroupClass:    cloudwatch.ClassStandard,
		},
		File: File{Format: sinks.FormatJSON, MergeKey: DefaultMergeKey,
			MaxBytes: file.DefaultMaxBytes, MaxFiles: file.DefaultMaxFiles},
		Stdout:    Stdout{Format: sinks.FormatJSON, MergeKey: DefaultMergeKey},
		Multiline: Multiline{Quiet: Duration(tailer.DefaultMultilineQuiet)},
	}
}

// ApplicationInput names the input of tail.include: {input} in templates.
const ApplicationInput = "application"

// Container Insights' layout, the defaults.
const (
	// ApplicationLogStream is <node>-application.var.log.containers.<file>.
	ApplicationLogStream = "{host}-application.{tag}"
	// DefaultMergeKey is where a JSON line's object goes, beside "log".
	DefaultMergeKey = "log_processed"
	dataplaneGroup  = "/aws/containerinsights/{cluster}/dataplane"
	hostGroup       = "/aws/containerinsights/{cluster}/host"
)

// DefaultInputs are Container Insights' dataplane and host inputs: the
// kubelet, containerd and docker units and the aws-node and kube-proxy
// containers in /dataplane; kernel messages, syslog priorities 0 to 6
// (except the mail, cron and authpriv facilities) and the authpriv
// facility in /host, from the journal. They are enabled in a cluster:
// outside one (a laptop) a machine's own journal is not shipped unless
// asked.
func DefaultInputs(enabled bool) map[string]Input {
	host := map[string]string{"host": "_HOSTNAME", "ident": "SYSLOG_IDENTIFIER", "pid": "_PID", "message": "MESSAGE"}
	in := func(i Input) Input { i.Enabled, i.EC2Metadata = enabled, true; return i }
	return map[string]Input{
		"dataplane": in(Input{
			Type:     InputJournal,
			Match:    []string{"_SYSTEMD_UNIT=kubelet.service", "_SYSTEMD_UNIT=containerd.service", "_SYSTEMD_UNIT=docker.service"},
			Fields:   maps.Clone(journal.DefaultFields),
			LogGroup: dataplaneGroup, LogStream: "{host}-dataplane.systemd.{tag}",
		}),
		"dataplane-containers": in(Input{
			Type:     InputFiles,
			Include:  []string{"/var/log/containers/aws-node*", "/var/log/containers/kube-proxy*"},
			Format:   tailer.FormatAuto,
			LogGroup: dataplaneGroup, LogStream: "{host}-dataplane.tail.{tag}",
		}),
		"host-dmesg": in(Input{
			Type: InputJournal, Match: []string{"_TRANSPORT=kernel"}, Fields: maps.Clone(host),
			LogGroup: hostGroup, LogStream: "{host}.host.dmesg",
		}),
		"host-messages": in(Input{
			Type: InputJournal, Priority: "0..6",
			Not:    []string{"SYSLOG_FACILITY=2", "SYSLOG_FACILITY=9", "SYSLOG_FACILITY=10"},
			Fields: maps.Clone(host), LogGroup: hostGroup, LogStream: "{host}.host.messages",
		}),
		"host-secure": in(Input{
			Type: InputJournal, Match: []string{"SYSLOG_FACILITY=10"}, Fields: maps.Clone(host),
			LogGroup: hostGroup, LogStream: "{host}.host.secure",
		}),
	}
}

// DefaultCluster is the cluster name outside a cluster when neither the
// file nor $CLUSTER_NAME gives one.
const DefaultCluster = "default"

// defaultCluster is $CLUSTER_NAME; else, outside a cluster, DefaultCluster.
func defaultCluster(getenv func(string) string) string {
	if c := getenv("CLUSTER_NAME"); c != "" || getenv("KUBERNETES_SERVICE_HOST") != "" {
		return c
	}
	return DefaultCluster
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

// Floors of the file that are above the components' own: a budget below
// two full batches, or files rotated below 1 MiB, only make trouble on a
// node.
const (
	minBufferBytes  = 2 << 20
	minFileMaxBytes = 1 << 20
)

// Validate checks every section, whatever the output: the rules of the
// file itself here (choices of skiff's own keys, the keys an output
// requires, floors), and every component's own rules by calling its
// Validate on the configuration built from the file (see build.go). It
// returns every problem found, each a *FieldError.
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
	if c.Cluster == "" && c.Output == OutputCloudWatch {
		bad("cluster", "not set: name the cluster the log groups are for with cluster:, $CLUSTER_NAME or the chart's config.cluster (skiff does not guess one)")
	}
	oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf("log.format", c.Log.Format, "auto", "json", "text")
	oneOf("output", c.Output, OutputCloudWatch, OutputStdout, OutputFile)
	if l := c.HTTP.Listen; l != "" && l != "off" {
		if _, port, err := net.SplitHostPort(l); err != nil || port == "" || strings.Trim(port, "0123456789") != "" {
			bad("http.listen", "%q is not host:port, \"\" or off", l)
		}
	}

	// Zero means "the default" to the components; in the file these keys
	// are never 0.
	for _, d := range []struct {
		key string
		v   Duration
	}{
		{"shutdown_timeout", c.ShutdownTimeout}, {"tail.checkpoint_interval", c.Tail.CheckpointInterval},
		{"tail.rescan_interval", c.Tail.RescanInterval}, {"cloudwatch.flush_interval", c.CloudWatch.FlushInterval},
		{"cloudwatch.max_flush_interval", c.CloudWatch.MaxFlushInterval},
	} {
		if d.v <= 0 {
			bad(d.key, "must be positive, got %s", d.v)
		}
	}
	for _, n := range []struct {
		key string
		v   int64
	}{
		{"tail.max_line_bytes", int64(c.Tail.MaxLineBytes)}, {"tail.max_open_files", int64(c.Tail.MaxOpenFiles)},
		{"tail.read_budget", int64(c.Tail.ReadBudget)}, {"file.max_files", int64(c.File.MaxFiles)},
	} {
		if n.v == 0 {
			bad(n.key, "must not be 0")
		}
	}

	t := &c.Tail
	if len(t.Include) == 0 {
		bad("tail.include", "must list at least one glob")
	}
	for _, k := range []struct {
		key   string
		globs []string
	}{{"tail.include", t.Include}, {"tail.exclude", t.Exclude}} {
		for _, g := range k.globs {
			if g != "" && !filepath.IsAbs(g) {
				bad(k.key, "%q: must be an absolute path", g)
			}
		}
	}

	errs = append(errs, c.validateInputs()...)

	cw := &c.CloudWatch
	if c.Output == OutputCloudWatch && cw.Region == "" {
		bad("cloudwatch.region", "not set, and neither is AWS_REGION: set cloudwatch.region, AWS_REGION or --region")
	}
	if cw.LogGroup == "" {
		bad("cloudwatch.log_group", "must not be empty")
	}
	if cw.LogStream == "" {
		bad("cloudwatch.log_stream", "must not be empty")
	}
	if cw.BatchBytes < 1 || cw.BatchBytes > cloudwatch.MaxBatchBytes {
		bad("cloudwatch.batch_bytes", "must be between 1 and %s (a request's limit), got %s", Size(cloudwatch.MaxBatchBytes), cw.BatchBytes)
	}
	if cw.BufferBytes < minBufferBytes {
		bad("cloudwatch.buffer_bytes", "must be at least %s (two full batches), got %s", Size(minBufferBytes), cw.BufferBytes)
	}
	if c.Output == OutputFile && c.File.Path == "" {
		bad("file.path", "must be set when output is file")
	}
	if c.File.MaxBytes < minFileMaxBytes {
		bad("file.max_bytes", "must be at least %s, got %s", Size(minFileMaxBytes), c.File.MaxBytes)
	}
	_, perrs := c.ProcessConfig()
	errs = append(errs, perrs...)
	_, merrs := c.MultilineRules()
	errs = append(errs, merrs...)
	return append(errs, c.componentErrors()...)
}

// validateInputs checks the inputs and the journal section.
func (c *Config) validateInputs() []*FieldError {
	var errs []*FieldError
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	for _, name := range slices.Sorted(maps.Keys(c.Inputs)) {
		in := c.Inputs[name]
		key := "inputs." + name
		if name == "" || name == ApplicationInput || strings.ContainsAny(name, " .{}") {
			bad(key, "%q cannot name an input: not empty, not %s (tail.include's), without spaces, dots or braces", name, ApplicationInput)
		}
		for _, k := range []struct{ key, v string }{{"log_group", in.LogGroup}, {"log_stream", in.LogStream}} {
			if k.v == "" {
				bad(key+"."+k.key, "must not be empty")
			} else if _, err := cloudwatch.ParseTemplate(k.v); err != nil {
				bad(key+"."+k.key, "%v", err)
			}
		}
		switch in.Type {
		case InputFiles:
			if in.Enabled && len(in.Include) == 0 {
				bad(key+".include", "must list at least one glob")
			}
			for _, g := range []struct {
				key   string
				globs []string
			}{{".include", in.Include}, {".exclude", in.Exclude}} {
				for _, p := range g.globs {
					if !filepath.IsAbs(p) {
						bad(key+g.key, "%q: must be an absolute path", p)
					} else if _, err := filepath.Match(p, ""); err != nil {
						bad(key+g.key, "%q: %v", p, err)
					}
				}
			}
			if in.Format != "" && in.Format != tailer.FormatAuto && in.Format != tailer.FormatPlain {
				bad(key+".format", "%q is not one of %s, %s", in.Format, tailer.FormatAuto, tailer.FormatPlain)
			}
			for _, k := range []struct {
				key string
				set bool
			}{{"match", len(in.Match) > 0}, {"priority", in.Priority != ""}, {"not", len(in.Not) > 0}, {"fields", len(in.Fields) > 0}} {
				if k.set {
					bad(key+"."+k.key, "is a key of journal inputs; this input is of type files")
				}
			}
		case InputJournal:
			terms := 0
			for _, k := range []struct {
				key   string
				terms []string
			}{{".match", in.Match}, {".not", in.Not}} {
				for _, term := range k.terms {
					if name, _, ok := strings.Cut(term, "="); !ok || name == "" {
						bad(key+k.key, "%q is not FIELD=value", term)
						terms++
					}
				}
			}
			if _, err := journalMatch(in); err != nil && terms == 0 {
				bad(key, "%v", err)
			}
			for k, f := range in.Fields {
				if k == "" || f == "" {
					bad(key+".fields", "%q: %q: neither the key nor the journal field may be empty", k, f)
				}
			}
			for _, k := range []struct {
				key string
				set bool
			}{{"include", len(in.Include) > 0}, {"exclude", len(in.Exclude) > 0}, {"format", in.Format != ""}, {"multiline", in.Multiline != ""}, {"parser", in.Parser != ""}} {
				if k.set {
					bad(key+"."+k.key, "is a key of files inputs; this input is of type journal")
				}
			}
		default:
			bad(key+".type", "%q is not one of %s, %s", in.Type, InputFiles, InputJournal)
		}
	}
	for _, d := range c.Journal.Dirs {
		if !filepath.IsAbs(d) {
			bad("journal.dirs", "%q: must be an absolute path", d)
		}
	}
	if r := c.Journal.ReadFrom; r != journal.ReadFromBeginning && r != journal.ReadFromEnd {
		bad("journal.read_from", "%q is not one of %s, %s", r, journal.ReadFromBeginning, journal.ReadFromEnd)
	}
	return errs
}

// journalMatch is the journal.Match of a journal input.
func journalMatch(in Input) (journal.Match, error) {
	m := journal.Match{Fields: in.Match, Not: in.Not}
	if in.Priority != "" {
		p, err := journal.ParsePriorities(in.Priority)
		if err != nil {
			return m, fmt.Errorf("priority: %w", err)
		}
		m.Priorities = p
	}
	if err := (journal.Filter{m}).Validate(); err != nil {
		return m, fmt.Errorf("match: %w", err)
	}
	return m, nil
}
