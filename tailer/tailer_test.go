package tailer

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestNewFileFoundByFsnotify(t *testing.T) {
	dir := t.TempDir()
	c := newCollector()
	// The rescan never runs: only fsnotify can find the file.
	startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}, RescanInterval: 1 << 40}, c)
	path := filepath.Join(dir, "app.log")
	want := seq("a", 0, 100)
	appendFile(t, path, criLines(want))
	c.waitFor(t, "the new file's lines", func() bool { return len(c.all()[path]) == len(want) })
	if got := c.all()[path]; !slices.Equal(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestKubeletRotation(t *testing.T) {
	root := t.TempDir()
	logDir, linkDir := podLayout(t, root, "prod", "web", "nginx")
	live := filepath.Join(logDir, "0.log")
	appendFile(t, live, criLines(seq("x", 0, 50)))
	c := newCollector()
	startTailer(t, Config{Include: []string{filepath.Join(linkDir, "*.log")}, RescanInterval: 1 << 40}, c)
	c.waitFor(t, "first lines", func() bool { return c.count() == 50 })
	release := c.setBlock()
	// Rotate twice while the consumer is blocked; the runtime keeps
	// writing to the renamed file for a moment before it reopens.
	appendFile(t, live, criLines(seq("x", 50, 100)))
	for r, ts := range []string{"20261126-140000", "20261126-140010"} {
		rotated := live + "." + ts
		if err := os.Rename(live, rotated); err != nil {
			t.Fatal(err)
		}
		appendFile(t, rotated, criLines(seq("x", 100+r*100, 150+r*100)))
		appendFile(t, live, criLines(seq("x", 150+r*100, 200+r*100)))
	}
	release()
	want := seq("x", 0, 300)
	c.waitFor(t, "every line", func() bool {
		n := 0
		for _, l := range c.all() {
			n += len(l)
		}
		return n >= len(want)
	})
	var got []string
	for _, l := range c.all() {
		got = append(got, l...)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("got %d lines %q; want %d", len(got), got, len(want))
	}
	c.mu.Lock()
	r := c.recs[0]
	c.mu.Unlock()
	if m := r.File; m.Namespace != "prod" || m.Pod != "web" || m.PodUID != "web-uid" || m.Container != "nginx" || m.Restart != 0 || len(m.ContainerID) != 64 {
		t.Errorf("file meta = %+v", *m)
	}
}
