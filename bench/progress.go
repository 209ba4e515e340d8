package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// progress shows one status line: rewritten in place on a terminal, one
// line per update otherwise (the sampler updates once a second).
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	width    int
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.terminal = true
		}
	}
	return p
}

// update replaces the status line.
func (p *progress) update(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.terminal {
		fmt.Fprintln(p.w, line)
		return
	}
	pad := max(p.width-len(line), 0)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", pad))
	p.width = len(line)
}

// println prints a permanent line (above the status line on a terminal).
func (p *progress) println(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal && p.width > 0 {
		fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
		p.width = 0
	}
	fmt.Fprintln(p.w, line)
}
