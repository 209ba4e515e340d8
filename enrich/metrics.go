package enrich

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Lookup results (label "result" of skiff_enrich_lookups_total). Every
// record with a pod UID is a hit or a miss; every miss is then waited (the
// pod arrived within its wait bound) or fallback (shipped with path
// metadata).
const (
	resultHit      = "hit"
	resultMiss     = "miss"
	resultWaited   = "waited"
	resultFallback = "fallback"
)

// Watch states and error reasons (label "reason" of
// skiff_enrich_watch_errors_total).
const (
	stateStarting     = "starting"
	stateOK           = "ok"
	stateForbidden    = "forbidden"
	stateUnauthorized = "unauthorized"
	stateUnavailable  = "unavailable"
	stateError        = "error"
	reasonClosed      = "closed" // the watch ended and is re-established
	reasonExpired     = "expired"
)

type metrics struct {
	lookups       *prometheus.CounterVec
	hit, miss     prometheus.Counter
	waited, fell  prometheus.Counter
	noUID         prometheus.Counter
	waits         *prometheus.CounterVec
	excluded      prometheus.Counter
	invalid       *prometheus.CounterVec
	watchRestarts *prometheus.CounterVec
	watchErrors   *prometheus.CounterVec
	watchUp       *prometheus.GaugeVec
	podEvents     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, s *store) (*metrics, error) {
	m := &metrics{
		lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_enrich_lookups_total",
			Help: "Pod metadata lookups by result: hit or miss; each miss is then waited (metadata arrived in time) or fallback (shipped with path metadata).",
		}, []string{"result"}),
		noUID: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_enrich_records_without_pod_uid_total",
			Help: "Records whose file path names no pod UID, forwarded without lookup.",
		}),
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_enrich_pod_waits_total",
			Help: "Waits for the metadata of a pod not cached yet, by outcome (arrived or timeout); at most one per pod.",
		}, []string{"outcome"}),
		excluded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "skiff_enrich_excluded_records_total",
			Help: "Records dropped (and acknowledged) because their pod is excluded by annotation or is skiff's own.",
		}),
		invalid: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_enrich_invalid_annotations_total",
			Help: "Annotation controls ignored because their value is invalid, once per pod and value, by annotation and reason (value: not a value the control takes; destination: refused by the sink's naming rules).",
		}, []string{"annotation", "reason"}),
		watchRestarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_enrich_watch_restarts_total",
			Help: "Times a list-and-watch ended and was started again, by resource.",
		}, []string{"resource"}),
		watchErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_enrich_watch_errors_total",
			Help: "Errors ending a list-and-watch, by resource and reason (forbidden, unauthorized, unavailable, closed, expired, error).",
		}, []string{"resource", "reason"}),
		watchUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "skiff_enrich_watch_up",
			Help: "1 while the last list or watch request of the resource succeeded, else 0.",
		}, []string{"resource"}),
		podEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "skiff_enrich_pod_events_total",
			Help: "Pod events applied to the cache, by type (add, update, delete).",
		}, []string{"type"}),
	}
	m.hit = m.lookups.WithLabelValues(resultHit)
	m.miss = m.lookups.WithLabelValues(resultMiss)
	m.waited = m.lookups.WithLabelValues(resultWaited)
	m.fell = m.lookups.WithLabelValues(resultFallback)
	m.waits.WithLabelValues("arrived")
	m.waits.WithLabelValues("timeout")
	if reg == nil {
		return m, nil
	}
	pods := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "skiff_enrich_pods",
		Help: "Pods in the metadata cache, including deleted pods kept for the grace period.",
	}, func() float64 { live, deleted := s.counts(); return float64(live + deleted) })
	deleted := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "skiff_enrich_deleted_pods",
		Help: "Deleted pods whose metadata is kept for the grace period.",
	}, func() float64 { _, deleted := s.counts(); return float64(deleted) })
	for _, c := range []prometheus.Collector{m.lookups, m.noUID, m.waits, m.excluded, m.invalid,
		m.watchRestarts, m.watchErrors, m.watchUp, m.podEvents, pods, deleted} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register enrich metrics: %w", err)
		}
	}
	return m, nil
}
