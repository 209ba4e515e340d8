package sinks

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a record is dropped, the values of the reason label of
// skiff_output_dropped_records_total.
const (
	DropEmpty         = "empty"         // an empty message (CloudWatch refuses them)
	DropInvalid       = "invalid"       // the destination refused the record itself
	DropRetryTimeout  = "retry_timeout" // max_retry_duration passed
	DropRejectedOld   = "too_old"       // CloudWatch: older than 14 days
	DropRejectedNew   = "too_new"       // CloudWatch: more than 2 h ahead
	DropRejectedExpir = "expired"       // CloudWatch: older than the group's retention
)

// RetryWrite is the reason label of skiff_output_retries_total for a
// failed write of the file and stdout sinks.
const RetryWrite = "write"

// Metrics are the series every sink reports, labelled with the sink's
// output name.
type Metrics struct {
	ProcRecords prometheus.Counter
	ProcBytes   prometheus.Counter
	Retries     *prometheus.CounterVec // reason
	Dropped     *prometheus.CounterVec // reason
	// Errors counts failed requests or writes, by reason (retried or not);
	// RetriesFailed counts batches given up after max_retry_duration.
	// Fluent Bit's output_errors_total and output_retries_failed_total.
	Errors        *prometheus.CounterVec
	RetriesFailed prometheus.Counter
}

// Reasons every sink reports, so that their series exist from the start.
var (
	dropReasons  = []string{DropEmpty, DropInvalid, DropRetryTimeout, DropRejectedOld, DropRejectedNew, DropRejectedExpir}
	errorReasons = []string{"throttle", "server", "network", "auth", "create", "other", "invalid", RetryWrite}
)

// NewMetrics builds the shared sink metrics for output (for example
// "cloudwatch") and registers them, with gauges read from b and counters
// read from enc, on reg; a nil reg registers nothing.
func NewMetrics(reg prometheus.Registerer, output string, b *Budget, enc *Encoder) (*Metrics, error) {
	labels := prometheus.Labels{"output": output}
	m := &Metrics{
		ProcRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_output_proc_records_total", ConstLabels: labels,
			Help: "Records the destination accepted.",
		}),
		ProcBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_output_proc_bytes_total", ConstLabels: labels,
			Help: "Message bytes the destination accepted.",
		}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_output_retries_total", ConstLabels: labels,
			Help: "Requests sent again after a failure, by reason (throttle, server, network, auth, create, other; write for the file and stdout sinks).",
		}, []string{"reason"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_output_dropped_records_total", ConstLabels: labels,
			Help: "Records acknowledged without being delivered, by reason.",
		}, []string{"reason"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_output_errors_total", ConstLabels: labels,
			Help: "Requests (or writes) that failed, by reason, whether retried or not.",
		}, []string{"reason"}),
		RetriesFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_output_retries_failed_total", ConstLabels: labels,
			Help: "Batches given up after max_retry_duration (their records are in dropped_records_total{reason=\"retry_timeout\"}).",
		}),
	}
	for _, r := range dropReasons {
		m.Dropped.WithLabelValues(r)
	}
	for _, r := range errorReasons {
		m.Errors.WithLabelValues(r)
		if r != "invalid" {
			m.Retries.WithLabelValues(r)
		}
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.ProcRecords, m.ProcBytes, m.Retries, m.Dropped, m.Errors, m.RetriesFailed}
	if b != nil {
		cs = append(cs,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "skiff_buffer_bytes", ConstLabels: labels,
				Help: "Bytes of records batched or in flight.",
			}, func() float64 { return float64(b.Used()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "skiff_buffer_limit_bytes", ConstLabels: labels,
				Help: "The byte budget for records batched or in flight.",
			}, func() float64 { return float64(b.Limit()) }),
		)
	}
	if enc != nil {
		cs = append(cs,
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "skiff_output_utf8_repaired_records_total", ConstLabels: labels,
				Help: "Records whose invalid UTF-8 was replaced by U+FFFD.",
			}, func() float64 { return float64(enc.Repaired()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "skiff_output_parse_errors_total", ConstLabels: labels,
				Help: "Lines to be parsed as JSON that were not a JSON object (sent as a plain log string).",
			}, func() float64 { return float64(enc.ParseErrors()) }),
		)
	}
	var errs []error
	for _, c := range cs {
		errs = append(errs, reg.Register(c))
	}
	return m, errors.Join(errs...)
}
