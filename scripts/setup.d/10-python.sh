#!/usr/bin/env bash
# Python test peers in .venv: moto (ECR, Organizations, STS, Config emulator), validators.
set -euo pipefail
python3 -m venv .venv
.venv/bin/pip install --quiet --upgrade pip
.venv/bin/pip install --quiet -r scripts/requirements.txt
