package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat;
// Linux exposes 100 on every architecture the harness runs on.
const clockTicks = 100

// procUsage is the resource use of a process and its descendants.
type procUsage struct {
	// CPU is user+system time consumed so far.
	CPU time.Duration
	// RSS is the resident set size now, in bytes.
	RSS int64
	// Peak is the largest VmHWM among the processes, in bytes.
	Peak int64
	// Anon is the anonymous resident memory now (RssAnon), in bytes: the
	// heap, stacks and other private memory, which the kernel can only
	// reclaim by swapping, unlike the file pages of the program's code.
	Anon int64
	// Procs is how many processes were counted.
	Procs int
}

// readTree sums the usage of pid and all its descendants (an adapter may
// start the agent through a wrapper).
func readTree(pid int) (procUsage, error) {
	pids := append([]int{pid}, descendants(pid)...)
	var u procUsage
	for i, p := range pids {
		cpu, err := readCPU(p)
		if err != nil {
			if i == 0 {
				return u, err
			}
			continue // a child exited meanwhile
		}
		rss, hwm, anon, err := readMem(p)
		if err != nil {
			continue
		}
		u.CPU += cpu
		u.RSS += rss
		u.Anon += anon
		u.Peak = max(u.Peak, hwm)
		u.Procs++
	}
	return u, nil
}

// readCPU returns utime+stime of pid from /proc/<pid>/stat.
func readCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of %d: %w", pid, err)
	}
	_, _, cpu, err := parseStat(b)
	return cpu, err
}

// parseStat returns the state, the parent pid and utime+stime of a
// /proc/<pid>/stat line. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from its last ')'.
func parseStat(b []byte) (state byte, ppid int, cpu time.Duration, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, 0, fmt.Errorf("parse stat %.40q: no command name", b)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, 0, 0, fmt.Errorf("parse stat %.40q: %d fields", b, len(f)+2)
	}
	ppid, err1 := strconv.Atoi(f[1])
	ut, err2 := strconv.ParseInt(f[11], 10, 64)
	st, err3 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return 0, 0, 0, fmt.Errorf("parse stat %.40q: bad numbers", b)
	}
	return f[0][0], ppid, time.Duration(ut+st) * time.Second / clockTicks, nil
}

// readMem returns VmRSS, VmHWM and RssAnon of pid in bytes.
func readMem(pid int) (rss, hwm, anon int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, 0, fmt.Errorf("read status of %d: %w", pid, err)
	}
	rss, hwm, anon = parseStatusKB(b, "VmRSS:"), parseStatusKB(b, "VmHWM:"), parseStatusKB(b, "RssAnon:")
	return rss, hwm, anon, nil
}

func parseStatusKB(b []byte, key string) int64 {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0
	}
	line := b[i+len(key):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := strings.Fields(string(line))
	if len(f) == 0 {
		return 0
	}
	kb, _ := strconv.ParseInt(f[0], 10, 64)
	return kb << 10
}

// descendants lists the processes below pid, found through /proc/*/stat.
func descendants(pid int) []int {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	children := map[int][]int{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		_, ppid, _, err := parseStat(b)
		if err != nil {
			continue
		}
		child, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		children[ppid] = append(children[ppid], child)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}
