package tailer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

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
