package multiline

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// ordinaryLines returns n ordinary log lines of about 120 bytes, in the
// formats containers write: plain text with a timestamp and a level, klog,
// logfmt and JSON.
func ordinaryLines(n int) [][]byte {
	formats := []string{
		"2024-05-01T12:00:%02d.123Z INFO  [http-nio-8080-exec-%d] c.e.orders.OrderController - GET /api/v1/orders/%d 200 in 12ms",
		"I0501 12:00:%02d.123456       1 controller.go:%d] \"Reconciled object\" kind=\"Deployment\" key=\"default/orders-%d\"",
		"time=2024-05-01T12:00:%02dZ level=info msg=\"request served\" method=GET path=/healthz status=200 worker=%d id=%d",
		`{"ts":"2024-05-01T12:00:%02dZ","level":"info","logger":"orders","msg":"order saved","worker":%d,"order_id":%d}`,
		"[2024-05-01 12:00:%02d +0000] [%d] [INFO] 10.0.0.7:41234 - \"POST /orders HTTP/1.1\" 201 Created order=%d",
	}
	lines := make([][]byte, n)
	for i := range lines {
		lines[i] = fmt.Appendf(nil, formats[i%len(formats)], i%60, i%7, 1000+i)
	}
	return lines
}

// mix returns the benchmark input for a rule: ordinary lines with, every
// 200 lines, one of the rule's testdata logs (traces and their context).
func mix(b *testing.B, rule string) [][]byte {
	b.Helper()
	logs, err := filepath.Glob(filepath.Join("testdata", rule, "*.log"))
	if err != nil || len(logs) == 0 {
		b.Fatalf("no testdata for %s: %v", rule, err)
	}
	var lines [][]byte
	for _, path := range logs {
		data, err := os.ReadFile(path)
		if err != nil {
			b.Fatal(err)
		}
		lines = append(lines, ordinaryLines(200)...)
		lines = append(lines, splitLines(data)...)
	}
	return lines
}

// stepLines reports per line: each op steps one line of lines, in order,
// with one State, as the tailer does for a stream.
func stepLines(b *testing.B, r *Rule, lines [][]byte) {
	total := 0
	for _, l := range lines {
		total += len(l)
	}
	b.SetBytes(int64(total / len(lines)))
	b.ReportAllocs()
	var st State
	i := 0
	for b.Loop() {
		r.Step(&st, lines[i])
		if i++; i == len(lines) {
			i = 0
		}
	}
}

// BenchmarkStep steps a realistic mix: mostly ordinary lines of about 120
// bytes, and the rule's testdata traces among them.
func BenchmarkStep(b *testing.B) {
	for _, name := range Builtins() {
		r, _ := Builtin(name)
		b.Run(name, func(b *testing.B) { stepLines(b, r, mix(b, name)) })
	}
	user, err := New("user", `^\d{4}-\d\d-\d\dT`, `^\s+(at |\.\.\. )|^Caused by: `)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("user", func(b *testing.B) { stepLines(b, user, mix(b, "java")) })
}

// BenchmarkStepOrdinary steps ordinary lines only, the common case.
func BenchmarkStepOrdinary(b *testing.B) {
	lines := ordinaryLines(1000)
	for _, name := range Builtins() {
		r, _ := Builtin(name)
		b.Run(name, func(b *testing.B) { stepLines(b, r, lines) })
	}
}
