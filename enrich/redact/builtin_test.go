package redact

import (
	"testing"
)

// mustBuiltin returns a built-in rule or fails the test.
func mustBuiltin(t testing.TB, name string) *Rule {
	t.Helper()
	r, ok := Builtin(name)
	if !ok {
		t.Fatalf("Builtin(%q) not found", name)
	}
	return r
}

// mustRedactor returns a Redactor with the default marker or fails the test.
func mustRedactor(t testing.TB, rules ...*Rule) *Redactor {
	t.Helper()
	r, err := NewRedactor(rules, "")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// allBuiltins returns every built-in rule.
func allBuiltins(t testing.TB) []*Rule {
	var rules []*Rule
	for _, name := range Builtins() {
		rules = append(rules, mustBuiltin(t, name))
	}
	return rules
}

const (
	awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	gitSHA    = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
)

// builtinTests lists, per built-in rule, lines and what the rule alone
// makes of them; want "" means unchanged.
var builtinTests = map[string][]struct{ in, want string }{
	"aws_access_key_id": {
		{"key=AKIAIOSFODNN7EXAMPLE", "key=[REDACTED]"},
		{"AKIAIOSFODNN7EXAMPLE", "[REDACTED]"},
		{`{"AccessKeyId":"ASIAY34FZKBOKMUTVV7A","x":1}`, `{"AccessKeyId":"[REDACTED]","x":1}`},
		{"ids AGPAIOSFODNN7EXAMPLE AIDAIOSFODNN7EXAMPLE AROAIOSFODNN7EXAMPLE ANPAIOSFODNN7EXAMPLE ANVAIOSFODNN7EXAMPLE AIPAIOSFODNN7EXAMPLE.",
			"ids [REDACTED] [REDACTED] [REDACTED] [REDACTED] [REDACTED] [REDACTED]."},
		{"AKIAIOSFODNN7EXAMPLEX", ""},     // the word goes on
		{"xAKIAIOSFODNN7EXAMPLE", ""},     // not at a word start
		{"AKIAIOSFODNN7EXAMPL1", ""},      // 1 is not base32
		{"AKIAIOSFODNN7EXAMP", ""},        // too short
		{"AKIBIOSFODNN7EXAMPLE", ""},      // unknown prefix
		{"akiaiosfodnn7example", ""},      // lower case
		{"ARN arn:aws:iam::123:role", ""}, // no key
	},
	"aws_secret_access_key": {
		{"aws_secret_access_key = " + awsSecret, "aws_secret_access_key = [REDACTED]"},
		{"AWS_SECRET_ACCESS_KEY=" + awsSecret + "\n", "AWS_SECRET_ACCESS_KEY=[REDACTED]\n"},
		{`{"SecretAccessKey": "` + awsSecret + `"}`, `{"SecretAccessKey": "[REDACTED]"}`},
		{`{"msg":"{\"secretAccessKey\":\"` + awsSecret + `\"}"}`, `{"msg":"{\"secretAccessKey\":\"[REDACTED]\"}"}`},
		{"<SecretAccessKey>" + awsSecret + "</SecretAccessKey>", "<SecretAccessKey>[REDACTED]</SecretAccessKey>"},
		{"secret_key: '" + awsSecret + "'", "secret_key: '[REDACTED]'"},
		{"creds{SecretAccessKey:" + awsSecret + " Token:x}", "creds{SecretAccessKey:[REDACTED] Token:x}"},
		{"commit " + awsSecret, ""},                      // no key name
		{"secret " + awsSecret, ""},                      // no key name
		{"sha=" + gitSHA, ""},                            // a git SHA
		{"aws_secret_access_key=" + awsSecret + "A", ""}, // 41 characters
		{"aws_secret_access_key=" + awsSecret[1:], ""},   // 39 characters
		{"aws_secret_access_key " + awsSecret, ""},       // no separator
		{"secret_access_key=[REDACTED]", ""},             // already done
		{"the secretary key=" + awsSecret, ""},           // not a key name
	},
	"bearer_token": {
		{"Authorization: Bearer abc.def-ghi_jkl~mno+pqr/stu==", "Authorization: Bearer [REDACTED]"},
		{"authorization: bearer 0123456789abcdef rest", "authorization: bearer [REDACTED] rest"},
		{"BEARER\t\tTOK3N", "BEARER\t\t[REDACTED]"},
		{`headers: {"Authorization":"Bearer t0ken"}`, `headers: {"Authorization":"Bearer [REDACTED]"}`},
		{"Authorization: Basic dXNlcjpwYXNzd29yZA==", "Authorization: Basic [REDACTED]"},
		{"map[Authorization:[Basic dXNlcjpwYXNz] Accept:[*/*]]", "map[Authorization:[Basic [REDACTED]] Accept:[*/*]]"},
		{`{"authorization": "basic dXNlcjpwYXNz"}`, `{"authorization": "basic [REDACTED]"}`},
		{"Proxy-Authorization: Basic dXNlcjpwYXNz", "Proxy-Authorization: Basic [REDACTED]"},
		{"Bearer ABCDEFGHIJ", "Bearer [REDACTED]"}, // upper case is no word
		{"bearer token expired", ""},
		{"Bearer Token missing", ""},
		{`WWW-Authenticate: Bearer realm="api"`, ""},
		{"basic auth failed", ""},
		{"Basic dXNlcjpwYXNz", ""}, // no header
		{"firebearer abc123", ""},
		{"Bearer", ""},
		{"Bearer ", ""},
		{"Bearer [REDACTED]", ""},
	},
	"email": {
		{"user john.doe+tag@example.co.uk logged in", "user [REDACTED] logged in"},
		{"<a@b.io>", "<[REDACTED]>"},
		{`{"to":"X_Y%z@mail.example.com"}`, `{"to":"[REDACTED]"}`},
		{"a@b.cc@d.org", "[REDACTED]@d.org"},
		{"git@github.com:org/repo.git", "[REDACTED]:org/repo.git"},
		{"user@localhost", ""},
		{"@handle", ""},
		{"a@b.c", ""},
		{"image@sha256:abcdef", ""},
		{"pkg@1.2.3", ""},
		{"a@.com", ""},
		{"GET /img/logo@2x.png /app@1.2.min.JS", ""},
	},
	"credit_card": {
		{"card 4111111111111111 ok", "card [REDACTED] ok"},
		{"card=4111 1111 1111 1111;", "card=[REDACTED];"},
		{"4111-1111-1111-1111", "[REDACTED]"},
		{"amex 3782 822463 10005.", "amex [REDACTED]."},
		{"mc 5555555555554444 2-series 2223003122003222", "mc [REDACTED] 2-series [REDACTED]"},
		{"discover:6011111111111117", "discover:[REDACTED]"},
		{"visa13 4222222222222", "visa13 [REDACTED]"},
		{"qty 2 4111 1111 1111 1111", "qty 2 [REDACTED]"},
		{"4111 1111 1111 1111 2", "[REDACTED] 2"},
		{"4008 4111 1111 1111 1111", "[REDACTED]"}, // two readings, both cards
		{"4111 1111 1111 1111 4111 1111 1111 1111", "[REDACTED] [REDACTED]"},
		{"4111111111111112", ""},                            // Luhn fails
		{"ts=1700000000000", ""},                            // 13 digits, epoch ms
		{"ts=1714567890123456789", ""},                      // 19 digits, epoch ns
		{"order 1234567890123452", ""},                      // passes Luhn, no network
		{"order 4000123412341235", ""},                      // Luhn fails
		{"2024-05-01 12:00:00.123456 took 41111111 ms", ""}, // timestamps
		{"0.4111111111111111", ""},                          // decimals
		{"4111111111111111.5", ""},                          // decimals
		{"id41111111111111111", ""},                         // in a word
		{"41111111111111111111", ""},                        // 20 digits
		{"4111 1111 1111 11 11", ""},                        // groups of two
		{"uuid 12345678-1234-1234-1234-123456789012", ""},   // no card window
		{"4111\u00a01111\u00a01111\u00a01111", ""},          // no-break spaces
	},
	"jwt": {
		{"token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abc-DEF_123 next", "token=[REDACTED] next"},
		{"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "[REDACTED]"},
		{"id_token:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.sig\"", "id_token:[REDACTED]\""},
		{"eyJhbGciOiJIUzI1NiJ9", ""},
		{"eyJ.eyJ.", ""},
		{"eyJhbGciOiJIUzI1NiJ9.notjwt.x", ""},
		{"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ", ""}, // no second dot
	},
	"private_key": {
		{`{"k":"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\n"}`,
			`{"k":"-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----\n"}`},
		{`{"k":"-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkqhkiG9w0BAQEFAASC`, `{"k":"-----BEGIN PRIVATE KEY-----[REDACTED]`},
		{`key="-----BEGIN EC PRIVATE KEY----- MHcCAQEEI" rest`, `key="-----BEGIN EC PRIVATE KEY-----[REDACTED]" rest`},
		{"-----BEGIN OPENSSH PRIVATE KEY-----b3BlbnNzaC1rZXktdjE -----END OPENSSH PRIVATE KEY----- x -----BEGIN ENCRYPTED PRIVATE KEY-----abc",
			"-----BEGIN OPENSSH PRIVATE KEY-----[REDACTED]-----END OPENSSH PRIVATE KEY----- x -----BEGIN ENCRYPTED PRIVATE KEY-----[REDACTED]"},
		{"-----BEGIN PGP PRIVATE KEY BLOCK-----lQOYBF", "-----BEGIN PGP PRIVATE KEY BLOCK-----[REDACTED]"},
		{"-----BEGIN PUBLIC KEY-----MIIBIjANBgkqhkiG9w0BAQEFAAOC", ""},
		{"missing PRIVATE KEY file", ""},
		{"-----BEGIN RSA PRIVATE KEY-----", ""},
		{"-----BEGIN RSA PRIVATE KEY-----[REDACTED]", ""},
		{"BEGIN RSA PRIVATE KEY-----abc", ""},
	},
}

func TestBuiltins(t *testing.T) {
	names := Builtins()
	if len(names) != len(builtinTests) {
		t.Errorf("Builtins() = %q; the tests cover %d rules", names, len(builtinTests))
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			t.Errorf("Builtins() = %q; not sorted", names)
		}
	}
	for _, name := range names {
		rule := mustBuiltin(t, name)
		if rule.Name() != name {
			t.Errorf("Builtin(%q).Name() = %q", name, rule.Name())
		}
		red := mustRedactor(t, rule)
		for _, tt := range builtinTests[name] {
			want := tt.want
			if want == "" {
				want = tt.in
			}
			counts := make([]int, 1)
			got, changed := red.Redact(nil, []byte(tt.in), counts)
			if string(got) != want || changed != (tt.want != "") || (counts[0] > 0) != changed {
				t.Errorf("%s: Redact(%q) = %q, %v, counts %v; want %q", name, tt.in, got, changed, counts, want)
			}
		}
	}
	if _, ok := Builtin("nope"); ok {
		t.Error(`Builtin("nope") found`)
	}
}

func TestLuhn(t *testing.T) {
	for s, want := range map[string]bool{
		"4111111111111111": true, "4111111111111112": false, "79927398713": true,
		"378282246310005": true, "0": true, "18": true, "19": false,
	} {
		if got := luhn([]byte(s)); got != want {
			t.Errorf("luhn(%s) = %v; want %v", s, got, want)
		}
	}
}
