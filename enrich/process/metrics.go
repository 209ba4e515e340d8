package process

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// maxNamespaces bounds the namespaces labelled in the limit metric; the
// others are counted as "_other".
const maxNamespaces = 1000

// namespaceLabel is the label of the namespace a record came from. It is not
// "namespace", which Prometheus gives skiff's own pod.
const namespaceLabel = "k8s_namespace_name"

type metrics struct {
	filterDropped []prometheus.Counter // by filter index
	limitDrops    *prometheus.CounterVec
	held          prometheus.Counter
	parsedOK      map[string]prometheus.Counter
	parsedRefused map[string]prometheus.Counter
	redactedBy    []prometheus.Counter // by rule index

	mu         sync.Mutex
	namespaces map[string]bool
}

func newMetrics(cfg Config) (*metrics, error) {
	filterVec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skiff_filter_dropped_records_total",
		Help: "Records a filter dropped, by filter: the configuration's choice, not a loss.",
	}, []string{"filter"})
	parseVec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skiff_parser_records_total",
		Help: "Lines given to a parser, by parser and outcome: parsed, or refused (shipped unparsed).",
	}, []string{"parser", "outcome"})
	redactVec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "skiff_redacted_total",
		Help: "Matches replaced by the redaction marker, by rule.",
	}, []string{"rule"})
	m := &metrics{
		limitDrops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_limit_dropped_records_total",
			Help: "Records dropped for being over a per-pod limit, by namespace (\"_other\" past 1000 namespaces).",
		}, []string{namespaceLabel}),
		held: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_limit_held_batches_total",
			Help: "Batches held back (offered again later) for a pod over a limit that holds.",
		}),
		parsedOK:      map[string]prometheus.Counter{},
		parsedRefused: map[string]prometheus.Counter{},
		namespaces:    map[string]bool{},
	}
	for _, f := range cfg.Filters {
		m.filterDropped = append(m.filterDropped, filterVec.WithLabelValues(f.Name))
	}
	addParser := func(name string) {
		if _, ok := m.parsedOK[name]; !ok {
			m.parsedOK[name] = parseVec.WithLabelValues(name, "parsed")
			m.parsedRefused[name] = parseVec.WithLabelValues(name, "refused")
		}
	}
	for _, c := range cfg.Parsers {
		addParser(c.Parser.Name())
	}
	for _, p := range cfg.Named {
		addParser(p.Name())
	}
	for _, r := range cfg.Redact {
		m.redactedBy = append(m.redactedBy, redactVec.WithLabelValues(r.Name()))
	}
	if cfg.Registerer != nil {
		for _, c := range []prometheus.Collector{filterVec, parseVec, redactVec, m.limitDrops, m.held} {
			if err := cfg.Registerer.Register(c); err != nil {
				var are prometheus.AlreadyRegisteredError
				if !errors.As(err, &are) {
					return nil, err
				}
			}
		}
	}
	return m, nil
}

func (m *metrics) parsed(name string, ok bool) {
	if ok {
		if c := m.parsedOK[name]; c != nil {
			c.Inc()
		}
	} else if c := m.parsedRefused[name]; c != nil {
		c.Inc()
	}
}

func (m *metrics) redacted(counts []int) {
	for i, n := range counts {
		if n > 0 {
			m.redactedBy[i].Add(float64(n))
		}
	}
}

func (m *metrics) limitDropped(ns string) {
	m.mu.Lock()
	if !m.namespaces[ns] {
		if len(m.namespaces) >= maxNamespaces {
			ns = "_other"
		} else {
			m.namespaces[ns] = true
		}
	}
	m.mu.Unlock()
	m.limitDrops.WithLabelValues(ns).Inc()
}
