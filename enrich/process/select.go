package process

import (
	"path"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/skiff-agent/skiff/tailer"
)

// Select picks records by where they come from. Its zero value picks every
// record; each field that is set must match.
type Select struct {
	// Input, Namespace, Pod and Container are glob patterns (path.Match)
	// of the record's input name, pod namespace, pod name and container
	// name.
	Input, Namespace, Pod, Container string
	// Stream is "stdout" or "stderr".
	Stream string
	// Labels selects by the pod's labels (as kubectl -l); nil matches any.
	// A record whose pod is not known has no labels.
	Labels labels.Selector
}

// Validate reports a glob pattern that path.Match refuses.
func (s Select) Validate() error {
	for _, p := range []string{s.Input, s.Namespace, s.Pod, s.Container} {
		if _, err := path.Match(p, ""); err != nil {
			return &patternError{pattern: p, err: err}
		}
	}
	return nil
}

type patternError struct {
	pattern string
	err     error
}

func (e *patternError) Error() string { return "pattern " + quote(e.pattern) + ": " + e.err.Error() }
func (e *patternError) Unwrap() error { return e.err }

// any reports whether s picks every record.
func (s *Select) any() bool {
	return s.Input == "" && s.Namespace == "" && s.Pod == "" && s.Container == "" && s.Stream == "" && s.Labels == nil
}

// Matches reports whether rec is picked.
func (s *Select) Matches(rec *tailer.Record) bool {
	if s.any() {
		return true
	}
	ns, pod, container := names(rec)
	return glob(s.Input, rec.File.Input) && glob(s.Namespace, ns) && glob(s.Pod, pod) &&
		glob(s.Container, container) && (s.Stream == "" || s.Stream == rec.Stream.String()) &&
		(s.Labels == nil || s.Labels.Matches(podLabels(rec)))
}

// names returns the record's namespace, pod and container, from the pod's
// metadata when it is known, else from its file's path.
func names(rec *tailer.Record) (ns, pod, container string) {
	ns, pod, container = rec.File.Namespace, rec.File.Pod, rec.File.Container
	if p := rec.Pod; p != nil {
		ns, pod = p.Namespace, p.Name
	}
	return ns, pod, container
}

func podLabels(rec *tailer.Record) labels.Set {
	if rec.Pod == nil {
		return nil
	}
	return rec.Pod.Labels
}

func glob(pattern, name string) bool {
	if pattern == "" || pattern == "*" {
		return true
	}
	ok, _ := path.Match(pattern, name)
	return ok
}
