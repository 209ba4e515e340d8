// Package tailer follows container log files on a Kubernetes node and turns
// their lines into Records, at least once, with offsets that advance only
// when the output acknowledged what was read.
//
// # Basics
//
// New validates a Config and returns a Tailer writing to a Consumer. Run
// discovers the files the Include globs match (default
// /var/log/containers/*.log, minus Exclude), resolves their symlinks, and
// starts one follower per file. A watch on the glob directories and on the
// resolved files' directories finds a new file as soon as it appears; a
// slow rescan (RescanInterval) and a poll per file stand behind it. On Linux
// the watcher is inotify, asked for the directories' entries only: a file
// that keeps growing is read at the end of each read gap (250 ms, longer
// with more than 125 growing files, up to 2 s), and a quiet one asks for a one-shot
// watch of its next write, so that a container writing line by line costs
// no wakeup per line. Elsewhere it is fsnotify, whose directory watches
// report every write, and each write wakes its file's follower (at most
// once per read gap).
//
// Each follower reads its file with large positional reads, counts byte
// offsets exactly, decodes CRI lines (containerd and CRI-O) or docker
// json-file lines (the format is detected per file), joins partial chunks
// per stream, and hands each round of records to Consumer.Write. A round
// reads at most ReadBudget bytes; rounds take turns in arrival order, so one
// busy file cannot starve the others while the consumer is slow. A consumer
// that blocks in Write stops reading: the files are the buffer.
//
// Kubernetes metadata (namespace, pod, pod UID, container, restart count)
// comes from the /var/log/pods/<ns>_<pod>_<uid>/<container>/<n>.log target
// of the symlink, the container ID from the symlink's name when it was not
// truncated. A file outside that layout is shipped with what its path says.
//
// # Guarantees
//
// Every Record carries a Position. The consumer acknowledges each record
// once; per file, the checkpointed offset is the highest offset below which
// every record was acknowledged, whatever the order of the acks, and never a
// point inside a line still being joined or split. Checkpoints are written
// every CheckpointInterval and by Checkpoint, atomically (temporary file,
// fsync, rename, directory fsync), in a versioned format with a checksum.
// After a crash, reading resumes at the checkpoint: lines acknowledged within
// the last interval are delivered again; nothing is lost.
//
// A file is identified by device, inode and a fingerprint of its first bytes
// (up to 1 KiB, growing with a small file), so a reused inode is not taken
// for the old file. Kubelet rotation (rename to <n>.log.<timestamp>, a new
// <n>.log) is followed: the old file stays open and is read to its end; it
// is closed only once it has been at its end, without growing, for a second.
// No timer closes a file with unread bytes. A file rotated in and out
// between two scans, or rotated while the agent was down, is found next to
// its old name and read. Truncation (size below the offset, or changed first
// bytes, as copytruncate does) is counted and reading restarts at 0. A
// deleted file is drained, then closed.
//
// Lines that do not decode (bad timestamp, unknown stream, garbage, NUL
// bytes, broken JSON) become records flagged Malformed holding the raw bytes
// and the read time; lines longer than MaxLineBytes are split into flagged
// pieces (or truncated). Both are counted; nothing after them is lost.
//
// # Caveats and limits
//
//   - At least once, not exactly once: a crash duplicates what was
//     acknowledged since the last checkpoint, and a shutdown whose output
//     cannot flush duplicates what was read and not acknowledged.
//   - The bounds give up data only when forced, and say so: past
//     MaxOpenFiles new files wait for a slot, and a file deleted before it
//     got one is counted as skipped; past MaxDeletedBytes the file deleted
//     first is closed and its unread bytes counted as skipped
//     (skiff_input_skipped_bytes_total{reason}, and one log line per file).
//   - Copytruncate cannot be made lossless by a tailer: lines written
//     between the last read and the truncation exist only in the copy,
//     which is not read. A rewritten file whose first kilobyte is identical
//     to the old one is not recognised as truncated until it shrinks.
//     Kubernetes itself rotates by rename, which loses nothing.
//   - A file deleted before discovery saw it, or rotated away and deleted
//     while skiff was down, cannot be read.
//   - Rotated files already compressed (.gz) are not read.
//   - A line split into pieces, or a partial chunk never finished, is
//     shipped as pieces; the unfinished one after five quiet seconds.
package tailer
