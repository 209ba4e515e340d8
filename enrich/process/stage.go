package process

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/enrich/fields"
	"github.com/skiff-agent/skiff/enrich/parse"
	"github.com/skiff-agent/skiff/enrich/redact"
	"github.com/skiff-agent/skiff/tailer"
)

// ErrHeld is returned by Write, having taken nothing, when a pod of the
// batch is over a limit that holds back: the caller offers the batch again
// later.
var ErrHeld = errors.New("held back by a per-pod limit")

// Config says which stages run. Its zero value runs none.
type Config struct {
	// Redact are the redaction rules, applied in order; Marker replaces
	// each match (default "[REDACTED]").
	Redact []*redact.Rule
	Marker string
	// Parsers chooses the parser of a record: the first choice whose
	// Select matches. A pod's parser annotation (Controls.Parser) goes
	// first, looked up in Named.
	Parsers []ParserChoice
	// Named are the parsers a pod annotation may name.
	Named map[string]parse.Parser
	// FieldsKey is the key the parsed fields go under in the record (the
	// sink's merge key, log_processed by default): a filter's field
	// "log_processed.level" is the parsed field "level".
	FieldsKey string
	// Filters run in order on every record.
	Filters []Filter
	// Limits bound the rate of records per pod or container.
	Limits []Limit
	// Logger receives the stage's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
}

// Empty reports whether no stage is configured besides Named: without
// enrichment, no pod can name a parser and the Stage is not needed.
func (c *Config) Empty() bool {
	return len(c.Redact) == 0 && len(c.Parsers) == 0 && len(c.Filters) == 0 && len(c.Limits) == 0
}

// ParserChoice is a parser for the records Select picks.
type ParserChoice struct {
	Select Select
	Parser parse.Parser
}

// Action is what a filter does with the records it picks.
type Action uint8

// Filter actions.
const (
	// Modify applies the filter's Ops and Add to the records it matches.
	Modify Action = iota
	// Drop drops the records it matches.
	Drop
	// Keep drops the records of its Select that its condition does not
	// match.
	Keep
)

// Filter keeps, drops or changes records.
type Filter struct {
	// Name labels the filter's drops in metrics; required.
	Name string
	// Select is the records the filter acts on; the zero value is all.
	Select Select
	// Field and Regex are the condition: the field's text matches Regex.
	// Field is "log" (the line), "stream", "kubernetes.namespace_name",
	// "kubernetes.pod_name", "kubernetes.container_name",
	// "kubernetes.labels.<key>", or a parsed field's path ("level",
	// "http.status", or with the FieldsKey in front); for an encoded
	// record (a journal entry), a key of the record. Without Field, every
	// record of Select matches.
	Field string
	Regex *regexp.Regexp
	// Action is Modify (default), Drop or Keep.
	Action Action
	// Ops change the parsed fields of the records matched (Modify).
	Ops []fields.Op
	// Add are fields added to the records matched (Modify), at the top
	// level.
	Add [][2]string
}

// Validate reports what is wrong with f.
func (f *Filter) Validate() error {
	var errs []error
	if f.Name == "" {
		errs = append(errs, errors.New("a filter needs a name"))
	}
	if err := f.Select.Validate(); err != nil {
		errs = append(errs, err)
	}
	if (f.Field == "") != (f.Regex == nil) {
		errs = append(errs, errors.New("field and regex go together"))
	}
	switch f.Action {
	case Modify:
		if len(f.Ops) == 0 && len(f.Add) == 0 {
			errs = append(errs, errors.New("a filter that neither drops nor keeps must change something (lift, rename, remove or add)"))
		}
	case Drop, Keep:
		if len(f.Ops) > 0 || len(f.Add) > 0 {
			errs = append(errs, errors.New("a filter that drops or keeps cannot also change records"))
		}
		if f.Action == Keep && f.Field == "" {
			errs = append(errs, errors.New("keep needs a field and regex"))
		}
	default:
		errs = append(errs, fmt.Errorf("unknown action %d", f.Action))
	}
	return errors.Join(errs...)
}

// Validate reports what is wrong with the configuration.
func (c *Config) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i := range c.Filters {
		f := &c.Filters[i]
		if err := f.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("filter %s: %w", cmpName(f.Name, i), err))
		}
		if f.Name != "" && seen[f.Name] {
			errs = append(errs, fmt.Errorf("filter %s: the name is used twice", quote(f.Name)))
		}
		seen[f.Name] = true
	}
	for i := range c.Limits {
		if err := c.Limits[i].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("limit %s: %w", cmpName(c.Limits[i].Name, i), err))
		}
	}
	if len(c.Redact) > 0 {
		if _, err := redact.NewRedactor(c.Redact, c.Marker); err != nil {
			errs = append(errs, err)
		}
	}
	for i := range c.Parsers {
		if c.Parsers[i].Parser == nil {
			errs = append(errs, fmt.Errorf("parser choice %d has no parser", i))
		}
		if err := c.Parsers[i].Select.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("parser choice %d: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

func cmpName(name string, i int) string {
	if name != "" {
		return quote(name)
	}
	return "#" + strconv.Itoa(i+1)
}

func quote(s string) string { return strconv.Quote(s) }

// Stage runs the configured stages on records and writes what is left to
// the next consumer. It is safe for concurrent use.
type Stage struct {
	cfg      Config
	next     tailer.Consumer
	redactor *redact.Redactor
	limits   *limiter
	added    []added // by filter
	m        *metrics
	log      *slog.Logger
	work     sync.Pool // *work

	unknownOnce sync.Map // parser names a pod asked for and no parser has
}

// work is what one Write uses: the records passed on and the bytes they
// point to.
type work struct {
	out    []tailer.Record
	arena  []byte
	counts []int
	text   []byte
}

// New returns a Stage writing to next.
func New(cfg Config, next tailer.Consumer) (*Stage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg)
	if err != nil {
		return nil, err
	}
	s := &Stage{cfg: cfg, next: next, m: m, log: cfg.Logger}
	for i := range cfg.Filters {
		s.added = append(s.added, newAdded(&cfg.Filters[i]))
	}
	if len(cfg.Redact) > 0 {
		if s.redactor, err = redact.NewRedactor(cfg.Redact, cfg.Marker); err != nil {
			return nil, err
		}
	}
	if len(cfg.Limits) > 0 {
		s.limits = newLimiter(cfg.Limits)
	}
	s.work.New = func() any { return &work{counts: make([]int, len(cfg.Redact))} }
	return s, nil
}

// Write runs the stages on recs and writes the records left to the next
// consumer, which may block. Records dropped by a limit or a filter are
// acknowledged and counted. It returns ErrHeld, having taken nothing, when
// a limit holds the batch back, and otherwise the next consumer's error.
// recs are not modified.
func (s *Stage) Write(ctx context.Context, recs []tailer.Record) error {
	if s.cfg.Empty() && !asksParser(recs) {
		return s.next.Write(ctx, recs)
	}
	now := time.Now()
	if s.limits != nil && s.limits.hold(recs, now) {
		s.m.held.Inc()
		return ErrHeld
	}
	w := s.work.Get().(*work)
	defer s.release(w)
	for i := range recs {
		rec := recs[i]
		if s.limits != nil {
			if l := s.limits.drop(&rec, now); l != nil {
				ns, _, _ := names(&rec)
				s.m.limitDropped(ns)
				rec.Pos.Ack()
				continue
			}
		}
		if s.redactor != nil {
			s.redactRecord(w, &rec)
		}
		if rec.Flags&(tailer.Encoded|tailer.Malformed) == 0 {
			s.parseRecord(w, &rec)
		}
		if !s.filter(w, &rec) {
			rec.Pos.Ack()
			continue
		}
		w.out = append(w.out, rec)
	}
	if len(w.out) == 0 {
		return nil
	}
	return s.next.Write(ctx, w.out)
}

// asksParser reports whether a record's pod asks for a parser other than
// json, which the sink applies itself.
func asksParser(recs []tailer.Record) bool {
	for i := range recs {
		if p := recs[i].Pod; p != nil && p.Controls.Parser != "" && p.Controls.Parser != "json" {
			return true
		}
	}
	return false
}

func (s *Stage) release(w *work) {
	clear(w.out)
	w.out, w.arena, w.text = w.out[:0], w.arena[:0], w.text[:0]
	if cap(w.arena) > 1<<20 {
		w.arena = nil
	}
	s.work.Put(w)
}

// parseRecord parses rec's line with the parser chosen for it.
func (s *Stage) parseRecord(w *work, rec *tailer.Record) {
	p := s.parser(rec)
	if p == nil {
		return
	}
	start := len(w.arena)
	obj, ok := p.Parse(w.arena, rec.Message)
	if !ok {
		s.m.parsed(p.Name(), false)
		return
	}
	w.arena = obj
	rec.Fields = obj[start:len(obj):len(obj)]
	s.m.parsed(p.Name(), true)
}

// parser returns the parser of rec: its pod's annotation, else the first
// choice that matches, else none.
func (s *Stage) parser(rec *tailer.Record) parse.Parser {
	if rec.Pod != nil && rec.Pod.Controls.Parser != "" {
		name := rec.Pod.Controls.Parser
		if p, ok := s.cfg.Named[name]; ok {
			return p
		}
		if _, logged := s.unknownOnce.LoadOrStore(name, true); !logged {
			s.log.Warn("a pod asks for a parser skiff does not have; its lines go unparsed",
				"parser", name, "pod", rec.Pod.Namespace+"/"+rec.Pod.Name)
		}
	}
	for i := range s.cfg.Parsers {
		if c := &s.cfg.Parsers[i]; c.Select.Matches(rec) {
			return c.Parser
		}
	}
	return nil
}
