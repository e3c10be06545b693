#!/usr/bin/env bash
# Every fuzz target (fuzz/fuzz_targets/) for about 20 s on its corpus (the repository's inputs,
# good and bad, and past findings in fuzz/regressions/): a crash, a hang over 1 s or a process
# over 512 MB fails the step. docs/reliability.md has the long runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/fuzz.sh ci "${IMMUTAG_FUZZ_SECONDS:-20}"
