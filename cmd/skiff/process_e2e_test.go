package main

// Processing end to end: the built agent against a real API server and
// cwlocal. A pod annotated for Java stack traces and JSON lines, a
// namespace a filter drops, secrets redaction must catch; killed and
// stopped in the middle of an outage while the trace's file rotates and the
// rotated file is deleted. The events read back are exactly the expected
// ones: every trace whole, nothing half-shipped, no secret, no dropped
// namespace.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-agent/skiff/enrich/kubetest"
	"github.com/skiff-agent/skiff/sinks/cloudwatch/cwlocal"
	"github.com/skiff-agent/skiff/tailer"
)

// javaTrace is what a JDK 17 printed for a chained exception, after a
// logger's line; %d numbers the order.
const javaTrace = `2024-05-01 12:00:00.001 ERROR [main] com.example.orders.OrderService - order x%d failed for buyer%d@example.com
java.lang.IllegalStateException: request failed
	at Trace.handle(Trace.java:34)
	at Trace.main(Trace.java:54)
	at java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
	at java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke(NativeMethodAccessorImpl.java:77)
	at java.base/jdk.internal.reflect.DelegatingMethodAccessorImpl.invoke(DelegatingMethodAccessorImpl.java:43)
	at java.base/java.lang.reflect.Method.invoke(Method.java:569)
	Suppressed: java.io.IOException: close failed
		at Trace.handle(Trace.java:35)
		... 8 more
Caused by: java.lang.IllegalArgumentException: bad order id x%d
	at Trace.load(Trace.java:26)
	at Trace.handle(Trace.java:32)
	... 8 more
Caused by: java.lang.NumberFormatException: For input string: "x%d"
	at java.base/java.lang.NumberFormatException.forInputString(NumberFormatException.java:67)
	at java.base/java.lang.Integer.parseInt(Integer.java:668)
	at Trace.parse(Trace.java:19)
	... 9 more`

// podLog is one container's log files, laid out as the kubelet does.
type podLog struct {
	t          *testing.T
	live, link string
}

func newPodLog(t *testing.T, root, ns, pod, uid, container string) *podLog {
	dir := filepath.Join(root, "pods", ns+"_"+pod+"_"+uid, container)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := &podLog{t: t, live: filepath.Join(dir, "0.log"),
		link: filepath.Join(root, "containers", fmt.Sprintf("%s_%s_%s-%s.log", pod, ns, container, strings.Repeat("cd", 32)))}
	if err := os.MkdirAll(filepath.Dir(p.link), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(p.live, p.link); err != nil {
		t.Fatal(err)
	}
	return p
}

// write appends msgs as CRI lines, stamped now.
func (p *podLog) write(msgs ...string) {
	var b strings.Builder
	for _, m := range msgs {
		for _, l := range strings.Split(m, "\n") {
			b.WriteString(time.Now().UTC().Format(time.RFC3339Nano) + " stdout F " + l + "\n")
		}
	}
	appendTo(p.t, p.live, b.String())
}

// rotate renames the live file as the kubelet does; the next write
// creates the new one.
func (p *podLog) rotate() string {
	rotated := p.live + "." + time.Now().UTC().Format("20060102-150405.000000000")
	if err := os.Rename(p.live, rotated); err != nil {
		p.t.Fatal(err)
	}
	return rotated
}

func appendTo(t *testing.T, path, s string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func (p *podLog) stream() string { return demoNode + "-application." + tailer.Tag(p.link) }

func TestProcessingEndToEnd(t *testing.T) {
	c := kubetest.Start(t)
	ctx := context.Background()
	cs := c.AdminClient(t)
	uids := map[string]string{}
	for _, p := range []struct {
		ns, name string
		ann      map[string]string
	}{
		{"shop", "checkout", map[string]string{"skiff.io/multiline": "java", "fluentbit.io/parser": "json"}},
		{"shop", "web", nil},
		{"noisy", "chatter", nil},
	} {
		c.Namespace(t, p.ns)
		pod, err := cs.CoreV1().Pods(p.ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: p.ns, Annotations: p.ann},
			Spec:       corev1.PodSpec{NodeName: demoNode, Containers: []corev1.Container{{Name: "app", Image: "example/app:1"}}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		uids[p.name] = string(pod.UID)
	}
	root := t.TempDir()
	checkout := newPodLog(t, root, "shop", "checkout", uids["checkout"], "app")
	web := newPodLog(t, root, "shop", "web", uids["web"], "app")
	noisy := newPodLog(t, root, "noisy", "chatter", uids["chatter"], "app")

	cw, err := cwlocal.NewServer(cwlocal.Options{AccessKey: demoAccessKey, SecretKey: demoSecretKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cw.Close() })
	n := &node{t: t, dir: t.TempDir(), cw: cw, port: freePort(t), grace: 15 * time.Second}
	n.cfg = filepath.Join(n.dir, "skiff.yaml")
	cfg := fmt.Sprintf(`cluster: %s
node_name: %s
shutdown_timeout: 3s
http: {listen: "127.0.0.1:%d"}
log: {format: json}
tail:
  include: [%s]
  exclude: []
  state_dir: %s
  checkpoint_interval: 200ms
kubernetes: {enabled: true, kubeconfig: %s}
cloudwatch:
  region: %s
  endpoint: %s
  flush_interval: 200ms
redact:
  rules: [aws_access_key_id, email]
  custom:
    password: 'password=(?P<secret>\S+)'
filters:
  - name: no-noisy
    namespace: noisy
    action: drop
`, demoCluster, demoNode, n.port, filepath.Join(root, "containers", "*.log"), filepath.Join(n.dir, "state"),
		c.Kubeconfig(t, c.AdminConfig()), demoRegion, cw.URL())
	if err := os.WriteFile(n.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	n.env = []string{"KUBERNETES_SERVICE_HOST="} // not in a cluster: no default journal inputs

	trace := func(i int) string { return fmt.Sprintf(javaTrace, i, i, i, i) }
	order := func(i int) string {
		return fmt.Sprintf(`{"level":"info","msg":"order-%d paid","email":"buyer%d@example.com"}`, i, i)
	}
	request := func(i int) string {
		return fmt.Sprintf("GET /login?user=u%d password=hunter2 key=AKIAIOSFODNN7EXAMPLE m-%d", i, i)
	}
	var wantCheckout, wantWeb []string
	expect := func(i int) {
		wantCheckout = append(wantCheckout,
			strings.ReplaceAll(order(i), fmt.Sprintf("buyer%d@example.com", i), "[REDACTED]"),
			strings.ReplaceAll(trace(i), fmt.Sprintf("buyer%d@example.com", i), "[REDACTED]"))
		wantWeb = append(wantWeb, fmt.Sprintf("GET /login?user=u%d password=[REDACTED] key=[REDACTED] m-%d", i, i))
	}
	writeAll := func(i int) {
		checkout.write(order(i), trace(i))
		web.write(request(i))
		noisy.write(fmt.Sprintf("chatter %d", i))
		expect(i)
	}
	logs := func(p *podLog) []string {
		var out []string
		for _, e := range cw.Events(groupName(), p.stream()) {
			var rec struct {
				Log string `json:"log"`
			}
			if err := json.Unmarshal([]byte(e.Message), &rec); err != nil {
				t.Fatalf("event %q: %v", e.Message, err)
			}
			out = append(out, rec.Log)
		}
		return out
	}
	delivered := func(want []string, p *podLog) func() bool {
		return func() bool {
			got := logs(p)
			for _, w := range want {
				if !slices.Contains(got, w) {
					return false
				}
			}
			return true
		}
	}

	// Shipping as usual, once the agent knows the node's pods (on a node,
	// pods exist before they write).
	p := n.start()
	waitFor(t, time.Minute, "the pods' metadata", func() bool { return n.metric("skiff_enrich_pods") >= 3 })
	for i := range 3 {
		writeAll(i)
	}
	waitFor(t, time.Minute, "the first records", delivered(wantCheckout, checkout))

	// An outage: a trace is cut by a rotation, the rotated file is spooled
	// (it holds unacknowledged bytes), then skiff is killed.
	cw.SetFaults(cwlocal.Faults{Outage: true})
	lines := strings.Split(trace(3), "\n")
	checkout.write(order(3), strings.Join(lines[:8], "\n"))
	first := checkout.rotate()
	checkout.write(strings.Join(lines[8:], "\n"), order(4), trace(4))
	web.write(request(3), request(4))
	noisy.write("chatter 3", "chatter 4")
	expect(3)
	expect(4)
	waitFor(t, 30*time.Second, "the rotated file spooled", func() bool { return n.metric("skiff_input_spooled_bytes_total") > 0 })
	n.kill(p)

	// While it is down, the kubelet rotates again and deletes the file with
	// the start of the cut trace.
	checkout.rotate()
	if err := os.Remove(first); err != nil {
		t.Fatal(err)
	}
	writeAll(5)

	// Started and stopped again within the outage.
	p = n.start()
	writeAll(6)
	time.Sleep(time.Second)
	if code := n.stopAgent(p, n.grace); code != exitFailed {
		t.Fatalf("exit code %d after SIGTERM during the outage; want %d", code, exitFailed)
	}

	// The outage ends.
	cw.SetFaults(cwlocal.Faults{})
	p = n.start()
	writeAll(7)
	deadline := time.Now().Add(time.Minute)
	for !delivered(wantCheckout, checkout)() || !delivered(wantWeb, web)() {
		if time.Now().After(deadline) {
			for _, c := range []struct {
				p    *podLog
				want []string
			}{{checkout, wantCheckout}, {web, wantWeb}} {
				got := logs(c.p)
				for _, w := range c.want {
					if !slices.Contains(got, w) {
						t.Errorf("missing from %s:\n%s", c.p.stream(), w)
					}
				}
				for _, g := range got {
					if !slices.Contains(c.want, g) {
						t.Errorf("unexpected in %s:\n%s", c.p.stream(), g)
					}
				}
			}
			for _, e := range cw.Events(groupName(), checkout.stream()) {
				t.Logf("event %d %d: %.70q", e.Timestamp, e.IngestionTime, e.Message[strings.Index(e.Message, `"log"`):])
			}
			t.Fatal("timed out waiting for every record")
		}
		time.Sleep(100 * time.Millisecond)
	}
	checkMonitoringMetrics(t, n)
	if code := n.stopAgent(p, n.grace); code != exitOK {
		t.Fatalf("exit code %d after SIGTERM; want %d", code, exitOK)
	}

	for _, c := range []struct {
		name string
		p    *podLog
		want []string
	}{{"checkout", checkout, wantCheckout}, {"web", web, wantWeb}} {
		got := logs(c.p)
		dups := 0
		for _, g := range got {
			if !slices.Contains(c.want, g) {
				t.Errorf("%s: an event that is not one of the records written (half a trace?):\n%s", c.name, g)
			}
			for _, secret := range []string{"@example.com", "hunter2", "AKIAIOSFODNN7EXAMPLE"} {
				if strings.Contains(g, secret) {
					t.Errorf("%s: a secret reached CloudWatch: %s", c.name, g)
				}
			}
		}
		for _, w := range c.want {
			if k := strings.Count(strings.Join(got, "\x00")+"\x00", w+"\x00"); k == 0 {
				t.Errorf("%s: missing record:\n%s", c.name, w)
			} else {
				dups += k - 1
			}
		}
		t.Logf("%s: %d records written, %d events, %d duplicates", c.name, len(c.want), len(got), dups)
	}
	if evs := cw.Events(groupName(), noisy.stream()); len(evs) != 0 {
		t.Errorf("the noisy namespace, dropped by a filter, has %d events", len(evs))
	}
	// The parsed JSON lines carry their (redacted) object.
	for _, e := range cw.Events(groupName(), checkout.stream()) {
		var rec struct {
			Log       string         `json:"log"`
			Processed map[string]any `json:"log_processed"`
		}
		_ = json.Unmarshal([]byte(e.Message), &rec)
		if strings.HasPrefix(rec.Log, "{") && rec.Processed["email"] != "[REDACTED]" {
			t.Errorf("event %s: want log_processed.email [REDACTED]", e.Message)
		}
	}
}

// checkMonitoringMetrics scrapes the running agent: every skiff_ series the
// dashboard and the alerts query is one it exposes (its reasons at 0 from
// the start), not only one its source defines.
func checkMonitoringMetrics(t *testing.T, n *node) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", n.port))
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	exposed := map[string]bool{}
	for _, line := range strings.Split(string(body), "\n") {
		if name, _, ok := strings.Cut(line, " "); ok && strings.HasPrefix(name, "skiff_") {
			name, _, _ = strings.Cut(name, "{")
			exposed[name] = true
		}
	}
	used := regexp.MustCompile(`skiff_[a-z0-9_]+`)
	for _, f := range []string{"../../deploy/grafana/skiff-dashboard.json", "../../deploy/grafana/alerts.yaml"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range used.FindAllString(string(data), -1) {
			if !exposed[name] && !exposed[name+"_bucket"] && !exposed[strings.TrimSuffix(name, "_bucket")+"_bucket"] {
				t.Errorf("%s queries %s, which the running agent does not expose", f, name)
			}
		}
	}
	for _, name := range []string{"skiff_output_errors_total", "skiff_output_retries_failed_total", "skiff_input_records_total", "skiff_output_dropped_records_total"} {
		if !exposed[name] {
			t.Errorf("the agent does not expose %s", name)
		}
	}
	if !strings.Contains(string(body), `skiff_input_records_total{input="application"}`) {
		t.Error("skiff_input_records_total has no input label")
	}
}
