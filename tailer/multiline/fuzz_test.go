package multiline

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// allRules returns the built-in rules and a user rule.
func allRules(t testing.TB) []*Rule {
	t.Helper()
	var rules []*Rule
	for _, name := range Builtins() {
		r, _ := Builtin(name)
		rules = append(rules, r)
	}
	user, err := New("user", `^\d{4}-\d\d-\d\d|^[A-Z]+ `, `^\s|^Caused by: `)
	if err != nil {
		t.Fatal(err)
	}
	return append(rules, user)
}

// allTestdataLines returns the lines of every testdata/*/*.log file.
func allTestdataLines(t testing.TB) [][]byte {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join("testdata", "*", "*.log"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no testdata logs: %v", err)
	}
	var lines [][]byte
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, splitLines(b)...)
	}
	return lines
}

// FuzzStep checks Step's contract for every rule: never Continue or Last
// while inactive, and active afterwards exactly after Start or Continue. The
// input is split into lines at '\n'; the seeds are the testdata logs.
func FuzzStep(f *testing.F) {
	logs, _ := filepath.Glob(filepath.Join("testdata", "*", "*.log"))
	for _, path := range logs {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		"", "\n", "\r\n\r\n", "{", "{}", " {}", "}", "Node.js v", "Node.js v1", "/a:1\n\n\n\n",
		"panic: \n\texit status 2\nexit status 2", "goroutine 1 [:\nexit status 1", "SIG: x\nSIGA: x",
		"a:1:in '", "a:1:in 'b': c\n\n", "x.E:\n\n\n\tat", "Traceback (most recent call last):\nE\n\nE",
		"\x00\xff\t \r", "rax 0x", "r 0x0", ":1", "[eval]:1\n\n\n\n\nx",
	} {
		f.Add([]byte(s))
	}
	rules := allRules(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Split(data, []byte("\n"))
		for _, r := range rules {
			var st State
			for _, l := range lines {
				was := st.Active()
				a := r.Step(&st, l)
				checkContract(t, r, was, a, st, l)
			}
		}
	})
}
