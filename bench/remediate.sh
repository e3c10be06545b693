#!/usr/bin/env bash
# Benchmark: switch 1,500 MUTABLE repositories (of 2,500) to IMMUTABLE on moto, three ways,
# each on fresh server state, in one run:
#
#   1. immutag remediate --apply (release build; live scan, --mode immutable)
#   2. Cloud Custodian (PyPI c7n): aws.ecr, filter imageTagMutability: MUTABLE,
#      action set-immutability
#   3. the common recipe: AWS CLI v1 (PyPI awscli) describe-repositories --query for the MUTABLE
#      names, then one `aws ecr put-image-tag-mutability` per repository in a shell loop; the
#      loop is timed over LOOP_SAMPLE repositories and extrapolated to all of them
#
# For each: wall time, peak resident memory (GNU time), API calls by operation (counted by the
# server, bench/moto_counting.py), and a check of the end state (how many MUTABLE remain).
#
# Usage: bash bench/remediate.sh            (REPOS=2500 MUTABLE=1500 LOOP_SAMPLE=100 by default)
# Writes the Markdown table to bench/results/remediate.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REPOS=${REPOS:-2500}
MUTABLE=${MUTABLE:-1500}
LOOP_SAMPLE=${LOOP_SAMPLE:-100}
REGION=us-east-1
VENV=${BENCH_VENV:-$ROOT/bench/.venv}
OUT=$ROOT/bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d)
SERVER_PID=

cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "==> bench venv ($VENV): moto, c7n, awscli" >&2
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --upgrade pip
"$VENV/bin/pip" install --quiet -r bench/requirements.txt

if [ -n "${IMMUTAG_BIN:-}" ]; then
  IMMUTAG=$IMMUTAG_BIN   # another build, e.g. a debug one; the report names it
else
  echo "==> release build of immutag" >&2
  cargo build --release --locked -p immutag-cli >&2
  IMMUTAG=$ROOT/target/release/immutag
fi

PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
"$VENV/bin/python" bench/moto_counting.py "$PORT" >"$WORK/moto.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do curl -fs "$URL/__counts" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fs "$URL/__counts" >/dev/null || { echo "moto did not start:"; cat "$WORK/moto.log"; exit 1; }

export AWS_ENDPOINT_URL=$URL AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE \
  AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
  AWS_REGION=$REGION AWS_DEFAULT_REGION=$REGION AWS_EC2_METADATA_DISABLED=true \
  AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export PATH=$VENV/bin:$PATH

fresh() {
  curl -fs -X POST "$URL/moto-api/reset" >/dev/null
  "$VENV/bin/python" bench/seed_ecr.py "$REPOS" "$MUTABLE"
  curl -fs -X POST "$URL/__counts" >/dev/null
}

mutable_left() {
  aws ecr describe-repositories --query "length(repositories[?imageTagMutability=='MUTABLE'])" --output text
}

calls() { curl -fs "$URL/__counts"; }

# measure NAME CMD...: wall seconds and peak RSS (KB) of CMD (children included) into $WORK/NAME.time
measure() {
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || {
    echo "$name failed:" >&2; tail -20 "$WORK/$name.err" >&2; exit 1; }
}

echo "==> 1. immutag remediate --apply" >&2
fresh
measure immutag "$IMMUTAG" remediate --mode immutable --apply --journal "$WORK/journal.jsonl"
IMMUTAG_CALLS=$(calls)
IMMUTAG_LEFT=$(mutable_left)

echo "==> 2. Cloud Custodian" >&2
fresh
cat >"$WORK/policy.yml" <<'EOF'
policies:
  - name: ecr-tag-immutability
    resource: aws.ecr
    filters:
      - imageTagMutability: MUTABLE
    actions:
      - type: set-immutability
        state: true
EOF
measure custodian custodian run --cache-period 0 -s "$WORK/c7n" -r "$REGION" "$WORK/policy.yml"
C7N_CALLS=$(calls)
C7N_LEFT=$(mutable_left)

echo "==> 3. AWS CLI loop ($LOOP_SAMPLE repositories, extrapolated)" >&2
fresh
cat >"$WORK/loop.sh" <<EOF
set -euo pipefail
all=\$(aws ecr describe-repositories --query "repositories[?imageTagMutability=='MUTABLE'].repositoryName" --output text)
# The first LOOP_SAMPLE names; sed reads all its input (\`| head\` would end the pipe early and
# fail it under pipefail once the listing is long).
names=\$(printf '%s\n' \$all | sed -n '1,${LOOP_SAMPLE}p')
for r in \$names; do
  aws ecr put-image-tag-mutability --repository-name "\$r" --image-tag-mutability IMMUTABLE >/dev/null
done
EOF
# The listing alone, to separate it from the per-repository loop.
measure list aws ecr describe-repositories --query "repositories[?imageTagMutability=='MUTABLE'].repositoryName" --output text
curl -fs -X POST "$URL/__counts" >/dev/null
measure loop bash "$WORK/loop.sh"
LOOP_CALLS=$(calls)
LOOP_LEFT=$(mutable_left)

IMMUTAG_SHOWN=${IMMUTAG#$ROOT/} "$VENV/bin/python" - "$WORK" "$MUTABLE" "$LOOP_SAMPLE" "$REPOS" \
  "$IMMUTAG_CALLS" "$C7N_CALLS" "$LOOP_CALLS" "$IMMUTAG_LEFT" "$C7N_LEFT" "$LOOP_LEFT" \
  >"$OUT/remediate.md" <<'EOF'
import json, sys
work, mutable, sample, repos = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
calls = [json.loads(a) for a in sys.argv[5:8]]
left = sys.argv[8:11]

def t(name):
    wall, kb = open(f"{work}/{name}.time").read().split()[-2:]
    return float(wall), int(kb) / 1024

def fmt_calls(c):
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items(), key=lambda kv: -kv[1]))

iw, im = t("immutag"); cw, cm = t("custodian"); lw, lm = t("list"); pw, pm = t("loop")
per_repo = (pw - lw) / sample  # the loop run includes one listing
loop_total = lw + per_repo * mutable
loop_calls_total = 1 + mutable  # one listing, one put per repository
import os
print(f"{repos} repositories, {mutable} MUTABLE, moto on 127.0.0.1, one region; immutag binary: {os.environ.get('IMMUTAG_SHOWN', 'target/release/immutag')}.\n")
print("| contender | wall time | peak memory | API calls | MUTABLE left | vs immutag |")
print("|---|---:|---:|---|---:|---:|")
print(f"| `immutag remediate --apply` | {iw:.2f} s | {im:.0f} MiB | {sum(calls[0].values())}: {fmt_calls(calls[0])} | {left[0]} | 1x |")
print(f"| Cloud Custodian `set-immutability` | {cw:.2f} s | {cm:.0f} MiB | {sum(calls[1].values())}: {fmt_calls(calls[1])} | {left[1]} | {cw/iw:.1f}x slower |")
print(f"| AWS CLI loop, measured on {sample} | {pw:.2f} s | {max(lm, pm):.0f} MiB | {sum(calls[2].values())}: {fmt_calls(calls[2])} | {left[2]} | |")
print(f"| AWS CLI loop, extrapolated to {mutable} | {loop_total:.0f} s | {max(lm, pm):.0f} MiB | {loop_calls_total} | 0 | {loop_total/iw:.0f}x slower |")
print(f"\nAWS CLI: {lw:.2f} s for the listing, {per_repo:.3f} s per repository in the loop.")
EOF
cat "$OUT/remediate.md"
