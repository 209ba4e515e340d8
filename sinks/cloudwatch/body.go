package cloudwatch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/skiff-agent/skiff/sinks"
)

// The SDK's schema-based serializer costs several times what encoding the
// records does (BenchmarkPutLogEventsSDK), and it escapes every message
// again. So messages are stored escaped when they are batched, and the
// PutLogEvents body is copied together from them: putSerializer takes the
// place of the SDK's "OperationSerializer" middleware for this one call and
// writes the same awsJson 1.1 request. Everything after it is the SDK's:
// endpoint, signing, credentials, transport, error decoding.

type putSerializer struct {
	body []byte
}

func (*putSerializer) ID() string { return "OperationSerializer" }

func (m *putSerializer) HandleSerialize(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (
	middleware.SerializeOutput, middleware.Metadata, error,
) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected transport type %T", in.Request)
	}
	req.Method = http.MethodPost
	if req.URL.Path == "" {
		req.URL.Path = "/"
	}
	req.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sreq, err := req.SetStream(bytes.NewReader(m.body))
	if err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("set stream: %w", err)
	}
	*req = *sreq
	return next.HandleSerialize(ctx, in)
}

// withBody returns the per-call option that sends body as the request.
func withBody(body []byte) func(*cloudwatchlogs.Options) {
	return func(o *cloudwatchlogs.Options) {
		o.APIOptions = append(slices.Clip(o.APIOptions), func(st *middleware.Stack) error {
			_, err := st.Serialize.Swap("OperationSerializer", &putSerializer{body: body})
			return err
		})
	}
}

// appendPutBody writes the PutLogEvents JSON body for evs of b.
func appendPutBody(dst []byte, b *batch, evs []event) []byte {
	// One allocation of the right size, rather than growing by doubling:
	// each event adds its escaped message and 45 bytes at most (a 13-digit
	// timestamp); the names are escaped at most 6 bytes per byte.
	need := 64 + 6*(len(b.d.group)+len(b.d.stream))
	for _, e := range evs {
		need += int(e.en) + 45
	}
	dst = slices.Grow(dst, need)
	dst = append(dst, `{"logEvents":[`...)
	for i, e := range evs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"message":"`...)
		dst = append(dst, b.escaped(e)...)
		dst = append(dst, `","timestamp":`...)
		dst = strconv.AppendInt(dst, e.ts, 10)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"logGroupName":`...)
	dst, _ = sinks.AppendJSONString(dst, []byte(b.d.group))
	dst = append(dst, `,"logStreamName":`...)
	dst, _ = sinks.AppendJSONString(dst, []byte(b.d.stream))
	return append(dst, '}')
}
