#!/usr/bin/env bash
# immutag's CloudFormation verdicts (default rule parameters) against checkov's CKV_AWS_51
# over a generated corpus (every mode, with and without filters, parameters with and without
# AllowedValues, conditions; JSON and YAML): every disagreement must be a deliberate
# difference listed in docs/evaluation.md (scripts/checkov_cross_check.py). checkov runs once
# over the directory.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHECKOV=.venv-checkov/bin/checkov
[ -x "$CHECKOV" ] || { echo "FAIL: $CHECKOV not found: run scripts/setup.sh (scripts/setup.d/15-checkov.sh)" >&2; exit 1; }
cargo test -q --workspace --locked --no-run   # makes target/debug/immutag; no-op after 20-rust-test.sh
IMMUTAG="${CARGO_TARGET_DIR:-target}/debug/immutag"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/checkov_cross_check.py generate "$work/corpus"
set +e
"$IMMUTAG" evaluate -o json "$work"/corpus/* > "$work/immutag.json"
rc=$?
set -e
# 0 or 1 (findings); anything else means a template could not be read.
[ "$rc" -le 1 ] || { echo "FAIL: immutag evaluate exited $rc on the corpus" >&2; exit 1; }
set +e
"$CHECKOV" -d "$work/corpus" --framework cloudformation --check CKV_AWS_51 -o json \
  --skip-download > "$work/checkov.json" 2> "$work/checkov.err"
rc=$?
set -e
# checkov exits 1 when a check fails; other codes are errors.
[ "$rc" -le 1 ] || { cat "$work/checkov.err" >&2; echo "FAIL: checkov exited $rc" >&2; exit 1; }
python3 scripts/checkov_cross_check.py compare "$work/corpus" "$work/immutag.json" "$work/checkov.json" docs/evaluation.md
