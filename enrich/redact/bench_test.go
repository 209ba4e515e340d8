package redact

import "testing"

// ordinaryLine is a 200-byte log line without secrets.
const ordinaryLine = `2024-05-01T12:00:00.123Z INFO http: GET /api/v1/orders/12345?include=items ` +
	`status=200 bytes=5120 took=12.5ms client=10.0.12.7 ua="Mozilla/5.0 (X11; Linux x86_64)" ` +
	`trace=4bf92f3577b34da6a3ce929d0e0e4736 ok`

// hitLine is a line with an AWS access key ID and an e-mail address.
const hitLine = `2024-05-01T12:00:00.123Z WARN config: loaded profile for ops@example.com ` +
	`with key AKIAIOSFODNN7EXAMPLE from env; region=eu-west-1 retries=3 timeout=30s trace=4bf92f3577b34da6`

func BenchmarkRedact(b *testing.B) {
	red := mustRedactor(b, allBuiltins(b)...)
	for _, bc := range []struct{ name, line string }{
		{"none", ordinaryLine},
		{"hit", hitLine},
	} {
		b.Run(bc.name, func(b *testing.B) {
			line := []byte(bc.line)
			dst := make([]byte, 0, 512)
			counts := make([]int, len(Builtins()))
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				red.Redact(dst[:0], line, counts)
			}
		})
	}
}

// BenchmarkRule measures each built-in rule alone on the ordinary line.
func BenchmarkRule(b *testing.B) {
	line := []byte(ordinaryLine)
	for _, name := range Builtins() {
		red := mustRedactor(b, mustBuiltin(b, name))
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				red.Redact(nil, line, nil)
			}
		})
	}
}
