package nodesim

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestRestartAndRecreate: a restart starts <n>.log under a new container ID
// and link, keeps the previous instance and removes the one before it; a
// pod created again writes under a new UID with its old directory and
// links gone; the markers go on through all of it.
func TestRestartAndRecreate(t *testing.T) {
	root := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		s, err := New(Config{Root: root, Pods: 2, Rate: 2000, LineBytes: 100, RotateBytes: 1 << 20, Tick: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		step := func() { time.Sleep(500 * time.Millisecond) }
		first := s.Stream(0)
		step()
		s.Restart(0)
		step()
		second := s.Stream(0)
		s.Restart(0)
		step()
		third := s.Stream(0)
		// Instance 0 is gone (link and files), 1 is kept, 2 writes.
		if _, err := os.Lstat(first.Link); !os.IsNotExist(err) {
			t.Errorf("the link of the first instance is still there after two restarts (err %v)", err)
		}
		if got := names(t, first.Dir); !slices.Equal(got, []string{"1.log", "2.log"}) {
			t.Errorf("files %v after two restarts; want 1.log and 2.log", got)
		}
		if target, err := os.Readlink(second.Link); err != nil || target != filepath.Join(first.Dir, "1.log") {
			t.Errorf("the second instance's link -> %q (err %v); want its 1.log", target, err)
		}
		if target, err := os.Readlink(third.Link); err != nil || target != filepath.Join(first.Dir, "2.log") {
			t.Errorf("the third instance's link -> %q (err %v); want its 2.log", target, err)
		}
		if first.ContainerID == second.ContainerID || second.ContainerID == third.ContainerID || third.UID != first.UID {
			t.Errorf("container IDs %s, %s, %s, UIDs %s, %s: want new IDs, the same UID", first.ContainerID, second.ContainerID, third.ContainerID, first.UID, third.UID)
		}
		before := s.StreamLines(0)
		other := s.Stream(1)
		s.Recreate(0)
		step()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		fourth := s.Stream(0)
		if fourth.UID == first.UID || fourth.Dir == first.Dir {
			t.Fatalf("the pod created again has UID %s, dir %s; want new ones", fourth.UID, fourth.Dir)
		}
		if _, err := os.Stat(filepath.Dir(first.Dir)); !os.IsNotExist(err) {
			t.Errorf("the deleted pod's directory is still there (err %v)", err)
		}
		links, _ := filepath.Glob(s.Glob())
		if want := []string{fourth.Link, other.Link}; !slices.Equal(sorted(links), sorted(want)) {
			t.Errorf("links %v; want %v", links, want)
		}
		if got, want := s.Links(0), []string{first.Link, second.Link, third.Link, fourth.Link}; !slices.Equal(got, want) {
			t.Errorf("Links(0) = %v; want %v", got, want)
		}
		if s.Stream(1).UID != other.UID || len(s.Links(1)) != 1 {
			t.Errorf("the other pod changed: %+v, links %v", s.Stream(1), s.Links(1))
		}
		st := s.Stats()
		if st.Restarts != 2 || st.Recreated != 1 {
			t.Errorf("stats: %d restarts, %d recreated; want 2 and 1", st.Restarts, st.Recreated)
		}
		// The new pod's file goes on from the line the deleted one
		// stopped at.
		msgs := readStream(t, fourth.Dir)
		if len(msgs) == 0 {
			t.Fatal("the pod created again wrote nothing")
		}
		for i, msg := range msgs {
			m, ok := FindMarker(msg)
			if !ok || m.Stream != 0 || m.Seq != before+int64(i) {
				t.Fatalf("line %d of the new pod: marker %+v (ok %v); want stream 0 seq %d", i, m, ok, before+int64(i))
			}
		}
	})
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
