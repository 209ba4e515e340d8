package cwlocal

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

const (
	hour = int64(time.Hour / time.Millisecond)
	day  = 24 * hour
)

// evs builds events with the given timestamps and message.
func evs(msg string, ts ...int64) []types.InputLogEvent {
	out := make([]types.InputLogEvent, len(ts))
	for i, t := range ts {
		out[i] = types.InputLogEvent{Timestamp: aws.Int64(t), Message: aws.String(msg)}
	}
	return out
}

func repeatEvents(n int, ts int64, msg string) []types.InputLogEvent {
	out := make([]types.InputLogEvent, n)
	for i := range out {
		out[i] = types.InputLogEvent{Timestamp: aws.Int64(ts), Message: aws.String(msg)}
	}
	return out
}

// TestPutLogEventsRules puts one batch per rule, each at its edge, and
// checks the exact outcome: the error the SDK returns, or the rejected
// indices and the number of events stored.
func TestPutLogEventsRules(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	n := now.UnixMilli()
	s := startServer(t, Options{now: fixedClock(now)})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	mustCreate(t, c, "/rules", "")
	mustCreate(t, c, "/rules-7d", "")
	if _, err := c.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{LogGroupName: aws.String("/rules-7d"), RetentionInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	maxMsg := strings.Repeat("m", 1_048_550)
	half := strings.Repeat("h", 524_262) // (524,262 + 26) * 2 = 1,048,576

	type rej struct{ tooOld, expired, tooNew *int32 }
	i32 := aws.Int32
	for i, tc := range []struct {
		name    string
		group   string // default /rules
		events  []types.InputLogEvent
		errType string // "" = accepted
		errMsg  string // prefix
		rej     rej
		stored  int
	}{
		{name: "largest event is accepted", events: evs(maxMsg, n), stored: 1},
		{name: "one byte more is too large", events: evs(maxMsg+"x", n), errType: "InvalidParameterException",
			errMsg: "Log event too large: 1048577 bytes exceeds limit of 1048576"},
		{name: "multi-byte characters count as bytes", events: evs(strings.Repeat("é", 524_275), n), stored: 1},
		{name: "one more two-byte character is too large", events: evs(strings.Repeat("é", 524_276), n), errType: "InvalidParameterException",
			errMsg: "Log event too large: 1048578 bytes exceeds limit of 1048576"},
		{name: "an invalid byte becomes U+FFFD (3 bytes) before sizing", events: evs(strings.Repeat("m", 1_048_549)+"\xff", n), errType: "InvalidParameterException",
			errMsg: "Log event too large: 1048578 bytes exceeds limit of 1048576"},
		{name: "batch of exactly 1,048,576 bytes", events: evs(half, n, n), stored: 2},
		{name: "batch one byte over", events: append(evs(half, n), evs(half+"x", n)...), errType: "InvalidParameterException",
			errMsg: "Upload too large: 1048577 bytes exceeds limit of 1048576"},
		{name: "10,000 events", events: repeatEvents(10_000, n, "e"), stored: 10_000},
		{name: "10,001 events", events: repeatEvents(10_001, n, "e"), errType: "InvalidParameterException",
			errMsg: "1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000"},
		{name: "no events", events: []types.InputLogEvent{}, errType: "InvalidParameterException",
			errMsg: "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "empty message", events: append(evs("a", n), evs("", n)...), errType: "InvalidParameterException",
			errMsg: "1 validation error detected: Value '' at 'logEvents.2.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{name: "two empty messages", events: evs("", n, n), errType: "InvalidParameterException",
			errMsg: "2 validation errors detected: Value '' at 'logEvents.1.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1; Value '' at 'logEvents.2.member.message'"},
		{name: "negative timestamp", events: evs("a", -1), errType: "InvalidParameterException",
			errMsg: "1 validation error detected: Value '-1' at 'logEvents.1.member.timestamp' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{name: "equal timestamps are in order", events: evs("a", n, n, n), stored: 3},
		{name: "decreasing timestamps", events: evs("a", n, n-1), errType: "InvalidParameterException",
			errMsg: "Log events in a single PutLogEvents request must be in chronological order."},
		{name: "span of exactly 24 h", events: evs("a", n-day, n), stored: 2},
		{name: "span of 24 h + 1 ms", events: evs("a", n-day-1, n), errType: "InvalidParameterException",
			errMsg: "The batch of log events in a single PutLogEvents request cannot span more than 24 hours."},
		{name: "span counts valid events only", events: evs("a", n-15*day, n), rej: rej{tooOld: i32(1)}, stored: 1},
		{name: "exactly 14 days old is accepted", events: evs("a", n-14*day), stored: 1},
		{name: "14 days + 1 ms is too old", events: evs("a", n-14*day-1, n), rej: rej{tooOld: i32(1)}, stored: 1},
		{name: "all too old is still HTTP 200", events: evs("a", n-20*day, n-19*day, n-15*day), rej: rej{tooOld: i32(3)}, stored: 0},
		{name: "exactly 2 h ahead is accepted", events: evs("a", n+2*hour), stored: 1},
		{name: "2 h + 1 ms ahead is too new", events: evs("a", n, n+2*hour+1), rej: rej{tooNew: i32(1)}, stored: 1},
		{name: "too old and too new around valid ones", events: evs("a", n-15*day, n-15*day, n, n+3*hour), rej: rej{tooOld: i32(2), tooNew: i32(3)}, stored: 1},
		{name: "retention: exactly 7 days old is kept", group: "/rules-7d", events: evs("a", n-7*day), stored: 1},
		{name: "retention: older is expired", group: "/rules-7d", events: evs("a", n-7*day-1, n-7*day, n-7*day+hour), rej: rej{expired: i32(1)}, stored: 2},
		{name: "retention: too old and expired", group: "/rules-7d", events: evs("a", n-15*day, n-8*day, n), rej: rej{tooOld: i32(1), expired: i32(2)}, stored: 1},
		{name: "missing group", group: "/nope", events: evs("a", n), errType: "ResourceNotFoundException", errMsg: "The specified log group does not exist."},
		{name: "schema errors come before a missing group", group: "/nope", events: evs("", n), errType: "InvalidParameterException", errMsg: "1 validation error detected"},
		{name: "missing group comes before order", group: "/nope", events: evs("a", n, n-1), errType: "ResourceNotFoundException"},
		{name: "missing group comes before event size", group: "/nope", events: evs(maxMsg+"x", n), errType: "ResourceNotFoundException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			group := tc.group
			if group == "" {
				group = "/rules"
			}
			stream := fmt.Sprintf("s%d", i)
			if group != "/nope" {
				mustCreate(t, c, group, stream)
			}
			out, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{
				LogGroupName: aws.String(group), LogStreamName: aws.String(stream), LogEvents: tc.events,
				SequenceToken: aws.String("ignored"),
			})
			if tc.errType != "" {
				status := 400
				apiErr(t, tc.name, err, tc.errType, status, tc.errMsg)
				if got := len(s.Events(group, stream)); got != 0 {
					t.Errorf("stored %d events of a failed batch", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("PutLogEvents: %v", err)
			}
			if tok := aws.ToString(out.NextSequenceToken); len(tok) != 56 || strings.Trim(tok, "0123456789") != "" {
				t.Errorf("nextSequenceToken = %q; want 56 digits", tok)
			}
			var got rej
			if ri := out.RejectedLogEventsInfo; ri != nil {
				got = rej{ri.TooOldLogEventEndIndex, ri.ExpiredLogEventEndIndex, ri.TooNewLogEventStartIndex}
			}
			if show(got) != show(tc.rej) {
				t.Errorf("rejected = %s; want %s", show(got), show(tc.rej))
			}
			if n := len(s.Events(group, stream)); n != tc.stored {
				t.Errorf("stored %d events; want %d", n, tc.stored)
			}
		})
	}
}

func show(r struct{ tooOld, expired, tooNew *int32 }) string {
	f := func(p *int32) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprint(*p)
	}
	return "tooOld=" + f(r.tooOld) + " expired=" + f(r.expired) + " tooNew=" + f(r.tooNew)
}

func TestPutLogEventsMissingStream(t *testing.T) {
	s := startServer(t, Options{})
	c := newClient(s, testAccessKey, testSecretKey)
	mustCreate(t, c, "/g", "")
	_, err := c.PutLogEvents(context.Background(), &cloudwatchlogs.PutLogEventsInput{
		LogGroupName: aws.String("/g"), LogStreamName: aws.String("nope"), LogEvents: evs("a", time.Now().UnixMilli()),
	})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("err = %v; want ResourceNotFoundException", err)
	}
	apiErr(t, "missing stream", err, "ResourceNotFoundException", 400, "The specified log stream does not exist.")
}

// TestPutOnPutAndStore: accepted events reach OnPut before the response and
// are kept in timestamp order across batches; ingestion time is the server's.
func TestPutOnPutAndStore(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	n := now.UnixMilli()
	got := make(chan []Event, 10)
	s := startServer(t, Options{now: fixedClock(now), OnPut: func(g, st string, e []Event) {
		if g == "/g" && st == "s" {
			got <- e
		}
	}})
	c := newClient(s, testAccessKey, testSecretKey)
	mustCreate(t, c, "/g", "s")
	ctx := context.Background()
	put := func(e []types.InputLogEvent) {
		t.Helper()
		if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"), LogEvents: e}); err != nil {
			t.Fatal(err)
		}
	}
	put(append(evs("old", n-15*day), evs("b", n)...))
	put(evs("a", n-1))
	if e := <-got; len(e) != 1 || e[0].Message != "b" || e[0].Timestamp != n || e[0].IngestionTime != n {
		t.Errorf("first OnPut = %+v; want only the accepted event", e)
	}
	if e := <-got; len(e) != 1 || e[0].Message != "a" {
		t.Errorf("second OnPut = %+v", e)
	}
	all := s.Events("/g", "s")
	if len(all) != 2 || all[0].Message != "a" || all[1].Message != "b" {
		t.Errorf("Events = %+v; want a then b (by timestamp)", all)
	}
}

// TestConcurrentPuts: parallel puts to one stream (allowed since 2023) and
// reads at the same time all succeed; nothing is lost.
func TestConcurrentPuts(t *testing.T) {
	var mu sync.Mutex
	onPut := 0
	s := startServer(t, Options{OnPut: func(_, _ string, e []Event) {
		mu.Lock()
		onPut += len(e)
		mu.Unlock()
	}})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	mustCreate(t, c, "/c", "s")
	const workers, puts, per = 6, 10, 50
	errs := make(chan error, workers*puts+workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for p := range puts {
				now := time.Now().UnixMilli()
				batch := make([]types.InputLogEvent, per)
				for i := range batch {
					batch[i] = types.InputLogEvent{Timestamp: aws.Int64(now), Message: aws.String(fmt.Sprintf("w%d p%d e%d", w, p, i))}
				}
				_, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/c"), LogStreamName: aws.String("s"), LogEvents: batch})
				errs <- err
			}
			_, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/c"), LogStreamName: aws.String("s")})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	seen := make(map[string]bool)
	for _, e := range s.Events("/c", "s") {
		seen[e.Message] = true
	}
	if len(seen) != workers*puts*per || onPut != workers*puts*per {
		t.Errorf("stored %d distinct events, OnPut saw %d; want %d", len(seen), onPut, workers*puts*per)
	}
}
