package nodesim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// What happens to a container's logs over its pod's life, as the kubelet
// and the runtime do it on a node:
//
//   - A container restarts: the new instance writes <n>.log next to the
//     old one's files, under a new container ID and so a new link in the
//     containers directory. The kubelet keeps one dead instance (its files
//     and link) and removes the one before it.
//   - A pod is deleted and created again under its name (a StatefulSet):
//     its directory, every file in it and its links go, and the new pod
//     writes under a new UID.
//
// A stream goes on counting its lines across both: the markers go on, so
// a Counter sees one stream, whatever the agent makes of the files.

// instance is a dead container's files: its link and the files it wrote.
type instance struct {
	link  string
	files []string
}

// Restart has the container of stream i restart at its writer's next tick.
// Safe to call while Run runs.
func (s *Sim) Restart(i int) { s.streams[i].restart.Store(true) }

// Recreate deletes pod p (its containers stop, the kubelet removes its
// directory and links) and creates it again under a new UID, at the next
// tick of each of its containers' writers. Safe to call while Run runs.
func (s *Sim) Recreate(p int) {
	s.podGen[p].Add(1)
	for _, st := range s.streams {
		if st.pod == p {
			st.recreate.Store(true)
		}
	}
}

// Links returns every link in the containers directory stream i has had,
// one per container instance, oldest first: the names agents derive their
// destinations from.
func (s *Sim) Links(i int) []string {
	st := s.streams[i]
	st.mu.Lock()
	defer st.mu.Unlock()
	return append([]string(nil), st.links...)
}

// lifecycle carries out the requests for st; its writer calls it.
func (s *Sim) lifecycle(st *stream) error {
	switch {
	case st.recreate.Swap(false):
		st.restart.Store(false)
		return s.recreateStream(st)
	case st.restart.Swap(false):
		return s.restartStream(st)
	}
	return nil
}

// restartStream ends st's container instance and begins the next one.
func (s *Sim) restartStream(st *stream) error {
	st.close()
	if st.prev != nil {
		s.removeInstance(st.prev)
	}
	st.prev = st.end()
	st.restarts++
	s.restarts.Add(1)
	return s.begin(st, st.info.UID, st.info.Container)
}

// recreateStream removes everything of st's container and begins it again
// as a container of the pod's next incarnation.
func (s *Sim) recreateStream(st *stream) error {
	st.close()
	if st.prev != nil {
		s.removeInstance(st.prev)
		st.prev = nil
	}
	s.removeInstance(st.end())
	// The pod's directory goes with its last container's.
	if err := os.Remove(st.info.Dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", st.info.Dir, err)
	}
	if err := os.Remove(filepath.Dir(st.info.Dir)); err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTEMPTY) {
		return fmt.Errorf("remove %s: %w", filepath.Dir(st.info.Dir), err)
	}
	st.restarts = 0
	s.recreated.Add(1)
	pod := PodName(st.pod)
	gen := s.podGen[st.pod].Load()
	uid := uuidFrom(s.cfg.Seed, s.cfg.Namespace, pod, "incarnation", strconv.FormatInt(gen, 10))
	return s.begin(st, uid, st.info.Container)
}

// end returns st's current instance as a dead one: its link and files.
func (st *stream) end() *instance {
	in := &instance{link: st.info.Link, files: append(st.rotated, st.current())}
	st.rotated = nil
	return in
}

// removeInstance removes a dead instance's link and files, as container
// garbage collection does.
func (s *Sim) removeInstance(in *instance) {
	for _, p := range append([]string{in.link}, in.files...) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("remove a dead container's file", "path", p, "err", err)
		} else if err == nil && p != in.link {
			s.removed.Add(1)
		}
	}
}
