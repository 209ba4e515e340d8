// Package parse turns a log line into a JSON object, for the record encoder to merge into a record (under a
// merge key such as Fluent Bit's Merge_Log_Key, or at top level).
//
// A [Parser] appends one JSON object to a caller-owned buffer. [Builtin] returns the built-in parsers by
// name; [NewRegex] builds one from a regular expression with named groups.
//
// # Guarantees
//
//   - The appended object is valid JSON and valid UTF-8 whatever the input bytes: invalid UTF-8 becomes
//     U+FFFD (one per invalid byte), control characters, quotes and backslashes are escaped.
//   - Keys are in a stable order: the order the fields appear in the line, or the order of the groups in
//     the regular expression. They are unique, except that the json parser passes an object with
//     duplicate keys as it is (see Caveats).
//   - A line not in the parser's format is refused: Parse returns dst unchanged and false. Regular
//     expressions are anchored the way Fluent Bit's are: a builtin that Fluent Bit anchors at both ends
//     must match the whole line.
//   - Parsers are immutable and safe for concurrent use.
//
// # Built-in parsers
//
// The names and output field names follow Fluent Bit's conf/parsers.conf where Fluent Bit has the format
// (apache, apache2, apache_error, nginx, k8s-nginx-ingress, json, logfmt, syslog-rfc5424,
// syslog-rfc3164, envoy). The regular expressions are written for Go's RE2 engine; Go picks the same
// submatches as Fluent Bit's backtracking engine would (leftmost-first), so fields match.
//
// Unlike Fluent Bit, no parser sets the record's time: a time field (time, start_time) is kept as the
// string it is in the line, and the record keeps its own timestamp.
//
// Like Fluent Bit (Skip_Empty_Values, on by default), a regular-expression field that is empty or whose
// group did not take part in the match is left out of the object. A field that the program writes as "-"
// for "no value" (nginx and apache do) is kept as "-".
//
// # Caveats
//
//   - Go's regexp package has no way to match into a caller's buffer, so a regular-expression parser
//     allocates one small slice of submatch indexes per matching line. The json, logfmt and klog parsers
//     do not allocate (beyond growing dst), except logfmt and klog on lines with more than 32 pairs.
//   - The json parser validates but does not rewrite: an object with duplicate keys passes as it is
//     (it is valid JSON).
//   - Typed fields of [NewRegex] (integer, float, bool) are written as JSON numbers or booleans only when
//     the text parses as one; otherwise they stay strings.
package parse
