package tailer

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// What the model waits for and what it checks.

// skippedBytes reads skiff_input_skipped_bytes_total by reason.
func skippedBytes(t testing.TB, g *prometheus.Registry) map[string]float64 {
	out := make(map[string]float64)
	if g == nil {
		return out
	}
	mfs, err := g.Gather()
	if err != nil {
		t.Errorf("gather metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "skiff_input_skipped_bytes_total" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, lp := range mt.GetLabel() {
				if lp.GetName() == "reason" {
					out[lp.GetValue()] += mt.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// skippedTotal returns the skipped bytes counted by every run so far, in
// all and by reason. Callers hold m.mu.
func (m *model) skippedTotal() (int64, map[string]float64) {
	by := make(map[string]float64)
	var total float64
	for _, s := range []map[string]float64{m.skipped, skippedBytes(m.t, m.reg)} {
		for r, n := range s {
			by[r] += n
			total += n
		}
	}
	return int64(total), by
}

// persisted reads the checkpoint on disk.
func (m *model) persisted() map[fileID]ckptEntry {
	out := make(map[fileID]ckptEntry)
	data, err := os.ReadFile(filepath.Join(m.state, checkpointName))
	if err != nil {
		return out
	}
	es, err := decodeCheckpoint(data)
	if err != nil {
		m.t.Errorf("checkpoint on disk is corrupt: %v", err)
	}
	for _, e := range es {
		out[e.id()] = e
	}
	return out
}

// await waits until cond holds, looking again at every delivery and every
// few milliseconds: the tailer's reaction to a deletion and its counts come
// with no delivery. cond is called without m.mu.
func (m *model) await(what string, cond func() bool) bool {
	m.t.Helper()
	wait := modelDeadline
	if inFuzzWorker() {
		wait = fuzzDeadline
	}
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		m.mu.Lock()
		ch := m.changed
		m.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline.C:
			m.t.Errorf("timed out waiting for %s", what)
			return false
		}
	}
}

// missing returns the lines of files still there (neither deleted nor
// truncated) not acknowledged and, with thisRun, not taken by the sink of
// this run either. The lines of the files gone may be lost, counted; the
// final stop's Drain reads what is left of them. Callers hold m.mu.
func (m *model) missing(thisRun bool) []string {
	var out []string
	for msg, l := range m.lines {
		if !m.gone[l.content] && !m.acked[msg] && !(thisRun && slices.Contains(m.delivered[msg], m.gen)) {
			out = append(out, msg)
		}
	}
	slices.Sort(out)
	return out
}

// sync waits until every line of the files still there was taken by the
// sink of this run or acknowledged; with acked, until each was
// acknowledged.
func (m *model) sync(acked bool) {
	m.t.Helper()
	what := "every line delivered"
	if acked {
		what = "every line acknowledged"
	}
	if m.await(what, func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.missing(!acked)) == 0
	}) {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, msg := range m.missing(!acked) {
		if i == 10 {
			break
		}
		m.t.Logf("missing %s %+v", msg, m.lines[msg])
	}
}

// awaitOpened waits until the tailer has the file of k open, or every line
// of k was acknowledged: deleting a file the tailer never opened is a loss
// nothing can count.
func (m *model) awaitOpened(k contentKey) {
	m.await(fmt.Sprintf("the tailer to open %v", k.id), func() bool {
		m.tl.mu.Lock()
		open := m.tl.byID[k.id] != nil
		m.tl.mu.Unlock()
		if open {
			return true
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		for msg, l := range m.lines {
			if l.content == k && !m.acked[msg] {
				return false
			}
		}
		return true
	})
}

// awaitProtected waits, after the file of k with size bytes was deleted,
// until the tailer either closed it, copied its unacknowledged bytes to the
// spool, gave up doing so for the spool's bound, or holds no unacknowledged
// byte of it. Until then a crash loses what only its descriptor holds.
func (m *model) awaitProtected(k contentKey, size int64) {
	m.await(fmt.Sprintf("the tailer to protect deleted %v", k.id), func() bool {
		tl := m.tl
		tl.mu.Lock()
		f := tl.byID[k.id]
		tl.mu.Unlock()
		if f == nil {
			return true
		}
		// Acknowledged up to its size, and the follower saw this content
		// (a truncation it has not seen yet leaves the old content's
		// offsets, larger than the new size).
		if f.acks.Load().watermark() >= size && f.size.Load() <= size {
			return true
		}
		f.mu.Lock()
		sf, lost := f.spooled, f.spoolLost
		f.mu.Unlock()
		if lost {
			return true
		}
		if sf == nil {
			return false
		}
		tl.spool.mu.Lock()
		defer tl.spool.mu.Unlock()
		return sf.meta.End >= size
	})
}

// covers reports whether the checkpoint entry e is about the content of l
// and covers it. Callers hold m.mu.
func (m *model) covers(e ckptEntry, l modelLine) bool {
	head := m.heads[l.content]
	if len(head) < e.FingerprintBytes {
		return false
	}
	fp := fingerprintOf(head[:min(len(head), e.FingerprintBytes)])
	return fp == e.fingerprint() && l.start < e.Offset
}

// noteUncovered notes, at a crash, the acknowledged lines that the
// persisted checkpoint does not cover: the next start reads them again, and
// if their file is deleted or truncated before it does, counts them as
// skipped although they were delivered. Callers hold m.mu.
func (m *model) noteUncovered(persisted map[fileID]ckptEntry) {
	for msg, l := range m.lines {
		if !m.acked[msg] {
			continue
		}
		if e, ok := persisted[l.content.id]; !ok || !m.covers(e, l) {
			m.mayCount[msg] = true
		}
	}
}

// checkRedelivery arms the check of the next run: a line delivered again
// must lie after what was persisted for its file. Callers hold m.mu.
func (m *model) checkRedelivery(persisted map[fileID]ckptEntry) {
	for msg, gens := range m.delivered {
		l := m.lines[msg]
		if e, ok := persisted[l.content.id]; ok && m.covers(e, l) {
			// Acked and persisted: must never come again. Mark it.
			if gens[len(gens)-1] != -1 {
				m.delivered[msg] = append(gens[:len(gens):len(gens)], -1)
			}
		}
	}
}

// verify checks what the runs delivered and what the tailer counted.
func (m *model) verify() {
	var lost []string
	for msg, l := range m.lines {
		gens := m.delivered[msg]
		for i, g := range gens {
			if g == -1 && i+1 < len(gens) {
				m.t.Errorf("%s was delivered again by run %d after a checkpoint covered it", msg, gens[i+1])
			}
		}
		if m.acked[msg] {
			continue
		}
		lost = append(lost, msg)
		if !m.gone[l.content] {
			m.t.Errorf("%s was never delivered, and its file is still there", msg)
		}
	}
	if len(lost) > 0 && !m.bounded {
		m.t.Errorf("%d lines were never delivered, with a spool bound far above what the model writes", len(lost))
	}
	// Exact, but for the lines a crash may count though delivered.
	var slack int64
	for msg := range m.mayCount {
		if m.gone[m.lines[msg].content] {
			slack += modelLineLen
		}
	}
	skipped, by := m.skippedTotal()
	got := int64(len(lost)) * modelLineLen
	if skipped < got || skipped > got+slack {
		slices.Sort(lost)
		m.t.Errorf("%d lines (%d bytes) were never delivered; the tailer counted %d bytes skipped %v (%d more allowed after crashes); first lost: %q",
			len(lost), got, skipped, by, slack, lost[:min(len(lost), 5)])
	}
}

// waitCond waits for cond, woken by the channel changed returns; mu guards
// what cond reads.
func waitCond(t testing.TB, mu *sync.Mutex, changed func() chan struct{}, what string, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(modelDeadline)
	defer timer.Stop()
	for {
		mu.Lock()
		ch := changed()
		ok := cond()
		mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			t.Errorf("timed out waiting for %s", what)
			return
		}
	}
}
