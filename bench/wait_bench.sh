#!/usr/bin/env bash
# bench/wait_bench.sh — serving while waiting on a remote database (see bench/README.md).
#
# imsd on PostgreSQL reached through bench/latency_proxy.py, which delays
# every chunk BENCH_DELAY_MS (default 5) each way: a database on the
# network. Catalog GETs (GET /v2/images/{id}, random ids; BENCH_FAST_CONNS
# connections) are measured alone, then while BENCH_SLOW_CONNS connections
# send slow requests next to them (PATCHes: a write of several round
# trips). Twice: handlers on the event loop ([server] handler_threads = 0)
# and on the handler pool (the default with PostgreSQL). Prints the GETs'
# p99 with the slow requests against without them (target: within 2x).
set -euo pipefail

DELAY=${BENCH_DELAY_MS:-5}
IMAGES=${BENCH_IMAGES:-300}
FAST=${BENCH_FAST_CONNS:-4}
SLOW=${BENCH_SLOW_CONNS:-8}
DURATION=${BENCH_DURATION:-8}
NAME=wait-bench
. "$(dirname "${BASH_SOURCE[0]}")/pg_common.sh"
log "delay ${DELAY} ms each way"

proxyport=$(free_port)
python3 "$here/latency_proxy.py" "$proxyport" 127.0.0.1 "$pgport" "$DELAY" > "$tmp/proxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q ready "$tmp/proxy.log" 2>/dev/null && break; sleep 0.1; done

# measure <label> <handler_threads>
declare -A P99 RPS
measure() {
  local label=$1 threads=$2 url pid db
  db=wait_$label
  new_db "$db" >/dev/null
  printf '[server]\nthreads = 2\nhandler_threads = %s\n[database]\nconnection = postgresql://imsd@127.0.0.1:%s/%s\n' \
    "$threads" "$proxyport" "$db" > "$tmp/$label.ini"
  start_imsd "$label" "$BUILD"
  url=$IMSD_URL pid=$IMSD_PID
  catalog_of "$label" "$url"
  local quiet line slowline w1 w2
  wrk -t1 -c"$FAST" -d"${DURATION}s" --timeout 20s --latency -s "$BENCH_LUA_DIR/show.lua" "$url" > "$tmp/$label-quiet.txt" 2>&1 || true
  quiet=$(grep '^BENCH ' "$tmp/$label-quiet.txt" || true)
  wrk -t1 -c"$SLOW" -d"$((DURATION + 2))s" --timeout 20s --latency -s "$BENCH_LUA_DIR/patch.lua" "$url" > "$tmp/$label-slow.txt" 2>&1 &
  w1=$!
  sleep 1
  wrk -t1 -c"$FAST" -d"${DURATION}s" --timeout 20s --latency -s "$BENCH_LUA_DIR/show.lua" "$url" > "$tmp/$label-busy.txt" 2>&1 || true
  wait "$w1" || true
  line=$(grep '^BENCH ' "$tmp/$label-busy.txt" || true)
  slowline=$(grep '^BENCH ' "$tmp/$label-slow.txt" || true)
  [ -n "$quiet" ] && [ -n "$line" ] || { cat "$tmp/$label-quiet.txt" "$tmp/$label-busy.txt"; die "$label: wrk gave no result"; }
  P99[$label.quiet]=$(field "$quiet" p99_ms); P99[$label.busy]=$(field "$line" p99_ms)
  log "$(printf '%-12s GET alone: %8s req/s p99 %8s ms | with %s slow conns: %8s req/s p99 %8s ms (slow PATCHes %s req/s p99 %s ms, codes %s / %s)  p99 ratio %s' \
    "$label" "$(field "$quiet" rps)" "${P99[$label.quiet]}" "$SLOW" "$(field "$line" rps)" "${P99[$label.busy]}" \
    "$(field "$slowline" rps)" "$(field "$slowline" p99_ms)" "$(field "$line" codes)" "$(field "$slowline" codes)" \
    "$(awk -v a="${P99[$label.busy]}" -v b="${P99[$label.quiet]}" 'BEGIN{printf "%.2f", (b>0?a/b:0)}')")"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

measure event_loop 0
measure pool 16
log "target: GET p99 with slow requests within 2x of without, on the pool: $(awk -v a="${P99[pool.busy]}" -v b="${P99[pool.quiet]}" 'BEGIN{r=(b>0?a/b:0); printf "%.2f (%s)", r, (r<=2?"ok":"MISSED")}'); load average now $(cut -d' ' -f1-3 /proc/loadavg)"
