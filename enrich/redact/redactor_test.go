package redact

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		expr, in, want string
	}{
		{`password=(?P<secret>[^\s&]+)`, "login password=hunter2&x=1", "login password=[REDACTED]&x=1"},
		{`password=(?P<secret>[^\s&]+)`, "PASSWORD=hunter2", "PASSWORD=hunter2"},
		{`(?i)password=(?P<secret>[^\s&]+)`, "a PASSWORD=x b password=y", "a PASSWORD=[REDACTED] b password=[REDACTED]"},
		{`\b\d{3}-\d{2}-\d{4}\b`, "ssn 123-45-6789.", "ssn [REDACTED]."},
		{`(?:token=(?P<secret>\w+)|other)`, "other token=abc", "other token=[REDACTED]"},
		{`(?:token=(?P<secret>\w*)|other)`, "token= other", "token= other"}, // empty group
		{`x`, "\xffx\xfe", "\xff[REDACTED]\xfe"},
		{`(?P<secret>a)(?P<secret>b)`, "ab", "[REDACTED]b"}, // the first group of the name
	}
	for _, tt := range tests {
		rule, err := New("user", tt.expr)
		if err != nil {
			t.Errorf("New(user, %q): %v", tt.expr, err)
			continue
		}
		got, _ := mustRedactor(t, rule).Redact(nil, []byte(tt.in), nil)
		if string(got) != tt.want {
			t.Errorf("rule %q: Redact(%q) = %q; want %q", tt.expr, tt.in, got, tt.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name, expr string
		want       string // in the message
		is         error
	}{
		{"", "x", `rule "x" has no name`, nil},
		{"broken", "(", "rule broken: error parsing regexp: missing closing ): `(`", nil},
		{"lookahead", "a(?=b)", "rule lookahead: error parsing regexp", nil},
		{"star", "a*", `rule star: "a*": expression matches the empty string`, ErrEmptyMatch},
		{"opt", "(?P<secret>x)?", "rule opt", ErrEmptyMatch},
	}
	for _, tt := range tests {
		_, err := New(tt.name, tt.expr)
		if err == nil || !strings.Contains(err.Error(), tt.want) || tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("New(%q, %q) = %v; want an error with %q", tt.name, tt.expr, err, tt.want)
		}
	}
}

func TestNewRedactorErrors(t *testing.T) {
	email := mustBuiltin(t, "email")
	if _, err := NewRedactor([]*Rule{email}, "<a@b.com>"); !errors.Is(err, ErrMarkerMatches) {
		t.Errorf("NewRedactor(email, <a@b.com>) = %v; want ErrMarkerMatches", err)
	}
	word, err := New("word", `[A-Z]+`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewRedactor([]*Rule{word}, ""); !errors.Is(err, ErrMarkerMatches) || !strings.Contains(err.Error(), "word") {
		t.Errorf("NewRedactor(word, default) = %v; want ErrMarkerMatches naming the rule", err)
	}
	if _, err := NewRedactor([]*Rule{email, nil}, ""); err == nil || !strings.Contains(err.Error(), "rule 1 is nil") {
		t.Errorf("NewRedactor with a nil rule = %v; want an error", err)
	}
	// A rule matching the whole marker, and only that, is harmless.
	all, err := New("all", `\S+`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewRedactor([]*Rule{all}, ""); err != nil {
		t.Errorf("NewRedactor(\\S+) = %v", err)
	}
}

func TestRedactNoMatch(t *testing.T) {
	red := mustRedactor(t, allBuiltins(t)...)
	line := []byte(ordinaryLine)
	dst := make([]byte, 0, 512)
	out, changed := red.Redact(dst, line, nil)
	if changed || len(out) != len(line) || &out[0] != &line[0] {
		t.Errorf("Redact(ordinary line) = %q, %v; want the line itself", out, changed)
	}
	counts := make([]int, len(Builtins()))
	if n := testing.AllocsPerRun(100, func() { red.Redact(dst[:0], line, counts) }); n != 0 {
		t.Errorf("Redact of an ordinary line allocates %v times; want 0", n)
	}
	for i, n := range counts {
		if n != 0 {
			t.Errorf("counts[%d] = %d; want 0", i, n)
		}
	}
	hit := []byte(hitLine)
	if n := testing.AllocsPerRun(100, func() { red.Redact(dst[:0], hit, counts) }); n != 0 {
		t.Errorf("Redact of a line with secrets allocates %v times; want 0", n)
	}
}

func TestRedact(t *testing.T) {
	pw, err := New("password", `password=(?P<secret>\S+)`)
	if err != nil {
		t.Fatal(err)
	}
	rules := append(allBuiltins(t), pw)
	red := mustRedactor(t, rules...)
	index := func(name string) int {
		for i, r := range rules {
			if r.Name() == name {
				return i
			}
		}
		t.Fatalf("no rule %s", name)
		return 0
	}
	tests := []struct {
		in, want string
		counts   map[string]int
	}{
		{hitLine, strings.Replace(strings.Replace(hitLine, "AKIAIOSFODNN7EXAMPLE", "[REDACTED]", 1), "ops@example.com", "[REDACTED]", 1),
			map[string]int{"aws_access_key_id": 1, "email": 1}},
		// Overlapping matches become one marker.
		{"password=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig@x.com end", "password=[REDACTED] end",
			map[string]int{"password": 1, "jwt": 1, "email": 1}},
		{"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig", "Authorization: Bearer [REDACTED]",
			map[string]int{"bearer_token": 1, "jwt": 1}},
		// A match another one's marker brings about: the card touched the
		// address's last letter before.
		{"a@b.co4111111111111111 x", "[REDACTED][REDACTED] x", map[string]int{"email": 1, "credit_card": 1}},
		// Glued to a word, a key is no key.
		{"4111111111111111AKIAIOSFODNN7EXAMPLE", "", nil},
		// Invalid UTF-8 around a secret stays.
		{"\xff\xfe a@b.io \xc3", "\xff\xfe [REDACTED] \xc3", map[string]int{"email": 1}},
		// Already redacted.
		{"password=[REDACTED] Bearer [REDACTED]", "", nil},
	}
	for _, tt := range tests {
		counts := make([]int, len(rules))
		got, changed := red.Redact([]byte("dst:"), []byte(tt.in), counts)
		want := "dst:" + tt.want
		if tt.want == "" {
			want = tt.in
		}
		if string(got) != want || changed != (tt.want != "") {
			t.Errorf("Redact(%q) = %q, %v; want %q", tt.in, got, changed, want)
		}
		wantCounts := make([]int, len(rules))
		for name, n := range tt.counts {
			wantCounts[index(name)] = n
		}
		if !equalInts(counts, wantCounts) {
			t.Errorf("Redact(%q) counts = %v; want %v", tt.in, counts, wantCounts)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRedactMarker(t *testing.T) {
	red, err := NewRedactor(allBuiltins(t), "***")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := red.Redact(nil, []byte("mail a@b.io key AKIAIOSFODNN7EXAMPLE"), nil)
	if want := "mail *** key ***"; string(got) != want {
		t.Errorf("Redact with marker *** = %q; want %q", got, want)
	}
	if again, changed := red.Redact(nil, got, nil); changed {
		t.Errorf("Redact(%q) changed it again to %q", got, again)
	}
}

func TestRedactManyMatches(t *testing.T) {
	// More matches than the stack holds.
	line := strings.Repeat("x a@b.io ", 40)
	got, _ := mustRedactor(t, allBuiltins(t)...).Redact(nil, []byte(line), nil)
	if want := strings.Repeat("x [REDACTED] ", 40); string(got) != want {
		t.Errorf("Redact(40 addresses) = %q; want %q", got, want)
	}
}

func TestRedactConcurrent(t *testing.T) {
	red := mustRedactor(t, allBuiltins(t)...)
	want, _ := red.Redact(nil, []byte(hitLine), nil)
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			var buf []byte
			for range 200 {
				var got []byte
				got, _ = red.Redact(buf[:0], []byte(hitLine), nil)
				if string(got) != string(want) {
					errs <- string(got)
					return
				}
				buf = got
			}
		})
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Errorf("concurrent Redact = %q; want %q", got, want)
	}
}
