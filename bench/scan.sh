#!/usr/bin/env bash
# Benchmark: `immutag scan` beside the AWS CLI recipe and Cloud Custodian, on one moto server
# (127.0.0.1), over the same state in the same run: 2,500 repositories in one account and
# region, then 2 accounts x 2 regions. Prints a Markdown table (wall time, peak memory, API
# calls) to paste into docs/performance.md.
#
# Needs: scripts/setup.sh (moto in .venv); installs awscli and c7n (bench/requirements.txt) into
# target/bench-venv; builds immutag in release mode.
#   bash bench/scan.sh            # N=2500
#   N=5000 bash bench/scan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/moto_server ] || { echo "moto missing: run bash scripts/setup.sh" >&2; exit 2; }
if [ ! -x target/bench-venv/bin/custodian ] || [ ! -x target/bench-venv/bin/aws ]; then
  python3 -m venv target/bench-venv
  target/bench-venv/bin/pip install --quiet --upgrade pip
  target/bench-venv/bin/pip install --quiet -r bench/requirements.txt
fi
cargo build --release --locked -p immutag-cli --bin immutag >&2
exec .venv/bin/python bench/scan_bench.py \
  --immutag target/release/immutag \
  --aws target/bench-venv/bin/aws \
  --custodian target/bench-venv/bin/custodian \
  --moto .venv/bin/moto_server \
  --repositories "${N:-2500}" "$@"
