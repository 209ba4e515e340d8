package tailer

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Reasons for skipped bytes and checkpoint errors (metric label values).
const (
	skipMaxOpenFiles    = "max_open_files"
	skipMaxDeletedBytes = "max_deleted_bytes"
	skipUnreadable      = "unreadable"
	skipSpoolFull       = "spool_full"
	skipTruncated       = "truncated"
	skipGone            = "deleted_while_stopped"
	ckptCorrupt         = "corrupt"
	ckptRead            = "read"
	ckptWrite           = "write"
)

// metrics are the tailer's Prometheus metrics.
type metrics struct {
	filesOpened    prometheus.Counter
	filesClosed    prometheus.Counter
	filesRotated   prometheus.Counter
	filesTruncated prometheus.Counter
	records        []prometheus.Counter // by input index
	bytes          []prometheus.Counter
	recordsVec     *prometheus.CounterVec
	bytesVec       *prometheus.CounterVec
	malformed      prometheus.Counter
	split          prometheus.Counter
	truncated      prometheus.Counter
	groups         prometheus.Counter
	groupsSplit    prometheus.Counter
	carried        prometheus.Counter
	skipped        *prometheus.CounterVec
	ckptErrors     *prometheus.CounterVec
	ckptWrites     prometheus.Counter
	spooledBytes   prometheus.Counter
	spoolFiles     prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer, t *Tailer) (*metrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		filesOpened:    counter("skiff_input_files_opened_total", "Log files opened."),
		filesClosed:    counter("skiff_input_files_closed_total", "Log files closed after being read to their end (or skipped)."),
		filesRotated:   counter("skiff_input_files_rotated_total", "Log files whose path moved on to a new file (rename rotation)."),
		filesTruncated: counter("skiff_input_files_truncated_total", "Log files truncated or rewritten in place; reading restarted at 0."),
		recordsVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_input_records_total", Help: "Records read from log files, by input.",
		}, []string{"input"}),
		bytesVec: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_input_bytes_total", Help: "Bytes read from log files, by input.",
		}, []string{"input"}),
		malformed:   counter("skiff_input_malformed_lines_total", "Lines that could not be decoded and were shipped raw."),
		split:       counter("skiff_input_split_lines_total", "Lines longer than max_line_bytes that were split into pieces."),
		truncated:   counter("skiff_input_truncated_lines_total", "Lines longer than max_line_bytes whose tail was dropped."),
		groups:      counter("skiff_input_multiline_records_total", "Records joined from several lines by a multi-line rule."),
		groupsSplit: counter("skiff_input_multiline_split_total", "Multi-line records longer than max_line_bytes, split into pieces (or truncated)."),
		carried:     counter("skiff_input_multiline_rotated_total", "Multi-line records whose lines a rotation split between two files, joined across them."),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_input_skipped_bytes_total",
			Help: "Bytes of log files never read because a bound forced skipping, by reason.",
		}, []string{"reason"}),
		ckptErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_input_checkpoint_errors_total",
			Help: "Checkpoint files that could not be read, were corrupt or could not be written.",
		}, []string{"reason"}),
		ckptWrites:   counter("skiff_input_checkpoint_writes_total", "Checkpoint files written."),
		spooledBytes: counter("skiff_input_spooled_bytes_total", "Unacknowledged bytes of deleted, rotated or (at shutdown) live files copied to the spool."),
		spoolFiles: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "skiff_input_spool_files",
			Help: "Entries in the spool of unacknowledged bytes.",
		}),
	}
	// Every input's series exist from the start, at 0.
	for _, in := range t.inputs {
		m.records = append(m.records, m.recordsVec.WithLabelValues(in.Name))
		m.bytes = append(m.bytes, m.bytesVec.WithLabelValues(in.Name))
	}
	if len(m.records) == 0 {
		m.records = append(m.records, m.recordsVec.WithLabelValues(""))
		m.bytes = append(m.bytes, m.bytesVec.WithLabelValues(""))
	}
	for _, r := range []string{skipMaxOpenFiles, skipMaxDeletedBytes, skipUnreadable, skipSpoolFull, skipTruncated, skipGone} {
		m.skipped.WithLabelValues(r)
	}
	for _, r := range []string{ckptCorrupt, ckptRead, ckptWrite} {
		m.ckptErrors.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{
		m.filesOpened, m.filesClosed, m.filesRotated, m.filesTruncated, m.recordsVec, m.bytesVec,
		m.malformed, m.split, m.truncated, m.groups, m.groupsSplit, m.carried, m.skipped, m.ckptErrors, m.ckptWrites, m.spooledBytes, m.spoolFiles,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skiff_input_spool_bytes",
			Help: "Bytes held in the spool, against tail.max_spool_bytes.",
		}, func() float64 { return float64(t.spool.bytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skiff_input_files_watched",
			Help: "Log files open and followed.",
		}, func() float64 { return float64(t.openFiles()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skiff_input_files_idle",
			Help: "Followed files quiet enough to wait in the shared safety poll, without a goroutine of their own.",
		}, func() float64 { return float64(t.idle.parkedFiles()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skiff_input_lag_bytes",
			Help: "Bytes written to followed files and not read yet.",
		}, func() float64 { return float64(t.lagBytes()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "skiff_input_unacked_bytes",
			Help: "Bytes read and not yet acknowledged by the output.",
		}, func() float64 { return float64(t.Unacked()) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// add moves an assembler's counts into the metrics.
func (m *metrics) add(s assembleStats, bytes, input int) {
	input = min(max(input, 0), len(m.records)-1)
	if s.records > 0 {
		m.records[input].Add(float64(s.records))
	}
	if bytes > 0 {
		m.bytes[input].Add(float64(bytes))
	}
	if s.malformed > 0 {
		m.malformed.Add(float64(s.malformed))
	}
	if s.split > 0 {
		m.split.Add(float64(s.split))
	}
	if s.truncated > 0 {
		m.truncated.Add(float64(s.truncated))
	}
	if s.groups > 0 {
		m.groups.Add(float64(s.groups))
	}
	if s.groupsSplit > 0 {
		m.groupsSplit.Add(float64(s.groupsSplit))
	}
}
