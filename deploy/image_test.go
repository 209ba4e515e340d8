package deploy

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// buildDir holds the output of the Dockerfile's builder stage, built once per
// test binary; TestMain removes it.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// dockerBuild runs the builder stage's RUN steps after `COPY . .` on this
// machine, in the repository, with /out mapped to a temp dir and the stage's
// ARGs set as docker would for this machine's platform. It returns the out
// dir: skiff (the binary) and rootfs/ (the files the final stage copies).
func dockerBuild(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "skiff-image-")
		if buildErr != nil {
			return
		}
		root, err := filepath.Abs("..")
		if err != nil {
			buildErr = err
			return
		}
		stages := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
		env := []string{"TARGETOS=linux", "TARGETARCH=" + runtime.GOARCH, "VERSION=imagetest", "REVISION=imagetest"}
		copied := false
		for _, in := range stages[0] {
			switch {
			case in.cmd == "ARG":
				name, def, ok := strings.Cut(in.args, "=")
				if ok && !strings.HasPrefix(name, "TARGET") && name != "VERSION" && name != "REVISION" {
					env = append(env, name+"="+def)
				}
			case in.cmd == "COPY" && in.args == ". .":
				copied = true
			case in.cmd == "RUN" && copied:
				script := strings.ReplaceAll(stripRunFlags(in.args), "/out/", buildDir+"/")
				if _, err := runIn(t, root, env, "sh", "-ec", script); err != nil {
					buildErr = fmt.Errorf("Dockerfile line %d: %w", in.line, err)
					return
				}
			}
		}
		if _, err := os.Stat(filepath.Join(buildDir, "skiff")); err != nil {
			buildErr = fmt.Errorf("the builder stage produced no /out/skiff: %w", err)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

// The binary the image ships is static: no program interpreter, no shared
// libraries, so it runs on scratch.
func TestBinaryIsStatic(t *testing.T) {
	out := dockerBuild(t)
	f, err := elf.Open(filepath.Join(out, "skiff"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("skiff has a PT_INTERP program header: it is dynamically linked")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
		t.Errorf("imported libraries %v (%v); want none", libs, err)
	}
	if f.Section(".symtab") != nil {
		t.Error("skiff has a symbol table; -ldflags -s should strip it")
	}
	if ca, err := os.Stat(filepath.Join(out, "rootfs", "etc", "ssl", "certs", "ca-certificates.crt")); err != nil || ca.Size() == 0 {
		t.Errorf("rootfs has no CA bundle: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(out, "rootfs", "var", "lib", "skiff")); err != nil || !fi.IsDir() {
		t.Errorf("rootfs has no /var/lib/skiff mount point: %v", err)
	}
	version := mustRun(t, nil, nil, filepath.Join(out, "skiff"), "version")
	if !strings.HasPrefix(string(version), "skiff imagetest ") {
		t.Errorf("skiff version = %q; want the version set by the Dockerfile's -X main.version", version)
	}
}
