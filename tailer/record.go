package tailer

import (
	"context"
	"time"
)

// Stream is the output stream a container wrote a line to.
type Stream uint8

// Streams.
const (
	StreamUnknown Stream = iota
	Stdout
	Stderr
)

// String returns "stdout", "stderr" or "unknown".
func (s Stream) String() string {
	switch s {
	case Stdout:
		return "stdout"
	case Stderr:
		return "stderr"
	}
	return "unknown"
}

// Flags describe what happened to a record on its way out of the file.
type Flags uint8

// Record flags.
const (
	// Malformed: the line could not be decoded; Message holds its raw bytes
	// and Time the time it was read.
	Malformed Flags = 1 << iota
	// Split: the line was longer than the largest record and this is one of
	// its pieces.
	Split
	// Truncated: the line was longer than the largest record and its tail
	// was dropped (the truncate option).
	Truncated
	// Encoded: Message is the whole record, a JSON object, as it goes out
	// (journal entries); sinks ship it as it is.
	Encoded
	// Plain: the line is plain text (format plain), without a stream or a
	// time of its own; the record is {"message": line}.
	Plain
)

// Record is one complete log line.
//
// A Record and the bytes it points to are valid only for the duration of the
// Consumer.Write call that received it: a consumer that keeps anything must
// copy it. File and Pod are shared by many records and are never modified
// after they are attached; a change publishes a new value.
type Record struct {
	// Time is the time the runtime wrote in the line (or the read time for a
	// malformed line).
	Time time.Time
	// Stream is stdout or stderr.
	Stream Stream
	// Flags say whether the record is malformed, split or truncated.
	Flags Flags
	// Message is the line with partial chunks joined and without the
	// trailing newline. It may hold invalid UTF-8.
	Message []byte
	// File is what the source file's path says about the record. Never nil.
	File *FileMeta
	// Pod is the pod's metadata from the API server, attached by enrichment;
	// nil when it is not known.
	Pod *PodMeta
	// Fields is the JSON object a parser made of the line, or nil: sinks
	// put it where they put a JSON line's own object (under the merge key).
	Fields []byte
	// Extra are members added to the record's top level, as JSON members
	// each preceded by a comma (`,"k":"v"`), or nil.
	Extra []byte
	// Pos is passed back through Ack once the record has been accepted.
	Pos Position
}

// FileMeta is what a log file's path says about its lines. For a file under
// /var/log/containers, the fields come from the /var/log/pods target of the
// symlink, since the link's own name can be truncated. Fields that cannot be
// known from the path are empty.
type FileMeta struct {
	// Path is the path the file was discovered under.
	Path string
	// Target is the resolved path (the /var/log/pods file), or Path.
	Target      string
	Namespace   string
	Pod         string
	PodUID      string
	Container   string
	ContainerID string
	// Restart is the container's restart count (the <n> of <n>.log), or -1.
	Restart int
	// Input names the set of files (Config.Name, Input.Name) the file
	// belongs to, or the journal input an entry was read for.
	Input string
	// Tag is what Fluent Bit's tail input puts in place of "*" in a tag:
	// var.log.containers.<name>.log for /var/log/containers/<name>.log (a
	// rotated file keeps its live name's). For a journal entry, its unit.
	Tag string

	input  int    // index of the input in the tailer
	format format // formatPlain, or formatUnknown to detect
}

// PodMeta is a pod's metadata, as enrichment learned it from the API server.
type PodMeta struct {
	Name        string
	Namespace   string
	UID         string
	Host        string
	PodIP       string
	Labels      map[string]string
	Annotations map[string]string
	// NamespaceLabels and NamespaceAnnotations are the labels and
	// annotations of the pod's namespace. They are set only when namespace
	// metadata is on (enrich.Config.NamespaceMetadata).
	NamespaceLabels      map[string]string
	NamespaceAnnotations map[string]string
	// OwnerKind and OwnerName name the workload: Deployment, DaemonSet,
	// StatefulSet, Job, CronJob or ReplicaSet, or empty.
	OwnerKind string
	OwnerName string
	// OwnerReferences are the pod's own, when asked for
	// (enrich.Config.OwnerReferences).
	OwnerReferences []OwnerReference
	// Containers maps a container name to its runtime details.
	Containers map[string]ContainerMeta
	// Controls are the pod's skiff.io (or fluentbit.io) annotations.
	Controls Controls
}

// OwnerReference is one of a pod's owner references, as the API server
// gives it.
type OwnerReference struct {
	APIVersion, Kind, Name, UID    string
	Controller, BlockOwnerDeletion bool
}

// ContainerMeta is one container's runtime details.
type ContainerMeta struct {
	Image       string
	ImageID     string
	ContainerID string
}

// Controls are per-pod settings taken from annotations.
type Controls struct {
	// Exclude drops the pod's logs (counted).
	Exclude bool
	// Parser names the parser of the pod's lines ("json" merges JSON
	// lines into the record), or is empty.
	Parser string
	// Multiline names the multi-line rule that joins the pod's lines, or
	// is empty.
	Multiline string
	// LogGroup and LogStream override the destination when non-empty.
	LogGroup  string
	LogStream string
}

// Acker is told when records that share it have been accepted.
type Acker interface {
	// Ack records that n more records have been accepted. It is safe for
	// concurrent use and never blocks for long.
	Ack(n int)
}

// Position ties a record to the place it ends in its file. A consumer must
// call Ack exactly once for every record it received: after the destination
// accepted it, or after it was dropped for a reason that is counted.
type Position struct {
	// Acker is the tracker of the read the record came from; nil for records
	// that need no acknowledgement.
	Acker Acker
	// Offset is the byte offset just past the record's last byte in its
	// file. For a piece of a split line that is not the last one, it is the
	// offset where the line starts: the line is complete only with its last
	// piece.
	Offset int64
}

// Ack acknowledges one record.
func (p Position) Ack() {
	if p.Acker != nil {
		p.Acker.Ack(1)
	}
}

// Consumer receives records from the tailer.
type Consumer interface {
	// Write takes a batch of records. It may block, and blocking is the
	// backpressure that slows reading down. It returns early with ctx's
	// error, or with another error when it refuses the batch without
	// taking any of it (its destination is paused): the file keeps the
	// batch and offers it again at its next poll, so one stalled
	// destination never holds a reading slot. Records are valid only until
	// Write returns.
	// Write is called from many goroutines at once.
	Write(ctx context.Context, recs []Record) error
}
