package cloudwatch

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/sinks"
)

// Defaults of Config.
const (
	DefaultLogGroup       = "/aws/containerinsights/{cluster}/application"
	DefaultLogStream      = "{kubernetes.pod_name}_{kubernetes.namespace_name}_{kubernetes.container_name}"
	DefaultFlushInterval  = time.Second
	DefaultMaxConcurrency = 64
	DefaultStreamIdle     = time.Hour
	DefaultRequestTimeout = 30 * time.Second
)

// Config configures the CloudWatch Logs sink. The zero value, plus a
// region, ships the Container Insights layout with the SDK's default
// credential chain.
type Config struct {
	// Region is the AWS Region; default from the SDK chain (AWS_REGION, the
	// profile).
	Region string
	// Endpoint overrides the service URL (cwlocal, LocalStack, a VPC
	// endpoint); default the Region's public endpoint.
	Endpoint string
	// LogGroup is the log group name template; default DefaultLogGroup.
	LogGroup string
	// LogStream is the log stream name template; default DefaultLogStream.
	LogStream string
	// Cluster and Host are the values of {cluster} and of {host} (the
	// latter when the pod's metadata is unknown).
	Cluster, Host string
	// Format is "json" (default, the Fluent Bit kubernetes-filter shape) or
	// "raw" (the line alone).
	Format string
	// Parse is "" or "json": JSON object lines are merged into the record.
	Parse string
	// Labels and Annotations include the pod's labels and annotations in
	// the JSON shape (false in the zero Config; the config file defaults
	// them to true).
	Labels, Annotations bool
	// BufferBytes is the byte budget for batched plus in-flight messages
	// (message bytes + 26 per event); default 64 MiB. Below a few MiB it
	// limits batch sizes and parallelism.
	BufferBytes int64
	// FlushInterval is the longest an event waits in a batch; default 1s.
	FlushInterval time.Duration
	// MaxConcurrency caps parallel PutLogEvents requests; default 64. The
	// limit in force adapts between 1 and this cap.
	MaxConcurrency int
	// MaxRetryDuration drops a batch (counted, acknowledged) after it has
	// been retried this long; 0 (default) retries until shutdown.
	MaxRetryDuration time.Duration
	// StreamIdle is how long a stream with nothing to send stays cached;
	// default 1h.
	StreamIdle time.Duration
	// RequestTimeout bounds one HTTP attempt; default 30s.
	RequestTimeout time.Duration
	// AutoCreateGroup creates a missing log group with RetentionDays,
	// LogGroupClass ("STANDARD" or "INFREQUENT_ACCESS"), KMSKeyID and Tags.
	AutoCreateGroup bool
	RetentionDays   int
	LogGroupClass   string
	KMSKeyID        string
	Tags            map[string]string
	// RoleARN, when set, is assumed with STS (ExternalID optional) on top
	// of the default chain.
	RoleARN, ExternalID string
	// Credentials replaces the SDK's default credential chain when set.
	Credentials aws.CredentialsProvider
	// Logger receives errors and notable events; nil discards them.
	Logger *slog.Logger
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = map[int]bool{1: true, 3: true, 5: true, 7: true, 14: true, 30: true, 60: true, 90: true,
	120: true, 150: true, 180: true, 365: true, 400: true, 545: true, 731: true, 1096: true, 1827: true,
	2192: true, 2557: true, 2922: true, 3288: true, 3653: true}

// Validate reports every setting New would refuse: template syntax, format,
// limits. The config loader calls it to report errors before starting.
func (c Config) Validate() error {
	var errs []error
	group, stream := c.LogGroup, c.LogStream
	if group == "" {
		group = DefaultLogGroup
	}
	if stream == "" {
		stream = DefaultLogStream
	}
	if _, err := ParseTemplate(group); err != nil {
		errs = append(errs, fmt.Errorf("log_group: %w", err))
	}
	if _, err := ParseTemplate(stream); err != nil {
		errs = append(errs, fmt.Errorf("log_stream: %w", err))
	}
	if err := (sinks.EncoderConfig{Format: c.Format, Parse: c.Parse}).Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.BufferBytes < 0 || c.FlushInterval < 0 || c.MaxConcurrency < 0 || c.MaxRetryDuration < 0 {
		errs = append(errs, errors.New("buffer_bytes, flush_interval, max_concurrency and max_retry_duration must not be negative"))
	}
	if c.RetentionDays != 0 && !retentionDays[c.RetentionDays] {
		errs = append(errs, fmt.Errorf("retention_days %d: not a value CloudWatch accepts (1, 3, 5, 7, 14, 30, … 3653)", c.RetentionDays))
	}
	switch c.LogGroupClass {
	case "", "STANDARD", "INFREQUENT_ACCESS", "DELIVERY":
	default:
		errs = append(errs, fmt.Errorf("log_group_class %q: want STANDARD or INFREQUENT_ACCESS", c.LogGroupClass))
	}
	if c.ExternalID != "" && c.RoleARN == "" {
		errs = append(errs, errors.New("external_id is set without role_arn"))
	}
	return errors.Join(errs...)
}

func (c *Config) setDefaults() {
	if c.LogGroup == "" {
		c.LogGroup = DefaultLogGroup
	}
	if c.LogStream == "" {
		c.LogStream = DefaultLogStream
	}
	if c.BufferBytes == 0 {
		c.BufferBytes = sinks.DefaultBufferBytes
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.MaxConcurrency == 0 {
		c.MaxConcurrency = DefaultMaxConcurrency
	}
	if c.StreamIdle == 0 {
		c.StreamIdle = DefaultStreamIdle
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}
