package main

import (
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// smapsEntry writes one mapping of /proc/self/smaps as the kernel does.
func smapsEntry(header string, rssKB, anonKB string) string {
	return header + "\n" +
		"Size:                 64 kB\n" +
		"Rss:                  " + rssKB + " kB\n" +
		"Pss:                  " + rssKB + " kB\n" +
		"Anonymous:            " + anonKB + " kB\n" +
		"THPeligible:           0\n" +
		"VmFlags: rd ex mr mw me\n"
}

func TestCodeSpans(t *testing.T) {
	smaps := smapsEntry("00400000-00f93000 r-xp 00000000 fe:00 10011857                           /usr/bin/skiff", "9000", "0") +
		// the read-only data: on overlayfs the path is the layer's
		smapsEntry("00f93000-01b08000 r--p 00b93000 fe:00 10011857                           /var/lib/containerd/snapshots/7/fs/usr/bin/skiff", "3400", "0") +
		// relocated, so private copies: releasing would undo them
		smapsEntry("01b08000-01b10000 r--p 01708000 fe:00 10011857                           /usr/bin/skiff", "32", "32") +
		smapsEntry("01b10000-01b99000 rw-p 01710000 fe:00 10011857                           /usr/bin/skiff", "400", "120") +
		// another file with the same inode on another device
		smapsEntry("7f0000000000-7f0000100000 r-xp 00000000 fe:01 10011857                   /lib/other.so", "100", "0") +
		smapsEntry("c000000000-c004000000 rw-p 00000000 00:00 0 ", "9000", "9000") +
		smapsEntry("7ffd2a5e0000-7ffd2a601000 rw-p 00000000 00:00 0                          [stack]", "16", "16")

	got, err := codeSpans([]byte(smaps), 0x00500000)
	if err != nil {
		t.Fatal(err)
	}
	want := []codeSpan{
		{start: 0x00400000, end: 0x00f93000, rss: 9000 << 10},
		{start: 0x00f93000, end: 0x01b08000, rss: 3400 << 10},
	}
	if !slices.Equal(got, want) {
		t.Errorf("codeSpans = %+v, want %+v", got, want)
	}

	if _, err := codeSpans([]byte(smaps), 0x10); err == nil || !strings.Contains(err.Error(), "no file mapping holds the code at 0x10") {
		t.Errorf("code outside every mapping: err = %v", err)
	}
	if _, err := codeSpans([]byte(smaps), 0xc000001000); err == nil {
		t.Error("code in anonymous memory: no error")
	}
	if _, err := codeSpans([]byte("zzzz-00f93000 r-xp 00000000 fe:00 1 /x\n"), 0x00500000); err == nil || !strings.Contains(err.Error(), "bad mapping line") {
		t.Errorf("bad mapping line: err = %v", err)
	}
}

// codeSpansNow returns the executable's mappings that releaseCodePages
// would release now.
func codeSpansNow(t *testing.T) []codeSpan {
	t.Helper()
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	pc, _, _, _ := runtime.Caller(0)
	spans, err := codeSpans(smaps, uint64(pc))
	if err != nil {
		t.Fatal(err)
	}
	return spans
}

// residentCode is the resident bytes of the executable's mappings that
// releaseCodePages would release now.
func residentCode(t *testing.T) int64 {
	t.Helper()
	var n int64
	for _, s := range codeSpansNow(t) {
		n += s.rss
	}
	return n
}

// The test binary releases its own pages and goes on running: what it
// runs next is mapped again, the rest stays released. Its pages are all
// mapped first: another test may have released them already (an
// in-process `skiff run`).
func TestReleaseCodePages(t *testing.T) {
	for _, s := range codeSpansNow(t) {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(s.start), uintptr(s.end-s.start), unix.MADV_POPULATE_READ); e != 0 {
			t.Skipf("MADV_POPULATE_READ (Linux 5.14): %v", e)
		}
	}
	before := residentCode(t)
	released, err := releaseCodePages()
	if err != nil {
		t.Fatal(err)
	}
	after := residentCode(t)
	t.Logf("resident code and read-only data: %d KiB before, %d KiB released, %d KiB after", before>>10, released>>10, after>>10)
	if released < before/2 {
		t.Errorf("released %d of %d resident bytes", released, before)
	}
	if after > before/2 {
		t.Errorf("resident after the release: %d bytes of %d before", after, before)
	}
}
