package cloudwatch

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/sinks"
)

// Defaults of Config.
const (
	DefaultLogGroup      = "/aws/containerinsights/{cluster}/application"
	DefaultLogStream     = "{kubernetes.pod_name}_{kubernetes.namespace_name}_{kubernetes.container_name}"
	DefaultFlushInterval = time.Second
	DefaultBatchBytes    = 256 << 10
	// DefaultMaxFlushInterval is Container Insights' Fluent Bit flush.
	DefaultMaxFlushInterval = 5 * time.Second
	DefaultMaxConcurrency   = 16
	DefaultStreamIdle       = time.Hour
	DefaultRequestTimeout   = 30 * time.Second
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
	// MergeKey puts a parsed line's object under this key beside "log"
	// (sinks.EncoderConfig.MergeKey); "" merges it at the top level.
	MergeKey string
	// Routes are the destinations of the inputs that have their own, by
	// input name (tailer.FileMeta.Input); records of other inputs go to
	// LogGroup and LogStream.
	Routes map[string]Route
	// InputFields are fields added to the records of an input
	// (sinks.EncoderConfig.InputFields).
	InputFields map[string][][2]string
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
	// MaxFlushInterval bounds how far FlushInterval stretches when many
	// streams are filling batches at once (a timed flush then aims at
	// about 100 requests per second); default DefaultMaxFlushInterval.
	// Not above FlushInterval, nothing stretches.
	MaxFlushInterval time.Duration
	// BatchBytes is the size (message bytes + 26 per event) at which a
	// stream's batch is sent without waiting for FlushInterval; default
	// DefaultBatchBytes, at most MaxBatchBytes. A busy stream then holds
	// a quarter of a second's worth instead of a whole one. A paused or
	// retrying destination fills its batch up to MaxBatchBytes.
	BatchBytes int
	// MaxConcurrency caps parallel PutLogEvents requests; default 16. The
	// limit in force adapts between 1 and this cap. Each request in flight
	// keeps an HTTPS connection open after it (idle for up to 30 s), and
	// flush bursts drive the limit to the cap: 64 held about 60
	// connections on a node with a thousand containers (5 MiB of its RSS),
	// where 16 connections carry 80 MB/s of 256 KiB batches at a 50 ms
	// round trip.
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

// RetentionDays are the values of Config.RetentionDays that
// PutRetentionPolicy accepts, besides 0 (never expire).
func RetentionDays() []int {
	return []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
}

// Log group classes of Config.LogGroupClass.
const (
	ClassStandard         = "STANDARD"
	ClassInfrequentAccess = "INFREQUENT_ACCESS"
)

// Route is the destination of one input's records.
type Route struct {
	// LogGroup and LogStream are name templates, as Config's.
	LogGroup, LogStream string
}

// Validate reports every setting New would refuse, each a
// *sinks.FieldError, joined: template syntax, format, endpoint, limits,
// retention and class. It does not require a region: the SDK's chain may
// supply one.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &sinks.FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	for _, t := range []struct{ field, src, def string }{
		{"LogGroup", c.LogGroup, DefaultLogGroup},
		{"LogStream", c.LogStream, DefaultLogStream},
	} {
		src := cmp.Or(t.src, t.def)
		if _, err := ParseTemplate(src); err != nil {
			bad(t.field, "%v", err)
		}
	}
	for name, r := range c.Routes {
		for _, t := range []struct{ field, src string }{{"LogGroup", r.LogGroup}, {"LogStream", r.LogStream}} {
			if _, err := ParseTemplate(t.src); err != nil {
				bad("Routes["+name+"]."+t.field, "%v", err)
			} else if t.src == "" {
				bad("Routes["+name+"]."+t.field, "must not be empty")
			}
		}
	}
	errs = append(errs, (sinks.EncoderConfig{Format: c.Format, Parse: c.Parse, MergeKey: c.MergeKey}).Validate())
	if c.Endpoint != "" && !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		bad("Endpoint", "%q must be a URL starting with http:// or https://", c.Endpoint)
	}
	for _, n := range []struct {
		field string
		v     int64
	}{
		{"BufferBytes", c.BufferBytes}, {"FlushInterval", int64(c.FlushInterval)}, {"BatchBytes", int64(c.BatchBytes)}, {"MaxFlushInterval", int64(c.MaxFlushInterval)},
		{"MaxConcurrency", int64(c.MaxConcurrency)}, {"MaxRetryDuration", int64(c.MaxRetryDuration)},
		{"StreamIdle", int64(c.StreamIdle)}, {"RequestTimeout", int64(c.RequestTimeout)},
	} {
		if n.v < 0 {
			bad(n.field, "must not be negative")
		}
	}
	if c.BatchBytes > MaxBatchBytes {
		bad("BatchBytes", "%d is more than a request holds (%d)", c.BatchBytes, MaxBatchBytes)
	}
	if days := RetentionDays(); c.RetentionDays != 0 && !slices.Contains(days, c.RetentionDays) {
		list := make([]string, len(days))
		for i, d := range days {
			list[i] = strconv.Itoa(d)
		}
		bad("RetentionDays", "%d is not a value CloudWatch accepts (%s)", c.RetentionDays, strings.Join(list, ", "))
	}
	switch c.LogGroupClass {
	case "", ClassStandard, ClassInfrequentAccess:
	default:
		bad("LogGroupClass", "%q is not one of %s, %s", c.LogGroupClass, ClassStandard, ClassInfrequentAccess)
	}
	if c.ExternalID != "" && c.RoleARN == "" {
		bad("ExternalID", "needs a role to assume (role_arn)")
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
	if c.BatchBytes == 0 {
		c.BatchBytes = DefaultBatchBytes
	}
	if c.MaxFlushInterval == 0 {
		c.MaxFlushInterval = DefaultMaxFlushInterval
	}
	c.MaxFlushInterval = max(c.MaxFlushInterval, c.FlushInterval)
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
