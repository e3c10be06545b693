#!/usr/bin/env bash
# Benchmark: `immutag pins check` on a generated monorepo (20,000 files, 5,000 image references)
# beside the floor (a bare directory walk that reads every file, same walker) and grep, in one
# run. Prints a Markdown table (wall time, files per second, peak memory, ratios) to paste into
# docs/performance.md.
#   bash bench/pins.sh                          # library body of `pins check`
#   IMMUTAG=target/release/immutag bash bench/pins.sh   # also the CLI binary
#   FILES=50000 REFS=12000 bash bench/pins.sh
#   REUSE=1 bash bench/pins.sh                 # keep the generated tree
set -euo pipefail
cd "$(dirname "$0")/.."
dir="target/bench-pins-monorepo"
if [ -z "${REUSE:-}" ] || [ ! -d "$dir" ]; then
  rm -rf "$dir"
  python3 bench/gen_monorepo.py "$dir" --files "${FILES:-20000}" --refs "${REFS:-5000}" >&2
fi
cargo build --release --locked -p immutag-pins --example pins_walk >&2
exec python3 bench/pins_bench.py --walk "${CARGO_TARGET_DIR:-target}/release/examples/pins_walk" --dir "$dir" \
  --files "${FILES:-20000}" ${IMMUTAG:+--immutag "$IMMUTAG"} "$@"
