package tailer

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// addSeedLines adds every line of a testdata file to a fuzz corpus.
func addSeedLines(f *testing.F, name string) {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range bytes.Split(data, []byte("\n")) {
		f.Add(l)
	}
}

func FuzzParseCRI(f *testing.F) {
	addSeedLines(f, "containerd.log")
	addSeedLines(f, "crio.log")
	f.Fuzz(func(t *testing.T, line []byte) {
		d, err := parseCRI(line, new(timeCache))
		if err == nil && !bytes.HasSuffix(line, d.msg) {
			t.Fatalf("parseCRI(%q) message %q is not the line's tail", line, d.msg)
		}
		// Whatever the input, the assembler keeps every byte of it somewhere.
		in := append(bytes.Clone(line), '\n')
		in = append(in, in...)
		total := 0
		for _, r := range assembleAll(in, 64, false) {
			total += len(r.Message)
			if len(r.Message) > 64 {
				t.Fatalf("record of %d bytes is above the limit", len(r.Message))
			}
		}
		if total > len(in) {
			t.Fatalf("records hold %d bytes from %d input bytes", total, len(in))
		}
	})
}

func FuzzParseDocker(f *testing.F) {
	addSeedLines(f, "docker.log")
	f.Fuzz(func(t *testing.T, line []byte) {
		d, scratch, err := parseDocker(line, nil, new(timeCache))
		if err != nil {
			if len(scratch) != 0 {
				t.Fatalf("parseDocker(%q) failed and left %q", line, scratch)
			}
			return
		}
		if !utf8.Valid(line) {
			return
		}
		var m map[string]any
		if jerr := json.Unmarshal(line, &m); jerr != nil {
			t.Fatalf("parseDocker(%q) accepted what encoding/json rejects: %v", line, jerr)
		}
		want, _ := m["log"].(string)
		got := string(d.msg)
		if !d.partial {
			got += "\n"
			if len(want) >= 2 && want[len(want)-2] == '\r' {
				got = got[:len(got)-1] + "\r\n"
			}
		}
		if got != want {
			t.Fatalf("parseDocker(%q) = %q; encoding/json says %q", line, got, want)
		}
	})
}
