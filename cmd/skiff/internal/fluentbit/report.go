package fluentbit

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Status is what became of one Fluent Bit setting.
type Status uint8

const (
	// Translated: skiff does the same; the note names the key it became,
	// or says that skiff's default already does it.
	Translated Status = iota
	// Changed: skiff does it another way, or does not need it; the note
	// says how and why. Nothing the configuration asked for is lost.
	Changed
	// NotTranslated: left out, and it matters: skiff would ship records
	// differently (another destination, other content, or not at all).
	NotTranslated
)

func (s Status) String() string {
	switch s {
	case Translated:
		return "translated"
	case Changed:
		return "changed"
	}
	return "NOT TRANSLATED"
}

// Item is one line of the report: a setting (or a whole section) and
// what became of it.
type Item struct {
	Pos     Pos
	Section string // "[OUTPUT] cloudwatch_logs"
	Setting string // "log_group_name /aws/..."; "" for the section itself
	Status  Status
	Note    string
}

// Report says what became of every setting of a Fluent Bit configuration.
type Report struct {
	// Source is the main file; Files the files read.
	Source string
	Files  []string
	// Notes are paragraphs printed before the items.
	Notes []string
	Items []Item
}

// Incomplete reports whether something that matters was left out.
func (r *Report) Incomplete() bool {
	return slices.ContainsFunc(r.Items, func(it Item) bool { return it.Status == NotTranslated })
}

// Count returns the number of items with status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, it := range r.Items {
		if it.Status == s {
			n++
		}
	}
	return n
}

// maxShownValue bounds how much of a value the report quotes.
const maxShownValue = 72

// WriteTo writes the report: a summary, the notes, then one line per item
// in the order of the files and lines they come from, not-translated
// items first.
func (r *Report) WriteTo(w io.Writer) (int64, error) {
	var b strings.Builder
	files := "1 file"
	if len(r.Files) != 1 {
		files = fmt.Sprintf("%d files", len(r.Files))
	}
	fmt.Fprintf(&b, "skiff migrate %s (%s): %d translated, %d changed, %d not translated.\n",
		r.Source, files, r.Count(Translated), r.Count(Changed), r.Count(NotTranslated))
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "\n%s\n", wrap(n, 100))
	}
	items := slices.Clone(r.Items)
	fileIndex := func(f string) int {
		if i := slices.Index(r.Files, f); i >= 0 {
			return i
		}
		return len(r.Files)
	}
	slices.SortStableFunc(items, func(a, b Item) int {
		if (a.Status == NotTranslated) != (b.Status == NotTranslated) {
			if a.Status == NotTranslated {
				return -1
			}
			return 1
		}
		if d := fileIndex(a.Pos.File) - fileIndex(b.Pos.File); d != 0 {
			return d
		}
		if d := a.Pos.Line - b.Pos.Line; d != 0 {
			return d
		}
		return int(a.Status) - int(b.Status) // what a section became, then how it differs
	})
	last := ""
	for _, it := range items {
		head := "Settings:"
		if it.Status == NotTranslated {
			head = "Not translated (these matter: skiff would ship records differently):"
		}
		if head != last {
			fmt.Fprintf(&b, "\n%s\n", head)
			last = head
		}
		what := it.Section
		if it.Setting != "" {
			what += " " + shorten(it.Setting)
		}
		fmt.Fprintf(&b, "  %s: %s: %s: %s\n", r.rel(it.Pos), what, it.Status, it.Note)
	}
	n, err := io.WriteString(w, b.String())
	return int64(n), err
}

// rel names a position by its file relative to the main file's
// directory, when it is there.
func (r *Report) rel(p Pos) string {
	return relPos(r.Source, p).String()
}

func shorten(s string) string {
	if len(s) <= maxShownValue {
		return s
	}
	cut := maxShownValue - 3
	for cut > 0 && s[cut]&0xC0 == 0x80 { // not inside a UTF-8 sequence
		cut--
	}
	return s[:cut] + "..."
}

// wrap breaks a paragraph into lines of at most width bytes, at spaces.
func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, w := range strings.Fields(s) {
		if i > 0 && n+1+len(w) > width {
			b.WriteByte('\n')
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(w)
		n += len(w)
	}
	return b.String()
}
