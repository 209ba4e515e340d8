package cwlocal

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Defaults and limits of the server.
const (
	// DefaultMaxBytes is the store cap when Options.MaxBytes is 0.
	DefaultMaxBytes = 1 << 30
	// MaxBodyBytes is the largest request body accepted. A full PutLogEvents
	// batch is 1 MiB of messages; JSON escaping can grow it up to six times.
	MaxBodyBytes = 8 << 20
	// DefaultRegion is the Region in ARNs when Options.Region is empty.
	DefaultRegion = "us-east-1"
	// AccountID is the account in every ARN.
	AccountID = "000000000000"

	targetPrefix = "Logs_20140328."
	contentType  = "application/x-amz-json-1.1"
	controlPath  = "/_cwlocal/"
)

// Options configure a Server. The zero value is a plain HTTP server on a
// random loopback port with no signature checks and a 1 GiB store.
type Options struct {
	// Addr is the listen address; default "127.0.0.1:0".
	Addr string
	// TLS serves HTTPS. With CertFile and KeyFile empty, a CA and a
	// certificate for 127.0.0.1, ::1 and localhost signed by it are generated;
	// the CA is written to CAFile().
	TLS bool
	// CertFile and KeyFile are the PEM certificate and key served with TLS.
	CertFile, KeyFile string
	// CAOut is where the generated CA is written; default a file in a
	// temporary directory removed by Close.
	CAOut string
	// AccessKey and SecretKey, when both set, make the server verify SigV4
	// signatures. Otherwise any well-formed Authorization header is accepted.
	AccessKey, SecretKey string
	// Throttle answers ThrottlingException above the service's per-account
	// quotas (PutLogEvents 5,000/s, CreateLogStream 50/s, CreateLogGroup 10/s, …).
	Throttle bool
	// Faults are the faults injected from the start (see SetFaults).
	// Throttle is or-ed into Faults.Throttle.
	Faults Faults
	// MaxBytes caps the store (message bytes + 26 per event); default
	// DefaultMaxBytes. A put that would exceed it fails with LimitExceededException.
	MaxBytes int64
	// Discard accepts and counts events without keeping their messages
	// (for benchmarks); reads return no events.
	Discard bool
	// Dir persists the store in this directory (a journal replayed at start).
	Dir string
	// Region is used in ARNs; default DefaultRegion.
	Region string
	// OnPut is called for every accepted PutLogEvents batch, before the
	// response is sent, with the events that were stored (rejected too-old,
	// expired and too-new events are not included). It may be called
	// concurrently. The events are the callee's to keep.
	OnPut func(group, stream string, events []Event)
	// Logger receives the listen address and errors; nil discards.
	Logger *slog.Logger
	// Registerer, when set, also gets the server's metrics (they are always
	// served on /metrics).
	Registerer prometheus.Registerer
	// ClockOffset sets the server's clock this far from the machine's, for
	// tests of a client's clock skew: the Date header, the check of a
	// request's signing time and ingestion times follow it.
	ClockOffset time.Duration

	now func() time.Time // tests: a fixed clock
}

// Event is one stored log event.
type Event struct {
	// Timestamp is the event time in milliseconds since the epoch.
	Timestamp int64
	// Message is the event's message.
	Message string
	// IngestionTime is when the server accepted the event, in milliseconds.
	IngestionTime int64
}

// Server is a running CloudWatch Logs compatible server.
type Server struct {
	opts     Options
	log      *slog.Logger
	url      string
	caFile   string
	tmpDir   string
	ln       net.Listener
	http     *http.Server
	served   chan struct{}
	store    *store
	metrics  *metrics
	faults   *faultState
	now      func() time.Time
	bufs     sync.Pool
	ops      map[string]func([]byte) ([]byte, *apiError)
	closeMu  sync.Mutex
	closed   bool
	fullOnce sync.Once
	seenErrs sync.Map // operation + error type logged at info level once
}

// NewServer starts a server; it is listening when NewServer returns.
func NewServer(opts Options) (*Server, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if (opts.AccessKey == "") != (opts.SecretKey == "") {
		return nil, errors.New("cwlocal: set both AccessKey and SecretKey, or neither")
	}
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return nil, errors.New("cwlocal: set both CertFile and KeyFile, or neither")
	}
	s := &Server{
		opts:   opts,
		log:    opts.Logger,
		served: make(chan struct{}),
		store:  newStore(opts.MaxBytes, opts.Discard),
		now:    opts.now,
	}
	if s.now == nil {
		s.now = time.Now
		if off := opts.ClockOffset; off != 0 {
			s.now = func() time.Time { return time.Now().Add(off) }
		}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.ops = s.operations()
	s.metrics = newMetrics(opts.Registerer, s.storedBytes)
	f := opts.Faults
	f.Throttle = f.Throttle || opts.Throttle
	s.faults = newFaultState(f)
	if opts.Dir != "" {
		if err := s.openJournal(opts.Dir); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		s.closeJournal()
		return nil, fmt.Errorf("listen %s: %w", opts.Addr, err)
	}
	scheme := "http"
	if opts.TLS {
		cfg, err := s.tlsConfig()
		if err != nil {
			ln.Close()
			s.closeJournal()
			s.cleanup()
			return nil, err
		}
		ln = tls.NewListener(ln, cfg)
		scheme = "https"
	}
	s.ln = ln
	s.url = scheme + "://" + ln.Addr().String()
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	go func() {
		defer close(s.served)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("cwlocal: serve", "err", err)
		}
	}()
	s.log.Info("cwlocal listening", "url", s.url, "ca_file", s.caFile, "verify_signatures", opts.AccessKey != "")
	return s, nil
}

// URL is the server's base URL, e.g. "http://127.0.0.1:4566"; use it as the
// SDK's BaseEndpoint or the CLI's --endpoint-url.
func (s *Server) URL() string { return s.url }

// CAFile is the PEM file of the generated CA that signed the server's
// certificate, or "" when the server is plain HTTP or uses a given certificate.
func (s *Server) CAFile() string { return s.caFile }

// Close stops the server at once, closing open connections, and flushes the
// journal. Calling it again returns nil.
func (s *Server) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.http.Close()
	<-s.served
	if jerr := s.closeJournal(); err == nil {
		err = jerr
	}
	s.cleanup()
	return err
}

// Shutdown stops accepting requests and waits for those in flight until ctx
// is done, then closes like Close.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.http.Shutdown(ctx)
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *Server) cleanup() {
	if s.tmpDir != "" {
		os.RemoveAll(s.tmpDir)
	}
}

// Streams returns the names of a group's streams, sorted, or nil when the
// group does not exist.
func (s *Server) Streams(group string) []string {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	g := s.store.groups[group]
	if g == nil {
		return nil
	}
	names := make([]string, 0, len(g.streams))
	for n := range g.streams {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Events returns a copy of the events of a stream in the order GetLogEvents
// returns them (by timestamp, then arrival), or nil when it does not exist.
func (s *Server) Events(group, stream string) []Event {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	_, st, aerr := s.store.lookup(group, stream)
	if aerr != nil {
		return nil
	}
	st.sortEvents()
	out := make([]Event, len(st.evs))
	for i := range st.evs {
		e := &st.evs[i]
		out[i] = Event{Timestamp: e.ts, Message: string(st.message(e)), IngestionTime: e.ingest}
	}
	return out
}

// ServeHTTP answers the CloudWatch Logs API on POST, /metrics and the control API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, controlPath):
		s.serveControl(w, r)
		return
	case r.URL.Path == "/metrics" && r.Method != http.MethodPost:
		promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
		return
	}
	start := time.Now()
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	h := w.Header()
	// The service's spelling; some clients (Fluent Bit) look for it as written.
	h["x-amzn-RequestId"] = []string{newRequestID()}
	h.Set("Content-Type", contentType)
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))

	buf := s.getBuf()
	defer s.bufs.Put(buf)
	status, aerr := s.serveAPI(w, r, op, buf)
	if aerr != nil {
		status = aerr.status
		writeError(w, aerr)
		s.logError(op, status, aerr)
	}
	if _, ok := s.ops[op]; !ok {
		op = "unknown"
	}
	s.metrics.observe(op, status, aerr, time.Since(start))
}

func (s *Server) getBuf() *bytes.Buffer {
	if b, ok := s.bufs.Get().(*bytes.Buffer); ok {
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

// serveAPI handles one API request; it writes the response itself on
// success and returns the error to answer otherwise.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, op string, buf *bytes.Buffer) (int, *apiError) {
	if r.Method != http.MethodPost {
		return 0, &apiError{http.StatusMethodNotAllowed, "UnknownOperationException",
			fmt.Sprintf("cwlocal serves the CloudWatch Logs API with POST, not %s (control API under %s, metrics on /metrics)", r.Method, controlPath)}
	}
	if aerr := checkContentType(r.Header.Get("Content-Type")); aerr != nil {
		return 0, aerr
	}
	if r.ContentLength > MaxBodyBytes {
		return 0, errBodyTooLarge(r.ContentLength)
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return 0, errSerialization("cannot read the request body: %v", err)
	}
	if n > MaxBodyBytes {
		return 0, errBodyTooLarge(n)
	}
	body := buf.Bytes()
	if aerr := s.authenticate(r, body); aerr != nil {
		return 0, aerr
	}
	handler, ok := s.ops[op]
	if !ok {
		return 0, &apiError{http.StatusBadRequest, "UnknownOperationException", unknownOpMessage(r.Header.Get("X-Amz-Target"))}
	}
	if aerr := s.injectFaults(r, op, body); aerr != nil {
		return 0, aerr
	}
	resp, aerr := handler(body)
	if aerr != nil {
		return 0, aerr
	}
	if len(resp) == 0 {
		resp = emptyObject
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(resp)))
	w.WriteHeader(http.StatusOK)
	w.Write(resp)
	return http.StatusOK, nil
}

var emptyObject = []byte("{}")

func unknownOpMessage(target string) string {
	if target == "" {
		return "Missing X-Amz-Target header; expected Logs_20140328.<Operation>"
	}
	return fmt.Sprintf("Operation %q is not supported by cwlocal", target)
}

func errBodyTooLarge(n int64) *apiError {
	return &apiError{http.StatusRequestEntityTooLarge, "RequestEntityTooLargeException",
		fmt.Sprintf("Request body of %d bytes exceeds the limit of %d bytes", n, MaxBodyBytes)}
}

func checkContentType(ct string) *apiError {
	mt, _, _ := strings.Cut(ct, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case contentType, "application/x-amz-json-1.0", "application/json":
		return nil
	}
	return errSerialization("Content-Type %q is not supported; send %s", ct, contentType)
}

// operations maps each supported X-Amz-Target operation to its handler.
func (s *Server) operations() map[string]func([]byte) ([]byte, *apiError) {
	return map[string]func([]byte) ([]byte, *apiError){
		"PutLogEvents":                  s.putLogEvents,
		"CreateLogGroup":                s.createLogGroup,
		"DeleteLogGroup":                s.deleteLogGroup,
		"DescribeLogGroups":             s.describeLogGroups,
		"CreateLogStream":               s.createLogStream,
		"DeleteLogStream":               s.deleteLogStream,
		"DescribeLogStreams":            s.describeLogStreams,
		"PutRetentionPolicy":            s.putRetentionPolicy,
		"DeleteRetentionPolicy":         s.deleteRetentionPolicy,
		"GetLogEvents":                  s.getLogEvents,
		"FilterLogEvents":               s.filterLogEvents,
		"PutLogGroupDeletionProtection": s.putLogGroupDeletionProtection,
	}
}

func writeError(w http.ResponseWriter, e *apiError) {
	body, _ := json.Marshal(struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}{e.code, e.msg})
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(e.status)
	w.Write(body)
}

// newRequestID returns a random UUID, the form of the service's request ids.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// decode unmarshals a request body into v, answering SerializationException
// for anything that is not a JSON object of the right shape.
func decode(body []byte, v any) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		body = emptyObject
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return errSerialization("Cannot convert a JSON %s to the type of '%s'", te.Value, te.Field)
		}
		return errSerialization("Malformed JSON request body: %v", err)
	}
	return nil
}

func (s *Server) nowMillis() int64 { return s.now().UnixMilli() }

func (s *Server) tempDir() (string, error) {
	if s.tmpDir == "" {
		d, err := os.MkdirTemp("", "cwlocal-")
		if err != nil {
			return "", fmt.Errorf("create temp dir: %w", err)
		}
		s.tmpDir = d
	}
	return s.tmpDir, nil
}

func (s *Server) defaultCAPath() (string, error) {
	if s.opts.CAOut != "" {
		return s.opts.CAOut, nil
	}
	d, err := s.tempDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "ca.pem"), nil
}

func (s *Server) storedBytes() float64 {
	s.store.mu.Lock()
	defer s.store.mu.Unlock()
	return float64(s.store.bytes)
}

// warnFull logs the first time the store is full.
func (s *Server) warnFull(aerr *apiError) {
	s.fullOnce.Do(func() { s.log.Warn("cwlocal: store full; puts fail until data is deleted", "err", aerr.msg) })
}

// logError logs an error answer: the first of each operation and type at
// info level, the rest at debug level.
func (s *Server) logError(op string, status int, aerr *apiError) {
	level := slog.LevelDebug
	if _, seen := s.seenErrs.LoadOrStore(op+"/"+aerr.code, true); !seen {
		level = slog.LevelInfo
	}
	s.log.Log(context.Background(), level, "cwlocal: request failed (first of its kind at info level, the rest at debug)",
		"operation", op, "status", status, "type", aerr.code, "message", aerr.msg)
}
