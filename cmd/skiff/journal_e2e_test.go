package main

// The journal inputs end to end: the built agent reads a journal written
// by systemd-journal-remote (from Debian's systemd-journal-remote, which
// .ci/setup.d/journal installs) and ships each entry to Container Insights'
// dataplane and host groups; it is killed in the middle of an outage while
// the journal rotates, and every entry is counted by its marker.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
	"github.com/skiff-agent/skiff/sinks/cloudwatch/ec2test"
	"github.com/skiff-agent/skiff/tailer/journal"
)

const (
	journalMachine = "3a9f0c1d2e4b4c5d8e7f6a5b4c3d2e1f"
	journalBoot    = "5f0e8a2c6b1d4e3f9a7b8c6d5e4f3a2b"
)

// nodeJournal writes a node's journal with systemd-journal-remote.
type nodeJournal struct {
	t      *testing.T
	remote string
	dir    string // the machine-ID directory
	next   int    // the number of the next entry
	files  int    // archived files so far
	lastRT int64  // the last entry's time: each is later than the one before
}

func newNodeJournal(t *testing.T, root string) *nodeJournal {
	t.Helper()
	remote := ""
	for _, p := range []string{"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"} {
		if _, err := os.Stat(p); err == nil {
			remote = p
		}
	}
	if remote == "" {
		t.Skip("systemd-journal-remote not installed (.ci/setup.d/journal installs it)")
	}
	j := &nodeJournal{t: t, remote: remote, dir: filepath.Join(root, journalMachine)}
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return j
}

// entryKind is what entry i is: a kubelet or containerd line (dataplane),
// a kernel message (host dmesg and messages), an sshd login on the
// authpriv facility (host secure), or a cron line (no group).
func entryKind(i int) string {
	switch i % 8 {
	case 3:
		return "kernel"
	case 5:
		return "sshd"
	case 7:
		return "cron"
	case 1, 6:
		return "containerd"
	}
	return "kubelet"
}

// write appends n entries to the active file.
func (j *nodeJournal) write(n int) {
	j.t.Helper()
	var b bytes.Buffer
	field := func(name, value string) { fmt.Fprintf(&b, "%s=%s\n", name, value) }
	for range n {
		i := j.next
		j.next++
		rt := max(time.Now().UnixMicro(), j.lastRT+1)
		j.lastRT = rt
		fmt.Fprintf(&b, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=%s\n", rt, 1_000_000+i, journalBoot)
		field("_MACHINE_ID", journalMachine)
		field("_HOSTNAME", "ip-10-0-1-23.ec2.internal")
		msg := fmt.Sprintf("jmark %d", i)
		switch entryKind(i) {
		case "kubelet", "containerd":
			unit := entryKind(i)
			field("_TRANSPORT", "stdout")
			field("_SYSTEMD_UNIT", unit+".service")
			field("SYSLOG_IDENTIFIER", unit)
			field("_PID", "1234")
			field("PRIORITY", "6")
			field("SYSLOG_FACILITY", "3")
		case "kernel":
			field("_TRANSPORT", "kernel")
			field("SYSLOG_IDENTIFIER", "kernel")
			field("PRIORITY", "4")
			field("SYSLOG_FACILITY", "0")
		case "sshd":
			field("_TRANSPORT", "syslog")
			field("SYSLOG_IDENTIFIER", "sshd")
			field("_PID", "4321")
			field("PRIORITY", "6")
			field("SYSLOG_FACILITY", "10")
		case "cron":
			field("_TRANSPORT", "syslog")
			field("SYSLOG_IDENTIFIER", "CRON")
			field("PRIORITY", "6")
			field("SYSLOG_FACILITY", "9")
		}
		if i%9 == 4 { // a binary value: a message with a newline
			b.WriteString("MESSAGE\n")
			v := msg + "\nsecond line"
			var l [8]byte
			binary.LittleEndian.PutUint64(l[:], uint64(len(v)))
			b.Write(l[:])
			b.WriteString(v + "\n")
		} else {
			field("MESSAGE", msg)
		}
		b.WriteByte('\n')
	}
	cmd := exec.Command(j.remote, "--output="+filepath.Join(j.dir, "system.journal"), "--compress=true", "-")
	cmd.Stdin = &b
	if out, err := cmd.CombinedOutput(); err != nil {
		j.t.Fatalf("systemd-journal-remote: %v\n%s", err, out)
	}
}

// rotate archives the active file under journald's archived name; the
// next write starts a new one.
func (j *nodeJournal) rotate() {
	j.t.Helper()
	j.files++
	archived := filepath.Join(j.dir, fmt.Sprintf("system@%032x-%016x-%016x.journal", j.files, j.files, time.Now().UnixMicro()))
	if err := os.Rename(filepath.Join(j.dir, "system.journal"), archived); err != nil {
		j.t.Fatal(err)
	}
}

// journalDestinations are where each kind of entry must arrive: group suffix and
// stream, by kind.
func journalDestinations(kind string) []string {
	switch kind {
	case "kubelet", "containerd":
		// priority 6 on facility 3 is also a "messages" entry
		return []string{"dataplane|demo-node-dataplane.systemd." + kind + ".service", "host|demo-node.host.messages"}
	case "kernel":
		return []string{"host|demo-node.host.dmesg", "host|demo-node.host.messages"}
	case "sshd":
		return []string{"host|demo-node.host.secure"}
	}
	return nil
}

var jmarkRE = regexp.MustCompile(`jmark (\d+)`)

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden.json from what the agent ships")

// checkGolden compares the events of every destination, in order and byte
// for byte, with the golden file: Container Insights' record shapes, as
// they arrive.
func checkGolden(t *testing.T, path string, records map[string][]string) {
	t.Helper()
	got, err := json.MarshalIndent(records, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test -run %s -update ./cmd/skiff writes it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("records differ from %s:\n%s", path, got)
	}
}

// journalTally reads back the dataplane and host groups: how many times
// each entry arrived at each destination, and the records by destination.
func (n *node) journalTally() (seen map[string]map[int]int, records map[string][]map[string]string, raw map[string][]string) {
	seen, records, raw = map[string]map[int]int{}, map[string][]map[string]string{}, map[string][]string{}
	for _, dest := range []string{
		"dataplane|demo-node-dataplane.systemd.kubelet.service", "dataplane|demo-node-dataplane.systemd.containerd.service",
		"host|demo-node.host.dmesg", "host|demo-node.host.messages", "host|demo-node.host.secure",
	} {
		suffix, stream, _ := bytes.Cut([]byte(dest), []byte("|"))
		group := "/aws/containerinsights/" + demoCluster + "/" + string(suffix)
		seen[dest] = map[int]int{}
		for _, e := range n.cw.Events(group, string(stream)) {
			var rec map[string]string
			if err := json.Unmarshal([]byte(e.Message), &rec); err != nil {
				n.t.Fatalf("%s: event %q is not a flat JSON record: %v", dest, e.Message, err)
			}
			records[dest] = append(records[dest], rec)
			raw[dest] = append(raw[dest], e.Message)
			if m := jmarkRE.FindStringSubmatch(e.Message); m != nil {
				i, _ := strconv.Atoi(m[1])
				seen[dest][i]++
			}
		}
	}
	return seen, records, raw
}

// checkJournal counts the entries below written that did not arrive at
// every destination of their kind, and the copies; report logs the first
// missing ones.
func (n *node) checkJournal(written int, report bool) (missing, duplicates int) {
	seen, _, _ := n.journalTally()
	for i := range written {
		for _, dest := range journalDestinations(entryKind(i)) {
			switch c := seen[dest][i]; {
			case c == 0:
				if report && missing < 5 {
					n.t.Logf("entry %d (%s) not delivered to %s", i, entryKind(i), dest)
				}
				missing++
			case c > 1:
				duplicates += c - 1
			}
		}
	}
	return missing, duplicates
}

// TestJournalGroupsAndRecords: the default inputs ship the journal to
// Container Insights' groups and streams, with its record shapes, next to
// the application's files.
func TestJournalGroupsAndRecords(t *testing.T) {
	imds := ec2test.Server(t, ec2test.Instance{AvailabilityZone: "eu-west-1b", InstanceID: "i-0123456789abcdef0", Region: "eu-west-1"})
	n := newNode(t, nodeOptions{pods: 1, rate: 100, journal: true, env: []string{"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.URL}})
	j := newNodeJournal(t, n.journalDir())
	j.write(16)
	p := n.start()
	n.write()
	n.written(200)
	waitFor(t, 30*time.Second, "the journal entries delivered", func() bool {
		missing, _ := n.checkJournal(16, false)
		return missing == 0
	})
	n.finish(p)
	_, records, raw := n.journalTally()
	checkGolden(t, "testdata/journal-records.golden.json", raw)
	want := map[string]map[string]string{
		"dataplane|demo-node-dataplane.systemd.kubelet.service": {
			"hostname": "ip-10-0-1-23.ec2.internal", "systemd_unit": "kubelet.service", "message": "jmark 0",
			"az": "eu-west-1b", "ec2_instance_id": "i-0123456789abcdef0"},
		"host|demo-node.host.dmesg": {
			"host": "ip-10-0-1-23.ec2.internal", "ident": "kernel", "message": "jmark 3",
			"az": "eu-west-1b", "ec2_instance_id": "i-0123456789abcdef0"},
		"host|demo-node.host.secure": {
			"host": "ip-10-0-1-23.ec2.internal", "ident": "sshd", "pid": "4321", "message": "jmark 5",
			"az": "eu-west-1b", "ec2_instance_id": "i-0123456789abcdef0"},
	}
	for dest, w := range want {
		if len(records[dest]) == 0 || fmt.Sprint(records[dest][0]) != fmt.Sprint(w) {
			t.Errorf("%s: first record %v; want %v", dest, records[dest], w)
		}
	}
	binary := false
	for _, r := range records["dataplane|demo-node-dataplane.systemd.kubelet.service"] {
		binary = binary || r["message"] == "jmark 4\nsecond line"
	}
	if !binary {
		t.Errorf("the binary MESSAGE of entry 4 did not arrive whole")
	}
	for _, r := range records["host|demo-node.host.messages"] {
		if r["message"] == "jmark 7" {
			t.Errorf("a cron entry (facility 9) reached host.messages")
		}
	}
}

// TestJournalKillDuringOutageWithRotation: the agent is killed twice in
// the middle of an outage while the journal grows and rotates, and stopped
// once; every entry arrives at every destination of its kind.
func TestJournalKillDuringOutageWithRotation(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 1, rate: 200, bufferBytes: "2MiB", journal: true, env: []string{"AWS_EC2_METADATA_DISABLED=true"}})
	j := newNodeJournal(t, n.journalDir())
	j.write(300)
	p := n.start()
	n.write()
	waitFor(t, 30*time.Second, "the first entries delivered", func() bool {
		missing, _ := n.checkJournal(300, false)
		return missing == 0
	})
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	runs := []*proc{p}
	readSome := func() {
		waitFor(t, 30*time.Second, "entries read in the outage", func() bool {
			return n.metric("skiff_input_journal_records_total") >= 100
		})
	}
	for range 2 {
		j.write(200)
		j.rotate()
		j.write(200)
		readSome()
		n.kill(p)
		p = n.start()
		runs = append(runs, p)
	}
	j.write(200)
	readSome()
	if code := n.stopAgent(p, n.grace); code != exitFailed {
		t.Fatalf("exit code %d after SIGTERM in an outage; want %d", code, exitFailed)
	}
	n.cw.SetFaults(cwlocal.Faults{})
	p = n.start()
	runs = append(runs, p)
	j.write(100)
	waitFor(t, time.Minute, "every entry delivered", func() bool {
		missing, _ := n.checkJournal(j.next, false)
		return missing == 0
	})
	if lost := n.metric("skiff_input_journal_lost_entries_total"); lost != 0 {
		t.Errorf("skiff_input_journal_lost_entries_total = %v; want 0", lost)
	}
	n.finish(p)
	missing, dups := n.checkJournal(j.next, true)
	if missing != 0 {
		t.Errorf("%d entries missing", missing)
	}
	for i, r := range runs {
		if strings.Contains(r.stderr.String(), "journal entries lost") {
			t.Errorf("run %d counted journal entries as lost", i)
		}
	}
	t.Logf("%d journal entries written in %d files; %d copies delivered twice (at least once across kills)", j.next, j.files+1, dups)
}

// TestJournalVacuumedWhileDownIsCounted: entries read but not yet accepted
// when the agent was killed, in a file journald vacuumed before the agent
// came back, cannot be read by anyone: the next start counts exactly them
// as lost (reason gap), and delivers everything after.
func TestJournalVacuumedWhileDownIsCounted(t *testing.T) {
	n := newNode(t, nodeOptions{pods: 1, rate: 50, journal: true, env: []string{"AWS_EC2_METADATA_DISABLED=true"}})
	dir := filepath.Join(n.journalDir(), journalMachine)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var seq, machine, boot journal.ID128
	copy(seq[:], "vacuum-test-seq")
	copy(machine[:], "vacuum-machine")
	copy(boot[:], "vacuum-boot")
	active := filepath.Join(dir, "system.journal")
	w, err := journal.CreateWriter(active, seq, machine, journal.ID128{1})
	if err != nil {
		t.Fatal(err)
	}
	next := uint64(0)
	write := func(w *journal.Writer, count int) {
		t.Helper()
		for range count {
			next++
			err := w.Append(journal.WriterEntry{Seqnum: next, Realtime: uint64(time.Now().UnixMicro()), Monotonic: next, BootID: boot,
				Fields: []string{"_SYSTEMD_UNIT=kubelet.service", "_HOSTNAME=node-1", "PRIORITY=6", fmt.Sprintf("MESSAGE=jmark %d", next-1)}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	delivered := func(from, to int) bool {
		seen, _, _ := n.journalTally()
		for i := from; i < to; i++ {
			if seen["dataplane|demo-node-dataplane.systemd.kubelet.service"][i] == 0 {
				return false
			}
		}
		return true
	}
	write(w, 20)
	p := n.start()
	waitFor(t, 30*time.Second, "the first 20 entries delivered", func() bool { return delivered(0, 20) })
	cursor := filepath.Join(n.dir, "state", journal.CursorFile)
	waitFor(t, 30*time.Second, "their cursor saved", func() bool {
		b, err := os.ReadFile(cursor)
		c, perr := journal.ParseCursor(strings.TrimSpace(string(b)))
		return err == nil && perr == nil && c.Seqnum == 20
	})
	n.cw.SetFaults(cwlocal.Faults{Outage: true})
	write(w, 30) // read, never accepted
	waitFor(t, 30*time.Second, "entries read in the outage", func() bool {
		return n.metric("skiff_input_journal_records_total") >= 20+30*2 // dataplane and host messages
	})
	n.kill(p)

	// journald rotates, then vacuums the archived file, while skiff is down.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	archived := filepath.Join(dir, "system@1.journal")
	if err := os.Rename(active, archived); err != nil {
		t.Fatal(err)
	}
	w2, err := journal.CreateWriter(active, seq, machine, journal.ID128{2})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	write(w2, 25)
	if err := os.Remove(archived); err != nil {
		t.Fatal(err)
	}
	n.cw.SetFaults(cwlocal.Faults{})
	p = n.start()
	waitFor(t, 30*time.Second, "the entries after the vacuumed file delivered", func() bool { return delivered(50, 75) })
	if lost := n.metric(`skiff_input_journal_lost_entries_total{reason="gap"}`); lost != 30 {
		t.Errorf("skiff_input_journal_lost_entries_total{reason=gap} = %v; want 30 (the entries of the vacuumed file after the cursor)", lost)
	}
	if delivered(20, 50) {
		t.Error("entries of the vacuumed file were delivered: the test did not vacuum them before the agent read them")
	}
	if code := n.stopAgent(p, n.grace); code != 0 {
		t.Errorf("exit code %d after SIGTERM", code)
	}
}
