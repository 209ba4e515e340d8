package cwlocal

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

func messages(evs []types.OutputLogEvent) string {
	var m []string
	for _, e := range evs {
		m = append(m, aws.ToString(e.Message))
	}
	return strings.Join(m, ",")
}

func TestGetLogEvents(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	n := now.UnixMilli()
	s := startServer(t, Options{now: fixedClock(now)})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	mustCreate(t, c, "/g", "s")
	var batch []types.InputLogEvent
	for i := range 5 {
		batch = append(batch, types.InputLogEvent{Timestamp: aws.Int64(n + int64(i)), Message: aws.String(fmt.Sprint("e", i))})
	}
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"), LogEvents: batch}); err != nil {
		t.Fatal(err)
	}
	get := func(in cloudwatchlogs.GetLogEventsInput) *cloudwatchlogs.GetLogEventsOutput {
		t.Helper()
		in.LogGroupName, in.LogStreamName = aws.String("/g"), aws.String("s")
		out, err := c.GetLogEvents(ctx, &in)
		if err != nil {
			t.Fatalf("GetLogEvents: %v", err)
		}
		return out
	}

	// Forward from the head, two at a time, until the same token comes back.
	var seen []string
	var tok *string
	for range 10 {
		out := get(cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), Limit: aws.Int32(2), NextToken: tok})
		if m := messages(out.Events); m != "" {
			seen = append(seen, m)
		}
		if tok != nil && aws.ToString(out.NextForwardToken) == *tok {
			if len(out.Events) != 0 {
				t.Errorf("end of stream page has events %s", messages(out.Events))
			}
			break
		}
		tok = out.NextForwardToken
	}
	if got := strings.Join(seen, "|"); got != "e0,e1|e2,e3|e4" {
		t.Errorf("forward pages = %s; want e0,e1|e2,e3|e4", got)
	}

	// Without a token and startFromHead=false: the newest events, ascending.
	out := get(cloudwatchlogs.GetLogEventsInput{Limit: aws.Int32(2)})
	if m := messages(out.Events); m != "e3,e4" {
		t.Errorf("tail page = %s; want e3,e4", m)
	}
	// Backward from there until the same token comes back.
	seen = nil
	tok = out.NextBackwardToken
	for range 10 {
		out := get(cloudwatchlogs.GetLogEventsInput{Limit: aws.Int32(2), NextToken: tok})
		if m := messages(out.Events); m != "" {
			seen = append(seen, m)
		}
		if aws.ToString(out.NextBackwardToken) == *tok {
			break
		}
		tok = out.NextBackwardToken
	}
	if got := strings.Join(seen, "|"); got != "e1,e2|e0" {
		t.Errorf("backward pages = %s; want e1,e2|e0", got)
	}
	// The tail's forward token is the end: nothing new, same token.
	end := get(cloudwatchlogs.GetLogEventsInput{})
	again := get(cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), NextToken: end.NextForwardToken})
	if len(again.Events) != 0 || aws.ToString(again.NextForwardToken) != aws.ToString(end.NextForwardToken) {
		t.Errorf("after the end: %d events, token %s; want 0 and %s", len(again.Events), aws.ToString(again.NextForwardToken), aws.ToString(end.NextForwardToken))
	}
	// New events appear after that token.
	if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"),
		LogEvents: evs("e5", n+5)}); err != nil {
		t.Fatal(err)
	}
	more := get(cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), NextToken: end.NextForwardToken})
	if m := messages(more.Events); m != "e5" {
		t.Errorf("after new put = %s; want e5", m)
	}
	// Time range: start inclusive, end exclusive.
	out = get(cloudwatchlogs.GetLogEventsInput{StartFromHead: aws.Bool(true), StartTime: aws.Int64(n + 1), EndTime: aws.Int64(n + 3)})
	if m := messages(out.Events); m != "e1,e2" {
		t.Errorf("time range = %s; want e1,e2", m)
	}
	if e := out.Events[0]; aws.ToInt64(e.Timestamp) != n+1 || aws.ToInt64(e.IngestionTime) != n {
		t.Errorf("event = %+v", e)
	}

	_, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"), NextToken: aws.String("garbage")})
	apiErr(t, "bad token", err, "InvalidParameterException", 400, "The specified nextToken is invalid.")
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("nope")})
	apiErr(t, "missing stream", err, "ResourceNotFoundException", 400, "The specified log stream does not exist.")
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/nope"), LogStreamName: aws.String("s")})
	apiErr(t, "missing group", err, "ResourceNotFoundException", 400, "The specified log group does not exist.")
	_, err = c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/g"), LogGroupIdentifier: aws.String("/g"), LogStreamName: aws.String("s")})
	apiErr(t, "name and identifier", err, "InvalidParameterException", 400, "LogGroupName and LogGroupIdentifier are mutually exclusive parameters.")
}

func TestGetLogEventsPageBytes(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	s := startServer(t, Options{now: fixedClock(now)})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	mustCreate(t, c, "/g", "s")
	big := strings.Repeat("x", 600_000)
	for range 2 {
		if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"),
			LogEvents: evs(big, now.UnixMilli())}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/g"), LogStreamName: aws.String("s"), StartFromHead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Events) != 1 {
		t.Errorf("page of 2 × 600 kB events has %d events; want 1 (1 MB per page)", len(out.Events))
	}
}

func TestFilterLogEvents(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	n := now.UnixMilli()
	s := startServer(t, Options{now: fixedClock(now)})
	c := newClient(s, testAccessKey, testSecretKey)
	ctx := context.Background()
	put := func(stream string, e []types.InputLogEvent) {
		t.Helper()
		mustCreate(t, c, "/f", stream)
		if _, err := c.PutLogEvents(ctx, &cloudwatchlogs.PutLogEventsInput{LogGroupName: aws.String("/f"), LogStreamName: aws.String(stream), LogEvents: e}); err != nil {
			t.Fatal(err)
		}
	}
	mk := func(pairs ...any) []types.InputLogEvent {
		var out []types.InputLogEvent
		for i := 0; i < len(pairs); i += 2 {
			out = append(out, types.InputLogEvent{Timestamp: aws.Int64(n + int64(pairs[i].(int))), Message: aws.String(pairs[i+1].(string))})
		}
		return out
	}
	put("app-1", mk(0, "GET /a 200", 2, "GET /b 500 ERROR", 4, "POST /c 200"))
	put("app-2", mk(1, "ERROR disk full", 3, "GET /d 200 slow request"))
	put("db", mk(5, "ERROR deadlock"))

	filter := func(in cloudwatchlogs.FilterLogEventsInput) ([]types.FilteredLogEvent, *string) {
		t.Helper()
		in.LogGroupName = aws.String("/f")
		out, err := c.FilterLogEvents(ctx, &in)
		if err != nil {
			t.Fatalf("FilterLogEvents: %v", err)
		}
		return out.Events, out.NextToken
	}
	msgs := func(evs []types.FilteredLogEvent) string {
		var m []string
		for _, e := range evs {
			m = append(m, aws.ToString(e.LogStreamName)+":"+aws.ToString(e.Message))
		}
		return strings.Join(m, ",")
	}
	for _, tc := range []struct {
		name string
		in   cloudwatchlogs.FilterLogEventsInput
		want string
	}{
		{"all, interleaved by time", cloudwatchlogs.FilterLogEventsInput{},
			"app-1:GET /a 200,app-2:ERROR disk full,app-1:GET /b 500 ERROR,app-2:GET /d 200 slow request,app-1:POST /c 200,db:ERROR deadlock"},
		{"term", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("ERROR")},
			"app-2:ERROR disk full,app-1:GET /b 500 ERROR,db:ERROR deadlock"},
		{"all terms", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("GET 200")},
			"app-1:GET /a 200,app-2:GET /d 200 slow request"},
		{"phrase", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String(`"disk full"`)}, "app-2:ERROR disk full"},
		{"alternatives", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("?deadlock ?slow")},
			"app-2:GET /d 200 slow request,db:ERROR deadlock"},
		{"exclusion", cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("ERROR -deadlock")},
			"app-2:ERROR disk full,app-1:GET /b 500 ERROR"},
		{"stream names", cloudwatchlogs.FilterLogEventsInput{LogStreamNames: []string{"db", "app-2"}},
			"app-2:ERROR disk full,app-2:GET /d 200 slow request,db:ERROR deadlock"},
		{"stream prefix", cloudwatchlogs.FilterLogEventsInput{LogStreamNamePrefix: aws.String("app-1")},
			"app-1:GET /a 200,app-1:GET /b 500 ERROR,app-1:POST /c 200"},
		{"time range", cloudwatchlogs.FilterLogEventsInput{StartTime: aws.Int64(n + 1), EndTime: aws.Int64(n + 3)},
			"app-2:ERROR disk full,app-1:GET /b 500 ERROR"},
	} {
		got, next := filter(tc.in)
		if msgs(got) != tc.want || next != nil {
			t.Errorf("%s: %s (next %v); want %s", tc.name, msgs(got), next, tc.want)
		}
	}
	// Pagination: pages of two; the last page has no nextToken.
	var pages []string
	p := cloudwatchlogs.NewFilterLogEventsPaginator(c, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/f"), Limit: aws.Int32(2)})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, msgs(out.Events))
	}
	if len(pages) != 3 || pages[2] != "app-1:POST /c 200,db:ERROR deadlock" {
		t.Errorf("pages = %q; want 3 pages of 2", pages)
	}
	evs, _ := filter(cloudwatchlogs.FilterLogEventsInput{FilterPattern: aws.String("deadlock")})
	if len(evs) != 1 || len(aws.ToString(evs[0].EventId)) != 56 || aws.ToInt64(evs[0].IngestionTime) != n {
		t.Errorf("event = %+v", evs)
	}

	_, err := c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/f"), LogStreamNames: []string{"a"}, LogStreamNamePrefix: aws.String("a")})
	apiErr(t, "names and prefix", err, "InvalidParameterException", 400, "logStreamNames and logStreamNamePrefix are mutually exclusive")
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/nope")})
	apiErr(t, "missing group", err, "ResourceNotFoundException", 400, "The specified log group does not exist.")
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/f"), FilterPattern: aws.String(`{ $.level = "error" }`)})
	apiErr(t, "JSON pattern", err, "InvalidParameterException", 400, "cwlocal supports term filter patterns only")
	_, err = c.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/f"), NextToken: aws.String("x")})
	apiErr(t, "bad token", err, "InvalidParameterException", 400, "The specified nextToken is invalid.")
}
