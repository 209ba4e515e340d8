package journal

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// journald is a systemd-journald running for a test in a namespace of
// its own, so that it writes its own files (under
// /var/log/journal/<machine-id>.<namespace>) and listens on its own socket,
// next to the machine's journal and without touching it.
type journald struct {
	t    *testing.T
	ns   string
	conn *net.UnixConn
}

// startJournald starts systemd-journald in a fresh namespace. It needs
// root, as journald does.
func startJournald(t *testing.T) *journald {
	t.Helper()
	needTools(t)
	if os.Geteuid() != 0 {
		t.Skip("systemd-journald needs root")
	}
	var bin string
	for _, p := range []string{"/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald"} {
		if _, err := os.Stat(p); err == nil {
			bin = p
		}
	}
	if bin == "" {
		t.Skip("systemd-journald not installed (apt-get install systemd)")
	}
	mid, err := os.ReadFile("/etc/machine-id")
	if err != nil || len(strings.TrimSpace(string(mid))) != 32 {
		t.Skip("no /etc/machine-id for systemd-journald")
	}
	ns := fmt.Sprintf("skifftest%d", os.Getpid())
	run := "/run/systemd/journal." + ns
	t.Cleanup(func() {
		os.RemoveAll(run)
		for _, root := range []string{DefaultPersistentDir, DefaultVolatileDir} {
			os.RemoveAll(filepath.Join(root, strings.TrimSpace(string(mid))+"."+ns))
		}
	})
	cmd := exec.Command(bin, ns)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning", "SYSTEMD_LOG_TARGET=console")
	out := new(strings.Builder)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	sock := run + "/socket"
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("systemd-journald did not create %s in 20s: %s", sock, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &journald{t: t, ns: ns, conn: conn}
}

// send logs one entry through journald's native protocol; a value holding
// a newline is sent in the binary form.
func (j *journald) send(fields ...string) {
	j.t.Helper()
	var b []byte
	for i := 0; i+1 < len(fields); i += 2 {
		name, value := fields[i], fields[i+1]
		if strings.Contains(value, "\n") {
			b = append(b, name...)
			b = append(b, '\n')
			b = binary.LittleEndian.AppendUint64(b, uint64(len(value)))
			b = append(b, value...)
			b = append(b, '\n')
		} else {
			b = append(b, name+"="+value+"\n"...)
		}
	}
	if _, err := j.conn.Write(b); err != nil {
		j.t.Fatal(err)
	}
}

// sendN logs the test entries first to first+n-1.
func (j *journald) sendN(first, n int) {
	for i := first; i < first+n; i++ {
		fields := []string{"MESSAGE", fmt.Sprintf("test entry %d", i), "SYSLOG_IDENTIFIER", "skiff-test",
			"PRIORITY", fmt.Sprint(i % 8), "TEST_N", fmt.Sprint(i)}
		if i%10 == 0 {
			fields = append(fields, "MESSAGE_LONG", strings.Repeat(fmt.Sprintf("long %d ", i), 200))
		}
		if i%13 == 0 {
			fields = append(fields, "TEST_BINARY", fmt.Sprintf("two\nlines %d", i))
		}
		j.send(fields...)
	}
}

// journalctl runs journalctl on the namespace.
func (j *journald) journalctl(args ...string) string {
	j.t.Helper()
	out, err := exec.Command("journalctl", append([]string{"--namespace=" + j.ns}, args...)...).CombinedOutput()
	if err != nil {
		j.t.Fatalf("journalctl %v: %v: %s", args, err, out)
	}
	return string(out)
}

// export returns every entry of the namespace, as journalctl sees them.
func (j *journald) export() []exportEntry {
	j.t.Helper()
	j.journalctl("--sync")
	return journalctlExport(j.t, "--namespace="+j.ns)
}

func (j *journald) config() Config {
	return Config{Dirs: []string{DefaultPersistentDir, DefaultVolatileDir}, Namespace: j.ns}
}

func testN(e *Entry) string { v, _ := e.Value("TEST_N"); return string(v) }

// TestJournald follows a real systemd-journald: entries it writes, its
// rotation (journalctl --rotate), its vacuum (journalctl --vacuum-files),
// and resumes from a cursor whose file was vacuumed meanwhile, counting the
// entries lost with it. Every entry and cursor is compared with
// journalctl's.
func TestJournald(t *testing.T) {
	j := startJournald(t)
	var ls losses
	cfg := j.config()
	cfg.OnLoss = ls.add
	cfg.PollInterval = time.Hour // fsnotify must do the waking
	r := newTestReader(t, cfg)
	c := newCollector()
	run := runReader(t, r, c)

	// journald writes a line of its own at start; then ours.
	j.sendN(0, 100)
	want := j.export()
	c.waitFor(t, len(want))
	j.journalctl("--rotate")
	j.sendN(100, 100)
	want = j.export()
	c.waitFor(t, len(want))
	j.journalctl("--rotate")
	j.sendN(200, 100)
	j.journalctl("--vacuum-files=1") // the archived files go
	j.sendN(300, 50)
	all := append(want, j.export()...)
	got := c.waitFor(t, len(all))
	for i, e := range got {
		compareEntry(t, i, e, &all[i])
	}
	if l := ls.get(); len(l) != 0 {
		t.Errorf("losses %v", l)
	}
	run.stop()
	r.Close()

	// Stopped at entry 320. Meanwhile journald writes on, rotates twice
	// and vacuums: the entries after 320 up to the last rotation are lost.
	var cursor Cursor
	for _, e := range got {
		if testN(e) == "320" {
			cursor = e.Cursor()
		}
	}
	j.sendN(350, 30)
	j.journalctl("--rotate")
	j.sendN(380, 30)
	j.journalctl("--rotate")
	before := j.export()
	j.journalctl("--vacuum-files=1")
	j.sendN(410, 20)
	after := j.export()

	ls = losses{}
	cfg.After = cursor
	r = newTestReader(t, cfg)
	es := readAll(t, r)
	if len(es) != len(after) {
		t.Fatalf("%d entries after the cursor; journalctl shows %d left", len(es), len(after))
	}
	for i, e := range es {
		compareEntry(t, i, e, &after[i])
	}
	var lost uint64
	for _, w := range before {
		c, _ := ParseCursor(w.cursor)
		if c.Seqnum > cursor.Seqnum && c.Seqnum < es[0].Seqnum {
			lost++
		}
	}
	if n := ls.total(LossGap); n != lost || lost == 0 {
		t.Errorf("reported %d entries lost (%v); %d were vacuumed after the cursor", n, ls.get(), lost)
	}
}

// TestJournaldFilterAndCursor compares a filtered read with journalctl's
// matches, and checks that journalctl takes a Reader's cursor.
func TestJournaldFilterAndCursor(t *testing.T) {
	j := startJournald(t)
	j.sendN(0, 60)
	j.journalctl("--sync")
	cfg := j.config()
	cfg.Filter = Filter{{Fields: []string{"SYSLOG_IDENTIFIER=skiff-test", "TEST_N=3", "TEST_N=17"}}, {Priorities: PriorityRange(0, 1)}}
	got := readAll(t, newTestReader(t, cfg))
	want := journalctlExport(t, "--namespace="+j.ns, "SYSLOG_IDENTIFIER=skiff-test", "TEST_N=3", "TEST_N=17", "+", "PRIORITY=0", "PRIORITY=1")
	if len(got) != len(want) || len(want) < 10 {
		t.Fatalf("%d entries; journalctl matches %d", len(got), len(want))
	}
	for i, e := range got {
		compareEntry(t, i, e, &want[i])
	}
	after := journalctlExport(t, "--namespace="+j.ns, "--after-cursor="+got[0].Cursor().String())
	all := readAll(t, newTestReader(t, j.config()))
	for i, e := range all {
		if e.Cursor() == got[0].Cursor() {
			if len(after) != len(all)-i-1 || after[0].cursor != all[i+1].Cursor().String() {
				t.Errorf("journalctl --after-cursor gives %d entries; want %d", len(after), len(all)-i-1)
			}
		}
	}
}

// TestJournaldUserJournal follows a system journal and a user journal
// that journald fills in turns: one sequence across two files. The entries
// come out in seqnum order, as journalctl shows them, and no gap is taken
// for entries that were only in the other file.
func TestJournaldUserJournal(t *testing.T) {
	j := startJournald(t)
	helper := userHelper(t)
	var ls losses
	cfg := j.config()
	cfg.OnLoss = ls.add
	cfg.PollInterval = time.Hour
	r := newTestReader(t, cfg)
	c := newCollector()
	runReader(t, r, c)
	for round := range 6 {
		first := round * 40
		j.sendN(first, 20)
		helper(first+20, 20) // as uid 1000: user-1000.journal
	}
	want := j.export()
	got := c.waitFor(t, len(want))
	for i, e := range got {
		compareEntry(t, i, e, &want[i])
	}
	if l := ls.get(); len(l) != 0 {
		t.Errorf("losses %v", l)
	}
	files, _ := filepath.Glob(filepath.Join(DefaultPersistentDir, "*."+j.ns, "user-1000.journal"))
	files2, _ := filepath.Glob(filepath.Join(DefaultVolatileDir, "*."+j.ns, "user-1000.journal"))
	if len(files)+len(files2) != 1 {
		t.Errorf("no user journal written")
	}

	// Resuming after an entry of either file gives the rest, as
	// journalctl --after-cursor does, and loses nothing.
	for _, i := range []int{30, 75, 130} {
		cfg.After = got[i].Cursor()
		ls = losses{}
		cfg.OnLoss = ls.add
		rest := readAll(t, newTestReader(t, cfg))
		after := journalctlExport(t, "--namespace="+j.ns, "--after-cursor="+cfg.After.String())
		if len(rest) != len(after) || len(rest) != len(got)-i-1 {
			t.Fatalf("after entry %d: %d entries; journalctl gives %d, %d follow it", i, len(rest), len(after), len(got)-i-1)
		}
		for k, e := range rest {
			compareEntry(t, k, e, &after[k])
		}
		if l := ls.get(); len(l) != 0 {
			t.Errorf("after entry %d: losses %v", i, l)
		}
	}
}

// userHelper returns a function sending test entries as uid 1000, from a
// copy of the test binary run as TestJournaldHelper.
func userHelper(t *testing.T) func(first, n int) {
	dir, err := os.MkdirTemp("", "skiff-journal-helper")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "helper")
	b, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ns := fmt.Sprintf("skifftest%d", os.Getpid())
	return func(first, n int) {
		cmd := exec.Command(bin, "-test.run=^TestJournaldHelper$")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "SKIFF_JOURNAL_HELPER="+fmt.Sprintf("%s %d %d", ns, first, n))
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000}}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("helper as uid 1000: %v\n%s", err, out)
		}
	}
}

// TestJournaldHelper sends test entries when run by userHelper.
func TestJournaldHelper(t *testing.T) {
	arg := os.Getenv("SKIFF_JOURNAL_HELPER")
	if arg == "" {
		t.Skip("run by TestJournaldUserJournal as another user")
	}
	var ns string
	var first, n int
	if _, err := fmt.Sscan(arg, &ns, &first, &n); err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: "/run/systemd/journal." + ns + "/socket", Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	j := &journald{t: t, ns: ns, conn: conn}
	j.sendN(first, n)
}
