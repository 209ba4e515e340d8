package parse

import (
	"maps"
	"slices"
	"sync"
)

// Parser turns a log line into a JSON object. A Parser is immutable and safe for concurrent use.
type Parser interface {
	// Parse appends the JSON object parsed from line to dst and returns the extended slice and true;
	// or dst unchanged and false when the line is not in the parser's format. The object is valid JSON
	// and valid UTF-8 (invalid bytes in the line become U+FFFD), keys in a stable order (the order fields
	// appear in the line / in the regex). Parse does not keep line or dst.
	Parse(dst, line []byte) ([]byte, bool)
	// Name is the parser's name: the builtin's name, or the name given to NewRegex.
	Name() string
}

// Builtin returns the built-in parser of that name. The names and the fields they produce:
//
//   - json: a line that is a JSON object, after trimming blanks, as it is (validated; invalid UTF-8 in
//     its strings becomes U+FFFD); anything else is refused.
//   - logfmt: key=value pairs, `level=info msg="hi there" cached` → {"level":"info","msg":"hi
//     there","cached":true}. A bare key is true, `key=` is "", other values are strings; a repeated key
//     keeps its last value at its first position. Lines with no key=value pair, or malformed ones
//     (unterminated quote, bad escape, stray '"'), are refused.
//   - nginx (combined format; trailing fields such as "$http_x_forwarded_for" allowed): remote, host,
//     user, time, method, path, code, size, referer, agent.
//   - apache (common format, or combined): host, user, time, method, path, code, size, referer, agent.
//   - apache2 (combined): the same fields as apache; path stops at a blank, agent runs to the end.
//   - apache_error: time, level, pid, client, message.
//   - k8s-nginx-ingress (ingress-nginx's default log-format-upstream): host, user, time, method, path,
//     code, size, referer, agent, request_length, request_time, proxy_upstream_name,
//     proxy_alternative_upstream_name, upstream_addr, upstream_response_length,
//     upstream_response_time, upstream_status, reg_id (sic: Fluent Bit's name for $req_id).
//   - envoy (Envoy's default access log format): start_time, method, path, protocol, code,
//     response_flags, bytes_received, bytes_sent, duration, x_envoy_upstream_service_time,
//     x_forwarded_for, user_agent, request_id, authority, upstream_host.
//   - syslog-rfc5424: pri, time, host, ident, pid, msgid, extradata, message.
//   - syslog-rfc3164: pri, time, host, ident, pid, message.
//   - klog, also glog (Kubernetes components): severity, time, pid, source, message, then the key=value
//     pairs of a structured line.
//
// Regular-expression fields are strings and are left out when empty; "-" (nginx and apache's "no
// value") is kept. Time fields stay strings in the object: no parser sets the record's time.
func Builtin(name string) (Parser, bool) {
	p, ok := builtins[name]
	if !ok {
		return nil, false
	}
	return p(), true
}

// Builtins returns the built-in names, sorted.
func Builtins() []string {
	return slices.Sorted(maps.Keys(builtins))
}

// builtins maps a name to its parser, compiled on first use.
var builtins = map[string]func() Parser{
	"json":   func() Parser { return jsonParser{} },
	"logfmt": func() Parser { return logfmtParser{} },
	"klog":   func() Parser { return klogParser{name: "klog"} },
	"glog":   func() Parser { return klogParser{name: "glog"} },

	"nginx":             lazyRegex("nginx", nginxExpr),
	"apache":            lazyRegex("apache", apacheExpr),
	"apache2":           lazyRegex("apache2", apache2Expr),
	"apache_error":      lazyRegex("apache_error", apacheErrorExpr),
	"k8s-nginx-ingress": lazyRegex("k8s-nginx-ingress", ingressExpr),
	"envoy":             lazyRegex("envoy", envoyExpr),
	"syslog-rfc5424":    lazyRegex("syslog-rfc5424", syslog5424Expr),
	"syslog-rfc3164":    lazyRegex("syslog-rfc3164", syslog3164Expr),
}

func lazyRegex(name, expr string) func() Parser {
	return sync.OnceValue(func() Parser { return mustRegex(name, expr) })
}

// The built-in expressions give the same fields, with the same names and the same anchoring, as Fluent
// Bit's conf/parsers.conf; they are built from these pieces.
const (
	// word is a field that runs to the next blank (maybe empty).
	word = `[^ ]*`
	// clfTime is the bracketed time of the common log format: [10/Oct/2000:13:55:36 -0700].
	clfTime = `\[(?P<time>[^\]]*)\]`
	// request is the quoted request line: the method, then optionally the path (as short as possible,
	// with no '"') and the protocol (not kept). "-" (no request line) is a method alone.
	request = `"(?P<method>\S+)(?: +(?P<path>[^"]*?)(?: +\S*)?)?"`
	// clfStatus is the status code and the response size.
	clfStatus = ` (?P<code>` + word + `) (?P<size>` + word + `)`
	// referAgent is the quoted referer and user agent of the combined format.
	referAgent = ` "(?P<referer>[^"]*)" "(?P<agent>[^"]*)"`
)

const (
	nginxExpr = `^(?P<remote>` + word + `) (?P<host>` + word + `) (?P<user>` + word + `) ` + clfTime +
		` ` + request + clfStatus + `(?:` + referAgent + `)`

	apacheExpr = `^(?P<host>` + word + `) ` + word + ` (?P<user>` + word + `) ` + clfTime +
		` ` + request + clfStatus + `(?:` + referAgent + `)?$`

	apache2Expr = `^(?P<host>` + word + `) ` + word + ` (?P<user>` + word + `) ` + clfTime +
		` "(?P<method>\S+)(?: +(?P<path>` + word + `) +\S*)?"` + clfStatus +
		`(?: "(?P<referer>[^"]*)" "(?P<agent>.*)")?$`

	// [Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 1.2.3.4] msg:
	// the weekday is skipped.
	apacheErrorExpr = `^\[` + word + ` (?P<time>[^\]]*)\] \[(?P<level>[^\]]*)\]` +
		`(?: \[pid (?P<pid>[^\]]*)\])?(?: \[client (?P<client>[^\]]*)\])? (?P<message>.*)$`

	ingressExpr = `^(?P<host>` + word + `) - (?P<user>` + word + `) ` + clfTime + ` ` + request +
		clfStatus + referAgent +
		` (?P<request_length>` + word + `) (?P<request_time>` + word + `)` +
		` \[(?P<proxy_upstream_name>` + word + `)\] (?:\[(?P<proxy_alternative_upstream_name>` + word + `)\] )?` +
		`(?P<upstream_addr>` + word + `) (?P<upstream_response_length>` + word + `)` +
		` (?P<upstream_response_time>` + word + `) (?P<upstream_status>` + word + `)` +
		` (?P<reg_id>` + word + `).*$`

	envoyExpr = `^\[(?P<start_time>[^\]]*)\] "(?P<method>\S+)(?: +(?P<path>[^"]*?)(?: +\S*)?)? (?P<protocol>\S+)"` +
		` (?P<code>` + word + `) (?P<response_flags>` + word + `) (?P<bytes_received>` + word + `)` +
		` (?P<bytes_sent>` + word + `) (?P<duration>` + word + `) (?P<x_envoy_upstream_service_time>` + word + `)` +
		` "(?P<x_forwarded_for>` + word + `)" "(?P<user_agent>[^"]*)" "(?P<request_id>[^"]*)"` +
		` "(?P<authority>` + word + `)" "(?P<upstream_host>` + word + `)"`

	// <165>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [sd@1 a="b"] message; extradata is the
	// structured data as written ("-" if none).
	syslog5424Expr = `^<(?P<pri>[0-9]{1,5})>1 (?P<time>[^ ]+) (?P<host>[^ ]+) (?P<ident>[^ ]+)` +
		` (?P<pid>[-0-9]+) (?P<msgid>[^ ]+) (?P<extradata>\[.*?\]|-) (?P<message>.+)$`

	// <34>Oct 11 22:14:15 host su[123]: message (a one-digit day is padded with a blank).
	syslog3164Expr = `^<(?P<pri>[0-9]+)>(?P<time>` + word + ` {1,2}` + word + ` ` + word + `)` +
		` (?P<host>` + word + `) (?P<ident>[a-zA-Z0-9_/.\-]*)(?:\[(?P<pid>[0-9]+)\])?(?:[^:]*:)? *(?P<message>.*)$`
)
