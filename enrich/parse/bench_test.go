package parse

import "testing"

// BenchmarkParse parses, per builtin, the first line of its testdata file: a realistic line.
//
//	go test -run XXX -bench Parse -benchmem -cpu 1 ./enrich/parse
func BenchmarkParse(b *testing.B) {
	typed, err := NewRegex("regex-typed", `^(?P<time>\S+) (?P<level>\S+) (?P<status>\d+) (?P<took>[0-9.]+)ms (?P<msg>.*)$`,
		map[string]string{"status": "integer", "took": "float"})
	if err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		p    Parser
		line []byte
	}{{typed, []byte("2024-03-14T09:07:51.123Z INFO 200 1.52ms request done for GET /api/v1/items")}}
	for _, name := range Builtins() {
		cases = append(cases, struct {
			p    Parser
			line []byte
		}{builtin(b, name), readSamples(b, name)[0]})
	}
	// A structured klog line, the common case for Kubernetes components.
	cases = append(cases, struct {
		p    Parser
		line []byte
	}{klogParser{name: "klog-structured"}, readSamples(b, "klog")[2]})
	for _, c := range cases {
		b.Run(c.p.Name(), func(b *testing.B) {
			dst := make([]byte, 0, 4096)
			if _, ok := c.p.Parse(dst, c.line); !ok {
				b.Fatalf("%s refused %q", c.p.Name(), c.line)
			}
			b.SetBytes(int64(len(c.line)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = c.p.Parse(dst[:0], c.line)
			}
		})
	}
}

// BenchmarkRefuse measures refusing a line in another format, which a pipeline trying parsers in turn
// pays for each parser that does not fit.
func BenchmarkRefuse(b *testing.B) {
	line := readSamples(b, "klog")[2]
	for _, name := range []string{"json", "logfmt", "nginx", "k8s-nginx-ingress", "syslog-rfc5424"} {
		p := builtin(b, name)
		b.Run(name, func(b *testing.B) {
			dst := make([]byte, 0, 4096)
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				if _, ok := p.Parse(dst[:0], line); ok {
					b.Fatalf("%s accepted %q", name, line)
				}
			}
		})
	}
}
