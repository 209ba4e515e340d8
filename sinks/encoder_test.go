package sinks

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/skiff-agent/skiff/tailer"
)

var (
	testTime = time.Date(2026, 11, 26, 14, 6, 10, 123456789, time.UTC)
	testFile = &tailer.FileMeta{
		Path: "/var/log/containers/web-1_shop_app-abc.log", Namespace: "shop", Pod: "web-1",
		PodUID: "uid-1", Container: "app", ContainerID: "abc", Restart: 0,
	}
	testPod = &tailer.PodMeta{
		Name: "web-1", Namespace: "shop", UID: "uid-1", Host: "node-a",
		Labels:      map[string]string{"app": "web", "tier": "front"},
		Annotations: map[string]string{"note": "x"},
		Containers: map[string]tailer.ContainerMeta{
			"app": {Image: "nginx:1.27", ImageID: "docker.io/library/nginx@sha256:ff", ContainerID: "containerd://abc"},
		},
	}
)

// testNsPod is testPod with its namespace's metadata attached.
var testNsPod = func() *tailer.PodMeta {
	p := *testPod
	p.NamespaceLabels = map[string]string{"team": "a", "env": "prod"}
	p.NamespaceAnnotations = map[string]string{"owner": "ops"}
	return &p
}()

func encode(t *testing.T, cfg EncoderConfig, rec tailer.Record) string {
	t.Helper()
	e, err := NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := string(e.Append(nil, &rec))
	// Encoding twice gives the same bytes (the cached metadata is reused).
	if again := string(e.Append(nil, &rec)); again != out {
		t.Fatalf("second encoding differs:\n%s\n%s", out, again)
	}
	return out
}

func TestEncoderJSON(t *testing.T) {
	tests := []struct {
		name string
		cfg  EncoderConfig
		rec  tailer.Record
		want string
	}{{
		name: "pod metadata with labels and annotations",
		cfg:  EncoderConfig{Labels: true, Annotations: true},
		rec:  tailer.Record{Time: testTime, Stream: tailer.Stdout, Message: []byte(`hello "world"`), File: testFile, Pod: testPod},
		want: `{"time":"2026-11-26T14:06:10.123456789Z","stream":"stdout","log":"hello \"world\"","kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"uid-1","host":"node-a","container_name":"app","docker_id":"abc","container_hash":"docker.io/library/nginx@sha256:ff","container_image":"nginx:1.27","labels":{"app":"web","tier":"front"},"annotations":{"note":"x"}}}`,
	}, {
		name: "namespace labels and annotations",
		cfg:  EncoderConfig{Labels: true, Annotations: true},
		rec:  tailer.Record{Time: testTime, Stream: tailer.Stdout, Message: []byte("m"), File: testFile, Pod: testNsPod},
		want: `{"time":"2026-11-26T14:06:10.123456789Z","stream":"stdout","log":"m","kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"uid-1","host":"node-a","container_name":"app","docker_id":"abc","container_hash":"docker.io/library/nginx@sha256:ff","container_image":"nginx:1.27","labels":{"app":"web","tier":"front"},"annotations":{"note":"x"},"namespace_labels":{"env":"prod","team":"a"},"namespace_annotations":{"owner":"ops"}}}`,
	}, {
		name: "namespace labels only",
		cfg:  EncoderConfig{Labels: true},
		rec:  tailer.Record{Time: testTime, Stream: tailer.Stdout, Message: []byte("m"), File: testFile, Pod: testNsPod},
		want: `{"time":"2026-11-26T14:06:10.123456789Z","stream":"stdout","log":"m","kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"uid-1","host":"node-a","container_name":"app","docker_id":"abc","container_hash":"docker.io/library/nginx@sha256:ff","container_image":"nginx:1.27","labels":{"app":"web","tier":"front"},"namespace_labels":{"env":"prod","team":"a"}}}`,
	}, {
		name: "labels off",
		rec:  tailer.Record{Time: testTime, Stream: tailer.Stderr, Message: []byte("a\tb"), File: testFile, Pod: testPod},
		want: `{"time":"2026-11-26T14:06:10.123456789Z","stream":"stderr","log":"a\tb","kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"uid-1","host":"node-a","container_name":"app","docker_id":"abc","container_hash":"docker.io/library/nginx@sha256:ff","container_image":"nginx:1.27"}}`,
	}, {
		name: "path metadata only",
		cfg:  EncoderConfig{Host: "node-b", Labels: true},
		rec:  tailer.Record{Time: testTime, Stream: tailer.Stdout, Message: []byte("x\x01"), File: testFile},
		want: `{"time":"2026-11-26T14:06:10.123456789Z","stream":"stdout","log":"x\u0001","kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"uid-1","host":"node-b","container_name":"app","docker_id":"abc"}}`,
	}, {
		name: "parse json merges members",
		cfg:  EncoderConfig{Parse: ParseJSON},
		rec:  tailer.Record{Time: testTime, Stream: tailer.Stdout, Message: []byte(` {"level":"info","n":1} `), File: testFile},
		want: `{"time":"2026-11-26T14:06:10.123456789Z","stream":"stdout","level":"info","n":1,"kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"uid-1","container_name":"app","docker_id":"abc"}}`,
	}, {
		name: "the line's own time wins",
		cfg:  EncoderConfig{Parse: ParseJSON},
		rec:  tailer.Record{Time: testTime, Stream: tailer.Stdout, Message: []byte(`{"time":"t0","msg":"m"}`), File: testFile},
		want: `{"stream":"stdout","time":"t0","msg":"m","kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"uid-1","container_name":"app","docker_id":"abc"}}`,
	}, {
		name: "invalid json ships as log",
		cfg:  EncoderConfig{Parse: ParseJSON},
		rec:  tailer.Record{Time: testTime, Stream: tailer.Stdout, Message: []byte(`{"a":`), File: testFile},
		want: `{"time":"2026-11-26T14:06:10.123456789Z","stream":"stdout","log":"{\"a\":","kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"uid-1","container_name":"app","docker_id":"abc"}}`,
	}, {
		name: "invalid utf-8 repaired",
		rec:  tailer.Record{Time: testTime, Stream: tailer.Stdout, Message: []byte("a\xff\xfeb"), File: testFile},
		want: `{"time":"2026-11-26T14:06:10.123456789Z","stream":"stdout","log":"a` + "\uFFFD\uFFFD" + `b","kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"uid-1","container_name":"app","docker_id":"abc"}}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := encode(t, tt.cfg, tt.rec)
			if got != tt.want {
				t.Errorf("Append =\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("Append = %s: not valid JSON", got)
			}
		})
	}
}

func TestEncoderPodParser(t *testing.T) {
	pod := *testPod
	pod.Controls.Parser = ParseJSON
	got := encode(t, EncoderConfig{}, tailer.Record{Time: testTime, Message: []byte(`{"k":"v"}`), File: testFile, Pod: &pod})
	if !strings.Contains(got, `"k":"v"`) || strings.Contains(got, `"log"`) {
		t.Errorf("pod parser annotation not applied: %s", got)
	}
}

func TestEncoderCounters(t *testing.T) {
	e, _ := NewEncoder(EncoderConfig{Parse: ParseJSON})
	recs := []tailer.Record{
		{Message: []byte("not json"), File: testFile}, // not parsed, not an error
		{Message: []byte(" {not json}"), File: testFile},
		{Message: []byte("{\"a\":\"\xff\"}"), File: testFile},
		{Message: []byte("{\"a\":1}"), File: testFile},
	}
	for i := range recs {
		out := e.Append(nil, &recs[i])
		if !json.Valid(out) {
			t.Errorf("record %d: invalid JSON %q", i, out)
		}
	}
	if e.ParseErrors() != 1 || e.Repaired() != 1 {
		t.Errorf("ParseErrors = %d, Repaired = %d; want 1, 1", e.ParseErrors(), e.Repaired())
	}
}

func TestEncoderRaw(t *testing.T) {
	e, _ := NewEncoder(EncoderConfig{Format: FormatRaw})
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"caf\xc3", "caf\uFFFD"},
		{"", ""},
	} {
		if got := string(e.Append(nil, &tailer.Record{Message: []byte(tt.in), File: testFile})); got != tt.want {
			t.Errorf("raw Append(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestEncoderConfigValidate(t *testing.T) {
	if err := (EncoderConfig{Format: "xml"}).Validate(); err == nil {
		t.Error("Validate(format xml) = nil; want an error")
	}
	if err := (EncoderConfig{Parse: "logfmt"}).Validate(); err == nil {
		t.Error("Validate(parse logfmt) = nil; want an error")
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add([]byte("a\"b\\c\n\x00\xff\xe2\x80"))
	f.Fuzz(func(t *testing.T, s []byte) {
		out, _ := AppendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("AppendJSONString(%q) = %s: %v", s, out, err)
		}
		var want strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRune(s[i:])
			want.WriteRune(r) // RuneError for each invalid byte
			i += n
		}
		if back != want.String() {
			t.Fatalf("round trip of %q = %q; want %q", s, back, want.String())
		}
	})
}

func benchRecords(n, size int) []tailer.Record {
	recs := make([]tailer.Record, n)
	msg := []byte(strings.Repeat("GET /api/v1/items?id=42 200 12ms user-agent=\"curl\" ", size/50+1)[:size])
	for i := range recs {
		recs[i] = tailer.Record{Time: testTime, Stream: tailer.Stdout, Message: msg, File: testFile, Pod: testPod}
	}
	return recs
}

func BenchmarkEncoder(b *testing.B) {
	for _, cfg := range []struct {
		name string
		cfg  EncoderConfig
	}{
		{"json", EncoderConfig{Labels: true, Annotations: true}},
		{"raw", EncoderConfig{Format: FormatRaw}},
		{"parse", EncoderConfig{Parse: ParseJSON}},
		{"parse-merge-key", EncoderConfig{Parse: ParseJSON, MergeKey: "log_processed"}},
		{"parse-merge-key-text-line", EncoderConfig{Parse: ParseJSON, MergeKey: "log_processed"}},
	} {
		b.Run(cfg.name, func(b *testing.B) {
			e, _ := NewEncoder(cfg.cfg)
			recs := benchRecords(1, 256)
			if cfg.cfg.Parse != "" && !strings.HasSuffix(cfg.name, "text-line") {
				recs[0].Message = []byte(`{"level":"info","msg":"GET /api/v1/items 200","latency_ms":12,"user":"u-42","path":"/api/v1/items?id=42","agent":"curl/8.0"}`)
			}
			b.SetBytes(int64(len(recs[0].Message)))
			b.ReportAllocs()
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf = e.Append(buf[:0], &recs[0])
			}
		})
		// AppendEscapedHead is what the CloudWatch sink calls.
		b.Run(cfg.name+"-escaped", func(b *testing.B) {
			e, _ := NewEncoder(cfg.cfg)
			recs := benchRecords(1, 256)
			if cfg.cfg.Parse != "" && !strings.HasSuffix(cfg.name, "text-line") {
				recs[0].Message = []byte(`{"level":"info","msg":"GET /api/v1/items 200","latency_ms":12,"user":"u-42","path":"/api/v1/items?id=42","agent":"curl/8.0"}`)
			}
			b.SetBytes(int64(len(recs[0].Message)))
			b.ReportAllocs()
			buf := make([]byte, 0, 8192)
			for b.Loop() {
				buf, _, _ = e.AppendEscapedHead(buf[:0], &recs[0])
			}
		})
	}
}

// TestAppendEscapedMatchesAppend: AppendEscaped is Append's output escaped,
// and reports its length, for every shape.
func TestAppendEscapedMatchesAppend(t *testing.T) {
	msgs := []string{"plain", `{"level":"info","n":1}`, "tab\there \"q\" back\\slash\nnl", "ctl\x01\x1f\x7f", "üñí ☃ 😀",
		"bad\xff\xfeutf8", "", "{not json", "\u2028"}
	for _, cfg := range []EncoderConfig{{}, {Labels: true, Annotations: true}, {Format: FormatRaw}, {Parse: ParseJSON},
		{Parse: ParseJSON, MergeKey: "log_processed"}} {
		for _, m := range msgs {
			for _, pod := range []*tailer.PodMeta{nil, testPod} {
				checkEscaped(t, cfg, tailer.Record{Time: testTime, Stream: tailer.Stderr, Message: []byte(m), File: testFile, Pod: pod})
			}
		}
	}
}

// TestAppendEscapedHeadSharesTail: the records of one container end with
// the same tail, one slice of memory, which head and tail together make
// AppendEscaped's message; records with extra fields, and raw messages,
// come whole.
func TestAppendEscapedHeadSharesTail(t *testing.T) {
	e, _ := NewEncoder(EncoderConfig{Labels: true})
	recs := []tailer.Record{
		{Time: testTime, Stream: tailer.Stdout, Message: []byte(`first "line"`), File: testFile, Pod: testPod},
		{Time: testTime.Add(time.Second), Stream: tailer.Stderr, Message: []byte("second"), File: testFile, Pod: testPod},
	}
	var tails [][]byte
	for _, rec := range recs {
		head, n, tail := e.AppendEscapedHead(nil, &rec)
		whole, wantN := e.AppendEscaped(nil, &rec)
		if got := string(head) + string(tail); got != string(whole) || n != wantN {
			t.Errorf("%q: head and tail are %s (n=%d); want %s (n=%d)", rec.Message, got, n, whole, wantN)
		}
		if !strings.HasPrefix(string(tail), `,\"kubernetes\":{`) || !strings.HasSuffix(string(tail), "}}") {
			t.Errorf("%q: tail %s; want the escaped kubernetes object and the closing brace", rec.Message, tail)
		}
		tails = append(tails, tail)
	}
	if unsafe.SliceData(tails[0]) != unsafe.SliceData(tails[1]) || cap(tails[0]) != len(tails[0]) {
		t.Error("two records of one container got tails in different memory, or one that an append could write into")
	}
	extra := recs[0]
	extra.Extra = []byte(`,"cluster":"c"`)
	if _, _, tail := e.AppendEscapedHead(nil, &extra); tail != nil {
		t.Errorf("a record with extra fields got tail %s; want it whole", tail)
	}
	raw, _ := NewEncoder(EncoderConfig{Format: FormatRaw})
	if _, _, tail := raw.AppendEscapedHead(nil, &recs[0]); tail != nil {
		t.Errorf("a raw message got tail %s; want it whole", tail)
	}
}

func checkEscaped(t *testing.T, cfg EncoderConfig, rec tailer.Record) {
	t.Helper()
	e, _ := NewEncoder(cfg)
	want := e.Append(nil, &rec)
	esc, n := e.AppendEscaped([]byte("prefix"), &rec)
	var got string
	if err := json.Unmarshal([]byte(`"`+string(esc[len("prefix"):])+`"`), &got); err != nil {
		t.Fatalf("%+v %q: escaped form %s does not decode: %v", cfg, rec.Message, esc, err)
	}
	if got != string(want) || n != len(want) {
		t.Errorf("%+v %q: AppendEscaped decodes to\n%s (n=%d)\nwant\n%s (n=%d)", cfg, rec.Message, got, n, want, len(want))
	}
}

func FuzzAppendEscaped(f *testing.F) {
	f.Add([]byte("a\"b\\c\n\x00\xff\xe2\x80"), false)
	f.Fuzz(func(t *testing.T, msg []byte, raw bool) {
		cfg := EncoderConfig{Labels: true}
		if raw {
			cfg.Format = FormatRaw
		}
		checkEscaped(t, cfg, tailer.Record{Time: testTime, Message: msg, File: testFile, Pod: testPod})
	})
}

func TestAppendTimeMatchesRFC3339Nano(t *testing.T) {
	e, _ := NewEncoder(EncoderConfig{})
	base := time.Date(2026, 11, 26, 14, 6, 10, 0, time.FixedZone("x", 3600))
	for _, d := range []time.Duration{0, 1, 10, 100 * time.Millisecond, 123456789, 999999999, time.Second + 5000, 25 * time.Hour, -time.Hour, 3} {
		tm := base.Add(d)
		for range 2 { // second call uses the cached second
			if got, want := string(e.appendTime(nil, tm)), tm.UTC().Format(time.RFC3339Nano); got != want {
				t.Errorf("appendTime(%v) = %s; want %s", tm, got, want)
			}
		}
	}
}

// TestEncoderShapes: a merge key keeps the line in "log" and puts its
// object beside it (Container Insights' log_processed); the pod's IP is
// written; a plain line is {"message": line}; an encoded record goes out
// as it is.
func TestEncoderShapes(t *testing.T) {
	pod := &tailer.PodMeta{Name: "web-1", Namespace: "shop", UID: "u1", Host: "node-1", PodIP: "10.0.3.7"}
	at := time.Date(2026, 12, 5, 16, 0, 0, 5e8, time.UTC)
	cases := []struct {
		name string
		cfg  EncoderConfig
		rec  tailer.Record
		want string
	}{
		{"merge key", EncoderConfig{Parse: ParseJSON, MergeKey: "log_processed"},
			tailer.Record{Time: at, Stream: tailer.Stdout, Message: []byte(`{"level":"info","n":1}`), File: testFile, Pod: pod},
			`{"time":"2026-12-05T16:00:00.5Z","stream":"stdout","log":"{\"level\":\"info\",\"n\":1}","log_processed":{"level":"info","n":1},` +
				`"kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"u1","host":"node-1","pod_ip":"10.0.3.7","container_name":"app","docker_id":"abc"}}`},
		{"merge key, not an object", EncoderConfig{Parse: ParseJSON, MergeKey: "log_processed"},
			tailer.Record{Time: at, Stream: tailer.Stderr, Message: []byte(`plain words`), File: testFile, Pod: pod},
			`{"time":"2026-12-05T16:00:00.5Z","stream":"stderr","log":"plain words",` +
				`"kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"u1","host":"node-1","pod_ip":"10.0.3.7","container_name":"app","docker_id":"abc"}}`},
		{"plain", EncoderConfig{Parse: ParseJSON, MergeKey: "log_processed"},
			tailer.Record{Time: at, Flags: tailer.Plain, Message: []byte("Dec  5 kernel: \"oops\""), File: testFile},
			`{"message":"Dec  5 kernel: \"oops\""}`},
		{"encoded", EncoderConfig{},
			tailer.Record{Time: at, Flags: tailer.Encoded, Message: []byte(`{"hostname":"n","message":"m"}`), File: testFile},
			`{"hostname":"n","message":"m"}`},
		{"parsed fields and extra members", EncoderConfig{MergeKey: "log_processed"},
			tailer.Record{Time: at, Stream: tailer.Stdout, Message: []byte(`level=warn msg="slow"`), File: testFile, Pod: pod,
				Fields: []byte(`{"level":"warn","msg":"slow"}`), Extra: []byte(`,"team":"shop"`)},
			`{"time":"2026-12-05T16:00:00.5Z","stream":"stdout","log":"level=warn msg=\"slow\"","log_processed":{"level":"warn","msg":"slow"},` +
				`"kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"u1","host":"node-1","pod_ip":"10.0.3.7","container_name":"app","docker_id":"abc"},"team":"shop"}`},
		{"parsed fields merged at the top", EncoderConfig{},
			tailer.Record{Time: at, Stream: tailer.Stdout, Message: []byte(`level=warn`), File: testFile, Pod: pod,
				Fields: []byte(`{"level":"warn"}`), Extra: []byte(`,"team":"shop"`)},
			`{"time":"2026-12-05T16:00:00.5Z","stream":"stdout","level":"warn",` +
				`"kubernetes":{"pod_name":"web-1","namespace_name":"shop","pod_id":"u1","host":"node-1","pod_ip":"10.0.3.7","container_name":"app","docker_id":"abc"},"team":"shop"}`},
		{"plain with parsed fields", EncoderConfig{MergeKey: "log_processed"},
			tailer.Record{Time: at, Flags: tailer.Plain, Message: []byte("sshd[7]: ok"), File: testFile,
				Fields: []byte(`{"ident":"sshd","pid":"7"}`)},
			`{"message":"sshd[7]: ok","log_processed":{"ident":"sshd","pid":"7"}}`},
	}
	for _, c := range cases {
		e, err := NewEncoder(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(e.Append(nil, &c.rec)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
		esc, n := e.AppendEscaped(nil, &c.rec)
		var back string
		if err := json.Unmarshal([]byte(`"`+string(esc)+`"`), &back); err != nil || back != c.want || n != len(c.want) {
			t.Errorf("%s: escaped form %s (len %d) does not decode to the message: %v", c.name, esc, n, err)
		}
	}
	if _, err := NewEncoder(EncoderConfig{MergeKey: "log"}); err == nil {
		t.Error("merge key \"log\" accepted")
	}
}

// TestEncoderInputFields: an input's fields follow "kubernetes" (or
// "message") in its records only.
func TestEncoderInputFields(t *testing.T) {
	e, err := NewEncoder(EncoderConfig{InputFields: map[string][][2]string{
		"dataplane-containers": {{"az", "eu-west-1b"}, {"ec2_instance_id", "i-0abc"}},
		"host-files":           {{"az", "eu-west-1b"}, {"ec2_instance_id", "i-0abc"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC)
	dp := &tailer.FileMeta{Pod: "aws-node-x", Namespace: "kube-system", Container: "aws-node", Input: "dataplane-containers"}
	app := &tailer.FileMeta{Pod: "web-1", Namespace: "shop", Container: "app", Input: "application"}
	host := &tailer.FileMeta{Input: "host-files"}
	for _, c := range []struct {
		rec  tailer.Record
		want string
	}{
		{tailer.Record{Time: at, Stream: tailer.Stdout, Message: []byte("cni up"), File: dp},
			`{"time":"2026-12-05T16:00:00Z","stream":"stdout","log":"cni up","kubernetes":{"pod_name":"aws-node-x","namespace_name":"kube-system","container_name":"aws-node"},"az":"eu-west-1b","ec2_instance_id":"i-0abc"}`},
		{tailer.Record{Time: at, Stream: tailer.Stdout, Message: []byte("hello"), File: app},
			`{"time":"2026-12-05T16:00:00Z","stream":"stdout","log":"hello","kubernetes":{"pod_name":"web-1","namespace_name":"shop","container_name":"app"}}`},
		{tailer.Record{Time: at, Flags: tailer.Plain, Message: []byte("sshd[1]: ok"), File: host},
			`{"message":"sshd[1]: ok","az":"eu-west-1b","ec2_instance_id":"i-0abc"}`},
	} {
		if got := string(e.Append(nil, &c.rec)); got != c.want {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
		esc, n := e.AppendEscaped(nil, &c.rec)
		var back string
		if err := json.Unmarshal([]byte(`"`+string(esc)+`"`), &back); err != nil || back != c.want || n != len(c.want) {
			t.Errorf("escaped form %s does not decode to the message: %v", esc, err)
		}
	}
}

// Owner references, when enrichment attached them, are written as Fluent
// Bit's owner_references writes them.
func TestEncoderOwnerReferences(t *testing.T) {
	e, _ := NewEncoder(EncoderConfig{})
	pod := &tailer.PodMeta{Name: "web-1", Namespace: "shop", OwnerReferences: []tailer.OwnerReference{
		{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-7d4b9c", UID: "rs-uid", Controller: true, BlockOwnerDeletion: true}}}
	rec := tailer.Record{Time: time.Date(2026, 12, 5, 16, 0, 0, 0, time.UTC), Stream: tailer.Stdout, Message: []byte("x"), File: testFile, Pod: pod}
	got := string(e.Append(nil, &rec))
	want := `"container_name":"app","docker_id":"abc","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"web-7d4b9c","uid":"rs-uid","controller":true,"blockOwnerDeletion":true}]}}`
	if !strings.HasSuffix(got, want) || !json.Valid([]byte(got)) {
		t.Errorf("got %s\nwant it to end with %s", got, want)
	}
}
