package cloudwatch

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/skiff-agent/skiff/sinks"
)

// metrics are the CloudWatch-specific series; the shared ones (records,
// bytes, retries, drops, buffer) are in sinks.Metrics.
type metrics struct {
	requests  *prometheus.CounterVec   // operation, status
	latency   *prometheus.HistogramVec // operation
	throttles prometheus.Counter
	rejected  *prometheus.CounterVec // reason
	inflight  prometheus.Gauge
	limit     prometheus.Gauge
	streams   prometheus.Gauge
	split     prometheus.Counter

	state        *prometheus.GaugeVec // state: 1 for the endpoint's state, 0 for the others
	shown        atomic.Int32         // the state the gauges show, -1 before the first
	rate         prometheus.Gauge
	destErrors   *prometheus.CounterVec // reason
	pausedDests  prometheus.Gauge
	pausedWrites prometheus.Counter
	cost         *costs
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_cloudwatch_requests_total",
			Help: "CloudWatch Logs API requests by operation and status (ok, an error code, or network).",
		}, []string{"operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "skiff_cloudwatch_request_duration_seconds",
			Help:    "CloudWatch Logs API request latency by operation.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"operation"}),
		throttles: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_cloudwatch_throttles_total",
			Help: "Requests CloudWatch throttled.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_cloudwatch_rejected_events_total",
			Help: "Events CloudWatch rejected inside an accepted request, by reason (too_old, too_new, expired).",
		}, []string{"reason"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skiff_cloudwatch_inflight_requests",
			Help: "PutLogEvents requests in flight.",
		}),
		limit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skiff_cloudwatch_concurrency_limit",
			Help: "The adaptive limit on concurrent PutLogEvents requests.",
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skiff_cloudwatch_streams",
			Help: "Log streams the sink holds state for.",
		}),
		split: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_cloudwatch_split_records_total",
			Help: "Records whose message exceeded the largest event and were sent in pieces.",
		}),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "skiff_output_endpoint_state", ConstLabels: outputLabel,
			Help: "The endpoint's health as the sink sees it: 1 for the current state (ok, degraded: some requests fail; probing: most fail, one request at a time), 0 for the others.",
		}, []string{"state"}),
		rate: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skiff_cloudwatch_request_rate_limit",
			Help: "PutLogEvents requests per second allowed after dense throttling; 0 when there is no limit.",
		}),
		destErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_cloudwatch_destination_errors_total",
			Help: "Requests a log group or stream refused for a reason retrying soon cannot fix, by reason (access_denied, kms, group_missing); the destination is paused.",
		}, []string{"reason"}),
		pausedDests: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skiff_cloudwatch_paused_destinations",
			Help: "Log streams paused because they refuse records; their files wait.",
		}),
		pausedWrites: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_cloudwatch_paused_writes_total",
			Help: "Writes refused because their records go to a paused destination that holds its share of the buffer; the input keeps them.",
		}),
		cost: newCosts(),
	}
	for _, r := range []string{reasonAccessDenied, reasonKMS, reasonGroupMissing} {
		m.destErrors.WithLabelValues(r) // at 0 from the start
	}
	for _, r := range []string{sinks.DropRejectedOld, sinks.DropRejectedNew, sinks.DropRejectedExpir} {
		m.rejected.WithLabelValues(r)
	}
	m.shown.Store(-1)
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.throttles, m.rejected, m.inflight, m.limit, m.streams, m.split,
		m.state, m.rate, m.destErrors, m.pausedDests, m.pausedWrites, m.cost.vec} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}

// outputLabel is on the skiff_output_ series this package defines.
var outputLabel = prometheus.Labels{"output": "cloudwatch"}

// setState sets the endpoint state gauges, when st is not the state they
// show (every successful request reports one).
func (m *metrics) setState(st endpointState) {
	if m.shown.Swap(int32(st)) == int32(st) {
		return
	}
	for i, name := range stateNames {
		v := 0.0
		if endpointState(i) == st {
			v = 1
		}
		m.state.WithLabelValues(name).Set(v)
	}
}

// registerFuncs registers the series read from s at scrape time.
func registerFuncs(reg prometheus.Registerer, s *Sink, start time.Time) error {
	if reg == nil {
		return nil
	}
	return errors.Join(
		reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skiff_output_seconds_since_last_success", ConstLabels: outputLabel,
			Help: "Seconds since the last request the endpoint accepted (since start before the first).",
		}, func() float64 { return s.snd.health.sinceSuccess(start).Seconds() })),
		reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skiff_cloudwatch_paused_bytes",
			Help: "Bytes of the buffer held for paused destinations.",
		}, func() float64 { held, _, _ := s.pausedHeld(); return float64(held) })),
	)
}
