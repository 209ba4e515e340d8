// Package nodesim simulates the log files of a Kubernetes node: N pods whose
// containers write CRI-formatted lines the way containerd does, rotated the
// way the kubelet rotates them, at a chosen rate; and it counts what a log
// agent delivered from those files, line by line.
//
// # Layout
//
// Under Config.Root a Sim creates what a node has under /var/log:
//
//	<root>/pods/<namespace>_<pod>_<uid>/<container>/0.log
//	<root>/containers/<pod>_<namespace>_<container>-<64 hex id>.log -> the 0.log above (absolute symlink)
//
// An agent pointed at <root>/containers/*.log sees exactly what it sees on a
// node. Rotation renames 0.log to 0.log.<YYYYMMDD-hhmmss> once it reaches
// Config.RotateBytes (checked after every batch, where the kubelet checks
// every 10 s, so files end close to the limit), reopens 0.log and deletes
// the oldest rotated files so that Config.MaxFiles files remain. Rotated
// files are deleted, never gzipped: an agent that lags more than MaxFiles-1
// rotations behind loses lines, as it would on a node.
//
// Sim.Restart restarts a container: the new instance writes 1.log, 2.log,
// ... under a new container ID and link, the kubelet keeps the previous
// instance's files and removes the ones before. Sim.Recreate deletes a pod
// (its directory, files and links) and creates it again under a new UID.
// Markers go on across both; Sim.Links lists every link a stream had.
//
// # Lines
//
// Every line's message starts with a marker (see Marker) holding the stream
// (one container of one pod), a sequence number, the write time and the
// message length, so a Counter can tell exactly which lines were delivered,
// which were lost and which were delivered twice, and how long each took
// from the write to the delivery. The marker uses only digits, ':' and ';'
// after its "nsim=" prefix, so it survives JSON escaping by the agent.
//
// Messages are Config.LineBytes long; a fraction (Config.JSONFraction) are
// JSON objects; a fraction (Config.LongFraction) are Config.LongBytes long
// and written as partial CRI lines ("P") of Config.ChunkBytes, ended by an
// "F" line, as containerd splits lines longer than 16 KiB.
//
// A fraction of the pods (Config.TraceFraction) write Java stack traces
// instead: a logger line starting with the marker, then Config.TraceLines
// lines (the exception, "\tat ..." frames, "Caused by: ...", "\t... N
// more", as the JDK prints them), all in one write, each its own CRI line.
// Only the first line has a marker: the marker's length is that of the
// whole trace joined with "\n", the record an agent joining stack traces
// ships. Rotation happens between writes, so a trace is never split
// between files.
//
// # Rate
//
// Config.Rate lines per second in total (or Config.PerPodRate per pod) are
// spread evenly across streams with a token bucket per stream (a trace
// costs its 1+TraceLines lines, so RecordRate, the messages per second, is
// lower than Rate when there are traces), written in batches every
// Config.Tick: one write call per stream per tick, so 50,000 lines/s and
// more cost little CPU. SetRate changes the rate while running (bursts,
// pauses).
//
// # Counting
//
// A Counter ingests the messages a destination accepted (for instance from
// cwlocal's OnPut hook) with Observe and compares them with what the Sim
// wrote: Tally reports written, delivered, lost, duplicated and the
// write-to-accept latency. Lost is only meaningful once the writers stopped
// and the agent had time to drain.
//
// Everything is counted in messages, found by their marker wherever it is
// in what the destination accepted. A stack trace is delivered when a
// message holding its marker arrived, whether the agent shipped the trace
// as one message or line by line; messages without a marker (the frames of
// a trace shipped apart from its first line) are counted as Unmarked, not
// as loss. A message holding two markers counts the first only, so an agent
// that joins unrelated lines shows loss.
//
// # Limits
//
// All lines go to stdout; one restart (0.log) per container; no gzip of old
// files; pods never come or go during a run. A Sim and a Counter are safe
// for concurrent use; Run may be called once.
package nodesim
