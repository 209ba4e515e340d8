// Package cwlocal is a CloudWatch Logs compatible server for tests, the demo
// and the benchmark. It speaks the service's awsJson1_1 protocol closely
// enough that the real aws-sdk-go-v2 client, the AWS CLI and Fluent Bit's
// cloudwatch_logs output cannot tell it from the service for the calls a log
// shipper and its users make.
//
// Guarantees:
//   - Requests are routed on X-Amz-Target (Logs_20140328.<Operation>) for any
//     POST path, so a BaseEndpoint with a path works. Every answer carries
//     Content-Type application/x-amz-json-1.1, x-amzn-RequestId and Date.
//   - Errors are sent as the service sends them: HTTP status, a JSON body with
//     __type and message, the same message texts where they are known.
//   - A SigV4 Authorization header is required. With Options.AccessKey and
//     Options.SecretKey set, signatures are verified: an unknown access key is
//     answered with UnrecognizedClientException, a wrong signature with
//     InvalidSignatureException, a request dated more than 5 minutes away
//     with InvalidSignatureException "Signature expired".
//   - PutLogEvents enforces the service's rules in the service's order:
//     schema constraints, the group, the stream, the event size, the batch
//     size (message bytes + 26 per event <= 1,048,576), chronological order,
//     per-event rejection of too old (14 days), expired (group retention) and
//     too new (2 hours) events inside an HTTP 200, and the 24 hour span over
//     the remaining events. Sequence tokens are ignored.
//   - The store is bounded by Options.MaxBytes; a full store answers
//     LimitExceededException with a message that says so (the SDK retries it
//     as a throttle, so a client backs off) and never grows past it.
//   - Bad input (malformed JSON, invalid UTF-8, wrong types, an unknown
//     X-Amz-Target, a wrong Content-Type, a body over MaxBodyBytes) gets a
//     clear error, is counted in skiff_cwlocal_errors_total and never affects
//     other requests or stored data.
//   - With Options.Dir set, every change is appended to a journal in that
//     directory and replayed at start, so a stopped server keeps its data.
//
// Limits and known differences from the service:
//   - One account (000000000000) and one Region (Options.Region); no IAM, so
//     any valid signature may do anything.
//   - Events are kept until their group or stream is deleted; retention only
//     decides which new events are rejected as expired.
//   - FilterLogEvents understands term patterns only: words (all must match),
//     "quoted phrases", ?alternatives and -exclusions. JSON and space-delimited
//     patterns are answered with InvalidParameterException.
//   - The exact texts of a few errors (the 1 MB-era "Log event too large", an
//     invalid retention value, a bad KMS key) were never seen from the service
//     and follow the service's usual phrasing.
//   - Reads are strictly consistent: new events are visible at once.
//   - GetLogEvents tokens ("f/…", "b/…") carry their direction, so a forward
//     token is followed forward even without startFromHead=true.
//   - Raw invalid UTF-8 in a request is a SerializationException; what the
//     service does with it is undocumented (the SDKs never send it).
//
// Faults (throttling at the real quotas, ServiceUnavailableException by
// probability or time window, added latency, dropped connections,
// AccessDeniedException for chosen log groups) are set
// with Options.Faults, Server.SetFaults or the control API
// (GET and POST /_cwlocal/faults). Counters are served on /metrics.
package cwlocal
