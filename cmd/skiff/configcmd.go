package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/sinks/cloudwatch"
	"github.com/skiff-agent/skiff/tailer"
)

// configCommand is `skiff config`: the effective configuration, after the
// defaults, the environment and the flags, as YAML that `skiff run` takes
// back, and the log group and log stream this node would ship a sample
// pod's lines to. A configuration validate refuses is refused here too.
func configCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("skiff config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	setHelp(fs, configHelp)
	cf := newConfigFlags(fs)
	ns := fs.String("sample-namespace", "default", "`namespace` of the sample pod")
	pod := fs.String("sample-pod", "example-7d4b9c-x2x4z", "`name` of the sample pod")
	container := fs.String("sample-container", "app", "`container` of the sample pod")
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() > 0 && cf.path == "" {
		cf.path = fs.Arg(0)
	}
	cfg, err := cf.load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	enc := yaml.NewEncoder(stdout)
	enc.SetIndent(2)
	if err := enc.Encode(cfg); err != nil {
		fmt.Fprintf(stderr, "skiff config: %v\n", err)
		return exitFailed
	}
	if cfg.Output != config.OutputCloudWatch {
		fmt.Fprintf(stdout, "# output is %s: no log group or stream\n", cfg.Output)
		return exitOK
	}
	id := strings.Repeat("0", 64)
	link := fmt.Sprintf("/var/log/containers/%s_%s_%s-%s.log", *pod, *ns, *container, id)
	rec := &tailer.Record{Stream: tailer.Stdout, File: &tailer.FileMeta{
		Path: link, Namespace: *ns, Pod: *pod, PodUID: "00000000-0000-0000-0000-000000000000",
		Container: *container, ContainerID: id, Restart: 0,
		Input: config.ApplicationInput, Tag: tailer.Tag(link),
	}}
	group, stream, err := cloudwatch.Destination(cfg.CloudWatchConfig(), rec)
	if err != nil {
		fmt.Fprintf(stderr, "skiff config: %v\n", err)
		return exitConfig
	}
	fmt.Fprintf(stdout, "# pod %s/%s, container %s, on this node (%s), ships to:\n", *ns, *pod, *container, cfg.NodeName)
	fmt.Fprintf(stdout, "#   log group:  %s\n#   log stream: %s\n", group, stream)
	return exitOK
}
