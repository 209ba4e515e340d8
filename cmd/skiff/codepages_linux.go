package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// releaseCodePages hands the kernel back the pages of skiff's executable
// (code, read-only data, the runtime's function tables) that the process
// has mapped, and asks for the pages it touches from now on one at a
// time. Go links every package's code into one file, package
// initialisation and start-up touch a little of most of it, and on each
// touch the kernel maps the 64 KiB around it (fault-around) and reads
// ahead 128 KiB: after start-up about 19 MiB of the file were resident,
// of which the steady state uses about 7.
//
// Only read-only mappings of the file holding this function's code are
// released, and only those without private copies of pages (a position-
// independent build's relocated data, a debugger's breakpoint), which
// releasing would undo. The file's pages no process maps any more leave
// the page cache, so what skiff runs is read again page by page from the
// file. It returns the resident bytes released.
func releaseCodePages() (int64, error) {
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return 0, err
	}
	pc, _, _, _ := runtime.Caller(0)
	spans, err := codeSpans(smaps, uint64(pc))
	if err != nil {
		return 0, err
	}
	var released int64
	for _, s := range spans {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(s.start), uintptr(s.end-s.start), unix.MADV_RANDOM); e != 0 {
			return released, fmt.Errorf("madvise random %#x-%#x: %w", s.start, s.end, e)
		}
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, uintptr(s.start), uintptr(s.end-s.start), unix.MADV_DONTNEED); e != 0 {
			return released, fmt.Errorf("madvise dontneed %#x-%#x: %w", s.start, s.end, e)
		}
		released += s.rss
	}
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return released, err
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		return released, fmt.Errorf("fadvise %s: %w", f.Name(), err)
	}
	return released, nil
}

// codeSpan is one mapping of the executable that releaseCodePages may
// release: [start, end) and its resident bytes.
type codeSpan struct {
	start, end uint64
	rss        int64
}

// codeSpans reads /proc/self/smaps and returns the mappings of the file
// that maps pc (by device and inode: on overlayfs, as in a container,
// the path shown may be the layer's, not /proc/self/exe's) that are not
// writable and hold no anonymous pages.
func codeSpans(smaps []byte, pc uint64) ([]codeSpan, error) {
	type mapping struct {
		codeSpan
		writable bool
		file     string // device and inode
		anon     int64
	}
	var maps []mapping
	sc := bufio.NewScanner(bytes.NewReader(smaps))
	for sc.Scan() {
		line := sc.Text()
		fs := strings.Fields(line)
		if len(fs) >= 5 && strings.Contains(fs[0], "-") && len(fs[1]) == 4 {
			lo, hi, ok := strings.Cut(fs[0], "-")
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if !ok || err1 != nil || err2 != nil {
				return nil, fmt.Errorf("smaps: bad mapping line %q", line)
			}
			m := mapping{codeSpan: codeSpan{start: start, end: end}, writable: fs[1][1] == 'w'}
			if fs[4] != "0" { // inode 0: anonymous memory
				m.file = fs[3] + " " + fs[4]
			}
			maps = append(maps, m)
			continue
		}
		if len(maps) == 0 || len(fs) < 2 {
			continue
		}
		kb, err := strconv.ParseInt(fs[1], 10, 64)
		if err != nil {
			continue // VmFlags and the like
		}
		switch fs[0] {
		case "Rss:":
			maps[len(maps)-1].rss = kb << 10
		case "Anonymous:":
			maps[len(maps)-1].anon = kb << 10
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	exe := ""
	for _, m := range maps {
		if m.start <= pc && pc < m.end {
			exe = m.file
		}
	}
	if exe == "" {
		return nil, fmt.Errorf("smaps: no file mapping holds the code at %#x", pc)
	}
	var spans []codeSpan
	for _, m := range maps {
		if m.file == exe && !m.writable && m.anon == 0 {
			spans = append(spans, m.codeSpan)
		}
	}
	return spans, nil
}
