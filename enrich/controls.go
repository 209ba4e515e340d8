package enrich

import (
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiff-agent/skiff/tailer"
)

// Annotations that control how a pod's logs are shipped. Each skiff.io key
// has a Fluent Bit equivalent, accepted so pods need no change when they
// move from Fluent Bit; the skiff.io key wins when both are set.
const (
	AnnotationExclude   = "skiff.io/exclude"    // "true": drop the pod's logs
	AnnotationParser    = "skiff.io/parser"     // a parser: json, logfmt, nginx, ...
	AnnotationLogGroup  = "skiff.io/log-group"  // log group (template) override
	AnnotationLogStream = "skiff.io/log-stream" // log stream (template) override
	AnnotationMultiline = "skiff.io/multiline"  // a multi-line rule: java, python, ...

	FluentBitExclude = "fluentbit.io/exclude"
	FluentBitParser  = "fluentbit.io/parser"
)

// Reasons an annotation control is ignored (label "reason" of
// skiff_enrich_invalid_annotations_total).
const (
	reasonValue       = "value"       // not one of the values the control takes
	reasonDestination = "destination" // refused by the sink's naming rules
)

// controls reads the pod's annotation controls. Values that cannot be used
// are ignored and reported through b.invalid. The log group and log stream
// values are judged by b.checkGroup and b.checkStream, the rules of the
// sink that uses them, or passed through when those are nil.
func (b *builder) controls(pod *corev1.Pod) tailer.Controls {
	var c tailer.Controls
	ann := pod.Annotations
	if len(ann) == 0 {
		return c
	}
	if key, v, ok := first(ann, AnnotationExclude, FluentBitExclude); ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			c.Exclude = true
		case "false", "":
		default:
			b.reject(pod, key, v, reasonValue, `want "true" or "false"`)
		}
	}
	if key, v, ok := first(ann, AnnotationParser, FluentBitParser); ok {
		parsers := b.parsers
		if len(parsers) == 0 {
			parsers = []string{"json"}
		}
		if p := strings.TrimSpace(v); slices.Contains(parsers, p) {
			c.Parser = p
		} else if p := strings.ToLower(p); slices.Contains(parsers, p) {
			c.Parser = p
		} else {
			b.reject(pod, key, v, reasonValue, "not a parser: "+strings.Join(parsers, ", "))
		}
	}
	if v, ok := ann[AnnotationMultiline]; ok {
		if r := strings.TrimSpace(v); slices.Contains(b.multiline, r) {
			c.Multiline = r
		} else {
			b.reject(pod, AnnotationMultiline, v, reasonValue, "not a multiline rule: "+strings.Join(b.multiline, ", "))
		}
	}
	c.LogGroup = b.destination(pod, AnnotationLogGroup, b.checkGroup)
	c.LogStream = b.destination(pod, AnnotationLogStream, b.checkStream)
	return c
}

// destination returns the value of the annotation key when check accepts
// it (or is nil), else "" after reporting it.
func (b *builder) destination(pod *corev1.Pod, key string, check func(string) error) string {
	v, ok := pod.Annotations[key]
	if !ok {
		return ""
	}
	if check != nil {
		if err := check(v); err != nil {
			b.reject(pod, key, v, reasonDestination, err.Error())
			return ""
		}
	}
	return v
}

func (b *builder) reject(pod *corev1.Pod, key, value, reason, why string) {
	if b.invalid != nil {
		b.invalid(pod, key, value, reason, why)
	}
}

// first returns the first of keys present in ann.
func first(ann map[string]string, keys ...string) (string, string, bool) {
	for _, k := range keys {
		if v, ok := ann[k]; ok {
			return k, v, true
		}
	}
	return "", "", false
}
