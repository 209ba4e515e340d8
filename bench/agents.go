package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// skiffAdapter runs the skiff binary with a config written from the
// contract's variables. With EnvMultiline, tail.multiline joins every
// container's lines with that rule, as a cluster of Java services would be
// set up (the java rule ships an ordinary line alone, after the next line
// or a quiet second). With EnvKubeAPI, enrichment is on through
// EnvKubeconfig, with the pods' labels and annotations.
func skiffAdapter(binary, missing string) Adapter {
	return Adapter{Name: "skiff", Binary: binary, Missing: missing, Journal: true, Command: func(env map[string]string) ([]string, []string, error) {
		q := strconv.Quote
		multiline := ""
		if rule := env[EnvMultiline]; rule != "" {
			multiline = fmt.Sprintf("  multiline: %s\n", q(rule))
		}
		kube := "kubernetes:\n  enabled: false\n"
		if env[EnvKubeAPI] != "" {
			// Labels and annotations as Fluent Bit's kubernetes filter
			// attaches them by default (skiff's default is off, as
			// Container Insights'), so both ship the same metadata.
			kube = fmt.Sprintf("kubernetes:\n  enabled: true\n  kubeconfig: %s\n  labels: true\n  annotations: true\n", q(env[EnvKubeconfig]))
		}
		cfg := fmt.Sprintf(`# written by the bench harness
cluster: %s
node_name: %s
shutdown_timeout: 25s
http:
  listen: %s
log:
  level: info
  format: json
tail:
  include: [%s]
  state_dir: %s
%s%soutput: cloudwatch
cloudwatch:
  region: %s
  endpoint: %s
  log_group: %s
  auto_create_group: true
`, q(env[EnvCluster]), q(env[EnvNodeName]), q(env[EnvHTTPAddr]), q(env[EnvLogGlob]), q(env[EnvStateDir]),
			multiline, kube, q(env[EnvRegion]), q(env[EnvEndpoint]), q(env[EnvLogGroup]))
		if dir := env[EnvJournalDir]; dir != "" {
			// Container Insights' journal inputs, as in a cluster.
			cfg += "inputs:\n"
			for _, name := range []string{"dataplane", "host-dmesg", "host-messages", "host-secure"} {
				cfg += "  " + name + ": {enabled: true, ec2_metadata: false}\n"
			}
			cfg += fmt.Sprintf("journal:\n  dirs: [%s]\n  read_from: beginning\n", q(dir))
		}
		path, err := writeFile(env[EnvWorkDir], "skiff.yaml", cfg)
		if err != nil {
			return nil, nil, err
		}
		var extra []string
		if env[EnvCAFile] != "" {
			// The AWS SDK's default chain trusts this bundle.
			extra = append(extra, "AWS_CA_BUNDLE="+env[EnvCAFile])
		}
		return []string{binary, "run", "--config", path}, extra, nil
	}}
}

// fluentBitAdapter runs Fluent Bit: in_tail with the cri multiline parser
// and an offsets DB, to cloudwatch_logs with an endpoint override. Its
// cloudwatch_logs output always speaks TLS (the EC2 credential provider
// forces it), so the endpoint must be HTTPS and the CA is passed to
// tls.ca_file. Everything else is Fluent Bit's default.
//
// With EnvKubeAPI, the kubernetes filter asks that API server for each
// pod's metadata (kube_url, kube_token_file, kube_ca_file; labels and
// annotations on, its default).
//
// With EnvMultiline, the multiline filter joins the lines with Fluent
// Bit's parser of that name, on the log key the cri parser fills: the setup
// Fluent Bit's docs give for stack traces in container logs (the docker
// parser's entry says to add the multiline filter for them) and AWS's
// Fluent Bit examples use. Not "multiline.parser cri, java" on in_tail: the
// parsers of that list are alternatives (a line goes to the first that
// accepts it, src/multiline/flb_ml.c), not a chain, so java would never see
// a line cri took. The filter comes first, since it re-emits what it joined
// at the head of the pipeline (in_emitter; buffer is on by default,
// flush_ms 2000). Fluent Bit's java parser starts a group at the exception
// line, so the logger line before it is an event of its own.
func fluentBitAdapter(binary, missing string) Adapter {
	hasMultiline := sync.OnceValue(func() bool { return hasFilter(binary, "multiline") })
	return Adapter{Name: "fluent-bit", Binary: binary, Missing: missing, NeedsTLS: true, Command: func(env map[string]string) ([]string, []string, error) {
		filter := ""
		if rule := env[EnvMultiline]; rule != "" {
			if !hasMultiline() {
				return nil, nil, fmt.Errorf("%s has no multiline filter (built without FLB_FILTER_MULTILINE, as FLB_MINIMAL builds are): %w", binary, errUnsupported)
			}
			filter = fmt.Sprintf(`
[FILTER]
    name                  multiline
    match                 kube.*
    multiline.key_content log
    multiline.parser      %s
`, rule)
		}
		if env[EnvKubeAPI] != "" {
			// The prefix is what in_tail put before the file's name: the
			// directory's path as a tag, which ends in '.'.
			filter += fmt.Sprintf(`
[FILTER]
    name            kubernetes
    match           kube.*
    kube_url        %s
    kube_token_file %s
    kube_ca_file    %s
    kube_tag_prefix kube.%s
    merge_log       off
`, env[EnvKubeAPI], env[EnvKubeToken], env[EnvKubeCAFile], tagPath(env[EnvLogRoot]+"/containers/"))
		}
		cfg := fmt.Sprintf(`# written by the bench harness
[SERVICE]
    flush     1
    daemon    off
    log_level info
    http_server off

[INPUT]
    name              tail
    path              %s
    tag               kube.*
    multiline.parser  cri
    db                %s/fluent-bit.db
    read_from_head    true
%s
[OUTPUT]
    name              cloudwatch_logs
    match             *
    region            %s
    log_group_name    %s
    log_stream_prefix %s.
    auto_create_group on
    endpoint          %s
    port              %s
    tls.verify        on
    tls.ca_file       %s
`, env[EnvLogGlob], env[EnvStateDir], filter, env[EnvRegion], env[EnvLogGroup], env[EnvNodeName],
			env[EnvEndpointHost], env[EnvEndpointPort], env[EnvCAFile])
		path, err := writeFile(env[EnvWorkDir], "fluent-bit.conf", cfg)
		if err != nil {
			return nil, nil, err
		}
		return []string{binary, "-c", path}, nil, nil
	}}
}

// hasFilter reports whether a fluent-bit binary lists the filter name in
// its help; true when the help cannot be read, so that the agent's own
// error tells what is wrong.
func hasFilter(binary, name string) bool {
	out, err := exec.Command(binary, "-h").CombinedOutput()
	if err != nil {
		return true
	}
	section := false
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(ansi.ReplaceAllString(line, ""))
		switch {
		case len(f) == 1 && f[0] == "Filters":
			section = true
		case section && len(f) == 0:
			return false
		case section && f[0] == name:
			return true
		}
	}
	return !section
}

// ansi matches the terminal escapes of Fluent Bit's help.
var ansi = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// tagPath is how Fluent Bit turns a path into a tag: '/' becomes '.'.
func tagPath(p string) string {
	b := []byte(p)
	for i, c := range b {
		if c == '/' {
			b[i] = '.'
		}
	}
	s := string(b)
	for len(s) > 0 && s[0] == '.' {
		s = s[1:]
	}
	return s
}
