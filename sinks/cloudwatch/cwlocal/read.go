package cwlocal

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Read page limits, as the service's.
const (
	maxPageEvents = 10_000
	maxPageBytes  = 1_048_576
)

type getLogEventsInput struct {
	LogGroupName       *string `json:"logGroupName"`
	LogGroupIdentifier *string `json:"logGroupIdentifier"`
	LogStreamName      *string `json:"logStreamName"`
	StartTime          *int64  `json:"startTime"`
	EndTime            *int64  `json:"endTime"`
	NextToken          *string `json:"nextToken"`
	Limit              *int64  `json:"limit"`
	StartFromHead      *bool   `json:"startFromHead"`
	Unmask             *bool   `json:"unmask"`
}

type outputEvent struct {
	LogStreamName string `json:"logStreamName,omitempty"`
	Timestamp     int64  `json:"timestamp"`
	Message       string `json:"message"`
	IngestionTime int64  `json:"ingestionTime"`
	EventID       string `json:"eventId,omitempty"`
}

// getToken parses the GetLogEvents tokens "f/<56 digits>" and "b/<56 digits>":
// the direction and an index into the stream's sorted events.
func getToken(tok string) (forward bool, idx int, ok bool) {
	dir, digits, found := strings.Cut(tok, "/")
	if !found || (dir != "f" && dir != "b") || len(digits) != 56 {
		return false, 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 63)
	if err != nil {
		return false, 0, false
	}
	return dir == "f", int(n), true
}

func makeGetToken(forward bool, idx int) string {
	if forward {
		return fmt.Sprintf("f/%056d", idx)
	}
	return fmt.Sprintf("b/%056d", idx)
}

func (s *Server) getLogEvents(body []byte) ([]byte, *apiError) {
	var in getLogEventsInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	var v validation
	v.streamName(in.LogStreamName, "logStreamName", true)
	v.limit(in.Limit, "limit", maxPageEvents)
	v.token(in.NextToken, "nextToken")
	if in.StartTime != nil && *in.StartTime < 0 {
		v.fail(strconv.FormatInt(*in.StartTime, 10), "startTime", "have value greater than or equal to 0")
	}
	if in.EndTime != nil && *in.EndTime < 0 {
		v.fail(strconv.FormatInt(*in.EndTime, 10), "endTime", "have value greater than or equal to 0")
	}
	name, aerr := groupInput(&v, in.LogGroupName, in.LogGroupIdentifier)
	if aerr != nil {
		return nil, aerr
	}
	limit := maxPageEvents
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	fromHead := in.StartFromHead != nil && *in.StartFromHead
	forward, idx, haveToken := false, 0, in.NextToken != nil
	if haveToken {
		var ok bool
		if forward, idx, ok = getToken(*in.NextToken); !ok {
			return nil, errInvalidToken
		}
	}

	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	_, stm, aerr := st.lookup(name, *in.LogStreamName)
	if aerr != nil {
		return nil, aerr
	}
	lo, hi := stm.timeRange(in.StartTime, in.EndTime)
	var from, to int // the page is [from, to)
	switch {
	case haveToken && forward, !haveToken && fromHead:
		if !haveToken {
			idx = lo
		}
		from = min(max(idx, lo), hi)
		to, _ = stm.pageForward(from, hi, limit)
	default:
		if !haveToken {
			idx = hi
		}
		to = max(min(idx, hi), lo)
		from = stm.pageBackward(lo, to, limit)
	}
	events := make([]outputEvent, 0, to-from)
	for i := from; i < to; i++ {
		e := &stm.evs[i]
		events = append(events, outputEvent{Timestamp: e.ts, Message: string(stm.message(e)), IngestionTime: e.ingest})
	}
	// At the end of the stream in the direction of the token, the same token comes back.
	fwd, bwd := makeGetToken(true, to), makeGetToken(false, from)
	return marshal(struct {
		Events            []outputEvent `json:"events"`
		NextForwardToken  string        `json:"nextForwardToken"`
		NextBackwardToken string        `json:"nextBackwardToken"`
	}{events, fwd, bwd})
}

// pageForward returns the end of the page starting at from: at most limit
// events and maxPageBytes, never past hi.
func (st *stream) pageForward(from, hi, limit int) (int, int) {
	size := 0
	i := from
	for ; i < hi && i-from < limit; i++ {
		n := int(st.evs[i].n) + eventOverhead
		if size+n > maxPageBytes && i > from {
			break
		}
		size += n
	}
	return i, size
}

// pageBackward returns the start of the page ending at to.
func (st *stream) pageBackward(lo, to, limit int) int {
	size := 0
	i := to
	for ; i > lo && to-i < limit; i-- {
		n := int(st.evs[i-1].n) + eventOverhead
		if size+n > maxPageBytes && i < to {
			break
		}
		size += n
	}
	return i
}

type filterLogEventsInput struct {
	LogGroupName        *string  `json:"logGroupName"`
	LogGroupIdentifier  *string  `json:"logGroupIdentifier"`
	LogStreamNames      []string `json:"logStreamNames"`
	LogStreamNamePrefix *string  `json:"logStreamNamePrefix"`
	StartTime           *int64   `json:"startTime"`
	EndTime             *int64   `json:"endTime"`
	FilterPattern       *string  `json:"filterPattern"`
	NextToken           *string  `json:"nextToken"`
	Limit               *int64   `json:"limit"`
	Interleaved         *bool    `json:"interleaved"`
	Unmask              *bool    `json:"unmask"`
}

// eventRef points at one event for FilterLogEvents' merge across streams.
type eventRef struct {
	ts  int64
	st  *stream
	idx int
}

// filterKey orders events across streams: timestamp, stream id, index. The
// nextToken is the key of the last event returned.
func (r eventRef) key() [3]int64 { return [3]int64{r.ts, int64(r.st.id), int64(r.idx)} }

func compareKeys(a, b [3]int64) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func (s *Server) filterLogEvents(body []byte) ([]byte, *apiError) {
	var in filterLogEventsInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	var v validation
	if in.LogStreamNames != nil && (len(in.LogStreamNames) < 1 || len(in.LogStreamNames) > 100) {
		v.msgs = append(v.msgs, fmt.Sprintf("Value '%v' at 'logStreamNames' failed to satisfy constraint: Member must have length between 1 and 100", in.LogStreamNames))
	}
	if in.LogStreamNamePrefix != nil {
		v.streamName(in.LogStreamNamePrefix, "logStreamNamePrefix", false)
	}
	if in.FilterPattern != nil {
		v.length(*in.FilterPattern, "filterPattern", 0, 1024)
	}
	v.limit(in.Limit, "limit", maxPageEvents)
	v.token(in.NextToken, "nextToken")
	name, aerr := groupInput(&v, in.LogGroupName, in.LogGroupIdentifier)
	if aerr != nil {
		return nil, aerr
	}
	if in.LogStreamNames != nil && in.LogStreamNamePrefix != nil {
		return nil, errInvalidParameter("logStreamNames and logStreamNamePrefix are mutually exclusive")
	}
	var pat pattern
	if in.FilterPattern != nil {
		if pat, aerr = parsePattern(*in.FilterPattern); aerr != nil {
			return nil, aerr
		}
	}
	var after *[3]int64
	if in.NextToken != nil {
		k, ok := parseFilterToken(*in.NextToken)
		if !ok {
			return nil, errInvalidToken
		}
		after = &k
	}
	limit := maxPageEvents
	if in.Limit != nil {
		limit = int(*in.Limit)
	}

	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[name]
	if g == nil {
		return nil, errGroupNotFound
	}
	var refs []eventRef
	for n, stm := range g.streams {
		if in.LogStreamNames != nil && !slices.Contains(in.LogStreamNames, n) ||
			in.LogStreamNamePrefix != nil && !strings.HasPrefix(n, *in.LogStreamNamePrefix) {
			continue
		}
		lo, hi := stm.timeRange(in.StartTime, in.EndTime)
		for i := lo; i < hi; i++ {
			r := eventRef{stm.evs[i].ts, stm, i}
			if after != nil && compareKeys(r.key(), *after) <= 0 {
				continue
			}
			if pat.match(stm.message(&stm.evs[i])) {
				refs = append(refs, r)
			}
		}
	}
	slices.SortFunc(refs, func(a, b eventRef) int { return compareKeys(a.key(), b.key()) })
	events := []outputEvent{}
	size := 0
	for _, r := range refs {
		e := &r.st.evs[r.idx]
		n := int(e.n) + eventOverhead
		if len(events) == limit || size+n > maxPageBytes && len(events) > 0 {
			break
		}
		size += n
		events = append(events, outputEvent{
			LogStreamName: r.st.name, Timestamp: e.ts, Message: string(r.st.message(e)),
			IngestionTime: e.ingest, EventID: fmt.Sprintf("%020d%016d%020d", e.ts, r.st.id, r.idx),
		})
	}
	next := ""
	if len(events) < len(refs) {
		last := refs[len(events)-1]
		next = fmt.Sprintf("%d/%d/%d", last.ts, last.st.id, last.idx)
	}
	return marshal(struct {
		Events             []outputEvent `json:"events"`
		SearchedLogStreams []struct{}    `json:"searchedLogStreams"`
		NextToken          string        `json:"nextToken,omitempty"`
	}{events, []struct{}{}, next})
}

func parseFilterToken(tok string) ([3]int64, bool) {
	var k [3]int64
	parts := strings.Split(tok, "/")
	if len(parts) != 3 {
		return k, false
	}
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return k, false
		}
		k[i] = n
	}
	return k, true
}

// pattern is a term filter pattern: every term must occur, at least one of
// the ?alternatives must occur (when there are any), no -exclusion may occur.
type pattern struct {
	all, any, none [][]byte
}

func parsePattern(p string) (pattern, *apiError) {
	var pat pattern
	p = strings.TrimSpace(p)
	if p == "" {
		return pat, nil
	}
	if p[0] == '{' || p[0] == '[' || strings.HasPrefix(p, "%") {
		return pat, errInvalidParameter("cwlocal supports term filter patterns only (words, \"phrases\", ?alternatives, -exclusions), not %q", p)
	}
	for len(p) > 0 {
		var kind byte
		if p[0] == '?' || p[0] == '-' {
			kind, p = p[0], p[1:]
		}
		var term string
		if strings.HasPrefix(p, `"`) {
			end := strings.IndexByte(p[1:], '"')
			if end < 0 {
				return pat, errInvalidParameter("Invalid filter pattern: unterminated quoted term in %q", p)
			}
			term, p = p[1:1+end], p[2+end:]
		} else {
			end := strings.IndexAny(p, " \t")
			if end < 0 {
				end = len(p)
			}
			term, p = p[:end], p[end:]
		}
		p = strings.TrimLeft(p, " \t")
		if term == "" {
			continue
		}
		switch kind {
		case '?':
			pat.any = append(pat.any, []byte(term))
		case '-':
			pat.none = append(pat.none, []byte(term))
		default:
			pat.all = append(pat.all, []byte(term))
		}
	}
	return pat, nil
}

func (p pattern) match(msg []byte) bool {
	for _, t := range p.all {
		if !bytes.Contains(msg, t) {
			return false
		}
	}
	for _, t := range p.none {
		if bytes.Contains(msg, t) {
			return false
		}
	}
	if len(p.any) == 0 {
		return true
	}
	for _, t := range p.any {
		if bytes.Contains(msg, t) {
			return true
		}
	}
	return false
}
