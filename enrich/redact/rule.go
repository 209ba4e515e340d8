package redact

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
)

var (
	// ErrEmptyMatch is returned by New for an expression that matches the
	// empty string, which would put a marker between every two bytes.
	ErrEmptyMatch = errors.New("expression matches the empty string")
	// ErrMarkerMatches is returned by NewRedactor when a rule matches text
	// inside the marker, which would redact the marker again.
	ErrMarkerMatches = errors.New("rule matches the marker")
)

// kind tells how a Rule finds its matches.
type kind uint8

const (
	kindRegexp kind = iota
	kindAWSKeyID
	kindAWSSecret
	kindBearer
	kindCard
	kindEmail
	kindJWT
	kindPrivateKey
)

// builtins maps the built-in rules' names to their kinds.
var builtins = map[string]kind{
	"aws_access_key_id":     kindAWSKeyID,
	"aws_secret_access_key": kindAWSSecret,
	"bearer_token":          kindBearer,
	"credit_card":           kindCard,
	"email":                 kindEmail,
	"jwt":                   kindJWT,
	"private_key":           kindPrivateKey,
}

// Rule finds one kind of secret. It is immutable and safe for concurrent
// use.
type Rule struct {
	name  string
	kind  kind
	re    *regexp.Regexp
	group int // the index of re's group "secret", 0 for the whole match
}

// Name returns the rule's name.
func (r *Rule) Name() string { return r.name }

// Builtin returns the built-in rule with the given name, or false:
//
//   - aws_access_key_id: AKIA, ASIA, AGPA, AIDA, AROA, ANPA, ANVA or AIPA
//     followed by 16 characters of [A-Z2-7], as a whole word.
//   - aws_secret_access_key: 40 characters of [A-Za-z0-9/+=] that follow a
//     key name (secret_access_key, SecretAccessKey, secret-access-key or
//     secret_key, in lower, upper, camel or title case, with any prefix
//     such as aws_), then optional quotes and blanks, then ':', '=' or '>'
//     (JSON, YAML, env files, XML), then optional quotes and blanks. Only
//     the 40 characters are replaced; a 40-character string without a key
//     name before it is left alone.
//   - bearer_token: the token after "Bearer" and blanks, in any case, and
//     the credentials after "Basic" in an Authorization header
//     ("Authorization: Basic ...", also quoted or in Go's map[...] form).
//     The scheme is kept. A token that reads like an English word
//     (letters only, lower case after the first) is left alone, so "bearer
//     token expired" stays.
//   - credit_card: 13 to 19 digits, alone or in groups of at least three
//     separated by single spaces or dashes, not touching a letter, a digit
//     or a decimal point, starting like a card of a major network (2200-2204,
//     2221-2720, 3 but not 31-33, 4, 5, 6) and passing the Luhn check.
//   - email: local@domain.tld, the domain ending in a dot and two or more
//     letters, other than a common file extension ("logo@2x.png" stays).
//   - jwt: eyJ... "." eyJ... "." followed by an optional signature, all in
//     base64url characters.
//   - private_key: what follows a "-----BEGIN ... PRIVATE KEY-----" line up
//     to the matching "-----END" on the same line, else up to a '"' (the end
//     of a JSON string), else to the end of the line. The BEGIN and END
//     lines are kept.
func Builtin(name string) (*Rule, bool) {
	k, ok := builtins[name]
	if !ok {
		return nil, false
	}
	return &Rule{name: name, kind: k}, true
}

// Builtins returns the names of the built-in rules, sorted.
func Builtins() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New returns a rule replacing every match of expr, an RE2 expression (see
// regexp/syntax), or, when expr has a group named "secret", only what that
// group matched: `password=(?P<secret>\S+)` keeps "password=". Matches that
// are empty, or whose secret group did not take part, are ignored.
func New(name, expr string) (*Rule, error) {
	if name == "" {
		return nil, fmt.Errorf("redact: rule %q has no name", expr)
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("redact: rule %s: %w", name, err)
	}
	if re.MatchString("") {
		return nil, fmt.Errorf("redact: rule %s: %q: %w", name, expr, ErrEmptyMatch)
	}
	g := max(re.SubexpIndex("secret"), 0)
	return &Rule{name: name, kind: kindRegexp, re: re, group: g}, nil
}

// span is a match: bytes [start, end) of the line, found by rule.
type span struct {
	start, end int
	rule       int
}

// appendSpans appends the rule's matches in b to spans, in order, tagged
// with rule.
func (r *Rule) appendSpans(spans []span, b []byte, rule int) []span {
	switch r.kind {
	case kindAWSKeyID:
		return awsKeyIDs(spans, b, rule)
	case kindAWSSecret:
		return awsSecrets(spans, b, rule)
	case kindBearer:
		return bearerTokens(spans, b, rule)
	case kindCard:
		return cards(spans, b, rule)
	case kindEmail:
		return emails(spans, b, rule)
	case kindJWT:
		return jwts(spans, b, rule)
	case kindPrivateKey:
		return privateKeys(spans, b, rule)
	}
	if !r.re.Match(b) {
		return spans
	}
	for _, m := range r.re.FindAllSubmatchIndex(b, -1) {
		if s, e := m[2*r.group], m[2*r.group+1]; s >= 0 && s < e {
			spans = append(spans, span{s, e, rule})
		}
	}
	return spans
}
