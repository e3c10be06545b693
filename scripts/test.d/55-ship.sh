#!/usr/bin/env bash
# The distribution pieces (docs/install.md), beyond the Rust tests that 20-rust-test.sh runs
# (crates/immutag-cli/tests/action.rs: the GitHub Action's step; completions.rs: the shells and
# man; pre-commit/tests/hooks.rs: the hooks through pre-commit):
#  - shellcheck on the action's script and the release and CI scripts;
#  - action.yml and the workflows against SchemaStore's schemas (check-jsonschema), and
#    actionlint on the release workflow and on the docs' example workflow, run against this
#    action.yml (its inputs are checked); pre-commit validates the docs' configurations;
#  - the release: `dist plan` reads dist-workspace.toml, `dist generate --check` proves
#    .github/workflows/release.yml is what it generates; `cargo publish --dry-run -p
#    immutag-core` (packaged and built from the package) and `cargo package --no-verify` of the
#    other published crates (metadata and dependency versions);
#  - the Dockerfile: hadolint, and what it promises (scripts/ship_check.py), which a bad
#    Dockerfile must fail; the image is built and `immutag --version` run inside where a Docker
#    engine answers (`docker info`), and the step says so when none does.
# No release build: the builds of the release workflow need GitHub's runners.
# Fails (never skips) when a peer is missing: run scripts/setup.sh (scripts/setup.d/50-ship.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
venv="$root/.venv-ship/bin"
for tool in actionlint check-jsonschema dist hadolint shellcheck pre-commit; do
  [ -x "$venv/$tool" ] || { echo "FAIL: $venv/$tool is missing: run scripts/setup.sh" >&2; exit 1; }
done
export PATH="$venv:$PATH"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0
expect() { # ok|fail DESCRIPTION COMMAND...: runs it, its output shown only when it surprises
  local want="$1" what="$2" rc=0
  shift 2
  "$@" >"$work/out" 2>&1 || rc=$?
  if { [ "$want" = ok ] && [ "$rc" -eq 0 ]; } || { [ "$want" = fail ] && [ "$rc" -ne 0 ]; }; then
    echo "ok    $what"
    passed=$((passed + 1))
  else
    echo "FAIL  $what (exit $rc, expected $want):" >&2
    cat "$work/out" >&2
    failed=$((failed + 1))
  fi
}
check() { expect ok "$@"; }
fails() { expect fail "$@"; }

# ---- scripts -------------------------------------------------------------------------------
check "shellcheck: the action's script, the release and ship scripts" \
  shellcheck action/immutag-action.sh scripts/release/lambda-zips.sh \
  scripts/setup.d/50-ship.sh scripts/test.d/55-ship.sh

# ---- the action and the workflows ----------------------------------------------------------
check "action.yml matches SchemaStore's github-action schema" \
  check-jsonschema --builtin-schema vendor.github-actions action.yml
check "the workflows match SchemaStore's github-workflow schema" \
  check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
# actionlint runs shellcheck on every `run:`; dist's generated scripts have info- and
# style-level remarks (unquoted $GITHUB_PATH) that cannot be fixed without editing a
# generated file, so shellcheck reports from warnings up.
check "actionlint: the release workflow" \
  env SHELLCHECK_OPTS=--severity=warning actionlint .github/workflows/release.yml

# The docs' examples: the workflow runs against this action.yml (`uses: ./`), so actionlint
# checks every input it passes; the pre-commit configurations are validated by pre-commit.
snippets="$work/snippets"
check "docs/install.md: the example files are found" \
  python3 scripts/ship_check.py snippets docs/install.md "$snippets"
doc_repo="$work/doc-repo"
mkdir -p "$doc_repo/.github/workflows"
cp action.yml "$doc_repo/"
for f in "$snippets"/.github/workflows/*.yml; do
  sed 's#uses: immutag/immutag@v[0-9][0-9.]*#uses: ./#' "$f" > "$doc_repo/.github/workflows/$(basename "$f")"
done
git -C "$doc_repo" init -q
lint_docs_repo() { (cd "$doc_repo" && SHELLCHECK_OPTS=--severity=warning actionlint); }
check "actionlint: the docs' example workflow, against action.yml" lint_docs_repo
# ... and an input action.yml does not have fails it.
sed -i 's#^\(\s*\)sarif-file: immutag.sarif#&\n\1no-such-input: x#' "$doc_repo/.github/workflows/immutag.yml"
fails "actionlint: an input action.yml does not define is refused" lint_docs_repo
check "pre-commit validates the docs' configurations" \
  pre-commit validate-config "$snippets"/.pre-commit-config*.yaml
check "pre-commit validates .pre-commit-hooks.yaml" \
  pre-commit validate-manifest .pre-commit-hooks.yaml

# ---- the release ---------------------------------------------------------------------------
release_plan() { dist plan --output-format=json > "$work/plan.json" && python3 scripts/ship_check.py plan "$work/plan.json"; }
check "dist plan: the 4 archives and the 2 Lambda zips, each with its .sha256" release_plan
check "dist generate --check: release.yml is what dist-workspace.toml generates" \
  dist generate --check
attests() { grep -q 'uses: actions/attest@' "$1" && grep -q '"attestations": "write"' "$1"; }
check "release.yml attests build provenance (actions/attest, attestations: write)" \
  attests .github/workflows/release.yml
# --allow-dirty: a checkout with local changes (CI's clone is clean).
check "cargo publish --dry-run -p immutag-core" \
  cargo publish --dry-run --locked --allow-dirty -p immutag-core
check "cargo package --no-verify: immutag-scp, immutag-pins, immutag-aws, immutag-cli" \
  cargo package --no-verify --locked --allow-dirty -p immutag-core -p immutag-scp \
  -p immutag-pins -p immutag-aws -p immutag-cli

# ---- the Dockerfile ------------------------------------------------------------------------
check "hadolint Dockerfile" hadolint Dockerfile
check "the Dockerfile keeps its promises (multi-stage, distroless, non-root, no shell)" \
  python3 scripts/ship_check.py dockerfile Dockerfile
printf 'FROM debian:12\nRUN apt-get update\nCOPY immutag /usr/local/bin/\nENTRYPOINT /usr/local/bin/immutag\n' > "$work/Dockerfile.bad"
fails "a single-stage, shell-based, root Dockerfile is refused" \
  python3 scripts/ship_check.py dockerfile "$work/Dockerfile.bad"

if docker_info=$(docker info 2>&1); then
  check "docker build" docker build -q -t immutag:ci .
  runs_as_nonroot() {
    docker run --rm immutag:ci --version | grep -q '^immutag ' &&
      [ "$(docker image inspect -f '{{.Config.User}}' immutag:ci)" = 65532:65532 ]
  }
  check "docker run immutag:ci --version (as uid 65532)" runs_as_nonroot
else
  echo "SKIPPED the image build: no Docker engine answers here ($(printf '%s' "$docker_info" | grep -m1 -i 'cannot\|error\|not found' || echo 'docker not installed')); the Dockerfile was linted and checked above"
fi

echo "ship: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
