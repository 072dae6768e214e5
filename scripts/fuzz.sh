#!/usr/bin/env bash
# `make fuzz`: build every fuzz/fuzz_*.c target with libFuzzer + ASan + UBSan
# (clang) and run each for FUZZ_SECONDS (default 60) on its corpus. New
# crashes land in build-fuzz/<target>/crash-*: copy them into
# fuzz/corpus/<target>/ once fixed, so the replay keeps testing them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-60}
out=build-fuzz
mkdir -p "$out"
flags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=gnu17 -D_GNU_SOURCE -Iinclude"
libs=$(pkg-config --libs libmicrohttpd jansson sqlite3 libcrypto libargon2 inih) 
# The library plus the data compiled into it (see the Makefile's GEN_OBJ).
make --no-print-directory build/gen/os_versions_data.c >/dev/null
lib_src="$(ls lib/*/*.c) build/gen/os_versions_data.c"
only=${1:-}
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  [ "$name" = fuzz_main ] && continue
  [ -n "$only" ] && [ "$name" != "fuzz_$only" ] && continue
  target=${name#fuzz_}
  mkdir -p "$out/$target" "fuzz/corpus/$target"
  echo "== $target (${secs}s)"
  clang $flags "$src" $lib_src -o "$out/$name" $libs -lpthread -lm
  # New inputs go to the build dir; the committed corpus is only read.
  mkdir -p "$out/$target/corpus"
  dict=(); [ -f "fuzz/$target.dict" ] && dict=(-dict="$PWD/fuzz/$target.dict")
  (cd "$out/$target" && "../$name" -max_total_time="$secs" -print_final_stats=0 "${dict[@]}" \
      corpus "$OLDPWD/fuzz/corpus/$target" 2>&1 | tail -3)
done
