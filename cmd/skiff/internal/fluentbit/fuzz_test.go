package fluentbit

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
)

// classicSeeds are the classic files of cmd/skiff/testdata/migrate.
func classicSeeds(f *testing.F) {
	paths, _ := filepath.Glob("../../testdata/migrate/*/*.conf")
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("[INPUT]\n    Name tail\n    [G]\n        k v\n"))
	f.Add([]byte("@SET a=b\n@INCLUDE x.conf\n[]\n"))
}

// The classic reader never panics, and what it returns is well formed:
// positions within the file, entries with a key and a value.
func FuzzParseClassic(f *testing.F) {
	classicSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := parseClassic("f.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.conf:") {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, it := range items {
			if it.pos.Line < 1 || it.pos.Line > lines {
				t.Fatalf("item at line %d of %d", it.pos.Line, lines)
			}
			if it.kind == itemEntry && (it.key == "" || strings.TrimSpace(it.value) != it.value || it.value == "") {
				t.Fatalf("entry %q %q", it.key, it.value)
			}
		}
	})
}

// Whatever a classic file holds, its translation never panics, and it is
// a configuration skiff validate takes.
func FuzzTranslate(f *testing.F) {
	classicSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Load("/fb/f.conf", memFS{"/fb/f.conf": string(data)}.options())
		if err != nil {
			return
		}
		res, err := Translate(cfg)
		if err != nil {
			return
		}
		if _, err := config.Load("skiff.yaml", res.YAML, res.Getenv); err != nil {
			t.Fatalf("the translation does not validate: %v\n%s\nof\n%s", err, res.YAML, data)
		}
	})
}
