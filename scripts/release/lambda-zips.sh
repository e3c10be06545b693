#!/usr/bin/env bash
# The Config rule Lambda's `bootstrap` zips of a release, for both architectures (x86_64 and
# arm64, Amazon Linux 2023's glibc), built with cargo-lambda as
# scripts/requirements-cargo-lambda.txt pins it, with their SHA-256 files:
#   target/distrib-lambda/immutag-lambda-bootstrap-{x86_64,arm64}.zip{,.sha256}
# The release workflow runs it on dist's global runner (dist-workspace.toml, extra-artifacts);
# a release build of the AWS SDK for two targets: many minutes, never in CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/release-tools
[ -x "$venv/bin/cargo-lambda" ] || {
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet -r scripts/requirements-cargo-lambda.txt
}
export PATH="$PWD/$venv/bin:$PATH"
out=target/distrib-lambda
mkdir -p "$out"
for arch in x86_64 arm64; do
  case "$arch" in
    x86_64) flag=--x86-64 ;;
    arm64) flag=--arm64 ;;
  esac
  cargo lambda build --release --locked --package immutag-lambda "$flag" \
    --output-format zip --lambda-dir "target/lambda-$arch"
  zip="immutag-lambda-bootstrap-$arch.zip"
  cp "target/lambda-$arch/bootstrap/bootstrap.zip" "$out/$zip"
  (cd "$out" && sha256sum "$zip" > "$zip.sha256")
  echo "$out/$zip: $(cut -d' ' -f1 < "$out/$zip.sha256")" >&2
done
