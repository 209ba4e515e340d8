# syntax=docker/dockerfile:1
#
# skiff's image: one static binary on an empty base.
#
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) \
#     -t ghcr.io/skiff-agent/skiff:0.1.0 --push .
#
# The builder runs on the build machine's own platform and cross-compiles for
# TARGETOS/TARGETARCH (amd64, and arm64 for Graviton), so no emulation is
# involved. deploy/image_test.go builds the binary with the same command and
# runs it the way this image does.

ARG GO_VERSION=1.26.8

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Dependencies first, so source changes reuse the module download layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=unknown
# Static (no cgo, so no libc and no PT_INTERP), reproducible paths, stripped.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/skiff ./cmd/skiff
# The final image has no shell: make the state directory's mount point here.
RUN mkdir -p /out/rootfs/var/lib/skiff /out/rootfs/etc/skiff /out/rootfs/etc/ssl/certs && \
    cp /etc/ssl/certs/ca-certificates.crt /out/rootfs/etc/ssl/certs/ca-certificates.crt

FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="skiff" \
      org.opencontainers.image.description="Per-node log shipping agent for Kubernetes: container logs to Amazon CloudWatch Logs" \
      org.opencontainers.image.source="https://github.com/skiff-agent/skiff" \
      org.opencontainers.image.documentation="https://github.com/skiff-agent/skiff#readme" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# CA certificates for TLS to CloudWatch Logs, STS and the Kubernetes API.
COPY --from=build /out/rootfs/ /
COPY --from=build /out/skiff /skiff
# UID 0, deliberately: container log files under /var/log/pods are root-owned
# 0640 (containerd) or 0600 (CRI-O), and a non-root user cannot read them,
# not even with added capabilities (Kubernetes sets no ambient capabilities).
# Root reads them through the owner bits, so the DaemonSet drops every
# capability and locks everything else down: read-only root filesystem,
# no privilege escalation, seccomp RuntimeDefault, /var/log mounted read-only.
USER 0:0
EXPOSE 2021
ENTRYPOINT ["/skiff"]
CMD ["run", "--config", "/etc/skiff/skiff.yaml"]
