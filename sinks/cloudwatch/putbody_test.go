package cloudwatch

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// referenceBody builds the PutLogEvents body for evs of b in one buffer,
// the plain way.
func referenceBody(b *batch, evs []event) []byte {
	var dst []byte
	dst = append(dst, `{"logEvents":[`...)
	for i, e := range evs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"message":"`...)
		head, tail := b.escaped(e)
		dst = append(dst, head...)
		dst = append(dst, tail...)
		dst = append(dst, `","timestamp":`...)
		dst = strconv.AppendInt(dst, e.ts, 10)
		dst = append(dst, '}')
	}
	group, _ := json.Marshal(b.d.group)
	stream, _ := json.Marshal(b.d.stream)
	dst = append(dst, `],"logGroupName":`...)
	dst = append(dst, group...)
	dst = append(dst, `,"logStreamName":`...)
	dst = append(dst, stream...)
	return append(dst, '}')
}

// randomBatch fills a batch with n messages of random sizes (some larger
// than a block), with characters that need escaping, and returns them.
// Most messages end with one of two tails, passed as the encoder passes a
// container's kubernetes object: the first one the batch sees is kept once,
// the other copied into the blocks.
func randomBatch(rng *rand.Rand, d *dest, n int) (*batch, []string) {
	b := newBatch(d, time.Now())
	var msgs []string
	tails := []string{"", `,"kubernetes":{"pod_name":"a<é>"}}`, `,"kubernetes":{"pod_name":"b"}}`}
	escTails := make([][]byte, len(tails))
	for i, tail := range tails {
		esc, _ := json.Marshal(tail)
		escTails[i] = esc[1 : len(esc)-1]
	}
	for i := range n {
		size := rng.IntN(300)
		if rng.IntN(20) == 0 {
			size = blockBytes + rng.IntN(blockBytes)
		}
		alphabet := []rune("ab\"\\<é\n\t")
		var sb strings.Builder
		for range size {
			sb.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		tail := rng.IntN(len(tails))
		msg := sb.String() + strconv.Itoa(i) + tails[tail]
		esc, _ := json.Marshal(msg)
		head := esc[1 : len(esc)-1-len(escTails[tail])]
		b.add(head, escTails[tail], len(msg), 1_700_000_000_000+rng.Int64N(100_000), 0)
		msgs = append(msgs, msg)
	}
	b.seal()
	return b, msgs
}

// TestPutBodyMatchesReference: the streamed body is byte for byte the one
// built in a buffer, read whole, a byte at a time, after seeks back and
// forth, and its length is known before reading; it decodes to the
// messages put in.
func TestPutBodyMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 7, 300, 2000} {
		for _, last := range []int{0, 100, blockBytes} {
			d := &dest{group: "/aws/g", stream: `s"1`, lastBytes: last}
			b, msgs := randomBatch(rng, d, n)
			want := referenceBody(b, b.events)

			r := newPutBody(b, b.events)
			if r.Len() != len(want) {
				t.Fatalf("n=%d: Len %d; want %d", n, r.Len(), len(want))
			}
			if end, _ := r.Seek(0, io.SeekEnd); end != int64(len(want)) {
				t.Fatalf("n=%d: Seek(0, End) = %d; want %d", n, end, len(want))
			}
			r.Seek(0, io.SeekStart)
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("n=%d last=%d: ReadAll differs (err %v)\n got %.200q\nwant %.200q", n, last, err, got, want)
			}
			if len(want) <= 1<<20 { // byte at a time; the small batches cover it
				r.Seek(0, io.SeekStart)
				var one []byte
				p := make([]byte, 1)
				for {
					k, err := r.Read(p)
					one = append(one, p[:k]...)
					if err == io.EOF {
						break
					}
				}
				if !bytes.Equal(one, want) {
					t.Fatalf("n=%d: byte-at-a-time read differs", n)
				}
			}
			// WriteTo, as the transport and the signer copy it, from the
			// start and after a Seek.
			for _, pos := range []int64{0, rng.Int64N(int64(len(want)) + 1)} {
				r.Seek(pos, io.SeekStart)
				var buf bytes.Buffer
				k, err := io.Copy(&buf, r) // uses WriteTo
				if err != nil || k != int64(len(want))-pos || !bytes.Equal(buf.Bytes(), want[pos:]) {
					t.Fatalf("n=%d: WriteTo from %d wrote %d bytes (err %v), not the rest of the body", n, pos, k, err)
				}
			}
			for range 5 {
				pos := rng.Int64N(int64(len(want)) + 1)
				if got, _ := r.Seek(pos, io.SeekStart); got != pos {
					t.Fatalf("Seek(%d) = %d", pos, got)
				}
				rest, _ := io.ReadAll(r)
				if !bytes.Equal(rest, want[pos:]) {
					t.Fatalf("n=%d: after Seek(%d) the rest differs", n, pos)
				}
			}

			var body struct {
				LogEvents []struct {
					Message   string
					Timestamp int64
				}
				LogGroupName, LogStreamName string
			}
			if err := json.Unmarshal(got, &body); err != nil {
				t.Fatalf("n=%d: body is not JSON: %v", n, err)
			}
			if len(body.LogEvents) != n || body.LogStreamName != d.stream || body.LogGroupName != d.group {
				t.Fatalf("n=%d: decoded %d events to %q/%q", n, len(body.LogEvents), body.LogGroupName, body.LogStreamName)
			}
			seen := map[string]bool{}
			for _, e := range body.LogEvents {
				seen[e.Message] = true
			}
			for _, m := range msgs {
				if !seen[m] {
					t.Fatalf("n=%d: message %.40q missing from the body", n, m)
				}
			}
			b.recycle()
		}
	}
}

// TestBatchBlocks: a quiet stream's batch holds a block about its size and
// grows by doubling, a busy stream's takes full blocks, a message larger than a block gets one
// of its own, and delivered blocks serve later batches.
func TestBatchBlocks(t *testing.T) {
	msg := bytes.Repeat([]byte("x"), 100)
	quiet := newBatch(&dest{lastBytes: 300}, time.Now())
	quiet.add(msg, nil, len(msg), 1, 0)
	if c := cap(quiet.blocks[0]); c > 1024 {
		t.Errorf("quiet stream's first block: %d bytes; want about its last batch's 300", c)
	}
	for range 20 {
		quiet.add(msg, nil, len(msg), 1, 0)
	}
	if len(quiet.blocks) < 2 || cap(quiet.blocks[1]) != 2*cap(quiet.blocks[0]) {
		t.Errorf("quiet stream grown past its first block: blocks %d, want the second twice the first", len(quiet.blocks))
	}

	// A stream's first batch (its size unknown, as after a start) holds
	// about what it carries, growing to full blocks only when it is busy.
	fresh := newBatch(&dest{}, time.Now())
	held := func() (bytes, full int) {
		for _, blk := range fresh.blocks {
			bytes += cap(blk)
			if cap(blk) == blockBytes {
				full++
			}
		}
		return bytes, full
	}
	for i := range 40 {
		fresh.add(msg, nil, len(msg), 1, 0)
		// Twice the bytes, and a message's room left at each block's end.
		if c, full := held(); full > 0 || c > 2*(i+1)*len(msg)+len(fresh.blocks)*len(msg)+minBlockBytes {
			t.Fatalf("first batch with %d bytes holds %d bytes in blocks (%d full)", (i+1)*len(msg), c, full)
		}
	}
	for range 3 * blockBytes / len(msg) {
		fresh.add(msg, nil, len(msg), 1, 0)
	}
	if _, full := held(); full < 2 {
		t.Errorf("a busy first batch took %d full blocks; want it to grow to them", full)
	}
	fresh.recycle()

	busy := newBatch(&dest{lastBytes: 3 * blockBytes}, time.Now())
	for range 3 * blockBytes / len(msg) {
		busy.add(msg, nil, len(msg), 1, 0)
	}
	huge := bytes.Repeat([]byte("y"), 2*blockBytes)
	busy.add(huge, nil, len(huge), 1, 0)
	for i, blk := range busy.blocks[:len(busy.blocks)-1] {
		if cap(blk) != blockBytes {
			t.Errorf("busy stream's block %d: %d bytes; want %d", i, cap(blk), blockBytes)
		}
	}
	if got, _ := busy.escaped(busy.events[len(busy.events)-1]); !bytes.Equal(got, huge) {
		t.Errorf("large message stored as %d bytes", len(got))
	}
	first := &busy.blocks[0][:1][0]
	busy.recycle()
	reused := false
	for range maxFreeBlocks {
		if b := getBlock(); &b[:1][0] == first {
			reused = true
			break
		}
	}
	if !reused {
		t.Error("a delivered batch's block was not reused")
	}
}

// Copying a body allocates nothing once the copy buffer exists: io.Copy
// goes through putBody.WriteTo.
func TestPutBodyWriteToAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	d := &dest{group: "/aws/g", stream: "s"}
	b, _ := randomBatch(rng, d, 500)
	defer b.recycle()
	r := newPutBody(b, b.events)
	var conn io.Writer = struct{ io.Writer }{io.Discard} // a writer without ReadFrom, as a TLS connection
	allocs := testing.AllocsPerRun(20, func() {
		r.Seek(0, io.SeekStart)
		if _, err := io.Copy(conn, r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 0 {
		t.Errorf("copying a body allocated %.0f times", allocs)
	}
}

// A batch keeps the tail its messages share once: the blocks hold only
// the heads. A message with another tail carries it in the blocks, and
// both decode whole.
func TestBatchKeepsTailOnce(t *testing.T) {
	d := &dest{group: "/aws/g", stream: "s"}
	b := newBatch(d, time.Now())
	defer b.recycle()
	tail := []byte(`,\"kubernetes\":{\"pod_name\":\"p\"}}`)
	other := []byte(`,\"kubernetes\":{\"pod_name\":\"q\"}}`)
	heads := 0
	for i := range 100 {
		head := []byte(`{\"log\":\"line ` + strconv.Itoa(i) + `\"`)
		b.add(head, tail, len(head)+len(tail), int64(i), 0)
		heads += len(head)
	}
	last := []byte(`{\"log\":\"from another container\"`)
	b.add(last, other, len(last)+len(other), 100, 0)
	held := 0
	for _, blk := range b.blocks {
		held += len(blk)
	}
	if want := heads + len(last) + len(other); held != want {
		t.Errorf("blocks hold %d bytes; want %d: the shared tail once, outside them, and the other tail inside", held, want)
	}
	for i, e := range b.events {
		head, got := b.escaped(e)
		want := tail
		if i == 100 {
			want = nil
			if !bytes.HasSuffix(head, other) {
				t.Errorf("last message %s does not end with its own tail", head)
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("message %d: tail %s; want %s", i, got, want)
		}
	}
}
