#!/usr/bin/env bash
# checkov (PyPI), the independent check of immutag's CloudFormation verdicts (CKV_AWS_51), in
# a venv of its own: checkov pins boto3 1.35 and networkx 2.6, which would downgrade what moto
# and cfn-lint need in .venv.
set -euo pipefail
python3 -m venv .venv-checkov
.venv-checkov/bin/pip install --quiet --upgrade pip
.venv-checkov/bin/pip install --quiet -r scripts/requirements-checkov.txt
.venv-checkov/bin/checkov --version >&2
