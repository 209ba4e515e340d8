package cloudwatch

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
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
	}
	if reg == nil {
		return m, nil
	}
	var errs []error
	for _, c := range []prometheus.Collector{m.requests, m.latency, m.throttles, m.rejected, m.inflight, m.limit, m.streams, m.split} {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}
