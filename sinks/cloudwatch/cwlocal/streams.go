package cwlocal

import (
	"slices"
	"strings"
)

type streamInput struct {
	LogGroupName  *string `json:"logGroupName"`
	LogStreamName *string `json:"logStreamName"`
}

func (in *streamInput) validate() *apiError {
	var v validation
	v.groupName(in.LogGroupName, "logGroupName", true)
	v.streamName(in.LogStreamName, "logStreamName", true)
	return v.err()
}

func (s *Server) createLogStream(body []byte) ([]byte, *apiError) {
	var in streamInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	if aerr := in.validate(); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[*in.LogGroupName]
	if g == nil {
		return nil, errGroupNotFound
	}
	if g.streams[*in.LogStreamName] != nil {
		return nil, errStreamExists
	}
	stm := st.createStream(g, *in.LogStreamName, s.nowMillis())
	return nil, s.journalSimple(jCreateStream, g.name, stm.name, stm.created)
}

func (s *Server) deleteLogStream(body []byte) ([]byte, *apiError) {
	var in streamInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	if aerr := in.validate(); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g, stm, aerr := st.lookup(*in.LogGroupName, *in.LogStreamName)
	if aerr != nil {
		return nil, aerr
	}
	st.deleteStream(g, stm)
	return nil, s.journalSimple(jDeleteStream, g.name, stm.name, 0)
}

type describeLogStreamsInput struct {
	LogGroupName        *string `json:"logGroupName"`
	LogGroupIdentifier  *string `json:"logGroupIdentifier"`
	LogStreamNamePrefix *string `json:"logStreamNamePrefix"`
	OrderBy             *string `json:"orderBy"`
	Descending          *bool   `json:"descending"`
	NextToken           *string `json:"nextToken"`
	Limit               *int64  `json:"limit"`
}

type logStreamOut struct {
	LogStreamName       string `json:"logStreamName"`
	CreationTime        int64  `json:"creationTime"`
	FirstEventTimestamp *int64 `json:"firstEventTimestamp,omitempty"`
	LastEventTimestamp  *int64 `json:"lastEventTimestamp,omitempty"`
	LastIngestionTime   *int64 `json:"lastIngestionTime,omitempty"`
	UploadSequenceToken string `json:"uploadSequenceToken"`
	Arn                 string `json:"arn"`
	StoredBytes         int64  `json:"storedBytes"`
}

// groupInput checks the logGroupName / logGroupIdentifier pair of the read
// calls (exactly one is required) and returns the group name.
func groupInput(v *validation, name, ident *string) (string, *apiError) {
	if name != nil {
		v.groupName(name, "logGroupName", false)
	}
	if ident != nil && v.length(*ident, "logGroupIdentifier", 1, 2048) {
		for _, c := range *ident {
			if !(c == '_' || c == '#' || c == '+' || c == '=' || c == '/' || c == ':' || c == ',' || c == '.' || c == '@' || c == '-' ||
				c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				v.fail(*ident, "logGroupIdentifier", `satisfy regular expression pattern: [\w#+=/:,.@-]*`)
				break
			}
		}
	}
	if aerr := v.err(); aerr != nil {
		return "", aerr
	}
	switch {
	case name != nil && ident != nil:
		return "", errInvalidParameter("LogGroupName and LogGroupIdentifier are mutually exclusive parameters.")
	case name != nil:
		return *name, nil
	case ident != nil:
		return groupFromIdentifier(*ident), nil
	}
	return "", errInvalidParameter("Either LogGroupName or LogGroupIdentifier is required.")
}

func (s *Server) describeLogStreams(body []byte) ([]byte, *apiError) {
	var in describeLogStreamsInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	var v validation
	if in.LogStreamNamePrefix != nil {
		v.streamName(in.LogStreamNamePrefix, "logStreamNamePrefix", false)
	}
	if in.OrderBy != nil && *in.OrderBy != "LogStreamName" && *in.OrderBy != "LastEventTime" {
		v.fail(*in.OrderBy, "orderBy", "satisfy enum value set: [LogStreamName, LastEventTime]")
	}
	v.limit(in.Limit, "limit", 50)
	v.token(in.NextToken, "nextToken")
	name, aerr := groupInput(&v, in.LogGroupName, in.LogGroupIdentifier)
	if aerr != nil {
		return nil, aerr
	}
	byTime := in.OrderBy != nil && *in.OrderBy == "LastEventTime"
	if byTime && in.LogStreamNamePrefix != nil {
		return nil, errPrefixWithOrder
	}
	limit := 50
	if in.Limit != nil {
		limit = int(*in.Limit)
	}
	start, aerr := offsetToken(in.NextToken)
	if aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.Lock()
	g := st.groups[name]
	if g == nil {
		st.mu.Unlock()
		return nil, errGroupNotFound
	}
	streams := make([]*stream, 0, len(g.streams))
	for n, stm := range g.streams {
		if in.LogStreamNamePrefix == nil || strings.HasPrefix(n, *in.LogStreamNamePrefix) {
			streams = append(streams, stm)
		}
	}
	slices.SortFunc(streams, func(a, b *stream) int {
		if byTime && a.lastTS != b.lastTS {
			if a.lastTS < b.lastTS {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	if in.Descending != nil && *in.Descending {
		slices.Reverse(streams)
	}
	arn := s.groupARN(name)
	out := make([]logStreamOut, len(streams))
	for i, stm := range streams {
		o := logStreamOut{
			LogStreamName:       stm.name,
			CreationTime:        stm.created,
			UploadSequenceToken: "49" + strings.Repeat("0", 54),
			Arn:                 arn + ":log-stream:" + stm.name,
		}
		if stm.hasEvents {
			first, last, ing := stm.firstTS, stm.lastTS, stm.lastIngest
			o.FirstEventTimestamp, o.LastEventTimestamp, o.LastIngestionTime = &first, &last, &ing
		}
		out[i] = o
	}
	st.mu.Unlock()
	page, next := paginate(out, start, limit)
	return marshal(struct {
		LogStreams []logStreamOut `json:"logStreams"`
		NextToken  string         `json:"nextToken,omitempty"`
	}{page, next})
}
