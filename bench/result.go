package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Sample is the state of a run at one moment (every second while it runs).
type Sample struct {
	// T is seconds since the writers started.
	T float64 `json:"t"`
	// Written and Delivered are cumulative lines; the bytes are message bytes.
	Written        int64 `json:"written"`
	Delivered      int64 `json:"delivered"`
	WrittenBytes   int64 `json:"written_bytes"`
	DeliveredBytes int64 `json:"delivered_bytes"`
	// CPU is the agent's cumulative CPU seconds (user+system, all restarts).
	CPU float64 `json:"cpu_s"`
	// RSS is the agent's resident memory in bytes (0 while restarting).
	RSS int64 `json:"rss_bytes"`
	// HarnessCPU is the harness's own cumulative CPU seconds (simulator,
	// cwlocal and counting).
	HarnessCPU float64 `json:"harness_cpu_s"`
	// Offered, DeliveredRate and Cores are per second over the interval
	// since the previous sample.
	Offered       float64 `json:"offered_lps"`
	DeliveredRate float64 `json:"delivered_lps"`
	Cores         float64 `json:"cores"`
}

// Result is one agent in one scenario.
type Result struct {
	Agent    string `json:"agent"`
	Scenario string `json:"scenario"`
	Label    string `json:"label"`
	// TargetRate is the simulator's rate in messages (what the markers
	// count) per second: its rate in lines, less the lines of stack traces
	// after their first.
	TargetRate float64 `json:"target_lps"`
	// Duration is the writing window in seconds.
	Duration float64 `json:"duration_s"`
	Skipped  string  `json:"skipped,omitempty"`
	Error    string  `json:"error,omitempty"`

	OfferedLPS   float64 `json:"offered_lps"`
	OfferedMBps  float64 `json:"offered_mbps"`
	DeliveredLPS float64 `json:"delivered_lps"`
	// DeliveredMBps counts message bytes (1 MB = 10^6 bytes), as OfferedMBps.
	DeliveredMBps float64 `json:"delivered_mbps"`

	Written    int64 `json:"written"`
	Delivered  int64 `json:"delivered"`
	Lost       int64 `json:"lost"`
	Duplicates int64 `json:"duplicates"`
	Unmarked   int64 `json:"unmarked,omitempty"`
	Foreign    int64 `json:"foreign,omitempty"`
	// Traces is how many of Written are Java stack traces, and FrameLines
	// their lines after the first (which carry no marker); Events is every
	// event the destination accepted (a trace shipped line by line is
	// 1+FrameLines/Traces events, one of them marked); AppLPS is the lines
	// the applications printed per second over the writing window.
	Traces     int64   `json:"traces,omitempty"`
	FrameLines int64   `json:"frame_lines,omitempty"`
	Events     int64   `json:"events,omitempty"`
	AppLPS     float64 `json:"offered_app_lps,omitempty"`
	// Enriched is how many of Events carried the pod's metadata from the
	// live API server (its labels), in the enrich scenario; Events is
	// then set too.
	Enriched int64 `json:"enriched,omitempty"`

	// Cores is the agent's average CPU use while the writers ran.
	Cores float64 `json:"cores"`
	// CPUPerGB is agent CPU seconds (writing and draining) per GB delivered.
	CPUPerGB  float64 `json:"cpu_s_per_gb"`
	RSSPeakMi float64 `json:"rss_peak_mib"`
	RSSAvgMi  float64 `json:"rss_avg_mib"`
	// AnonPeakMi is the largest anonymous resident memory (RssAnon) among
	// the samples: RSS without the pages of the program's code and other
	// files, which are clean and which the kernel reclaims under pressure.
	AnonPeakMi float64 `json:"anon_peak_mib,omitempty"`
	P50ms      float64 `json:"latency_p50_ms"`
	P99ms      float64 `json:"latency_p99_ms"`
	MaxMs      float64 `json:"latency_max_ms"`
	// HarnessCores is what the simulator, cwlocal and the counter used
	// meanwhile (they share the machine with the agent).
	HarnessCores float64 `json:"harness_cores"`

	// KeptUp: zero loss, every line delivered by the end of the drain, and
	// at most 3 s of lines behind when the writers stopped.
	// JournalWritten, JournalDelivered and JournalLost count the journal's
	// entries in journal scenarios, each at its first destination.
	JournalWritten   int64 `json:"journal_written,omitempty"`
	JournalDelivered int64 `json:"journal_delivered,omitempty"`
	JournalLost      int64 `json:"journal_lost,omitempty"`

	KeptUp    bool               `json:"kept_up"`
	KeptUpWhy string             `json:"kept_up_why,omitempty"`
	Extra     map[string]float64 `json:"extra,omitempty"`
	Notes     []string           `json:"notes,omitempty"`
	Samples   []Sample           `json:"samples,omitempty"`
}

// snapshot reads the run's state now.
func (r *runner) snapshot() Sample {
	st := r.sim.Stats()
	lines, bytes := r.counter.Delivered()
	s := Sample{T: time.Since(r.t0).Seconds(), Written: st.Lines, WrittenBytes: st.MessageBytes, Delivered: lines, DeliveredBytes: bytes}
	r.reap()
	r.mu.Lock()
	p, cpu := r.proc, r.cpuDone
	r.mu.Unlock()
	if p != nil {
		if u, err := readTree(p.pid()); err == nil {
			cpu += u.CPU
			s.RSS = u.RSS
			r.mu.Lock()
			r.peak = max(r.peak, u.Peak)
			r.anonPeak = max(r.anonPeak, u.Anon)
			r.mu.Unlock()
		} else {
			// Gone from /proc but not yet booked: wait for its rusage.
			select {
			case <-p.done:
			case <-time.After(2 * time.Second):
			}
			r.reap()
			r.mu.Lock()
			cpu = r.cpuDone
			r.mu.Unlock()
		}
	}
	s.CPU = cpu.Seconds()
	if self, err := readCPU(os.Getpid()); err == nil {
		s.HarnessCPU = self.Seconds()
	}
	return s
}

// sample records a Sample every second and shows progress until ctx ends.
func (r *runner) sample(ctx context.Context) {
	prev := r.snapshot()
	prev.T = 0
	r.mu.Lock()
	r.samples = append(r.samples, prev)
	r.mu.Unlock()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := r.snapshot()
		dt := s.T - prev.T
		if dt <= 0 {
			continue
		}
		s.Offered = float64(s.Written-prev.Written) / dt
		s.DeliveredRate = float64(s.Delivered-prev.Delivered) / dt
		s.Cores = (s.CPU - prev.CPU) / dt
		r.mu.Lock()
		r.samples = append(r.samples, s)
		r.mu.Unlock()
		r.h.progress.update(fmt.Sprintf("%-10s %-9s %-10s t=%3.0fs offered %7.0f/s delivered %7.0f/s behind %7d cpu %.2f rss %5.1fMiB",
			r.ad.Name, r.spec.Scenario, r.spec.Label, s.T, s.Offered, s.DeliveredRate, s.Written-s.Delivered, s.Cores, float64(s.RSS)/(1<<20)))
		prev = s
	}
}

// result fills res from what the run recorded.
func (r *runner) result(res Result) Result {
	if r.sim == nil || r.counter == nil {
		return res
	}
	tally := r.counter.Tally()
	res.Written, res.Delivered, res.Lost, res.Duplicates = tally.Written, tally.Delivered, tally.Lost, tally.Duplicates
	res.Unmarked, res.Foreign = tally.Unmarked, tally.Foreign
	linesPerMsg := 1.0 // lines the applications printed per message
	if st := r.sim.Stats(); st.Traces > 0 {
		res.Traces, res.FrameLines, res.Events = st.Traces, st.FrameLines, tally.Messages
		res.TargetRate = r.recordRate
		linesPerMsg = float64(st.Lines+st.FrameLines) / float64(st.Lines)
	}
	if r.kube != nil {
		res.Events, res.Enriched = tally.Messages, r.enriched.Load()
	}
	if r.jcounter != nil {
		jt := r.jcounter.Tally()
		res.JournalWritten, res.JournalDelivered, res.JournalLost = jt.Written, jt.Delivered, jt.Lost
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.P50ms, res.P99ms, res.MaxMs = ms(tally.LatencyP50), ms(tally.LatencyP99), ms(tally.LatencyMax)
	r.mu.Lock()
	defer r.mu.Unlock()
	res.Samples = r.samples
	res.Extra = r.extra
	res.Notes = append(res.Notes, r.notes...)
	res.RSSPeakMi = float64(r.peak) / (1 << 20)
	res.AnonPeakMi = float64(r.anonPeak) / (1 << 20)
	if len(r.samples) < 2 {
		return res
	}
	first, last := r.samples[0], r.samples[len(r.samples)-1]
	if r.final != nil {
		last = *r.final
	}
	end := last
	if r.writeEnd != nil {
		end = *r.writeEnd
	}
	var rssSum float64
	var rssN int
	for _, s := range r.samples {
		if s.T <= end.T && s.RSS > 0 {
			rssSum += float64(s.RSS)
			rssN++
		}
	}
	if win := end.T - first.T; win > 0 {
		res.OfferedLPS = float64(end.Written-first.Written) / win
		res.OfferedMBps = float64(end.WrittenBytes-first.WrittenBytes) / win / 1e6
		if res.Traces > 0 {
			res.AppLPS = res.OfferedLPS * linesPerMsg
		}
		// Delivery lags writing by the agent's latency: the delivered rate
		// is taken after a warm-up of a quarter of the window (at most 3 s).
		warm := first
		for _, s := range r.samples {
			if s.T >= min(3, win/4) {
				warm = s
				break
			}
		}
		if dw := end.T - warm.T; dw > 0 {
			res.DeliveredLPS = float64(end.Delivered-warm.Delivered) / dw
			res.DeliveredMBps = float64(end.DeliveredBytes-warm.DeliveredBytes) / dw / 1e6
		}
		res.Cores = (end.CPU - first.CPU) / win
		res.HarnessCores = (end.HarnessCPU - first.HarnessCPU) / win
	}
	if rssN > 0 {
		res.RSSAvgMi = rssSum / float64(rssN) / (1 << 20)
	}
	if gb := float64(last.DeliveredBytes-first.DeliveredBytes) / 1e9; gb > 0 {
		res.CPUPerGB = (last.CPU - first.CPU) / gb
	}
	res.KeptUp, res.KeptUpWhy = keptUp(res, r.extra["backlog_at_end"], r.sim.Streams())
	return res
}

func keptUp(res Result, backlog float64, streams int) (bool, string) {
	switch {
	case res.Error != "":
		return false, "error"
	case res.Lost > 0:
		return false, fmt.Sprintf("lost %d lines", res.Lost)
	case res.Delivered < res.Written:
		return false, fmt.Sprintf("%d lines not delivered after the drain", res.Written-res.Delivered)
	case backlog > max(3*res.TargetRate, float64(2*streams)):
		return false, fmt.Sprintf("%.0f lines (%.1f s) behind when the writers stopped", backlog, backlog/max(res.TargetRate, 1))
	case res.TargetRate > 0 && res.OfferedLPS < 0.95*res.TargetRate:
		return false, fmt.Sprintf("the simulator offered only %.0f of %.0f lines/s", res.OfferedLPS, res.TargetRate)
	}
	return true, ""
}
