#!/usr/bin/env bash
set -euo pipefail
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The Config rule Lambda as it ships: immutag-aws without `fleet` (the workspace build above
# unifies features, so the arms compiled only without `fleet` are checked here).
cargo clippy -p immutag-lambda --locked -- -D warnings
