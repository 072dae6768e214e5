#!/usr/bin/env bash
# bench/s3_wait_bench.sh — serving while waiting on a slow object store (see bench/README.md).
#
# imsd on SQLite (its handlers on the event loop) with its image data on
# the S3 store (Swift s3api, tests/fixtures/start-s3-server.sh) reached
# through bench/latency_proxy.py, which delays every chunk BENCH_DELAY_MS
# (default 20) each way and sends at most BENCH_KIBS (default 2048) KiB/s
# per connection and direction: a slow S3. Catalog GETs (GET
# /v2/images/{id}, random ids; BENCH_FAST_CONNS connections) are measured
# alone, then while BENCH_SLOW_CONNS clients download a BENCH_MIB image
# again and again (each download an S3 GET of its own: the node cache is
# off). Prints the GETs' p99 with the downloads against without them
# (target: within 2x), and the downloads done (each checked for its size).
# usage: bench/s3_wait_bench.sh [BUILD_DIR...]   (several: measured in turn,
# e.g. this build and main's)
set -euo pipefail

DELAY=${BENCH_DELAY_MS:-20}
KIBS=${BENCH_KIBS:-2048}
MIB=${BENCH_MIB:-4}
IMAGES=${BENCH_IMAGES:-300}
FAST=${BENCH_FAST_CONNS:-4}
SLOW=${BENCH_SLOW_CONNS:-8}
DURATION=${BENCH_DURATION:-8}
NAME=s3-wait-bench
BENCH_NO_PG=1
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=("${BENCH_BUILD:-build}")
BENCH_BUILD=${builds[0]}
. "$(dirname "${BASH_SOURCE[0]}")/pg_common.sh"

base=$((20000 + RANDOM % 4000 * 10))
s3env=$(S3_LOG_LEVEL=WARNING "$repo/tests/fixtures/start-s3-server.sh" "$tmp/s3" "$base") || die "the S3 server did not start"
eval "$s3env"
pg_stop=$S3_STOP # cleanup() stops it
s3port=${S3_ENDPOINT##*:}
s3port=${s3port%%/*}
proxyport=$(free_port)
python3 "$here/latency_proxy.py" "$proxyport" 127.0.0.1 "$s3port" "$DELAY" "$KIBS" > "$tmp/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q ready "$tmp/proxy.log" 2>/dev/null && break; sleep 0.1; done
log "S3 (Swift s3api) through a proxy adding ${DELAY} ms each way, ${KIBS} KiB/s per connection; ${MIB} MiB image"
head -c $((MIB << 20)) /dev/urandom > "$tmp/data"

# downloads <url> <token> <id> <seconds> <out>: one client downloading again and again
downloads() {
  local end=$(($(date +%s) + $4)) n=0 bad=0 size
  while [ "$(date +%s)" -lt "$end" ]; do
    size=$(curl -s -o /dev/null -m 120 -w '%{size_download}' -H "X-Auth-Token: $2" "$1/v2/images/$3/file" || true)
    if [ "$size" = $((MIB << 20)) ]; then n=$((n + 1)); else bad=$((bad + 1)); fi
  done
  echo "$n $bad" > "$5"
}

# measure <build>
declare -A P99
measure() {
  local build=$1 label url pid id quiet line ok=0 bad=0 n b w
  case $build in /*) ;; *) build=$repo/$build ;; esac
  label=$(basename "$build")-$RANDOM
  printf '[server]\nthreads = 2\n[cache]\nmax_size = 0\n[images]\nmax_image_size = %s\n[store]\nbackend = s3\nendpoint = http://127.0.0.1:%s\nregion = %s\nbucket = %s\naccess_key = %s\nsecret_key = %s\n' \
    $(((MIB + 1) << 20)) "$proxyport" "$S3_REGION" "b-${label//[^a-z0-9]/-}" "$S3_ACCESS_KEY" "$S3_SECRET_KEY" > "$tmp/$label.ini"
  start_imsd "$label" "$build"
  url=$IMSD_URL pid=$IMSD_PID
  catalog_of "$label" "$url"
  id=$(head -1 "$BENCH_IDS")
  curl -fsS -o /dev/null -X PUT -H "X-Auth-Token: $BENCH_TOKEN" -H 'Content-Type: application/octet-stream' \
    -T "$tmp/data" "$url/v2/images/$id/file" || die "$label: upload failed"
  wrk -t1 -c"$FAST" -d"${DURATION}s" --timeout 20s --latency -s "$BENCH_LUA_DIR/show.lua" "$url" > "$tmp/$label-quiet.txt" 2>&1 || true
  quiet=$(grep '^BENCH ' "$tmp/$label-quiet.txt" || true)
  local dl=()
  for i in $(seq "$SLOW"); do
    downloads "$url" "$BENCH_TOKEN" "$id" "$((DURATION + 2))" "$tmp/$label-dl$i" &
    dl+=($!)
  done
  sleep 1
  wrk -t1 -c"$FAST" -d"${DURATION}s" --timeout 20s --latency -s "$BENCH_LUA_DIR/show.lua" "$url" > "$tmp/$label-busy.txt" 2>&1 || true
  for w in "${dl[@]}"; do wait "$w" || true; done
  for i in $(seq "$SLOW"); do read -r n b < "$tmp/$label-dl$i"; ok=$((ok + n)); bad=$((bad + b)); done
  line=$(grep '^BENCH ' "$tmp/$label-busy.txt" || true)
  [ -n "$quiet" ] && [ -n "$line" ] || { cat "$tmp/$label-quiet.txt" "$tmp/$label-busy.txt"; die "$label: wrk gave no result"; }
  P99[$label.quiet]=$(field "$quiet" p99_ms); P99[$label.busy]=$(field "$line" p99_ms)
  log "$(printf '%-28s GET alone: %8s req/s p99 %8s ms | with %s slow downloads: %8s req/s p99 %8s ms (codes %s; downloads %s whole, %s not)  p99 ratio %s (target <= 2: %s)' \
    "${build#"$repo"/}" \
    "$(field "$quiet" rps)" "${P99[$label.quiet]}" "$SLOW" "$(field "$line" rps)" "${P99[$label.busy]}" \
    "$(field "$line" codes)" "$ok" "$bad" \
    "$(awk -v a="${P99[$label.busy]}" -v b="${P99[$label.quiet]}" 'BEGIN{printf "%.2f", (b>0?a/b:0)}')" \
    "$(awk -v a="${P99[$label.busy]}" -v b="${P99[$label.quiet]}" 'BEGIN{print (b>0 && a/b<=2 ? "ok" : "MISSED")}')")"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

for b in "${builds[@]}"; do measure "$b"; done
log "load average now $(cut -d' ' -f1-3 /proc/loadavg)"
