#!/bin/sh
# Quick start 2: install Resguardo with its test tools and run the whole test suite.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh test
.venv/bin/ruff check src tests bench tools
.venv/bin/mypy
# Two processes or more (one per CPU, pytest-xdist); the failover cluster's tests share one.
exec .venv/bin/python -m pytest -n auto --dist loadgroup "$@"
