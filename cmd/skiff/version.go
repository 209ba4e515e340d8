package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = ""

// buildInfo is what `skiff version` prints and skiff_build_info exports.
type buildInfo struct {
	Version, Revision, GoVersion string
}

func (b buildInfo) String() string {
	return fmt.Sprintf("skiff %s (revision %s, %s, %s/%s)", b.Version, b.Revision, b.GoVersion, runtime.GOOS, runtime.GOARCH)
}

func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Revision: "unknown", GoVersion: runtime.Version()}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				b.Revision = s.Value
				if len(b.Revision) > 12 {
					b.Revision = b.Revision[:12]
				}
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	return b
}
