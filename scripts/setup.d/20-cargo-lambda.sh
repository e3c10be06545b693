#!/usr/bin/env bash
# cargo-lambda (the Lambda Runtime API emulator `cargo lambda watch` and `cargo lambda invoke`)
# and ziglang (its cross linker for arm64), from PyPI into .venv (after 10-python.sh made it).
set -euo pipefail
[ -x .venv/bin/pip ] || python3 -m venv .venv
.venv/bin/pip install --quiet 'cargo-lambda==1.9.2' 'ziglang==0.17.1'
.venv/bin/cargo-lambda lambda --version >&2
