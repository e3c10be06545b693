#!/usr/bin/env bash
# Time from process start to the first Lambda Runtime API request of `bootstrap`
# (release build), against the fake Runtime API in bench/fake_runtime_api.py. Target <= 20 ms.
# Usage: bench/lambda-startup.sh [BOOTSTRAP] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-}"
if [ -z "$bin" ]; then
  cargo build --release -p immutag-lambda --bin bootstrap >&2
  bin=target/release/bootstrap
fi
python3 bench/fake_runtime_api.py "$bin" "${2:-30}"
