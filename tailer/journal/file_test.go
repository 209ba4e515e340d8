package journal

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/*.journal.gz and *.export with systemd's tools")

// samples are the journal files in testdata, all written by
// systemd-journal-remote from testdata/input.export, and read back by
// journalctl -o export into testdata/<name>.export.
var samples = []struct {
	name       string
	compress   bool
	env        []string
	minVersion int    // systemd version that can write it
	algo       string // compression of the long fields
	compact    bool
}{
	{name: "plain", env: []string{"SYSTEMD_JOURNAL_COMPACT=0"}, algo: "none"},
	{name: "compact", env: []string{"SYSTEMD_JOURNAL_COMPACT=1"}, algo: "none", compact: true},
	{name: "zstd", compress: true, env: []string{"SYSTEMD_JOURNAL_COMPACT=1"}, algo: "zstd", compact: true},
	{name: "zstd-regular", compress: true, env: []string{"SYSTEMD_JOURNAL_COMPACT=0"}, algo: "zstd"},
	// $SYSTEMD_JOURNAL_COMPRESS came with systemd 254; 252 always
	// compresses with zstd.
	{name: "lz4", compress: true, env: []string{"SYSTEMD_JOURNAL_COMPACT=1", "SYSTEMD_JOURNAL_COMPRESS=LZ4"}, minVersion: 254, algo: "lz4", compact: true},
	{name: "xz", compress: true, env: []string{"SYSTEMD_JOURNAL_COMPACT=0", "SYSTEMD_JOURNAL_COMPRESS=XZ"}, minVersion: 254, algo: "xz"},
}

const sampleBase = 1_762_336_800_000_000 // 2025-11-05T10:00:00Z

// TestGenerateTestdata rewrites testdata with -update. The plain, compact
// and zstd samples come from Debian 12's systemd 252; lz4 and xz need
// systemd 254 or later, from bookworm-backports, unpacked without
// installing it:
//
//	apt-get download systemd-journal-remote/bookworm-backports libsystemd-shared/bookworm-backports
//	for d in *.deb; do dpkg -x $d root; done
//	LD_LIBRARY_PATH=$PWD/root/usr/lib/x86_64-linux-gnu/systemd \
//	SKIFF_JOURNAL_REMOTE_254=$PWD/root/lib/systemd/systemd-journal-remote \
//	go test -run TestGenerateTestdata -update ./tailer/journal/
func TestGenerateTestdata(t *testing.T) {
	if !*update {
		t.Skip("run with -update to regenerate testdata")
	}
	jr := needTools(t)
	jr254 := os.Getenv("SKIFF_JOURNAL_REMOTE_254")
	input := nodeExport(40, sampleBase)
	if err := os.WriteFile("testdata/input.export", input, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, s := range samples {
		tool := jr
		if s.minVersion > systemdVersion(t, jr) {
			if jr254 == "" {
				t.Fatalf("%s needs systemd %d: set SKIFF_JOURNAL_REMOTE_254", s.name, s.minVersion)
			}
			tool = jr254
		}
		p := filepath.Join(dir, s.name+".journal")
		writeJournal(t, tool, p, input, s.compress, s.env...)
		if c := countCompressed(t, p); s.algo != "none" && c[s.algo] == 0 {
			t.Fatalf("%s: no %s objects: %v", s.name, s.algo, c)
		}
		gzipFile(t, p, "testdata/"+s.name+".journal.gz")
		exportFile(t, p, "testdata/"+s.name+".export")
	}
	// truncated: the plain file cut in the middle of its 30th entry.
	b, err := os.ReadFile(filepath.Join(dir, "plain.journal"))
	if err != nil {
		t.Fatal(err)
	}
	cut := entryOffsets(t, b)[29] + 40
	p := filepath.Join(dir, "truncated.journal")
	if err := os.WriteFile(p, b[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	gzipFile(t, p, "testdata/truncated.journal.gz")
}

func gzipFile(t *testing.T, src, dst string) {
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	if err := os.WriteFile(dst, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func exportFile(t *testing.T, journal, dst string) {
	out, err := exec.Command("journalctl", "--file="+journal, "-o", "export", "--no-pager").Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// entryOffsets returns the offsets of a file's ENTRY objects, walking its
// objects in order.
func entryOffsets(t testing.TB, b []byte) []uint64 {
	h, err := parseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	var offs []uint64
	for off := h.HeaderSize; off+objectHeaderSize <= uint64(len(b)); {
		o := parseObjectHeader(b[off:])
		if o.typ == objectUnused || o.size < objectHeaderSize {
			break
		}
		if o.typ == objectEntry {
			offs = append(offs, off)
		}
		off += align8(o.size)
	}
	return offs
}

// sampleFile unpacks testdata/<name>.journal.gz into a temporary
// directory and returns its path.
func sampleFile(t testing.TB, name string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name+".journal")
	if err := os.WriteFile(p, sampleBytes(t, name), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// golden returns the entries journalctl exported from a sample.
func golden(t testing.TB, name string) []exportEntry {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name + ".export")
	if err != nil {
		t.Fatal(err)
	}
	es, err := parseExport(b)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestSamples reads every sample and compares it, field by field and
// cursor by cursor, with what journalctl exported from it.
func TestSamples(t *testing.T) {
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			p := sampleFile(t, s.name)
			want := golden(t, s.name)
			got := readAllFile(t, p)
			if len(got) != len(want) || len(want) != 40 {
				t.Fatalf("%d entries; journalctl exported %d, input has 40", len(got), len(want))
			}
			for i := range got {
				compareEntry(t, i, got[i], &want[i])
			}
			f, err := OpenFile(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if h := f.Header(); h.Compact() != s.compact || h.NEntries != 40 || h.State != StateOffline {
				t.Errorf("header: compact %v entries %d state %v; want %v 40 offline", h.Compact(), h.NEntries, h.State, s.compact)
			}
			if c := countCompressedBytes(t, sampleBytes(t, s.name)); s.algo != "none" && c[s.algo] == 0 {
				t.Errorf("no %s objects in the sample: %v", s.algo, c)
			}
		})
	}
}

// TestSampleFields checks the accessors on one entry of each kind.
func TestSampleFields(t *testing.T) {
	es := readAllFile(t, sampleFile(t, "zstd"))
	e := es[0]
	for name, want := range map[string]string{
		"_SYSTEMD_UNIT": "kubelet.service", "_TRANSPORT": "stdout", "PRIORITY": "6",
		"SYSLOG_FACILITY": "3", "SYSLOG_IDENTIFIER": "kubelet", "_HOSTNAME": "ip-10-0-1-23.ec2.internal",
		"_PID": "1234", "_COMM": "kubelet",
	} {
		if v, ok := e.Value(name); !ok || string(v) != want {
			t.Errorf("Value(%s) = %q, %v; want %q", name, v, ok, want)
		}
	}
	if p, ok := e.Priority(); !ok || p != 6 {
		t.Errorf("Priority() = %d, %v; want 6", p, ok)
	}
	if got := e.Time().UTC().Format("2006-01-02T15:04:05.000000Z"); got != "2025-11-05T10:00:00.000000Z" {
		t.Errorf("Time() = %s", got)
	}
	if e.Seqnum != 1 || e.BootID.String() != testBoot {
		t.Errorf("seqnum %d boot %s", e.Seqnum, e.BootID)
	}
	long := string(es[3].Message())
	if !strings.HasSuffix(long, strings.Repeat("long-3 ", 120)) {
		t.Errorf("long message = %.80q…", long)
	}
	bin, _ := es[5].Value("BINARY_FIELD")
	if string(bin) != "line one\nline two\x00\x01\x02 5" {
		t.Errorf("binary field = %q", bin)
	}
	if _, ok := es[5].Value("NOPE"); ok {
		t.Error("Value of a missing field reported present")
	}
}

// TestTruncatedSample reads a file cut in the middle of an entry object:
// every entry before it, then a *CorruptError, then io.EOF for good.
func TestTruncatedSample(t *testing.T) {
	p := sampleFile(t, "truncated")
	want := golden(t, "plain")
	f, err := OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var e Entry
	var n, corrupt int
	for i := 0; i < 1000; i++ {
		err := f.Next(&e)
		if err == io.EOF {
			break
		}
		var ce *CorruptError
		if errors.As(err, &ce) {
			if !errors.Is(err, ErrCorrupt) || ce.Path != p {
				t.Errorf("corrupt error %v: path %q", err, ce.Path)
			}
			corrupt++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		compareEntry(t, n, &e, &want[n])
		n++
	}
	if n != 29 || corrupt == 0 {
		t.Errorf("read %d entries and %d corruptions; want the 29 entries before the cut and a corruption", n, corrupt)
	}
	for range 3 {
		if err := f.Next(&e); err != io.EOF {
			t.Fatalf("Next after the end = %v; want io.EOF", err)
		}
	}
}

// TestTruncatedEverywhere cuts samples at many points, inside the header
// and across the objects that follow the hash tables: reading stops at
// the cut with the entries before it, and never panics or loops.
func TestTruncatedEverywhere(t *testing.T) {
	for _, name := range []string{"plain", "zstd", "lz4"} {
		b := sampleBytes(t, name)
		want := golden(t, name)
		offs := entryOffsets(t, b)
		h, _ := parseHeader(b)
		first := h.DataHashTableOffset + h.DataHashTableSize
		end := int(offs[len(offs)-1]) + 512
		var cuts []int
		for c := 0; c < 300; c += 13 {
			cuts = append(cuts, c)
		}
		for c := int(first) - 64; c < end; c += 23 {
			cuts = append(cuts, c)
		}
		for _, cut := range cuts {
			f, err := openBytes(b[:cut])
			if err != nil {
				if !errors.Is(err, ErrNotJournal) && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("%s cut at %d: open: %v", name, cut, err)
				}
				continue
			}
			whole := 0
			for _, o := range offs {
				if o+entryObjectSize <= uint64(cut) {
					whole++
				}
			}
			var e Entry
			n := 0
			for i := 0; ; i++ {
				if i > 10_000 {
					t.Fatalf("%s cut at %d: Next does not end", name, cut)
				}
				err := f.Next(&e)
				if err == io.EOF {
					break
				}
				if err != nil {
					if !errors.Is(err, ErrCorrupt) {
						t.Fatalf("%s cut at %d: %v", name, cut, err)
					}
					continue
				}
				if n < len(want) && e.Cursor().String() != want[n].cursor {
					t.Fatalf("%s cut at %d: entry %d is %s; want %s", name, cut, n, e.Cursor(), want[n].cursor)
				}
				n++
			}
			f.Close()
			// Every entry whose object lies before the cut is read, but
			// the one whose items the cut went through.
			if n < whole-1 || n > whole {
				t.Errorf("%s cut at %d: %d entries; %d lie before the cut", name, cut, n, whole)
			}
		}
	}
}

// TestWithTools writes journal files with the installed
// systemd-journal-remote, in every layout and compression it can write,
// with enough entries for the entry array chain to grow many times, and
// compares every entry with journalctl's export.
func TestWithTools(t *testing.T) {
	jr := needTools(t)
	version := systemdVersion(t, jr)
	input := nodeExport(3000, sampleBase)
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			if version < s.minVersion {
				t.Skipf("systemd %d writes no %s (needs %d); testdata/%s.journal.gz covers it", version, s.algo, s.minVersion, s.name)
			}
			p := filepath.Join(t.TempDir(), "system.journal")
			writeJournal(t, jr, p, input, s.compress, s.env...)
			want := journalctlExport(t, "--file="+p)
			got := readAllFile(t, p)
			if len(got) != len(want) || len(got) != 3000 {
				t.Fatalf("%d entries; journalctl exported %d of 3000", len(got), len(want))
			}
			for i := range got {
				compareEntry(t, i, got[i], &want[i])
			}
			if c := countCompressed(t, p); s.algo != "none" && c[s.algo] == 0 {
				t.Errorf("no %s objects written: %v", s.algo, c)
			}
			f, err := OpenFile(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if h := f.Header(); h.NEntryArrays < 5 {
				t.Errorf("%d entry arrays; the chain was meant to grow", h.NEntryArrays)
			}
		})
	}
}

// TestAppendWithTools follows a file that systemd-journal-remote appends
// to: the File sees io.EOF, then the new entries once they are written.
func TestAppendWithTools(t *testing.T) {
	jr := needTools(t)
	p := filepath.Join(t.TempDir(), "system.journal")
	writeJournal(t, jr, p, nodeExport(50, sampleBase), true)
	f, err := OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []string
	var e Entry
	drain := func() {
		for {
			err := f.Next(&e)
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, e.Cursor().String())
		}
	}
	drain()
	if len(got) != 50 {
		t.Fatalf("%d entries before the append; want 50", len(got))
	}
	writeJournal(t, jr, p, nodeExport(70, sampleBase+1_000_000_000), true)
	drain()
	var want []string
	for _, w := range journalctlExport(t, "--file="+p) {
		want = append(want, w.cursor)
	}
	if !slices.Equal(got, want) || len(got) != 120 {
		t.Errorf("read %d entries across the append; journalctl shows %d, and they differ", len(got), len(want))
	}
}

// TestNextAllocations checks that reading an entry allocates nothing once
// the buffers have grown, compressed fields included.
func TestNextAllocations(t *testing.T) {
	for _, name := range []string{"plain", "zstd", "lz4"} {
		if raceEnabled && name == "zstd" {
			continue // measured without the race detector
		}
		f, err := OpenFile(sampleFile(t, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var e Entry
		for range 12 {
			if err := f.Next(&e); err != nil {
				t.Fatal(err)
			}
		}
		avg := testing.AllocsPerRun(20, func() {
			if err := f.Next(&e); err != nil {
				t.Fatal(err)
			}
		})
		if avg != 0 {
			t.Errorf("%s: %.2f allocations per entry", name, avg)
		}
	}
}
