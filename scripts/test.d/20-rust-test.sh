#!/usr/bin/env bash
# Unit, integration and doc tests of every crate. Tests that need moto find it in .venv.
set -euo pipefail
export IMMUTAG_MOTO_SERVER="${IMMUTAG_MOTO_SERVER:-$PWD/.venv/bin/moto_server}"
cargo test --workspace --locked
