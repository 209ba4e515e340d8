package cwlocal

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	errors   *prometheus.CounterVec
	duration *prometheus.HistogramVec
	events   prometheus.Counter
	bytes    prometheus.Counter
	rejected *prometheus.CounterVec
	faults   *prometheus.CounterVec
	stored   prometheus.GaugeFunc
}

func newMetrics(extra prometheus.Registerer, storedBytes func() float64) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_cwlocal_requests_total",
			Help: "API requests by operation and HTTP status.",
		}, []string{"operation", "status"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_cwlocal_errors_total",
			Help: "API error responses by operation and error type (__type).",
		}, []string{"operation", "type"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "skiff_cwlocal_request_duration_seconds",
			Help:    "API request handling time by operation, injected latency included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
		}, []string{"operation"}),
		events: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_cwlocal_events_total",
			Help: "Log events accepted by PutLogEvents.",
		}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_cwlocal_event_bytes_total",
			Help: "Message bytes of the log events accepted by PutLogEvents.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_cwlocal_rejected_events_total",
			Help: "Log events rejected inside a successful PutLogEvents, by reason (too_old, expired, too_new).",
		}, []string{"reason"}),
		faults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_cwlocal_faults_injected_total",
			Help: "Injected faults by kind (drop, outage, error, attempt, throttle, deny).",
		}, []string{"kind"}),
		stored: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skiff_cwlocal_store_bytes",
			Help: "Bytes held by the store (message bytes + 26 per event).",
		}, storedBytes),
	}
	cs := []prometheus.Collector{m.requests, m.errors, m.duration, m.events, m.bytes, m.rejected, m.faults, m.stored}
	m.reg.MustRegister(cs...)
	if extra != nil {
		for _, c := range cs {
			extra.Register(c)
		}
	}
	return m
}

func (m *metrics) observe(op string, status int, aerr *apiError, d time.Duration) {
	if op == "" {
		op = "unknown"
	}
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	if aerr != nil {
		m.errors.WithLabelValues(op, aerr.code).Inc()
	}
	m.duration.WithLabelValues(op).Observe(d.Seconds())
}
