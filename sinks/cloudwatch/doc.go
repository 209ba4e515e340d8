// Package cloudwatch ships records to Amazon CloudWatch Logs with
// PutLogEvents, with the AWS SDK for Go v2: its client, credentials,
// endpoint resolution and SigV4 signer (PutLogEvents requests skip its
// per-call middleware stack; see put.go).
//
// # Guarantees
//
// A record's position is acknowledged once, and only after CloudWatch
// answered 200 for the request that carried it, or after it was dropped
// for a reason counted in skiff_output_dropped_records_total: an empty
// message (empty), an event CloudWatch rejected inside a 200 (too_old,
// too_new, expired), an event CloudWatch refused alone after its batch was
// split to isolate it (invalid), or a batch retried longer than
// MaxRetryDuration when that is set (retry_timeout). Nothing else drops a
// record: Write blocks while the byte budget is full.
//
// Records are batched per log stream under every PutLogEvents rule: at
// most 1,048,576 bytes counting 26 per event, 10,000 events, less than 24 h
// between the first and last event, events sorted by time (stable for equal
// times), no empty message. A message larger than 1,048,550 bytes is cut
// into pieces that share the record's time and are acknowledged together;
// their batches can land in either order.
//
// Requests run in parallel, across and within streams, under an adaptive
// limit (additive increase; multiplicative decrease while the endpoint is
// down and on round trips far above the average). One view of the
// endpoint's health decides retries: while most requests succeed, errors
// are retried on a fast curve; after a run of failures with no success
// (an outage) one probe at a time goes on a slow curve and every other
// request waits, until the first success releases them all through the
// limiter. Throttling feeds a shared token bucket that holds the rate just
// above what the quota lets through. The SDK's own retryer is off
// (aws.NopRetryer), so this loop makes every retry decision. During the
// shutdown flush no retry waits longer than a short interval, and requests
// in flight when Run ends get a short grace, so that what CloudWatch
// accepted is acknowledged.
//
// A destination that refuses records for a reason retrying soon cannot
// fix (AccessDeniedException, a KMS error, a missing group with
// AutoCreateGroup off) is paused alone: its batches are parked and tried
// again on a long backoff, it holds a bounded share of the budget, and past
// it Write refuses its records with sinks.ErrPaused, taking nothing.
//
// A missing stream is created when a put reports ResourceNotFoundException
// (and its group, when AutoCreateGroup is set), once however many batches
// find it missing at the same time; the sink never calls
// DescribeLogStreams.
//
// # Limits
//
// Acknowledgements of different batches complete out of order; the tailer's
// watermark turns them into a checkpoint. Retried requests can repeat
// events CloudWatch had in fact stored when a response was lost (the
// service has no idempotency key): delivery is at least once.
package cloudwatch
