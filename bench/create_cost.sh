#!/usr/bin/env bash
# imsd's own cost per create (POST /v2/images): CPU time (utime + stime of
# the imsd process) and bytes written (/proc/PID/io wchar) over a wrk run
# of creates, divided by the creates answered; with the rate of the same run,
# and at the end each process's peak memory (VmHWM).
# On a machine other work shares, the rate moves with the load while the
# cost per request moves much less: compare builds by cost (Runs Y, AC).
#
#   bench/create_cost.sh [BUILD_DIR ...]   (default: build)
#
# Knobs: BENCH_ROUNDS (3, the builds interleaved), BENCH_SEED_SECS (1: creates
# before the first round), BENCH_DURATION (3 s per round), BENCH_THREADS /
# BENCH_CONNS (2 / 32). Each build gets a fresh data dir, SQLite, the file
# store. Needs wrk and curl.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
ROUNDS=${BENCH_ROUNDS:-3}
SEED_SECS=${BENCH_SEED_SECS:-1}
DURATION=${BENCH_DURATION:-3}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-32}
export BENCH_LUA_DIR=$here/lua
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(build)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imsd-create-cost.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wchar() { awk '/^wchar:/{print $2}' "/proc/$1/io"; }

urls=() tokens=() procs=()
for i in "${!builds[@]}"; do
  b=${builds[$i]}
  case $b in /*) ;; *) b=$repo/$b ;; esac
  [ -x "$b/imsd" ] || { echo "create_cost: $b/imsd not built" >&2; exit 1; }
  port=$(free_port) pw=bench-$RANDOM$RANDOM
  mkdir -p "$tmp/d$i"
  printf '[images]\nquota_default = 100000\n' > "$tmp/imsd$i.ini"
  IMSD_CONFIG=$tmp/imsd$i.ini IMSD_DATA_DIR=$tmp/d$i IMSD_LISTEN=127.0.0.1:$port IMSD_ADMIN_PASSWORD=$pw \
    IMSD_LOG_LEVEL=warning "$b/imsd" > "$tmp/imsd$i.log" 2>&1 &
  procs[$i]=$!; pids+=("$!")
  for _ in $(seq 300); do
    [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$port/" || true)" != 000 ] && break
    sleep 0.1
  done
  auth='{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"'$pw'"}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}'
  tokens[$i]=$(curl -s -m 10 -D - -o /dev/null -H 'Content-Type: application/json' -d "$auth" \
               "http://127.0.0.1:$port/v3/auth/tokens" | tr -d '\r' | awk 'tolower($1)=="x-subject-token:"{print $2}')
  [ -n "${tokens[$i]}" ] || { cat "$tmp/imsd$i.log"; echo "create_cost: no token from $b" >&2; exit 1; }
  urls[$i]=http://127.0.0.1:$port
  BENCH_TOKEN=${tokens[$i]} BENCH_HDRS="" wrk -t"$THREADS" -c"$CONNS" -d"${SEED_SECS}s" \
    -s "$BENCH_LUA_DIR/post.lua" "${urls[$i]}" > /dev/null 2>&1 || true
done

echo "create cost: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), wrk -t$THREADS -c$CONNS -d${DURATION}s, $ROUNDS rounds"
hz=$(getconf CLK_TCK)
for r in $(seq "$ROUNDS"); do
  for i in "${!builds[@]}"; do
    p=${procs[$i]}
    c0=$(cpu_ticks "$p") w0=$(wchar "$p")
    out=$(BENCH_TOKEN=${tokens[$i]} BENCH_HDRS="" wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s \
          -s "$BENCH_LUA_DIR/post.lua" "${urls[$i]}" 2>&1 || true)
    c1=$(cpu_ticks "$p") w1=$(wchar "$p")
    line=$(grep '^BENCH ' <<<"$out" || true)
    n=$(sed -n 's/.*codes=[^ ]*201:\([0-9]*\).*/\1/p' <<<"$line")
    rps=$(sed -n 's/.*rps=\([^ ]*\).*/\1/p' <<<"$line")
    [ -n "$n" ] && [ "$n" -gt 0 ] || { echo "round $r ${builds[$i]}: no creates: $line"; continue; }
    awk -v b="${builds[$i]}" -v r="$r" -v n="$n" -v rps="$rps" -v c=$((c1 - c0)) -v hz="$hz" -v w=$((w1 - w0)) \
      -v l="$(cut -d' ' -f1 /proc/loadavg)" \
      'BEGIN{printf "round %d  %-28s %7d creates %8s op/s  CPU %.3f ms/create  wrote %.1f KB/create  (load %s)\n",
             r, b, n, rps, c * 1000 / hz / n, w / 1024 / n, l}'
  done
done
# the peak each process reached over its creates (the create's answer is a
# rendered document: where threads kept their own, the commit threads held
# [images] document_cache_kib each)
for i in "${!builds[@]}"; do
  echo "peak ${builds[$i]}: $(awk '/^VmHWM:/{print $2, $3}' "/proc/${procs[$i]}/status")"
done
