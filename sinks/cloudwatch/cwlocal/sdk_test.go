package cwlocal

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// apiErr asserts that err is an API error with the given code, HTTP status
// and message prefix, as the SDK reports them.
func apiErr(t *testing.T, what string, err error, code string, status int, msgPrefix string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: err = %v; want API error %s", what, err, code)
	}
	if ae.ErrorCode() != code {
		t.Errorf("%s: code = %s (%v); want %s", what, ae.ErrorCode(), err, code)
	}
	if !strings.HasPrefix(ae.ErrorMessage(), msgPrefix) {
		t.Errorf("%s: message = %q; want prefix %q", what, ae.ErrorMessage(), msgPrefix)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%s: no HTTP response in %v", what, err)
	}
	if re.HTTPStatusCode() != status {
		t.Errorf("%s: status = %d; want %d", what, re.HTTPStatusCode(), status)
	}
	if re.ServiceRequestID() == "" {
		t.Errorf("%s: no request id", what)
	}
}

func TestGroupsAndStreams(t *testing.T) {
	s := startServer(t, Options{})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()

	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{
		LogGroupName:  aws.String("/app/one"),
		LogGroupClass: types.LogGroupClassInfrequentAccess,
		KmsKeyId:      aws.String("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
		Tags:          map[string]string{"team": "logs"},
	})
	if err != nil {
		t.Fatalf("CreateLogGroup: %v", err)
	}
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/app/one")})
	var exists *types.ResourceAlreadyExistsException
	if !errors.As(err, &exists) {
		t.Fatalf("CreateLogGroup twice: err = %v; want ResourceAlreadyExistsException", err)
	}
	apiErr(t, "CreateLogGroup twice", err, "ResourceAlreadyExistsException", 400, "The specified log group already exists")

	for _, g := range []string{"/app/two", "/other/x"} {
		mustCreate(t, c, g, "")
	}
	out, err := c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/app/")})
	if err != nil {
		t.Fatalf("DescribeLogGroups: %v", err)
	}
	if len(out.LogGroups) != 2 || *out.LogGroups[0].LogGroupName != "/app/one" || *out.LogGroups[1].LogGroupName != "/app/two" {
		t.Fatalf("DescribeLogGroups(prefix /app/) = %+v", out.LogGroups)
	}
	one := out.LogGroups[0]
	if one.LogGroupClass != types.LogGroupClassInfrequentAccess || aws.ToString(one.KmsKeyId) == "" ||
		aws.ToString(one.Arn) != "arn:aws:logs:us-east-1:000000000000:log-group:/app/one:*" ||
		aws.ToString(one.LogGroupArn) != "arn:aws:logs:us-east-1:000000000000:log-group:/app/one" {
		t.Errorf("group = %+v", one)
	}

	// Pagination: one group per page.
	var names []string
	p := cloudwatchlogs.NewDescribeLogGroupsPaginator(c, &cloudwatchlogs.DescribeLogGroupsInput{Limit: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("DescribeLogGroups page: %v", err)
		}
		if len(page.LogGroups) > 1 {
			t.Fatalf("page of %d groups with limit 1", len(page.LogGroups))
		}
		for _, g := range page.LogGroups {
			names = append(names, *g.LogGroupName)
		}
	}
	if strings.Join(names, ",") != "/app/one,/app/two,/other/x" {
		t.Errorf("paginated groups = %v", names)
	}

	// Retention.
	if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/app/one"), RetentionInDays: aws.Int32(7)}); err != nil {
		t.Fatalf("PutRetentionPolicy: %v", err)
	}
	_, err = c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/app/one"), RetentionInDays: aws.Int32(2)})
	var inv *types.InvalidParameterException
	if !errors.As(err, &inv) {
		t.Fatalf("PutRetentionPolicy(2): err = %v; want InvalidParameterException", err)
	}
	apiErr(t, "PutRetentionPolicy(2)", err, "InvalidParameterException", 400,
		"1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14,")
	_, err = c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/nope"), RetentionInDays: aws.Int32(7)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("PutRetentionPolicy(missing): err = %v; want ResourceNotFoundException", err)
	}
	out, _ = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/app/one")})
	if got := aws.ToInt32(out.LogGroups[0].RetentionInDays); got != 7 {
		t.Errorf("retention = %d; want 7", got)
	}
	if _, err := c.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("/app/one")}); err != nil {
		t.Fatalf("DeleteRetentionPolicy: %v", err)
	}
	out, _ = c.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{LogGroupNamePrefix: aws.String("/app/one")})
	if out.LogGroups[0].RetentionInDays != nil {
		t.Errorf("retention after delete = %d; want none", *out.LogGroups[0].RetentionInDays)
	}
	_, err = c.DeleteRetentionPolicy(ctx, &cloudwatchlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String("/nope")})
	if !errors.As(err, &nf) {
		t.Fatalf("DeleteRetentionPolicy(missing): err = %v; want ResourceNotFoundException", err)
	}

	// Streams.
	for _, st := range []string{"b", "a", "c/1"} {
		if _, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/app/one"), LogStreamName: aws.String(st)}); err != nil {
			t.Fatalf("CreateLogStream(%s): %v", st, err)
		}
	}
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/app/one"), LogStreamName: aws.String("a")})
	if !errors.As(err, &exists) {
		t.Fatalf("CreateLogStream twice: err = %v; want ResourceAlreadyExistsException", err)
	}
	apiErr(t, "CreateLogStream twice", err, "ResourceAlreadyExistsException", 400, "The specified log stream already exists")
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/nope"), LogStreamName: aws.String("a")})
	if !errors.As(err, &nf) {
		t.Fatalf("CreateLogStream(no group): err = %v; want ResourceNotFoundException", err)
	}
	apiErr(t, "CreateLogStream(no group)", err, "ResourceNotFoundException", 400, "The specified log group does not exist.")

	ds, err := c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/app/one")})
	if err != nil {
		t.Fatalf("DescribeLogStreams: %v", err)
	}
	var sn []string
	for _, st := range ds.LogStreams {
		sn = append(sn, *st.LogStreamName)
	}
	if strings.Join(sn, ",") != "a,b,c/1" {
		t.Errorf("streams = %v; want a,b,c/1", sn)
	}
	if got := aws.ToString(ds.LogStreams[0].Arn); got != "arn:aws:logs:us-east-1:000000000000:log-group:/app/one:log-stream:a" {
		t.Errorf("stream arn = %s", got)
	}
	ds, err = c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{
		LogGroupIdentifier:  aws.String("arn:aws:logs:us-east-1:000000000000:log-group:/app/one"),
		LogStreamNamePrefix: aws.String("c"), Descending: aws.Bool(true), Limit: aws.Int32(1),
	})
	if err != nil || len(ds.LogStreams) != 1 || *ds.LogStreams[0].LogStreamName != "c/1" || ds.NextToken != nil {
		t.Fatalf("DescribeLogStreams(identifier, prefix c) = %+v, %v", ds, err)
	}
	_, err = c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{
		LogGroupName: aws.String("/app/one"), LogStreamNamePrefix: aws.String("c"), OrderBy: types.OrderByLastEventTime,
	})
	apiErr(t, "DescribeLogStreams(prefix+LastEventTime)", err, "InvalidParameterException", 400, "Cannot order by LastEventTime with a logStreamNamePrefix.")
	_, err = c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/nope")})
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeLogStreams(missing): err = %v; want ResourceNotFoundException", err)
	}
	_, err = c.DescribeLogStreams(ctx, &cloudwatchlogs.DescribeLogStreamsInput{LogGroupName: aws.String("/app/one"), Limit: aws.Int32(51)})
	apiErr(t, "DescribeLogStreams(limit 51)", err, "InvalidParameterException", 400,
		"1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50")

	if _, err := c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("/app/one"), LogStreamName: aws.String("b")}); err != nil {
		t.Fatalf("DeleteLogStream: %v", err)
	}
	_, err = c.DeleteLogStream(ctx, &cloudwatchlogs.DeleteLogStreamInput{LogGroupName: aws.String("/app/one"), LogStreamName: aws.String("b")})
	if !errors.As(err, &nf) {
		t.Fatalf("DeleteLogStream twice: err = %v; want ResourceNotFoundException", err)
	}
	apiErr(t, "DeleteLogStream twice", err, "ResourceNotFoundException", 400, "The specified log stream does not exist.")

	if _, err := c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/app/one")}); err != nil {
		t.Fatalf("DeleteLogGroup: %v", err)
	}
	_, err = c.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String("/app/one")})
	if !errors.As(err, &nf) {
		t.Fatalf("DeleteLogGroup twice: err = %v; want ResourceNotFoundException", err)
	}
	if evs := s.Events("/app/one", "a"); evs != nil {
		t.Errorf("events of a deleted group = %v", evs)
	}
}

func TestNameRules(t *testing.T) {
	s := startServer(t, Options{})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	long := strings.Repeat("a", 513)
	for _, tc := range []struct {
		group string
		ok    bool
		msg   string
	}{
		{"/a-b_c.d/#1", true, ""},
		{strings.Repeat("g", 512), true, ""},
		{long, false, "1 validation error detected: Value '" + long + "' at 'logGroupName' failed to satisfy constraint: Member must have length less than or equal to 512"},
		{"", false, "1 validation error detected: Value '' at 'logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"bad name", false, `1 validation error detected: Value 'bad name' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`},
		{"a:b", false, "1 validation error detected: Value 'a:b' at 'logGroupName'"},
		{"aws/reserved", false, "Log group names can't start with the string aws/"},
	} {
		_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String(tc.group)})
		if tc.ok {
			if err != nil {
				t.Errorf("CreateLogGroup(%.20q): %v", tc.group, err)
			}
			continue
		}
		var inv *types.InvalidParameterException
		if !errors.As(err, &inv) {
			t.Errorf("CreateLogGroup(%.20q): err = %v; want InvalidParameterException", tc.group, err)
			continue
		}
		apiErr(t, "CreateLogGroup", err, "InvalidParameterException", 400, tc.msg)
	}
	_, err := c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/c"), LogGroupClass: "COLD"})
	apiErr(t, "CreateLogGroup(class COLD)", err, "InvalidParameterException", 400,
		"1 validation error detected: Value 'COLD' at 'logGroupClass' failed to satisfy constraint: Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY, ESSENTIALS]")
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/k"), KmsKeyId: aws.String("not-a-key")})
	apiErr(t, "CreateLogGroup(bad KMS key)", err, "InvalidParameterException", 400, "The specified KMS key does not exist")
	tags := map[string]string{}
	for i := range 51 {
		tags[strings.Repeat("k", i+1)] = "v"
	}
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/t"), Tags: tags})
	var tm *types.TooManyTagsException
	if !errors.As(err, &tm) {
		t.Errorf("CreateLogGroup(51 tags): err = %v; want TooManyTagsException", err)
	}
	_, err = c.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/t"), Tags: map[string]string{"bad*key": "v"}})
	apiErr(t, "CreateLogGroup(bad tag)", err, "InvalidParameterException", 400, "1 validation error detected: Value 'bad*key' at 'tags.key'")

	mustCreate(t, c, "/s", "")
	for _, tc := range []struct {
		stream string
		ok     bool
		msg    string
	}{
		{"node-1/ns_pod_ctr", true, ""},
		{"spaces and ünïcode are fine", true, ""},
		{strings.Repeat("s", 512), true, ""},
		{"arn:aws:x", false, "1 validation error detected: Value 'arn:aws:x' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"},
		{"a*b", false, "1 validation error detected: Value 'a*b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"},
		{strings.Repeat("s", 513), false, "1 validation error detected: Value '" + strings.Repeat("s", 513) + "' at 'logStreamName' failed to satisfy constraint: Member must have length less than or equal to 512"},
	} {
		_, err := c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("/s"), LogStreamName: aws.String(tc.stream)})
		if tc.ok {
			if err != nil {
				t.Errorf("CreateLogStream(%.20q): %v", tc.stream, err)
			}
			continue
		}
		apiErr(t, "CreateLogStream", err, "InvalidParameterException", 400, tc.msg)
	}
	// Two failures are reported together.
	_, err = c.CreateLogStream(ctx, &cloudwatchlogs.CreateLogStreamInput{LogGroupName: aws.String("bad name"), LogStreamName: aws.String("a:b")})
	apiErr(t, "CreateLogStream(two bad names)", err, "InvalidParameterException", 400, "2 validation errors detected: Value 'bad name' at 'logGroupName'")
}

func TestAuthentication(t *testing.T) {
	s := startServer(t, Options{AccessKey: testAccessKey, SecretKey: testSecretKey})
	ctx := context.Background()
	in := &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/auth")}

	if _, err := newClient(s, testAccessKey, testSecretKey).CreateLogGroup(ctx, in); err != nil {
		t.Fatalf("right keys: %v", err)
	}
	_, err := newClient(s, "AKIDOTHER", testSecretKey).CreateLogGroup(ctx, in)
	var uc *types.UnrecognizedClientException
	if !errors.As(err, &uc) {
		t.Fatalf("unknown key id: err = %v; want UnrecognizedClientException", err)
	}
	apiErr(t, "unknown key id", err, "UnrecognizedClientException", 400, "The security token included in the request is invalid.")

	_, err = newClient(s, testAccessKey, "wrong-secret").CreateLogGroup(ctx, in)
	apiErr(t, "wrong secret", err, "InvalidSignatureException", 400, "The request signature we calculated does not match the signature you provided.")

	// A request signed 10 minutes ago.
	skewed := newClient(s, testAccessKey, testSecretKey, func(o *cloudwatchlogs.Options) {
		o.HTTPSignerV4 = skewSigner{next: o.HTTPSignerV4, skew: -10 * time.Minute}
	})
	_, err = skewed.CreateLogGroup(ctx, in)
	apiErr(t, "old signature", err, "InvalidSignatureException", 400, "Signature expired: ")

	// A BaseEndpoint with a path: the SDK posts to it and signs it.
	withPath := newClient(s, testAccessKey, testSecretKey, func(o *cloudwatchlogs.Options) {
		o.BaseEndpoint = aws.String(s.URL() + "/some/prefix")
	})
	if _, err := withPath.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{}); err != nil {
		t.Errorf("BaseEndpoint with a path: %v", err)
	}

	// Signed for another service.
	other := newClient(s, testAccessKey, testSecretKey, func(o *cloudwatchlogs.Options) {
		o.HTTPSignerV4 = skewSigner{next: o.HTTPSignerV4, service: "monitoring"}
	})
	_, err = other.CreateLogGroup(ctx, in)
	apiErr(t, "other service", err, "InvalidSignatureException", 400, "Credential should be scoped to correct service: 'logs'.")

	// No Authorization header at all.
	resp := rawPost(t, s, "CreateLogGroup", `{"logGroupName":"/x"}`, nil)
	if resp.status != 400 || resp.errType != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned request: %d %s; want 400 MissingAuthenticationTokenException", resp.status, resp.errType)
	}
}

// TestAnySignatureWithoutKeys: without configured keys any SigV4 header is accepted.
func TestAnySignatureWithoutKeys(t *testing.T) {
	s := startServer(t, Options{})
	_, err := newClient(s, "anything", "goes").CreateLogGroup(context.Background(), &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/g")})
	if err != nil {
		t.Fatal(err)
	}
}

// skewSigner signs with a shifted clock or another service name.
type skewSigner struct {
	next    cloudwatchlogs.HTTPSignerV4
	skew    time.Duration
	service string
}

func (s skewSigner) SignHTTP(ctx context.Context, cred aws.Credentials, r *http.Request, payloadHash, service, region string, t time.Time, opts ...func(*v4.SignerOptions)) error {
	if s.service != "" {
		service = s.service
	}
	return s.next.SignHTTP(ctx, cred, r, payloadHash, service, region, t.Add(s.skew), opts...)
}
