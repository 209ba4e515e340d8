package deploy

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY...
	args string
	line int
}

// parseDockerfile returns the Dockerfile's stages as lists of instructions
// (each stage starts with its FROM).
func parseDockerfile(t testing.TB, path string) [][]instruction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		stages [][]instruction
		cur    strings.Builder
		start  int
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // comments inside a continued instruction
		}
		if cur.Len() == 0 {
			start = n
		}
		if s, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(s)
			cur.WriteByte(' ')
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: start}
		cur.Reset()
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			continue // global ARGs before the first FROM
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(stages) < 2 {
		t.Fatalf("%s: %d stages; want a builder and a final stage", path, len(stages))
	}
	return stages
}

// stripRunFlags removes RUN's leading --mount=... and similar flags.
func stripRunFlags(args string) string {
	for strings.HasPrefix(args, "--") {
		_, rest, _ := strings.Cut(args, " ")
		args = strings.TrimSpace(rest)
	}
	return args
}

// The Dockerfile follows the rules the DaemonSet relies on.
func TestDockerfile(t *testing.T) {
	stages := parseDockerfile(t, filepath.Join("..", "Dockerfile"))
	build, final := stages[0], stages[len(stages)-1]

	if !strings.HasPrefix(build[0].args, "--platform=$BUILDPLATFORM ") {
		t.Errorf("builder %q: want FROM --platform=$BUILDPLATFORM (cross-compile, no emulation)", build[0].args)
	}
	var goBuild string
	for _, in := range build {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			goBuild = stripRunFlags(in.args)
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "GOOS=$TARGETOS", "GOARCH=$TARGETARCH", "-trimpath", `-ldflags "-s -w`, "./cmd/skiff"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("go build step %q lacks %s", goBuild, want)
		}
	}

	if got := final[0].args; got != "scratch" && !strings.HasPrefix(got, "gcr.io/distroless/static") {
		t.Errorf("final stage FROM %s; want scratch or distroless static", got)
	}
	seen := map[string]string{}
	for _, in := range final {
		seen[in.cmd] += in.args + "\n"
	}
	if !strings.HasPrefix(seen["ENTRYPOINT"], `["`) {
		t.Errorf("ENTRYPOINT %q: want the exec form", seen["ENTRYPOINT"])
	}
	if !strings.Contains(seen["USER"], "0") {
		t.Errorf("USER %q: want 0 (root-owned 0640 log files), as the DaemonSet runs it", seen["USER"])
	}
	for _, label := range []string{"org.opencontainers.image.source", "org.opencontainers.image.version", "org.opencontainers.image.revision", "org.opencontainers.image.title"} {
		if !strings.Contains(seen["LABEL"], label) {
			t.Errorf("no OCI label %s", label)
		}
	}
	if !strings.Contains(seen["COPY"], "/out/rootfs/") {
		t.Error("final stage does not copy the rootfs with the CA bundle")
	}
}
