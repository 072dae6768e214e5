#!/usr/bin/env bash
# bench/nodes_bench.sh — several imsd nodes on one PostgreSQL (see bench/README.md).
#
# One run: a single imsd on SQLite (the baseline), then 1, 2 and 3 imsd
# nodes on one PostgreSQL database (Debian's server, started on loopback by
# tests/fixtures/start-postgres.sh in a temp dir). For each: the same images
# (BENCH_IMAGES, created through the first node), then wrk against every node
# at once (the load spread: BENCH_CONNS connections split over the nodes, one
# wrk per node, their req/s summed): list (GET /v2/images?limit=25), get
# (GET /v2/images/{id}, random ids), patch (PATCH /name of random images:
# writes that run side by side on PostgreSQL) and create (POST /v2/images).
# Prints each figure and its ratio to the SQLite one. Exits 0 whether the
# figures are good or not; non-zero only when it cannot run.
set -euo pipefail

IMAGES=${BENCH_IMAGES:-2000}
CONNS=${BENCH_CONNS:-24}
DURATION=${BENCH_DURATION:-8}
NODES=${BENCH_NODES:-"1 2 3"}
NAME=nodes-bench
. "$(dirname "${BASH_SOURCE[0]}")/pg_common.sh"

key=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$tmp/store"

# start_node <name> <database-connection or ""> -> IMSD_URL, IMSD_PID
start_node() {
  local name=$1 db=$2
  {
    printf '[images]\nquota_default = 100000\n[identity]\ntoken_key = %s\n[storage]\nfile_dir = %s\n' "$key" "$tmp/store"
    [ -z "$db" ] || printf '[database]\nconnection = %s\n' "$db"
  } > "$tmp/$name.ini"
  start_imsd "$name" "$BUILD"
}

# load <label> <lua> <path or ""> <url>...: one wrk per url at once, CONNS split; sums req/s, worst p99
declare -A RPS P99
load() {
  local label=$1 lua=$2 path=$3; shift 3
  local n=$# c i=0 files=() wrks=() rps=0 p99=0 line bad=0
  c=$(( CONNS / n > 1 ? CONNS / n : 2 ))
  for u in "$@"; do
    i=$((i + 1))
    BENCH_PATH=$path wrk -t1 -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$BENCH_LUA_DIR/$lua" "$u" \
      > "$tmp/wrk-$label-$i.txt" 2>&1 &
    wrks+=($!); files+=("$tmp/wrk-$label-$i.txt")
  done
  for w in "${wrks[@]}"; do wait "$w" || true; done
  for f in "${files[@]}"; do
    line=$(grep '^BENCH ' "$f" || true)
    [ -n "$line" ] || { log "$label: wrk gave no result:"; sed 's/^/    /' "$f"; return 0; }
    rps=$(awk -v a="$rps" -v b="$(field "$line" rps)" 'BEGIN{printf "%.1f", a+b}')
    p99=$(awk -v a="$p99" -v b="$(field "$line" p99_ms)" 'BEGIN{printf "%.3f", (b>a?b:a)}')
    bad=$(( bad + $(field "$line" non2xx) + $(field "$line" errors) ))
  done
  RPS[$label]=$rps; P99[$label]=$p99
  log "$(printf '%-14s %9s req/s  p99 %8s ms  errors %s' "$label" "$rps" "$p99" "$bad")"
}

# run_setup <label> <url>...: images through the first node, then the loads
run_setup() {
  local label=$1; shift
  local first=$1
  catalog_of "$label" "$first"
  log "$label: $(wc -l < "$BENCH_IDS") images created through $first"
  load "$label.list" get.lua "/v2/images?limit=25" "$@"
  load "$label.get" show.lua "" "$@"
  load "$label.patch" patch.lua "" "$@"
  load "$label.create" post.lua "" "$@"
}

# ---- the SQLite baseline
start_node sqlite ""
run_setup sqlite "$IMSD_URL"
kill -TERM "$IMSD_PID"; wait "$IMSD_PID" 2>/dev/null || true

# ---- 1..3 nodes on PostgreSQL, each count on a database of its own
for n in $NODES; do
  dburl=$(new_db "bench$n")
  urls=(); started=()
  for i in $(seq "$n"); do
    start_node "pg$n-node$i" "$dburl"
    urls+=("$IMSD_URL"); started+=("$IMSD_PID")
  done
  run_setup "pg-$n" "${urls[@]}"
  for p in "${started[@]}"; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
done

# ---- summary
log "summary (req/s; ratio to one imsd on SQLite; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
for what in list get patch create; do
  line=$(printf '%-7s sqlite %9s' "$what" "${RPS[sqlite.$what]:-?}")
  for n in $NODES; do
    line+=$(printf '   pg x%s %9s (%s)' "$n" "${RPS[pg-$n.$what]:-?}" \
      "$(awk -v a="${RPS[pg-$n.$what]:-0}" -v b="${RPS[sqlite.$what]:-0}" 'BEGIN{printf "%.2f", (b>0?a/b:0)}')")
  done
  log "$line"
done
