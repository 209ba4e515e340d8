package cwlocal

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Faults are the failures the server injects into API requests. The zero
// value injects nothing. Faults apply to authenticated requests for known
// operations, after the signature check and before the operation runs, in
// this order: dropped connection, latency, outage, error rate, failed
// attempts, throttling, denied log groups.
type Faults struct {
	// ErrorRate is the probability in [0, 1] that a request fails with
	// ServiceUnavailableException (HTTP 500).
	ErrorRate float64 `json:"error_rate,omitempty"`
	// Outage fails every request with ServiceUnavailableException while true.
	Outage bool `json:"outage,omitempty"`
	// OutageUntil fails every request with ServiceUnavailableException until
	// this time (a time window); the zero time means no window.
	OutageUntil time.Time `json:"outage_until,omitzero"`
	// Latency is added before each response.
	Latency time.Duration `json:"-"`
	// DropRate is the probability in [0, 1] that the connection is closed
	// without a response.
	DropRate float64 `json:"drop_rate,omitempty"`
	// FailAttempts fails the first N attempts of each call with
	// ServiceUnavailableException, read from the SDK's Amz-Sdk-Request
	// "attempt=N" header (requests without it are not affected).
	FailAttempts int `json:"fail_attempts,omitempty"`
	// Throttle answers ThrottlingException "Rate exceeded" above the
	// service's per-account quotas (PutLogEvents 5,000/s, CreateLogStream 50/s, CreateLogGroup 10/s, …).
	Throttle bool `json:"throttle,omitempty"`
	// ThrottleRate is the probability in [0, 1] of a ThrottlingException
	// regardless of the rate.
	ThrottleRate float64 `json:"throttle_rate,omitempty"`
	// Quotas replaces the per-account quotas (requests per second) that
	// Throttle enforces, per operation, e.g. {"PutLogEvents": 100}.
	Quotas map[string]float64 `json:"quotas,omitempty"`
	// DenyGroups answers AccessDeniedException, as the service does when the
	// caller's IAM policy does not cover a log group, to every request that
	// names one of these log groups (logGroupName), whatever Operations says.
	DenyGroups []string `json:"deny_groups,omitempty"`
	// Operations limits the other faults to these operations (e.g.
	// "PutLogEvents"); empty means every operation.
	Operations []string `json:"operations,omitempty"`
	// Seed, when not zero, draws DropRate, ErrorRate and ThrottleRate from
	// one random sequence started by SetFaults: whichever requests arrive,
	// the n-th draw is the same in every run, so the number of attempts a
	// number of successes takes is too.
	Seed uint64 `json:"seed,omitempty"`
}

// faultsJSON is Faults on the control API: durations as Go duration strings,
// plus outage_for as a shorthand for a window starting now.
type faultsJSON struct {
	Faults
	Latency   string `json:"latency,omitempty"`
	OutageFor string `json:"outage_for,omitempty"`
}

// quotas are the service's default per-account, per-Region request rates
// (requests per second) enforced when Faults.Throttle is set.
var quotas = map[string]float64{
	"PutLogEvents":       5000,
	"CreateLogStream":    50,
	"CreateLogGroup":     10,
	"DeleteLogGroup":     10,
	"DeleteLogStream":    15,
	"DescribeLogGroups":  10,
	"DescribeLogStreams": 25,
	"PutRetentionPolicy": 5,
	// DeleteRetentionPolicy has no published quota; it shares PutRetentionPolicy's.
	"DeleteRetentionPolicy": 5,
	"GetLogEvents":          25,
	"FilterLogEvents":       10,
}

type faultState struct {
	mu      sync.Mutex
	f       Faults
	buckets map[string]*bucket
	rng     *rand.Rand // the draws when f.Seed is set
}

// bucket is a token bucket holding at most one second of a quota.
type bucket struct {
	tokens float64
	last   time.Time
}

func newFaultState(f Faults) *faultState {
	fs := &faultState{buckets: make(map[string]*bucket)}
	fs.set(f)
	return fs
}

// set replaces the faults; the caller holds mu or owns fs.
func (fs *faultState) set(f Faults) {
	fs.f = f
	fs.rng = nil
	if f.Seed != 0 {
		fs.rng = rand.New(rand.NewPCG(f.Seed, f.Seed))
	}
}

// chance draws true with probability p, from the seeded sequence when
// there is one.
func (fs *faultState) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.rng != nil {
		return fs.rng.Float64() < p
	}
	return rand.Float64() < p
}

// SetFaults replaces the injected faults; it applies to requests that arrive
// after it returns.
func (s *Server) SetFaults(f Faults) {
	s.faults.mu.Lock()
	s.faults.set(f)
	s.faults.mu.Unlock()
}

// Faults returns the faults in effect.
func (s *Server) Faults() Faults {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.f
}

// injectFaults applies the faults to one request of operation op with
// body. A dropped connection aborts the handler (http.ErrAbortHandler).
func (s *Server) injectFaults(r *http.Request, op string, body []byte) *apiError {
	fs := s.faults
	now := s.now()
	fs.mu.Lock()
	f := fs.f
	if len(f.DenyGroups) > 0 {
		if aerr := s.deny(f.DenyGroups, op, body); aerr != nil {
			fs.mu.Unlock()
			s.metrics.faults.WithLabelValues("deny").Inc()
			return aerr
		}
	}
	if len(f.Operations) > 0 && !slices.Contains(f.Operations, op) {
		fs.mu.Unlock()
		return nil
	}
	throttled := f.Throttle && !fs.take(op, now, f.Quotas)
	fs.mu.Unlock()

	if fs.chance(f.DropRate) {
		s.metrics.faults.WithLabelValues("drop").Inc()
		panic(http.ErrAbortHandler)
	}
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if f.Outage || now.Before(f.OutageUntil) {
		s.metrics.faults.WithLabelValues("outage").Inc()
		return errUnavailable
	}
	if fs.chance(f.ErrorRate) {
		s.metrics.faults.WithLabelValues("error").Inc()
		return errUnavailable
	}
	if f.FailAttempts > 0 && attempt(r) > 0 && attempt(r) <= f.FailAttempts {
		s.metrics.faults.WithLabelValues("attempt").Inc()
		return errUnavailable
	}
	if throttled || fs.chance(f.ThrottleRate) {
		s.metrics.faults.WithLabelValues("throttle").Inc()
		return errThrottled
	}
	return nil
}

// take takes one token of op's quota; false means the request is over it.
func (fs *faultState) take(op string, now time.Time, override map[string]float64) bool {
	rate, ok := override[op]
	if !ok {
		rate, ok = quotas[op]
	}
	if !ok {
		return true
	}
	b := fs.buckets[op]
	if b == nil {
		b = &bucket{tokens: rate, last: now}
		fs.buckets[op] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(rate, b.tokens+d.Seconds()*rate)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// deny returns the service's AccessDeniedException when body names one of
// the denied log groups, or nil.
func (s *Server) deny(groups []string, op string, body []byte) *apiError {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
	}
	if json.Unmarshal(body, &in) != nil || !slices.Contains(groups, in.LogGroupName) {
		return nil
	}
	return errAccessDenied(s.opts.Region, op, in.LogGroupName, in.LogStreamName)
}

// attempt reads the SDK's attempt counter from "Amz-Sdk-Request: attempt=2; max=3"; 0 when absent.
func attempt(r *http.Request) int {
	for part := range strings.SplitSeq(r.Header.Get("Amz-Sdk-Request"), ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// serveControl serves the control API:
//
//	GET  /_cwlocal/faults   the faults in effect, as JSON
//	POST /_cwlocal/faults   replace them, e.g. {"error_rate":0.1,"latency":"50ms","outage_for":"60s"}
//	GET  /_cwlocal/health   200 "ok"
func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	switch strings.TrimPrefix(r.URL.Path, controlPath) {
	case "health":
		w.Write([]byte("\"ok\"\n"))
	case "faults":
		switch r.Method {
		case http.MethodGet:
		case http.MethodPost, http.MethodPut:
			var in faultsJSON
			dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&in); err != nil {
				controlError(w, http.StatusBadRequest, fmt.Sprintf("decode faults: %v", err))
				return
			}
			f, err := in.toFaults(s.now())
			if err != nil {
				controlError(w, http.StatusBadRequest, err.Error())
				return
			}
			s.SetFaults(f)
			s.log.Info("cwlocal: faults set", "faults", fmt.Sprintf("%+v", f))
		default:
			controlError(w, http.StatusMethodNotAllowed, "use GET or POST")
			return
		}
		f := s.Faults()
		out := faultsJSON{Faults: f}
		if f.Latency > 0 {
			out.Latency = f.Latency.String()
		}
		json.NewEncoder(w).Encode(out)
	default:
		controlError(w, http.StatusNotFound, "unknown control endpoint; see /_cwlocal/faults")
	}
}

func (in faultsJSON) toFaults(now time.Time) (Faults, error) {
	f := in.Faults
	if in.Latency != "" {
		d, err := time.ParseDuration(in.Latency)
		if err != nil || d < 0 {
			return f, fmt.Errorf("latency %q: want a duration like 50ms", in.Latency)
		}
		f.Latency = d
	}
	if in.OutageFor != "" {
		d, err := time.ParseDuration(in.OutageFor)
		if err != nil || d < 0 {
			return f, fmt.Errorf("outage_for %q: want a duration like 60s", in.OutageFor)
		}
		f.OutageUntil = now.Add(d)
	}
	for name, p := range map[string]float64{"error_rate": f.ErrorRate, "drop_rate": f.DropRate, "throttle_rate": f.ThrottleRate} {
		if p < 0 || p > 1 {
			return f, fmt.Errorf("%s %v: want a probability in [0, 1]", name, p)
		}
	}
	return f, nil
}

func controlError(w http.ResponseWriter, status int, msg string) {
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
