// Package journal reads the systemd journal's files directly, in pure Go:
// the kubelet, containerd and kernel logs of a node, without journalctl,
// libsystemd or cgo.
//
// # Basics
//
// File reads one journal file: OpenFile, then Next until io.EOF. Reader
// reads every journal file of a set of directories (default
// /var/log/journal and /run/log/journal, and their machine-ID
// subdirectories) as one stream, filtered by a Filter; Read takes what is
// there now, and Run(ctx, Consumer) follows the files until ctx is done.
//
// Both read files written by systemd from version 187 on: the regular and
// the compact layout (systemd 252 writes compact files), DATA objects
// compressed with XZ, LZ4 or ZSTD, keyed or Jenkins hashes, and headers of
// any length from 208 bytes up. Entries are found through the entry array
// chain that starts in the header, in seqnum order; hash tables, FIELD
// objects and TAG objects are not read. A file is read with positional
// reads (never mmap) through two small windows, and DATA payloads shared
// by many entries (unit, hostname, boot ID) are kept decompressed, so the
// fields of an entry are read without an allocation once the buffers have
// grown. An Entry's fields are views valid until the Entry is filled again.
//
// # Guarantees
//
// Order: the Reader merges files as journald does: by seqnum within one
// sequence (all the files one journald writes, system and user journals,
// active and archived, share a seqnum ID), by boot and monotonic time, then
// wall-clock time, across sequences. An entry copied from /run to /var by
// journald's flush, seen twice in a row from two sequences, is delivered
// once.
//
// Position: Entry.Cursor identifies an entry durably, by seqnum ID and
// seqnum, with its boot ID, timestamps and hash; its text form is
// journald's cursor, which journalctl --after-cursor accepts. Given as
// Config.After, reading resumes with the next entry wherever it now is:
// in the same file, or after the file was renamed by rotation.
//
// Follow: fsnotify on the directories reports journald's writes (it
// truncates a file to its size after writing, for this purpose), new
// files, renames and deletions; a poll every PollInterval stands behind
// it. A file that grows has its header re-read; a file renamed by rotation
// is recognized by its inode and read to its end; a file deleted while
// open (vacuumed) is read to its end too, from the open descriptor.
//
// Loss is never silent: every entry the Reader cannot deliver is reported
// through Config.OnLoss, with a reason and a count. journald numbers every
// entry it writes from one counter, whichever file (system or user
// journal) it goes to, so in the merged order a machine's seqnums follow
// one another: entries vacuumed before they were read, while the reader
// was stopped or before it reached them, show as a jump and are counted as
// LossGap. Resuming from a cursor whose file was deleted reports how many
// entries lay between the cursor and the oldest entry left.
//
// Corruption: every offset and size read from a file is checked against
// the file's size and the object it must point to before use; offsets in
// the entry array chain must move forward, so reading always ends. A
// malformed entry is skipped and reported (a *CorruptError from File.Next,
// LossCorrupt from the Reader); a broken entry array chain is replaced by
// a walk over the objects that follow the last good entry, which reads
// everything valid up to the broken object. A file cut in the middle of an
// object gives every entry before the cut. Nothing in a file can make the
// reader panic, loop, or allocate more than MaxDataSize for one field
// (compressed sizes are checked before decompressing).
//
// Files being written: a file in state online may be appended to while it
// is read. Only entries the header counts are read, and a zero or
// incomplete object at the tail of such a file means "not written yet":
// reading stops there and tries again at the next wake-up. A file set
// aside by journald as dirty (renamed to *.journal~) is read as it is, with
// the entries its writer appended but never linked.
//
// # What the caller must do
//
// Deliver at least once: commit an entry's Cursor only after its
// destination accepted it, and give the last committed cursor as
// Config.After at the next start. Entries delivered after that cursor and
// before a crash are delivered again. Count what OnLoss reports.
//
// # Caveats and limits
//
//   - Forward Secure Sealing is not verified: TAG objects are skipped, and
//     a sealed file is read like any other.
//   - Hash tables are not used: a Filter is applied to every entry read,
//     which costs reading entries that do not match.
//   - Payload hashes are not checked against the data, so a payload
//     corrupted in place, but still well-formed, is delivered as it is.
//   - Entries of a file deleted before the Reader opened it are lost, and
//     counted only when an entry of the same machine follows them. When no
//     file holds Config.After's sequence any more (the journal was wiped,
//     or the cursor was in a user journal or in /run's files, since
//     deleted), reading resumes by time and the number of lost entries is
//     unknown: LossCursor, which may be no loss at all.
//   - Seqnum jumps are counted as lost. journald skips a number rarely (an
//     entry it failed to write), and numbers the copies it makes when it
//     flushes /run's files to /var anew, so LossGap can count entries that
//     were never lost when a Reader reads only one of the two directories
//     across a flush.
//   - An entry journald copies from /run to /var at its flush is seen
//     twice by a Reader following both directories across the flush (once
//     from each, not in a row), and delivered twice: at least once.
//   - Files of one machine written by different journald instances (such
//     as systemd-journal-remote's output) are numbered by counters of their
//     own: a Reader over them can take a jump between two for a loss.
//   - A corrupt file's lost entries are estimated from its header.
//   - Across sequences, resuming compares wall-clock time with the cursor's
//     and ordering falls back to it: a clock stepped backwards can reorder
//     entries of different sequences, or skip some at resume.
//   - XZ payloads (systemd before 229, or built without LZ4 and ZSTD)
//     allocate a decoder each.
package journal
