package tailer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestInputsClaimFiles: a file belongs to the first input that includes it
// and does not exclude it; its records carry the input's name and the
// file's tag, and a plain input's lines are records as they are.
func TestInputsClaimFiles(t *testing.T) {
	dir := t.TempDir()
	containers := filepath.Join(dir, "containers")
	if err := os.Mkdir(containers, 0o755); err != nil {
		t.Fatal(err)
	}
	app := filepath.Join(containers, "web_shop_app-1.log")
	node := filepath.Join(containers, "aws-node_kube-system_cni-2.log")
	messages := filepath.Join(dir, "messages")
	appendFile(t, app, criLine("app line"))
	appendFile(t, node, criLine("cni line"))
	appendFile(t, messages, "Dec  5 16:00:00 ip-10-0-0-1 sshd[42]: accepted\n{\"not\":\"json-file\"}\n")

	c := newCollector()
	startTailer(t, Config{
		Name:    "application",
		Include: []string{filepath.Join(containers, "*.log")},
		Exclude: []string{"aws-node*"},
		Inputs: []Input{
			{Name: "dataplane", Include: []string{filepath.Join(containers, "aws-node*")}},
			{Name: "host", Include: []string{messages}, Format: FormatPlain},
		},
	}, c)
	c.waitFor(t, "4 records", func() bool { return c.count() == 4 })

	c.mu.Lock()
	defer c.mu.Unlock()
	type got struct {
		input, tag, msg string
		plain           bool
	}
	var all []got
	for _, r := range c.recs {
		all = append(all, got{r.File.Input, r.File.Tag, string(r.Message), r.Flags&Plain != 0})
	}
	slices.SortFunc(all, func(a, b got) int { return strings.Compare(a.msg, b.msg) })
	want := []got{
		{"host", Tag(messages), "Dec  5 16:00:00 ip-10-0-0-1 sshd[42]: accepted", true},
		{"application", Tag(app), "app line", false},
		{"dataplane", Tag(node), "cni line", false},
		{"host", Tag(messages), `{"not":"json-file"}`, true},
	}
	slices.SortFunc(want, func(a, b got) int { return strings.Compare(a.msg, b.msg) })
	if !slices.Equal(all, want) {
		t.Errorf("records:\n got %+v\nwant %+v", all, want)
	}
	if tag := Tag("/var/log/containers/a_b_c-1.log"); tag != "var.log.containers.a_b_c-1.log" {
		t.Errorf("Tag = %q", tag)
	}
}

// TestPlainLogrotate: a plain file renamed by logrotate and replaced, then
// truncated in place (copytruncate), loses no line.
func TestPlainLogrotate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secure")
	appendFile(t, path, strings.Join(seq("a", 0, 5), "\n")+"\n")
	c := newCollector()
	startTailer(t, Config{Include: []string{filepath.Join(dir, "nothing-*")},
		Inputs: []Input{{Name: "host", Include: []string{path}, Format: FormatPlain}}}, c)
	c.waitFor(t, "the first lines", func() bool { return c.count() == 5 })

	// rename (logrotate's default), then the writer goes on in a new file
	appendFile(t, path, strings.Join(seq("a", 5, 8), "\n")+"\n")
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, strings.Join(seq("b", 0, 5), "\n")+"\n")
	c.waitFor(t, "the renamed and new file's lines", func() bool { return c.count() == 13 })

	// copytruncate: copied away, truncated to 0, written again
	appendFile(t, path, strings.Join(seq("b", 5, 7), "\n")+"\n")
	c.waitFor(t, "lines before the truncation", func() bool { return c.count() == 15 })
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, path, strings.Join(seq("c", 0, 4), "\n")+"\n")
	c.waitFor(t, "the truncated file's new lines", func() bool { return c.count() == 19 })

	c.mu.Lock()
	defer c.mu.Unlock()
	var msgs []string
	for _, r := range c.recs {
		if r.Flags != Plain || r.File.Input != "host" {
			t.Errorf("record %q: flags %v, input %q", r.Message, r.Flags, r.File.Input)
		}
		msgs = append(msgs, string(r.Message))
	}
	slices.Sort(msgs)
	want := slices.Concat(seq("a", 0, 8), seq("b", 0, 7), seq("c", 0, 4))
	if !slices.Equal(msgs, want) {
		t.Errorf("lines:\n got %q\nwant %q", msgs, want)
	}
}

// TestRotatedAtRestartKeepsItsTag: the rest of a file rotated while the
// tailer was stopped keeps the tag and input of the link it was read under,
// so that its lines go to the same destination as before the restart;
// with a new live file, and without one (the pod is gone).
func TestRotatedAtRestartKeepsItsTag(t *testing.T) {
	for _, newFile := range []bool{true, false} {
		t.Run(fmt.Sprintf("new file %v", newFile), func(t *testing.T) { testRotatedAtRestart(t, newFile) })
	}
}

func testRotatedAtRestart(t *testing.T, newFile bool) {
	root, state := t.TempDir(), t.TempDir()
	logDir, linkDir := podLayout(t, root, "kube-system", "aws-node-x", "cni")
	live := filepath.Join(logDir, "0.log")
	appendFile(t, live, criLines(seq("a", 0, 5)))
	cfg := Config{
		Name: "application", Include: []string{filepath.Join(linkDir, "*.log")}, Exclude: []string{"aws-node*"},
		Inputs:   []Input{{Name: "dataplane", Include: []string{filepath.Join(linkDir, "aws-node*")}}},
		StateDir: state, RescanInterval: 1 << 40,
	}
	links, _ := filepath.Glob(filepath.Join(linkDir, "*.log"))
	first := newCollector()
	first.holdAcks = true
	tl, stop := startTailer(t, cfg, first)
	first.waitFor(t, "the first lines", func() bool { return first.count() == 5 })
	first.ackHeld()
	if err := tl.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	appendFile(t, live, criLines(seq("a", 5, 8))) // read, never acknowledged
	first.waitFor(t, "the lines before the rotation", func() bool { return first.count() == 8 })
	stop()
	if err := tl.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := tl.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tl.Checkpoint(); err != nil {
		t.Fatal(err)
	}

	// rotated while stopped, as the kubelet names it
	if err := os.Rename(live, live+".20261205-101010"); err != nil {
		t.Fatal(err)
	}
	want := 3
	if newFile {
		appendFile(t, live, criLines(seq("b", 0, 2)))
		want = 5
	}
	second := newCollector()
	startTailer(t, cfg, second)
	second.waitFor(t, "the rotated rest and the new file", func() bool { return second.count() == want })
	second.mu.Lock()
	defer second.mu.Unlock()
	for _, r := range second.recs {
		if r.File.Tag != Tag(links[0]) || r.File.Input != "dataplane" {
			t.Errorf("record %q from %s: tag %q, input %q; want %q, dataplane", r.Message, r.File.Path, r.File.Tag, r.File.Input, Tag(links[0]))
		}
	}
}
