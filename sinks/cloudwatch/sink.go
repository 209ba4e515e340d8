package cloudwatch

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/tailer"
)

// Sink ships records to CloudWatch Logs. It implements sinks.Sink: Write
// encodes, routes and batches records under the byte budget; Run sends the
// batches; Flush sends everything and waits for the acknowledgements.
type Sink struct {
	cfg    Config
	snd    *sender
	enc    *sinks.Encoder
	group  *Template
	stream *Template
	inputs map[string]routeTemplates // the inputs' own destinations
	env    env
	b      *sinks.Budget
	m      *sinks.Metrics
	cm     *metrics
	log    *slog.Logger
	chunk  int64 // bytes a Write takes from the budget at once
	// sendersStarted counts the sender goroutines Run started (its local
	// senders channel bounds those sending at once).
	sendersStarted atomic.Int64

	routes    atomic.Pointer[sync.Map] // routeKey -> *route
	byStream  bool                     // a template renders {stream}
	routeN    atomic.Int64
	overrides sync.Map // annotation template source -> *Template (nil: invalid)

	mu    sync.Mutex
	dests map[string]*dest
	// filling lists the destinations with an open batch (and some whose
	// batch was sealed since), so that the flush tick looks at those, not
	// at every stream; the streams are looked at for idleness every
	// expireEvery, at expiredAt.
	filling   []*dest
	expiredAt time.Time
	ready     []*batch
	paused    map[string]*dest // destinations that refuse records
	pausedN   atomic.Int32     // len(paused), read without mu by Write
	wake      chan struct{}
	// tickRests: Run's flush tick runs at the stream expiry's pace, the
	// sink holding nothing; a commit then wakes Run to speed it up. Only
	// Run changes it, together with the tick.
	tickRests bool
}

// dest is one log stream and what the sink holds for it. Its fields
// other than the atomics are guarded by the sink's mu.
type dest struct {
	group, stream, key string
	open               *batch
	filling            bool  // in Sink.filling
	pending            int   // sealed batches not finished yet
	held               int64 // budget held by its batches, open and sealed
	lastUsed           time.Time
	pause              *pause        // non-nil while the destination refuses records
	retrying           atomic.Bool   // a batch failed and is not delivered yet
	gen                atomic.Uint64 // bumped each time the stream was created
	lastReject         atomic.Int64  // unix nanos of the last rejection log line
	// lastBytes and lastEvents size the next batch like the last one
	// sealed; guarded by Sink.mu.
	lastBytes, lastEvents int
}

// New returns a sink for cfg, with an SDK client from the default
// credential chain (or cfg.Credentials), cfg.Region and cfg.Endpoint.
func New(ctx context.Context, cfg Config) (*Sink, error) {
	return newWithOptions(ctx, cfg)
}

func newWithOptions(ctx context.Context, cfg Config, opts ...option) (*Sink, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cloudwatch: %w", err)
	}
	cfg.setDefaults()
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	client, err := newClient(ctx, cfg, o.dial)
	if err != nil {
		return nil, err
	}
	return newSink(cfg, client, opts...)
}

// newSink returns a sink for cfg (with its defaults set) that calls client.
func newSink(cfg Config, client api, opts ...option) (*Sink, error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	group, err := ParseTemplate(cfg.LogGroup)
	if err != nil {
		return nil, err
	}
	stream, err := ParseTemplate(cfg.LogStream)
	if err != nil {
		return nil, err
	}
	inputs := make(map[string]routeTemplates, len(cfg.Routes))
	byStream := group.UsesStream() || stream.UsesStream()
	for name, r := range cfg.Routes {
		var rt routeTemplates
		if rt.group, err = ParseTemplate(r.LogGroup); err != nil {
			return nil, err
		}
		if rt.stream, err = ParseTemplate(r.LogStream); err != nil {
			return nil, err
		}
		byStream = byStream || rt.group.UsesStream() || rt.stream.UsesStream()
		inputs[name] = rt
	}
	enc, err := sinks.NewEncoder(sinks.EncoderConfig{
		Format: cfg.Format, Parse: cfg.Parse, MergeKey: cfg.MergeKey, InputFields: cfg.InputFields, Labels: cfg.Labels, Annotations: cfg.Annotations, Host: cfg.Host,
	})
	if err != nil {
		return nil, err
	}
	s := &Sink{
		cfg: cfg, enc: enc, group: group, stream: stream, inputs: inputs,
		env:    env{cluster: cfg.Cluster, host: cfg.Host},
		b:      sinks.NewBudget(cfg.BufferBytes),
		log:    cfg.Logger,
		dests:  make(map[string]*dest),
		paused: make(map[string]*dest),
		wake:   make(chan struct{}, 1),
	}
	s.chunk = min(s.b.Limit()/4, 4<<20)
	s.byStream = byStream
	s.routes.Store(new(sync.Map))
	if s.m, err = sinks.NewMetrics(cfg.Registerer, "cloudwatch", s.b, enc); err != nil {
		return nil, fmt.Errorf("cloudwatch metrics: %w", err)
	}
	if s.cm, err = newMetrics(cfg.Registerer); err != nil {
		return nil, fmt.Errorf("cloudwatch metrics: %w", err)
	}
	s.snd = newSender(cfg, client, o, s.m, s.cm)
	if err := registerFuncs(cfg.Registerer, s, time.Now()); err != nil {
		return nil, fmt.Errorf("cloudwatch metrics: %w", err)
	}
	return s, nil
}

// Budget returns the sink's byte budget.
func (s *Sink) Budget() *sinks.Budget { return s.b }

// pendEvent is an encoded message waiting for budget in Write.
type pendEvent struct {
	r          *route
	ts         int64
	off, en, n int // escaped message at buf[off:off+en], then tail; n is its own length
	tail       []byte
	acker      tailer.Acker
	charge     int64
}

type scratch struct {
	buf    []byte
	evs    []pendEvent
	charge int64
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// Write encodes and batches recs, blocking while the byte budget is full.
// It is safe for concurrent use. On ctx's error, the records of recs not
// yet taken stay unacknowledged. When a record of recs is routed to a
// paused destination that holds its share of the budget, Write takes
// nothing and returns an error wrapping sinks.ErrPaused at once: the
// caller keeps the records and writes them again later.
func (s *Sink) Write(ctx context.Context, recs []tailer.Record) error {
	if s.pausedN.Load() > 0 {
		if err := s.refusePaused(recs); err != nil {
			return err
		}
	}
	sc := scratchPool.Get().(*scratch)
	defer func() {
		sc.buf, sc.evs, sc.charge = sc.buf[:0], sc.evs[:0], 0
		scratchPool.Put(sc)
	}()
	for i := range recs {
		rec := &recs[i]
		start := len(sc.buf)
		var n int
		var tail []byte
		sc.buf, n, tail = s.enc.AppendEscapedHead(sc.buf, rec)
		if n == 0 {
			s.m.Dropped.WithLabelValues(sinks.DropEmpty).Inc()
			rec.Pos.Ack()
			continue
		}
		rt := s.route(rec)
		ts := timestamp(rec)
		if n > MaxEventBytes {
			sc.buf = sc.buf[:start]
			if err := s.commit(ctx, sc); err != nil { // keep split pieces together
				return err
			}
			s.appendSplit(sc, rec, rt, ts)
			continue
		}
		c := int64(n + EventOverhead)
		if sc.charge > 0 && sc.charge+c > s.chunk {
			// Commit what is pending first; buf keeps this message at the end.
			last := sc.buf[start:]
			sc.buf = sc.buf[:start]
			if err := s.commit(ctx, sc); err != nil {
				return err
			}
			sc.buf = append(sc.buf, last...)
			start = 0
		}
		sc.evs = append(sc.evs, pendEvent{r: rt, ts: ts, off: start, en: len(sc.buf) - start, n: n, tail: tail, acker: rec.Pos.Acker, charge: c})
		sc.charge += c
	}
	return s.commit(ctx, sc)
}

// appendSplit cuts a record whose message is too large into pieces that
// each fit an event, acknowledged together once all are accepted.
func (s *Sink) appendSplit(sc *scratch, rec *tailer.Record, rt *route, ts int64) {
	for k := 2; ; k *= 2 {
		pieces := splitRunes(rec.Message, k)
		ok := true
		for _, p := range pieces {
			cp := *rec
			cp.Message = p
			start := len(sc.buf)
			var n int
			sc.buf, n = s.enc.AppendEscaped(sc.buf, &cp)
			if n > MaxEventBytes {
				ok = false
				break
			}
			c := int64(n + EventOverhead)
			sc.evs = append(sc.evs, pendEvent{r: rt, ts: ts, off: start, en: len(sc.buf) - start, n: n, charge: c})
			sc.charge += c
		}
		if !ok {
			sc.buf, sc.evs, sc.charge = sc.buf[:0], sc.evs[:0], 0
			continue
		}
		var acker tailer.Acker
		if rec.Pos.Acker != nil {
			acker = sinks.NewSplitAcker(rec.Pos, len(pieces))
		}
		for i := range sc.evs {
			sc.evs[i].acker = acker
		}
		s.cm.split.Inc()
		return
	}
}

// splitRunes cuts b into about k pieces of similar size at UTF-8 boundaries.
func splitRunes(b []byte, k int) [][]byte {
	size := max(1, (len(b)+k-1)/k)
	var out [][]byte
	for len(b) > 0 {
		n := min(size, len(b))
		for n < len(b) && n > 0 && !utf8.RuneStart(b[n]) {
			n--
		}
		if n == 0 {
			n = min(size, len(b))
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// commit takes budget for the pending messages and adds them to batches.
func (s *Sink) commit(ctx context.Context, sc *scratch) error {
	if len(sc.evs) == 0 {
		return nil
	}
	got := s.b.Clamp(sc.charge)
	if err := s.b.Acquire(ctx, got); err != nil {
		return err
	}
	if got < sc.charge {
		// Messages larger than the whole budget: they hold all of it.
		rest := got
		for i := range sc.evs {
			c := min(sc.evs[i].charge, rest)
			sc.evs[i].charge, rest = c, rest-c
		}
	}
	now := time.Now()
	s.mu.Lock()
	for _, e := range sc.evs {
		d := s.destLocked(e.r)
		d.lastUsed = now
		d.held += e.charge
		if d.open != nil && !d.open.fits(e.n, e.ts) {
			s.sealLocked(d)
		}
		if d.open == nil {
			d.open = newBatch(d, now)
			if !d.filling {
				d.filling = true
				s.filling = append(s.filling, d)
			}
		}
		b := d.open
		b.add(sc.buf[e.off:e.off+e.en], e.tail, e.n, e.ts, e.r.ns)
		b.charge += e.charge - int64(e.n+EventOverhead)
		b.acks.AddN(e.acker, 1)
		if len(b.events) >= MaxBatchEvents || b.size > MaxBatchBytes-EventOverhead-1 ||
			b.size >= s.cfg.BatchBytes && d.pause == nil && !d.retrying.Load() {
			s.sealLocked(d)
		}
	}
	if s.tickRests {
		s.signal()
	}
	s.mu.Unlock()
	clear(sc.evs) // the routes, ackers and tails
	sc.buf, sc.evs, sc.charge = sc.buf[:0], sc.evs[:0], 0
	return nil
}

func (s *Sink) destLocked(r *route) *dest {
	d := s.dests[r.key]
	if d == nil {
		d = &dest{group: r.group, stream: r.stream, key: r.key}
		s.dests[r.key] = d
		s.cm.streams.Set(float64(len(s.dests)))
	}
	return d
}

// sealLocked moves d's open batch to the send queue.
func (s *Sink) sealLocked(d *dest) {
	b := d.open
	if b == nil {
		return
	}
	d.open = nil
	b.seal()
	d.pending++
	s.ready = append(s.ready, b)
	s.signal()
}

// sealAll seals the open batches older than age (all when age is 0, the
// flush age when it is negative: see flushAge) and
// forgets idle streams. A stream whose batch is being retried, or that is
// paused, keeps filling its open batch up to the limits, so that it sends
// large requests once it recovers; force seals those too.
func (s *Sink) sealAll(age time.Duration, force bool) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	// A stretched flush holds small batches only: one that holds
	// stretchBytes leaves at the flush interval.
	base := age
	if age < 0 {
		base, age = s.cfg.FlushInterval, s.flushAgeLocked()
	}
	keep := s.filling[:0]
	for _, d := range s.filling {
		hold := !force && (d.pause != nil || d.retrying.Load())
		if b := d.open; b != nil && !hold && (age <= 0 || now.Sub(b.born) >= age ||
			b.size >= stretchBytes && now.Sub(b.born) >= base) {
			s.sealLocked(d)
		}
		if d.open != nil {
			keep = append(keep, d)
		} else {
			d.filling = false
		}
	}
	clear(s.filling[len(keep):])
	s.filling = keep
	if now.Sub(s.expiredAt) < s.expireEvery() {
		return
	}
	s.expiredAt = now
	for k, d := range s.dests {
		if d.open == nil && d.pending == 0 && now.Sub(d.lastUsed) > s.cfg.StreamIdle {
			delete(s.dests, k)
		}
	}
	s.cm.streams.Set(float64(len(s.dests)))
}

// flushRequests is the rate of timed flushes, in requests per second, above
// which the flush interval stretches: a node with a thousand quiet streams
// would otherwise send a thousand small requests a second, a CPU cost that
// follows streams rather than bytes, and a share of the account's
// PutLogEvents quota that every node of a cluster takes.
const flushRequests = 100

// stretchBytes is the size from which a batch leaves at the flush interval
// however many streams there are: the stretch is for streams that would
// send a few lines a request, and held five seconds of a thousand busy
// streams would fill the budget.
const stretchBytes = 16 << 10

// flushAgeLocked is how long a batch waits before a timed flush: the flush
// interval, stretched when more than flushRequests streams per second of it
// are filling batches, up to MaxFlushInterval. Callers hold mu.
func (s *Sink) flushAgeLocked() time.Duration {
	spread := time.Duration(len(s.filling)) * time.Second / flushRequests
	return min(max(s.cfg.FlushInterval, spread), s.cfg.MaxFlushInterval)
}

// timestamp returns rec's time in milliseconds, or now for a zero time.
func timestamp(rec *tailer.Record) int64 {
	if rec.Time.IsZero() {
		return time.Now().UnixMilli()
	}
	return max(0, rec.Time.UnixMilli())
}

// senderIdle is how long a sender goroutine waits for its next batch.
const senderIdle = 10 * time.Second

// Run sends batches until ctx is done, then waits for its requests to
// return. Requests in flight when ctx ends get a short grace to finish, so
// that what CloudWatch accepted is acknowledged before the final
// checkpoint; then they are cancelled, and what they held stays
// unacknowledged.
func (s *Sink) Run(ctx context.Context) error {
	reqCtx, cancelReq := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReq()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(s.snd.opts.curves.grace, cancelReq) })
	defer stopGrace()
	period := max(10*time.Millisecond, s.cfg.FlushInterval/4)
	tick := time.NewTicker(period)
	defer tick.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	senders := make(chan struct{}, 2*s.cfg.MaxConcurrency)
	// A batch goes to the sender goroutine that became idle last, or to a
	// new one. Senders stay for senderIdle after a batch: a request runs
	// deep in the SDK's middleware, and a goroutine per batch grew its
	// stack from the start each time (5% of the CPU with a thousand
	// streams sending 200 requests a second).
	var idlers idleSenders
	send := func(b *batch) {
		s.send(ctx, reqCtx, b)
		<-senders
		s.snd.kick()
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.wake:
		case <-s.b.Full():
			s.sealAll(0, false)
		case <-tick.C:
			s.sealAll(-1, false)
		}
		s.releaseDue(time.Now())
		for {
			b := s.next()
			if b == nil {
				break
			}
			// Twice the concurrency limit in force keep a batch, so that a
			// request slot that frees finds the next one waiting, and a
			// burst of sealed batches does not start a sender each. A
			// sender asleep before a retry or waiting for the request rate
			// does not count: the others go on meanwhile (up to the hard
			// cap of senders).
			for ctx.Err() == nil && len(senders)-int(s.snd.asleep.Load()) >= 2*s.snd.lim.current() {
				select {
				case <-s.snd.kicked:
				case <-ctx.Done():
				}
			}
			select {
			case senders <- struct{}{}:
			case <-ctx.Done():
				s.mu.Lock()
				s.ready = append([]*batch{b}, s.ready...)
				s.mu.Unlock()
				return nil
			}
			if !idlers.hand(b) {
				s.sendersStarted.Add(1)
				wg.Go(func() { idlers.serve(b, send, ctx.Done()) })
			}
		}
		s.paceTick(tick, period)
	}
}

// idleSenders holds the sender goroutines waiting for a batch, each by
// its own channel, as a stack: the one idle last is handed the next batch,
// so that the extra senders a burst started find nothing to do and end
// after senderIdle (handed out in turn, as by one shared channel, every
// one of them stays busy now and then, and they all stay).
type idleSenders struct {
	mu    sync.Mutex
	stack []chan *batch // buffered, one each
	live  atomic.Int32  // senders running
}

// hand gives b to the sender idle last; false if none is idle.
func (p *idleSenders) hand(b *batch) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.stack)
	if n == 0 {
		return false
	}
	work := p.stack[n-1]
	p.stack[n-1] = nil
	p.stack = p.stack[:n-1]
	work <- b
	return true
}

// serve is a sender goroutine: it sends b and each batch it is handed
// after, and ends once none came for senderIdle, or stop is closed.
func (p *idleSenders) serve(b *batch, send func(*batch), stop <-chan struct{}) {
	p.live.Add(1)
	defer p.live.Add(-1)
	work := make(chan *batch, 1)
	idle := time.NewTimer(senderIdle)
	defer idle.Stop()
	for {
		send(b)
		p.push(work)
		idle.Reset(senderIdle)
		select {
		case b = <-work:
			continue
		case <-idle.C:
		case <-stop:
		}
		if p.leave(work) {
			return
		}
		b = <-work // handed one as it left
	}
}

// push adds an idle sender.
func (p *idleSenders) push(work chan *batch) {
	p.mu.Lock()
	p.stack = append(p.stack, work)
	p.mu.Unlock()
}

// leave takes an idle sender off the stack; false if hand took it first,
// and a batch is in work.
func (p *idleSenders) leave(work chan *batch) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.Index(p.stack, work)
	if i < 0 {
		return false
	}
	p.stack = slices.Delete(p.stack, i, i+1)
	return true
}

// paceTick slows Run's flush tick down to the stream expiry's pace while
// the sink holds nothing (no batch open, sealed, in flight or parked: the
// whole budget is free), so that an agent with nothing to ship does not
// wake four times a second, and speeds it up again once something is
// held. Nothing but a commit makes the sink hold something, and a commit
// that finds the tick resting wakes Run.
func (s *Sink) paceTick(tick *time.Ticker, period time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rest := s.b.Used() == 0
	if rest == s.tickRests {
		return
	}
	s.tickRests = rest
	if rest {
		tick.Reset(max(period, s.expireEvery()))
	} else {
		tick.Reset(period)
	}
}

// expireEvery is how often sealAll forgets idle streams.
func (s *Sink) expireEvery() time.Duration { return min(s.cfg.StreamIdle/4, time.Minute) }

// next pops the next batch to send, parking those of paused destinations.
func (s *Sink) next() *batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.ready) > 0 {
		b := s.ready[0]
		s.ready[0] = nil
		s.ready = s.ready[1:]
		if p := b.d.pause; p != nil && !b.probe {
			p.parked = append(p.parked, b)
			continue
		}
		return b
	}
	return nil
}

// send delivers b and acknowledges it. When ctx ends first, b stays
// unacknowledged and its budget held; when its destination refuses it, b
// is parked with the destination.
func (s *Sink) send(ctx, reqCtx context.Context, b *batch) {
	r, err := s.snd.deliver(ctx, reqCtx, b, b.events, time.Now())
	switch r {
	case resultCancelled:
		return
	case resultPaused:
		s.mu.Lock()
		s.pauseLocked(b, err)
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	d := b.d
	d.pending--
	d.held -= b.charge
	d.lastUsed = time.Now()
	d.retrying.Store(false)
	if d.pause != nil {
		s.resumeLocked(d)
	}
	s.mu.Unlock()
	b.acks.Done()
	s.b.Release(b.charge)
	b.recycle()
}

// Drain starts the shutdown drain early: retries and probes wait at most
// a short interval from now on. Flush starts it too.
func (s *Sink) Drain() { s.snd.drain() }

// Flush seals every batch, starts the drain (retries wait at most a short
// interval from now on, and paused destinations are tried once more), and
// returns once everything written has been acknowledged, or with ctx's
// error. When what is left is held for paused destinations that refused
// again, it returns an error wrapping sinks.ErrPaused: those records are
// read again at the next start. Run must be running.
func (s *Sink) Flush(ctx context.Context) error {
	s.snd.drain()
	s.sealAll(0, true)
	s.retryPausedNow()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.b.Idle():
			return nil
		case <-ctx.Done():
			return fmt.Errorf("cloudwatch flush: %d bytes unacknowledged: %w", s.b.Used(), ctx.Err())
		case <-tick.C:
		}
		if held, n, settled := s.pausedHeld(); n > 0 && settled && s.b.Used() <= held {
			return fmt.Errorf("cloudwatch flush: %d bytes held for %d paused destinations: %w", held, n, sinks.ErrPaused)
		}
	}
}

var (
	_ sinks.Sink    = (*Sink)(nil)
	_ sinks.Drainer = (*Sink)(nil)
)
