#!/usr/bin/env bash
# `make test`: every suite — C unit tests, fuzz corpus replay, the API suite
# with real OpenStack clients, the API suite again with PostgreSQL as the
# database (a server the tests start), then all of it again under ASan + UBSan.
# `scripts/test.sh tree|unit|api|api-pg|asan` runs one part (unit includes tree).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
PY=/usr/bin/python3
SAN_FLAGS="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The tree's own rules: layer includes, docs/ARCHITECTURE.md's file list, IMS error codes.
run_tree() {
  echo "== tree checks"
  $PY tests/tree/check_layers.py
  $PY tests/tree/check_error_codes.py
}

run_unit() {
  local build=$1
  echo "== unit tests ($build)"
  for t in "$build"/tests/test_*; do
    "$t"
  done
  echo "== fuzz corpus replay ($build)"
  for r in "$build"/fuzz-replay/fuzz_*; do
    [ -x "$r" ] || continue
    name=${r##*/fuzz_}
    "$r" "fuzz/corpus/$name"
  done
}

run_api() {
  local build=$1
  echo "== API tests against $build/imsd"
  IMSD_BIN="$PWD/$build/imsd" IMSCTL_BIN="$PWD/$build/imsctl" \
    $PY -m pytest -q -p no:cacheprovider tests/api
}

# Every imsd of the suite on a database of its own on one PostgreSQL server
# (tests/api/pg_fixture.py starts it in a temporary directory) and its image
# data in a bucket of its own on one Swift s3api server (the S3 store;
# tests/api/obs_fixtures.py starts it).
run_api_pg() {
  local build=$1
  echo "== API tests on PostgreSQL and the S3 store against $build/imsd"
  IMSD_TEST_DATABASE=postgresql IMSD_TEST_STORE=s3 IMSD_BIN="$PWD/$build/imsd" IMSCTL_BIN="$PWD/$build/imsctl" \
    $PY -m pytest -q -p no:cacheprovider tests/api
}

build_asan() {
  make --no-print-directory -j"$(nproc)" BUILD=build-asan CFLAGS="$SAN_FLAGS" all >/dev/null
}

case $what in
  tree) run_tree ;;
  unit) run_tree; run_unit build ;;
  api) run_api build ;;
  api-pg) run_api_pg build ;;
  asan) build_asan; run_unit build-asan; run_api build-asan ;;
  all)
    run_tree
    run_unit build
    run_api build
    run_api_pg build
    build_asan
    run_unit build-asan
    run_api build-asan
    ;;
  *) echo "usage: $0 [tree|unit|api|api-pg|asan|all]" >&2; exit 2 ;;
esac
