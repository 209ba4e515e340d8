package process

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/skiff-agent/skiff/enrich/parse"
	"github.com/skiff-agent/skiff/enrich/redact"
	"github.com/skiff-agent/skiff/sinks"
	"github.com/skiff-agent/skiff/tailer"
)

// encodeAll is a consumer that encodes every record as the sinks do, in
// both forms (a message, and escaped inside a request body).
type encodeAll struct {
	enc *sinks.Encoder
	out []string
}

func (e *encodeAll) Write(_ context.Context, recs []tailer.Record) error {
	for i := range recs {
		e.out = append(e.out, string(e.enc.Append(nil, &recs[i])))
		esc, _ := e.enc.AppendEscaped(nil, &recs[i])
		e.out = append(e.out, string(esc))
		recs[i].Pos.Ack()
	}
	return nil
}

// TestNoSecretReachesTheSink is a property test over random records: lines
// of random words, JSON objects and logfmt pairs, in files and journal
// records, with secrets of every kind at random places. Whatever parser
// and encoder shape is used, no secret's sensitive part is in what a sink
// would send.
func TestNoSecretReachesTheSink(t *testing.T) {
	var rules []*redact.Rule
	for _, name := range redact.Builtins() {
		r, _ := redact.Builtin(name)
		rules = append(rules, r)
	}
	pw, err := redact.New("password", `password=(?P<secret>\S+)`)
	if err != nil {
		t.Fatal(err)
	}
	rules = append(rules, pw)
	rng := rand.New(rand.NewPCG(1, 2))
	secrets := func(i int) (text, sensitive string) {
		switch rng.IntN(6) {
		case 0:
			s := fmt.Sprintf("user%d.%s@example.org", i, strings.Repeat("x", rng.IntN(5)))
			return s, s
		case 1:
			s := "AKIA" + randFrom(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
			return s, s
		case 2:
			s := randFrom(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 32)
			return "Authorization: Bearer " + s, s
		case 3:
			s := "4111 1111 1111 1111"
			return s, "4111 1111 1111 1111"
		case 4:
			s := randFrom(rng, "abcdefghijklmnopqrstuvwxyz0123456789", 12)
			return "password=" + s, s
		default:
			s := randFrom(rng, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40)
			return "aws_secret_access_key=" + s, s
		}
	}
	words := []string{"GET", "/api", "ok", "user", "request", "served", "in", "12ms", "level=info", "msg=done"}
	for _, mergeKey := range []string{"log_processed", ""} {
		for _, parser := range []string{"json", "logfmt", ""} {
			enc, err := sinks.NewEncoder(sinks.EncoderConfig{Parse: sinks.ParseJSON, MergeKey: mergeKey})
			if err != nil {
				t.Fatal(err)
			}
			next := &encodeAll{enc: enc}
			cfg := Config{Redact: rules, FieldsKey: mergeKey}
			if parser != "" {
				p, _ := parse.Builtin(parser)
				cfg.Parsers = []ParserChoice{{Parser: p}}
			}
			s, err := New(cfg, next)
			if err != nil {
				t.Fatal(err)
			}
			var recs []tailer.Record
			var sensitive []string
			for i := range 300 {
				secret, part := secrets(i)
				sensitive = append(sensitive, part)
				var line string
				switch i % 4 {
				case 0: // text
					w := rng.IntN(len(words))
					line = strings.Join(append(append([]string{}, words[:w]...), append([]string{secret}, words[w:]...)...), " ")
				case 1: // JSON
					line = fmt.Sprintf(`{"level":"warn","msg":%q,"n":%d}`, "login "+secret, i)
				case 2: // logfmt
					line = fmt.Sprintf(`level=info msg=%q n=%d`, "with "+secret, i)
				default: // a journal record
					line = fmt.Sprintf(`{"hostname":"node-1","message":%q}`, "sshd: "+secret)
				}
				r := rec(nil, "shop", "api", "app", line)
				if i%4 == 3 {
					r.Flags = tailer.Encoded
				}
				recs = append(recs, r)
			}
			if err := s.Write(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			for _, out := range next.out {
				for _, part := range sensitive {
					if strings.Contains(out, part) || strings.Contains(out, strings.ReplaceAll(part, "/", `\/`)) {
						t.Fatalf("merge key %q, parser %q: %q leaked in %s", mergeKey, parser, part, out)
					}
				}
			}
		}
	}
}

func randFrom(rng *rand.Rand, alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
