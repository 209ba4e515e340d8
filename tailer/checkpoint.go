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

// appendCheckpoint appends the checkpoint file holding entries to dst: the
// bytes json.Marshal writes for checkpointFile, without its reflection,
// the copy of files it makes to check the raw message, or any allocation
// once dst has room (with a thousand busy files, a checkpoint a second
// through encoding/json was an eighth of the agent's CPU).
func appendCheckpoint(dst []byte, entries []ckptEntry) []byte {
	dst = append(dst, `{"version":`...)
	dst = strconv.AppendInt(dst, checkpointVersion, 10)
	dst = append(dst, `,"checksum":"`...)
	sumAt := len(dst)
	dst = append(dst, `00000000","files":[`...)
	filesAt := len(dst) - 1
	for i := range entries {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendEntry(dst, &entries[i])
	}
	dst = append(dst, ']')
	sum := crc32.Checksum(dst[filesAt:], crcTable)
	for i := range 8 {
		dst[sumAt+i] = hexDigits[sum>>(28-4*i)&0xf]
	}
	return append(dst, "}\n"...)
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
	dir := filepath.Dir(path)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", tmp, err)
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

func sortEntries(es []ckptEntry) {
	// A stable order keeps unchanged checkpoints byte-identical.
	slices.SortFunc(es, func(a, b ckptEntry) int {
		if c := cmp.Compare(a.Dev, b.Dev); c != 0 {
			return c
		}
		return cmp.Compare(a.Inode, b.Inode)
	})
}
