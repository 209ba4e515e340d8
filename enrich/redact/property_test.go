package redact

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// The property test builds random lines from harmless text, with secrets
// of every kind put between the words, and checks that no secret is left
// and that lines without secrets come back untouched.

// noiseTokens are harmless, several of them close to a secret.
var noiseTokens = []string{
	"info", "request", "served", "user", "token", "auth", "failed", "secret", "key", "access",
	"private", "order", "card", "the", "Processing", "Order", "GET", "POST", "status=ok", "error",
	"INFO", "WARN", "caf\u00e9", "\xff\xfe", "\xc3", `"quoted"`, "{", "}", "[x]", "(y)", "a=b",
	"bearer token", "Bearer Token", "basic auth", "bearer realm=\"x\"", "secret: none", "my key=value",
	"aws_secret_access_key=short", "key=AKIA", "AKIAshort", "AKIAIOSFODNN7EXAMPLEX", "user@localhost",
	"@channel", "a@b.c", "eyJhbGciOiJIUzI1NiJ9", "eyJ.eyJ.", "PRIVATE KEY missing",
	"-----BEGIN PUBLIC KEY-----MIIBIjANBg", gitSHA, "commit=" + gitSHA, "2024-05-01T12:00:00.123Z",
	"1700000000000", "1714567890123456789", "10.0.0.1", "/api/v1/orders/12345", "12.5ms", "x86_64",
	"550e8400-e29b-41d4-a716-446655440000", "4111111111111112", "order 4000123412341235",
	"0.4111111111111111", "v1.2.3",
}

// separators join tokens; none can be part of a secret.
var separators = []string{" ", ", ", "\t", " | ", "; "}

// secret is a secret put in a line: its text, the part that must go, and
// the rule that must find it.
type secret struct {
	text, sensitive, rule string
}

const (
	base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64Chars    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b64URLChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	tokenChars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/"
	lowerAlnum  = "abcdefghijklmnopqrstuvwxyz0123456789"
)

func randString(rng *rand.Rand, chars string, min, max int) string {
	n := min + rng.IntN(max-min+1)
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rng.IntN(len(chars))]
	}
	return string(b)
}

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

// randCard returns a valid card number of a major network, printed in
// one of the usual ways.
func randCard(rng *rand.Rand) string {
	type network struct {
		prefix string
		length int
		groups []int // printed groups, nil for none
	}
	n := pick(rng, []network{
		{"4", 16, []int{4, 4, 4, 4}}, {"4", 13, nil}, {"4", 19, nil}, {"5" + fmt.Sprint(1+rng.IntN(5)), 16, []int{4, 4, 4, 4}},
		{fmt.Sprint(2221 + rng.IntN(500)), 16, []int{4, 4, 4, 4}}, {"34", 15, []int{4, 6, 5}}, {"37", 15, []int{4, 6, 5}},
		{"6011", 16, []int{4, 4, 4, 4}}, {"65", 16, nil}, {"36", 14, []int{4, 6, 4}}, {"2200", 16, nil},
	})
	d := []byte(n.prefix + randString(rng, "0123456789", n.length-len(n.prefix)-1, n.length-len(n.prefix)-1) + "0")
	for c := byte('0'); c <= '9'; c++ {
		d[len(d)-1] = c
		if luhn(d) {
			break
		}
	}
	if n.groups == nil || rng.IntN(3) == 0 {
		return string(d)
	}
	sep := pick(rng, []string{" ", "-"})
	var parts []string
	for _, g := range n.groups {
		parts = append(parts, string(d[:g]))
		d = d[g:]
	}
	return strings.Join(parts, sep)
}

// randSecret returns a random secret of a random kind.
func randSecret(rng *rand.Rand) secret {
	switch rng.IntN(10) {
	case 0:
		v := pick(rng, []string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"}) + randString(rng, base32Upper, 16, 16)
		return secret{v, v, "aws_access_key_id"}
	case 1:
		v := randString(rng, b64Chars+"=", 40, 40)
		f := pick(rng, []string{"aws_secret_access_key = %s", "AWS_SECRET_ACCESS_KEY=%s", `"SecretAccessKey": "%s"`,
			`\"secretAccessKey\":\"%s\"`, "<SecretAccessKey>%s</SecretAccessKey>", "secret_key: '%s'", "secret-access-key=>%s"})
		return secret{fmt.Sprintf(f, v), v, "aws_secret_access_key"}
	case 2:
		v := randString(rng, tokenChars, 20, 40) + fmt.Sprint(rng.IntN(10)) + strings.Repeat("=", rng.IntN(3))
		return secret{pick(rng, []string{"Bearer ", "bearer ", "BEARER\t", "Authorization: Bearer "}) + v, v, "bearer_token"}
	case 3:
		v := base64.StdEncoding.EncodeToString([]byte(randString(rng, lowerAlnum, 3, 10) + ":" + randString(rng, b64Chars, 6, 20)))
		return secret{pick(rng, []string{"Authorization: Basic ", "authorization=basic ", "Authorization:[Basic "}) + v, v, "bearer_token"}
	case 4:
		v := randString(rng, "abcdefghijklmnopqrstuvwxyz", 1, 1) + randString(rng, lowerAlnum+"._+-", 0, 12) + "@" +
			randString(rng, lowerAlnum, 1, 10) + pick(rng, []string{"", "." + randString(rng, lowerAlnum, 1, 8)}) + "."
		tld := randString(rng, "abcdefghijklmnopqrstuvwxyz", 2, 6)
		if fileExtension([]byte(tld)) {
			tld = "com"
		}
		return secret{v + tld, v + tld, "email"}
	case 5:
		v := randCard(rng)
		return secret{v, v, "credit_card"}
	case 6:
		v := "eyJ" + randString(rng, b64URLChars, 10, 30) + ".eyJ" + randString(rng, b64URLChars, 10, 60) + "." + randString(rng, b64URLChars, 0, 40)
		return secret{v, v, "jwt"}
	case 7:
		body := randString(rng, b64Chars, 20, 64) + `\n` + randString(rng, b64Chars, 20, 64)
		kind := pick(rng, []string{"RSA ", "EC ", "", "OPENSSH ", "ENCRYPTED "})
		if rng.IntN(2) == 0 {
			return secret{"-----BEGIN " + kind + "PRIVATE KEY-----" + body + "-----END " + kind + "PRIVATE KEY-----", body, "private_key"}
		}
		return secret{`"-----BEGIN ` + kind + `PRIVATE KEY-----\n` + body + `"`, body, "private_key"}
	default:
		v := randString(rng, b64Chars+"!#$%*", 8, 16)
		return secret{"password=" + v, v, "password"}
	}
}

// randLine returns a line of 1 to 30 tokens with n secrets among them.
func randLine(rng *rand.Rand, n int) ([]byte, []secret) {
	var tokens []string
	for range 1 + rng.IntN(30) {
		tokens = append(tokens, pick(rng, noiseTokens))
	}
	var secrets []secret
	for range n {
		s := randSecret(rng)
		secrets = append(secrets, s)
		i := rng.IntN(len(tokens) + 1)
		tokens = append(tokens[:i], append([]string{s.text}, tokens[i:]...)...)
	}
	var b bytes.Buffer
	prevDigit := false
	for i, tok := range tokens {
		if i > 0 {
			b.WriteString(pick(rng, separators))
		}
		// Two numbers in a row could make up a card number: put a word
		// between them.
		if prevDigit && isDigitByte(tok[0]) {
			b.WriteString("and")
			b.WriteString(pick(rng, separators))
		}
		b.WriteString(tok)
		prevDigit = isDigitByte(tok[len(tok)-1])
	}
	return b.Bytes(), secrets
}

func isDigitByte(c byte) bool { return '0' <= c && c <= '9' }

func TestPropertyRedact(t *testing.T) {
	pw, err := New("password", `password=(?P<secret>[^\s&",;|]+)`)
	if err != nil {
		t.Fatal(err)
	}
	rules := append(allBuiltins(t), pw)
	red := mustRedactor(t, rules...)
	index := make(map[string]int)
	for i, r := range rules {
		index[r.Name()] = i
	}
	rng := rand.New(rand.NewPCG(1, 2))
	iterations := 5000
	if testing.Short() {
		iterations = 1000
	}
	for range iterations {
		line, secrets := randLine(rng, rng.IntN(4))
		counts := make([]int, len(rules))
		out, changed := red.Redact(nil, line, counts)
		if len(secrets) == 0 {
			if changed || !bytes.Equal(out, line) {
				t.Fatalf("Redact(%q) = %q, %v; want it unchanged", line, out, changed)
			}
			continue
		}
		if !changed {
			t.Fatalf("Redact(%q) found nothing; secrets %q", line, secrets)
		}
		for _, s := range secrets {
			if leak := leaked(out, s.sensitive); leak != "" {
				t.Fatalf("Redact(%q) = %q keeps %q of the %s %q", line, out, leak, s.rule, s.sensitive)
			}
			if counts[index[s.rule]] == 0 {
				t.Fatalf("Redact(%q) = %q: %s not counted (counts %v)", line, out, s.rule, counts)
			}
		}
		if again, changed := red.Redact(nil, out, nil); changed {
			t.Fatalf("Redact(%q) = %q; again %q", line, out, again)
		}
	}
}

// leaked returns a piece of sensitive found in out: sensitive itself when
// short, else any 12 bytes of it.
func leaked(out []byte, sensitive string) string {
	n := min(12, len(sensitive))
	for i := 0; i+n <= len(sensitive); i++ {
		if bytes.Contains(out, []byte(sensitive[i:i+n])) {
			return sensitive[i : i+n]
		}
	}
	return ""
}
