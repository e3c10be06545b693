#!/usr/bin/env bash
# Installs what the tests need: each scripts/setup.d/*.sh in name order (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
for step in scripts/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "==> setup: $step" >&2
  bash "$step"
done
