// Package process holds the stages a record passes between enrichment and
// the sink: per-pod limits, redaction, parsing and filters, in that order.
// A Stage is a tailer.Consumer in front of the next one; it exists only when
// some stage is configured, so records of a pipeline without stages take
// no detour.
//
// # Order
//
// Limits come first, so that a flooding pod costs as little as possible;
// redaction next, so that neither a parser nor a filter nor the sink ever
// sees a secret; then the parser chosen for the record (the pod's
// annotation, else the first container choice that matches, else its
// input's); then the filters in the order given, each on the record as the
// ones before left it.
//
// # Guarantees
//
// Every record the Stage drops (a limit, a filter) is acknowledged at once
// and counted: by namespace for limits, by filter name for filters. Those
// are the user's choices, not losses. A line a parser refuses goes on
// unparsed, counted by parser. Redaction replaces every match of every rule
// before anything is passed on, in the line and, for records that are
// already encoded (journal entries), in each of their string values.
//
// # Limits
//
// A limit that holds back (Limit.Hold) refuses a whole batch while its pod
// is over its rate: the tailer keeps the batch and offers it again at its
// next poll, so only that pod's files wait. Parsers and filters act on the
// line and the parsed fields; they do not change the kubernetes metadata.
package process
