#!/usr/bin/env bash
# Unit, integration and doc tests of every crate. Tests that need moto find it in .venv.
# The tests record every SCP they generate into $IMMUTAG_SCP_CORPUS, which
# 45-scp-simulate.sh then proves with an IAM engine.
set -euo pipefail
export IMMUTAG_MOTO_SERVER="${IMMUTAG_MOTO_SERVER:-$PWD/.venv/bin/moto_server}"
export IMMUTAG_SCP_CORPUS="${IMMUTAG_SCP_CORPUS:-$PWD/target/scp-corpus}"
rm -rf "$IMMUTAG_SCP_CORPUS"
mkdir -p "$IMMUTAG_SCP_CORPUS"
cargo test --workspace --locked
