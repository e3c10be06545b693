#!/usr/bin/env bash
# The golden SCPs in policies/ pass parliament (PyPI) with no finding at any severity and
# `immutag scp check` clean; the often-suggested policy (deny ecr:CreateRepository unless
# ecr:ImageTagMutability == IMMUTABLE, a key that does not exist) makes both complain.
set -euo pipefail
cd "$(dirname "$0")/../.."

PARLIAMENT=.venv/bin/parliament
if [ ! -x "$PARLIAMENT" ]; then
  echo "FAIL: $PARLIAMENT not found: run scripts/setup.sh (it installs scripts/requirements.txt into .venv)" >&2
  exit 1
fi
BAD=tests/fixtures/policies/bad-create-unless-immutable.json

# The test build of the workspace makes target/debug/immutag; after 20-rust-test.sh it is a
# no-op. (`cargo build -p immutag-cli` would resolve features without the dev-dependencies
# and rebuild half the AWS SDK.)
cargo test -q --workspace --locked --no-run
IMMUTAG="${CARGO_TARGET_DIR:-target}/debug/immutag"

# parliament reads the policy from stdin (its --file refuses to run when stdin is not a
# terminal, as in CI); it exits 0 with no output when it has no finding.
run_parliament() {
  "$PARLIAMENT" --json --minimum_severity INFO < "$1"
}

shopt -s nullglob
golden=(policies/*.json)
if [ "${#golden[@]}" -eq 0 ]; then
  echo "FAIL: no golden file in policies/" >&2
  exit 1
fi

passed=0
failed=0
for f in "${golden[@]}"; do
  if out=$(run_parliament "$f") && [ -z "$out" ]; then
    echo "ok: parliament has no finding on $f"
    passed=$((passed + 1))
  else
    echo "FAIL: parliament on $f:" >&2
    echo "$out" >&2
    failed=$((failed + 1))
  fi
done

if "$IMMUTAG" scp check "${golden[@]}"; then
  passed=$((passed + 1))
else
  echo "FAIL: immutag scp check complains about the golden files" >&2
  failed=$((failed + 1))
fi

# The bad fixture: parliament must report the unknown condition key, by name.
set +e
out=$(run_parliament "$BAD")
rc=$?
set -e
if [ "$rc" -ne 0 ] && grep -q '"issue": "UNKNOWN_CONDITION_FOR_ACTION"' <<<"$out" && grep -q 'ecr:ImageTagMutability' <<<"$out"; then
  echo "ok: parliament flags $BAD (UNKNOWN_CONDITION_FOR_ACTION ecr:ImageTagMutability)"
  passed=$((passed + 1))
else
  echo "FAIL: parliament did not flag ecr:ImageTagMutability in $BAD (exit $rc):" >&2
  echo "$out" >&2
  failed=$((failed + 1))
fi

# ... and immutag scp check must exit 1 (findings), naming the key.
set +e
out=$("$IMMUTAG" scp check "$BAD")
rc=$?
set -e
if [ "$rc" -eq 1 ] && grep -q 'unknown-condition-key' <<<"$out" && grep -q 'condition-always-true' <<<"$out"; then
  echo "ok: immutag scp check exits 1 on $BAD"
  passed=$((passed + 1))
else
  echo "FAIL: immutag scp check on $BAD exited $rc:" >&2
  echo "$out" >&2
  failed=$((failed + 1))
fi

# Locks that lock nothing: immutag scp check exits 1 and names why.
for pair in "bad-arnlike-exemption.json:positive-principal-condition" "bad-exempt-every-role.json:exemption-matches-everyone"; do
  f="tests/fixtures/policies/${pair%%:*}" code="${pair##*:}"
  set +e
  out=$("$IMMUTAG" scp check "$f")
  rc=$?
  set -e
  if [ "$rc" -eq 1 ] && grep -q "error\[$code\]" <<<"$out"; then
    echo "ok: immutag scp check exits 1 on $f ($code)"
    passed=$((passed + 1))
  else
    echo "FAIL: immutag scp check on $f exited $rc without $code:" >&2
    echo "$out" >&2
    failed=$((failed + 1))
  fi
done

echo "scp-validators: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
