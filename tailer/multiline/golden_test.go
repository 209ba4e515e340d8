package multiline

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/<rule>/*.golden from the rules' answers")

// Golden files show, for each line of the .log next to them, the Action
// Step returned, as one marker, a space, and the line. A record is a "." line
// alone, or a "+" line and the "|" lines after it, up to a "$" line
// included.
var markers = map[Action]byte{Single: '.', Start: '+', Continue: '|', Last: '$'}

// splitLines splits a log file into lines, without their newlines.
func splitLines(b []byte) [][]byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) == 0 {
		return nil
	}
	return bytes.Split(b, []byte("\n"))
}

// stepAll runs r over lines from a zero State, checking Step's contract on
// each line, and returns the actions.
func stepAll(t testing.TB, r *Rule, lines [][]byte) []Action {
	t.Helper()
	var st State
	acts := make([]Action, len(lines))
	for i, l := range lines {
		was := st.Active()
		a := r.Step(&st, l)
		checkContract(t, r, was, a, st, l)
		acts[i] = a
	}
	return acts
}

// checkContract reports a broken Step contract: Continue or Last while not
// active, or a State whose activity does not match the action.
func checkContract(t testing.TB, r *Rule, was bool, a Action, st State, line []byte) {
	t.Helper()
	if !was && (a == Continue || a == Last) {
		t.Fatalf("%s: Step(inactive, %q) = %v; want Single or Start", r.Name(), line, a)
	}
	if want := a == Start || a == Continue; st.Active() != want {
		t.Fatalf("%s: Step(%q) = %v, then Active() = %v; want %v", r.Name(), line, a, st.Active(), want)
	}
}

// records groups lines by the actions Step returned for them.
func records(lines [][]byte, acts []Action) [][]string {
	var recs [][]string
	open := false
	for i, l := range lines {
		switch acts[i] {
		case Single:
			recs = append(recs, []string{string(l)})
			open = false
		case Start:
			recs = append(recs, []string{string(l)})
			open = true
		case Continue, Last:
			if !open {
				panic("Continue without a group")
			}
			recs[len(recs)-1] = append(recs[len(recs)-1], string(l))
			open = acts[i] == Continue
		}
	}
	return recs
}

// render returns the golden text for lines and their actions.
func render(lines [][]byte, acts []Action) []byte {
	var b bytes.Buffer
	for i, l := range lines {
		b.WriteByte(markers[acts[i]])
		if len(l) > 0 {
			b.WriteByte(' ')
			b.Write(l)
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	for _, name := range Builtins() {
		rule, _ := Builtin(name)
		logs, err := filepath.Glob(filepath.Join("testdata", name, "*.log"))
		if err != nil {
			t.Fatal(err)
		}
		if len(logs) == 0 {
			t.Errorf("no testdata/%s/*.log", name)
		}
		for _, path := range logs {
			t.Run(name+"/"+strings.TrimSuffix(filepath.Base(path), ".log"), func(t *testing.T) {
				in, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				lines := splitLines(in)
				got := render(lines, stepAll(t, rule, lines))
				golden := strings.TrimSuffix(path, ".log") + ".golden"
				if *update {
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from the rule's answers (run with -update and review the diff):\n%s",
						golden, firstDiff(got, want))
				}
			})
		}
	}
}

// firstDiff describes the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got: %s\nwant: %s", i+1, gl, wl)
		}
	}
	return ""
}
