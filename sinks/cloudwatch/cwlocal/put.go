package cwlocal

import (
	"fmt"
	"strconv"
	"sync"
	"unsafe"
)

// PutLogEvents limits, as the service enforces them.
const (
	// MaxBatchBytes is the largest batch: message bytes + 26 per event.
	MaxBatchBytes = 1_048_576
	// MaxBatchEvents is the most events in one batch.
	MaxBatchEvents = 10_000
	// MaxEventBytes is the largest event (message bytes + 26).
	MaxEventBytes = 1_048_576
	// MaxBatchSpanMillis is the longest time span between the valid events of a batch.
	MaxBatchSpanMillis = 24 * 60 * 60 * 1000
	// MaxAgeMillis is how old an event may be before it is rejected as too old.
	MaxAgeMillis = 14 * 24 * 60 * 60 * 1000
	// MaxFutureMillis is how far in the future an event may be before it is rejected as too new.
	MaxFutureMillis = 2 * 60 * 60 * 1000
)

// inEvent is a decoded event; msg aliases the request body or the scratch buffer.
type inEvent struct {
	ts    int64
	msg   []byte
	hasTS bool
	hasM  bool
}

// putRequest is a decoded PutLogEvents request.
type putRequest struct {
	group, stream []byte
	hasGroup      bool
	hasStream     bool
	hasEvents     bool
	events        []inEvent
	scratch       []byte
}

var putPool = sync.Pool{New: func() any { return new(putRequest) }}

// decodePut reads a PutLogEvents body with the fast scanner. sequenceToken
// and entity are read for syntax and ignored.
func decodePut(body []byte, req *putRequest) error {
	if cap(req.scratch) < len(body)+8 {
		req.scratch = make([]byte, 0, len(body)+8)
	}
	sc := scanner{in: body, out: req.scratch[:0]}
	err := sc.object(func(key []byte) error {
		switch string(key) {
		case "logGroupName":
			return sc.optString(&req.group, &req.hasGroup)
		case "logStreamName":
			return sc.optString(&req.stream, &req.hasStream)
		case "logEvents":
			if sc.null() {
				return nil
			}
			req.hasEvents = true
			return sc.array(func() error {
				req.events = append(req.events, inEvent{})
				e := &req.events[len(req.events)-1]
				if sc.null() {
					return nil
				}
				return sc.object(func(key []byte) error {
					switch string(key) {
					case "timestamp":
						if sc.null() {
							return nil
						}
						v, err := sc.int64()
						e.ts, e.hasTS = v, err == nil
						return err
					case "message":
						return sc.optString(&e.msg, &e.hasM)
					}
					return sc.skip()
				})
			})
		}
		return sc.skip()
	})
	if err == nil {
		err = sc.end()
	}
	return err
}

// optString reads a string or null into *dst.
func (s *scanner) optString(dst *[]byte, has *bool) error {
	if s.null() {
		return nil
	}
	v, err := s.str()
	*dst, *has = v, err == nil
	return err
}

func (req *putRequest) reset() {
	*req = putRequest{events: req.events[:0], scratch: req.scratch[:0]}
}

// putLogEvents implements PutLogEvents in the service's order of checks.
func (s *Server) putLogEvents(body []byte) ([]byte, *apiError) {
	req := putPool.Get().(*putRequest)
	defer func() {
		if cap(req.events) <= 2*MaxBatchEvents && cap(req.scratch) <= 2*MaxBodyBytes {
			req.reset()
			putPool.Put(req)
		}
	}()
	req.reset()
	if err := decodePut(body, req); err != nil {
		return nil, errSerialization("%v", err)
	}
	if aerr := req.validate(); aerr != nil {
		return nil, aerr
	}
	evs := req.events
	var total, tooLarge int64 // tooLarge: the size of the first event over the limit
	for i := range evs {
		n := int64(len(evs[i].msg)) + eventOverhead
		total += n
		if n > MaxEventBytes && tooLarge == 0 {
			tooLarge = n
		}
	}

	now := s.nowMillis()
	st := s.store
	st.mu.Lock()
	g := st.groups[string(req.group)]
	if g == nil {
		st.mu.Unlock()
		return nil, errGroupNotFound
	}
	stm := g.streams[string(req.stream)]
	if stm == nil {
		st.mu.Unlock()
		return nil, errStreamNotFound
	}
	aerr := checkBatch(evs, total, tooLarge)
	var rej rejected
	var valid []inEvent
	var accepted int64
	if aerr == nil {
		rej = partition(evs, now, g.retention)
		valid = evs[rej.validStart():rej.validEnd(len(evs))]
		if len(valid) > 0 && valid[len(valid)-1].ts-valid[0].ts > MaxBatchSpanMillis {
			aerr = errInvalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
		}
		for i := range valid {
			accepted += int64(len(valid[i].msg)) + eventOverhead
		}
	}
	if aerr == nil && !st.discard && st.bytes+accepted > st.maxBytes {
		aerr = st.errFull(accepted)
		s.warnFull(aerr)
	}
	if aerr != nil {
		st.mu.Unlock()
		return nil, aerr
	}
	st.appendEvents(g, stm, valid, now)
	token := st.nextSeq()
	if aerr := s.journalPut(g.name, stm.name, valid, now); aerr != nil {
		st.mu.Unlock()
		return nil, aerr
	}
	st.mu.Unlock()

	s.metrics.events.Add(float64(len(valid)))
	s.metrics.bytes.Add(float64(accepted - eventOverhead*int64(len(valid))))
	rej.count(s.metrics, len(evs))
	if s.opts.OnPut != nil && len(valid) > 0 {
		s.opts.OnPut(g.name, stm.name, toEvents(valid, now))
	}
	return rej.response(token), nil
}

// checkBatch applies the batch-wide rules: event size, batch size, order.
func checkBatch(evs []inEvent, total, tooLarge int64) *apiError {
	if tooLarge > 0 {
		return errInvalidParameter("Log event too large: %d bytes exceeds limit of %d", tooLarge, MaxEventBytes)
	}
	if total > MaxBatchBytes {
		return errInvalidParameter("Upload too large: %d bytes exceeds limit of %d", total, MaxBatchBytes)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].ts < evs[i-1].ts {
			return errInvalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
		}
	}
	return nil
}

// validate checks the schema constraints of the request.
func (req *putRequest) validate() *apiError {
	var v validation
	group, stream := string(req.group), string(req.stream)
	gp, sp := &group, &stream
	if !req.hasGroup {
		gp = nil
	}
	if !req.hasStream {
		sp = nil
	}
	v.groupName(gp, "logGroupName", true)
	v.streamName(sp, "logStreamName", true)
	switch n := len(req.events); {
	case !req.hasEvents:
		v.null("logEvents")
	case n == 0:
		v.fail("[]", "logEvents", "have length greater than or equal to 1")
	case n > MaxBatchEvents:
		v.msgs = append(v.msgs, fmt.Sprintf("Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to %d", MaxBatchEvents))
	default:
		for i := range req.events {
			e := &req.events[i]
			if e.hasTS && e.ts >= 0 && e.hasM && len(e.msg) > 0 {
				continue
			}
			path := "logEvents." + strconv.Itoa(i+1) + ".member."
			if !e.hasTS {
				v.null(path + "timestamp")
			} else if e.ts < 0 {
				v.fail(strconv.FormatInt(e.ts, 10), path+"timestamp", "have value greater than or equal to 0")
			}
			if !e.hasM {
				v.null(path + "message")
			} else if len(e.msg) == 0 {
				v.fail("", path+"message", "have length greater than or equal to 1")
			}
		}
	}
	return v.err()
}

// rejected are the indices the service reports in rejectedLogEventsInfo:
// events [0, tooOldEnd) are older than 14 days, [0, expiredEnd) older than
// the group's retention, [tooNewStart, n) more than 2 hours ahead.
type rejected struct {
	tooOldEnd, expiredEnd, tooNewStart int
	hasNew                             bool
}

// partition finds the rejected prefix and suffix of a sorted batch.
func partition(evs []inEvent, now int64, retentionDays int32) rejected {
	var r rejected
	oldLimit := now - MaxAgeMillis
	expLimit := oldLimit
	if retentionDays > 0 {
		expLimit = now - int64(retentionDays)*24*60*60*1000
	}
	for r.tooOldEnd < len(evs) && evs[r.tooOldEnd].ts < oldLimit {
		r.tooOldEnd++
	}
	if expLimit > oldLimit {
		r.expiredEnd = r.tooOldEnd
		for r.expiredEnd < len(evs) && evs[r.expiredEnd].ts < expLimit {
			r.expiredEnd++
		}
	}
	newLimit := now + MaxFutureMillis
	r.tooNewStart = len(evs)
	for r.tooNewStart > 0 && evs[r.tooNewStart-1].ts > newLimit {
		r.tooNewStart--
		r.hasNew = true
	}
	r.tooNewStart = max(r.tooNewStart, r.validStart())
	return r
}

func (r rejected) validStart() int { return max(r.tooOldEnd, r.expiredEnd) }

func (r rejected) validEnd(n int) int {
	if r.hasNew {
		return r.tooNewStart
	}
	return n
}

func (r rejected) count(m *metrics, n int) {
	if r.tooOldEnd > 0 {
		m.rejected.WithLabelValues("too_old").Add(float64(r.tooOldEnd))
	}
	if r.expiredEnd > r.tooOldEnd {
		m.rejected.WithLabelValues("expired").Add(float64(r.expiredEnd - r.tooOldEnd))
	}
	if r.hasNew {
		m.rejected.WithLabelValues("too_new").Add(float64(n - r.tooNewStart))
	}
}

// response renders the PutLogEvents response.
func (r rejected) response(token string) []byte {
	b := make([]byte, 0, 160)
	b = append(b, `{"nextSequenceToken":"`...)
	b = append(b, token...)
	b = append(b, '"')
	if r.tooOldEnd > 0 || r.expiredEnd > 0 || r.hasNew {
		b = append(b, `,"rejectedLogEventsInfo":{`...)
		sep := ""
		if r.expiredEnd > 0 {
			b = append(b, `"expiredLogEventEndIndex":`...)
			b = strconv.AppendInt(b, int64(r.expiredEnd), 10)
			sep = ","
		}
		if r.hasNew {
			b = append(b, sep+`"tooNewLogEventStartIndex":`...)
			b = strconv.AppendInt(b, int64(r.tooNewStart), 10)
			sep = ","
		}
		if r.tooOldEnd > 0 {
			b = append(b, sep+`"tooOldLogEventEndIndex":`...)
			b = strconv.AppendInt(b, int64(r.tooOldEnd), 10)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// toEvents copies accepted events for OnPut: one allocation for all messages.
func toEvents(evs []inEvent, ingest int64) []Event {
	n := 0
	for i := range evs {
		n += len(evs[i].msg)
	}
	buf := make([]byte, 0, n)
	for i := range evs {
		buf = append(buf, evs[i].msg...)
	}
	out := make([]Event, len(evs))
	off := 0
	for i := range evs {
		m := buf[off : off+len(evs[i].msg)]
		off += len(m)
		out[i] = Event{Timestamp: evs[i].ts, Message: unsafe.String(unsafe.SliceData(m), len(m)), IngestionTime: ingest}
	}
	return out
}
