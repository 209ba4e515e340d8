package journal

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/tailer"
)

// CursorFile is the name of the file under InputConfig.StateDir that holds
// the cursor of the last entry delivered.
const CursorFile = "journal.cursor"

// DefaultFields are the record keys of a Route without Fields: Container
// Insights' dataplane records.
var DefaultFields = map[string]string{"hostname": "_HOSTNAME", "systemd_unit": "_SYSTEMD_UNIT", "message": "MESSAGE"}

// Route is one journal input: the entries it takes and the keys of their
// records.
type Route struct {
	// Name is carried by the records as tailer.FileMeta.Input.
	Name string
	// Match selects the entries; the zero Match takes every entry.
	Match Match
	// Fields maps a record key to the journal field whose value it holds,
	// such as "message": "MESSAGE"; default DefaultFields. A field the
	// entry lacks leaves its key out.
	Fields map[string]string
	// Extra are keys and values added to every record after Fields', such
	// as the node's az and ec2_instance_id.
	Extra [][2]string
}

// InputConfig configures an Input.
type InputConfig struct {
	// Reader is where and how the journal is read; its Filter and After
	// are set by the Input.
	Reader Config
	// Routes are the journal inputs; an entry becomes one record for every
	// route that matches it.
	Routes []Route
	// StateDir holds CursorFile; "" keeps no position across restarts.
	StateDir string
	// CheckpointInterval is how often the cursor is saved; default 1s.
	CheckpointInterval time.Duration
	// Logger receives the input's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the input's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Input reads the journal and hands its entries to a tailer.Consumer as
// records, whose Message is the whole record (tailer.Encoded). The cursor
// of an entry is saved only once every record made of it, and of every
// entry before it, has been acknowledged: after a restart, reading resumes
// after the last entry the destination accepted.
type Input struct {
	cfg    InputConfig
	out    tailer.Consumer
	log    *slog.Logger
	reader *Reader
	routes []inputRoute

	// arena, recs and spans are reused by every batch (one Write at a
	// time); spans locate each record's message in arena.
	arena []byte
	recs  []tailer.Record
	spans [][2]int

	// refused is the batch the consumer refused last, still in pending
	// so that nothing after it is committed: the Reader offers the same
	// entries again (a new batch replaces it), or stops.
	refused *entryBatch
	// stuck: the last Write did not hand its batch over (refused, or cut
	// by ctx); Drain then reads no further.
	stuck bool

	mu        sync.Mutex
	pending   []*entryBatch // batches written, in reading order
	committed Cursor        // the last entry whose batch and every earlier one are acknowledged
	saved     Cursor        // what CursorFile holds

	m inputMetrics
}

type inputRoute struct {
	name    string
	matcher *Matcher
	keys    []string // sorted record keys
	fields  []string // the journal field of each key
	extra   []byte   // `,"key":"value"...` of Route.Extra
	metas   map[string]*tailer.FileMeta
}

type inputMetrics struct {
	entries, records   prometheus.Counter
	repaired           prometheus.Counter
	cursorErrors, lost *prometheus.CounterVec // reason
}

// entryBatch is the records of one Write: done once all are acknowledged.
type entryBatch struct {
	in        *Input
	cursor    Cursor
	remaining int
	done      bool
}

// Ack is called by the consumer as records are accepted.
func (b *entryBatch) Ack(n int) {
	in := b.in
	in.mu.Lock()
	defer in.mu.Unlock()
	b.remaining -= n
	if b.remaining > 0 {
		return
	}
	b.done = true
	in.advance()
}

// advance commits the batches done at the head of pending. in.mu is held.
func (in *Input) advance() {
	i := 0
	for i < len(in.pending) && in.pending[i].done {
		in.committed = in.pending[i].cursor
		i++
	}
	in.pending = slices.Delete(in.pending, 0, i)
}

// NewInput validates cfg and returns an Input that writes to out. It reads
// the saved cursor, if any.
func NewInput(cfg InputConfig, out tailer.Consumer) (*Input, error) {
	if out == nil {
		return nil, fmt.Errorf("%w: nil consumer", ErrConfig)
	}
	if len(cfg.Routes) == 0 {
		return nil, fmt.Errorf("%w: no routes", ErrConfig)
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	in := &Input{cfg: cfg, out: out, log: cfg.Logger}
	var filter Filter
	for _, r := range cfg.Routes {
		m, err := Filter{r.Match}.Compile()
		if err != nil {
			return nil, fmt.Errorf("journal input %s: %w", r.Name, err)
		}
		ir := inputRoute{name: r.Name, matcher: m, metas: make(map[string]*tailer.FileMeta)}
		fields := r.Fields
		if len(fields) == 0 {
			fields = DefaultFields
		}
		for k := range fields {
			ir.keys = append(ir.keys, k)
		}
		slices.Sort(ir.keys)
		for _, k := range ir.keys {
			ir.fields = append(ir.fields, fields[k])
		}
		ir.extra = sinks.AppendFields(nil, r.Extra)
		in.routes = append(in.routes, ir)
		filter = append(filter, r.Match)
	}
	rc := cfg.Reader
	rc.Filter = filter
	rc.Logger = cfg.Logger
	onLoss := rc.OnLoss
	rc.OnLoss = func(l Loss) {
		in.m.lost.WithLabelValues(l.Reason.String()).Add(float64(l.Entries))
		if onLoss != nil {
			onLoss(l)
		}
	}
	if err := in.m.register(cfg.Registerer); err != nil {
		return nil, err
	}
	if cfg.StateDir != "" {
		c, err := readCursor(filepath.Join(cfg.StateDir, CursorFile))
		if err != nil {
			// As with a corrupt checkpoint: read everything there is,
			// rather than lose what came after the lost position.
			in.m.cursorErrors.WithLabelValues(cursorCorrupt).Inc()
			in.log.Error("journal cursor unreadable; reading the journal from the beginning (entries may be delivered again)",
				"error", err)
			rc.ReadFrom = ReadFromBeginning
		}
		if !c.IsZero() {
			rc.After = c
			in.committed, in.saved = c, c
		}
	}
	r, err := NewReader(rc)
	if err != nil {
		return nil, err
	}
	in.reader = r
	return in, nil
}

func (m *inputMetrics) register(reg prometheus.Registerer) error {
	m.entries = prometheus.NewCounter(prometheus.CounterOpts{Name: "skiff_input_journal_entries_total",
		Help: "Journal entries read that matched an input."})
	m.records = prometheus.NewCounter(prometheus.CounterOpts{Name: "skiff_input_journal_records_total",
		Help: "Records made of journal entries (an entry makes one per input that matches it)."})
	m.repaired = prometheus.NewCounter(prometheus.CounterOpts{Name: "skiff_input_journal_utf8_repaired_records_total",
		Help: "Journal records with a field value that was not valid UTF-8 (binary data), replaced by U+FFFD byte by byte."})
	m.cursorErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skiff_input_journal_cursor_errors_total",
		Help: "Journal cursor errors: write (a save failed, tried again), corrupt (the saved cursor could not be read at start; the journal was read from the beginning)."},
		[]string{"reason"})
	for _, r := range []string{cursorWrite, cursorCorrupt} {
		m.cursorErrors.WithLabelValues(r)
	}
	m.lost = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "skiff_input_journal_lost_entries_total",
		Help: "Journal entries that could not be read: vacuumed before they were read (gap), corrupt, unreadable files; cursor counts resumes whose position was gone."},
		[]string{"reason"})
	for _, r := range []string{"gap", "corrupt", "unreadable", "cursor"} {
		m.lost.WithLabelValues(r)
	}
	if reg == nil {
		return nil
	}
	for _, c := range []prometheus.Collector{m.entries, m.records, m.repaired, m.cursorErrors, m.lost} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("journal metrics: %w", err)
		}
	}
	return nil
}

// Reasons of skiff_input_journal_cursor_errors_total.
const (
	cursorWrite   = "write"
	cursorCorrupt = "corrupt"
)

// readCursor returns the cursor saved at path, or the zero Cursor when
// there is none; an error when the file cannot be read or parsed.
func readCursor(path string) (Cursor, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Cursor{}, nil
	}
	if err != nil {
		return Cursor{}, fmt.Errorf("journal cursor: %w", err)
	}
	c, err := ParseCursor(strings.TrimSpace(string(b)))
	if err != nil {
		return Cursor{}, fmt.Errorf("journal cursor %s: %w", path, err)
	}
	return c, nil
}

// Run reads and follows the journal until ctx is done, saving the cursor
// every CheckpointInterval, and returns nil. The caller saves the cursor a
// last time (Checkpoint) once the consumer acknowledged what it could.
func (in *Input) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(in.cfg.CheckpointInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				_ = in.Checkpoint()
			}
		}
	}()
	err := in.reader.Run(ctx, in)
	<-done
	return err
}

// Checkpoint saves the cursor of the last entry acknowledged, with every
// entry before it, if it changed.
func (in *Input) Checkpoint() error {
	if in.cfg.StateDir == "" {
		return nil
	}
	in.mu.Lock()
	c := in.committed
	changed := c != in.saved
	in.mu.Unlock()
	if !changed {
		return nil
	}
	text, err := c.MarshalText()
	if err != nil {
		return err
	}
	if err := tailer.WriteFileAtomic(filepath.Join(in.cfg.StateDir, CursorFile), append(text, '\n')); err != nil {
		in.m.cursorErrors.WithLabelValues(cursorWrite).Inc()
		in.log.Warn("cannot save the journal cursor; it is tried again", "error", err)
		return err
	}
	in.mu.Lock()
	in.saved = c
	in.mu.Unlock()
	return nil
}

// Close closes the journal files.
func (in *Input) Close() error { return in.reader.Close() }

// Write makes the records of a batch of entries and writes them; it is the
// Reader's Consumer.
func (in *Input) Write(ctx context.Context, batch []*Entry) error {
	if b := in.refused; b != nil {
		// The same entries again: the new batch stands for them.
		in.mu.Lock()
		if i := slices.Index(in.pending, b); i >= 0 {
			in.pending = slices.Delete(in.pending, i, i+1)
		}
		in.advance()
		in.mu.Unlock()
		in.refused = nil
	}
	in.arena = in.arena[:0]
	in.recs = in.recs[:0]
	b := &entryBatch{in: in, cursor: batch[len(batch)-1].Cursor()}
	in.spans = in.spans[:0]
	for _, e := range batch {
		matched := false
		for i := range in.routes {
			r := &in.routes[i]
			if !r.matcher.Match(e) {
				continue
			}
			matched = true
			start := len(in.arena)
			var repaired bool
			in.arena, repaired = r.appendRecord(in.arena, e)
			if repaired {
				in.m.repaired.Inc()
			}
			in.spans = append(in.spans, [2]int{start, len(in.arena)})
			in.recs = append(in.recs, tailer.Record{
				Time: e.Time(), Flags: tailer.Encoded, File: r.meta(e), Pos: tailer.Position{Acker: b},
			})
		}
		if matched {
			in.m.entries.Inc()
		}
	}
	for i := range in.recs {
		sp := in.spans[i]
		in.recs[i].Message = in.arena[sp[0]:sp[1]:sp[1]]
	}
	b.remaining = len(in.recs)
	in.mu.Lock()
	in.pending = append(in.pending, b)
	if b.remaining == 0 {
		b.done = true
		in.advance()
	}
	in.mu.Unlock()
	if b.remaining == 0 {
		return nil
	}
	err := in.out.Write(ctx, in.recs)
	in.stuck = err != nil
	if err != nil && ctx.Err() == nil {
		// Refused whole (a paused destination): it blocks the cursor
		// until the Reader offers the same entries again.
		in.refused = b
		return err
	}
	in.m.records.Add(float64(len(in.recs)))
	return err
}

// Drain, after Run returned, reads the entries written since and hands
// them over, until there are none or ctx is done, so that a shutdown
// delivers the journal up to the signal as it does files. It reads nothing
// when the last batch was not handed over: the entries from it on are read
// again at the next start.
func (in *Input) Drain(ctx context.Context) error {
	batch := make([]*Entry, in.reader.cfg.BatchSize)
	for i := range batch {
		batch[i] = new(Entry)
	}
	for !in.stuck && ctx.Err() == nil {
		n := in.reader.Read(batch)
		if n == 0 {
			return nil
		}
		if err := in.Write(ctx, batch[:n]); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// appendRecord appends the JSON record of e for r to dst; repaired reports
// whether a value held invalid UTF-8 (replaced by U+FFFD).
func (r *inputRoute) appendRecord(dst []byte, e *Entry) (_ []byte, repaired bool) {
	dst = append(dst, '{')
	first := true
	for i, k := range r.keys {
		v, ok := e.Value(r.fields[i])
		if !ok {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst, _ = sinks.AppendJSONString(dst, []byte(k))
		dst = append(dst, ':')
		var bad bool
		dst, bad = sinks.AppendJSONString(dst, v)
		repaired = repaired || bad
	}
	if len(r.extra) > 0 {
		if first {
			dst = append(dst, r.extra[1:]...)
		} else {
			dst = append(dst, r.extra...)
		}
	}
	return append(dst, '}'), repaired
}

// metaCacheMax bounds the FileMetas kept per route (one per unit).
const metaCacheMax = 1024

// meta returns the FileMeta of e's records for r: the route's name, and
// the entry's unit (or syslog identifier) as the tag.
func (r *inputRoute) meta(e *Entry) *tailer.FileMeta {
	unit, ok := e.Value("_SYSTEMD_UNIT")
	if !ok {
		unit, _ = e.Value("SYSLOG_IDENTIFIER")
	}
	if m, ok := r.metas[string(unit)]; ok {
		return m
	}
	if len(r.metas) >= metaCacheMax {
		clear(r.metas)
	}
	m := &tailer.FileMeta{Path: "journal", Target: "journal", Restart: -1, Input: r.name, Tag: string(unit)}
	r.metas[string(unit)] = m
	return m
}
