#!/usr/bin/env bash
# Benchmark: CloudTrail logs (generated, gzip, the trail's key layout) read into the move
# table, in one run, over the same files:
#
#   1. immutag history --cloudtrail DIR --moves-only -o json (release build): every record
#      parsed, the PutImage pushes kept, the moves built;
#   2. the common alternative: zcat | jq selecting the same events (ECR PutImage) and the
#      same members (no moves: jq would still have to sort them per tag);
#   3. the floor: a bare gzip decode of the same bytes (zcat > /dev/null).
#
# For each: wall time, CPU time (user + sys), peak resident memory (GNU time), MB/s of
# compressed and of decompressed input, and the ratio to the floor. The PutImage counts of
# immutag and jq must agree.
#
# Usage: bash bench/history.sh          (SIZE_MB=1024 of gzip logs by default; kept under
#                                        target/bench-history and reused by later runs)
# Writes the Markdown table to bench/results/history.md and prints it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SIZE_MB=${SIZE_MB:-1024}
DATA=${DATA:-$ROOT/target/bench-history/$SIZE_MB}
OUT=$ROOT/bench/results
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

for tool in jq zcat /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (apt-get install jq gzip time)" >&2; exit 1; }
done

if [ ! -f "$DATA/.complete" ]; then
  echo "==> generating $SIZE_MB MB of gzip CloudTrail logs in $DATA" >&2
  rm -rf "$DATA"; mkdir -p "$DATA"
  start=$(date +%s)
  python3 bench/gen_cloudtrail.py "$DATA" $((SIZE_MB * 1024 * 1024))
  echo "    generated in $(( $(date +%s) - start )) s" >&2
  touch "$DATA/.complete"
fi

if [ -n "${IMMUTAG_BIN:-}" ]; then
  IMMUTAG=$IMMUTAG_BIN
else
  echo "==> release build of immutag" >&2
  start=$(date +%s)
  cargo build --release --locked -p immutag-cli >&2
  echo "    built in $(( $(date +%s) - start )) s" >&2
  IMMUTAG=$ROOT/target/release/immutag
fi

find "$DATA/AWSLogs" -name '*.json.gz' -print0 | sort -z > "$WORK/files"
FILES=$(tr -cd '\0' < "$WORK/files" | wc -c)
GZ_BYTES=$(xargs -0 cat < "$WORK/files" | wc -c)
echo "==> $FILES files, $GZ_BYTES bytes gzip; measuring the decompressed size" >&2
RAW_BYTES=$(xargs -0 cat < "$WORK/files" | zcat | wc -c)

# run NAME COMMAND...: GNU time's wall, user, sys, max RSS (KiB) into $WORK/NAME.time
run() {
  local name=$1; shift
  echo "==> $name" >&2
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/$name.time" "$@"
}

run floor bash -c "xargs -0 cat < '$WORK/files' | zcat > /dev/null"
JQ='.Records[] | select(.eventSource == "ecr.amazonaws.com" and .eventName == "PutImage")
  | [.eventTime, .recipientAccountId, .awsRegion, .requestParameters.repositoryName,
     .requestParameters.imageTag, (.responseElements.image.imageId.imageDigest // .requestParameters.imageDigest),
     (.userIdentity.sessionContext.sessionIssuer.arn // .userIdentity.arn), .userAgent, .errorCode] | @tsv'
run jq bash -c "xargs -0 cat < '$WORK/files' | zcat | jq -r '$JQ' > '$WORK/jq.out'"
# Exit 1 means "a tag moved" (the generated logs have moves): only 0 and 1 are success here.
run immutag bash -c "'$IMMUTAG' history --cloudtrail '$DATA/AWSLogs' --moves-only -o json --no-progress > '$WORK/immutag.json' 2> '$WORK/immutag.err' || [ \$? -eq 1 ]"

JQ_PUTS=$(wc -l < "$WORK/jq.out")
IMMUTAG_PUTS=$(grep -o '[0-9]* ECR PutImage' "$WORK/immutag.err" | cut -d' ' -f1)
MOVES=$(grep -c '"kind": "move"' "$WORK/immutag.json" || true)
cat "$WORK/immutag.err" >&2
if [ "$JQ_PUTS" != "$IMMUTAG_PUTS" ]; then
  echo "FAIL: jq selected $JQ_PUTS PutImage events, immutag $IMMUTAG_PUTS" >&2
  exit 1
fi

python3 - "$WORK" "$GZ_BYTES" "$RAW_BYTES" "$FILES" "$JQ_PUTS" "$MOVES" <<'PY' | tee "$OUT/history.md"
import sys
work, gz, raw, files, puts, moves = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
rows = {}
for name in ("immutag", "jq", "floor"):
    e, u, s, m = open(f"{work}/{name}.time").read().split()
    rows[name] = (float(e), float(u) + float(s), int(m))
label = {"immutag": "immutag history (moves built)", "jq": "zcat | jq (selection only)", "floor": "zcat > /dev/null (floor)"}
print(f"{files} files, {gz / 1e6:.0f} MB gzip, {raw / 1e6:.0f} MB decompressed; {puts} PutImage events, {moves} moves.\n")
print("| tool | wall | CPU | peak memory | MB/s gzip | MB/s JSON | wall vs floor | CPU vs floor | wall vs jq |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
fw, fc, _ = rows["floor"]
jw = rows["jq"][0]
for name in ("immutag", "jq", "floor"):
    w, c, m = rows[name]
    print(f"| {label[name]} | {w:.1f} s | {c:.1f} s | {m / 1024:.0f} MiB | {gz / 1e6 / w:.0f} | {raw / 1e6 / w:.0f} | {w / fw:.2f}x | {c / fc:.2f}x | {w / jw:.2f}x |")
PY
