package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// demoHeader is what the view says about the setup.
type demoHeader struct {
	dir, glob        string
	pods             int
	rate             float64
	rotate           int64
	endpoint, group  string
	logPath, metrics string
}

// demoView draws the live view: redrawn in place twice a second on a
// terminal, one line a second otherwise (CI logs).
type demoView struct {
	w      io.Writer
	tty    bool
	live   *demoLive
	reg    *prometheus.Registry
	h      demoHeader
	start  time.Time
	prev   sample   // the previous frame's sample
	window []sample // recent samples; rates are taken over rateWindow
}

// rateWindow is the span per-pod rates are averaged over: several flush
// intervals, so that batches leaving once a second read as a steady rate.
const rateWindow = 4 * time.Second

// sample is one reading of the counters, for rates.
type sample struct {
	at      time.Time
	written []int64
	shipped []int64
}

func newDemoView(w io.Writer, live *demoLive, reg *prometheus.Registry, h demoHeader) *demoView {
	return &demoView{w: w, tty: isTerminal(w), live: live, reg: reg, h: h, start: time.Now()}
}

func (v *demoView) run(ctx context.Context, stopping *atomic.Bool) {
	every := time.Second
	if v.tty {
		every = 500 * time.Millisecond
		fmt.Fprint(v.w, "\x1b[?25l\x1b[H\x1b[2J") // hide the cursor, clear
		defer fmt.Fprint(v.w, "\x1b[?25h")
	} else {
		fmt.Fprintf(v.w, "skiff demo: %d pods writing %.0f lines/s under %s, shipping to cwlocal at %s\n",
			v.h.pods, v.h.rate, v.h.glob, v.h.endpoint)
	}
	v.prev = v.sample()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			v.draw(stopping.Load(), true)
			return
		case <-t.C:
			v.draw(stopping.Load(), false)
		}
	}
}

func (v *demoView) sample() sample {
	sim := v.live.sim
	s := sample{at: time.Now(), written: make([]int64, sim.Streams()), shipped: v.live.perStream()}
	for i := range s.written {
		s.written[i] = sim.StreamLines(i)
	}
	return s
}

func (v *demoView) draw(stopping, last bool) {
	cur := v.sample()
	v.window = append(v.window, cur)
	for len(v.window) > 1 && cur.at.Sub(v.window[0].at) > rateWindow+100*time.Millisecond {
		v.window = v.window[1:]
	}
	old := v.window[0]
	dt := cur.at.Sub(old.at).Seconds()
	if dt <= 0 {
		dt = 1
	}
	st := v.live.sim.Stats()
	tally := v.live.counter.Tally()
	m := gatherValues(v.reg)
	elapsed := time.Since(v.start).Truncate(time.Second)
	lag := max(st.Lines-tally.Delivered, 0)
	state := "running, Ctrl-C to stop"
	if stopping {
		state = "stopping: writers stopped, flushing"
	}
	if last {
		state = "stopped"
	}
	if !v.tty {
		fmt.Fprintf(v.w, "%5s  written %d  shipped %d  lag %d lines  buffer %s  puts %d  rotations %d  %s\n",
			elapsed, st.Lines, tally.Delivered, lag, bytesIEC(m["skiff_buffer_bytes"]),
			v.live.puts.Load(), st.Rotations, state)
		v.prev = cur
		return
	}

	var b strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteString("\x1b[K\n")
	}
	bold, dim, green, yellow, reset := "\x1b[1m", "\x1b[2m", "\x1b[32m", "\x1b[33m", "\x1b[0m"
	b.WriteString("\x1b[H")
	line("%sskiff demo%s  a simulated node shipping to a local CloudWatch Logs   %s%s%s  %s", bold, reset, dim, elapsed, reset, state)
	line("")
	line(" %snode%s   %d pods writing %.0f lines/s, CRI format, rotated at %s like the kubelet", dim, reset, v.h.pods, v.h.rate, bytesIEC(float64(v.h.rotate)))
	line("        %s", v.h.glob)
	line(" %scloud%s  cwlocal %s (SigV4 checked)  group %s", dim, reset, v.h.endpoint, v.h.group)
	if v.h.metrics != "" {
		line(" %sagent%s  metrics %s   log %s", dim, reset, v.h.metrics, v.h.logPath)
	}
	line("")
	line(" %-18s %s%12s%s     %-18s %s%12s%s", "lines written", bold, groupDigits(st.Lines), reset, "lines shipped", green+bold, groupDigits(tally.Delivered), reset)
	lagColor := green
	if lag > int64(v.h.rate) {
		lagColor = yellow
	}
	line(" %-18s %s%12s%s     %-18s %12s", "lag (lines)", lagColor, groupDigits(lag), reset, "write→accept p99", tally.LatencyP99.Round(time.Millisecond))
	line(" %-18s %12s     %-18s %12s", "duplicates", groupDigits(tally.Duplicates), "rotations", groupDigits(st.Rotations))
	used, limit := m["skiff_buffer_bytes"], m["skiff_buffer_limit_bytes"]
	line(" %-18s %12s of %s %s", "buffer", bytesIEC(used), bytesIEC(limit), bar(used, limit, 30))
	line(" %-18s %12s     %-18s %12s", "PutLogEvents ok", groupDigits(v.live.puts.Load()), "retries", groupDigits(int64(m["skiff_output_retries_total"])))
	line("")
	line(" %s%-44s %10s %10s %12s %12s %8s%s", dim, "POD", "WRITTEN/s", "SHIPPED/s", "WRITTEN", "SHIPPED", "LAG", reset)
	for i := range cur.written {
		info := v.live.sim.Stream(i)
		w, s := cur.written[i], cur.shipped[i]
		var pw, ps int64
		if i < len(old.written) {
			pw, ps = old.written[i], old.shipped[i]
		}
		line(" %-44s %10.0f %10.0f %12s %12s %8s", trim(info.Namespace+"/"+info.Pod, 44),
			float64(w-pw)/dt, float64(s-ps)/dt, groupDigits(w), groupDigits(s), groupDigits(max(w-s, 0)))
	}
	b.WriteString("\x1b[J")
	_, _ = io.WriteString(v.w, b.String())
	v.prev = cur
}

// gatherValues sums every series of each metric family in reg.
func gatherValues(reg *prometheus.Registry) map[string]float64 {
	out := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		return out
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.Gauge != nil:
				out[mf.GetName()] += m.Gauge.GetValue()
			case m.Counter != nil:
				out[mf.GetName()] += m.Counter.GetValue()
			}
		}
	}
	return out
}

func bar(used, limit float64, width int) string {
	if limit <= 0 {
		return ""
	}
	n := int(used / limit * float64(width))
	n = min(max(n, 0), width)
	if used > 0 && n == 0 {
		n = 1
	}
	return "[" + strings.Repeat("█", n) + strings.Repeat("·", width-n) + "]"
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// groupDigits writes n with thin separators: 1,234,567.
func groupDigits(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func bytesIEC(n float64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", n/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.0f B", n)
}

// format is the delivery report and how to read the logs back.
func (r demoReport) format(endpoint string, keep bool) string {
	t := r.tally
	var b strings.Builder
	verdict := "\x1b[32mnothing lost\x1b[0m"
	if !isTerminal(os.Stdout) {
		verdict = "nothing lost"
	}
	lostLabel := "lost"
	switch {
	case t.Lost > 0 && r.cut:
		verdict = fmt.Sprintf("%d lines not delivered yet: the flush was cut short, the next start reads them again", t.Lost)
		lostLabel = "pending"
	case t.Lost > 0:
		verdict = fmt.Sprintf("LOST %d LINES", t.Lost)
	}
	fmt.Fprintf(&b, "\nDelivery report (every event read back from the local CloudWatch): %s\n", verdict)
	fmt.Fprintf(&b, "  written     %12s lines by %d pods\n", groupDigits(t.Written), len(r.streams))
	fmt.Fprintf(&b, "  delivered   %12s distinct lines (%s events in %d streams)\n", groupDigits(t.Delivered), groupDigits(int64(r.events)), len(r.streams))
	fmt.Fprintf(&b, "  duplicates  %12s\n", groupDigits(t.Duplicates))
	fmt.Fprintf(&b, "  %-11s %12s\n", lostLabel, groupDigits(t.Lost))
	fmt.Fprintf(&b, "  write→accept latency p50 %s, p99 %s, max %s\n",
		t.LatencyP50.Round(time.Millisecond), t.LatencyP99.Round(time.Millisecond), t.LatencyMax.Round(time.Millisecond))
	if j := r.journal; j != nil {
		jt := j.tally
		fmt.Fprintf(&b, "  journal     %12s entries written (kubelet, containerd, kernel, sshd), %s delivered:"+
			" %s events in /dataplane, %s in /host (dmesg, secure); %s lost, %s duplicates\n",
			groupDigits(jt.Written), groupDigits(jt.Delivered), groupDigits(int64(j.events["dataplane"])),
			groupDigits(int64(j.events["host"])), groupDigits(jt.Lost), groupDigits(jt.Duplicates))
	}
	if len(r.streams) > 0 {
		fmt.Fprintf(&b, "\nRead the shipped logs back with the AWS CLI%s:\n", map[bool]string{true: "", false: " (run the demo with --keep to keep the local CloudWatch up)"}[keep])
		fmt.Fprintf(&b, "  AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s \\\n  aws --endpoint-url %s --region %s logs get-log-events \\\n    --log-group-name %s \\\n    --log-stream-name %s --start-from-head --limit 5\n",
			demoAccessKey, demoSecretKey, endpoint, demoRegion, groupName(), r.streams[0])
	}
	return b.String()
}
