// Package enrich attaches Kubernetes pod metadata to log records.
//
// An Enricher is a tailer.Consumer placed in front of a sink. It keeps a
// cache of the pods on one node, filled by a single informer that lists and
// watches pods with the field selector spec.nodeName=<node> (no periodic
// resync unless asked), and attaches each record's pod by the UID that the
// tailer read from the log file's path.
//
// Guarantees:
//
//   - Enrichment never gates reading. A record whose pod is not cached yet
//     waits for it at most Config.MetadataWait, counted from the moment that
//     pod was first asked for: the bound is per pod, not per line, so only
//     the first batch of an unknown pod can wait. After that the record is
//     forwarded with its path metadata only (Record.Pod nil), and counted.
//   - A pod deleted from the API server keeps its metadata for
//     Config.DeletedPodGrace, so lines read after the deletion are still
//     enriched.
//   - A PodMeta is never modified once attached. A change to a pod publishes
//     a new *tailer.PodMeta; an update that changes nothing skiff uses keeps
//     the old pointer, so sinks may cache per-pod encodings by pointer.
//     With Config.NamespaceMetadata, a PodMeta also carries its namespace's
//     labels and annotations, and a change to those publishes a new
//     *tailer.PodMeta for each of the namespace's cached pods.
//   - When the API server is down, slow or forbids the watch, records keep
//     flowing with whatever is cached (or path metadata); client-go
//     reconnects with backoff, and the Enricher logs one line per change of
//     the watch's state and counts every error. Readiness must not depend
//     on Synced.
//   - Pods annotated skiff.io/exclude: "true" (or fluentbit.io/exclude) and,
//     by default, skiff's own pods (label app.kubernetes.io/name=skiff) have
//     their records dropped, acknowledged and counted.
//
// Limits: a pod's exclude and parser annotations act only once its metadata
// is known, so lines read while the API server is unreachable are shipped
// with path metadata even for excluded pods. Per-stream and per-container
// variants of Fluent Bit's annotations (fluentbit.io/exclude_stdout,
// fluentbit.io/parser-<container>) are not supported. The Deployment of a
// ReplicaSet and the CronJob of a Job are derived from their names, without
// extra API calls; a hand-made Job whose name ends in a number of
// minutes-since-1970 looks like a CronJob's.
package enrich
