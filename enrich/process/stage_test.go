package process

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/skiff-agent/skiff/enrich/fields"
	"github.com/skiff-agent/skiff/enrich/parse"
	"github.com/skiff-agent/skiff/enrich/redact"
	"github.com/skiff-agent/skiff/tailer"
)

// got is a record as the next consumer saw it.
type got struct {
	msg, fields, extra string
}

// collect is a consumer that keeps copies of what it is given.
type collect struct {
	recs []got
	err  error
}

func (c *collect) Write(_ context.Context, recs []tailer.Record) error {
	if c.err != nil {
		return c.err
	}
	for _, r := range recs {
		c.recs = append(c.recs, got{string(r.Message), string(r.Fields), string(r.Extra)})
		r.Pos.Ack()
	}
	return nil
}

// counter counts acknowledgements.
type counter struct{ n atomic.Int64 }

func (c *counter) Ack(n int) { c.n.Add(int64(n)) }

func rec(ack tailer.Acker, ns, pod, container, msg string) tailer.Record {
	return tailer.Record{
		Message: []byte(msg),
		Stream:  tailer.Stdout,
		File:    &tailer.FileMeta{Namespace: ns, Pod: pod, Container: container, Input: "application"},
		Pos:     tailer.Position{Acker: ack},
	}
}

func builtin(t *testing.T, name string) parse.Parser {
	t.Helper()
	p, ok := parse.Builtin(name)
	if !ok {
		t.Fatalf("no builtin parser %q", name)
	}
	return p
}

func newStage(t *testing.T, cfg Config, next tailer.Consumer) (*Stage, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	s, err := New(cfg, next)
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

func TestParserChoice(t *testing.T) {
	logfmt, nginx := builtin(t, "logfmt"), builtin(t, "nginx")
	cfg := Config{
		Parsers: []ParserChoice{
			{Select: Select{Namespace: "ingress", Container: "controller"}, Parser: nginx},
			{Select: Select{Input: "application"}, Parser: logfmt},
		},
		Named: map[string]parse.Parser{"logfmt": logfmt, "nginx": nginx},
	}
	next := &collect{}
	s, reg := newStage(t, cfg, next)
	acks := &counter{}
	annotated := rec(acks, "shop", "web", "app", `level=info msg=hi`)
	annotated.Pod = &tailer.PodMeta{Name: "web", Namespace: "shop", Controls: tailer.Controls{Parser: "nginx"}}
	recs := []tailer.Record{
		rec(acks, "shop", "api", "app", `level=warn msg="disk full" free=3`),
		rec(acks, "ingress", "nginx-1", "controller", `10.0.0.1 - - [05/Dec/2026:10:00:00 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.31"`),
		rec(acks, "shop", "api", "app", `just text`),
		annotated,
	}
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"level":"warn","msg":"disk full","free":"3"}`,
		`{"remote":"10.0.0.1","host":"-","user":"-","time":"05/Dec/2026:10:00:00 +0000","method":"GET","path":"/healthz","code":"200","size":"2","referer":"-","agent":"kube-probe/1.31"}`,
		``, // refused by logfmt: shipped unparsed
		``, // the pod asks for nginx, which refuses it
	}
	if len(next.recs) != len(want) {
		t.Fatalf("passed %d records; want %d", len(next.recs), len(want))
	}
	for i, w := range want {
		if next.recs[i].fields != w {
			t.Errorf("record %d fields = %s; want %s", i, next.recs[i].fields, w)
		}
	}
	if recs[0].Fields != nil {
		t.Error("Write changed the records it was given")
	}
	for _, c := range []struct {
		parser, outcome string
		want            float64
	}{{"logfmt", "parsed", 1}, {"logfmt", "refused", 1}, {"nginx", "parsed", 1}, {"nginx", "refused", 1}} {
		if got := testutil.ToFloat64(mustVec(t, reg, "skiff_parser_records_total", "parser="+c.parser, "outcome="+c.outcome)); got != c.want {
			t.Errorf("parser %s %s = %v; want %v", c.parser, c.outcome, got, c.want)
		}
	}
}

func TestFilters(t *testing.T) {
	json := builtin(t, "json")
	web := labels.SelectorFromSet(labels.Set{"app": "web"})
	cfg := Config{
		Parsers:   []ParserChoice{{Parser: json}},
		FieldsKey: "log_processed",
		Filters: []Filter{
			{Name: "no-health", Field: "log", Regex: regexp.MustCompile(`GET /healthz`), Action: Drop},
			{Name: "no-kube-system", Select: Select{Namespace: "kube-system"}, Action: Drop},
			{Name: "shop-errors", Select: Select{Namespace: "shop"}, Field: "log_processed.level", Regex: regexp.MustCompile(`^(error|warn)$`), Action: Keep},
			{Name: "tidy", Select: Select{Labels: web}, Ops: []fields.Op{
				{Kind: fields.Lift, Key: "http"}, {Kind: fields.Rename, Key: "msg", To: "message"}, {Kind: fields.Remove, Key: "secret"},
			}, Add: [][2]string{{"team", "storefront"}}},
		},
	}
	next := &collect{}
	s, reg := newStage(t, cfg, next)
	acks := &counter{}
	webRec := func(msg string) tailer.Record {
		r := rec(acks, "shop", "web-1", "app", msg)
		r.Pod = &tailer.PodMeta{Name: "web-1", Namespace: "shop", Labels: map[string]string{"app": "web"}}
		return r
	}
	recs := []tailer.Record{
		rec(acks, "default", "a", "app", `GET /healthz 200`),
		rec(acks, "kube-system", "coredns", "coredns", `ready`),
		rec(acks, "shop", "cart", "app", `{"level":"info","msg":"ok"}`),
		rec(acks, "shop", "cart", "app", `{"level":"error","msg":"payment failed"}`),
		webRec(`{"level":"warn","msg":"slow","http":{"status":503,"path":"/pay"},"secret":"x"}`),
		rec(acks, "default", "b", "app", `kept as is`),
	}
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	want := []got{
		{`{"level":"error","msg":"payment failed"}`, `{"level":"error","msg":"payment failed"}`, ``},
		{`{"level":"warn","msg":"slow","http":{"status":503,"path":"/pay"},"secret":"x"}`, `{"level":"warn","message":"slow","status":503,"path":"/pay"}`, `,"team":"storefront"`},
		{`kept as is`, ``, ``},
	}
	if fmt.Sprint(next.recs) != fmt.Sprint(want) {
		t.Errorf("passed\n%v\nwant\n%v", next.recs, want)
	}
	if got := acks.n.Load(); got != int64(len(recs)) {
		t.Errorf("acknowledged %d records; want %d (every record once, dropped or shipped)", got, len(recs))
	}
	for name, want := range map[string]float64{"no-health": 1, "no-kube-system": 1, "shop-errors": 1, "tidy": 0} {
		if got := testutil.ToFloat64(mustVec(t, reg, "skiff_filter_dropped_records_total", "filter="+name)); got != want {
			t.Errorf("filter %s dropped %v; want %v", name, got, want)
		}
	}
}

func TestRedactionBeforeParsing(t *testing.T) {
	email, _ := redact.Builtin("email")
	key, _ := redact.Builtin("aws_access_key_id")
	cfg := Config{Redact: []*redact.Rule{email, key}, Parsers: []ParserChoice{{Parser: builtin(t, "logfmt")}}}
	next := &collect{}
	s, reg := newStage(t, cfg, next)
	journal := rec(nil, "", "", "", `{"message":"login by bob@example.com","unit":"sshd"}`)
	journal.Flags = tailer.Encoded
	recs := []tailer.Record{
		rec(nil, "shop", "api", "app", `user=alice@example.com key=AKIAIOSFODNN7EXAMPLE action=login`),
		journal,
	}
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	for _, r := range next.recs {
		for _, secret := range []string{"alice@example.com", "bob@example.com", "AKIAIOSFODNN7EXAMPLE"} {
			if strings.Contains(r.msg+r.fields+r.extra, secret) {
				t.Errorf("the secret %q reached the sink: %+v", secret, r)
			}
		}
	}
	if want := `{"user":"[REDACTED]","key":"[REDACTED]","action":"login"}`; next.recs[0].fields != want {
		t.Errorf("parsed fields = %s; want %s", next.recs[0].fields, want)
	}
	if want := `{"message":"login by [REDACTED]","unit":"sshd"}`; next.recs[1].msg != want {
		t.Errorf("journal record = %s; want %s", next.recs[1].msg, want)
	}
	if got := testutil.ToFloat64(mustVec(t, reg, "skiff_redacted_total", "rule=email")); got != 2 {
		t.Errorf("email redactions = %v; want 2", got)
	}
}

func TestLimitDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limits: []Limit{{Select: Select{Namespace: "noisy"}, Lines: 10}}}
		next := &collect{}
		s, reg := newStage(t, cfg, next)
		acks := &counter{}
		batch := func(ns string, n int) []tailer.Record {
			recs := make([]tailer.Record, n)
			for i := range recs {
				recs[i] = rec(acks, ns, "flood", "app", "line")
			}
			return recs
		}
		for range 3 {
			if err := s.Write(context.Background(), batch("noisy", 25)); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(context.Background(), batch("quiet", 25)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
		}
		// A second of burst, then 10 a second: 10 + 10 + 10 of the
		// noisy pod's 75; all of the other's.
		if got, want := len(next.recs), 30+75; got != want {
			t.Errorf("passed %d records; want %d", got, want)
		}
		if got := testutil.ToFloat64(mustVec(t, reg, "skiff_limit_dropped_records_total", "k8s_namespace_name=noisy")); got != 45 {
			t.Errorf("dropped %v for namespace noisy; want 45", got)
		}
		if got := acks.n.Load(); got != 150 {
			t.Errorf("acknowledged %d; want 150", got)
		}
	})
}

func TestLimitHolds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limits: []Limit{{Lines: 100, Hold: true}}}
		next := &collect{}
		s, reg := newStage(t, cfg, next)
		acks := &counter{}
		recs := make([]tailer.Record, 150)
		for i := range recs {
			recs[i] = rec(acks, "shop", "flood", "app", "line")
		}
		// The first batch goes on credit (100 in the bucket, 150 taken);
		// the next is held until the credit is paid back (0.5 s at 100
		// lines a second).
		if err := s.Write(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(context.Background(), recs); !errors.Is(err, ErrHeld) {
			t.Fatalf("second batch: %v; want ErrHeld", err)
		}
		time.Sleep(400 * time.Millisecond)
		if err := s.Write(context.Background(), recs); !errors.Is(err, ErrHeld) {
			t.Fatalf("after 0.4 s: %v; want ErrHeld", err)
		}
		time.Sleep(200 * time.Millisecond)
		if err := s.Write(context.Background(), recs); err != nil {
			t.Fatalf("after 0.6 s: %v; want nil", err)
		}
		if got := len(next.recs); got != 300 {
			t.Errorf("passed %d; want 300, nothing dropped", got)
		}
		if got := acks.n.Load(); got != 300 {
			t.Errorf("acknowledged %d; want 300 (a held batch is not acknowledged)", got)
		}
		if got := testutil.ToFloat64(mustVec(t, reg, "skiff_limit_held_batches_total")); got != 2 {
			t.Errorf("held batches = %v; want 2", got)
		}
	})
}

func TestPassThroughWithoutStages(t *testing.T) {
	next := &collect{}
	s, _ := newStage(t, Config{Named: map[string]parse.Parser{"logfmt": builtin(t, "logfmt")}}, next)
	recs := []tailer.Record{rec(nil, "a", "b", "c", "x=1")}
	allocs := testing.AllocsPerRun(100, func() {
		next.recs = next.recs[:0]
		_ = s.Write(context.Background(), recs)
	})
	if next.recs[0].fields != "" {
		t.Errorf("a record whose pod asks nothing was parsed: %+v", next.recs[0])
	}
	// collect copies strings: 3 allocations for its record, none from the stage.
	if allocs > 3 {
		t.Errorf("Write without stages allocates %v times; want the consumer's 3", allocs)
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"unnamed filter", Config{Filters: []Filter{{Action: Drop}}}, "needs a name"},
		{"field without regex", Config{Filters: []Filter{{Name: "f", Field: "log", Action: Drop}}}, "field and regex go together"},
		{"modify nothing", Config{Filters: []Filter{{Name: "f"}}}, "must change something"},
		{"keep without field", Config{Filters: []Filter{{Name: "f", Action: Keep}}}, "keep needs a field"},
		{"drop and change", Config{Filters: []Filter{{Name: "f", Action: Drop, Add: [][2]string{{"a", "b"}}}}}, "cannot also change"},
		{"same name", Config{Filters: []Filter{{Name: "f", Action: Drop}, {Name: "f", Action: Drop}}}, "used twice"},
		{"no rate", Config{Limits: []Limit{{Name: "l"}}}, "needs lines_per_second or bytes_per_second"},
		{"bad glob", Config{Limits: []Limit{{Lines: 1, Select: Select{Pod: "["}}}}, "syntax error in pattern"},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate() = %v; want an error with %q", c.name, err, c.want)
		}
	}
}

// mustVec returns the child of a registered vector metric, its labels
// given as name=value.
func mustVec(t *testing.T, reg *prometheus.Registry, name string, values ...string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ok := len(m.GetLabel()) == len(values)
			for _, l := range m.GetLabel() {
				ok = ok && slices.Contains(values, l.GetName()+"="+l.GetValue())
			}
			if ok {
				v := m.GetCounter().GetValue()
				return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", Help: "x"}, func() float64 { return v })
			}
		}
	}
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", Help: "x"}, func() float64 { return 0 })
}

// discard is a consumer that acknowledges and keeps nothing.
type discard struct{}

func (discard) Write(_ context.Context, recs []tailer.Record) error {
	for i := range recs {
		recs[i].Pos.Ack()
	}
	return nil
}

// BenchmarkStage measures the stage on batches of 256 typical lines, with
// each stage on its own and all together.
func BenchmarkStage(b *testing.B) {
	logfmt, _ := parse.Builtin("logfmt")
	email, _ := redact.Builtin("email")
	key, _ := redact.Builtin("aws_access_key_id")
	card, _ := redact.Builtin("credit_card")
	filter := Filter{Name: "no-health", Field: "log", Regex: regexp.MustCompile(`GET /healthz`), Action: Drop}
	limit := Limit{Lines: 1e12}
	cases := []struct {
		name string
		cfg  Config
	}{
		{"none", Config{Named: map[string]parse.Parser{"logfmt": logfmt}}},
		{"parse-logfmt", Config{Parsers: []ParserChoice{{Parser: logfmt}}}},
		{"redact-3-rules", Config{Redact: []*redact.Rule{email, key, card}}},
		{"filter-regex", Config{Filters: []Filter{filter}}},
		{"limit", Config{Limits: []Limit{limit}}},
		{"all", Config{Parsers: []ParserChoice{{Parser: logfmt}}, Redact: []*redact.Rule{email, key, card}, Filters: []Filter{filter}, Limits: []Limit{limit}}},
	}
	recs := make([]tailer.Record, 256)
	var bytes int64
	for i := range recs {
		recs[i] = rec(nil, "shop", "api", "app", fmt.Sprintf(`level=info msg="request served" method=GET path=/api/v1/items/%d status=200 duration=1.2ms user=anonymous`, i))
		bytes += int64(len(recs[i].Message))
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			s, err := New(c.cfg, discard{})
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(bytes)
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Write(context.Background(), recs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
