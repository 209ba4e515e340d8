package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The adapter contract: the harness starts an agent as a command with these
// environment variables set (plus the fake AWS credentials and region), and
// measures the process and its descendants. The command must keep running
// until SIGTERM and exit after flushing. An adapter is anything that turns
// these variables into the agent's own configuration.
const (
	// EnvLogRoot is the simulated /var/log: containers/ and pods/ are in it.
	EnvLogRoot = "SKIFF_BENCH_LOG_ROOT"
	// EnvLogGlob is the pattern of the files to tail: <root>/containers/*.log.
	EnvLogGlob = "SKIFF_BENCH_LOG_GLOB"
	// EnvEndpoint is the CloudWatch Logs endpoint URL (http:// or https://).
	EnvEndpoint = "SKIFF_BENCH_ENDPOINT"
	// EnvEndpointHost and EnvEndpointPort are the endpoint's host and port.
	EnvEndpointHost = "SKIFF_BENCH_ENDPOINT_HOST"
	EnvEndpointPort = "SKIFF_BENCH_ENDPOINT_PORT"
	// EnvTLS is "on" when the endpoint speaks HTTPS, "off" otherwise.
	EnvTLS = "SKIFF_BENCH_TLS"
	// EnvCAFile is the PEM CA that signed the endpoint's certificate ("" without TLS).
	EnvCAFile = "SKIFF_BENCH_CA_FILE"
	// EnvStateDir is where the agent keeps offsets; it survives restarts
	// within a scenario and is fresh for every scenario.
	EnvStateDir = "SKIFF_BENCH_STATE_DIR"
	// EnvWorkDir is a scratch directory for the adapter's config files.
	EnvWorkDir = "SKIFF_BENCH_WORK_DIR"
	// EnvRegion is the AWS region to sign for.
	EnvRegion = "SKIFF_BENCH_REGION"
	// EnvLogGroup is the log group to write to (create it if missing).
	EnvLogGroup = "SKIFF_BENCH_LOG_GROUP"
	// EnvCluster and EnvNodeName name the cluster and the node.
	EnvCluster  = "SKIFF_BENCH_CLUSTER"
	EnvNodeName = "SKIFF_BENCH_NODE_NAME"
	// EnvHTTPAddr is a free loopback address for the agent's own HTTP
	// server (metrics, health), if it has one.
	EnvHTTPAddr = "SKIFF_BENCH_HTTP_ADDR"
	// EnvJournalDir is the simulated journal's directory, in scenarios
	// that write one, for agents with Adapter.Journal.
	EnvJournalDir = "SKIFF_BENCH_JOURNAL_DIR"
	// EnvMultiline, set only in the multiline scenario, names the
	// multi-line rule to join the containers' lines with: "java" (a
	// logger line, then the exception, frames and causes).
	EnvMultiline = "SKIFF_BENCH_MULTILINE"
	// EnvKubeAPI, when set, asks for Kubernetes enrichment against this API
	// server URL; EnvKubeconfig is a kubeconfig file pointing at it,
	// EnvKubeToken a file holding a bearer token (no newline) and
	// EnvKubeCAFile the PEM CA of its certificate. The api-down scenario
	// points them at an address where nothing listens (its CA file is then
	// the endpoint's, "" without TLS); the enrich scenario at a real
	// kube-apiserver holding the simulated pods, with a service account's
	// token allowed to get, list and watch pods and namespaces.
	EnvKubeAPI    = "SKIFF_BENCH_KUBE_API"
	EnvKubeconfig = "SKIFF_BENCH_KUBECONFIG"
	EnvKubeToken  = "SKIFF_BENCH_KUBE_TOKEN_FILE"
	EnvKubeCAFile = "SKIFF_BENCH_KUBE_CA_FILE"
)

// Adapter runs one agent under the contract above.
type Adapter struct {
	// Name labels results ("skiff", "fluent-bit").
	Name string
	// Binary is the agent's executable, found before a run; "" means not installed.
	Binary string
	// Missing says why Binary is empty (shown when the agent is skipped).
	Missing string
	// NeedsTLS: the agent can only talk HTTPS to the endpoint.
	NeedsTLS bool
	// Journal: the agent ships the journal in EnvJournalDir to Container
	// Insights' dataplane and host groups. The simulator's journal files
	// have no hash tables, which libsystemd (Fluent Bit's systemd input)
	// needs, so only agents that read the files themselves take part.
	Journal bool
	// Command writes the agent's configuration from env (the contract's
	// variables) and returns the command line and extra environment.
	Command func(env map[string]string) (argv, extraEnv []string, err error)
}

// externalAdapter runs a user command (name=command) that reads the
// contract's variables itself.
func externalAdapter(name, command string) Adapter {
	fields := strings.Fields(command)
	a := Adapter{Name: name}
	if len(fields) == 0 {
		a.Missing = "empty command"
		return a
	}
	path, err := exec.LookPath(fields[0])
	if err != nil {
		a.Missing = fmt.Sprintf("%s not found", fields[0])
		return a
	}
	a.Binary = path
	a.Command = func(map[string]string) ([]string, []string, error) {
		return append([]string{path}, fields[1:]...), nil, nil
	}
	return a
}

// lookBinary finds an agent executable: an explicit path, else PATH.
func lookBinary(explicit, name string) (string, string) {
	if explicit != "" {
		if fi, err := os.Stat(explicit); err != nil || fi.IsDir() {
			return "", fmt.Sprintf("%s: not an executable file", explicit)
		}
		abs, _ := filepath.Abs(explicit)
		return abs, ""
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Sprintf("%s is not on PATH (pass --%s PATH)", name, name)
	}
	return path, ""
}

func writeFile(dir, name, content string) (string, error) {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", p, err)
	}
	return p, nil
}
