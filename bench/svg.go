package main

import (
	"fmt"
	"math"
	"strings"
)

// Plots are written by hand: a column of panels sharing a legend.

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

const (
	svgWidth    = 760
	panelHeight = 170
	marginLeft  = 70
	marginRight = 20
	panelGap    = 48
	topMargin   = 70
)

// series is one agent's line in a panel.
type series struct {
	name   string
	color  string
	dashed bool
	xs, ys []float64
}

// panel is one chart: lines over a numeric x, or bars over categories.
type panel struct {
	title  string
	xLabel string
	lines  []series
	// bars: cats along x, one bar per group member (values[group][cat]).
	cats   []string
	groups []series // xs unused; ys indexed by category
	// marks are x positions drawn as vertical dashed lines (phases).
	marks []float64
}

type figure struct {
	title  string
	panels []panel
	legend []series
}

func (f figure) svg() string {
	h := topMargin + len(f.panels)*(panelHeight+panelGap) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="11">`+"\n",
		svgWidth, h, svgWidth, h)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="15" font-weight="bold">%s</text>`+"\n", marginLeft, esc(f.title))
	x := marginLeft
	for _, s := range f.legend {
		dash := ""
		if s.dashed {
			dash = ` stroke-dasharray="5,3"`
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="36" x2="%d" y2="36" stroke="%s" stroke-width="3"%s/><text x="%d" y="40">%s</text>`+"\n",
			x, x+22, s.color, dash, x+27, esc(s.name))
		x += 40 + 7*len(s.name)
	}
	for i, p := range f.panels {
		p.draw(&b, topMargin+i*(panelHeight+panelGap))
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func (p panel) draw(b *strings.Builder, top int) {
	left, right, bottom := float64(marginLeft), float64(svgWidth-marginRight), float64(top+panelHeight)
	fmt.Fprintf(b, `<text x="%.0f" y="%d" font-weight="bold">%s</text>`+"\n", left, top-6, esc(p.title))
	fmt.Fprintf(b, `<rect x="%.0f" y="%d" width="%.0f" height="%d" fill="none" stroke="#999"/>`+"\n", left, top, right-left, panelHeight)
	ymax := 0.0
	xmin, xmax := math.Inf(1), math.Inf(-1)
	for _, s := range p.lines {
		for i, y := range s.ys {
			ymax = max(ymax, y)
			xmin, xmax = min(xmin, s.xs[i]), max(xmax, s.xs[i])
		}
	}
	for _, g := range p.groups {
		for _, y := range g.ys {
			if !math.IsNaN(y) { // NaN: no bar
				ymax = max(ymax, y)
			}
		}
	}
	ystep := niceStep(ymax / 4)
	ytop := math.Max(math.Ceil(ymax/ystep), 1) * ystep
	ypix := func(y float64) float64 { return bottom - y/ytop*float64(panelHeight) }
	for y := 0.0; y <= ytop*1.0001; y += ystep { // grid and y ticks
		fmt.Fprintf(b, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#eee"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n",
			left, ypix(y), right, ypix(y), left-5, ypix(y)+4, tick(y))
	}
	if len(p.lines) > 0 {
		xmin = math.Min(xmin, 0)
		if xmax <= xmin {
			xmax = xmin + 1
		}
		xpix := func(x float64) float64 { return left + (x-xmin)/(xmax-xmin)*(right-left) }
		xstep := niceStep((xmax - xmin) / 8)
		for x := math.Ceil(xmin/xstep) * xstep; x <= xmax; x += xstep {
			fmt.Fprintf(b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", xpix(x), bottom+14, tick(x))
		}
		for _, m := range p.marks {
			if m >= xmin && m <= xmax {
				fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%.0f" stroke="#888" stroke-dasharray="2,3"/>`+"\n", xpix(m), top, xpix(m), bottom)
			}
		}
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="end" fill="#555">%s</text>`+"\n", right, bottom+28, esc(p.xLabel))
		for _, s := range p.lines {
			var pts []string
			for i := range s.xs {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", xpix(s.xs[i]), ypix(s.ys[i])))
			}
			dash := ""
			if s.dashed {
				dash = ` stroke-dasharray="5,3"`
			}
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="1.8"%s points="%s"/>`+"\n", s.color, dash, strings.Join(pts, " "))
		}
		return
	}
	slot := (right - left) / float64(max(len(p.cats), 1))
	bw := slot * 0.7 / float64(max(len(p.groups), 1))
	for c, cat := range p.cats {
		x0 := left + slot*float64(c) + slot*0.15
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", left+slot*(float64(c)+0.5), bottom+14, esc(cat))
		for g, s := range p.groups {
			if c >= len(s.ys) || math.IsNaN(s.ys[c]) {
				continue
			}
			y := s.ys[c]
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/><text x="%.1f" y="%.1f" text-anchor="middle" font-size="9">%s</text>`+"\n",
				x0+bw*float64(g), ypix(y), bw-2, bottom-ypix(y), s.color, x0+bw*(float64(g)+0.5), ypix(y)-3, tick(y))
		}
	}
}

// niceStep rounds v up to 1, 2, 2.5 or 5 times a power of ten.
func niceStep(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p*1.0000001 {
			return m * p
		}
	}
	return 10 * p
}

func tick(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return trimZero(fmt.Sprintf("%.1fM", v/1e6))
	case a >= 1e4:
		return trimZero(fmt.Sprintf("%.0fk", v/1e3))
	case a >= 1e3:
		return trimZero(fmt.Sprintf("%.1fk", v/1e3))
	case a >= 10 || a == 0:
		return fmt.Sprintf("%.0f", v)
	case a >= 1:
		return trimZero(fmt.Sprintf("%.1f", v))
	default:
		return trimZero(fmt.Sprintf("%.3f", v))
	}
}

func trimZero(s string) string {
	unit := strings.TrimLeft(s, "-0123456789.")
	num := strings.TrimSuffix(s, unit)
	if strings.Contains(num, ".") {
		num = strings.TrimRight(strings.TrimRight(num, "0"), ".")
	}
	return num + unit
}

func esc(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
