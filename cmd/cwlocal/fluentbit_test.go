package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFluentBit sends ten records from Fluent Bit's cloudwatch_logs output
// (which always speaks TLS and signs with its own SigV4 code) to the built
// binary, with signatures verified. Fluent Bit is an optional peer: set
// FLUENT_BIT to its binary to run this test.
func TestFluentBit(t *testing.T) {
	fb := os.Getenv("FLUENT_BIT")
	if fb == "" {
		t.Skip("FLUENT_BIT is not set (path to a fluent-bit binary with the cloudwatch_logs output)")
	}
	url, caFile := startBinary(t, "--tls", "--access-key", cliAccessKey, "--secret-key", cliSecretKey)
	port := url[strings.LastIndex(url, ":")+1:]
	conf := filepath.Join(t.TempDir(), "fluent-bit.conf")
	err := os.WriteFile(conf, []byte(fmt.Sprintf(`[SERVICE]
    flush 1
[INPUT]
    name dummy
    dummy {"log":"hello from fluent-bit","stream":"stdout"}
    rate 10
    samples 10
[OUTPUT]
    name cloudwatch_logs
    match *
    region us-east-1
    log_group_name /peers/fluentbit
    log_stream_prefix node-a.
    auto_create_group on
    endpoint 127.0.0.1
    port %s
    tls.verify on
    tls.ca_file %s
`, port, caFile)), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, fb, "-c", conf)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AWS_ACCESS_KEY_ID=" + cliAccessKey, "AWS_SECRET_ACCESS_KEY=" + cliSecretKey, "AWS_EC2_METADATA_DISABLED=true"}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			t.Logf("fluent-bit output:\n%s", out.String())
		}
	}()

	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	var metrics string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		metrics = scrape(t, hc, url)
		if strings.Contains(metrics, "skiff_cwlocal_events_total 10\n") {
			break
		}
	}
	for _, want := range []string{
		"skiff_cwlocal_events_total 10\n",
		`skiff_cwlocal_requests_total{operation="CreateLogGroup",status="200"} 1`,
		`skiff_cwlocal_requests_total{operation="CreateLogStream",status="200"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(metrics, "InvalidSignatureException") || strings.Contains(metrics, "UnrecognizedClientException") {
		t.Errorf("Fluent Bit's signatures were rejected:\n%s", metrics)
	}
}

func scrape(t *testing.T, hc *http.Client, url string) string {
	t.Helper()
	resp, err := hc.Get(url + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "skiff_cwlocal_") {
			b.WriteString(sc.Text() + "\n")
		}
	}
	return b.String()
}
