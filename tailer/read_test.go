package tailer

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestFinalRoundReadsToTheEnd: an ordinary round reads no further than the
// size its look saw, but a final one (a rotated file's last read) reads to
// the end, so that its unterminated last line is shipped whole, not cut
// at a size seen before the rest of it was written.
func TestFinalRoundReadsToTheEnd(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.log")
	first := "2026-11-26T10:00:00.000000001Z stdout F abc\n"
	if err := os.WriteFile(path, []byte(first+"2026-11-26T10:00:00.000000002Z stdout F defghi"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := newCollector()
	tl, err := New(Config{Include: []string{path}}, c)
	if err != nil {
		t.Fatal(err)
	}
	f := openFollower(t, tl, path, 0)
	f.size.Store(int64(len(first)) + 40) // a look saw the last line up to "de"
	if _, err := f.round(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if got := c.all()[path]; !slices.Equal(got, []string{"abc"}) {
		t.Fatalf("after a round: %q; want [abc]", got)
	}
	if _, err := f.round(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if got := c.all()[path]; !slices.Equal(got, []string{"abc", "defghi"}) {
		t.Errorf("after a final round: %q; want [abc defghi]", got)
	}
}
