#!/usr/bin/env bash
# The SCP simulation step's one npm package, @cloud-copilot/iam-simulate (an offline IAM
# engine; AGPL-3.0-or-later, a test tool only: it lives in tests/scp-simulate/, apart from
# the CDK app, and is never shipped), exactly as tests/scp-simulate/package-lock.json pins it.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v npm >/dev/null 2>&1; then
  echo "FAIL: npm not found: install Node.js 20 or newer (with npm)" >&2
  exit 1
fi
(cd tests/scp-simulate && npm ci --no-audit --no-fund --loglevel=error)
