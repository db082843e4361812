#!/bin/sh
# Quick start 1: install Resguardo and run it on demo data (SQLite file resguardo-demo.db).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
exec .venv/bin/resguardo demo "$@"
