#!/usr/bin/env bash
# End to end: the Config rule Lambda `bootstrap` (debug build) against `cargo lambda watch`
# (a Lambda Runtime API emulator; `--only-lambda-apis`, so that watch does not rebuild the
# function with other flags: the binary is the one the test build already made), with ECR on a moto server on 127.0.0.1, invoked with the
# fixture events of tests/fixtures/events/ through `cargo lambda invoke`. The events carry the
# result token TESTMODE: moto accepts PutEvaluations only with TestMode=true.
# Fails (never skips) when a peer is missing: run scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
venv="$root/.venv/bin"
for tool in cargo-lambda moto_server python; do
  [ -x "$venv/$tool" ] || { echo "FAIL: $venv/$tool is missing; run scripts/setup.sh" >&2; exit 1; }
done
export PATH="$venv:$PATH"
events="$root/tests/fixtures/events"
work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # PORT SECONDS NAME
  for _ in $(seq 1 $(($2 * 10))); do
    python -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$1)))" && return 0
    sleep 0.1
  done
  echo "FAIL: $3 did not listen on 127.0.0.1:$1 within $2 s" >&2; return 1
}

# The test build of the workspace makes target/debug/bootstrap: a no-op after 20-rust-test.sh.
# (`-p immutag-lambda` alone would resolve other features and rebuild much of the AWS SDK.)
cargo test --workspace --locked --no-run >&2
bootstrap="$root/target/debug/bootstrap"
[ -x "$bootstrap" ] || { echo "FAIL: $bootstrap was not built" >&2; exit 1; }

moto_port=$(free_port)
moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
pids+=($!)
wait_port "$moto_port" 30 moto_server

export AWS_ENDPOINT_URL="http://127.0.0.1:$moto_port" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_SESSION_TOKEN || true

# The account's repositories (moto's default account 123456789012).
python - <<'PY'
import boto3
ecr = boto3.client("ecr")
ecr.create_repository(repositoryName="payments-api", imageTagMutability="MUTABLE")
ecr.create_repository(repositoryName="web", imageTagMutability="IMMUTABLE")
ecr.create_repository(repositoryName="sandbox-x", imageTagMutability="MUTABLE")
ecr.create_repository(repositoryName="builds", imageTagMutability="IMMUTABLE_WITH_EXCLUSION",
    imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD", "filter": "latest"}])
PY

lambda_port=$(free_port)
cargo lambda watch --only-lambda-apis --invoke-address 127.0.0.1 --invoke-port "$lambda_port" \
  >"$work/emulator.log" 2>&1 &
pids+=($!)
wait_port "$lambda_port" 60 "cargo lambda watch"
AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_NAME=_ \
AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$lambda_port/.rt" RUST_LOG=info \
  "$bootstrap" >"$work/watch.log" 2>&1 &
bootstrap_pid=$!
pids+=($bootstrap_pid)

invocations=0
invoke() { # EVENT_FILE OUT_FILE -> exit status of the invoke
  invocations=$((invocations + 1))
  cargo lambda invoke -A 127.0.0.1 -P "$lambda_port" --data-file "$1" >"$2" 2>&1
}
fail() { echo "FAIL: $*" >&2; echo "--- function log" >&2; tail -n 40 "$work/watch.log" >&2; exit 1; }

# check OUT 'python expression over s (the summary)' DESCRIPTION
check() {
  python - "$1" "$2" "$3" <<'PY' || fail "$3"
import json, sys
out, expr, what = sys.argv[1], sys.argv[2], sys.argv[3]
text = open(out).read()
start = text.find("{")
s = json.loads(text[start:]) if start >= 0 else None
ev = {e["resourceId"]: e for e in (s or {}).get("evaluations", [])}
ok = s is not None and eval(expr, {"s": s, "ev": ev})
print(("ok    " if ok else "WRONG ") + what + ("" if ok else f"\n{text}"), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
}

passed=0; failed_count=0
run_case() { # FILE EXPR DESCRIPTION
  if invoke "$events/$1" "$work/out.json" && check "$work/out.json" "$2" "$3"; then
    passed=$((passed + 1))
  else
    failed_count=$((failed_count + 1)); cat "$work/out.json" >&2
  fi
}

run_case change-ok-mutable.json \
  's["testMode"] and s["putEvaluationsCalls"]==1 and ev["payments-api"]["compliance"]=="NON_COMPLIANT" and ev["payments-api"]["resourceType"]=="AWS::ECR::Repository"' \
  "change: MUTABLE is NON_COMPLIANT"
run_case change-discovered-immutable.json 'ev["web"]["compliance"]=="COMPLIANT"' "change: IMMUTABLE is COMPLIANT"
run_case change-ok-immutable-with-exclusion.json \
  'ev["builds"]["compliance"]=="NON_COMPLIANT" and "dev-*" in ev["builds"]["annotation"]' \
  "change: an exclusion filter not allowed is NON_COMPLIANT"
for f in change-deleted.json change-deleted-not-recorded.json change-not-recorded.json change-left-scope.json; do
  run_case "$f" 'len(s["evaluations"])==1 and s["evaluations"][0]["compliance"]=="NOT_APPLICABLE"' "change: $f is NOT_APPLICABLE"
done
# moto implements no creation template operation: the sweep says so and reports the
# repositories as usual.
periodic='s["putEvaluationsCalls"]==1 and len(ev)==4 and ev["payments-api"]["compliance"]=="NON_COMPLIANT" and ev["web"]["compliance"]=="COMPLIANT" and ev["builds"]["compliance"]=="COMPLIANT" and ev["sandbox-x"]["compliance"]=="NOT_APPLICABLE" and "not implemented" in s.get("templatesNotRead","")'
run_case scheduled.json "$periodic" "scheduled: every repository on moto evaluated"
run_case change-creation-template.json 's["putEvaluationsCalls"]==0 and len(s["evaluations"])==0' \
  "change: a creation template item is not evaluated (the sweep reads templates live)"
run_case snapshot-delivery-completed.json "$periodic" "snapshot delivery: every repository evaluated"

# The item says IMMUTABLE_WITH_EXCLUSION but lists no filters: the function reads them live
# from moto (builds: [latest], allowed) and says so.
run_case change-exclusion-without-filters.json \
  'ev["builds"]["compliance"]=="COMPLIANT" and ev["builds"]["annotation"].startswith("Exclusion filters read live")' \
  "change: filters the item does not list are read live and decide"

# Errors: the invocation fails and names the problem.
expect_error() { # FILE NEEDLE DESCRIPTION
  if invoke "$events/$1" "$work/out.json"; then
    failed_count=$((failed_count + 1)); echo "WRONG $3: the invocation succeeded" >&2; cat "$work/out.json" >&2
  elif grep -q -- "$2" "$work/out.json"; then
    passed=$((passed + 1)); echo "ok    $3" >&2
  else
    failed_count=$((failed_count + 1)); echo "WRONG $3: no '$2' in the error" >&2; cat "$work/out.json" >&2
  fi
}
expect_error invalid-parameters.json 'Remediate' "invalid rule parameters fail the invocation"
expect_error change-unknown-status.json 'ResourceVanished' "an unknown configurationItemStatus fails the invocation"
# Another account's event without ExecutionRoleName: the function's credentials are moto's
# account 123456789012 (GetCallerIdentity); the event is for 210987654321.
expect_error change-foreign-account.json 'is for account 210987654321, but' \
  "another account's event without ExecutionRoleName is refused"
if grep -q 'of account 123456789012' "$work/out.json"; then
  passed=$((passed + 1)); echo "ok    the refusal names the function's own account too" >&2
else
  failed_count=$((failed_count + 1)); echo "WRONG the refusal does not name the function's account" >&2
fi
expect_error unknown-message-type.json 'ComplianceChangeNotification' "an unknown messageType fails the invocation"
# moto's GetResourceConfigHistory does not know AWS::ECR::Repository (the mocked tests cover
# the fetch); the invocation must fail naming the call rather than report a guess.
expect_error oversized.json 'GetResourceConfigHistory' "oversized: a failed fetch fails the invocation"

# Auto-remediation: a scheduled run with Remediation=IMMUTABLE flips payments-api on moto.
python - "$events/scheduled.json" "$work/remediate.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1]))
e["ruleParameters"] = json.dumps({"AllowedExclusionFilters": "latest", "ExemptRepositoryPatterns": "sandbox-*", "Remediation": "IMMUTABLE"})
json.dump(e, open(sys.argv[2], "w"))
PY
if invoke "$work/remediate.json" "$work/out.json" && check "$work/out.json" \
  's["remediated"]==1 and ev["payments-api"]["compliance"]=="COMPLIANT" and "immutag changed" in ev["payments-api"]["annotation"] and ev["sandbox-x"]["compliance"]=="NOT_APPLICABLE"' \
  "remediation: payments-api switched and reported COMPLIANT"; then
  passed=$((passed + 1))
else
  failed_count=$((failed_count + 1))
fi
if python - <<'PY'
import boto3, sys
repos = {r["repositoryName"]: r["imageTagMutability"] for r in boto3.client("ecr").describe_repositories()["repositories"]}
want = {"payments-api": "IMMUTABLE", "sandbox-x": "MUTABLE", "web": "IMMUTABLE", "builds": "IMMUTABLE_WITH_EXCLUSION"}
print(("ok    " if repos == want else "WRONG ") + f"remediation: moto now holds {repos}", file=sys.stderr)
sys.exit(0 if repos == want else 1)
PY
then passed=$((passed + 1)); else failed_count=$((failed_count + 1)); fi

grep -q '"PutEvaluations batch"' "$work/watch.log" || { failed_count=$((failed_count + 1)); echo "WRONG no JSON log line per PutEvaluations batch" >&2; }
if grep -qi 'testing' <(grep -i 'secret\|access_key' "$work/watch.log"); then
  failed_count=$((failed_count + 1)); echo "WRONG credentials appear in the logs" >&2
fi
# The function's JSON log lines: every line written during an invocation carries its request
# id; each invocation ends with one summary line; the refused foreign-account invocation read
# and reported nothing; no result token appears in any line.
if python - "$work/watch.log" "$invocations" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
want = int(sys.argv[2])
def rid(l):
    # immutag's span ("invocation", request_id), else the runtime's ("Lambda runtime invoke",
    # requestId), which holds the runtime's own lines about the invocation.
    ids = {s.get("name"): s.get("request_id") or s.get("requestId") for s in l.get("spans", [])}
    return ids.get("invocation") or ids.get("Lambda runtime invoke")
# At RUST_LOG=info the function writes nothing outside an invocation.
bad = [l for l in lines if not rid(l)]
summaries = [l for l in lines if l["fields"].get("message") == "invocation summary"]
by_rid = {}
for l in lines:
    by_rid.setdefault(rid(l), []).append(l)
foreign = [s for s in summaries if "210987654321" in s["fields"].get("error", "")]
ok = True
def fail(what):
    global ok; ok = False; print("WRONG " + what, file=sys.stderr)
if bad: fail(f"{len(bad)} log line(s) without the request id: {bad[0]}")
if len(summaries) != want: fail(f"{len(summaries)} summary lines for {want} invocations")
if any(not rid(s) for s in summaries): fail("a summary line without the request id")
if len(set(rid(s) for s in summaries)) != len(summaries): fail("two summaries share a request id")
if len(foreign) != 1: fail(f"expected one refused foreign-account summary, found {len(foreign)}")
else:
    f = foreign[0]["fields"]
    mine = by_rid[rid(foreign[0])]
    if f["outcome"] != "failed" or f["evaluated"] != 0 or f["put_evaluations_calls"] != 0: fail(f"the refused invocation did something: {f}")
    if any("PutEvaluations" in l["fields"].get("message", "") for l in mine): fail("the refused invocation reported")
text = open(sys.argv[1]).read()
for token in ("foreign-result-token-7Hq2x", "TESTMODE"):
    if token in text: fail(f"the result token {token} appears in the log")
print(("ok    " if ok else "WRONG ") + f"logs: {len(lines)} JSON lines, {len(summaries)} summaries, request id on every line, no token", file=sys.stderr)
sys.exit(0 if ok else 1)
PY
then passed=$((passed + 1)); else failed_count=$((failed_count + 1)); fi

# Container credentials (what Lambda gives SnapStart functions instead of access keys): the
# function, restarted without AWS_ACCESS_KEY_ID, fetches its credentials from
# AWS_CONTAINER_CREDENTIALS_FULL_URI with the authorization token, and a scheduled run works.
kill "$bootstrap_pid" 2>/dev/null || true
wait "$bootstrap_pid" 2>/dev/null || true
creds_port=$(free_port)
python - "$creds_port" "$work/creds.log" >"$work/creds-server.log" 2>&1 <<'PY' &
import http.server, json, sys
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.headers.get("Authorization") == "e2e-container-token"
        open(log, "a").write(("authorized " if ok else "unauthorized ") + self.path + "\n")
        body = json.dumps({"AccessKeyId": "ASIACONTAINEREXAMPLE", "SecretAccessKey": "container-secret",
                           "Token": "container-session", "Expiration": "2099-01-01T00:00:00Z"}).encode()
        self.send_response(200 if ok else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body if ok else b"{}")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
pids+=($!)
wait_port "$creds_port" 30 "the container credentials server"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
  AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$creds_port/v1/credentials" \
  AWS_CONTAINER_AUTHORIZATION_TOKEN=e2e-container-token \
  AWS_LAMBDA_FUNCTION_VERSION=1 AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_NAME=_ \
  AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$lambda_port/.rt" RUST_LOG=info \
  "$bootstrap" >"$work/watch-container.log" 2>&1 &
pids+=($!)
if invoke "$events/scheduled.json" "$work/out.json" \
  && check "$work/out.json" 's["putEvaluationsCalls"]==1 and len(ev)==4' \
    "container credentials: a scheduled run evaluates every repository" \
  && grep -q '^authorized /v1/credentials' "$work/creds.log" \
  && ! grep -q '^unauthorized' "$work/creds.log"; then
  passed=$((passed + 1)); echo "ok    container credentials: fetched with the authorization token" >&2
else
  failed_count=$((failed_count + 1)); echo "WRONG container credentials" >&2
  cat "$work/creds.log" "$work/out.json" >&2 2>/dev/null || true
  tail -n 20 "$work/watch-container.log" >&2
fi

echo "lambda-e2e: $passed passed, $failed_count failed"
[ "$failed_count" -eq 0 ]
