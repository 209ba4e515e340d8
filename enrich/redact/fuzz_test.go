package redact

import (
	"bytes"
	"testing"
)

// fuzzMarker is a marker fuzz inputs are unlikely to hold, so that the
// output can be cut at the markers and compared with the input.
const fuzzMarker = "\x00R\x00"

func FuzzRedact(f *testing.F) {
	f.Add([]byte(ordinaryLine))
	f.Add([]byte(hitLine))
	for _, tests := range builtinTests {
		for _, tt := range tests {
			f.Add([]byte(tt.in))
		}
	}
	f.Add([]byte("password=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig@x.com 4008 4111 1111 1111 1111"))
	f.Add([]byte("a@b.co4111111111111111 x ssn 123-45-6789"))

	pw, err := New("password", `(?i)password[=:]\s*(?P<secret>[^\s&",]+)`)
	if err != nil {
		f.Fatal(err)
	}
	ssn, err := New("ssn", `\b\d{3}-\d{2}-\d{4}\b`)
	if err != nil {
		f.Fatal(err)
	}
	rules := append(allBuiltins(f), pw, ssn)
	red := mustRedactor(f, rules...)
	cut, err := NewRedactor(rules, fuzzMarker)
	if err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, line []byte) {
		orig := bytes.Clone(line)
		counts := make([]int, len(rules))
		out, changed := red.Redact([]byte("dst"), line, counts)
		if !bytes.Equal(line, orig) {
			t.Fatalf("Redact changed its input %q to %q", orig, line)
		}
		total := 0
		for _, n := range counts {
			total += n
		}
		if !changed {
			if total != 0 || !bytes.Equal(out, line) {
				t.Fatalf("Redact(%q) = %q, false with counts %v", line, out, counts)
			}
		} else {
			if total == 0 || !bytes.HasPrefix(out, []byte("dst")) {
				t.Fatalf("Redact(%q) = %q, true with counts %v", line, out, counts)
			}
			out = out[len("dst"):]
		}
		// No rule matches the output: redacting it again changes nothing.
		again := make([]int, len(rules))
		if out2, changed := red.Redact(nil, out, again); changed || !bytes.Equal(out2, out) {
			t.Fatalf("Redact(%q) = %q; again %q, counts %v", line, out, out2, again)
		}
		// The bytes between markers are the input's, in order.
		if bytes.Contains(line, []byte(fuzzMarker)) {
			return
		}
		got, _ := cut.Redact(nil, line, nil)
		pieces := bytes.Split(got, []byte(fuzzMarker))
		first, last := pieces[0], pieces[len(pieces)-1]
		if len(pieces) == 1 {
			if !bytes.Equal(got, line) {
				t.Fatalf("Redact(%q) = %q without a marker", line, got)
			}
			return
		}
		if !bytes.HasPrefix(line, first) {
			t.Fatalf("Redact(%q) = %q does not start like the input", line, got)
		}
		rest := line[len(first):]
		for _, piece := range pieces[1 : len(pieces)-1] {
			k := bytes.Index(rest, piece)
			if k < 0 {
				t.Fatalf("Redact(%q) = %q: %q is not from the input", line, got, piece)
			}
			rest = rest[k+len(piece):]
		}
		if !bytes.HasSuffix(rest, last) {
			t.Fatalf("Redact(%q) = %q does not end like the input", line, got)
		}
	})
}
