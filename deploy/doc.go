// Package deploy holds skiff's deployment files and the tests that check them;
// it has no Go API.
//
//   - kubernetes/: a Kustomize base (Namespace, ServiceAccount, pods-only
//     ClusterRole and binding, ConfigMap, DaemonSet), the overlays eks and dev,
//     and the component namespace-metadata.
//   - helm/skiff/: the same DaemonSet as a Helm chart, with values named like
//     skiff.yaml's keys, a values schema, and optional ServiceMonitor,
//     PrometheusRule and dashboard.
//   - iam/: the least-privilege CloudWatch Logs policy and the IRSA and EKS Pod
//     Identity setup.
//   - grafana/: the dashboard and the alert rules.
//
// The tests render every variant with the real tools (kubectl kustomize, helm
// template), check the DaemonSet's invariants mechanically (grace period above
// shutdown_timeout, probes on /healthz and /readyz at the configured port,
// read-only mounts holding every file and journal directory the effective
// configuration reads, the locked-down UID 0 security context, no CPU limit,
// GOMEMLIMIT from the memory limit, a configuration `skiff validate` accepts
// in the pod's environment), apply the output with server-side dry-run
// to a real kube-apiserver, run the agent's informer with only the rendered
// ClusterRole's permissions, and build the static binary and its image as the
// Dockerfile does and run it with podman the way the DaemonSet runs it.
//
// The tools come from .ci/setup.d (helm, kube, podman). When one is missing,
// the tests that need it fail under CI (CI is set) and are skipped otherwise.
package deploy
