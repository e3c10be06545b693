#!/usr/bin/env bash
# The CDK app in cdk/, offline (no AWS credentials, no network):
#  1. npm test: tsc type check, then jest (synthesizes the stacks; asserts resources, IAM
#     statements, triggers, parameters, SCP content; cdk-nag AwsSolutions clean).
#  2. `cdk synth` of every stack (rule with remediation + execution role + periodic and the
#     exemption tag, SCPs strict + protect-exemption-tag from policies/, member-account
#     execution role, example repository) into cdk/cdk.out, and
#     of the organization-rule variant into a scratch directory; cdk-nag runs as a validation
#     plugin in both (a finding fails the synth).
#  3. cfn-lint on every synthesized template: no error, warning or informational finding.
#  4. `immutag evaluate` on the templates: exit 0, and every ECR repository COMPLIANT.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=1 CI="${CI:-true}"

fail() { echo "FAIL: $*" >&2; exit 1; }
[ -d cdk/node_modules ] || fail "cdk/node_modules missing: run scripts/setup.sh (it runs npm ci in cdk/)"
CFN_LINT=.venv/bin/cfn-lint
[ -x "$CFN_LINT" ] || fail "$CFN_LINT not found: run scripts/setup.sh (it installs scripts/requirements.txt into .venv)"

echo "--- npm test" >&2
(cd cdk && npm test --silent)

# A placeholder `bootstrap`, ONLY so that `cdk synth` has an asset directory without building
# the Rust Lambda; it is never deployed. A real deployment uses target/lambda/bootstrap/
# (cargo lambda build --release --arm64) or lets cargo-lambda-cdk build it.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/placeholder-asset"
printf '#!/bin/sh\necho "placeholder for cdk synth only" >&2\nexit 1\n' > "$work/placeholder-asset/bootstrap"
chmod +x "$work/placeholder-asset/bootstrap"

# The SCP stack deploys the strict preset and the exemption tag protection for the rule's
# ExemptionTagKey (at most 5 SCPs per target: the jest tests deploy every golden file).
golden=(policies/strict.json policies/protect-exemption-tag.json)
for f in "${golden[@]}"; do [ -f "$f" ] || fail "$f missing (immutag scp generate --out policies/)"; done
scp_files=$(printf '../%s,' "${golden[@]}")
scp_files=${scp_files%,}

echo "--- cdk synth" >&2
rm -rf cdk/cdk.out
(cd cdk && npx --no-install cdk synth --no-notices --quiet --output cdk.out \
  -c "immutag:lambdaAsset=$work/placeholder-asset" \
  -c immutag:remediation=IMMUTABLE \
  -c immutag:executionRoleName=ImmutagPlatform \
  -c immutag:frequency=TwentyFour_Hours \
  -c immutag:scpTargets=r-exmp \
  -c "immutag:scpPolicyFile=$scp_files" \
  -c immutag:exemptionTagKey=immutag:exempt \
  -c immutag:executionRoleStack=true \
  -c immutag:trustedRoleArn=arn:aws:iam::111122223333:role/immutag-central-rule \
  -c immutag:example=true)
templates=(cdk/cdk.out/*.template.json)
[ "${#templates[@]}" -eq 4 ] || fail "expected 4 templates (ImmutagRule, ImmutagScp, ImmutagExecutionRole, ImmutagExample), found ${#templates[@]}: ${templates[*]}"

echo "--- cdk synth (organization rule)" >&2
(cd cdk && npx --no-install cdk synth --no-notices --quiet --output "$work/cdk.out.org" \
  -c "immutag:lambdaAsset=$work/placeholder-asset" \
  -c immutag:organization=true \
  -c immutag:executionRoleName=ImmutagPlatform \
  -c immutag:frequency=Twelve_Hours)
[ -f "$work/cdk.out.org/ImmutagRule.template.json" ] || fail "the organization-rule synth wrote no ImmutagRule template"
grep -q '"AWS::Config::OrganizationConfigRule"' "$work/cdk.out.org/ImmutagRule.template.json" \
  || fail "the organization-rule template has no AWS::Config::OrganizationConfigRule"

echo "--- cfn-lint" >&2
"$CFN_LINT" --format parseable -- "${templates[@]}" "$work/cdk.out.org/ImmutagRule.template.json"

echo "--- immutag evaluate ${templates[*]}" >&2
cargo test -q --workspace --locked --no-run   # makes target/debug/immutag; no-op after 20-rust-test.sh
IMMUTAG="${CARGO_TARGET_DIR:-target}/debug/immutag"
"$IMMUTAG" evaluate --input cloudformation -o json "${templates[@]}" > "$work/evaluations.json" \
  || fail "immutag evaluate exited $? on the synthesized templates (0 = every repository compliant)"
python3 - "$work/evaluations.json" <<'PY'
import json, sys
evals = json.load(open(sys.argv[1]))
repos = [e for e in evals if e.get("resource_type") == "AWS::ECR::Repository"]
bad = [e for e in repos if e.get("compliance") != "COMPLIANT"]
if not repos:
    sys.exit("FAIL: immutag evaluate found no ECR repository in the templates (the example stack has one)")
if bad:
    sys.exit("FAIL: not COMPLIANT: " + json.dumps(bad, indent=1))
print(f"immutag evaluate: {len(repos)} ECR repositor{'y' if len(repos) == 1 else 'ies'}, all COMPLIANT", file=sys.stderr)
PY
