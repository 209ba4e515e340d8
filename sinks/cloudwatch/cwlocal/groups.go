package cwlocal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = []int64{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// logGroupClasses are the classes CreateLogGroup accepts.
var logGroupClasses = []string{"STANDARD", "INFREQUENT_ACCESS", "DELIVERY", "ESSENTIALS"}

// The patterns are compiled on first use: skiff links cwlocal for its demo,
// and compiled at start-up the Unicode classes cost every agent 200 KB.
var (
	tagKeyPattern   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`) })
	tagValuePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`) })
	kmsARNPattern   = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)/[A-Za-z0-9/_-]+$`)
	})
)

func (s *Server) groupARN(name string) string {
	return "arn:aws:logs:" + s.opts.Region + ":" + AccountID + ":log-group:" + name
}

type createLogGroupInput struct {
	LogGroupName              *string           `json:"logGroupName"`
	KmsKeyID                  *string           `json:"kmsKeyId"`
	Tags                      map[string]string `json:"tags"`
	LogGroupClass             *string           `json:"logGroupClass"`
	DeletionProtectionEnabled *bool             `json:"deletionProtectionEnabled"`
}

func (s *Server) createLogGroup(body []byte) ([]byte, *apiError) {
	var in createLogGroupInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	var v validation
	v.groupName(in.LogGroupName, "logGroupName", true)
	if in.KmsKeyID != nil {
		v.length(*in.KmsKeyID, "kmsKeyId", 0, 256)
	}
	class := "STANDARD"
	if in.LogGroupClass != nil {
		class = *in.LogGroupClass
		if !slices.Contains(logGroupClasses, class) {
			v.fail(class, "logGroupClass", "satisfy enum value set: ["+strings.Join(logGroupClasses, ", ")+"]")
		}
	}
	if in.Tags != nil {
		if len(in.Tags) == 0 {
			v.fail("{}", "tags", "have length greater than or equal to 1")
		}
		keys := make([]string, 0, len(in.Tags))
		for k := range in.Tags {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			val := in.Tags[k]
			if v.length(k, "tags.key", 1, 128) && !tagKeyPattern().MatchString(k) {
				v.fail(k, "tags.key", `satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)
			}
			if v.length(val, "tags."+k+".value", 0, 256) && !tagValuePattern().MatchString(val) {
				v.fail(val, "tags."+k+".value", `satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
			}
		}
	}
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	name := *in.LogGroupName
	if strings.HasPrefix(name, "aws/") {
		return nil, errInvalidParameter("Log group names can't start with the string aws/")
	}
	if len(in.Tags) > 50 {
		return nil, errTooManyTags
	}
	if in.KmsKeyID != nil && !kmsARNPattern().MatchString(*in.KmsKeyID) {
		return nil, errInvalidParameter("The specified KMS key does not exist or is not allowed to be used with Arn '%s'", s.groupARN(name))
	}
	g := &group{name: name, created: s.nowMillis(), class: class, tags: in.Tags}
	if in.KmsKeyID != nil {
		g.kmsKeyID = *in.KmsKeyID
	}
	if in.DeletionProtectionEnabled != nil {
		g.protection = *in.DeletionProtectionEnabled
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.groups[name] != nil {
		return nil, errGroupExists
	}
	st.createGroup(g)
	return nil, s.journalGroup(g)
}

type groupNameInput struct {
	LogGroupName *string `json:"logGroupName"`
}

func (s *Server) deleteLogGroup(body []byte) ([]byte, *apiError) {
	var in groupNameInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	var v validation
	v.groupName(in.LogGroupName, "logGroupName", true)
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[*in.LogGroupName]
	if g == nil {
		return nil, errGroupNotFound
	}
	if g.protection {
		return nil, &apiError{http.StatusBadRequest, "ValidationException", "Cannot delete log group with deletion protection enabled. Disable deletion protection first."}
	}
	st.deleteGroup(g)
	return nil, s.journalSimple(jDeleteGroup, g.name, "", 0)
}

type deletionProtectionInput struct {
	LogGroupIdentifier        *string `json:"logGroupIdentifier"`
	DeletionProtectionEnabled *bool   `json:"deletionProtectionEnabled"`
}

func (s *Server) putLogGroupDeletionProtection(body []byte) ([]byte, *apiError) {
	var in deletionProtectionInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	var v validation
	if in.DeletionProtectionEnabled == nil {
		v.null("deletionProtectionEnabled")
	}
	if in.LogGroupIdentifier == nil {
		v.null("logGroupIdentifier")
	}
	name, aerr := groupInput(&v, nil, in.LogGroupIdentifier)
	if aerr != nil {
		return nil, aerr
	}
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[name]
	if g == nil {
		return nil, errGroupNotFound
	}
	g.protection = *in.DeletionProtectionEnabled
	var p int64
	if g.protection {
		p = 1
	}
	return nil, s.journalSimple(jProtection, name, "", p)
}

type retentionInput struct {
	LogGroupName    *string `json:"logGroupName"`
	RetentionInDays *int64  `json:"retentionInDays"`
}

func (s *Server) putRetentionPolicy(body []byte) ([]byte, *apiError) {
	var in retentionInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	var v validation
	v.groupName(in.LogGroupName, "logGroupName", true)
	if in.RetentionInDays == nil {
		v.null("retentionInDays")
	} else if !slices.Contains(retentionDays, *in.RetentionInDays) {
		days := make([]string, len(retentionDays))
		for i, d := range retentionDays {
			days[i] = strconv.FormatInt(d, 10)
		}
		v.fail(strconv.FormatInt(*in.RetentionInDays, 10), "retentionInDays", "satisfy enum value set: ["+strings.Join(days, ", ")+"]")
	}
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	return nil, s.setRetention(*in.LogGroupName, int32(*in.RetentionInDays))
}

func (s *Server) deleteRetentionPolicy(body []byte) ([]byte, *apiError) {
	var in groupNameInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	var v validation
	v.groupName(in.LogGroupName, "logGroupName", true)
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	return nil, s.setRetention(*in.LogGroupName, 0)
}

func (s *Server) setRetention(name string, days int32) *apiError {
	st := s.store
	st.mu.Lock()
	defer st.mu.Unlock()
	g := st.groups[name]
	if g == nil {
		return errGroupNotFound
	}
	g.retention = days
	return s.journalSimple(jRetention, name, "", int64(days))
}

type describeLogGroupsInput struct {
	LogGroupNamePrefix  *string  `json:"logGroupNamePrefix"`
	LogGroupNamePattern *string  `json:"logGroupNamePattern"`
	LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
	LogGroupClass       *string  `json:"logGroupClass"`
	NextToken           *string  `json:"nextToken"`
	Limit               *int64   `json:"limit"`
}

// logGroupOut is a group in DescribeLogGroups. With logGroupNamePattern the
// service returns only logGroupName, creationTime and arn, so the other
// fields are pointers left nil then.
type logGroupOut struct {
	LogGroupName              string `json:"logGroupName"`
	CreationTime              int64  `json:"creationTime"`
	RetentionInDays           int32  `json:"retentionInDays,omitempty"`
	MetricFilterCount         *int   `json:"metricFilterCount,omitempty"`
	Arn                       string `json:"arn"`
	StoredBytes               *int64 `json:"storedBytes,omitempty"`
	KmsKeyID                  string `json:"kmsKeyId,omitempty"`
	LogGroupClass             string `json:"logGroupClass,omitempty"`
	LogGroupArn               string `json:"logGroupArn,omitempty"`
	DeletionProtectionEnabled *bool  `json:"deletionProtectionEnabled,omitempty"`
}

func (s *Server) describeLogGroups(body []byte) ([]byte, *apiError) {
	var in describeLogGroupsInput
	if aerr := decode(body, &in); aerr != nil {
		return nil, aerr
	}
	var v validation
	if in.LogGroupNamePrefix != nil {
		v.groupName(in.LogGroupNamePrefix, "logGroupNamePrefix", false)
	}
	if in.LogGroupNamePattern != nil {
		v.length(*in.LogGroupNamePattern, "logGroupNamePattern", 0, 512)
	}
	v.limit(in.Limit, "limit", 50)
	v.token(in.NextToken, "nextToken")
	if aerr := v.err(); aerr != nil {
		return nil, aerr
	}
	if in.LogGroupNamePrefix != nil && in.LogGroupNamePattern != nil {
		return nil, errInvalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
	}
	if len(in.LogGroupIdentifiers) > 0 && (in.LogGroupNamePrefix != nil || in.LogGroupNamePattern != nil) {
		return nil, errInvalidParameter("logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern.")
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
	var match []logGroupOut
	for _, name := range st.sortedGroupNames() {
		g := st.groups[name]
		switch {
		case in.LogGroupNamePrefix != nil && !strings.HasPrefix(name, *in.LogGroupNamePrefix),
			in.LogGroupNamePattern != nil && !strings.Contains(name, *in.LogGroupNamePattern),
			in.LogGroupClass != nil && g.class != *in.LogGroupClass,
			len(in.LogGroupIdentifiers) > 0 && !slices.ContainsFunc(in.LogGroupIdentifiers, func(id string) bool { return groupFromIdentifier(id) == name }):
			continue
		}
		arn := s.groupARN(name)
		out := logGroupOut{LogGroupName: name, CreationTime: g.created, Arn: arn + ":*"}
		if in.LogGroupNamePattern == nil {
			zero, stored, prot := 0, g.bytes, g.protection
			out.RetentionInDays, out.MetricFilterCount, out.StoredBytes = g.retention, &zero, &stored
			out.KmsKeyID, out.LogGroupClass, out.LogGroupArn, out.DeletionProtectionEnabled = g.kmsKeyID, g.class, arn, &prot
		}
		match = append(match, out)
	}
	st.mu.Unlock()
	page, next := paginate(match, start, limit)
	return marshal(struct {
		LogGroups []logGroupOut `json:"logGroups"`
		NextToken string        `json:"nextToken,omitempty"`
	}{page, next})
}

// groupFromIdentifier returns the group name of a logGroupIdentifier: a name,
// or an ARN "arn:aws:logs:r:acct:log-group:NAME[:*]".
func groupFromIdentifier(id string) string {
	if !strings.HasPrefix(id, "arn:") {
		return id
	}
	_, name, ok := strings.Cut(id, ":log-group:")
	if !ok {
		return id
	}
	return strings.TrimSuffix(name, ":*")
}

// offsetToken decodes the pagination tokens of the Describe calls.
func offsetToken(tok *string) (int, *apiError) {
	if tok == nil {
		return 0, nil
	}
	rest, ok := strings.CutPrefix(*tok, "o/")
	n, err := strconv.Atoi(rest)
	if !ok || err != nil || n < 0 {
		return 0, errInvalidToken
	}
	return n, nil
}

// paginate returns items [start, start+limit) and the token of the next page, if any.
func paginate[T any](items []T, start, limit int) ([]T, string) {
	if start > len(items) {
		start = len(items)
	}
	end := min(start+limit, len(items))
	page := items[start:end]
	if page == nil {
		page = []T{}
	}
	if end < len(items) {
		return page, "o/" + strconv.Itoa(end)
	}
	return page, ""
}

func marshal(v any) ([]byte, *apiError) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &apiError{500, "InternalFailure", fmt.Sprintf("encode response: %v", err)}
	}
	return b, nil
}
