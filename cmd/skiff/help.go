package main

import (
	"flag"
	"fmt"
	"strings"
)

// helpText is what `skiff COMMAND --help` prints before the flags.
type helpText struct {
	usage    string   // the synopsis, after "usage: "
	about    string   // what the command does, a few lines
	examples []string // command lines, each with a comment after "#"
}

// setHelp makes fs's usage print h, then the flags.
func setHelp(fs *flag.FlagSet, h helpText) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s\n\n%s\n", h.usage, strings.TrimSpace(h.about))
		if len(h.examples) > 0 {
			fmt.Fprintln(w, "\nExamples:")
			for _, e := range h.examples {
				fmt.Fprintf(w, "  %s\n", e)
			}
		}
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
}

var (
	runHelp = helpText{
		usage: "skiff run [--config FILE] [flags]",
		about: `Runs the agent: tails the node's container log files (and the journal inputs
that are on), attaches pod metadata, and ships records to the output until
SIGTERM or SIGINT, then flushes within shutdown_timeout. Flags override the
file's keys; every problem in the configuration is reported at once.`,
		examples: []string{
			"skiff run --config /etc/skiff/skiff.yaml",
			"skiff run --output stdout --include '/var/log/containers/*.log'   # look, ship nothing",
			"AWS_REGION=eu-west-1 CLUSTER_NAME=prod skiff run                 # every default",
		},
	}
	validateHelp = helpText{
		usage: "skiff validate [--config FILE | FILE] [flags]",
		about: `Checks a configuration exactly as skiff run would, and prints every problem
located by file, line and key. Exit 0 when it is valid, 78 when it is not.`,
		examples: []string{
			"skiff validate skiff.yaml",
			"skiff validate --config skiff.yaml --output file   # with a flag's override",
		},
	}
	configHelp = helpText{
		usage: "skiff config [--config FILE] [--sample-namespace NS] [--sample-pod POD] [--sample-container C]",
		about: `Prints the configuration skiff run would use, after defaults, environment and
flags, as a file skiff run takes back; then the log group and log stream a
sample pod's lines would go to on this node.`,
		examples: []string{
			"skiff config --config skiff.yaml > effective.yaml",
			"CLUSTER_NAME=prod skiff config --sample-namespace shop --sample-pod web-1",
		},
	}
	demoHelp = helpText{
		usage: "skiff demo [--duration 8s] [--pods 6] [--rate 3000]",
		about: `Runs the agent against a simulated node (pods writing and rotating logs, a
systemd journal) and a local CloudWatch Logs endpoint, with no AWS account and
no cluster; shows a live view, then reads every line back and reports what
arrived, was duplicated or lost.`,
		examples: []string{
			"skiff demo                          # until Ctrl-C",
			"skiff demo --duration 30s --rate 20000",
			"skiff demo --keep                   # keep the local CloudWatch to read logs back",
		},
	}
	topHelp = helpText{
		usage: "skiff top [--addr 127.0.0.1:2021] [--interval 1s] [--once]",
		about: `Shows a running agent, read from its /metrics and /status: records and bytes
in and out, the buffer against its budget, lag, CloudWatch requests, throttles,
retries, rejections, errors, skipped bytes, the pod metadata cache, and the
namespaces, pods and files read fastest or furthest behind. Redrawn every
interval on a terminal, one line per interval otherwise. Rates need two
samples: the first frame, and --once, show totals.`,
		examples: []string{
			"skiff top                                            # on the node",
			"kubectl -n skiff port-forward pod/skiff-x7k2p 2021:2021 & skiff top",
			"skiff top --once --addr 127.0.0.1:2021               # one snapshot, for a script",
		},
	}
)
