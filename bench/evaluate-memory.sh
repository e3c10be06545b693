#!/usr/bin/env bash
# Peak memory and time of `immutag evaluate -o json` on a CloudFormation JSON template of N
# repositories (default 10,000; CDK-style, minified), beside jq and a bare serde_json parse
# (the floor: into a serde_json::Value, and into nothing), each under /usr/bin/time -v, best
# of RUNS (default 5). Release profile (a cold build of the CLI takes minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"; runs="${RUNS:-5}"
cargo build --release -q -p immutag-cli -p immutag-core --example json_floor >&2
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
python3 - "$n" "$work/template.json" <<'PY'
import json, sys
n, out = int(sys.argv[1]), sys.argv[2]
res = {}
for i in range(n):
    m = ["IMMUTABLE", "MUTABLE", {"Ref": "Mode"}, "IMMUTABLE_WITH_EXCLUSION", {"Fn::Sub": "${Mode}"}][i % 5]
    p = {"ImageScanningConfiguration": {"ScanOnPush": True}, "ImageTagMutability": m,
         "RepositoryName": f"team-{i % 40}/service-{i}", "Tags": [{"Key": "team", "Value": f"team-{i % 40}"}]}
    if i % 5 == 3:
        p["ImageTagMutabilityExclusionFilters"] = [{"ImageTagMutabilityExclusionFilterType": "WILDCARD",
                                                    "ImageTagMutabilityExclusionFilterValue": "latest"}]
    res[f"Repository{i:05}A1B2C3D4"] = {"Type": "AWS::ECR::Repository", "Properties": p,
                                         "DeletionPolicy": "Retain", "Metadata": {"aws:cdk:path": f"Stack/Repository{i}/Resource"}}
doc = {"Parameters": {"Mode": {"Type": "String", "Default": "IMMUTABLE", "AllowedValues": ["IMMUTABLE"]}}, "Resources": res}
open(out, "w").write(json.dumps(doc, separators=(",", ":")))
PY
size=$(stat -c %s "$work/template.json")
measure() { # NAME CMD... -> "NAME max_rss_kB seconds" (best of $runs)
  local name=$1; shift
  local best_kb="" best_s=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -v "$@" > /dev/null 2> "$work/time.txt" || true
    kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
    s=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time.txt" | awk -F: '{print ($1*60)+$2}')
    if [ -z "$best_kb" ] || [ "$kb" -lt "$best_kb" ]; then best_kb=$kb; fi
    if [ -z "$best_s" ] || awk "BEGIN{exit !($s < $best_s)}"; then best_s=$s; fi
  done
  echo "$name $best_kb $best_s"
}
{
  measure "immutag-evaluate-json" target/release/immutag evaluate -o json "$work/template.json"
  measure "jq" jq empty "$work/template.json"
  measure "serde_json-Value" target/release/examples/json_floor value "$work/template.json"
  measure "serde_json-IgnoredAny" target/release/examples/json_floor ignore "$work/template.json"
} > "$work/results.txt"
echo "input: $n repositories, $size bytes ($(awk "BEGIN{printf \"%.2f\", $size/1048576}") MiB)"
printf '%-24s %12s %10s %12s %10s\n' tool "max RSS kB" "x input" "seconds" "x immutag"
read -r _ ikb is < <(head -1 "$work/results.txt")
while read -r name kb s; do
  printf '%-24s %12s %10s %12s %10s\n' "$name" "$kb" "$(awk "BEGIN{printf \"%.2f\", $kb*1024/$size}")" "$s" \
    "$(awk "BEGIN{printf \"%.2f\", ($is>0)?$s/$is:0}")"
done < "$work/results.txt"
