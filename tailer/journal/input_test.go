package journal

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/skiff-agent/skiff/tailer"
)

// recordSink is a tailer.Consumer that keeps copies of the records and,
// when hold is set, their positions until ackFirst acknowledges them.
type recordSink struct {
	mu      sync.Mutex
	changed chan struct{}
	recs    []tailer.Record
	held    []tailer.Position
	hold    bool
}

func newRecordSink(hold bool) *recordSink {
	return &recordSink{changed: make(chan struct{}), hold: hold}
}

func (s *recordSink) Write(_ context.Context, recs []tailer.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range recs {
		r.Message = []byte(string(r.Message))
		s.recs = append(s.recs, r)
		if s.hold {
			s.held = append(s.held, r.Pos)
		} else {
			r.Pos.Ack()
		}
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return nil
}

// waitFor waits until n records arrived and returns them.
func (s *recordSink) waitFor(t *testing.T, n int) []tailer.Record {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		s.mu.Lock()
		got, ch := slices.Clone(s.recs), s.changed
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%d records of %d", len(got), n)
		}
	}
}

// ack acknowledges the held positions at the given indexes.
func (s *recordSink) ack(idx ...int) {
	s.mu.Lock()
	held := s.held
	s.mu.Unlock()
	for _, i := range idx {
		held[i].Ack()
	}
}

// ciRoutes are Container Insights' dataplane and host journal inputs.
func ciRoutes() []Route {
	hostFields := map[string]string{"host": "_HOSTNAME", "ident": "SYSLOG_IDENTIFIER", "pid": "_PID", "message": "MESSAGE"}
	return []Route{
		{Name: "dataplane", Match: Match{Fields: []string{"_SYSTEMD_UNIT=kubelet.service", "_SYSTEMD_UNIT=containerd.service", "_SYSTEMD_UNIT=docker.service"}}},
		{Name: "host.dmesg", Match: Match{Fields: []string{"_TRANSPORT=kernel"}}, Fields: hostFields},
		{Name: "host.messages", Match: Match{Priorities: PriorityRange(0, 6), Not: []string{"SYSLOG_FACILITY=2", "SYSLOG_FACILITY=9", "SYSLOG_FACILITY=10"}}, Fields: hostFields},
		{Name: "host.secure", Match: Match{Fields: []string{"SYSLOG_FACILITY=10"}}, Fields: hostFields},
	}
}

// TestInputRoutes: every entry becomes one record per input that matches
// it, shaped as Container Insights writes it, tagged with its unit.
func TestInputRoutes(t *testing.T) {
	jr := needTools(t)
	dir := t.TempDir()
	const n = 64
	writeJournal(t, jr, filepath.Join(dir, "system.journal"), nodeExport(n, sampleBase), true)

	// What each input must receive, from what journalctl reads.
	want := map[string]int{}
	var firstKubelet map[string]string
	for _, e := range journalctlExport(t, "--file", filepath.Join(dir, "system.journal")) {
		f := map[string]string{}
		for _, fl := range e.fields {
			f[fl.name] = string(fl.value)
		}
		prio := f["PRIORITY"]
		fac := f["SYSLOG_FACILITY"]
		switch f["_SYSTEMD_UNIT"] {
		case "kubelet.service", "containerd.service":
			want["dataplane"]++
			if firstKubelet == nil && f["_SYSTEMD_UNIT"] == "kubelet.service" {
				firstKubelet = map[string]string{"hostname": f["_HOSTNAME"], "systemd_unit": f["_SYSTEMD_UNIT"], "message": f["MESSAGE"]}
			}
		}
		if f["_TRANSPORT"] == "kernel" {
			want["host.dmesg"]++
		}
		if prio >= "0" && prio <= "6" && fac != "2" && fac != "9" && fac != "10" {
			want["host.messages"]++
		}
		if fac == "10" {
			want["host.secure"]++
		}
	}
	total := 0
	for _, c := range want {
		total += c
	}
	sink := newRecordSink(false)
	in, err := NewInput(InputConfig{Reader: Config{Dirs: []string{dir}, PollInterval: time.Hour}, Routes: ciRoutes()}, sink)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- in.Run(ctx) }()
	recs := sink.waitFor(t, total)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	in.Close()

	got := map[string]int{}
	for i, r := range recs {
		got[r.File.Input]++
		if r.Flags != tailer.Encoded || !json.Valid(r.Message) {
			t.Fatalf("record %d: flags %v, message %q", i, r.Flags, r.Message)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(recs) != total {
		t.Errorf("records per input %v (%d in all); want %v", got, len(recs), want)
	}
	first := recs[slices.IndexFunc(recs, func(r tailer.Record) bool { return r.File.Tag == "kubelet.service" })]
	var shape map[string]string
	if err := json.Unmarshal(first.Message, &shape); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(shape) != fmt.Sprint(firstKubelet) || first.File.Input != "dataplane" {
		t.Errorf("first kubelet record %s (input %q); want %v", first.Message, first.File.Input, firstKubelet)
	}
	for _, r := range recs {
		if r.File.Input == "host.secure" && !strings.Contains(string(r.Message), `"ident":"sshd","message":"Accepted publickey`) {
			t.Errorf("host.secure record %s", r.Message)
			break
		}
	}
}

// TestInputCursorFollowsAcks: the saved cursor is that of the last entry
// whose records, and every earlier entry's, were acknowledged, whatever
// order the acknowledgements come in; a new Input resumes after it, and a
// crash before the save only delivers entries again.
func TestInputCursorFollowsAcks(t *testing.T) {
	jr := needTools(t)
	dir, state := t.TempDir(), t.TempDir()
	const n = 40
	writeJournal(t, jr, filepath.Join(dir, "system.journal"), nodeExport(n, sampleBase), true)
	cfg := InputConfig{
		Reader:   Config{Dirs: []string{dir}, PollInterval: time.Hour, BatchSize: 10},
		Routes:   []Route{{Name: "all", Fields: map[string]string{"message": "MESSAGE"}}},
		StateDir: state, CheckpointInterval: time.Hour,
	}
	start := func(sink *recordSink) (*Input, func()) {
		in, err := NewInput(cfg, sink)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- in.Run(ctx) }()
		return in, func() {
			cancel()
			if err := <-done; err != nil {
				t.Error(err)
			}
			if err := in.Checkpoint(); err != nil { // as the agent does after its flush
				t.Error(err)
			}
			in.Close()
		}
	}
	saved := func() string {
		b, err := os.ReadFile(filepath.Join(state, CursorFile))
		if os.IsNotExist(err) {
			return ""
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}

	sink := newRecordSink(true)
	in, stop := start(sink)
	recs := sink.waitFor(t, n)
	// The second batch (entries 10-19) is acknowledged first: nothing can
	// be saved yet.
	sink.ack(seqRange(10, 20)...)
	if err := in.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if c := saved(); c != "" {
		t.Fatalf("cursor %q saved before the first batch was acknowledged", c)
	}
	sink.ack(seqRange(0, 10)...)
	sink.ack(seqRange(20, 29)...) // the third batch but its last record
	stop()
	c, err := ParseCursor(saved())
	if err != nil {
		t.Fatalf("saved cursor: %v", err)
	}
	if c.Seqnum != 20 {
		t.Errorf("saved cursor at seqnum %d; want 20 (the second batch's last entry)", c.Seqnum)
	}

	// The next start delivers entries 21-40 again, nothing before.
	sink2 := newRecordSink(false)
	_, stop2 := start(sink2)
	again := sink2.waitFor(t, n-20)
	stop2()
	var msgs, wantMsgs []string
	for _, r := range again {
		msgs = append(msgs, string(r.Message))
	}
	for _, r := range recs[20:] {
		wantMsgs = append(wantMsgs, string(r.Message))
	}
	if !slices.Equal(msgs, wantMsgs) {
		t.Errorf("after the restart got %d records, first %.80s; want the %d after the cursor", len(msgs), msgs[0], len(wantMsgs))
	}
}

func seqRange(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func TestParsePriorities(t *testing.T) {
	for _, c := range []struct {
		in   string
		want PrioritySet
		ok   bool
	}{
		{"0..6", PriorityRange(0, 6), true}, {"err", PriorityRange(0, 3), true}, {"3", PriorityRange(0, 3), true},
		{"emerg..info", PriorityRange(0, 6), true}, {"warning..debug", PriorityRange(4, 7), true},
		{"6..0", 0, false}, {"8", 0, false}, {"loud", 0, false}, {"", 0, false},
	} {
		got, err := ParsePriorities(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParsePriorities(%q) = %08b, %v; want %08b, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}

// refusingSink refuses every batch while refuse is set, as a paused
// destination does.
type refusingSink struct {
	*recordSink
	refuse bool
}

func (s *refusingSink) Write(ctx context.Context, recs []tailer.Record) error {
	if s.refuse {
		return fmt.Errorf("destination paused")
	}
	return s.recordSink.Write(ctx, recs)
}

// TestInputRefusedBatchHoldsTheCursor: a batch the destination refused is
// never passed over: reading stops there at shutdown, the cursor stays
// before it, and the next start delivers it.
func TestInputRefusedBatchHoldsTheCursor(t *testing.T) {
	jr := needTools(t)
	dir, state := t.TempDir(), t.TempDir()
	writeJournal(t, jr, filepath.Join(dir, "system.journal"), nodeExport(30, sampleBase), true)
	cfg := InputConfig{
		Reader:   Config{Dirs: []string{dir}, BatchSize: 10},
		Routes:   []Route{{Name: "all", Fields: map[string]string{"message": "MESSAGE"}}},
		StateDir: state,
	}
	sink := &refusingSink{recordSink: newRecordSink(false), refuse: true}
	in, err := NewInput(cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Drain(t.Context()); err == nil {
		t.Fatal("Drain into a paused destination returned nil")
	}
	sink.refuse = false
	if err := in.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := in.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	in.Close()
	if n := len(sink.recs); n != 0 {
		t.Fatalf("%d records delivered after the refused batch", n)
	}
	if _, err := os.Stat(filepath.Join(state, CursorFile)); !os.IsNotExist(err) {
		t.Fatalf("a cursor was saved past the refused batch (%v)", err)
	}

	in2, err := NewInput(cfg, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer in2.Close()
	if err := in2.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.recs); n != 30 {
		t.Errorf("the next start delivered %d records; want 30", n)
	}
}

// TestInputCorruptCursor: a cursor file that does not parse (a disk that
// filled up while it was written) is counted and logged, and the journal is
// read from the beginning, not from the end: nothing is lost for it.
func TestInputCorruptCursor(t *testing.T) {
	jr := needTools(t)
	dir, state := t.TempDir(), t.TempDir()
	writeJournal(t, jr, filepath.Join(dir, "system.journal"), nodeExport(20, sampleBase), true)
	if err := os.WriteFile(filepath.Join(state, CursorFile), []byte("s=12;i=zz"), 0o600); err != nil {
		t.Fatal(err)
	}
	sink := newRecordSink(false)
	in, err := NewInput(InputConfig{Reader: Config{Dirs: []string{dir}, ReadFrom: ReadFromEnd},
		Routes: []Route{{Name: "all"}}, StateDir: state}, sink)
	if err != nil {
		t.Fatalf("NewInput with a corrupt cursor: %v", err)
	}
	defer in.Close()
	if err := in.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.recs); n != 20 {
		t.Errorf("%d records after a corrupt cursor; want the whole journal, 20", n)
	}
	if got := testutilCount(in.m.cursorErrors.WithLabelValues(cursorCorrupt)); got != 1 {
		t.Errorf("cursor errors (corrupt) = %v; want 1", got)
	}
}

// testutilCount reads a counter's value.
func testutilCount(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// TestInputRepairsInvalidUTF8: a field holding bytes that are not UTF-8
// goes out as valid JSON with U+FFFD in their place, counted.
func TestInputRepairsInvalidUTF8(t *testing.T) {
	dir := t.TempDir()
	w, err := CreateWriter(filepath.Join(dir, "system.journal"), ID128{'s'}, ID128{'m'}, ID128{'f'})
	if err != nil {
		t.Fatal(err)
	}
	for i, msg := range []string{"fine", "bad \xff\xfe bytes", "also fine"} {
		if err := w.Append(WriterEntry{Seqnum: uint64(i + 1), Realtime: 1_700_000_000_000_000 + uint64(i), BootID: ID128{'b'},
			Fields: []string{"_SYSTEMD_UNIT=kubelet.service", "MESSAGE=" + msg}}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	sink := newRecordSink(false)
	in, err := NewInput(InputConfig{Reader: Config{Dirs: []string{dir}}, Routes: []Route{{Name: "all", Fields: map[string]string{"message": "MESSAGE"}}}}, sink)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if err := in.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(sink.recs) != 3 || string(sink.recs[1].Message) != "{\"message\":\"bad \ufffd\ufffd bytes\"}" || !json.Valid(sink.recs[1].Message) {
		t.Fatalf("%d records, the second %q", len(sink.recs), sink.recs[min(1, len(sink.recs)-1)].Message)
	}
	if got := testutilCount(in.m.repaired); got != 1 {
		t.Errorf("repaired = %v; want 1", got)
	}
}
