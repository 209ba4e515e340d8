package redact

import (
	"bytes"
	"strings"
)

// The built-in rules, written by hand: each starts with a cheap search for
// a byte or a short literal (bytes.IndexByte, bytes.Index), so that a line
// without secrets costs a few vectorised scans, and looks closer only
// around what it finds. None allocates beyond spans' growth.

// class holds the character classes the rules use, one bit each.
var class = func() (t [256]uint16) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		lower, upper, digit := 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9'
		set := func(bit uint16, ok bool) {
			if ok {
				t[c] |= bit
			}
		}
		set(cWord, lower || upper || digit || b == '_')
		set(cDigit, digit)
		set(cLetter, lower || upper)
		set(cB64, lower || upper || digit || b == '/' || b == '+' || b == '=')
		set(cB64URL, lower || upper || digit || b == '_' || b == '-')
		set(cToken, lower || upper || digit || b == '-' || b == '.' || b == '_' || b == '~' || b == '+' || b == '/')
		set(cLocal, lower || upper || digit || b == '.' || b == '_' || b == '%' || b == '+' || b == '-')
		set(cDomain, lower || upper || digit || b == '.' || b == '-')
		set(cCard, digit || b == ' ' || b == '-')
	}
	return t
}()

const (
	cWord   = 1 << iota // [A-Za-z0-9_]
	cDigit              // [0-9]
	cLetter             // [A-Za-z]
	cB64                // [A-Za-z0-9/+=]
	cB64URL             // [A-Za-z0-9_-]
	cToken              // RFC 6750 b64token: [A-Za-z0-9-._~+/]
	cLocal              // e-mail local part: [A-Za-z0-9._%+-]
	cDomain             // e-mail domain: [A-Za-z0-9.-]
	cCard               // in a card number: [0-9 -]
)

func is(c byte, bits uint16) bool { return class[c]&bits != 0 }

// run returns the end of the run of bytes of class bits starting at i.
func run(b []byte, i int, bits uint16) int {
	for i < len(b) && class[b[i]]&bits != 0 {
		i++
	}
	return i
}

// wordBefore tells whether the byte before i is a word byte.
func wordBefore(b []byte, i int) bool { return i > 0 && is(b[i-1], cWord) }

// wordAt tells whether b[i] exists and is a word byte.
func wordAt(b []byte, i int) bool { return i < len(b) && is(b[i], cWord) }

// hasFold tells whether b[i:] starts with lower, an ASCII lower-case word,
// in any case.
func hasFold(b []byte, i int, lower string) bool {
	if len(b)-i < len(lower) {
		return false
	}
	for j := 0; j < len(lower); j++ {
		if b[i+j]|0x20 != lower[j] {
			return false
		}
	}
	return true
}

// skip returns the index of the first byte at or after i not in set.
func skip(b []byte, i int, set string) int {
	for i < len(b) && strings.IndexByte(set, b[i]) >= 0 {
		i++
	}
	return i
}

// awsKeyIDs finds AWS access key IDs.
func awsKeyIDs(spans []span, b []byte, rule int) []span {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], 'A')
		if j < 0 {
			return spans
		}
		j += i
		i = j + 1
		if len(b)-j < 20 || wordBefore(b, j) || wordAt(b, j+20) {
			continue
		}
		switch string(b[j : j+4]) {
		case "AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA":
		default:
			continue
		}
		ok := true
		for _, c := range b[j+4 : j+20] {
			if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
				ok = false
				break
			}
		}
		if ok {
			spans = append(spans, span{j, j + 20, rule})
			i = j + 20
		}
	}
}

// awsSecrets finds 40-character secrets after a secret access key name.
func awsSecrets(spans []span, b []byte, rule int) []span {
	// Every key name ends in "key": look for its rarest letter, in both
	// cases, then read the name backwards and the value forwards.
	for _, c := range [...]byte{'k', 'K'} {
		for i := 0; ; {
			j := bytes.IndexByte(b[i:], c)
			if j < 0 {
				break
			}
			j += i
			i = j + 1
			if !hasFold(b, j, "key") || !secretNameBefore(b, j) {
				continue
			}
			if s, ok := secretValue(b, j+len("key")); ok {
				spans = append(spans, span{s, s + 40, rule})
				i = s + 40
			}
		}
	}
	return spans
}

// secretNameBefore tells whether "secret", then optionally "access", each
// followed by optional '_' or '-', precede b[j].
func secretNameBefore(b []byte, j int) bool {
	const secret, access = "secret", "access"
	k := skipBack(b, j, "_-")
	if k >= len(access) && hasFold(b, k-len(access), access) {
		k = skipBack(b, k-len(access), "_-")
	}
	return k >= len(secret) && hasFold(b, k-len(secret), secret)
}

// secretValue reads, from just after a key name, the separator and returns
// where a 40-character value starts.
func secretValue(b []byte, i int) (int, bool) {
	sep := skip(b, i, "\\\"' \t")
	j := skip(b, sep, ":=>")
	if j == sep {
		return 0, false
	}
	j = skip(b, j, "\\\"' \t")
	e := run(b[:min(len(b), j+41)], j, cB64)
	if e-j > 40 {
		return 0, false
	}
	// A value may start with '=', which the separator took: give it back,
	// all but the first separator byte.
	s := j
	for s > sep+1 && b[s-1] == '=' {
		s--
	}
	if e-s < 40 || wordAt(b, e) {
		return 0, false
	}
	return e - 40, true
}

// bearerTokens finds the credentials of Bearer and Basic authorization.
func bearerTokens(spans []span, b []byte, rule int) []span {
	for _, c := range [...]byte{'b', 'B'} {
		for i := 0; ; {
			j := bytes.IndexByte(b[i:], c)
			if j < 0 {
				break
			}
			j += i
			i = j + 1
			if j > 0 && is(b[j-1], cLetter|cDigit) {
				continue
			}
			var s, e int
			switch {
			case hasFold(b, j, "bearer"):
				s = skip(b, j+len("bearer"), " \t")
				if s == j+len("bearer") {
					continue
				}
				e = run(b, s, cToken)
				if wordLike(b[s:e]) {
					continue
				}
			case hasFold(b, j, "basic") && authorizationBefore(b, j):
				s = skip(b, j+len("basic"), " \t")
				if s == j+len("basic") {
					continue
				}
				e = run(b, s, cB64)
			default:
				continue
			}
			e = skip(b, e, "=")
			if e > s {
				spans = append(spans, span{s, e, rule})
				i = e
			}
		}
	}
	return spans
}

// wordLike tells whether a token reads like a word rather than a secret:
// letters only, lower case after the first.
func wordLike(tok []byte) bool {
	for len(tok) > 0 && tok[len(tok)-1] == '=' {
		tok = tok[:len(tok)-1]
	}
	for i, c := range tok {
		if !is(c, cLetter) || i > 0 && c < 'a' {
			return false
		}
	}
	return true
}

// authorizationBefore tells whether an Authorization header name, then
// ':' or '=', precedes b[j], with quotes, blanks or '[' in between.
func authorizationBefore(b []byte, j int) bool {
	const name = "authorization"
	k := skipBack(b, j, " \t\"'\\[")
	n := skipBack(b, k, ":=")
	if n == k {
		return false
	}
	k = skipBack(b, n, " \t\"'\\")
	return k >= len(name) && hasFold(b, k-len(name), name)
}

// skipBack returns the smallest k <= j such that b[k:j] is all in set.
func skipBack(b []byte, j int, set string) int {
	for j > 0 && strings.IndexByte(set, b[j-1]) >= 0 {
		j--
	}
	return j
}

// emails finds e-mail addresses.
func emails(spans []span, b []byte, rule int) []span {
	floor := 0 // the end of the last match: matches do not overlap
	for i := 0; ; {
		at := bytes.IndexByte(b[i:], '@')
		if at < 0 {
			return spans
		}
		at += i
		i = at + 1
		s := at
		for s > floor && is(b[s-1], cLocal) {
			s--
		}
		if s == at {
			continue
		}
		end := run(b, at+1, cDomain)
		// The domain is the longest run ending in '.' and two letters or
		// more, with something before the dot.
		for p := end - 1; p > at+1; p-- {
			if b[p] != '.' {
				continue
			}
			if e := run(b, p+1, cLetter); e-(p+1) >= 2 {
				if !fileExtension(b[p+1 : e]) {
					spans = append(spans, span{s, e, rule})
					i, floor = e, e
				}
				break
			}
		}
	}
}

// fileExtension tells whether a would-be top-level domain is a common file
// extension: "logo@2x.png" names an image, not a mailbox.
func fileExtension(tld []byte) bool {
	var buf [8]byte
	if len(tld) > len(buf) {
		return false
	}
	for i, c := range tld {
		buf[i] = c | 0x20
	}
	switch string(buf[:len(tld)]) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "css", "js", "map", "json", "html", "txt", "log":
		return true
	}
	return false
}

// jwts finds JSON Web Tokens.
func jwts(spans []span, b []byte, rule int) []span {
	// Look for the rare 'J' of "eyJ".
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], 'J')
		if j < 0 {
			return spans
		}
		j += i
		i = j + 1
		if j < 2 || b[j-2] != 'e' || b[j-1] != 'y' {
			continue
		}
		start := j - 2
		h := run(b, start, cB64URL)
		// Another "eyJ" in the header's run ends at the same h and fares
		// no better: go on after the run.
		i = h
		if h-start < 4 || h >= len(b) || b[h] != '.' || !bytes.HasPrefix(b[h+1:], []byte("eyJ")) {
			continue
		}
		p := run(b, h+1, cB64URL)
		if p-(h+1) < 4 || p >= len(b) || b[p] != '.' {
			continue
		}
		e := run(b, p+1, cB64URL)
		spans = append(spans, span{start, e, rule})
		i = e
	}
}

// privateKeys finds the bodies of PEM private keys.
func privateKeys(spans []span, b []byte, rule int) []span {
	const (
		end      = "-----END "
		maxLabel = 32 // bytes of label looked at around PRIVATE KEY
	)
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("PRIVATE KEY"))
		if j < 0 {
			return spans
		}
		j += i
		i = j + len("PRIVATE KEY")
		// The header: -----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----
		// Labels are short; looking no further keeps this linear.
		s := j
		for s > max(0, j-maxLabel) && (is(b[s-1], cDigit) || 'A' <= b[s-1] && b[s-1] <= 'Z' || b[s-1] == ' ') {
			s--
		}
		if !bytes.HasSuffix(b[:s], []byte("-----")) || !bytes.HasPrefix(b[s:], []byte("BEGIN ")) {
			continue
		}
		h := i
		for h < min(len(b), i+maxLabel) && ('A' <= b[h] && b[h] <= 'Z' || b[h] == ' ') {
			h++
		}
		if !bytes.HasPrefix(b[h:], []byte("-----")) {
			continue
		}
		h += len("-----")
		// The body ends at the END line, else at a quote, else at the end.
		e := bytes.IndexByte(b[h:], '"')
		if e < 0 {
			e = len(b) - h
		}
		if k := bytes.Index(b[h:h+e], []byte(end)); k >= 0 {
			e = k
		}
		e += h
		if e > h {
			spans = append(spans, span{h, e, rule})
		}
		i = e
	}
}
