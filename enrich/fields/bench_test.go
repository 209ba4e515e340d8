package fields

import "testing"

// benchObj is a parsed application line after enrichment: 16 members.
const benchObj = `{"time":"2024-05-01T12:00:00.123456789Z","stream":"stdout","level":"info",` +
	`"msg":"GET /api/v1/orders/12345 served in 12ms","caller":"server/http.go:118",` +
	`"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7",` +
	`"http":{"method":"GET","path":"/api/v1/orders/12345","status":200,"bytes":5120,"headers":{"authorization":"Bearer x","accept":"*/*"}},` +
	`"user":{"id":42,"name":"ann"},"duration_ms":12.5,"retry":false,"region":"eu-west-1",` +
	`"kubernetes":{"namespace":"shop","pod":"orders-7d9f8b6c5-x2x9z","labels":{"app":"orders","tier":"backend"}},` +
	`"host":"ip-10-0-1-23","pid":7,"version":"1.42.0"}`

var benchOps = []Op{
	{Kind: Remove, Key: "http.headers.authorization"},
	{Kind: Rename, Key: "msg", To: "message"},
	{Kind: Lift, Key: "user", Prefix: "user_"},
	{Kind: Set, Key: "cluster", To: "prod-1"},
	{Kind: Remove, Key: "pid"},
}

func BenchmarkGet(b *testing.B) {
	obj := []byte(benchObj)
	for _, path := range []string{"level", "version", "kubernetes.labels.app"} {
		b.Run(path, func(b *testing.B) {
			b.SetBytes(int64(len(obj)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := Get(obj, path); !ok {
					b.Fatal("not found")
				}
			}
		})
	}
}

func BenchmarkString(b *testing.B) {
	obj := []byte(benchObj)
	dst := make([]byte, 0, 256)
	b.SetBytes(int64(len(obj)))
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = String(dst[:0], obj, "msg")
	}
}

func BenchmarkRewrite(b *testing.B) {
	obj := []byte(benchObj)
	dst := make([]byte, 0, 1024)
	for _, bc := range []struct {
		name string
		ops  []Op
	}{
		{"none", nil},
		{"five", benchOps},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(obj)))
			b.ReportAllocs()
			for b.Loop() {
				dst = Rewrite(dst[:0], obj, bc.ops)
			}
		})
	}
}
