#!/usr/bin/env bash
# cargo-fuzz (crates.io), pinned; the fuzz step runs it on the stable toolchain with
# RUSTC_BOOTSTRAP=1 and no sanitizer. About 60 s to build on 2 cores; skipped when the pinned
# version is installed.
set -euo pipefail
version=0.13.2
if cargo fuzz --version 2>/dev/null | grep -q "$version"; then
  exit 0
fi
cargo install cargo-fuzz --locked --version "$version"
