package cloudwatch

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/skiff-agent/skiff/sinks"
)

// The SDK's schema-based serializer costs several times what encoding the
// records does (BenchmarkPutLogEventsSDK), so PutLogEvents bodies are
// written here instead: putSerializer takes the place of the SDK's
// "OperationSerializer" middleware for this one operation and writes the
// same awsJson 1.1 request. Everything after it is the SDK's: endpoint,
// signing, credentials, transport, error decoding.

// bodyPool holds request body buffers.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

type putSerializer struct {
	buf *[]byte
}

func (*putSerializer) ID() string { return "OperationSerializer" }

func (m *putSerializer) HandleSerialize(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (
	middleware.SerializeOutput, middleware.Metadata, error,
) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected transport type %T", in.Request)
	}
	p, ok := in.Parameters.(*cloudwatchlogs.PutLogEventsInput)
	if !ok {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("unexpected input %T", in.Parameters)
	}
	*m.buf = appendPutBody((*m.buf)[:0], p)
	req.Method = http.MethodPost
	if req.URL.Path == "" {
		req.URL.Path = "/"
	}
	req.Header.Set("X-Amz-Target", "Logs_20140328.PutLogEvents")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	sreq, err := req.SetStream(bytes.NewReader(*m.buf))
	if err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("set stream: %w", err)
	}
	*req = *sreq
	return next.HandleSerialize(ctx, in)
}

// withOwnSerializer returns the per-call option that installs
// putSerializer with buf as its body buffer.
func withOwnSerializer(buf *[]byte) func(*cloudwatchlogs.Options) {
	return func(o *cloudwatchlogs.Options) {
		o.APIOptions = append(slices.Clip(o.APIOptions), func(st *middleware.Stack) error {
			_, err := st.Serialize.Swap("OperationSerializer", &putSerializer{buf: buf})
			return err
		})
	}
}

// appendPutBody writes the PutLogEvents JSON body for p.
func appendPutBody(b []byte, p *cloudwatchlogs.PutLogEventsInput) []byte {
	b = append(b, `{"logEvents":[`...)
	for i, e := range p.LogEvents {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"message":`...)
		var msg string
		if e.Message != nil {
			msg = *e.Message
		}
		b, _ = sinks.AppendJSONString(b, unsafe.Slice(unsafe.StringData(msg), len(msg)))
		b = append(b, `,"timestamp":`...)
		var ts int64
		if e.Timestamp != nil {
			ts = *e.Timestamp
		}
		b = strconv.AppendInt(b, ts, 10)
		b = append(b, '}')
	}
	b = append(b, `],"logGroupName":`...)
	b = appendStr(b, p.LogGroupName)
	b = append(b, `,"logStreamName":`...)
	b = appendStr(b, p.LogStreamName)
	return append(b, '}')
}

func appendStr(b []byte, s *string) []byte {
	var v string
	if s != nil {
		v = *s
	}
	b, _ = sinks.AppendJSONString(b, unsafe.Slice(unsafe.StringData(v), len(v)))
	return b
}
