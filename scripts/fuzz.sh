#!/usr/bin/env bash
# Fuzzing with cargo-fuzz on the stable toolchain (RUSTC_BOOTSTRAP=1; no sanitizer: `-s none`,
# which needs no nightly). Targets: fuzz/fuzz_targets/*.rs (docs/reliability.md, "Fuzzing").
#
#   bash scripts/fuzz.sh seed                  fuzz/corpus/TARGET/ from the repository's inputs
#   bash scripts/fuzz.sh build                 build every target
#   bash scripts/fuzz.sh run TARGET [ARGS...]  e.g. -runs=10000000, or -max_total_time=20
#   bash scripts/fuzz.sh ci [SECONDS]          seed, build, and run every target SECONDS (20)
#
# Limits of every run: an input that takes over 1 s is a hang (-timeout=1), a process over
# 512 MB an out-of-memory (-rss_limit_mb=512, -malloc_limit_mb=512). A finding is written to
# fuzz/artifacts/TARGET/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || { echo "FAIL: cargo-fuzz not found: run scripts/setup.sh" >&2; exit 1; }

targets() { sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^immutag-fuzz$'; }

# The seeds of each target: the inputs the project ships, good and bad.
seeds_of() {
  shopt -s nullglob
  local files=()
  case "$1" in
    input_*) files=(docs/examples/*.json docs/examples/*.yaml docs/examples/offline-errors/*.json
                    tests/fixtures/events/*.json crates/immutag-cli/tests/fixtures/*.json
                    tests/fixtures/bad/evaluate/*) ;;
    rule_event) files=(tests/fixtures/events/*.json docs/examples/config-event-*.json
                       crates/immutag-cli/tests/fixtures/config-rule-event.json) ;;
    rule_params) files=(crates/immutag-cli/tests/fixtures/params/*.json) ;;
    scp_check) files=(policies/*.json tests/fixtures/policies/*.json tests/fixtures/bad/scp/*) ;;
    plan) files=(tests/fixtures/plans/* tests/fixtures/bad/plan/*) ;;
    journal) files=(tests/fixtures/journals/* tests/fixtures/bad/journal/*) ;;
    *) echo "no seeds for $1" >&2; return 1 ;;
  esac
  for f in "${files[@]}"; do [ -f "$f" ] && echo "$f"; done
  return 0
}

seed() {
  for t in $(targets); do
    mkdir -p "fuzz/corpus/$t"
    seeds_of "$t" | while read -r f; do
      # Seeds larger than the run's -max_len are cut by libFuzzer anyway.
      [ -f "$f" ] && cp "$f" "fuzz/corpus/$t/seed-$(basename "$f")"
    done
    # Inputs that crashed once stay in the corpus of their target.
    [ -d "fuzz/regressions/$t" ] && cp fuzz/regressions/"$t"/* "fuzz/corpus/$t/" 2>/dev/null || true
  done
}

build() { cargo fuzz build -s none "$@"; }

run() {
  local t="$1"; shift
  mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
  cargo fuzz run -s none "$t" "fuzz/corpus/$t" -- \
    -timeout=1 -rss_limit_mb=512 -malloc_limit_mb=512 -max_len=65536 \
    -print_final_stats=1 "-artifact_prefix=fuzz/artifacts/$t/" "$@"
}

case "${1:-}" in
  seed) seed ;;
  build) shift; build "$@" ;;
  run) shift; run "$@" ;;
  ci)
    secs="${2:-20}"
    seed
    build
    for t in $(targets); do
      echo "--- fuzz $t (${secs} s)" >&2
      run "$t" "-max_total_time=$secs" 2>&1 | grep -E '^(stat::number_of_executed_units|==|SUMMARY|.*(panicked|Crash|Timeout|out-of-memory))' >&2 \
        || true
      # grep hides the run's exit status: a finding leaves an artifact.
      if compgen -G "fuzz/artifacts/$t/*" >/dev/null; then
        echo "FAIL: fuzz target $t found an input that fails: $(ls fuzz/artifacts/"$t")" >&2
        exit 1
      fi
    done
    echo "fuzz: $(targets | wc -l) passed, 0 failed"
    ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
