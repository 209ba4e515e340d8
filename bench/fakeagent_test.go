package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/skiff-agent/skiff/bench/nodesim"
)

// The fake agent is this test binary run again with envFakeAgent set: it
// tails the contract's files and puts every line to the endpoint over plain
// HTTP, except that it drops the lines whose sequence number is
// drop-1 modulo drop and sends those at dup-1 modulo dup twice, so a test
// knows exactly what the harness must count. After its first round of
// puts it burns envFakeBusy of CPU time (a start-up's tail). On SIGTERM it
// ships what it has read and exits 0.
const (
	envFakeAgent = "BENCH_FAKE_AGENT"
	envFakeDrop  = "BENCH_FAKE_DROP_EVERY"
	envFakeDup   = "BENCH_FAKE_DUP_EVERY"
	envFakeBusy  = "BENCH_FAKE_BUSY"
)

type fakeFile struct {
	f       *os.File
	r       *bufio.Reader
	stream  string
	partial []byte
}

func fakeAgentMain() int {
	drop, _ := strconv.ParseInt(os.Getenv(envFakeDrop), 10, 64)
	dup, _ := strconv.ParseInt(os.Getenv(envFakeDup), 10, 64)
	busy, _ := time.ParseDuration(os.Getenv(envFakeBusy))
	glob, endpoint, group := os.Getenv(EnvLogGlob), os.Getenv(EnvEndpoint), os.Getenv(EnvLogGroup)
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	files := map[string]*fakeFile{}
	if err := fakeCall(endpoint, "CreateLogGroup", map[string]any{"logGroupName": group}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for {
		paths, _ := filepath.Glob(glob)
		for _, p := range paths {
			if files[p] != nil {
				continue
			}
			f, err := os.Open(p)
			if err != nil {
				continue
			}
			ff := &fakeFile{f: f, r: bufio.NewReaderSize(f, 1<<20), stream: filepath.Base(p)}
			files[p] = ff
			if err := fakeCall(endpoint, "CreateLogStream", map[string]any{"logGroupName": group, "logStreamName": ff.stream}); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		for p, ff := range files {
			var events []map[string]any
			rotated := false
			for {
				line, err := ff.r.ReadBytes('\n')
				if err != nil { // an incomplete line stays for the next round
					ff.r.Reset(io.MultiReader(bytes.NewReader(line), ff.f))
					if rotated {
						break
					}
					// At the end: if the path now names a new file, read the
					// old one to its end once more, then follow the path.
					cur, err1 := os.Stat(p)
					old, err2 := ff.f.Stat()
					if err1 != nil || err2 != nil || os.SameFile(cur, old) {
						break
					}
					rotated = true
					continue
				}
				f := bytes.SplitN(bytes.TrimSuffix(line, []byte("\n")), []byte(" "), 4)
				if len(f) != 4 {
					continue
				}
				ff.partial = append(ff.partial, f[3]...)
				if string(f[2]) == "P" {
					continue
				}
				msg := string(ff.partial)
				ff.partial = ff.partial[:0]
				m, _ := nodesim.FindMarker(msg)
				if drop > 0 && m.Seq%drop == drop-1 {
					continue
				}
				ev := map[string]any{"timestamp": time.Now().UnixMilli(), "message": msg}
				events = append(events, ev)
				if dup > 0 && m.Seq%dup == dup-1 {
					events = append(events, ev)
				}
			}
			for len(events) > 0 { // batches well inside PutLogEvents' limits
				n := min(len(events), 200)
				if err := fakeCall(endpoint, "PutLogEvents", map[string]any{"logGroupName": group, "logStreamName": ff.stream, "logEvents": events[:n]}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					return 1
				}
				events = events[n:]
			}
			if rotated {
				if f, err := os.Open(p); err == nil {
					ff.f.Close()
					ff.f = f
					ff.r.Reset(f)
				}
			}
		}
		if busy > 0 {
			burnCPU(busy)
			busy = 0
		}
		select {
		case <-term:
			return 0 // everything read was shipped above
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// burnSink keeps burnCPU's arithmetic from being optimized away.
var burnSink int

// burnCPU computes until the process used d more CPU time.
func burnCPU(d time.Duration) {
	used := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	for start := used(); used()-start < d; {
		for i := range 100_000 {
			burnSink += i * i
		}
	}
}

func fakeCall(endpoint, op string, body any) error {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(http.MethodPost, endpoint+"/", bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("X-Amz-Target", "Logs_20140328."+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDBENCHEXAMPLE/"+time.Now().UTC().Format("20060102")+
		"/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && !bytes.Contains(out, []byte("ResourceAlreadyExists")) {
		return fmt.Errorf("%s: %s: %s", op, resp.Status, out)
	}
	return nil
}

// fakeAdapter runs the fake agent.
func fakeAdapter(drop, dup int) Adapter { return busyFakeAdapter(drop, dup, 0) }

// busyFakeAdapter runs the fake agent, which burns busy of CPU time after
// its first puts.
func busyFakeAdapter(drop, dup int, busy time.Duration) Adapter {
	self, _ := os.Executable()
	return Adapter{Name: "fake", Binary: self, Command: func(map[string]string) ([]string, []string, error) {
		return []string{self, "-test.run=^$"}, []string{envFakeAgent + "=1",
			envFakeDrop + "=" + strconv.Itoa(drop), envFakeDup + "=" + strconv.Itoa(dup), envFakeBusy + "=" + busy.String()}, nil
	}}
}
