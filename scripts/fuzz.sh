#!/usr/bin/env bash
# `make fuzz`: build every fuzz/fuzz_*.c target with libFuzzer + ASan + UBSan
# (clang) and let each search for FUZZ_SECONDS (default 60), starting from its
# committed corpus (fuzz/corpus/<target>/) and dictionary (fuzz/<target>.dict).
# Exits non-zero when any target finds a crash, leak, timeout or OOM, after
# every target ran, naming each reproducer (build-fuzz/<target>/crash-* …):
# fix the bug, then copy the reproducer into fuzz/corpus/<target>/ so every
# test run replays it.
#
# `scripts/fuzz.sh merge` (`make fuzz-merge`): adds to fuzz/corpus/<target>/
# only the inputs found by earlier runs (build-fuzz/<target>/corpus/) that
# reach code the committed corpus does not (libFuzzer -merge=1, which keeps
# the smallest input for each new feature), named by their SHA-1. Features
# are edges only (-use_counters=0): hit counts would keep ~3x the inputs
# for little more coverage, and the committed corpora are meant to stay small.
#
# Either form takes target names (token, range, ...) to do only those.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
out=build-fuzz
mode=run
if [ "${1:-}" = merge ]; then
  mode=merge
  shift
fi

# The library is compiled once with coverage instrumentation and sanitizers
# (the Makefile's rules, BUILD=build-fuzz); each target only links against it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cflags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"

targets=()
if [ $# -gt 0 ]; then
  for t in "$@"; do
    [ -f "fuzz/fuzz_$t.c" ] || { echo "no such fuzz target: fuzz/fuzz_$t.c" >&2; exit 2; }
    targets+=("$t")
  done
else
  for src in fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    t=${t#fuzz_}
    [ "$t" = main ] || targets+=("$t")
  done
fi
bins=()
for t in "${targets[@]}"; do bins+=("$out/fuzz-bin/fuzz_$t"); done
echo "== building ${#targets[@]} fuzz targets (clang, $out/)"
make --no-print-directory -j"$(nproc)" BUILD="$out" CC=clang CFLAGS="$cflags" "${bins[@]}"

failed=()
for t in "${targets[@]}"; do
  bin="$PWD/$out/fuzz-bin/fuzz_$t"
  dir="$out/$t"
  mkdir -p "$dir/corpus" "fuzz/corpus/$t"
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="$PWD/fuzz/$t.dict")

  if [ $mode = merge ]; then
    # Start from the committed corpus so that only what adds coverage to it
    # is added; existing committed inputs (regressions) are never dropped.
    tmp=$(mktemp -d "$out/merge-$t.XXXXXX")
    cp -pr "fuzz/corpus/$t/." "$tmp/"
    "$bin" -merge=1 -use_counters=0 "$tmp" "$dir/corpus" >"$dir/merge.log" 2>&1 ||
      { echo "fuzz $t: merge failed, see $dir/merge.log" >&2; failed+=("$t (merge)"); rm -rf "$tmp"; continue; }
    added=0
    for f in "$tmp"/*; do
      [ -f "$f" ] || continue
      name=$(sha1sum "$f" | cut -c1-40)
      cmp -s "$f" "fuzz/corpus/$t/$(basename "$f")" 2>/dev/null && continue
      [ -e "fuzz/corpus/$t/$name" ] && continue
      cp "$f" "fuzz/corpus/$t/$name"
      added=$((added + 1))
    done
    rm -rf "$tmp"
    echo "== $t: $added inputs added, $(ls "fuzz/corpus/$t" | wc -l) in fuzz/corpus/$t"
    continue
  fi

  echo "== $t (${secs}s)"
  # New inputs go to the first directory (build dir); the committed corpus
  # is only read. Artifacts (crash-, leak-, timeout-, oom-) go to $dir/.
  # Inputs up to 64 KiB: an S3 listing or a policy document outgrows the
  # 4 KiB libFuzzer would otherwise allow; 10 s for one input is a hang.
  rm -f "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*
  set +e
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$dir/" "${dict[@]}" "$dir/corpus" "fuzz/corpus/$t" >"$dir/log" 2>&1
  rc=$?
  set -e
  artifacts=$(ls "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-* 2>/dev/null || true)
  if [ $rc -ne 0 ] || [ -n "$artifacts" ]; then
    echo "FINDING in $t (exit $rc); log: $dir/log" >&2
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|ALARM|==[0-9]+== ERROR)' "$dir/log" | head -5 >&2 || true
    for a in $artifacts; do
      echo "  reproducer: $a (replay: $bin $a)" >&2
    done
    failed+=("$t")
  else
    awk '/^stat::number_of_executed_units/ {runs = $2} /^stat::new_units_added/ {added = $2}
         END {printf "   %s runs, %s new inputs (in %s)\n", runs, added, "'"$dir/corpus"'"}' "$dir/log"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: findings in: ${failed[*]}" >&2
  exit 1
fi
[ $mode = merge ] || echo "fuzz: ${#targets[@]} targets, ${secs}s each, no findings"
