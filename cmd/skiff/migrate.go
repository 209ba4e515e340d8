package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/skiff-agent/skiff/cmd/skiff/internal/config"
	"github.com/skiff-agent/skiff/cmd/skiff/internal/fluentbit"
)

// exitIncomplete is skiff migrate's exit code when something that matters
// could not be translated (an output other than CloudWatch Logs, a Lua
// filter, ...): the file is still written, and the report says what.
const exitIncomplete = 3

var migrateHelp = helpText{
	usage: "skiff migrate [--out FILE] [--set NAME=VALUE]... [--env] FLUENT-BIT-CONFIG",
	about: `Translates a Fluent Bit configuration (classic .conf or YAML, with its
@INCLUDEs and parsers files) into a skiff configuration: only what differs
from skiff's defaults, which are Container Insights' layout, each key under a
comment naming the Fluent Bit setting it comes from. A report on stderr says
what became of every setting: translated, changed (and why), or not
translated. The file is checked as skiff validate would check it in a pod.

${NAME}s the configuration reads from Fluent Bit's environment stay as they are
(skiff expands them the same way when it starts); ${CLUSTER_NAME} becomes
{cluster} and ${HOST_NAME} {host}. Give the ones a translation depends on
(Read_from_Head ${READ_FROM_HEAD}) with --set.

Exit 0 when everything that matters was translated, 3 when something that
matters was not (the file is written all the same), 78 when the Fluent Bit
configuration cannot be read, 2 for a bad command line.`,
	examples: []string{
		"skiff migrate --out skiff.yaml fluent-bit.conf     # the report on stderr",
		"skiff migrate --set READ_FROM_HEAD=Off --set HTTP_SERVER=On fluent-bit.conf > skiff.yaml",
		"skiff migrate fluent-bit.yaml 2>report.txt >skiff.yaml; echo $?   # 0, or 3: read report.txt",
	},
}

// setFlag is --set NAME=VALUE, repeatable.
type setFlag map[string]string

func (s setFlag) String() string { return "" }
func (s setFlag) Set(v string) error {
	name, val, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q is not NAME=VALUE", v)
	}
	s[name] = val
	return nil
}

// migrateCommand is `skiff migrate`: a Fluent Bit configuration in,
// skiff.yaml out (stdout or --out), the report on stderr.
func migrateCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("skiff migrate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write the skiff configuration to this `file` (default: standard output)")
	env := fs.Bool("env", false, "also take the ${NAME}s the configuration does not set from this process's environment, as Fluent Bit would (run it where Fluent Bit runs)")
	vars := setFlag{}
	fs.Var(vars, "set", "`NAME=VALUE` for a ${NAME} the configuration takes from Fluent Bit's environment (repeatable)")
	setHelp(fs, migrateHelp)
	if err := fs.Parse(args); err != nil {
		return parseExit(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitUsage
	}
	lookup := func(name string) (string, bool) {
		if v, ok := vars[name]; ok {
			return v, true
		}
		if *env {
			if v := getenv(name); v != "" {
				return v, true
			}
		}
		return "", false
	}
	fb, err := fluentbit.Load(fs.Arg(0), fluentbit.Options{Lookup: lookup})
	if err != nil {
		fmt.Fprintf(stderr, "skiff migrate: %v\n", err)
		return exitConfig
	}
	res, err := fluentbit.Translate(fb)
	if err != nil {
		fmt.Fprintf(stderr, "skiff migrate: %v\n", err)
		return exitConfig
	}
	// What skiff validate does, in the environment skiff's chart gives a
	// pod (the file leaves the region and the cluster to it), where the
	// variables Fluent Bit read from its environment are set too.
	name := *out
	if name == "" {
		name = "skiff.yaml"
	}
	if _, err := config.Load(name, res.YAML, res.Getenv); err != nil {
		fmt.Fprintf(stderr, "skiff migrate: the translation does not validate, a bug of skiff migrate's; it was:\n%s\n%v\n", res.YAML, err)
		return exitFailed
	}
	if *out != "" {
		err = os.WriteFile(*out, res.YAML, 0o644)
	} else {
		_, err = stdout.Write(res.YAML)
	}
	if err != nil {
		fmt.Fprintf(stderr, "skiff migrate: %v\n", err)
		return exitFailed
	}
	if _, err := res.Report.WriteTo(stderr); err != nil {
		return exitFailed
	}
	if res.Report.Incomplete() {
		return exitIncomplete
	}
	return exitOK
}
