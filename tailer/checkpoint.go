package tailer

import (
	"cmp"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"
)

// Checkpoint file. The format is versioned; a file of an unknown version
// or with a wrong checksum is reported and not trusted.
const (
	checkpointName    = "checkpoint.json"
	checkpointVersion = 1
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// checkpointFile is the on-disk shape of version 1:
//
//	{"version":1,"checksum":"<crc32c of files, hex>","files":[entry...]}
type checkpointFile struct {
	Version  int             `json:"version"`
	Checksum string          `json:"checksum"`
	Files    json.RawMessage `json:"files"`
}

// ckptEntry is one file's acknowledged offset and identity.
type ckptEntry struct {
	Dev              uint64    `json:"dev"`
	Inode            uint64    `json:"inode"`
	FingerprintBytes int       `json:"fingerprint_bytes"`
	Fingerprint      string    `json:"fingerprint"` // FNV-1a 64, hex
	Offset           int64     `json:"offset"`
	Path             string    `json:"path"`
	Target           string    `json:"target"`
	Seen             time.Time `json:"seen"` // last time the file was followed
	// Size is the file's size when last seen: the bytes after Offset are
	// not acknowledged. Absent in files written before it existed.
	Size int64 `json:"size,omitempty"`
	// Spool names the spool entry that holds the unacknowledged bytes.
	Spool string `json:"spool,omitempty"`
	// Unsafe is why the unacknowledged bytes exist only in the file (the
	// spool had no room), as the reason a restart counts them under when
	// the file is gone.
	Unsafe string `json:"unsafe,omitempty"`
	// Input and Tag are the file's (FileMeta), kept so that what is left
	// of a rotated file goes where its lines went before a restart.
	Input string `json:"input,omitempty"`
	Tag   string `json:"tag,omitempty"`
}

func (e ckptEntry) id() fileID { return fileID{Dev: e.Dev, Ino: e.Inode} }

func (e ckptEntry) fingerprint() fingerprint {
	sum, _ := strconv.ParseUint(e.Fingerprint, 16, 64)
	return fingerprint{N: e.FingerprintBytes, Sum: sum}
}

func newEntry(id fileID, fp fingerprint, meta *FileMeta, offset int64, seen time.Time) ckptEntry {
	return newEntryHex(id, fp.N, fingerprintHex(fp.Sum), meta, offset, seen)
}

// fingerprintHex is a fingerprint's sum as the checkpoint writes it.
func fingerprintHex(sum uint64) string { return fmt.Sprintf("%016x", sum) }

// newEntryHex is newEntry with the fingerprint's sum already formatted.
func newEntryHex(id fileID, n int, sumHex string, meta *FileMeta, offset int64, seen time.Time) ckptEntry {
	return ckptEntry{
		Dev: id.Dev, Inode: id.Ino,
		FingerprintBytes: n, Fingerprint: sumHex,
		Offset: offset, Path: meta.Path, Target: meta.Target, Seen: seen.UTC().Truncate(time.Minute),
		Input: meta.Input, Tag: meta.Tag,
	}
}

// ckptSumAt is where the checksum's hex digits are in a checkpoint file.
var ckptSumAt = len(`{"version":` + strconv.Itoa(checkpointVersion) + `,"checksum":"`)

// ckptChunk is about how many bytes writeCheckpointFile writes at a time.
const ckptChunk = 32 << 10

// encodeCheckpoint appends the checkpoint file holding entries to buf (the
// bytes json.Marshal writes for checkpointFile, without its reflection or
// the copy of files it makes to check the raw message: with a thousand
// busy files, a checkpoint a second through encoding/json was an eighth
// of the agent's CPU), but with 00000000 for the checksum at ckptSumAt,
// and hands buf to emit each time it holds chunk bytes or more and at the
// end, going on from buf[:0] after each piece: with a small chunk, a
// thousand files' entries are never in memory at once. It returns the
// checksum and the size of the file.
func encodeCheckpoint(buf []byte, entries []ckptEntry, chunk int, emit func([]byte) error) (fileSum, error) {
	base := len(buf)
	buf = append(buf, `{"version":`...)
	buf = strconv.AppendInt(buf, checkpointVersion, 10)
	buf = append(buf, `,"checksum":"00000000","files":[`...)
	from := len(buf) - 1 // the checksum covers the files from their '['
	var sum fileSum
	hand := func() error {
		sum.sum = crc32.Update(sum.sum, crcTable, buf[from:])
		sum.n += len(buf) - base
		err := emit(buf)
		buf, from, base = buf[:0], 0, 0
		return err
	}
	for i := range entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendEntry(buf, &entries[i])
		if len(buf)-base >= chunk {
			if err := hand(); err != nil {
				return sum, err
			}
		}
	}
	buf = append(buf, ']')
	sum.sum = crc32.Update(sum.sum, crcTable, buf[from:])
	buf = append(buf, "}\n"...)
	sum.n += len(buf) - base
	return sum, emit(buf)
}

// putChecksum writes sum's eight hex digits to dst.
func putChecksum(dst []byte, sum fileSum) {
	for i := range 8 {
		dst[i] = hexDigits[sum.sum>>(28-4*i)&0xf]
	}
}

const hexDigits = "0123456789abcdef"

// appendEntry appends e as json.Marshal writes it.
func appendEntry(dst []byte, e *ckptEntry) []byte {
	dst = append(dst, `{"dev":`...)
	dst = strconv.AppendUint(dst, e.Dev, 10)
	dst = append(dst, `,"inode":`...)
	dst = strconv.AppendUint(dst, e.Inode, 10)
	dst = append(dst, `,"fingerprint_bytes":`...)
	dst = strconv.AppendInt(dst, int64(e.FingerprintBytes), 10)
	dst = append(dst, `,"fingerprint":`...)
	dst = appendJSONString(dst, e.Fingerprint)
	dst = append(dst, `,"offset":`...)
	dst = strconv.AppendInt(dst, e.Offset, 10)
	dst = append(dst, `,"path":`...)
	dst = appendJSONString(dst, e.Path)
	dst = append(dst, `,"target":`...)
	dst = appendJSONString(dst, e.Target)
	dst = append(dst, `,"seen":"`...)
	dst = e.Seen.AppendFormat(dst, time.RFC3339Nano)
	dst = append(dst, '"')
	if e.Size != 0 {
		dst = append(dst, `,"size":`...)
		dst = strconv.AppendInt(dst, e.Size, 10)
	}
	for _, f := range [...]struct{ name, v string }{
		{`,"spool":`, e.Spool}, {`,"unsafe":`, e.Unsafe}, {`,"input":`, e.Input}, {`,"tag":`, e.Tag},
	} {
		if f.v != "" {
			dst = append(dst, f.name...)
			dst = appendJSONString(dst, f.v)
		}
	}
	return append(dst, '}')
}

// appendJSONString appends s quoted as json.Marshal writes it. Paths and
// names are printable ASCII almost always and are copied; anything else
// (control bytes, quotes, the HTML characters json.Marshal escapes,
// UTF-8, invalid bytes) goes through encoding/json.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// decodeCheckpoint parses a checkpoint file.
func decodeCheckpoint(data []byte) ([]ckptEntry, error) {
	var cf checkpointFile
	if err := json.Unmarshal(data, &cf); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptCheckpoint, err)
	}
	if cf.Version != checkpointVersion {
		return nil, fmt.Errorf("%w: unknown version %d", ErrCorruptCheckpoint, cf.Version)
	}
	sum, err := hex.DecodeString(cf.Checksum)
	if err != nil || len(sum) != 4 {
		return nil, fmt.Errorf("%w: bad checksum field %q", ErrCorruptCheckpoint, cf.Checksum)
	}
	want := uint32(sum[0])<<24 | uint32(sum[1])<<16 | uint32(sum[2])<<8 | uint32(sum[3])
	if got := crc32.Checksum(cf.Files, crcTable); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, want %08x", ErrCorruptCheckpoint, got, want)
	}
	var entries []ckptEntry
	if err := json.Unmarshal(cf.Files, &entries); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptCheckpoint, err)
	}
	for _, e := range entries {
		if e.Offset < 0 || e.FingerprintBytes < 0 || e.FingerprintBytes > fingerprintBytes {
			return nil, fmt.Errorf("%w: bad entry for %s", ErrCorruptCheckpoint, e.Path)
		}
	}
	return entries, nil
}

// WriteFileAtomic replaces path with data: temp file, fsync, rename,
// directory fsync, so that a crash leaves the old content or the new.
func WriteFileAtomic(path string, data []byte) error {
	return writeAtomic(path, func(f *os.File) (bool, error) {
		_, err := f.Write(data)
		return true, err
	})
}

// writeAtomic replaces path as WriteFileAtomic does, with what fill writes
// to the temp file; when fill says not to keep it, the temp file is removed
// and path left as it is.
func writeAtomic(path string, fill func(*os.File) (keep bool, err error)) error {
	dir := filepath.Dir(path)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	keep, err := fill(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if !keep {
		f.Close()
		return os.Remove(tmp)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// writeCheckpointFile replaces path with the checkpoint of entries,
// encoded piece by piece into buf (returned, for the next time) and
// written as it goes, the checksum put in its place at the end. A file
// that would be the one whose sum is same is not written: it returns
// same and nothing changes.
func writeCheckpointFile(path string, entries []ckptEntry, same fileSum, buf []byte) (fileSum, []byte, error) {
	var sum fileSum
	err := writeAtomic(path, func(f *os.File) (bool, error) {
		var err error
		sum, err = encodeCheckpoint(buf[:0], entries, ckptChunk, func(p []byte) error {
			buf = p
			_, err := f.Write(p)
			return err
		})
		if err != nil || sum == same {
			return false, err
		}
		var digits [8]byte
		putChecksum(digits[:], sum)
		_, err = f.WriteAt(digits[:], int64(ckptSumAt))
		return true, err
	})
	return sum, buf[:0], err
}

func sortEntries(es []ckptEntry) {
	// A stable order keeps unchanged checkpoints byte-identical.
	slices.SortFunc(es, func(a, b ckptEntry) int {
		if c := cmp.Compare(a.Dev, b.Dev); c != 0 {
			return c
		}
		return cmp.Compare(a.Inode, b.Inode)
	})
}
