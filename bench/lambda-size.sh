#!/usr/bin/env bash
# Stripped size of the Config rule Lambda `bootstrap`, x86_64 and arm64, built as deployed:
# `cargo lambda build --release` with the workspace release profile (opt-level s, LTO,
# codegen-units 1, strip). Needs scripts/setup.sh (cargo-lambda, ziglang in .venv) and
# `rustup target add aarch64-unknown-linux-gnu`. Takes minutes per architecture on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
command -v cargo-lambda >/dev/null || { echo "cargo-lambda missing: run scripts/setup.sh" >&2; exit 1; }
rustup target list --installed | grep -q aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
for arch in x86_64 arm64; do
  flag=""; [ "$arch" = arm64 ] && flag="--arm64"
  dir="target/lambda-size-$arch"
  start=$(date +%s)
  cargo lambda build --release $flag -p immutag-lambda --lambda-dir "$dir" >&2
  end=$(date +%s)
  bin="$dir/bootstrap/bootstrap"
  bytes=$(stat -c %s "$bin")
  printf '%-7s %9d bytes  %5.2f MB (%.2f MiB)  build %ss  %s\n' "$arch" "$bytes" \
    "$(echo "$bytes/1000000" | bc -l)" "$(echo "$bytes/1048576" | bc -l)" "$((end - start))" "$(file -b "$bin" | cut -d, -f1-2)"
done
