#!/usr/bin/env bash
# cargo-lambda (the Lambda Runtime API emulator `cargo lambda watch` and `cargo lambda invoke`)
# and ziglang (its cross linker for arm64), from PyPI into .venv (after 10-python.sh made it),
# as scripts/requirements-cargo-lambda.txt pins them (the release's Lambda builds use the same).
set -euo pipefail
[ -x .venv/bin/pip ] || python3 -m venv .venv
.venv/bin/pip install --quiet -r scripts/requirements-cargo-lambda.txt
.venv/bin/cargo-lambda lambda --version >&2
