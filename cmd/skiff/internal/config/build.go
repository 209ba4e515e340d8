package config

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/skiff-agent/skiff/enrich"
	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/sinks/cloudwatch"
	"github.com/skiff-agent/skiff/sinks/file"
	"github.com/skiff-agent/skiff/sinks/stdout"
	"github.com/skiff-agent/skiff/tailer"
	"github.com/skiff-agent/skiff/tailer/journal"
)

// This file is the one place where the file's sections become the
// components' configurations, and where the components' own Validate
// judges them. Loggers and registerers are left for the caller to set.

// TailerConfig is the tailer's configuration.
func (c *Config) TailerConfig() tailer.Config {
	t := &c.Tail
	var inputs []tailer.Input
	for _, name := range c.enabledInputs(InputFiles) {
		in := c.Inputs[name]
		inputs = append(inputs, tailer.Input{Name: name, Include: in.Include, Exclude: in.Exclude, Format: in.Format})
	}
	return tailer.Config{
		Name:               ApplicationInput,
		Include:            t.Include,
		Exclude:            t.Exclude,
		Inputs:             inputs,
		ReadFrom:           t.ReadFrom,
		StateDir:           t.StateDir,
		CheckpointInterval: t.CheckpointInterval.Std(),
		MaxLineBytes:       int(t.MaxLineBytes),
		LongLines:          t.LongLines,
		MaxOpenFiles:       t.MaxOpenFiles,
		MaxDeletedBytes:    int64(t.MaxDeletedBytes),
		MaxSpoolBytes:      int64(t.MaxSpoolBytes),
		RescanInterval:     t.RescanInterval.Std(),
		ReadBudget:         int(t.ReadBudget),
		MultilineQuiet:     c.Multiline.Quiet.Std(),
	}
}

// enabledInputs returns the names of the enabled inputs of type typ, in
// order.
func (c *Config) enabledInputs(typ string) []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(c.Inputs)) {
		if in := c.Inputs[name]; in.Enabled && in.Type == typ {
			out = append(out, name)
		}
	}
	return out
}

// EC2MetadataInputs returns the enabled inputs whose records carry the
// node's EC2 metadata.
func (c *Config) EC2MetadataInputs() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(c.Inputs)) {
		if in := c.Inputs[name]; in.Enabled && in.EC2Metadata {
			out = append(out, name)
		}
	}
	return out
}

// JournalConfig is the journal input's configuration; ok is false when no
// journal input is enabled.
func (c *Config) JournalConfig() (_ journal.InputConfig, ok bool) {
	jc := journal.InputConfig{
		Reader:             journal.Config{Dirs: c.Journal.Dirs, ReadFrom: c.Journal.ReadFrom},
		StateDir:           c.Tail.StateDir,
		CheckpointInterval: c.Tail.CheckpointInterval.Std(),
	}
	for _, name := range c.enabledInputs(InputJournal) {
		in := c.Inputs[name]
		m, _ := journalMatch(in) // checked by Validate
		jc.Routes = append(jc.Routes, journal.Route{Name: name, Match: m, Fields: in.Fields})
	}
	return jc, len(jc.Routes) > 0
}

// EnrichConfig is the enricher's configuration. With output cloudwatch,
// the log group and log stream annotations are judged by the CloudWatch
// sink's naming rules.
func (c *Config) EnrichConfig() enrich.Config {
	k := &c.Kubernetes
	ec := enrich.Config{
		NodeName:           c.NodeName,
		Kubeconfig:         k.Kubeconfig,
		MetadataWait:       k.MetadataWait.Std(),
		DeletedPodGrace:    k.DeletedPodGrace.Std(),
		NamespaceMetadata:  k.NamespaceMetadata,
		Labels:             k.Labels || c.usesLabels(),
		Annotations:        k.Annotations,
		OwnerReferences:    k.OwnerReferences,
		IncludeLabels:      k.IncludeLabels,
		ExcludeLabels:      k.ExcludeLabels,
		IncludeAnnotations: k.IncludeAnnotations,
		ExcludeAnnotations: k.ExcludeAnnotations,
		ExcludeSelf:        k.ExcludeSelf,
	}
	if c.Output == OutputCloudWatch {
		ec.CheckLogGroup, ec.CheckLogStream = cloudwatch.CheckLogGroup, cloudwatch.CheckLogStream
	}
	return ec
}

// EncoderConfig is how the stdout and file outputs encode records.
func (c *Config) EncoderConfig(format, parse, mergeKey string) sinks.EncoderConfig {
	return sinks.EncoderConfig{
		Format: format, Parse: parse, MergeKey: mergeKey, Host: c.NodeName,
		Labels: c.Kubernetes.Labels, Annotations: c.Kubernetes.Annotations,
	}
}

// CloudWatchConfig is the CloudWatch sink's configuration.
func (c *Config) CloudWatchConfig() cloudwatch.Config {
	cw := &c.CloudWatch
	return cloudwatch.Config{
		Region:           cw.Region,
		Endpoint:         cw.Endpoint,
		LogGroup:         cw.LogGroup,
		LogStream:        cw.LogStream,
		Cluster:          c.Cluster,
		Host:             c.NodeName,
		Format:           cw.Format,
		Parse:            cw.Parse,
		MergeKey:         cw.MergeKey,
		Routes:           c.routes(),
		Labels:           c.Kubernetes.Labels,
		Annotations:      c.Kubernetes.Annotations,
		BufferBytes:      int64(cw.BufferBytes),
		FlushInterval:    cw.FlushInterval.Std(),
		BatchBytes:       int(cw.BatchBytes),
		MaxFlushInterval: cw.MaxFlushInterval.Std(),
		MaxConcurrency:   cw.MaxConcurrency,
		MaxRetryDuration: cw.MaxRetryDuration.Std(),
		AutoCreateGroup:  cw.AutoCreateGroup,
		RetentionDays:    cw.RetentionDays,
		LogGroupClass:    cw.LogGroupClass,
		KMSKeyID:         cw.KMSKeyID,
		Tags:             cw.Tags,
		RoleARN:          cw.RoleARN,
		ExternalID:       cw.ExternalID,
	}
}

// routes are the destinations of the enabled inputs.
func (c *Config) routes() map[string]cloudwatch.Route {
	out := make(map[string]cloudwatch.Route)
	for name, in := range c.Inputs {
		if in.Enabled {
			out[name] = cloudwatch.Route{LogGroup: in.LogGroup, LogStream: in.LogStream}
		}
	}
	return out
}

// FileConfig is the file sink's configuration.
func (c *Config) FileConfig() file.Config {
	f := &c.File
	return file.Config{
		Path:     f.Path,
		MaxBytes: int64(f.MaxBytes),
		MaxFiles: f.MaxFiles,
		Sync:     f.Sync,
		Encoder:  c.EncoderConfig(f.Format, f.Parse, f.MergeKey),
	}
}

// StdoutOptions are the stdout sink's options.
func (c *Config) StdoutOptions() stdout.Options {
	return stdout.Options{Encoder: c.EncoderConfig(c.Stdout.Format, c.Stdout.Parse, c.Stdout.MergeKey)}
}

// componentErrors is what the components' Validate say of the
// configurations built from c, every section whatever the output, with
// their fields named by the file's keys. The node name enrichment requires
// is judged only when it is enabled, and file.path is a rule of the file
// (Validate), since the file sink's configuration is built whatever the
// output.
func (c *Config) componentErrors() []*FieldError {
	nodeName := "NodeName"
	if c.Kubernetes.Enabled {
		nodeName = ""
	}
	sections := []struct {
		key  string       // the section's key in the file
		typ  reflect.Type // the section's struct
		err  error
		skip string // a field to leave out
	}{
		{"tail", reflect.TypeFor[Tail](), c.TailerConfig().Validate(), ""},
		{"kubernetes", reflect.TypeFor[Kubernetes](), c.EnrichConfig().Validate(), nodeName},
		{"cloudwatch", reflect.TypeFor[CloudWatch](), c.CloudWatchConfig().Validate(), ""},
		{"file", reflect.TypeFor[File](), c.FileConfig().Validate(), "Path"},
		{"stdout", reflect.TypeFor[Stdout](), c.StdoutOptions().Validate(), ""},
	}
	var out []*FieldError
	for _, s := range sections {
		for _, fe := range fieldErrors(s.err) {
			if fe.Key != "" && fe.Key == s.skip {
				continue
			}
			if strings.HasPrefix(fe.Key, "Inputs[") || strings.HasPrefix(fe.Key, "Routes[") {
				continue // the inputs' own rules (validateInputs) judge them
			}
			fe.Key = keyOf(s.key, s.typ, fe.Key)
			out = append(out, fe)
		}
	}
	return out
}

// fieldErrors flattens err, as the components' Validate return it, into
// one FieldError per problem, with the component's field name as Key.
func fieldErrors(err error) []*FieldError {
	switch e := err.(type) {
	case nil:
		return nil
	case interface{ Unwrap() []error }:
		var out []*FieldError
		for _, x := range e.Unwrap() {
			out = append(out, fieldErrors(x)...)
		}
		return out
	case *tailer.FieldError:
		return []*FieldError{{Key: e.Field, Msg: e.Msg}}
	case *enrich.FieldError:
		return []*FieldError{{Key: e.Field, Msg: e.Msg}}
	case *sinks.FieldError:
		return []*FieldError{{Key: e.Field, Msg: e.Msg}}
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		return []*FieldError{fe}
	}
	return []*FieldError{{Msg: err.Error()}}
}

// keyOf names a component's field by the file's key: the key of the field
// with the same Go name in the section (the last part of a path such as
// "Encoder.Format"), else in the top level (NodeName is node_name), else
// the section itself.
func keyOf(section string, typ reflect.Type, field string) string {
	if i := strings.LastIndexByte(field, '.'); i >= 0 {
		field = field[i+1:]
	}
	if f, ok := typ.FieldByName(field); ok && field != "" {
		return section + "." + f.Tag.Get("yaml")
	}
	if f, ok := reflect.TypeFor[Config]().FieldByName(field); ok && field != "" {
		return f.Tag.Get("yaml")
	}
	return section
}
