package tailer

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRoundBufClasses(t *testing.T) {
	for _, tc := range []struct {
		budget int
		sizes  []int
	}{
		{DefaultReadBudget, []int{16 << 10, 64 << 10, 256 << 10}},
		{minReadBudget, []int{minReadBudget}},
		{20 << 10, []int{16 << 10, 20 << 10}},
		{1 << 20, []int{16 << 10, 64 << 10, 256 << 10, 1 << 20}},
	} {
		var p roundBufs
		p.init(tc.budget)
		if !slices.Equal(p.sizes, tc.sizes) {
			t.Errorf("budget %d: classes %v; want %v", tc.budget, p.sizes, tc.sizes)
		}
	}
	var p roundBufs
	p.init(DefaultReadBudget)
	for _, tc := range []struct{ need, size int }{
		{0, 16 << 10}, {1, 16 << 10}, {16 << 10, 16 << 10}, {16<<10 + 1, 64 << 10},
		{200 << 10, 256 << 10}, {1 << 20, 256 << 10},
	} {
		rb := p.get(tc.need)
		if len(rb.data) != tc.size {
			t.Errorf("get(%d): %d bytes; want %d", tc.need, len(rb.data), tc.size)
		}
		p.put(rb)
	}
}

// TestLinesAcrossBufferSizes: a file that grows a line at a time is read
// into buffers sized to what was appended; lines of every size up to the
// read budget come whole, however they were written, and longer ones take
// the long-line path as before.
func TestLinesAcrossBufferSizes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	c := newCollector()
	startTailer(t, Config{Include: []string{filepath.Join(dir, "*.log")}}, c)
	prefix := len(criLine(""))
	var want []string
	for i, size := range []int{10, 16<<10 - prefix, 16<<10 - prefix + 1, 64<<10 - prefix, 64 << 10,
		200 << 10, DefaultReadBudget - prefix, 100, 300 << 10, 5} {
		msg := strings.Repeat(string(rune('a'+i)), size)
		want = append(want, msg)
		line := criLine(msg)
		if i%2 == 1 {
			// Written in three pieces: the first look may see a part.
			third := len(line) / 3
			appendFile(t, path, line[:third])
			appendFile(t, path, line[third:2*third])
			appendFile(t, path, line[2*third:])
		} else {
			appendFile(t, path, line)
		}
		c.waitFor(t, "the line just written", func() bool { return c.count() == len(want) })
	}
	if got := c.all()[path]; !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("line %d: %d bytes; want %d", i, len(got[i]), len(want[i]))
			}
		}
		t.Fatalf("got %d lines; want %d", len(got), len(want))
	}
}
