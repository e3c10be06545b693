#!/usr/bin/env bash
# The CDK app's npm packages (aws-cdk-lib, aws-cdk, cdk-nag, cargo-lambda-cdk, jest, TypeScript 5)
# exactly as cdk/package-lock.json pins them.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v npm >/dev/null 2>&1; then
  echo "FAIL: npm not found: install Node.js 20 or newer (with npm)" >&2
  exit 1
fi
(cd cdk && npm ci --no-audit --no-fund --loglevel=error)
