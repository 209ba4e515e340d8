// Package fields reads and rewrites the members of a JSON object held as
// bytes, the form a parsed log line takes, without decoding it into a map.
//
// Guarantees:
//
//   - Get, String, Members and Rewrite never panic, whatever the input. They
//     expect a valid JSON object (callers validate it, for example with
//     json.Valid); on anything else Get and String report ok false, Members
//     stops early and Rewrite returns its input unchanged.
//   - Get and Members do not allocate. String and Rewrite allocate only to
//     grow dst, as long as the object has at most 32 members and Rewrite has
//     at most 8 nested removals per member in play.
//   - Keys compare as encoding/json decodes them: escapes are decoded, and
//     invalid UTF-8 (in the object or in a Go string given here) counts as
//     U+FFFD, one per bad byte. When an object repeats a key, the last
//     member counts, as with json.Unmarshal.
//   - Rewrite's result for a valid object is a valid JSON object whose
//     top-level keys are unique.
//
// Paths: a path is keys separated by dots, so "http.status" is the member
// status of the object at http. A key may itself contain dots: at each
// level the longest key that is the whole remaining path, or the part of it
// up to a dot, is chosen, so "log.level" finds the member "log.level" of
// an ECS line, and "kubernetes.labels.app.kubernetes.io/name" finds a label
// with dots in its key. Paths do not index arrays.
//
// Limitations: values are returned raw; numbers are not parsed. Rewrite
// writes members compactly (no whitespace between them) but copies values
// byte for byte; it does not validate what it copies. Nested objects are
// not deduplicated, only the top level.
package fields
