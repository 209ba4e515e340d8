package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Log attribute keys used by cmd/skiff.
const (
	attrErr          = "err"
	attrUnacked      = "unacked_bytes"
	attrLiveBytes    = "in_live_files"
	attrRotatedBytes = "in_rotated_files"
	attrSpooledBytes = "in_spool"
	attrLostBytes    = "lost_bytes"
	attrRepeated     = "repeated"
	attrAddr         = "addr"
	attrConfig       = "config"
	attrVersion      = "version"
	attrOutput       = "output"
)

// repeatWindow is how long identical log lines are suppressed after the
// first one; the next one says how many were suppressed.
const repeatWindow = 10 * time.Second

// newLogger returns skiff's logger on w: JSON unless format is text, or
// auto and w is a terminal.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	_ = lv.UnmarshalText([]byte(level)) // validated by config; info when empty
	opts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler
	if format == "text" || format == "auto" && isTerminal(w) {
		h = slog.NewTextHandler(w, opts)
	} else {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(&dedupHandler{next: h, state: &dedupState{seen: map[string]*dedupEntry{}}, now: time.Now})
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// dedupHandler rate-limits repeats: a record with the same level and
// message as one logged less than repeatWindow ago is counted instead of
// written, and the next one written carries the count.
type dedupHandler struct {
	next  slog.Handler
	state *dedupState
	now   func() time.Time
}

type dedupState struct {
	mu   sync.Mutex
	seen map[string]*dedupEntry
}

type dedupEntry struct {
	last       time.Time
	suppressed int
}

func (h *dedupHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// dedupKeys are the attributes that name what a record is about: a file or
// a destination. Repeats are limited per message and per such subject, so
// that every file's loss or skip and every destination's failure gets its
// own line.
var dedupKeys = map[string]bool{"path": true, "target": true, "spool": true, "group": true, "stream": true}

func (h *dedupHandler) Handle(ctx context.Context, r slog.Record) error {
	key := r.Level.String() + "\x00" + r.Message
	r.Attrs(func(a slog.Attr) bool {
		if dedupKeys[a.Key] {
			key += "\x00" + a.Key + "=" + a.Value.String()
		}
		return true
	})
	now := h.now()
	h.state.mu.Lock()
	e := h.state.seen[key]
	if e != nil && now.Sub(e.last) < repeatWindow {
		e.suppressed++
		h.state.mu.Unlock()
		return nil
	}
	suppressed := 0
	if e == nil {
		if len(h.state.seen) > 1000 { // forget old keys rather than grow
			for k, old := range h.state.seen {
				if now.Sub(old.last) >= repeatWindow {
					delete(h.state.seen, k)
				}
			}
		}
		e = &dedupEntry{}
		h.state.seen[key] = e
	}
	suppressed, e.suppressed, e.last = e.suppressed, 0, now
	h.state.mu.Unlock()
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int(attrRepeated, suppressed))
	}
	return h.next.Handle(ctx, r)
}

func (h *dedupHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &dedupHandler{next: h.next.WithAttrs(as), state: h.state, now: h.now}
}

func (h *dedupHandler) WithGroup(name string) slog.Handler {
	return &dedupHandler{next: h.next.WithGroup(name), state: h.state, now: h.now}
}
