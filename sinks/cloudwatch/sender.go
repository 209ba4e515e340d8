package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"golang.org/x/sync/singleflight"

	"github.com/skiff-agent/skiff/sinks"
)

// curves are the sender's waits.
type curves struct {
	// fastBase, fastMax: full-jitter exponential backoff for errors while
	// most requests succeed.
	fastBase, fastMax time.Duration
	// slowBase, slowMax: the probe's curve while most requests fail.
	slowBase, slowMax time.Duration
	// short is the longest wait between attempts during shutdown.
	short time.Duration
	// pauseBase, pauseMax: the curve on which a paused destination is
	// tried again.
	pauseBase, pauseMax time.Duration
	// grace is how long requests in flight when Run's context ends may
	// still finish, so that what the endpoint accepted is acknowledged.
	grace time.Duration
}

// options are the sink's settings that are not configuration: tests set
// them.
type options struct {
	curves        curves
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	sdkSerializer bool // the SDK's PutLogEvents serializer instead of ours
	sdkPut        bool // PutLogEvents through the SDK's client, with our serializer (tests)
}

type option func(*options)

func defaultOptions() options {
	return options{curves: curves{
		fastBase: 100 * time.Millisecond, fastMax: 2 * time.Second,
		slowBase: time.Second, slowMax: 30 * time.Second,
		short:     250 * time.Millisecond,
		pauseBase: 2 * time.Second, pauseMax: time.Minute,
		grace: 2 * time.Second,
	}}
}

// withCurves replaces the waits.
func withCurves(c curves) option { return func(o *options) { o.curves = c } }

// withDial replaces the HTTP transport's dialer.
func withDial(d func(ctx context.Context, network, addr string) (net.Conn, error)) option {
	return func(o *options) { o.dial = d }
}

// withSDKSerializer makes requests with the SDK's own serializer.
func withSDKSerializer() option { return func(o *options) { o.sdkSerializer = true } }

// sender makes the requests of a sink: it owns the client, the adaptive
// concurrency limit, the view of the endpoint's health, the throttling
// rate, stream and group creation with the cache of groups known to
// exist, and the retry curves.
type sender struct {
	cfg      Config
	api      api
	direct   *directPut // PutLogEvents without the SDK's stack; nil: through api
	opts     options
	lim      *limiter
	health   *health
	pace     *pacer
	m        *sinks.Metrics
	cm       *metrics
	log      *slog.Logger
	creates  singleflight.Group
	groups   sync.Map // log groups known to exist
	logTimes sync.Map // log key -> time of its last line; see logEvery

	draining atomic.Bool
	drainCh  chan struct{} // closed when the drain starts

	asleep atomic.Int32  // senders waiting to retry or for the request rate
	kicked chan struct{} // see kick
}

func newSender(cfg Config, client api, o options, m *sinks.Metrics, cm *metrics) *sender {
	s := &sender{cfg: cfg, api: client, opts: o, m: m, cm: cm, log: cfg.Logger, drainCh: make(chan struct{}),
		kicked: make(chan struct{}, 1)}
	s.lim = newLimiter(cfg.MaxConcurrency, max(10*time.Millisecond, cfg.FlushInterval/4), cm)
	s.health = newHealth(s.slow, cm.setState)
	s.pace = newPacer(cm.rate.Set)
	if c, ok := client.(*cloudwatchlogs.Client); ok {
		var err error
		if s.direct, err = newDirectPut(context.Background(), c); err != nil {
			s.log.Debug("PutLogEvents through the SDK's client", "reason", err)
		} else {
			s.log.Debug("PutLogEvents without the SDK's per-call stack", "endpoint", s.direct.url)
		}
	}
	return s
}

// drain starts the shutdown drain: from now on no attempt waits longer
// than the short interval.
func (s *sender) drain() {
	if s.draining.Swap(true) {
		return
	}
	close(s.drainCh)
	s.health.drain(s.opts.curves.short)
}

// fast returns the wait before the attempt'th retry of an error while the
// endpoint mostly works.
func (s *sender) fast(attempt int) time.Duration {
	return jitter(s.opts.curves.fastBase, s.opts.curves.fastMax, attempt)
}

// slow returns the wait before the attempt'th probe.
func (s *sender) slow(attempt int) time.Duration {
	return jitter(s.opts.curves.slowBase, s.opts.curves.slowMax, attempt)
}

// pauseFor returns how long a destination paused attempt times waits.
func (s *sender) pauseFor(attempt int) time.Duration {
	c := s.opts.curves
	d := c.pauseMax
	if attempt < 30 {
		d = min(c.pauseMax, c.pauseBase<<attempt)
	}
	return d/2 + rand.N(d/2+1)
}

// jitter is full-jitter exponential backoff: uniform in (0, min(ceil,
// base·2^attempt)].
func jitter(base, ceil time.Duration, attempt int) time.Duration {
	d := ceil
	if attempt < 30 {
		d = min(ceil, base<<attempt)
	}
	return rand.N(d) + time.Millisecond
}

// sleep waits d, or at most the short interval during the drain; the
// start of the drain ends it at once. It returns ctx's error. A sender
// asleep does not count against the senders Run keeps busy (Sink.Run).
func (s *sender) sleep(ctx context.Context, d time.Duration) error {
	s.asleep.Add(1)
	defer s.asleep.Add(-1)
	s.kick()
	drainCh := s.drainCh
	if s.draining.Load() {
		d, drainCh = min(d, s.opts.curves.short), nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	case <-drainCh:
	}
	return nil
}

// waitPace waits until the request rate allows one more request. Like a
// sender asleep, one waiting there does not count against the senders Run
// keeps busy: under a rate limit the waiting ones keep it used.
func (s *sender) waitPace(ctx context.Context) error {
	if s.pace.limiting() {
		s.asleep.Add(1)
		defer s.asleep.Add(-1)
		s.kick()
	}
	return s.pace.wait(ctx)
}

// kick tells Run that a sender went to sleep or finished a batch.
func (s *sender) kick() {
	select {
	case s.kicked <- struct{}{}:
	default:
	}
}

// observe records one API call.
func (s *sender) observe(op string, cls class, status string, d time.Duration) {
	s.cm.requests.WithLabelValues(op, status).Inc()
	s.cm.latency.WithLabelValues(op).Observe(d.Seconds())
	if cls == classThrottle {
		s.cm.throttles.Inc()
	}
}

// logEvery logs msg at most once a minute per key.
func (s *sender) logEvery(key, msg string, args ...any) {
	s.logEveryAt(slog.LevelWarn, key, msg, args...)
}

func (s *sender) logEveryAt(level slog.Level, key, msg string, args ...any) {
	now := time.Now()
	if v, ok := s.logTimes.Load(key); ok && now.Sub(v.(time.Time)) < time.Minute {
		return
	}
	s.logTimes.Store(key, now)
	s.log.Log(context.Background(), level, msg, args...)
}

// put sends one PutLogEvents request for evs. The body is streamed from
// the batch's escaped messages (putBody), by directPut (put.go), or through
// the SDK's client by putSerializer when the client is not the SDK's or
// the direct path cannot serve its options; the SDK's own serializer
// (withSDKSerializer, for comparison) gets the messages decoded.
func (s *sender) put(ctx context.Context, b *batch, evs []event) (*cloudwatchlogs.PutLogEventsOutput, error) {
	actx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	if s.opts.sdkSerializer {
		events := make([]types.InputLogEvent, len(evs))
		for i := range evs {
			var msg string
			head, tail := b.escaped(evs[i])
			if err := json.Unmarshal(slices.Concat([]byte{'"'}, head, tail, []byte{'"'}), &msg); err != nil {
				return nil, fmt.Errorf("decode event: %w", err)
			}
			events[i] = types.InputLogEvent{Message: &msg, Timestamp: &evs[i].ts}
		}
		return s.api.PutLogEvents(actx, putInput(b, events))
	}
	body := newPutBody(b, evs)
	if s.direct != nil && !s.opts.sdkPut {
		return s.direct.put(actx, body, body.size)
	}
	return s.api.PutLogEvents(actx, putInput(b, []types.InputLogEvent{}), withBody(body)) // the body carries the events
}

// putInput is the SDK's input for a PutLogEvents of b's destination.
func putInput(b *batch, events []types.InputLogEvent) *cloudwatchlogs.PutLogEventsInput {
	return &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String(b.d.group), LogStreamName: aws.String(b.d.stream), LogEvents: events}
}
