#!/usr/bin/env bash
# Peak memory (max RSS) of one scheduled run over N repositories (default 10,000):
# the handler with mocked DescribeRepositories pages of 1000 and mocked PutEvaluations
# (crates/immutag-lambda/examples/scheduled_10k.rs), release profile, under /usr/bin/time -v.
# Target <= 64 MB, so the function runs in 128 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"
cargo build --release -p immutag-lambda --example scheduled_10k >&2
/usr/bin/time -v target/release/examples/scheduled_10k "$n" 2> target/lambda-memory.txt >/dev/null || { cat target/lambda-memory.txt >&2; exit 1; }
grep -E "^repositories=" target/lambda-memory.txt
kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' target/lambda-memory.txt)
echo "max RSS: ${kb} kB ($(echo "$kb/1024" | bc -l | cut -c1-5) MiB)"
