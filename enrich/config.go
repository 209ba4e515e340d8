package enrich

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Defaults.
const (
	DefaultMetadataWait    = 2 * time.Second
	DefaultDeletedPodGrace = 5 * time.Minute
)

// SelfLabel and SelfValue mark skiff's own pods: with Config.ExcludeSelf
// their records are dropped so the agent never ships its own logs in a loop.
const (
	SelfLabel = "app.kubernetes.io/name"
	SelfValue = "skiff"
)

// Config configures an Enricher. Durations left zero take their defaults;
// the booleans are plain values, so start from DefaultConfig to get the
// documented defaults for them.
type Config struct {
	// NodeName is the node whose pods are watched (the downward API's
	// spec.nodeName, usually $NODE_NAME). Required.
	NodeName string
	// Kubeconfig is the kubeconfig file to use; "" means in-cluster. It is
	// read by NewClient, not by New.
	Kubeconfig string
	// MetadataWait bounds how long records of a pod that is not cached yet
	// wait for its metadata, per pod. Default 2s; negative: never wait.
	MetadataWait time.Duration
	// DeletedPodGrace is how long a deleted pod's metadata stays cached.
	// Default 5m.
	DeletedPodGrace time.Duration
	// ResyncPeriod is the informer's resync period. Default 0: none; a
	// watch keeps the cache current without one.
	ResyncPeriod time.Duration
	// NamespaceMetadata starts a second informer on namespaces: records
	// then carry their namespace's labels and annotations
	// (PodMeta.NamespaceLabels and NamespaceAnnotations), switched on and
	// filtered by the same settings as the pod's own, and they can be
	// looked up with Enricher.Namespace. Default false.
	NamespaceMetadata bool
	// Labels and Annotations attach the pod's labels and annotations.
	// DefaultConfig sets both to true.
	Labels, Annotations bool
	// OwnerReferences attaches the pod's owner references
	// (PodMeta.OwnerReferences), as Fluent Bit's owner_references.
	// Default false.
	OwnerReferences bool
	// IncludeLabels and IncludeAnnotations, when not empty, keep only the
	// keys they match; ExcludeLabels and ExcludeAnnotations drop the keys
	// they match. A pattern is an exact key, or a prefix followed by "*".
	// Annotation controls (skiff.io/..., fluentbit.io/...) act whatever
	// these lists say.
	IncludeLabels, ExcludeLabels           []string
	IncludeAnnotations, ExcludeAnnotations []string
	// ExcludeSelf drops the records of pods labelled
	// app.kubernetes.io/name=skiff. DefaultConfig sets it to true.
	ExcludeSelf bool
	// CheckLogGroup and CheckLogStream judge the values of the log group
	// and log stream annotations (AnnotationLogGroup, AnnotationLogStream)
	// by the rules of the sink that uses them, which own those rules; nil
	// (default) passes values through unjudged. A value they refuse is
	// ignored, logged and counted in skiff_enrich_invalid_annotations_total
	// with reason "destination".
	CheckLogGroup, CheckLogStream func(value string) error
	// Parsers and MultilineRules are the names the parser annotation
	// (AnnotationParser, FluentBitParser) and the multiline annotation
	// (AnnotationMultiline) may take; other values are ignored, logged and
	// counted with reason "value". Default: the parser annotation takes
	// "json" only, the multiline annotation nothing.
	Parsers, MultilineRules []string
	// Logger receives state changes of the watch and invalid annotations;
	// nil discards.
	Logger *slog.Logger
	// Registerer receives the package's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// DefaultConfig returns the defaults: labels and annotations attached,
// skiff's own pods excluded, a 2s metadata wait and a 5m deleted-pod grace.
func DefaultConfig() Config {
	return Config{
		MetadataWait:    DefaultMetadataWait,
		DeletedPodGrace: DefaultDeletedPodGrace,
		Labels:          true,
		Annotations:     true,
		ExcludeSelf:     true,
	}
}

// FieldError is one invalid field of a Config.
type FieldError struct {
	// Field is the name of the Config field, such as "DeletedPodGrace".
	Field string
	// Msg says what is wrong with its value.
	Msg string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Validate reports every invalid field, each a *FieldError, joined: a
// missing node name, a negative grace or resync period, a malformed key
// pattern.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if c.NodeName == "" {
		bad("NodeName", "required to watch this node's pods (set it from the downward API's spec.nodeName)")
	}
	if c.DeletedPodGrace < 0 {
		bad("DeletedPodGrace", "%v: must not be negative", c.DeletedPodGrace)
	}
	if c.ResyncPeriod < 0 {
		bad("ResyncPeriod", "%v: must not be negative", c.ResyncPeriod)
	}
	for _, l := range []struct {
		field string
		list  []string
	}{
		{"IncludeLabels", c.IncludeLabels}, {"ExcludeLabels", c.ExcludeLabels},
		{"IncludeAnnotations", c.IncludeAnnotations}, {"ExcludeAnnotations", c.ExcludeAnnotations},
	} {
		for _, p := range l.list {
			if p == "" || strings.Contains(strings.TrimSuffix(p, "*"), "*") {
				bad(l.field, "pattern %q: want a key, or a prefix followed by *", p)
			}
		}
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.MetadataWait == 0 {
		c.MetadataWait = DefaultMetadataWait
	}
	if c.MetadataWait < 0 {
		c.MetadataWait = 0
	}
	if c.DeletedPodGrace == 0 {
		c.DeletedPodGrace = DefaultDeletedPodGrace
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// keyFilter selects label or annotation keys.
type keyFilter struct {
	include, exclude []string
}

func (f keyFilter) empty() bool { return len(f.include) == 0 && len(f.exclude) == 0 }

func (f keyFilter) keep(key string) bool {
	if len(f.include) > 0 && !matchAny(f.include, key) {
		return false
	}
	return !matchAny(f.exclude, key)
}

func matchAny(patterns []string, key string) bool {
	for _, p := range patterns {
		if prefix, ok := strings.CutSuffix(p, "*"); ok {
			if strings.HasPrefix(key, prefix) {
				return true
			}
		} else if p == key {
			return true
		}
	}
	return false
}
