#!/bin/sh
# Creates .venv (if needed) and installs Resguardo into it with the pinned versions.
# Usage: sh scripts/setup.sh [test]
set -eu
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv || {
    echo "Could not create a virtual environment. On Debian: apt-get install python3-venv" >&2
    exit 1
  }
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
extra=""
[ "${1:-}" = "test" ] && extra="[test]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check \
  -c requirements.lock -e ".${extra}"
if [ -f package.json ] && command -v npm >/dev/null 2>&1; then
  npm install --no-audit --no-fund --silent >/dev/null
fi
