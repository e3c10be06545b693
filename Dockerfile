# syntax=docker/dockerfile:1
# The immutag command as a container image: a static (musl) binary on distroless/static (CA
# certificates for the AWS APIs, /etc/passwd with the nonroot user, no shell, no package
# manager), running as uid 65532 (`nonroot`).
#
#   docker build -t immutag .
#   docker run --rm -v "$PWD:/work" immutag evaluate cdk.out/*.template.json
#
# The builder is Alpine's Rust image: its native target is *-linux-musl, so the same file
# builds linux/amd64 and linux/arm64 (`docker buildx build --platform linux/amd64,linux/arm64`)
# without a cross toolchain. scripts/test.d/55-ship.sh lints this file (hadolint) and, where a
# Docker engine runs, builds it and runs `immutag --version` inside.
#
# Version tags, not digests: these machines cannot reach the registries to resolve digests.
# Pin them (`immutag pins resolve` pins ECR references; Renovate or Dependabot pin Docker Hub
# and gcr.io ones) where you build images you ship.

ARG RUST_VERSION=1.95

FROM rust:${RUST_VERSION}-alpine AS build
# musl-dev: the C runtime the crates with C code (aws-lc-sys, the TLS library) link against.
# Alpine's version of it follows the base image's release (pinned by RUST_VERSION's tag).
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
# The release profile of the workspace (LTO, stripped). The registry and target caches are
# BuildKit cache mounts, so a rebuild after a source change recompiles only the workspace.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p immutag-cli --bin immutag \
    && install -D -m 0755 target/release/immutag /out/immutag

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/immutag /usr/local/bin/immutag
# distroless's `nonroot` user, by number so that Kubernetes' runAsNonRoot can check it.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/immutag"]
CMD ["--help"]
