package cwlocal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	sigAlgorithm = "AWS4-HMAC-SHA256"
	amzDateFmt   = "20060102T150405Z"
	maxClockSkew = 5 * time.Minute
)

// sigV4 is the parsed Authorization header of a SigV4 request.
type sigV4 struct {
	accessKey     string
	date          string // yyyymmdd
	region        string
	service       string
	signedHeaders []string
	signature     string
}

func errIncompleteSignature(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "IncompleteSignatureException", msg}
}

// parseAuthorization parses "AWS4-HMAC-SHA256 Credential=AK/20261126/us-east-1/logs/aws4_request,
// SignedHeaders=a;b, Signature=hex".
func parseAuthorization(h string) (sigV4, *apiError) {
	var sig sigV4
	rest, ok := strings.CutPrefix(h, sigAlgorithm+" ")
	if !ok {
		return sig, errIncompleteSignature("Authorization header requires the AWS4-HMAC-SHA256 algorithm.")
	}
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return sig, errIncompleteSignature(fmt.Sprintf("Credential should be scoped to a valid region, not '%s'. ", v))
			}
			sig.accessKey, sig.date, sig.region, sig.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			sig.signedHeaders = strings.Split(v, ";")
		case "Signature":
			sig.signature = v
		}
	}
	if sig.accessKey == "" || len(sig.signedHeaders) == 0 || sig.signature == "" {
		return sig, errIncompleteSignature("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters. Authorization=" + sigAlgorithm)
	}
	return sig, nil
}

// authenticate requires a SigV4 Authorization header and, with static keys
// configured, verifies it as the service does.
func (s *Server) authenticate(r *http.Request, body []byte) *apiError {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return errMissingAuth
	}
	sig, aerr := parseAuthorization(auth)
	if aerr != nil {
		return aerr
	}
	if s.opts.AccessKey == "" {
		return nil
	}
	if sig.accessKey != s.opts.AccessKey {
		return errUnknownClient
	}
	if sig.service != "logs" {
		return &apiError{http.StatusBadRequest, "InvalidSignatureException", "Credential should be scoped to correct service: 'logs'. "}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFmt, amzDate)
	if err != nil {
		return errIncompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	now := s.now().UTC()
	if d := now.Sub(t); d > maxClockSkew || d < -maxClockSkew {
		return &apiError{http.StatusBadRequest, "InvalidSignatureException", fmt.Sprintf(
			"Signature expired: %s is now earlier than %s (%s - 5 min.)",
			amzDate, now.Add(-maxClockSkew).Format(amzDateFmt), now.Format(amzDateFmt))}
	}
	want := signature(s.opts.SecretKey, sig, canonicalRequest(r, sig.signedHeaders, body), amzDate)
	if !hmac.Equal([]byte(want), []byte(sig.signature)) {
		return errBadSignature
	}
	return nil
}

// canonicalRequest builds SigV4's canonical request of r.
func canonicalRequest(r *http.Request, signed []string, body []byte) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.Query()))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	if h := r.Header.Get("X-Amz-Content-Sha256"); h != "" {
		b.WriteString(h)
	} else {
		sum := sha256.Sum256(body)
		b.WriteString(hex.EncodeToString(sum[:]))
	}
	return b.String()
}

// headerValue is a header's canonical value: values joined by commas,
// trimmed, inner runs of spaces collapsed.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		vs := slices.Clone(q[k])
		slices.Sort(vs)
		for _, v := range vs {
			parts = append(parts, sigEscape(k)+"="+sigEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

// sigEscape percent-encodes everything but unreserved characters.
func sigEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func signature(secret string, sig sigV4, canonical, amzDate string) string {
	sum := sha256.Sum256([]byte(canonical))
	scope := sig.date + "/" + sig.region + "/" + sig.service + "/aws4_request"
	toSign := sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	k := hmacSHA256([]byte("AWS4"+secret), sig.date)
	k = hmacSHA256(k, sig.region)
	k = hmacSHA256(k, sig.service)
	k = hmacSHA256(k, "aws4_request")
	return hex.EncodeToString(hmacSHA256(k, toSign))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
