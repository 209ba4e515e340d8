package tailer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// appendCheckpoint appends the checkpoint file holding entries to dst, as
// writeCheckpointFile writes it: encodeCheckpoint in one piece, the
// checksum put in its place.
func appendCheckpoint(dst []byte, entries []ckptEntry) []byte {
	start := len(dst)
	sum, _ := encodeCheckpoint(dst, entries, math.MaxInt, func(p []byte) error {
		dst = p
		return nil
	})
	putChecksum(dst[start+ckptSumAt:], sum)
	return dst
}

// marshalCheckpoint is the checkpoint file as encoding/json writes it: the
// format appendCheckpoint keeps byte for byte.
func marshalCheckpoint(t testing.TB, entries []ckptEntry) []byte {
	if entries == nil {
		entries = []ckptEntry{}
	}
	files, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	sum := crc32.Checksum(files, crcTable)
	out, err := json.Marshal(checkpointFile{Version: checkpointVersion, Checksum: hex.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)}), Files: files})
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// TestCheckpointEncoding: the encoder writes what encoding/json writes, for
// ordinary entries and for names that need escaping (quotes, control bytes,
// HTML characters, UTF-8, invalid UTF-8), empty and extreme values; what it
// writes decodes to the entries.
func TestCheckpointEncoding(t *testing.T) {
	strs := []string{"", "/var/log/pods/ns_pod_uid/c/0.log", `a"b\c`, "tab\there\nnl", "<&>", "héllo/日本", "bad\xffutf8\xc3", "\u2028\u2029", "\x00\x1f\x7f"}
	seen := time.Date(2026, 12, 5, 23, 51, 0, 0, time.UTC)
	var entries []ckptEntry
	for i, s := range strs {
		entries = append(entries, ckptEntry{
			Dev: uint64(i), Inode: math.MaxUint64 - uint64(i), FingerprintBytes: 1024, Fingerprint: fingerprintHex(uint64(i) * 0x9e3779b97f4a7c15),
			Offset: int64(i) * 4096, Path: s, Target: strs[len(strs)-1-i], Seen: seen.Add(time.Duration(i) * time.Minute),
			Size: int64(i % 2 * 10), Spool: s, Unsafe: s, Input: s, Tag: s,
		})
	}
	entries = append(entries, ckptEntry{}, ckptEntry{Offset: math.MaxInt64, Size: -1, Seen: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))})
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		entries = append(entries, ckptEntry{Dev: rng.Uint64(), Inode: rng.Uint64(), Path: string(b), Target: string(b[len(b)/2:]), Offset: rng.Int64(), Seen: seen})
	}
	for _, n := range []int{0, 1, 2, len(entries)} {
		got := appendCheckpoint(nil, entries[:n])
		if want := marshalCheckpoint(t, entries[:n]); !bytes.Equal(got, want) {
			t.Fatalf("%d entries:\n%s\nencoding/json writes\n%s", n, got, want)
		}
		back, err := decodeCheckpoint(got)
		if err != nil {
			t.Fatalf("%d entries: %v", n, err)
		}
		if len(back) != n {
			t.Fatalf("%d entries decoded as %d", n, len(back))
		}
	}
	if got := marshalCheckpoint(t, nil); !bytes.Equal(appendCheckpoint(nil, nil), got) {
		t.Errorf("no entries: %s; want %s", appendCheckpoint(nil, nil), got)
	}
}

// TestCheckpointFileWrittenInPieces: the file written piece by piece holds
// what appendCheckpoint encodes whole, checksum included, for checkpoints
// of one piece and of several; a checkpoint that would be the same file is
// not written again, and leaves no temporary file.
func TestCheckpointFileWrittenInPieces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, checkpointName)
	seen := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	var entries []ckptEntry
	for i := range 600 { // about 150 KiB: five pieces
		entries = append(entries, ckptEntry{Dev: 2049, Inode: uint64(1000 + i), FingerprintBytes: 1024, Fingerprint: fingerprintHex(uint64(i)),
			Offset: int64(i) * 977, Path: fmt.Sprintf("/var/log/containers/web-%d_shop_app-%064x.log", i, i),
			Target: fmt.Sprintf("/var/log/pods/shop_web-%d_%d/app/0.log", i, i), Seen: seen, Size: int64(i) * 1000})
	}
	var buf []byte
	var last fileSum
	for _, n := range []int{0, 1, 120, 600} {
		sum, b, err := writeCheckpointFile(path, entries[:n], last, buf)
		if err != nil {
			t.Fatal(err)
		}
		buf, last = b, sum
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := appendCheckpoint(nil, entries[:n])
		if !bytes.Equal(got, want) {
			t.Fatalf("%d entries: the file differs from appendCheckpoint's %d bytes (%d)", n, len(want), len(got))
		}
		if sum.n != len(want) {
			t.Errorf("%d entries: size %d; want %d", n, sum.n, len(want))
		}
		if back, err := decodeCheckpoint(got); err != nil || len(back) != n {
			t.Fatalf("%d entries: decoded %d, %v", n, len(back), err)
		}
	}
	if cap(buf) > 2*ckptChunk {
		t.Errorf("piece buffer grew to %d bytes; want about %d", cap(buf), ckptChunk)
	}
	// The same again: not replaced (a mark put in the file stays).
	if err := os.WriteFile(path, []byte("mark"), 0o600); err != nil {
		t.Fatal(err)
	}
	if sum, _, err := writeCheckpointFile(path, entries, last, buf); err != nil || sum != last {
		t.Fatalf("same entries: sum %v, %v; want %v", sum, err, last)
	}
	if got, _ := os.ReadFile(path); string(got) != "mark" {
		t.Errorf("the same checkpoint was written again")
	}
	if des, _ := os.ReadDir(dir); len(des) != 1 {
		t.Errorf("directory holds %d files after a skipped write; want 1", len(des))
	}
}

// BenchmarkBusyCheckpoint: the checkpoint of 1,000 files that all moved,
// which a node with a thousand pods writing takes every CheckpointInterval.
func BenchmarkBusyCheckpoint(b *testing.B) {
	entries := make([]ckptEntry, 1000)
	for i := range entries {
		p := fmt.Sprintf("/var/log/pods/bench_pod-%04d_0a1b2c3d-0000-4000-8000-%012d/app/0.log", i, i)
		entries[i] = ckptEntry{Dev: 66306, Inode: uint64(1_000_000 + i), FingerprintBytes: 1024, Fingerprint: fingerprintHex(uint64(i)),
			Offset: int64(i) * 1000, Path: "/var/log/containers/x.log", Target: p, Seen: time.Now().UTC().Truncate(time.Minute), Size: int64(i)*1000 + 10, Input: "application", Tag: "kube.x"}
	}
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			marshalCheckpoint(b, entries)
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendCheckpoint(buf[:0], entries)
		}
	})
}
