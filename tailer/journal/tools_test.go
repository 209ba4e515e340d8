package journal

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The real systemd tools the tests write and read journal files with:
// systemd-journal-remote turns the Journal Export Format into journal
// files, journalctl reads them back. Debian: apt-get install systemd
// systemd-journal-remote (.ci/setup.d/journal). SKIFF_JOURNAL_REMOTE
// names another systemd-journal-remote binary.

// journalRemote returns the path of systemd-journal-remote, or "".
func journalRemote() string {
	if p := os.Getenv("SKIFF_JOURNAL_REMOTE"); p != "" {
		return p
	}
	for _, p := range []string{"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// needTools skips the test when systemd-journal-remote or journalctl is
// missing.
func needTools(t testing.TB) string {
	t.Helper()
	jr := journalRemote()
	if jr == "" {
		t.Skip("systemd-journal-remote not installed (apt-get install systemd-journal-remote; .ci/setup.d/journal installs it)")
	}
	if _, err := exec.LookPath("journalctl"); err != nil {
		t.Skip("journalctl not installed (apt-get install systemd; .ci/setup.d/journal installs it)")
	}
	return jr
}

// systemdVersion returns the version number systemd-journal-remote
// reports, such as 252.
func systemdVersion(t testing.TB, jr string) int {
	t.Helper()
	out, err := exec.Command(jr, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", jr, err)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		t.Fatalf("%s --version: %q", jr, out)
	}
	v, err := strconv.Atoi(f[1])
	if err != nil {
		t.Fatalf("%s --version: %q", jr, out)
	}
	return v
}

// writeJournal appends the entries of export (Journal Export Format) to
// the journal file path with systemd-journal-remote, which creates the
// file or appends to it. env adds variables such as
// SYSTEMD_JOURNAL_COMPACT=0.
func writeJournal(t testing.TB, jr, path string, export []byte, compress bool, env ...string) {
	t.Helper()
	cmd := exec.Command(jr, "--output="+path, "--compress="+strconv.FormatBool(compress), "-")
	cmd.Stdin = bytes.NewReader(export)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-journal-remote --output=%s: %v\n%s", path, err, out)
	}
}

// journalctlExport returns what journalctl -o export says of files.
func journalctlExport(t testing.TB, args ...string) []exportEntry {
	t.Helper()
	out, err := exec.Command("journalctl", append([]string{"-o", "export", "--no-pager"}, args...)...).Output()
	if err != nil {
		t.Fatalf("journalctl %v: %v", args, err)
	}
	es, err := parseExport(out)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// exportBuilder writes the Journal Export Format.
type exportBuilder struct{ bytes.Buffer }

// entry writes one entry: the timestamps and boot ID, then the fields,
// given as name, value pairs. A value holding a newline or a control byte
// is written in the binary form.
func (b *exportBuilder) entry(realtime, monotonic uint64, boot string, fields ...string) {
	fmt.Fprintf(b, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n", realtime, monotonic, boot)
	for i := 0; i+1 < len(fields); i += 2 {
		b.field(fields[i], fields[i+1])
	}
	b.WriteByte('\n')
}

func (b *exportBuilder) field(name, value string) {
	binary := strings.ContainsFunc(value, func(r rune) bool { return r < ' ' && r != '\t' })
	if !binary {
		fmt.Fprintf(b, "%s=%s\n", name, value)
		return
	}
	b.WriteString(name)
	b.WriteByte('\n')
	var n [8]byte
	putLE64(n[:], uint64(len(value)))
	b.Write(n[:])
	b.WriteString(value)
	b.WriteByte('\n')
}

func putLE64(b []byte, v uint64) { binary.LittleEndian.PutUint64(b, v) }

const (
	testBoot    = "5f0e8a2c6b1d4e3f9a7b8c6d5e4f3a2b"
	testBoot2   = "0b1c2d3e4f5a6b7c8d9eaf0b1c2d3e4f"
	testMachine = "3a9f0c1d2e4b4c5d8e7f6a5b4c3d2e1f"
)

// nodeExport returns n entries like a Kubernetes node's journal: kubelet
// and containerd units (containerd at every priority), kernel messages,
// sshd on the authpriv facility, cron; every
// seventh message longer than the compression threshold, every eleventh
// with a binary field. Realtimes start at base and step by 1ms.
func nodeExport(n int, base uint64) []byte { return nodeExportRange(0, n, base) }

// nodeExportRange is nodeExport for the entries numbered first to
// first+n-1.
func nodeExportRange(first, n int, base uint64) []byte {
	var b exportBuilder
	for i := first; i < first+n; i++ {
		rt := base + uint64(i-first)*1000
		mono := 5_000_000 + uint64(i)*1000
		msg := fmt.Sprintf("I1105 10:%02d:%02d.%06d 1234 kubelet.go:%d] entry %d", i/60%60, i%60, i, 100+i%50, i)
		if i%7 == 3 {
			msg += " " + strings.Repeat(fmt.Sprintf("long-%d ", i), 120)
		}
		fields := []string{
			"_MACHINE_ID", testMachine, "_HOSTNAME", "ip-10-0-1-23.ec2.internal",
		}
		switch i % 4 {
		case 0, 1:
			fields = append(fields, "_TRANSPORT", "stdout", "_SYSTEMD_UNIT", "kubelet.service",
				"SYSLOG_IDENTIFIER", "kubelet", "_PID", "1234", "_COMM", "kubelet",
				"PRIORITY", "6", "SYSLOG_FACILITY", "3", "MESSAGE", msg)
		case 2:
			fields = append(fields, "_TRANSPORT", "stdout", "_SYSTEMD_UNIT", "containerd.service",
				"SYSLOG_IDENTIFIER", "containerd", "_PID", "987", "_COMM", "containerd",
				"PRIORITY", strconv.Itoa(i/4%8), "SYSLOG_FACILITY", "3",
				"MESSAGE", fmt.Sprintf("time=\"2025-11-05T10:00:00Z\" level=info msg=\"event %d\"", i))
		case 3:
			if i%8 == 3 {
				fields = append(fields, "_TRANSPORT", "kernel", "SYSLOG_IDENTIFIER", "kernel",
					"PRIORITY", "4", "SYSLOG_FACILITY", "0", "MESSAGE", msg)
			} else if i%16 == 15 {
				fields = append(fields, "_TRANSPORT", "syslog", "SYSLOG_IDENTIFIER", "CRON",
					"_PID", "555", "_COMM", "cron", "PRIORITY", "6", "SYSLOG_FACILITY", "9",
					"MESSAGE", "pam_unix(cron:session): session opened "+msg)
			} else {
				fields = append(fields, "_TRANSPORT", "syslog", "SYSLOG_IDENTIFIER", "sshd",
					"_PID", "4321", "_COMM", "sshd", "PRIORITY", "5", "SYSLOG_FACILITY", "10",
					"MESSAGE", "Accepted publickey for ec2-user "+msg)
			}
		}
		if i%11 == 5 {
			fields = append(fields, "BINARY_FIELD", fmt.Sprintf("line one\nline two\x00\x01\x02 %d", i))
		}
		boot := testBoot
		if i-first >= n/2 && n > 10 {
			boot, mono = testBoot2, 1_000_000+uint64(i)*1000
		}
		b.entry(rt, mono, boot, fields...)
	}
	return b.Bytes()
}

// readAllFile reads every entry of the journal file at path, copying them.
func readAllFile(t testing.TB, path string) []*Entry {
	t.Helper()
	f, err := OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*Entry
	var e Entry
	for {
		err := f.Next(&e)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: entry %d: %v", path, len(out), err)
		}
		c := new(Entry)
		e.CopyTo(c)
		out = append(out, c)
	}
}

// samples holds the unpacked testdata samples, unpacked once.
var samplesCache sync.Map

// sampleBytes returns the bytes of testdata/<name>.journal.gz, unpacked.
// The caller must not modify them.
func sampleBytes(t testing.TB, name string) []byte {
	t.Helper()
	if b, ok := samplesCache.Load(name); ok {
		return b.([]byte)
	}
	in, err := os.ReadFile("testdata/" + name + ".journal.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	samplesCache.Store(name, b)
	return b
}

// countCompressed walks the objects of a journal file and counts its DATA
// objects by compression flag.
func countCompressed(t testing.TB, path string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return countCompressedBytes(t, b)
}

func countCompressedBytes(t testing.TB, b []byte) map[string]int {
	h, err := parseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for off := h.HeaderSize; off+objectHeaderSize <= uint64(len(b)); {
		o := parseObjectHeader(b[off:])
		if o.typ == objectUnused || o.size < objectHeaderSize {
			break
		}
		if o.typ == objectData {
			switch o.flags & objectCompressedMask {
			case objectCompressedXZ:
				counts["xz"]++
			case objectCompressedLZ4:
				counts["lz4"]++
			case objectCompressedZSTD:
				counts["zstd"]++
			default:
				counts["none"]++
			}
		}
		off += align8(o.size)
	}
	return counts
}
