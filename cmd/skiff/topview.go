package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricSet is a parsed /metrics: each family's counter, gauge and untyped
// series (histograms and summaries are left out: the view shows none).
type metricSet map[string][]series

// series is one labelled value.
type series struct {
	labels map[string]string
	value  float64
}

// parseMetrics reads the Prometheus text exposition format.
func parseMetrics(r io.Reader) (metricSet, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	out := make(metricSet, len(mfs))
	for name, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var v float64
			switch {
			case m.Counter != nil:
				v = m.Counter.GetValue()
			case m.Gauge != nil:
				v = m.Gauge.GetValue()
			case m.Untyped != nil:
				v = m.Untyped.GetValue()
			default:
				continue
			}
			labels := make(map[string]string, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[name] = append(out[name], series{labels: labels, value: v})
		}
	}
	return out, nil
}

// has reports whether the family has a series.
func (ms metricSet) has(name string) bool { return len(ms[name]) > 0 }

// sum adds the family's series whose labels match: match is label, value
// pairs; a value starting with "!" matches any other value.
func (ms metricSet) sum(name string, match ...string) float64 {
	var n float64
next:
	for _, s := range ms[name] {
		for i := 0; i+1 < len(match); i += 2 {
			v := s.labels[match[i]]
			if want, not := strings.CutPrefix(match[i+1], "!"); not && v == want || !not && v != want {
				continue next
			}
		}
		n += s.value
	}
	return n
}

// by sums the family's series by one label's value.
func (ms metricSet) by(name, label string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range ms[name] {
		out[s.labels[label]] += s.value
	}
	return out
}

// label returns a label's value in the family's first series.
func (ms metricSet) label(name, label string) string {
	if s := ms[name]; len(s) > 0 {
		return s[0].labels[label]
	}
	return ""
}

// topSample is one reading of the agent.
type topSample struct {
	at     time.Time // the viewer's clock, when /metrics was read
	m      metricSet
	status *agentStatus // nil when the agent serves no /status
}

// counter is a total and its rate per second over the last interval.
type counter struct{ total, rate float64 }

// topModel is what one frame of `skiff top` shows.
type topModel struct {
	addr     string
	at       time.Time
	version  string
	uptime   time.Duration // 0: unknown
	interval time.Duration // between the two samples; 0: first frame, totals only

	recordsIn, recordsOut, bytesIn, bytesOut        counter
	requests, throttles, retries, rejected, dropped counter
	errors, skipped                                 counter
	cloudWatch                                      bool // the output is CloudWatch Logs
	skippedBy                                       []namedValue
	buffer, bufferLimit                             float64
	lag, unacked, spool, filesWatched               float64

	meta metaHealth

	hasStatus      bool
	files          []fileRow // the top files by lag
	fileCount      int
	pods, spaces   []groupRow
	bytesPerRecord float64 // the node's mean, for ≈records/s
}

type namedValue struct {
	name  string
	value float64
}

// metaHealth is the pod metadata cache's state.
type metaHealth struct {
	on                  bool // skiff_enrich_* metrics exist
	watches, watchesUp  int
	pods                float64
	hit, miss, fallback counter
}

// fileRow is one file of the table.
type fileRow struct {
	name                string // namespace/pod/container, or the path
	base                string // the file's name, after a pod's name
	lag, offset         float64
	rate                float64 // bytes read per second
	detached, rateKnown bool
}

// groupRow is a pod or namespace: its files summed.
type groupRow struct {
	name  string
	files int
	lag   float64
	rate  float64 // bytes read per second
}

// fileKey identifies an open file across samples: a path leads to a new
// file at each rotation, opened later.
func fileKey(f fileStatus) string {
	return f.Path + "\x00" + f.Target + "\x00" + f.Opened.Format(time.RFC3339Nano)
}

// buildModel makes a frame of cur, with rates since prev (nil: totals
// only). A prev from before the agent restarted counts as none.
func buildModel(addr string, prev, cur *topSample, top int) topModel {
	m := cur.m
	startedAt := m.sum("process_start_time_seconds")
	if prev != nil && prev.m.sum("process_start_time_seconds") != startedAt {
		prev = nil
	}
	v := topModel{addr: addr, at: cur.at, version: m.label("skiff_build_info", "version")}
	if cur.status != nil && v.version == "" {
		v.version = cur.status.Version
	}
	if startedAt > 0 {
		now := cur.at
		if cur.status != nil && !cur.status.Time.IsZero() {
			now = cur.status.Time // the agent's clock, as the start time
		}
		sec, frac := math.Modf(startedAt)
		v.uptime = now.Sub(time.Unix(int64(sec), int64(frac*1e9))).Truncate(time.Second)
	}
	var dt float64
	if prev != nil {
		if d := cur.at.Sub(prev.at); d > 0 {
			v.interval, dt = d, d.Seconds()
		}
	}
	count := func(name string, match ...string) counter {
		c := counter{total: m.sum(name, match...)}
		if dt > 0 {
			p := prev.m.sum(name, match...)
			if c.total < p { // reset
				p = 0
			}
			c.rate = (c.total - p) / dt
		}
		return c
	}
	add := func(a, b counter) counter { return counter{a.total + b.total, a.rate + b.rate} }

	fileRecs := count("skiff_input_records_total")
	v.recordsIn = add(fileRecs, count("skiff_input_journal_records_total"))
	v.recordsOut = count("skiff_output_proc_records_total")
	v.bytesIn = count("skiff_input_bytes_total")
	v.bytesOut = count("skiff_output_proc_bytes_total")
	v.cloudWatch = m.has("skiff_cloudwatch_requests_total") || m.has("skiff_cloudwatch_throttles_total")
	v.requests = count("skiff_cloudwatch_requests_total")
	v.throttles = count("skiff_cloudwatch_throttles_total")
	v.rejected = count("skiff_cloudwatch_rejected_events_total")
	v.retries = count("skiff_output_retries_total")
	v.dropped = count("skiff_output_dropped_records_total")
	v.errors = count("skiff_output_errors_total")
	v.skipped = count("skiff_input_skipped_bytes_total")
	for reason, n := range m.by("skiff_input_skipped_bytes_total", "reason") {
		if n > 0 {
			v.skippedBy = append(v.skippedBy, namedValue{reason, n})
		}
	}
	slices.SortFunc(v.skippedBy, func(a, b namedValue) int { return cmp.Compare(a.name, b.name) })
	v.buffer = m.sum("skiff_buffer_bytes")
	v.bufferLimit = m.sum("skiff_buffer_limit_bytes")
	v.lag = m.sum("skiff_input_lag_bytes")
	v.unacked = m.sum("skiff_input_unacked_bytes")
	v.spool = m.sum("skiff_input_spool_bytes")
	v.filesWatched = m.sum("skiff_input_files_watched")
	if fileRecs.total > 0 {
		v.bytesPerRecord = v.bytesIn.total / fileRecs.total
		if dt > 0 && fileRecs.rate > 0 {
			v.bytesPerRecord = v.bytesIn.rate / fileRecs.rate
		}
	}

	if m.has("skiff_enrich_lookups_total") || m.has("skiff_enrich_watch_up") {
		h := &v.meta
		h.on = true
		for _, s := range m["skiff_enrich_watch_up"] {
			h.watches++
			if s.value > 0 {
				h.watchesUp++
			}
		}
		h.pods = m.sum("skiff_enrich_pods")
		h.hit = count("skiff_enrich_lookups_total", "result", "hit")
		h.miss = count("skiff_enrich_lookups_total", "result", "miss")
		h.fallback = count("skiff_enrich_lookups_total", "result", "fallback")
	}

	if cur.status != nil {
		v.hasStatus = true
		v.files, v.pods, v.spaces = fileRates(prev, cur, dt)
		v.fileCount = len(v.files)
		if len(v.files) > top {
			v.files = v.files[:top]
		}
		if len(v.pods) > top {
			v.pods = v.pods[:top]
		}
		if len(v.spaces) > top {
			v.spaces = v.spaces[:top]
		}
	}
	return v
}

// fileRates turns two /status samples into file rows, by lag, and pod and
// namespace rows, by read rate: the bytes each file's read offset moved
// (a file opened since prev counts from 0; an offset that went back, a
// truncation, counts from 0). A file closed between the samples drops out
// with its last reads, so the sums may run a little under
// skiff_input_bytes_total.
func fileRates(prev, cur *topSample, dt float64) (files []fileRow, pods, spaces []groupRow) {
	before := map[string]fileStatus{}
	var prevTime time.Time
	if dt > 0 && prev.status != nil {
		prevTime = prev.status.Time
		for _, f := range prev.status.Files {
			before[fileKey(f)] = f
		}
	}
	byPod, bySpace := map[string]*groupRow{}, map[string]*groupRow{}
	group := func(m map[string]*groupRow, name string, f fileRow) {
		g := m[name]
		if g == nil {
			g = &groupRow{name: name}
			m[name] = g
		}
		g.files++
		g.lag += f.lag
		g.rate += f.rate
	}
	for _, f := range cur.status.Files {
		row := fileRow{name: f.Path, lag: float64(f.Lag), offset: float64(f.Offset), detached: f.Detached}
		if f.Pod != "" {
			row.name = f.Namespace + "/" + f.Pod + "/" + f.Container
			row.base = filepath.Base(cmp.Or(f.Target, f.Path))
		}
		if dt > 0 {
			read, known := int64(0), false
			if p, ok := before[fileKey(f)]; ok {
				read, known = f.Offset-p.Offset, true
				if read < 0 {
					read = f.Offset
				}
			} else if prev.status != nil && f.Opened.After(prevTime) {
				read, known = f.Offset, true
			}
			row.rate, row.rateKnown = float64(read)/dt, known
		}
		files = append(files, row)
		pod, space := "(no pod)", "(no pod)"
		if f.Pod != "" {
			pod, space = f.Namespace+"/"+f.Pod, f.Namespace
		}
		group(byPod, pod, row)
		group(bySpace, space, row)
	}
	slices.SortStableFunc(files, func(a, b fileRow) int {
		return cmp.Or(-cmp.Compare(a.lag, b.lag), -cmp.Compare(a.rate, b.rate), cmp.Compare(a.name, b.name), cmp.Compare(a.base, b.base))
	})
	sorted := func(m map[string]*groupRow) []groupRow {
		out := make([]groupRow, 0, len(m))
		for _, g := range m {
			out = append(out, *g)
		}
		slices.SortFunc(out, func(a, b groupRow) int {
			return cmp.Or(-cmp.Compare(a.rate, b.rate), -cmp.Compare(a.lag, b.lag), cmp.Compare(a.name, b.name))
		})
		return out
	}
	return files, sorted(byPod), sorted(bySpace)
}

// plainLine is the frame of a non-terminal: one line.
func (v topModel) plainLine() string {
	in, out := groupDigits(int64(v.recordsIn.total))+" rec", groupDigits(int64(v.recordsOut.total))+" rec (totals)"
	if v.interval > 0 {
		in, out = fmtRate(v.recordsIn.rate)+" rec/s", fmtRate(v.recordsOut.rate)+" rec/s"
	}
	return fmt.Sprintf("%s  in %s  out %s  buffer %s of %s  lag %s  throttles %s  errors %s",
		v.at.Format("15:04:05"), in, out, percent(v.buffer, v.bufferLimit), bytesIEC(v.bufferLimit),
		bytesIEC(v.lag), groupDigits(int64(v.throttles.total)), groupDigits(int64(v.errors.total)))
}

// screen is the full frame, one string per line, without escape codes.
// With rows and cols (0: no bound), the tables are cut to leave a row free
// (a newline on the last row would scroll) and lines to the width.
func (v topModel) screen(rows, cols int) []string {
	var out []string
	line := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	up := "up ?"
	if v.uptime > 0 {
		up = "up " + v.uptime.String()
	}
	when := "totals only" // rates need a second sample
	if v.interval > 0 {
		when = "rates over " + v.interval.Round(10*time.Millisecond).String()
	}
	line("skiff top  %s  version %s  %s  %s  %s", v.addr, v.version, up, v.at.Format("15:04:05"), when)
	line("")
	rate := func(c counter, bytes bool) string {
		switch {
		case v.interval <= 0:
			return "-"
		case bytes:
			return bytesIEC(c.rate) + "/s"
		}
		return fmtRate(c.rate) + "/s"
	}
	total := func(c counter, bytes bool) string {
		if bytes {
			return bytesIEC(c.total)
		}
		return groupDigits(int64(c.total))
	}
	pair := func(l1 string, c1 counter, b1 bool, l2 string, c2 counter, b2 bool) {
		line(" %-12s %11s %11s   %-12s %11s %11s", l1, rate(c1, b1), total(c1, b1), l2, rate(c2, b2), total(c2, b2))
	}
	line(" %-12s %11s %11s   %-12s %11s %11s", "", "RATE", "TOTAL", "", "RATE", "TOTAL")
	pair("records in", v.recordsIn, false, "records out", v.recordsOut, false)
	pair("bytes in", v.bytesIn, true, "bytes out", v.bytesOut, true)
	if v.cloudWatch {
		pair("CW requests", v.requests, false, "throttles", v.throttles, false)
		pair("retries", v.retries, false, "rejected", v.rejected, false)
	} else {
		pair("retries", v.retries, false, "", counter{}, false)
	}
	pair("dropped", v.dropped, false, "errors", v.errors, false)
	line("")
	line(" %-12s %s of %s  %s %s", "buffer", bytesIEC(v.buffer), bytesIEC(v.bufferLimit), percent(v.buffer, v.bufferLimit), bar(v.buffer, v.bufferLimit, 30))
	line(" %-12s %s unread in %s files   unacked %s   spool %s", "lag", bytesIEC(v.lag), groupDigits(int64(v.filesWatched)), bytesIEC(v.unacked), bytesIEC(v.spool))
	skipped := "none"
	if len(v.skippedBy) > 0 {
		var parts []string
		for _, s := range v.skippedBy {
			parts = append(parts, s.name+" "+bytesIEC(s.value))
		}
		skipped = strings.Join(parts, ", ")
	}
	line(" %-12s %s", "skipped", skipped)
	if h := v.meta; h.on {
		watch := "down"
		switch {
		case h.watches == 0:
			watch = "not started"
		case h.watchesUp == h.watches:
			watch = "up"
		case h.watchesUp > 0:
			watch = fmt.Sprintf("%d of %d up", h.watchesUp, h.watches)
		}
		line(" %-12s watch %s, %s pods cached, hit %s miss %s fallback %s", "metadata", watch,
			groupDigits(int64(h.pods)), total(h.hit, false), total(h.miss, false), total(h.fallback, false))
	} else {
		line(" %-12s off: no skiff_enrich_* metrics (kubernetes.enabled is false)", "metadata")
	}
	line("")
	if !v.hasStatus {
		line(" per-file and per-pod rows need %s, which this agent does not serve", statusPath)
		return fit(out, rows, cols)
	}
	line(" READ/s: bytes read per second, from %s; ≈REC/s: READ/s ÷ mean record %s", statusPath, bytesIEC(v.bytesPerRecord))

	// Rows for the tables: each has a header, the first two a blank line
	// after; namespaces get a quarter of what is left, pods half the rest.
	nNS, nPods, nFiles := len(v.spaces), len(v.pods), len(v.files)
	if rows > 0 {
		left := max(rows-1-len(out)-5, 0)
		nNS = min(nNS, max(left/4, 1))
		nPods = min(nPods, max((left-nNS)/2, 1))
		nFiles = min(nFiles, max(left-nNS-nPods, 0))
	}
	groupRate := func(g groupRow) (string, string) {
		if v.interval <= 0 {
			return "-", "-"
		}
		recs := "-"
		if v.bytesPerRecord > 0 {
			recs = fmtRate(g.rate / v.bytesPerRecord)
		}
		return bytesIEC(g.rate) + "/s", recs
	}
	table := func(title string, rows []groupRow) {
		line(" %-36s %5s %12s %8s %10s", title, "FILES", "READ/s", "≈REC/s", "LAG")
		for _, g := range rows {
			r, recs := groupRate(g)
			line(" %-36s %5d %12s %8s %10s", trim(g.name, 36), g.files, r, recs, bytesIEC(g.lag))
		}
		line("")
	}
	table("NAMESPACE", v.spaces[:nNS])
	table("POD", v.pods[:nPods])
	line(" %-40s %10s %12s %10s", fmt.Sprintf("FILE (%d of %d, by lag)", nFiles, v.fileCount), "LAG", "READ/s", "OFFSET")
	for _, f := range v.files[:nFiles] {
		r := "-"
		if v.interval > 0 && f.rateKnown {
			r = bytesIEC(f.rate) + "/s"
		}
		name := strings.TrimSpace(f.name + " " + f.base)
		if f.detached {
			name += " (rotated)"
		}
		line(" %-40s %10s %12s %10s", trim(name, 40), bytesIEC(f.lag), r, bytesIEC(f.offset))
	}
	return fit(out, rows, cols)
}

// fit cuts lines to rows-1 lines of cols runes (0: no bound).
func fit(lines []string, rows, cols int) []string {
	if rows > 0 && len(lines) > rows-1 {
		lines = lines[:max(rows-1, 0)]
	}
	if cols > 0 {
		for i, l := range lines {
			if r := []rune(l); len(r) > cols {
				lines[i] = string(r[:cols])
			}
		}
	}
	return lines
}

// fmtRate writes a rate per second: whole above 100, one decimal below.
func fmtRate(r float64) string {
	if r >= 100 || r == 0 {
		return groupDigits(int64(math.Round(r)))
	}
	return fmt.Sprintf("%.1f", r)
}

// percent is used of limit, as "2.9%"; "-" without a limit.
func percent(used, limit float64) string {
	if limit <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", used/limit*100)
}
