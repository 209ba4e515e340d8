package enrich

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"

	"github.com/go-logr/logr"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
)

// watchState follows the health of one informer's list and watch requests,
// logs one line per change of state and keeps the metrics.
type watchState struct {
	resource string
	log      *slog.Logger
	m        *metrics

	mu      sync.Mutex
	state   string
	lastErr error // the last failed request's error, until failed sees it
}

func newWatchState(resource string, log *slog.Logger, m *metrics) *watchState {
	m.watchUp.WithLabelValues(resource).Set(0)
	return &watchState{resource: resource, log: log, m: m, state: stateStarting}
}

// listWatch lists and watches through api with the field selector, and
// reports every request's outcome to w. api's view of watch-list support
// is kept, so the fake clientset gets plain lists.
func (w *watchState) listWatch(api ListWatcher, fieldSelector string) cache.ListerWatcher {
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			opts.FieldSelector = fieldSelector
			obj, err := api.List(ctx, opts)
			w.request(err)
			return obj, err
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			opts.FieldSelector = fieldSelector
			wi, err := api.Watch(ctx, opts)
			w.request(err)
			return wi, err
		},
	}
	return cache.ToListWatcherWithWatchListSemantics(lw, api)
}

// request records the outcome of a list or watch request: success brings
// the state back to ok, a failure is counted and may change the state.
// client-go retries some failed watches (connection refused) without
// ending the list-and-watch, so failed is not told about those.
func (w *watchState) request(err error) {
	if err == nil {
		w.set(stateOK, nil)
		return
	}
	reason := classify(err)
	w.m.watchErrors.WithLabelValues(w.resource, reason).Inc()
	w.mu.Lock()
	w.lastErr = err
	w.mu.Unlock()
	w.change(reason, err)
}

// failed is the informer's watch error handler: called whenever a
// list-and-watch ends with an error, before client-go backs off and starts
// it again.
func (w *watchState) failed(_ context.Context, _ *cache.Reflector, err error) {
	w.m.watchRestarts.WithLabelValues(w.resource).Inc()
	w.mu.Lock()
	counted := w.lastErr != nil && errors.Is(err, w.lastErr)
	w.lastErr = nil
	w.mu.Unlock()
	reason := classify(err)
	if !counted {
		w.m.watchErrors.WithLabelValues(w.resource, reason).Inc()
	}
	w.change(reason, err)
}

// change applies the state an error of the given reason means. Routine
// ends of a watch (closed, expired) leave the state alone.
func (w *watchState) change(reason string, err error) {
	switch reason {
	case reasonClosed, reasonExpired:
		w.log.Debug("watch restarted", "resource", w.resource, "reason", reason, "err", err)
	default:
		w.set(reason, err)
	}
}

// set moves to state, logging and updating the gauge on a change.
func (w *watchState) set(state string, err error) {
	w.mu.Lock()
	prev := w.state
	w.state = state
	w.mu.Unlock()
	if prev == state {
		return
	}
	if state == stateOK {
		w.m.watchUp.WithLabelValues(w.resource).Set(1)
		if prev == stateStarting {
			w.log.Info("watching the API server", "resource", w.resource)
		} else {
			w.log.Info("API server reachable again; metadata resumes", "resource", w.resource, "was", prev)
		}
		return
	}
	w.m.watchUp.WithLabelValues(w.resource).Set(0)
	w.log.Warn("cannot list or watch; records ship with what is cached or with path metadata, retrying with backoff",
		"resource", w.resource, "state", state, "err", err)
}

// current returns the state: starting, ok, forbidden, unauthorized,
// unavailable or error.
func (w *watchState) current() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

// classify names the reason an informer's list-and-watch ended. Errors
// that are not answers of the API server (refused connections, TLS or
// HTTP/2 failures, timeouts) mean it is unavailable.
func classify(err error) string {
	var status apierrors.APIStatus
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return reasonClosed
	case apierrors.IsResourceExpired(err), apierrors.IsGone(err):
		return reasonExpired
	case apierrors.IsForbidden(err):
		return stateForbidden
	case apierrors.IsUnauthorized(err):
		return stateUnauthorized
	case !errors.As(err, &status),
		apierrors.IsServiceUnavailable(err), apierrors.IsTimeout(err), apierrors.IsServerTimeout(err),
		apierrors.IsTooManyRequests(err), apierrors.IsInternalError(err):
		return stateUnavailable
	}
	return stateError
}

// clientLogContext gives client-go's contextual logging a logger that
// writes to log at debug level only: the Enricher itself reports the state
// changes that matter, once each.
func clientLogContext(ctx context.Context, log *slog.Logger) context.Context {
	return klog.NewContext(ctx, logr.FromSlogHandler(debugHandler{log.Handler()}))
}

// debugHandler lowers every record to debug level.
type debugHandler struct{ slog.Handler }

func (h debugHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return h.Handler.Enabled(ctx, slog.LevelDebug)
}

func (h debugHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return h.Handler.Handle(ctx, r)
}

func (h debugHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return debugHandler{h.Handler.WithAttrs(as)}
}

func (h debugHandler) WithGroup(name string) slog.Handler {
	return debugHandler{h.Handler.WithGroup(name)}
}
