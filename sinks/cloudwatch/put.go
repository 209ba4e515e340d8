package cloudwatch

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A PutLogEvents call through the SDK builds its middleware stack of some
// thirty steps anew, resolves the endpoint through its rules and
// allocates about 25 KB, whatever the request's size: 70 µs of CPU
// (BenchmarkPutLogEventsSDK/small/own-serializer; 25 µs this way). On a node with a thousand quiet
// containers that is most of what a request costs skiff before TLS. So
// the sink makes its PutLogEvents requests itself, with the SDK's parts:
// the endpoint its resolver gives for the client's options (once), the
// client's credentials, its SigV4 signer and its HTTP client. What the
// steps it skips did for this call, it does: the clock skew taken from
// each response's Date header and added to the signing time, the
// awsJson 1.1 error decoding, and the same error types (an
// OperationError around a ResponseError around the API error), so that
// classify and the logs see what the SDK would have returned. The other
// calls (creating streams and groups, retention) go through the SDK.

// directPut makes PutLogEvents requests for one client.
type directPut struct {
	do        func(*http.Request) (*http.Response, error)
	creds     aws.CredentialsProvider
	signer    *v4.Signer
	region    string
	url       string
	headers   http.Header // the endpoint's own headers, if it has any
	userAgent string
	skew      atomic.Int64 // server clock minus ours, from the last response's Date
}

// newDirectPut returns the direct path for c, or an error when c's options
// leave something to the SDK that it does not do (no region, no
// credentials, an endpoint the resolver refuses): the SDK then makes the
// calls, and reports the problem as it would.
func newDirectPut(ctx context.Context, c *cloudwatchlogs.Client) (*directPut, error) {
	o := c.Options()
	if o.Region == "" {
		return nil, errors.New("no region")
	}
	if o.Credentials == nil {
		return nil, errors.New("no credentials")
	}
	if o.HTTPClient == nil {
		return nil, errors.New("no HTTP client")
	}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, cloudwatchlogs.EndpointParameters{
		Region:       aws.String(o.Region),
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		Endpoint:     o.BaseEndpoint,
	})
	if err != nil {
		return nil, fmt.Errorf("resolve endpoint: %w", err)
	}
	u := ep.URI
	if u.Path == "" {
		u.Path = "/"
	}
	ua := fmt.Sprintf("aws-sdk-go-v2/%s ua/2.1 os/%s lang/go#%s md/GOOS#%s md/GOARCH#%s api/cloudwatchlogs",
		aws.SDKVersion, runtime.GOOS, strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH)
	if o.AppID != "" {
		ua += " app/" + o.AppID
	}
	return &directPut{do: o.HTTPClient.Do, creds: o.Credentials, signer: v4.NewSigner(), region: o.Region,
		url: u.String(), headers: ep.Headers, userAgent: ua}, nil
}

const (
	serviceID      = "CloudWatch Logs"
	signingName    = "logs"
	targetPutLogs  = "Logs_20140328.PutLogEvents"
	contentTypeAWS = "application/x-amz-json-1.1"
)

// put sends body as one PutLogEvents request.
func (p *directPut) put(ctx context.Context, body io.ReadSeeker, size int64) (*cloudwatchlogs.PutLogEventsOutput, error) {
	out, err := p.roundTrip(ctx, body, size)
	if err != nil {
		return nil, &smithy.OperationError{ServiceID: serviceID, OperationName: "PutLogEvents", Err: err}
	}
	return out, nil
}

func (p *directPut) roundTrip(ctx context.Context, body io.ReadSeeker, size int64) (*cloudwatchlogs.PutLogEventsOutput, error) {
	h := sha256.New()
	if _, err := io.Copy(h, body); err != nil {
		return nil, fmt.Errorf("hash body: %w", err)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewind body: %w", err)
	}
	var sum [sha256.Size]byte
	hash := hex.EncodeToString(h.Sum(sum[:0]))
	creds, err := p.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("get identity: %w", err)
	}
	// The transport may still read the body after Do returns (an answer
	// before the whole request was written); the batch is then no longer
	// the request's to read.
	gb := &guardedBody{r: body}
	defer gb.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, gb)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	req.Header = http.Header{
		"Content-Type": {contentTypeAWS},
		"X-Amz-Target": {targetPutLogs},
		"User-Agent":   {p.userAgent},
	}
	for k, v := range p.headers {
		req.Header[k] = v
	}
	if err := p.signer.SignHTTP(ctx, creds, req, hash, signingName, p.region, time.Now().Add(time.Duration(p.skew.Load()))); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sent := time.Now()
	resp, err := p.do(req)
	if err != nil {
		return nil, responseError(&http.Response{}, &smithyhttp.RequestSendError{Err: err})
	}
	defer resp.Body.Close()
	p.observeSkew(resp, sent, time.Now())
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, responseError(resp, &smithyhttp.RequestSendError{Err: err})
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return nil, responseError(resp, decodeAPIError(resp.Header, data))
	}
	out, err := decodePutOutput(data)
	if err != nil {
		return nil, responseError(resp, err)
	}
	return out, nil
}

// responseError wraps err as the SDK does every error of a call that made
// (or tried to make) an HTTP request: with the status and request ID.
func responseError(resp *http.Response, err error) error {
	return &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: err},
		RequestID:     resp.Header.Get("X-Amzn-Requestid"),
	}
}

// observeSkew keeps the difference between the server's clock and ours,
// as the SDK does: from the Date header of a response that was not served
// from a cache and took less than 15 minutes.
func (p *directPut) observeSkew(resp *http.Response, sent, received time.Time) {
	date := resp.Header.Get("Date")
	if date == "" || resp.Header.Get("Age") != "" || received.Sub(sent) > 15*time.Minute {
		return
	}
	server, err := smithyhttp.ParseTime(date)
	if err != nil {
		return
	}
	p.skew.Store(int64(server.Sub(received)))
}

// decodeAPIError reads an awsJson 1.1 error: the code from the body's
// __type (or code), else the X-Amzn-ErrorType header, without its
// namespace and anything after a colon; the message from message or
// Message. A body that is not JSON (a proxy's HTML page) is a
// deserialization error, as the SDK reports it: not an API error.
func decodeAPIError(h http.Header, body []byte) error {
	var e struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &e); err != nil {
			return &smithy.DeserializationError{Err: fmt.Errorf("error response: %w", err), Snapshot: body[:min(len(body), 1024)]}
		}
	}
	code := "UnknownError"
	if c := h.Get("X-Amzn-ErrorType"); c != "" {
		code = sanitizeCode(c)
	}
	if c := cmp.Or(e.Type, e.Code); c != "" {
		code = sanitizeCode(c)
	}
	return &smithy.GenericAPIError{Code: code, Message: cmp.Or(e.Message, e.MessageU)}
}

func sanitizeCode(c string) string {
	if i := strings.IndexByte(c, ':'); i >= 0 {
		c = c[:i]
	}
	if i := strings.LastIndexByte(c, '#'); i >= 0 {
		c = c[i+1:]
	}
	return c
}

// decodePutOutput reads a PutLogEvents response body.
func decodePutOutput(body []byte) (*cloudwatchlogs.PutLogEventsOutput, error) {
	var o struct {
		NextSequenceToken *string `json:"nextSequenceToken"`
		Rejected          *struct {
			TooNew  *int32 `json:"tooNewLogEventStartIndex"`
			TooOld  *int32 `json:"tooOldLogEventEndIndex"`
			Expired *int32 `json:"expiredLogEventEndIndex"`
		} `json:"rejectedLogEventsInfo"`
		RejectedEntity *struct {
			ErrorType string `json:"errorType"`
		} `json:"rejectedEntityInfo"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &o); err != nil {
			return nil, &smithy.DeserializationError{Err: fmt.Errorf("response: %w", err), Snapshot: body[:min(len(body), 1024)]}
		}
	}
	out := &cloudwatchlogs.PutLogEventsOutput{NextSequenceToken: o.NextSequenceToken}
	if r := o.Rejected; r != nil {
		out.RejectedLogEventsInfo = &types.RejectedLogEventsInfo{
			TooNewLogEventStartIndex: r.TooNew, TooOldLogEventEndIndex: r.TooOld, ExpiredLogEventEndIndex: r.Expired,
		}
	}
	if r := o.RejectedEntity; r != nil {
		out.RejectedEntityInfo = &types.RejectedEntityInfo{ErrorType: types.EntityRejectionErrorType(r.ErrorType)}
	}
	return out, nil
}

// guardedBody is a request body that stops reading its source once closed.
type guardedBody struct {
	mu     sync.Mutex
	r      io.Reader
	closed bool
}

func (g *guardedBody) Read(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return 0, io.ErrClosedPipe
	}
	return g.r.Read(b)
}

func (g *guardedBody) Close() error {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	return nil
}
