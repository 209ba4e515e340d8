package cwlocal

import (
	"fmt"
	"net/http"
	"strings"
)

// apiError is an error answered to the client: the HTTP status, the __type
// the SDK maps to a typed error, and the message.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errInvalidParameter(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterException", fmt.Sprintf(format, args...)}
}

func errResourceNotFound(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "ResourceNotFoundException", msg}
}

func errAlreadyExists(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "ResourceAlreadyExistsException", msg}
}

func errSerialization(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "SerializationException", fmt.Sprintf(format, args...)}
}

// errAccessDenied is the service's answer when the caller's IAM policy does
// not allow op on a log group (and stream, when the request names one).
func errAccessDenied(region, op, group, stream string) *apiError {
	res := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", region, AccountID, group)
	if stream != "" {
		res += ":log-stream:" + stream
	}
	return &apiError{http.StatusBadRequest, "AccessDeniedException", fmt.Sprintf(
		"User: arn:aws:sts::%s:assumed-role/skiff/cwlocal is not authorized to perform: logs:%s on resource: %s "+
			"because no identity-based policy allows the logs:%s action", AccountID, op, res, op)}
}

var (
	errGroupNotFound   = errResourceNotFound("The specified log group does not exist.")
	errStreamNotFound  = errResourceNotFound("The specified log stream does not exist.")
	errGroupExists     = errAlreadyExists("The specified log group already exists")
	errStreamExists    = errAlreadyExists("The specified log stream already exists")
	errInvalidToken    = errInvalidParameter("The specified nextToken is invalid.")
	errThrottled       = &apiError{http.StatusBadRequest, "ThrottlingException", "Rate exceeded"}
	errUnavailable     = &apiError{http.StatusInternalServerError, "ServiceUnavailableException", "The service cannot complete the request."}
	errMissingAuth     = &apiError{http.StatusBadRequest, "MissingAuthenticationTokenException", "Request is missing Authentication Token"}
	errUnknownClient   = &apiError{http.StatusBadRequest, "UnrecognizedClientException", "The security token included in the request is invalid."}
	errBadSignature    = &apiError{http.StatusBadRequest, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	errTooManyTags     = &apiError{http.StatusBadRequest, "TooManyTagsException", "A resource can have no more than 50 tags."}
	errPrefixWithOrder = errInvalidParameter("Cannot order by LastEventTime with a logStreamNamePrefix.")
)

// validation collects the schema constraint failures of one request and
// renders them the way the service does:
// "2 validation errors detected: Value 'x' at 'a' failed to satisfy
// constraint: Member must ...; Value ...".
type validation struct {
	msgs []string
}

func (v *validation) fail(value, path, constraint string) {
	v.msgs = append(v.msgs, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must %s", value, path, constraint))
}

func (v *validation) null(path string) {
	v.msgs = append(v.msgs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", path))
}

func (v *validation) err() *apiError {
	switch len(v.msgs) {
	case 0:
		return nil
	case 1:
		return errInvalidParameter("1 validation error detected: %s", v.msgs[0])
	}
	return errInvalidParameter("%d validation errors detected: %s", len(v.msgs), strings.Join(v.msgs, "; "))
}

// length checks a string's length (in characters, as the model counts) against [lo, hi].
func (v *validation) length(s, path string, lo, hi int) bool {
	n := len([]rune(s))
	if n < lo {
		v.fail(s, path, fmt.Sprintf("have length greater than or equal to %d", lo))
		return false
	}
	if n > hi {
		v.fail(s, path, fmt.Sprintf("have length less than or equal to %d", hi))
		return false
	}
	return true
}

// groupName checks a log group name: 1-512 characters of [.-_/#A-Za-z0-9].
func (v *validation) groupName(s *string, path string, required bool) {
	if s == nil {
		if required {
			v.null(path)
		}
		return
	}
	if !v.length(*s, path, 1, 512) {
		return
	}
	for i := 0; i < len(*s); i++ {
		c := (*s)[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' || c == '/' || c == '#') {
			v.fail(*s, path, `satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+`)
			return
		}
	}
}

// streamName checks a log stream name: 1-512 characters without ':' or '*'.
func (v *validation) streamName(s *string, path string, required bool) {
	if s == nil {
		if required {
			v.null(path)
		}
		return
	}
	if !v.length(*s, path, 1, 512) {
		return
	}
	if strings.ContainsAny(*s, ":*") {
		v.fail(*s, path, "satisfy regular expression pattern: [^:*]*")
	}
}

// limit checks an optional page size against [1, hi].
func (v *validation) limit(n *int64, path string, hi int64) {
	if n == nil {
		return
	}
	if *n < 1 {
		v.fail(fmt.Sprint(*n), path, "have value greater than or equal to 1")
	} else if *n > hi {
		v.fail(fmt.Sprint(*n), path, fmt.Sprintf("have value less than or equal to %d", hi))
	}
}

// token checks an optional nextToken: at least one character.
func (v *validation) token(s *string, path string) {
	if s != nil && *s == "" {
		v.fail("", path, "have length greater than or equal to 1")
	}
}
