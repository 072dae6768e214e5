#!/usr/bin/env bash
# `make run`: start imsd in the foreground on its embedded default (SQLite +
# files). IMSD_* variables override the defaults (see `build/imsd --help`).
set -euo pipefail
build=${1:-build}
export IMSD_DATA_DIR=${IMSD_DATA_DIR:-$PWD/var}
export IMSD_LISTEN=${IMSD_LISTEN:-127.0.0.1:9292}
exec "$build/imsd"
