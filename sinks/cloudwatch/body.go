package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/skiff-agent/skiff/sinks"
)

// The SDK's schema-based serializer costs several times what encoding the
// records does (BenchmarkPutLogEventsSDK), and it escapes every message
// again. So messages are stored escaped when they are batched, and the
// PutLogEvents body is streamed from them (putBody). directPut (put.go)
// sends it; where the SDK's client makes the call instead, putSerializer
// takes the place of the SDK's "OperationSerializer" middleware for this
// one call and writes the same awsJson 1.1 request, and everything after
// it is the SDK's: endpoint, signing, credentials, transport, error
// decoding.

type putSerializer struct {
	body io.ReadSeeker
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
	sreq, err := req.SetStream(m.body)
	if err != nil {
		return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("set stream: %w", err)
	}
	*req = *sreq
	return next.HandleSerialize(ctx, in)
}

// withBody returns the per-call option that sends body as the request.
func withBody(body io.ReadSeeker) func(*cloudwatchlogs.Options) {
	return func(o *cloudwatchlogs.Options) {
		o.APIOptions = append(slices.Clip(o.APIOptions), func(st *middleware.Stack) error {
			_, err := st.Serialize.Swap("OperationSerializer", &putSerializer{body: body})
			return err
		})
	}
}

// putBody is the PutLogEvents JSON body for some events of a batch,
// read straight from the batch's blocks rather than copied into one
// buffer: the SDK reads it once to sign it and once to send it, seeking
// back to the start in between. The batch must not change while it is
// read.
type putBody struct {
	b          *batch
	evs        []event
	head, tail []byte
	size, pos  int64
	part       int // 0 head, 1 events, 2 tail, 3 end
	ev, seg    int // in part 1: the event, and its opening, message, message's tail or closing
	off        int // bytes of the current segment already read
	close      []byte
	closeBuf   [40]byte
}

const closeMsg = `","timestamp":`

var (
	bodyHead  = []byte(`{"logEvents":[`)
	openEvent = []byte(`{"message":"`)
)

func newPutBody(b *batch, evs []event) *putBody {
	r := &putBody{b: b, evs: evs, head: bodyHead, tail: b.d.putTail()}
	r.size = int64(len(r.head) + len(r.tail))
	var digits [20]byte
	for i, e := range evs {
		r.size += int64(len(openEvent)+b.escapedLen(e)+len(closeMsg)+len(strconv.AppendInt(digits[:0], e.ts, 10))) + 1
		if i > 0 {
			r.size++ // the comma before it
		}
	}
	return r
}

// segment returns the rest of the current segment.
func (r *putBody) segment() []byte {
	var s []byte
	switch r.part {
	case 0:
		s = r.head
	case 1:
		switch r.seg {
		case 0:
			s = openEvent
		case 1:
			s, _ = r.b.escaped(r.evs[r.ev])
		case 2:
			_, s = r.b.escaped(r.evs[r.ev])
		default:
			s = r.close
		}
	case 2:
		s = r.tail
	}
	return s[r.off:]
}

// next moves to the next segment.
func (r *putBody) next() {
	r.off = 0
	switch r.part {
	case 0:
		r.part, r.ev, r.seg = 1, 0, 0
		if len(r.evs) == 0 {
			r.part = 2
		}
	case 1:
		if r.seg < 3 {
			r.seg++
			if r.seg == 3 {
				c := append(r.closeBuf[:0], closeMsg...)
				c = strconv.AppendInt(c, r.evs[r.ev].ts, 10)
				c = append(c, '}')
				if r.ev < len(r.evs)-1 {
					c = append(c, ',')
				}
				r.close = c
			}
			return
		}
		r.ev, r.seg = r.ev+1, 0
		if r.ev == len(r.evs) {
			r.part = 2
		}
	case 2:
		r.part = 3
	}
}

func (r *putBody) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && r.part < 3 {
		s := r.segment()
		if len(s) == 0 {
			r.next()
			continue
		}
		c := copy(p[n:], s)
		n += c
		r.off += c
	}
	r.pos += int64(n)
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// copyBufs are the buffers WriteTo copies through: the HTTP transport and
// the signer copy every body, and io.Copy would allocate 32 KiB for each.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// WriteTo writes the rest of the body to w in chunks of up to 32 KiB (a
// TLS connection gets whole records, not one write per event), through a
// pooled buffer, so that copying a body allocates nothing.
func (r *putBody) WriteTo(w io.Writer) (int64, error) {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	var total int64
	for {
		n, err := r.Read(*bp)
		if n > 0 {
			m, werr := w.Write((*bp)[:n])
			total += int64(m)
			if werr != nil {
				return total, werr
			}
			if m < n {
				return total, io.ErrShortWrite
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Seek moves to an offset; backwards, it starts over and skips forward.
func (r *putBody) Seek(offset int64, whence int) (int64, error) {
	abs := offset
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		abs += r.pos
	case io.SeekEnd:
		abs += r.size
	default:
		return 0, errors.New("putBody.Seek: invalid whence")
	}
	if abs < 0 {
		return 0, errors.New("putBody.Seek: negative position")
	}
	if abs < r.pos {
		r.pos, r.part, r.off = 0, 0, 0
	}
	for r.pos < abs && r.part < 3 {
		s := r.segment()
		if len(s) == 0 {
			r.next()
			continue
		}
		k := min(int64(len(s)), abs-r.pos)
		r.off += int(k)
		r.pos += k
	}
	r.pos = abs
	return abs, nil
}

// Len returns the bytes not read yet; the SDK takes the content length
// from it.
func (r *putBody) Len() int { return int(max(0, r.size-r.pos)) }

// putTail returns the end of d's PutLogEvents bodies: the group and stream.
// It is built for each request, not kept: a few hundred bytes per request
// against as many per stream for as long as the stream is known (a
// thousand quiet streams held 400 KiB of them).
func (d *dest) putTail() []byte {
	t := make([]byte, 0, len(`],"logGroupName":,"logStreamName":}`)+len(d.group)+len(d.stream)+4)
	t = append(t, `],"logGroupName":`...)
	t, _ = sinks.AppendJSONString(t, []byte(d.group))
	t = append(t, `,"logStreamName":`...)
	t, _ = sinks.AppendJSONString(t, []byte(d.stream))
	return append(t, '}')
}
