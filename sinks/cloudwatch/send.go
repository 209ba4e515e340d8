package cloudwatch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"

	"github.com/skiff-agent/skiff/sinks"
)

// class is what an API error means for the sink.
type class uint8

const (
	classOK       class = iota
	classNotFound       // the group or stream is missing: create, then put again
	classInvalid        // the request itself is refused: split to isolate the event
	classThrottle       // slow down and retry
	classServer         // 5xx: slow down and retry
	classAuth           // credentials or permissions: say so, retry slowly
	classOther          // transient (network, timeout, unknown): retry
)

// Error codes the sink acts on.
const (
	codeNotFound      = "ResourceNotFoundException"
	codeAlreadyExists = "ResourceAlreadyExistsException"
	statusOK          = "ok"
	statusNetwork     = "network"
)

// classify maps an SDK error to a class and the status label for metrics.
// It branches on error code strings, which works across SDK versions.
func classify(err error) (class, string) {
	if err == nil {
		return classOK, statusOK
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		switch code {
		case codeNotFound:
			return classNotFound, code
		case "InvalidParameterException", "SerializationException":
			return classInvalid, code
		case "DataAlreadyAcceptedException":
			return classOK, code
		case "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottled", "RequestThrottledException",
			"TooManyRequestsException", "RequestLimitExceeded", "LimitExceededException", "SlowDown":
			return classThrottle, code
		case "ServiceUnavailableException", "InternalFailure", "InternalServerError":
			return classServer, code
		case "AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException", "InvalidSignatureException",
			"IncompleteSignature", "MissingAuthenticationToken", "InvalidClientTokenId", "SignatureDoesNotMatch":
			return classAuth, code
		}
		if st := httpStatus(err); st >= 500 {
			return classServer, code
		} else if st == 429 {
			return classThrottle, code
		}
		return classOther, code
	}
	if st := httpStatus(err); st >= 500 {
		return classServer, "http_5xx"
	}
	return classOther, statusNetwork
}

// groupMissing reports whether a ResourceNotFoundException names the log
// group ("The specified log group does not exist.") rather than the stream.
func groupMissing(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.Contains(ae.ErrorMessage(), "log group")
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func (c class) outcome() outcome {
	switch c {
	case classOK:
		return outcomeOK
	case classThrottle, classServer:
		return outcomeCongested
	}
	return outcomeOther
}

// observe records one API call.
func (s *Sink) observe(op string, cls class, status string, d time.Duration) {
	s.cm.requests.WithLabelValues(op, status).Inc()
	s.cm.latency.WithLabelValues(op).Observe(d.Seconds())
	if cls == classThrottle {
		s.cm.throttles.Inc()
	}
}

// send delivers b and acknowledges it. When ctx ends first, b stays
// unacknowledged and its budget held.
func (s *Sink) send(ctx context.Context, b *batch) {
	if !s.deliver(ctx, b, b.events, time.Now()) {
		return
	}
	s.mu.Lock()
	b.d.pending--
	b.d.lastUsed = time.Now()
	s.mu.Unlock()
	b.acks.Done()
	s.b.Release(b.charge)
	b.recycle()
}

// deliver puts evs (a sorted run of b's events) until CloudWatch accepted
// them, or they were dropped for a counted reason. It returns false only
// when ctx ended first.
func (s *Sink) deliver(ctx context.Context, b *batch, evs []event, start time.Time) bool {
	d := b.d
	justCreated := false
	for attempt := 0; ; attempt++ {
		if err := s.lim.acquire(ctx); err != nil {
			return false
		}
		gen := d.gen.Load()
		t0 := time.Now()
		out, err := s.put(ctx, b, evs)
		lat := time.Since(t0)
		if ctx.Err() != nil {
			s.lim.release(outcomeOther, lat)
			return false
		}
		cls, status := classify(err)
		s.observe("PutLogEvents", cls, status, lat)
		s.lim.release(cls.outcome(), lat)
		switch cls {
		case classOK:
			if attempt > 0 {
				s.logEveryAt(slog.LevelInfo, "recovered", "PutLogEvents succeeds again", "group", d.group, "stream", d.stream,
					"attempts", attempt+1, "since", time.Since(start).Round(time.Millisecond))
			}
			s.accepted(b, evs, out)
			return true
		case classNotFound:
			if !justCreated {
				if cerr := s.ensureStream(ctx, d, gen, groupMissing(err)); cerr == nil {
					// The put after creating the stream is the planned second
					// step of put-first, not a retry of a failure.
					justCreated = true
					attempt--
					continue
				} else {
					err, cls = cerr, classAuth // slow curve
				}
			}
		case classInvalid:
			if len(evs) == 1 {
				s.m.Dropped.WithLabelValues(sinks.DropInvalid).Inc()
				s.logEvery("invalid", "CloudWatch refused an event; dropped it", "group", d.group, "stream", d.stream,
					"bytes", evs[0].n, "err", err)
				return true
			}
			mid := len(evs) / 2
			return s.deliver(ctx, b, evs[:mid], start) && s.deliver(ctx, b, evs[mid:], start)
		case classAuth:
			s.logEvery("auth", "CloudWatch refused the credentials or permissions; retrying (fix the IAM role or credentials)",
				"group", d.group, "stream", d.stream, "err", err)
		default:
			s.logEvery(status, "PutLogEvents failed; retrying", "group", d.group, "stream", d.stream, "err", err)
		}
		justCreated = false
		if s.cfg.MaxRetryDuration > 0 && time.Since(start) >= s.cfg.MaxRetryDuration {
			s.m.Dropped.WithLabelValues(sinks.DropRetryTimeout).Add(float64(len(evs)))
			s.logEvery("retry_timeout", "gave up on a batch after max_retry_duration; dropped it",
				"group", d.group, "stream", d.stream, "events", len(evs), "err", err)
			return true
		}
		s.m.Retries.Inc()
		kick := s.kicked()
		t := time.NewTimer(s.backoff(cls, attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-kick: // shutting down: try again now
			t.Stop()
		case <-t.C:
		}
	}
}

// backoff returns a full-jitter exponential delay for the attempt'th retry.
func (s *Sink) backoff(cls class, attempt int) time.Duration {
	base, ceil := s.fastBase, s.fastMax
	if cls == classThrottle || cls == classServer || cls == classAuth {
		base, ceil = s.slowBase, s.slowMax
	}
	d := ceil
	if attempt < 30 {
		d = min(ceil, base<<attempt)
	}
	return rand.N(d) + time.Millisecond
}

// logEvery logs msg at most once a minute per key.
func (s *Sink) logEvery(key, msg string, args ...any) {
	s.logEveryAt(slog.LevelWarn, key, msg, args...)
}

func (s *Sink) logEveryAt(level slog.Level, key, msg string, args ...any) {
	now := time.Now()
	if v, ok := s.logTimes.Load(key); ok && now.Sub(v.(time.Time)) < time.Minute {
		return
	}
	s.logTimes.Store(key, now)
	s.log.Log(context.Background(), level, msg, args...)
}

// put sends one PutLogEvents request for evs. The body is written from
// the batch's escaped messages by putSerializer; the SDK's own serializer
// (sdkSerializer, for comparison) gets the messages decoded.
func (s *Sink) put(ctx context.Context, b *batch, evs []event) (*cloudwatchlogs.PutLogEventsOutput, error) {
	in := &cloudwatchlogs.PutLogEventsInput{
		LogGroupName:  aws.String(b.d.group),
		LogStreamName: aws.String(b.d.stream),
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	defer cancel()
	if s.sdkSerializer {
		in.LogEvents = make([]types.InputLogEvent, len(evs))
		for i := range evs {
			var msg string
			if err := json.Unmarshal(slices.Concat([]byte{'"'}, b.escaped(evs[i]), []byte{'"'}), &msg); err != nil {
				return nil, fmt.Errorf("decode event: %w", err)
			}
			in.LogEvents[i] = types.InputLogEvent{Message: &msg, Timestamp: &evs[i].ts}
		}
		return s.api.PutLogEvents(actx, in)
	}
	in.LogEvents = []types.InputLogEvent{} // the body carries them
	buf := bodyPool.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= 2*MaxBatchBytes+MaxBatchBytes/2 {
			*buf = (*buf)[:0]
			bodyPool.Put(buf)
		}
	}()
	*buf = appendPutBody((*buf)[:0], b, evs)
	return s.api.PutLogEvents(actx, in, withBody(*buf))
}

// accepted counts what CloudWatch took and what it rejected inside a 200.
func (s *Sink) accepted(b *batch, evs []event, out *cloudwatchlogs.PutLogEventsOutput) {
	n := len(evs)
	var tooOld, expired, tooNew int
	if out != nil && out.RejectedLogEventsInfo != nil {
		ri := out.RejectedLogEventsInfo
		idx := func(p *int32) int { return min(max(int(*p), 0), n) }
		if ri.TooOldLogEventEndIndex != nil {
			tooOld = idx(ri.TooOldLogEventEndIndex)
		}
		if ri.ExpiredLogEventEndIndex != nil {
			expired = max(0, idx(ri.ExpiredLogEventEndIndex)-tooOld)
		}
		if ri.TooNewLogEventStartIndex != nil {
			tooNew = n - max(idx(ri.TooNewLogEventStartIndex), tooOld+expired)
		}
	}
	for _, r := range []struct {
		reason string
		n      int
	}{{sinks.DropRejectedOld, tooOld}, {sinks.DropRejectedExpir, expired}, {sinks.DropRejectedNew, tooNew}} {
		if r.n > 0 {
			s.cm.rejected.WithLabelValues(r.reason).Add(float64(r.n))
			s.m.Dropped.WithLabelValues(r.reason).Add(float64(r.n))
		}
	}
	if rej := tooOld + expired + tooNew; rej > 0 {
		now := time.Now().UnixNano()
		last := b.d.lastReject.Load()
		if now-last >= int64(time.Minute) && b.d.lastReject.CompareAndSwap(last, now) {
			s.log.Warn("CloudWatch rejected events (outside its time window); counted and dropped",
				"group", b.d.group, "stream", b.d.stream, "too_old", tooOld, "expired", expired, "too_new", tooNew)
		}
	}
	bytes := 0
	for _, e := range evs[tooOld+expired : n-tooNew] {
		bytes += int(e.n)
	}
	s.m.ProcRecords.Add(float64(n - tooOld - expired - tooNew))
	s.m.ProcBytes.Add(float64(bytes))
}
