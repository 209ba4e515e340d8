package cloudwatch

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go"

	"github.com/skiff-agent/skiff/sinks"
)

// class is what an API error means for the sink.
type class uint8

const (
	classOK       class = iota
	classNotFound       // the group or stream is missing: create, then put again
	classInvalid        // the request itself is refused: split to isolate the event
	classThrottle       // over a quota: slow the rate, retry
	classServer         // 5xx: retry
	classAuth           // the credentials are refused: retry
	classDest           // the destination refuses (IAM policy, KMS key): pause it
	classOther          // transient (network, timeout, unknown): retry
)

// Error codes the sink acts on.
const (
	codeNotFound      = "ResourceNotFoundException"
	codeAlreadyExists = "ResourceAlreadyExistsException"
	codeAccessDenied  = "AccessDeniedException"
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
		if kmsError(code, ae.ErrorMessage()) {
			return classDest, code
		}
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
		case codeAccessDenied:
			return classDest, code
		case "UnrecognizedClientException", "ExpiredTokenException", "InvalidSignatureException",
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

// kmsError reports whether an error is about the log group's KMS key
// (disabled, deleted, or not usable by the service): only a change to the
// key fixes it.
func kmsError(code, msg string) bool {
	return strings.HasPrefix(strings.ToUpper(code), "KMS") ||
		(code == "InvalidParameterException" || code == codeAccessDenied) && strings.Contains(strings.ToUpper(msg), "KMS")
}

// destReason is the reason label of a destination's error.
func destReason(err error) string {
	if errors.Is(err, errGroupNotCreated) {
		return reasonGroupMissing
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && kmsError(ae.ErrorCode(), ae.ErrorMessage()) {
		return reasonKMS
	}
	return reasonAccessDenied
}

// endpointFailure reports whether an error of class c says the endpoint
// is failing (rather than one request, or one destination).
func (c class) endpointFailure() bool {
	return c == classServer || c == classAuth || c == classOther
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

// result is how deliver ended.
type result uint8

const (
	resultDone      result = iota // accepted, or dropped for a counted reason
	resultCancelled               // ctx ended first
	resultPaused                  // the destination refuses: pause it
)

// Reasons of skiff_output_retries_total and of the destination errors.
const (
	reasonThrottle     = "throttle"
	reasonServer       = "server"
	reasonNetwork      = "network"
	reasonAuth         = "auth"
	reasonCreate       = "create"
	reasonOther        = "other"
	reasonAccessDenied = "access_denied"
	reasonKMS          = "kms"
	reasonGroupMissing = "group_missing"
)

// retryReason is the reason label of a retry after an error of class cls
// with status.
func retryReason(cls class, status string) string {
	switch {
	case cls == classThrottle:
		return reasonThrottle
	case cls == classServer:
		return reasonServer
	case cls == classAuth:
		return reasonAuth
	case status == statusNetwork:
		return reasonNetwork
	}
	return reasonOther
}

// deliver puts evs (a sorted run of b's events) until CloudWatch accepted
// them, they were dropped for a counted reason (resultDone), ctx ended
// (resultCancelled) or the destination refused them for a reason that
// retrying soon cannot fix (resultPaused, with the error). Waits end with
// ctx; requests run under reqCtx, which outlives ctx by a grace period so
// that an answer on its way is not thrown away.
func (s *sender) deliver(ctx, reqCtx context.Context, b *batch, evs []event, start time.Time) (result, error) {
	d := b.d
	justCreated := false
	for attempt := 0; ; attempt++ {
		probe, err := s.health.admit(ctx)
		if err != nil {
			return resultCancelled, nil
		}
		if s.waitPace(ctx) != nil || s.lim.acquire(ctx) != nil {
			s.health.neutral(probe)
			return resultCancelled, nil
		}
		gen := d.gen.Load()
		t0 := time.Now()
		out, err := s.put(reqCtx, b, evs)
		lat := time.Since(t0)
		cls, status := classify(err)
		if cls != classOK && ctx.Err() != nil {
			// Shutting down: no more attempts; the records are read again.
			s.lim.release(outcomeOther, lat)
			s.health.neutral(probe)
			return resultCancelled, nil
		}
		s.observe("PutLogEvents", cls, status, lat)
		s.pace.done(cls == classThrottle)
		reason := retryReason(cls, status)
		var delay time.Duration
		switch cls {
		case classOK:
			s.lim.release(outcomeOK, lat)
			s.health.success(probe)
			if attempt > 0 {
				s.logEveryAt(slog.LevelInfo, "recovered", "PutLogEvents succeeds again", "group", d.group, "stream", d.stream,
					"attempts", attempt+1, "since", time.Since(start).Round(time.Millisecond))
			}
			s.accepted(b, evs, out)
			return resultDone, nil
		case classDest:
			s.lim.release(outcomeOther, lat)
			s.health.neutral(probe)
			return resultPaused, err
		case classNotFound:
			s.lim.release(outcomeOther, lat)
			s.health.neutral(probe)
			if justCreated {
				// Created a moment ago and missing again: retry.
				delay = s.fast(attempt)
				break
			}
			cerr := s.ensureStream(reqCtx, d, gen, groupMissing(err))
			if cerr == nil {
				// The put after creating the stream is the planned second
				// step of put-first, not a retry of a failure.
				justCreated = true
				attempt--
				continue
			}
			if ctx.Err() != nil {
				return resultCancelled, nil
			}
			ccls, _ := classify(cerr)
			if ccls == classDest || errors.Is(cerr, errGroupNotCreated) {
				return resultPaused, cerr
			}
			err, reason = cerr, reasonCreate
			if !ccls.endpointFailure() || !s.health.failure(false) {
				delay = s.fast(attempt)
			}
		case classInvalid:
			s.lim.release(outcomeOther, lat)
			s.health.success(probe) // the endpoint answered
			if len(evs) == 1 {
				s.m.Dropped.WithLabelValues(sinks.DropInvalid).Inc()
				s.m.Errors.WithLabelValues(sinks.DropInvalid).Inc()
				s.logEvery("invalid", "CloudWatch refused an event; dropped it", "group", d.group, "stream", d.stream,
					"bytes", evs[0].n, "err", err)
				return resultDone, nil
			}
			mid := len(evs) / 2
			if r, err := s.deliver(ctx, reqCtx, b, evs[:mid], start); r != resultDone {
				return r, err
			}
			return s.deliver(ctx, reqCtx, b, evs[mid:], start)
		case classThrottle:
			// A quota, not a failure: the pacer lowers the rate when
			// throttling is dense; the retry goes at once through it.
			s.lim.release(outcomeOther, lat)
			s.health.neutral(probe)
			delay = jitter(time.Millisecond, s.opts.curves.fastBase, 0)
		default: // 5xx, network, credentials
			if cls == classAuth {
				s.logEvery("auth", "CloudWatch refused the credentials or permissions; retrying (fix the IAM role or credentials)",
					"group", d.group, "stream", d.stream, "err", err)
			} else {
				s.logEvery(status, "PutLogEvents failed; retrying", "group", d.group, "stream", d.stream, "err", err)
			}
			if s.health.failure(probe) {
				// Correlated: the endpoint is down. admit holds the retry
				// until a probe succeeds.
				s.lim.release(outcomeCongested, lat)
			} else {
				s.lim.release(outcomeOther, lat)
				delay = s.fast(attempt)
			}
		}
		justCreated = false
		s.m.Errors.WithLabelValues(reason).Inc()
		if s.cfg.MaxRetryDuration > 0 && time.Since(start) >= s.cfg.MaxRetryDuration {
			s.m.RetriesFailed.Inc()
			s.m.Dropped.WithLabelValues(sinks.DropRetryTimeout).Add(float64(len(evs)))
			s.logEvery("retry_timeout", "gave up on a batch after max_retry_duration; dropped it",
				"group", d.group, "stream", d.stream, "events", len(evs), "err", err)
			return resultDone, nil
		}
		s.m.Retries.WithLabelValues(reason).Inc()
		d.retrying.Store(true)
		if delay > 0 && s.sleep(ctx, delay) != nil {
			return resultCancelled, nil
		}
	}
}

// accepted counts what CloudWatch took and what it rejected inside a 200.
func (s *sender) accepted(b *batch, evs []event, out *cloudwatchlogs.PutLogEventsOutput) {
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
	run, runNS := 0, uint16(0) // consecutive events of one namespace: one Add
	for i, e := range evs[tooOld+expired : n-tooNew] {
		bytes += int(e.n)
		if i > 0 && e.ns != runNS {
			s.cm.cost.add(runNS, run)
			run = 0
		}
		run, runNS = run+int(e.n)+EventOverhead, e.ns
	}
	if run > 0 {
		s.cm.cost.add(runNS, run)
	}
	s.m.ProcRecords.Add(float64(n - tooOld - expired - tooNew))
	s.m.ProcBytes.Add(float64(bytes))
}
