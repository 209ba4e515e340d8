package parse

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"unicode/utf8"
)

// refused marks a table case whose line the parser must refuse.
const refused = "REFUSED"

type parseCase struct {
	line string
	want string // the exact JSON, or refused
}

// checkParse runs p on each case, appending to a non-empty dst to check that Parse keeps what is there
// and leaves it unchanged when it refuses.
func checkParse(t *testing.T, p Parser, cases []parseCase) {
	t.Helper()
	const prefix = `{"log":`
	for _, c := range cases {
		dst := append(make([]byte, 0, 4), prefix...)
		out, ok := p.Parse(dst, []byte(c.line))
		if !bytes.HasPrefix(out, []byte(prefix)) {
			t.Errorf("%s.Parse(%q) lost dst: %q", p.Name(), c.line, out)
			continue
		}
		got := string(out[len(prefix):])
		if !ok {
			if got != "" {
				t.Errorf("%s.Parse(%q) refused but changed dst: %q", p.Name(), c.line, got)
			}
			got = refused
		}
		if got != c.want {
			t.Errorf("%s.Parse(%q) =\n\t%s\nwant\n\t%s", p.Name(), c.line, got, c.want)
		}
		if ok && (!json.Valid([]byte(got)) || !utf8.ValidString(got)) {
			t.Errorf("%s.Parse(%q) = %q: not valid JSON and UTF-8", p.Name(), c.line, got)
		}
	}
}

func builtin(t testing.TB, name string) Parser {
	t.Helper()
	p, ok := Builtin(name)
	if !ok {
		t.Fatalf("Builtin(%q) not found", name)
	}
	return p
}

func TestBuiltins(t *testing.T) {
	want := []string{
		"apache", "apache2", "apache_error", "envoy", "glog", "json", "k8s-nginx-ingress", "klog", "logfmt",
		"nginx", "syslog-rfc3164", "syslog-rfc5424",
	}
	got := Builtins()
	if !slices.Equal(got, want) {
		t.Errorf("Builtins() = %q; want %q", got, want)
	}
	got[0] = "changed"
	if Builtins()[0] != want[0] {
		t.Errorf("Builtins() shares its slice with the caller")
	}
	for _, name := range want {
		p, ok := Builtin(name)
		if !ok || p.Name() != name {
			t.Errorf("Builtin(%q) = %v, %v; want a parser named %q", name, p, ok, name)
		}
	}
	for _, name := range []string{"", "JSON", "cri", "docker", "syslog"} {
		if p, ok := Builtin(name); ok {
			t.Errorf("Builtin(%q) = %v, true; want false", name, p.Name())
		}
	}
}

// TestSamples checks that each builtin accepts every line of its testdata file, real lines as the
// programs write them.
func TestSamples(t *testing.T) {
	for _, name := range Builtins() {
		p := builtin(t, name)
		lines := readSamples(t, name)
		if len(lines) == 0 {
			t.Errorf("no samples for %s", name)
		}
		for _, line := range lines {
			out, ok := p.Parse(nil, line)
			if !ok {
				t.Errorf("%s.Parse(%q) refused a sample line", name, line)
				continue
			}
			if !json.Valid(out) || !utf8.Valid(out) {
				t.Errorf("%s.Parse(%q) = %q: not valid JSON and UTF-8", name, line, out)
			}
		}
	}
}

// TestConcurrent runs every builtin on its samples from several goroutines, for the race detector.
func TestConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for range 4 {
		for _, name := range Builtins() {
			lines := readSamples(t, name)
			wg.Go(func() {
				p, _ := Builtin(name) // run alone, the first calls race to compile the expression
				var dst []byte
				for range 50 {
					for _, line := range lines {
						var ok bool
						if dst, ok = p.Parse(dst[:0], line); !ok {
							t.Errorf("%s.Parse(%q) refused a sample line", name, line)
							return
						}
					}
				}
			})
		}
	}
	wg.Wait()
}

// readSamples returns the lines of testdata/<name>.log (klog.log for glog).
func readSamples(t testing.TB, name string) [][]byte {
	t.Helper()
	if name == "glog" {
		name = "klog"
	}
	f, err := os.Open(filepath.Join("testdata", name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestNginx(t *testing.T) {
	checkParse(t, builtin(t, "nginx"), []parseCase{
		{ // The official image's "main" format: a trailing "$http_x_forwarded_for" is allowed.
			`172.17.0.1 - - [16/Jul/2024:09:12:44 +0000] "GET /index.html HTTP/1.1" 200 615 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0" "-"`,
			`{"remote":"172.17.0.1","host":"-","user":"-","time":"16/Jul/2024:09:12:44 +0000","method":"GET","path":"/index.html","code":"200","size":"615","referer":"-","agent":"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}`,
		},
		{
			`10.0.0.7 - alice [16/Jul/2024:09:12:45 +0000] "POST /api/v1/items?id=42 HTTP/2.0" 201 17 "https://example.com/form" "curl/8.5.0"`,
			`{"remote":"10.0.0.7","host":"-","user":"alice","time":"16/Jul/2024:09:12:45 +0000","method":"POST","path":"/api/v1/items?id=42","code":"201","size":"17","referer":"https://example.com/form","agent":"curl/8.5.0"}`,
		},
		{ // A TLS handshake sent to a plain HTTP port: nginx escapes the bytes.
			`10.42.0.1 - - [16/Jul/2024:09:12:47 +0000] "\x16\x03\x01\x02\x00\x01" 400 157 "-" "-"`,
			`{"remote":"10.42.0.1","host":"-","user":"-","time":"16/Jul/2024:09:12:47 +0000","method":"\\x16\\x03\\x01\\x02\\x00\\x01","code":"400","size":"157","referer":"-","agent":"-"}`,
		},
		{ // A path with a blank: the path runs to the last blank before the protocol.
			`10.0.0.7 - - [16/Jul/2024:09:12:45 +0000] "GET /a b HTTP/1.1" 400 0 "-" "-"`,
			`{"remote":"10.0.0.7","host":"-","user":"-","time":"16/Jul/2024:09:12:45 +0000","method":"GET","path":"/a b","code":"400","size":"0","referer":"-","agent":"-"}`,
		},
		// An empty request line (a connection closed before sending one): no method, as in Fluent Bit.
		{`10.0.0.7 - - [16/Jul/2024:09:12:45 +0000] "" 400 0 "-" "-"`, refused},
		// The common format has no referer and agent; nginx requires them.
		{`10.0.0.7 - - [16/Jul/2024:09:12:45 +0000] "GET / HTTP/1.1" 200 615`, refused},
		{`Hello world`, refused},
		{``, refused},
	})
}

func TestApache(t *testing.T) {
	checkParse(t, builtin(t, "apache"), []parseCase{
		{ // The example of Apache's log documentation.
			`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`,
			`{"host":"127.0.0.1","user":"frank","time":"10/Oct/2000:13:55:36 -0700","method":"GET","path":"/apache_pb.gif","code":"200","size":"2326"}`,
		},
		{ // No body: size "-" is kept.
			`192.168.1.20 - - [28/Jul/2006:10:27:10 -0300] "GET /cgi-bin/try/ HTTP/1.0" 304 -`,
			`{"host":"192.168.1.20","user":"-","time":"28/Jul/2006:10:27:10 -0300","method":"GET","path":"/cgi-bin/try/","code":"304","size":"-"}`,
		},
		{ // The combined format too.
			`10.42.0.5 - - [16/Jul/2024:09:12:44 +0000] "GET / HTTP/1.1" 200 45 "-" "kube-probe/1.30"`,
			`{"host":"10.42.0.5","user":"-","time":"16/Jul/2024:09:12:44 +0000","method":"GET","path":"/","code":"200","size":"45","referer":"-","agent":"kube-probe/1.30"}`,
		},
		// Anchored at the end: nginx's trailing "$http_x_forwarded_for" does not match.
		{`10.42.0.5 - - [16/Jul/2024:09:12:44 +0000] "GET / HTTP/1.1" 200 45 "-" "curl/8.5.0" "-"`, refused},
		{`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200`, refused},
	})
}

func TestApache2(t *testing.T) {
	checkParse(t, builtin(t, "apache2"), []parseCase{
		{
			`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`,
			`{"host":"127.0.0.1","user":"frank","time":"10/Oct/2000:13:55:36 -0700","method":"GET","path":"/apache_pb.gif","code":"200","size":"2326","referer":"http://www.example.com/start.html","agent":"Mozilla/4.08 [en] (Win98; I ;Nav)"}`,
		},
		{ // The agent runs to the last quote, quotes included.
			`10.42.0.5 - - [16/Jul/2024:09:12:44 +0000] "GET / HTTP/1.1" 200 45 "-" "a "quoted" agent"`,
			`{"host":"10.42.0.5","user":"-","time":"16/Jul/2024:09:12:44 +0000","method":"GET","path":"/","code":"200","size":"45","referer":"-","agent":"a \"quoted\" agent"}`,
		},
		{
			`10.42.0.5 - - [16/Jul/2024:09:12:45 +0000] "POST /login HTTP/1.1" 302 -`,
			`{"host":"10.42.0.5","user":"-","time":"16/Jul/2024:09:12:45 +0000","method":"POST","path":"/login","code":"302","size":"-"}`,
		},
		// The path stops at a blank: a request line with a blank in the path does not match.
		{`10.0.0.7 - - [16/Jul/2024:09:12:45 +0000] "GET /a b HTTP/1.1" 400 0 "-" "-"`, refused},
	})
}

func TestApacheError(t *testing.T) {
	checkParse(t, builtin(t, "apache_error"), []parseCase{
		{ // Apache 2.4 (the example of Apache's documentation).
			`[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico`,
			`{"time":"Sep 09 10:42:29.902022 2011","level":"core:error","pid":"35708:tid 4328636416","client":"72.15.99.187","message":"File does not exist: /usr/local/apache2/htdocs/favicon.ico"}`,
		},
		{ // Apache 2.2.
			`[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test`,
			`{"time":"Oct 11 14:32:52 2000","level":"error","client":"127.0.0.1","message":"client denied by server configuration: /export/home/live/ap/htdocs/test"}`,
		},
		{ // The httpd image starting.
			`[Tue Jul 16 09:12:44.123456 2024] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/2.4.62 (Unix) configured -- resuming normal operations`,
			`{"time":"Jul 16 09:12:44.123456 2024","level":"mpm_event:notice","pid":"1:tid 1","message":"AH00489: Apache/2.4.62 (Unix) configured -- resuming normal operations"}`,
		},
		{`127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`, refused},
	})
}

func TestIngress(t *testing.T) {
	checkParse(t, builtin(t, "k8s-nginx-ingress"), []parseCase{
		{ // An empty [$proxy_alternative_upstream_name] is left out.
			`192.168.49.1 - - [14/Mar/2024:09:07:51 +0000] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29" 112 0.001 [default-web-8080] [] 10.244.0.12:8080 2 0.001 200 7f3c5bd0e4f1a2b3c4d5e6f708192a3b`,
			`{"host":"192.168.49.1","user":"-","time":"14/Mar/2024:09:07:51 +0000","method":"GET","path":"/healthz","code":"200","size":"2","referer":"-","agent":"kube-probe/1.29","request_length":"112","request_time":"0.001","proxy_upstream_name":"default-web-8080","upstream_addr":"10.244.0.12:8080","upstream_response_length":"2","upstream_response_time":"0.001","upstream_status":"200","reg_id":"7f3c5bd0e4f1a2b3c4d5e6f708192a3b"}`,
		},
		{
			`192.168.49.1 - - [14/Mar/2024:09:07:58 +0000] "GET /products/42?q=a+b HTTP/1.1" 200 59 "http://shop.example.com/" "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0" 451 0.002 [shop-web-8080] [shop-canary-8080] 10.244.0.13:8080 59 0.002 200 0b2f5a8e9d1c4b7a6e3f2d1c0b9a8f7e`,
			`{"host":"192.168.49.1","user":"-","time":"14/Mar/2024:09:07:58 +0000","method":"GET","path":"/products/42?q=a+b","code":"200","size":"59","referer":"http://shop.example.com/","agent":"Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0","request_length":"451","request_time":"0.002","proxy_upstream_name":"shop-web-8080","proxy_alternative_upstream_name":"shop-canary-8080","upstream_addr":"10.244.0.13:8080","upstream_response_length":"59","upstream_response_time":"0.002","upstream_status":"200","reg_id":"0b2f5a8e9d1c4b7a6e3f2d1c0b9a8f7e"}`,
		},
		{ // A bad request never reaches an upstream.
			`192.168.49.1 - - [14/Mar/2024:09:08:02 +0000] "PATCHp /products/42 HTTP/1.1" 400 163 "-" "-" 0 0.000 [] [] - - - - 4c7d2079340e68353c7d0dfff00b904b`,
			`{"host":"192.168.49.1","user":"-","time":"14/Mar/2024:09:08:02 +0000","method":"PATCHp","path":"/products/42","code":"400","size":"163","referer":"-","agent":"-","request_length":"0","request_time":"0.000","upstream_addr":"-","upstream_response_length":"-","upstream_response_time":"-","upstream_status":"-","reg_id":"4c7d2079340e68353c7d0dfff00b904b"}`,
		},
		{ // Two upstreams tried: "a, b" lists have blanks, so the fields shift, as they do in Fluent Bit.
			`192.168.49.1 - - [14/Mar/2024:09:08:03 +0000] "GET / HTTP/2.0" 502 552 "-" "curl/8.5.0" 27 1.000 [web-5000] [] 10.0.0.7:5000, 10.0.0.8:5000 0, 1 0.000, 1.000 502, 403 3db73c6c673c4256ade033a6ce08c2ab`,
			`{"host":"192.168.49.1","user":"-","time":"14/Mar/2024:09:08:03 +0000","method":"GET","path":"/","code":"502","size":"552","referer":"-","agent":"curl/8.5.0","request_length":"27","request_time":"1.000","proxy_upstream_name":"web-5000","upstream_addr":"10.0.0.7:5000,","upstream_response_length":"10.0.0.8:5000","upstream_response_time":"0,","upstream_status":"1","reg_id":"0.000,"}`,
		},
		// The old format with [$the_real_ip] after the address.
		{`192.168.49.1 - [192.168.49.1] - - [14/Mar/2024:09:07:51 +0000] "GET / HTTP/1.1" 200 2 "-" "curl" 112 0.001 [default-web-8080] 10.244.0.12:8080 2 0.001 200 7f3c`, refused},
		{`192.168.49.1 - - [14/Mar/2024:09:07:51 +0000] "GET / HTTP/1.1" 200 2 "-" "curl"`, refused},
	})
}

func TestEnvoy(t *testing.T) {
	checkParse(t, builtin(t, "envoy"), []parseCase{
		{ // The example of Envoy's access log documentation.
			`[2016-04-15T20:17:00.310Z] "POST /api/v1/locations HTTP/2" 204 - 154 0 226 100 "10.0.35.28" "nsq2http" "cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2" "locations" "tcp://10.0.2.1:80"`,
			`{"start_time":"2016-04-15T20:17:00.310Z","method":"POST","path":"/api/v1/locations","protocol":"HTTP/2","code":"204","response_flags":"-","bytes_received":"154","bytes_sent":"0","duration":"226","x_envoy_upstream_service_time":"100","x_forwarded_for":"10.0.35.28","user_agent":"nsq2http","request_id":"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2","authority":"locations","upstream_host":"tcp://10.0.2.1:80"}`,
		},
		{
			`[2024-03-14T09:07:52.456Z] "GET /missing HTTP/1.1" 503 UH 0 19 0 - "-" "curl/8.5.0" "9b1e2f6a-7b8c-4d0e-8a2d-3f5c1b9e4d8b" "api.example.com" "-"`,
			`{"start_time":"2024-03-14T09:07:52.456Z","method":"GET","path":"/missing","protocol":"HTTP/1.1","code":"503","response_flags":"UH","bytes_received":"0","bytes_sent":"19","duration":"0","x_envoy_upstream_service_time":"-","x_forwarded_for":"-","user_agent":"curl/8.5.0","request_id":"9b1e2f6a-7b8c-4d0e-8a2d-3f5c1b9e4d8b","authority":"api.example.com","upstream_host":"-"}`,
		},
		// Several addresses in X-Forwarded-For have blanks, which the field does not allow.
		{`[2024-03-14T09:07:52.456Z] "GET / HTTP/1.1" 200 - 0 19 0 1 "1.2.3.4, 5.6.7.8" "curl/8.5.0" "id" "api" "10.0.0.1:80"`, refused},
	})
}

func TestSyslog5424(t *testing.T) {
	checkParse(t, builtin(t, "syslog-rfc5424"), []parseCase{
		{ // The examples of RFC 5424, section 6.5.
			"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed for lonvick on /dev/pts/8",
			"{\"pri\":\"34\",\"time\":\"2003-10-11T22:14:15.003Z\",\"host\":\"mymachine.example.com\",\"ident\":\"su\",\"pid\":\"-\",\"msgid\":\"ID47\",\"extradata\":\"-\",\"message\":\"\ufeff'su root' failed for lonvick on /dev/pts/8\"}",
		},
		{
			`<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.`,
			`{"pri":"165","time":"2003-08-24T05:14:15.000003-07:00","host":"192.0.2.1","ident":"myproc","pid":"8710","msgid":"-","extradata":"-","message":"%% It's time to make the do-nuts."}`,
		},
		{
			`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...`,
			`{"pri":"165","time":"2003-10-11T22:14:15.003Z","host":"mymachine.example.com","ident":"evntslog","pid":"-","msgid":"ID47","extradata":"[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]","message":"An application event log entry..."}`,
		},
		{ // Two SD elements are one extradata.
			`<86>1 2024-03-14T09:07:51.123456+00:00 node-1 sshd 812 - [origin ip="10.0.0.5"][meta sequenceId="7"] Accepted publickey`,
			`{"pri":"86","time":"2024-03-14T09:07:51.123456+00:00","host":"node-1","ident":"sshd","pid":"812","msgid":"-","extradata":"[origin ip=\"10.0.0.5\"][meta sequenceId=\"7\"]","message":"Accepted publickey"}`,
		},
		// No message: Fluent Bit's expression requires one.
		{`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 -`, refused},
		{`<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`, refused},
	})
}

func TestSyslog3164(t *testing.T) {
	checkParse(t, builtin(t, "syslog-rfc3164"), []parseCase{
		{ // The example of RFC 3164, section 5.4.
			`<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
			`{"pri":"34","time":"Oct 11 22:14:15","host":"mymachine","ident":"su","message":"'su root' failed for lonvick on /dev/pts/8"}`,
		},
		{ // A one-digit day is padded with a blank.
			`<13>Feb  5 17:32:18 10.0.0.99 myapp[1234]: Use the BFG!`,
			`{"pri":"13","time":"Feb  5 17:32:18","host":"10.0.0.99","ident":"myapp","pid":"1234","message":"Use the BFG!"}`,
		},
		{ // Only the first colon ends the tag.
			`<86>Mar 14 09:07:51 node-1 sshd[812]: Accepted publickey for core from 10.0.0.5 port 52144 ssh2: ED25519 SHA256:n8ZcT0yV`,
			`{"pri":"86","time":"Mar 14 09:07:51","host":"node-1","ident":"sshd","pid":"812","message":"Accepted publickey for core from 10.0.0.5 port 52144 ssh2: ED25519 SHA256:n8ZcT0yV"}`,
		},
		{`Mar 14 09:07:51 node-1 sshd[812]: no priority`, refused},
	})
}
