#!/usr/bin/env bash
# Runs every test: each scripts/test.d/*.sh in name order. Stops at the first failure.
# Run scripts/setup.sh once first (it installs moto, parliament, cfn-lint, npm packages, ...).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
for step in scripts/test.d/*.sh; do
  [ -e "$step" ] || continue
  echo "==> test: $step" >&2
  s=$(date +%s)
  bash "$step"
  echo "==> ok: $step ($(( $(date +%s) - s )) s)" >&2
done
echo "==> all tests passed in $(( $(date +%s) - start )) s" >&2
