// Package redact replaces secrets in log lines before they leave the node.
//
// A Rule finds one kind of secret: a built-in one (AWS keys, bearer
// tokens, e-mail addresses, card numbers, JWTs, private keys; see Builtin)
// or a user's regular expression (see New). A Redactor applies a list of
// rules to each line, replacing what they find by a marker.
//
// Guarantees:
//
//   - Every rule looks at the line as it arrived, and every byte that any
//     rule matches is replaced: matches of different rules that overlap are
//     merged into one marker, so one rule cannot leave part of another's
//     secret behind by replacing the rest.
//   - The result is checked again, up to three times, for matches that the
//     replacement itself brought about (a marker makes a word boundary that
//     was not there), so Redact is idempotent: redacting its output changes
//     nothing. A match that is exactly the marker is left alone.
//   - A line without secrets costs a few cheap byte searches per built-in
//     rule and is returned as it is, without allocating or copying.
//   - Redact never panics on any input, invalid UTF-8 included, and keeps
//     the bytes around the matches as they were.
//
// Limits: detection is pattern based and knows nothing of context beyond
// what each rule documents. A secret split across lines, encoded (base64,
// URL escapes) or cut into pieces is not found. A user rule whose matches
// depend on text around a marker could still match after three passes;
// NewRedactor rejects only rules that match within the marker itself.
// Rule order does not change the output, only the order of counts.
package redact
