package main

import (
	"encoding/json"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/skiff-agent/skiff/tailer"
)

// statusPath is the JSON status endpoint: what /metrics does not say by
// design (no per-file or per-pod series), for `skiff top`.
const statusPath = "/status"

// agentStatus is the body of /status.
type agentStatus struct {
	// Version is skiff_build_info's version.
	Version string `json:"version"`
	// Time is the agent's clock when the status was taken.
	Time time.Time `json:"time"`
	// Files are the open log files, sorted by path; the journal inputs
	// are not files and are not listed.
	Files []fileStatus `json:"files"`
}

// fileStatus is one open log file. Offsets and sizes are in bytes.
type fileStatus struct {
	Path      string    `json:"path"`
	Target    string    `json:"target,omitempty"` // the file Path resolves to, when it differs
	Input     string    `json:"input,omitempty"`
	Namespace string    `json:"namespace,omitempty"`
	Pod       string    `json:"pod,omitempty"`
	Container string    `json:"container,omitempty"`
	Offset    int64     `json:"offset"`  // read up to here; 0 again after a truncation
	Size      int64     `json:"size"`    // at the last look
	Lag       int64     `json:"lag"`     // size - offset
	Unacked   int64     `json:"unacked"` // read, not yet acknowledged by the output
	Opened    time.Time `json:"opened"`
	Detached  bool      `json:"detached,omitempty"` // rotated or deleted, read to its end
}

// statusHandler serves /status. Without a file source it lists no files.
// It is safe for concurrent use; each request copies the files' counters
// under the tailer's lock and does no I/O.
type statusHandler struct {
	version string
	files   atomic.Pointer[func() []tailer.FileStatus]
}

// setFiles makes the handler list what files returns (Tailer.Files).
func (h *statusHandler) setFiles(files func() []tailer.FileStatus) { h.files.Store(&files) }

func (h *statusHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Pod names and log paths are for the node's own eyes: skiff top on
	// the node or through kubectl port-forward, both loopback clients.
	if !loopback(r.RemoteAddr) {
		http.Error(w, "/status answers loopback clients only (run skiff top on the node, or through kubectl port-forward)", http.StatusForbidden)
		return
	}
	var files []tailer.FileStatus
	if f := h.files.Load(); f != nil {
		files = (*f)()
	}
	st := agentStatus{Version: h.version, Time: time.Now().UTC(), Files: make([]fileStatus, 0, len(files))}
	for _, s := range files {
		fs := fileStatus{
			Path: s.Path, Input: s.Input, Namespace: s.Namespace, Pod: s.Pod, Container: s.Container,
			Offset: s.Offset, Size: s.Size, Lag: s.Lag(), Unacked: s.Unacked, Opened: s.Opened.UTC(), Detached: s.Detached,
		}
		if s.Target != s.Path {
			fs.Target = s.Target
		}
		st.Files = append(st.Files, fs)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(st)
}

// loopback reports whether a request's remote address is a loopback one.
func loopback(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
