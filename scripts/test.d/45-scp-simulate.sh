#!/usr/bin/env bash
# The SCPs proven by an independent IAM engine (@cloud-copilot/iam-simulate, offline): every
# golden policy in policies/ and every policy the Rust tests generated (recorded by
# 20-rust-test.sh into $IMMUTAG_SCP_CORPUS) is simulated beside FullAWSAccess; the requests
# and the decisions they must get come from what the options mean (tests/scp-simulate/
# simulate.mjs). The policies the linter refuses are simulated too, to show what they do.
# Fails when a peer is missing or when there is nothing to simulate.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v node >/dev/null 2>&1 || fail "node not found: install Node.js 20 or newer"
[ -d tests/scp-simulate/node_modules/@cloud-copilot/iam-simulate ] \
  || fail "tests/scp-simulate/node_modules missing: run scripts/setup.sh (it runs npm ci there)"
corpus="${IMMUTAG_SCP_CORPUS:-$PWD/target/scp-corpus}"
[ -n "$(ls -A "$corpus" 2>/dev/null)" ] \
  || fail "nothing to simulate in $corpus: run scripts/test.d/20-rust-test.sh first (its tests record every SCP they generate there)"

# The test build of the workspace makes target/debug/immutag: a no-op after 20-rust-test.sh.
cargo test -q --workspace --locked --no-run
IMMUTAG="${CARGO_TARGET_DIR:-target}/debug/immutag"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$IMMUTAG" scp presets --output json > "$work/presets.json"
node tests/scp-simulate/simulate.mjs --presets "$work/presets.json" --golden policies \
  --corpus "$corpus" --fixtures tests/fixtures/policies > "$work/out.txt" || { cat "$work/out.txt"; exit 1; }
grep -v '^ok ' "$work/out.txt" || true
