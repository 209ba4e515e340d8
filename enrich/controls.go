package enrich

import (
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/skiff-agent/skiff/tailer"
)

// Annotations that control how a pod's logs are shipped. Each skiff.io key
// has a Fluent Bit equivalent, accepted so pods need no change when they
// move from Fluent Bit; the skiff.io key wins when both are set.
const (
	AnnotationExclude   = "skiff.io/exclude"   // "true": drop the pod's logs
	AnnotationParser    = "skiff.io/parser"    // "json": merge JSON lines
	AnnotationLogGroup  = "skiff.io/log-group" // CloudWatch log group override
	AnnotationLogStream = "skiff.io/log-stream"

	FluentBitExclude = "fluentbit.io/exclude"
	FluentBitParser  = "fluentbit.io/parser"
)

// Limits of CloudWatch Logs names.
const maxNameLen = 512

// controls reads the pod's annotation controls. Values that cannot be used
// are ignored and reported through b.invalid.
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
			b.reject(pod, key, v, `want "true" or "false"`)
		}
	}
	if key, v, ok := first(ann, AnnotationParser, FluentBitParser); ok {
		if p := strings.ToLower(strings.TrimSpace(v)); p == "json" {
			c.Parser = p
		} else {
			b.reject(pod, key, v, `the only parser is "json"`)
		}
	}
	if v, ok := ann[AnnotationLogGroup]; ok {
		if why := checkGroupName(v); why != "" {
			b.reject(pod, AnnotationLogGroup, v, why)
		} else {
			c.LogGroup = v
		}
	}
	if v, ok := ann[AnnotationLogStream]; ok {
		if why := checkStreamName(v); why != "" {
			b.reject(pod, AnnotationLogStream, v, why)
		} else {
			c.LogStream = v
		}
	}
	return c
}

func (b *builder) reject(pod *corev1.Pod, key, value, why string) {
	if b.invalid != nil {
		b.invalid(pod, key, value, why)
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

// checkGroupName returns why name is not a valid CloudWatch Logs group
// name (1 to 512 of [.-_/#A-Za-z0-9]), or "".
func checkGroupName(name string) string {
	if name == "" || len(name) > maxNameLen {
		return "log group names are 1 to 512 characters"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '-' || c == '_' || c == '/' || c == '#'
		if !ok {
			return "log group names hold only letters, digits and . - _ / #"
		}
	}
	return ""
}

// checkStreamName returns why name is not a valid CloudWatch Logs stream
// name (1 to 512 characters of valid UTF-8, no ':' or '*'), or "".
func checkStreamName(name string) string {
	if name == "" || utf8.RuneCountInString(name) > maxNameLen {
		return "log stream names are 1 to 512 characters"
	}
	if !utf8.ValidString(name) {
		return "log stream names must be valid UTF-8"
	}
	if strings.ContainsAny(name, ":*") {
		return "log stream names cannot contain : or *"
	}
	return ""
}
