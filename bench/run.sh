#!/usr/bin/env bash
# bench/run.sh — imsd throughput/latency/memory benchmark (see bench/README.md).
#
# Starts its own imsd (and, with BENCH_GLANCE=1, Debian's glance-api) on free
# loopback ports with fresh temp dirs, runs the same workload against each,
# and prints figures, ratios and the project's targets. Not a test: it exits 0
# whether or not the targets are met (non-zero only if it could not run).
#
# Knobs (environment):
#   BENCH_BUILD=build          build dir holding imsd
#   BENCH_IMAGES=10000         images to create before the read tests
#   BENCH_TAGGED=100           how many of them get the tag used by tag=
#   BENCH_THREADS=2 BENCH_CONNS=32 BENCH_DURATION=10   wrk -t -c -d (seconds)
#   BENCH_FILE_GB=4            size of the upload/download file (GiB, may be fractional)
#   BENCH_GLANCE=0             1: also benchmark Debian's glance-api (installs it)
#   BENCH_GLANCE_CREATE_SECS=150  cap on Glance's create phase (it is ~100x slower)
#   BENCH_CREATE_SECS=300      cap on imsd's create phase
#   BENCH_XFER_SECS=400        cap on each upload / download
#   BENCH_XFER_ROUNDS=3        rounds of (download again by curl / fetch.py, nginx, cat) in turn; the best of each is kept
#   BENCH_OUT=FILE             also write every figure as key=value lines to FILE
#   TMPDIR                     where the temp dir (file + data dirs) goes; needs
#                              ~2x BENCH_FILE_GB free (imsd's copy is deleted before Glance runs)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD=${BENCH_BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$repo/$BUILD ;; esac
IMAGES=${BENCH_IMAGES:-10000}
TAGGED=${BENCH_TAGGED:-100}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-32}
DURATION=${BENCH_DURATION:-10}
FILE_GB=${BENCH_FILE_GB:-4}
GLANCE=${BENCH_GLANCE:-0}
GLANCE_CREATE_SECS=${BENCH_GLANCE_CREATE_SECS:-150}
CREATE_SECS=${BENCH_CREATE_SECS:-300}
XFER_SECS=${BENCH_XFER_SECS:-400}
XFER_ROUNDS=${BENCH_XFER_ROUNDS:-3}
OUT=${BENCH_OUT:-}
case $OUT in ''|/*) ;; *) OUT=$PWD/$OUT ;; esac
export BENCH_LUA_DIR=$here/lua

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- tools
need=()
for t in wrk:wrk curl:curl openssl:openssl jq:jq python3:python3 nginx:nginx-light; do
  command -v "${t%%:*}" >/dev/null || need+=("${t#*:}")
done
if [ "$GLANCE" = 1 ] && ! command -v glance-api >/dev/null; then need+=(glance-api); fi
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing: ${need[*]} (apt-get install them, or run as root)"
  log "installing: ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi
[ -x "$BUILD/imsd" ] || die "$BUILD/imsd not built (make all)"

# ---------------------------------------------------------------- cleanup
tmp=$(mktemp -d "${TMPDIR:-/tmp}/imsd-bench.XXXXXX")
pids=()          # everything we start in the background (daemons, samplers, wrk)
cleanup() {
  local p c
  for p in "${pids[@]}"; do
    kill -0 "$p" 2>/dev/null || continue
    for c in $(pgrep -P "$p" 2>/dev/null); do kill -TERM "$c" 2>/dev/null || true; done
    kill -TERM "$p" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$p" 2>/dev/null; then
      for c in $(pgrep -P "$p" 2>/dev/null); do kill -KILL "$c" 2>/dev/null || true; done
      kill -KILL "$p" 2>/dev/null || true
    fi
  done
  [ -f "$tmp/nginx.started" ] && kill -TERM "$(cat "$tmp/nginx.started")" 2>/dev/null  # started by nginx_start
  [ -f "$tmp/bound.started" ] && kill -TERM "$(cat "$tmp/bound.started")" 2>/dev/null  # started by bound_start
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$tmp"        # nothing the bench writes lands in the caller's directory

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Sum of VmRSS (kB) of the given processes, into RSS_KB, with bash builtins
# only: on this VM a fork is so costly that sampling with awk and pgrep every
# 100 ms took a third of a core from the server being measured (imsd's list
# 11k -> 6.6k req/s).
rss_sum() {
  local p key val sum=0
  for p in "$@"; do
    [ -r "/proc/$p/status" ] || continue
    while read -r key val _; do
      if [ "$key" = VmRSS: ]; then sum=$((sum + val)); break; fi
    done < "/proc/$p/status"
  done
  RSS_KB=$sum
}
# VmRSS (kB) of a process and its direct children (Glance forks workers).
rss_kb() { rss_sum "$1" $(pgrep -P "$1" 2>/dev/null); echo "$RSS_KB"; }
hwm_kb() { awk '/^VmHWM:/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Background sampler: keeps the largest RSS of $1 and its children (as they
# are when it starts) in file $2, every 100 ms, without forking: the pause is
# a read that times out on a fifo nobody writes.
sampler_pid=
start_sampler() {
  local kids
  kids=$(pgrep -P "$1" 2>/dev/null | tr '\n' ' ' || true)
  ( fifo=$tmp/sampler.$BASHPID.fifo; mkfifo "$fifo"; exec 3<>"$fifo"; rm -f "$fifo"
    max=0
    # shellcheck disable=SC2086
    while kill -0 "$1" 2>/dev/null; do
      rss_sum "$1" $kids
      if [ "$RSS_KB" -gt "$max" ]; then max=$RSS_KB; echo "$max" > "$2"; fi
      read -r -t 0.1 -u 3 _ || true
    done ) &
  sampler_pid=$!; pids+=("$sampler_pid")
}
stop_sampler() { kill "$sampler_pid" 2>/dev/null || true; wait "$sampler_pid" 2>/dev/null || true; }

wait_http() { # url pid: until the server answers anything
  for _ in $(seq 600); do
    kill -0 "$2" 2>/dev/null || return 1
    [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" || true)" != 000 ] && return 0
    sleep 0.1
  done
  return 1
}

# ---------------------------------------------------------------- results
declare -A R
# a >= b, as numbers (the transfer rounds keep their best; the report's targets)
ge() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN{exit !(a+0 >= b+0)}'; }
put() { R[$1]=$2; [ -z "$OUT" ] || echo "$1=$2" >> "$OUT"; }
best() { ge "${R[$1]:-0}" "$2" || put "$1" "$2"; }  # key value: keep the larger
field() { sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<"$1"; }

# run_wrk <sys> <key> <lua> <url>: one wrk measurement; stores rps/p99/errors.
run_wrk() {
  local sys=$1 key=$2 lua=$3 url=$4 out line
  out=$tmp/wrk-$sys-$key.txt
  alive "$sys" || return 0
  wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 10s --latency \
      -s "$BENCH_LUA_DIR/$lua" "$url" > "$out" 2>&1 || true
  alive "$sys" || log "$sys: died during $key"
  line=$(grep '^BENCH ' "$out" || true)
  [ -n "$line" ] || { log "$sys $key: wrk gave no result:"; sed 's/^/    /' "$out"; return 0; }
  put "$sys.$key.rps" "$(field "$line" rps)"
  put "$sys.$key.p99_ms" "$(field "$line" p99_ms)"
  put "$sys.$key.errors" "$(( $(field "$line" non2xx) + $(field "$line" errors) ))"
  put "$sys.$key.codes" "$(field "$line" codes)"
  log "$(printf '%-6s %-12s %9s req/s  p50 %8s ms  p99 %8s ms  codes %s  socket-errors %s' \
      "$sys" "$key" "$(field "$line" rps)" "$(field "$line" p50_ms)" "$(field "$line" p99_ms)" \
      "$(field "$line" codes)" "$(field "$line" errors)")"
}

# create_images <sys> <url> <count> <cap-seconds>
create_images() {
  local sys=$1 url=$2 count=$3 cap=$4 wp line cl
  local out=$tmp/wrk-$sys-create.txt donedir=$tmp/done-$sys
  mkdir -p "$donedir"
  BENCH_QUOTA=$(( (count + THREADS - 1) / THREADS )) BENCH_DONE_DIR=$donedir BENCH_PREFIX=bench \
    wrk -t"$THREADS" -c"$CONNS" -d"${cap}s" --timeout 30s -s "$BENCH_LUA_DIR/create.lua" "$url" \
    > "$out" 2>&1 &
  wp=$!; pids+=("$wp")
  while kill -0 "$wp" 2>/dev/null && [ "$(ls "$donedir" | wc -l)" -lt "$THREADS" ]; do sleep 0.05; done
  kill -INT "$wp" 2>/dev/null || true
  wait "$wp" || true
  alive "$sys" || die "$sys: died during the create phase"
  line=$(grep '^BENCH ' "$out" || true); cl=$(grep '^CREATE ' "$out" || true)
  [ -n "$cl" ] || { sed 's/^/    /' "$out"; die "$sys: create phase gave no result"; }
  put "$sys.create.rps" "$(field "$cl" rate)"
  put "$sys.create.p99_ms" "$(field "$line" p99_ms)"
  put "$sys.create.errors" "$(( $(field "$line" non2xx) + $(field "$line" errors) ))"
  put "$sys.create.codes" "$(field "$line" codes)"
  put "$sys.create.capped" "$(field "$cl" unfinished)"
  log "$(printf '%-6s %-12s %9s op/s   p99 %8s ms  %s responses in %s s  codes %s%s' \
      "$sys" create "$(field "$cl" rate)" "$(field "$line" p99_ms)" "$(field "$cl" responses)" \
      "$(field "$cl" secs)" "$(field "$line" codes)" \
      "$([ -n "$(field "$cl" unfinished)" ] && echo "  (stopped by the ${cap}s cap)")")"
}

# collect_ids <sys> <url> <curl-header-args...>: all image ids (newest first) to $tmp/ids-<sys>
collect_ids() {
  local sys=$1 url=$2; shift 2
  local page marker="" f
  f=$tmp/ids-$sys
  : > "$f"
  while :; do
    page=$(curl -sf -m 60 "$@" "$url/v2/images?limit=1000${marker:+&marker=$marker}") \
      || die "$sys: listing images failed"
    jq -r '.images[].id' <<<"$page" >> "$f"
    [ "$(jq '.images|length' <<<"$page")" -gt 0 ] || break
    jq -e '.next' <<<"$page" >/dev/null || break
    marker=$(tail -n1 "$f")
  done
  wc -l < "$f" | tr -d ' '
}

# settle <url> <curl-header-args...>: after a load run the server may still be
# working through requests wrk abandoned (Glance: seconds each); wait (≤ 60 s)
# until a small GET answers in < 0.5 s twice in a row.
settle() {
  local url=$1 t ok=0; shift
  for _ in $(seq 120); do
    t=$(curl -s -o /dev/null -m 10 -w '%{time_total}' "$@" "$url/v2/images?limit=1" || echo 10)
    if awk -v t="$t" 'BEGIN{exit !(t < 0.5)}'; then ok=$((ok + 1)); [ $ok -ge 2 ] && return 0; else ok=0; fi
    sleep 0.5
  done
}

# workload <sys> <url> <curl-header-args...>: everything after startup.
workload() {
  local sys=$1 url=$2; shift 2
  local n ids name mid

  settle "$url" "$@"
  n=$(collect_ids "$sys" "$url" "$@")
  put "$sys.images" "$n"
  log "$sys: $n images in the store"
  [ "$n" -gt 0 ] || die "$sys: no images"
  ids=$tmp/ids-$sys
  export BENCH_IDS=$ids

  # Tag BENCH_TAGGED images spread over the set (one curl, one connection).
  local step=$(( n / TAGGED > 0 ? n / TAGGED : 1 )) urls=() codes
  mapfile -t urls < <(awk -v s="$step" -v m="$TAGGED" -v u="$url" \
      'NR % s == 1 % s && c < m { c++; print u "/v2/images/" $1 "/tags/bench-hot" }' "$ids")
  codes=$(curl -s -m 120 -X PUT "$@" -o /dev/null -w '%{http_code}\n' "${urls[@]}" | sort | uniq -c | tr -s ' \n' ' ')
  log "$sys: tagged ${#urls[@]} images bench-hot (HTTP:${codes})"

  mid=$(sed -n "$(( (n + 1) / 2 ))p" "$ids")
  name=$(curl -sf -m 30 "$@" "$url/v2/images/$(sed -n "$(( (n + 3) / 4 ))p" "$ids")" | jq -r .name)
  put "$sys.list_name.filter" "$name"

  start_sampler "$pid" "$tmp/rss-$sys-wrk"
  BENCH_PATH="/v2/images?limit=25" run_wrk "$sys" list get.lua "$url"
  BENCH_PATH="/v2/images?limit=25&marker=$mid" run_wrk "$sys" list_marker get.lua "$url"
  BENCH_PATH="/v2/images?limit=25&name=$name" run_wrk "$sys" list_name get.lua "$url"
  BENCH_PATH="/v2/images?limit=25&tag=bench-hot" run_wrk "$sys" list_tag get.lua "$url"
  run_wrk "$sys" get show.lua "$url"
  run_wrk "$sys" patch patch.lua "$url"
  stop_sampler
  put "$sys.rss_peak_wrk_kb" "$(cat "$tmp/rss-$sys-wrk" 2>/dev/null || echo 0)"

  # Upload / download of the big file.
  local id res code t size
  alive "$sys" || return 0
  settle "$url" "$@"
  start_sampler "$pid" "$tmp/rss-$sys-xfer"
  id=$(curl -sf -m 30 "$@" -H 'Content-Type: application/json' -X POST "$url/v2/images" \
       -d '{"name":"bench-big","disk_format":"raw","container_format":"bare"}' | jq -r .id) || true
  if [ -z "$id" ]; then
    alive "$sys" || true
    log "$sys: could not create the image to upload to; skipping upload/download"
    stop_sampler
    return 0
  fi
  sync
  res=$(curl -s -m "$XFER_SECS" "$@" -H 'Content-Type: application/octet-stream' -H 'Expect:' \
        -T "$bigfile" -o "$tmp/upload-$sys.body" -w '%{http_code} %{time_total}' "$url/v2/images/$id/file" || true)
  code=${res%% *}; t=${res#* }
  put "$sys.upload.http" "$code"
  put "$sys.upload.secs" "$t"
  put "$sys.upload.mbps" "$(awk -v b="$bytes" -v t="$t" 'BEGIN{printf "%.1f", (t > 0 ? b / t / 1e6 : 0)}')"
  log "$sys: upload of $bytes bytes: HTTP $code in $t s = ${R[$sys.upload.mbps]} MB/s"
  if [ "$code" != 204 ]; then
    log "$sys: upload failed, body:"; head -c 600 "$tmp/upload-$sys.body" 2>/dev/null | sed 's/^/    /'; echo
    log "$sys: last errors in its log:"; grep -E 'ERROR|CRITICAL|error' "$daemon_log" 2>/dev/null | tail -n 8 | cut -c1-400 | sed 's/^/    /'
  fi
  alive "$sys" || { stop_sampler; return 0; }
  local meta; meta=$(curl -sf -m 30 "$@" "$url/v2/images/$id" || echo '{}')
  put "$sys.upload.status" "$(jq -r .status <<<"$meta")"
  if [ "$(jq -r .checksum <<<"$meta")" = "$md5" ] && [ "$(jq -r .os_hash_value <<<"$meta")" = "$sha512" ]; then
    put "$sys.upload.digests" ok
  else
    put "$sys.upload.digests" "MISMATCH (checksum $(jq -r .checksum <<<"$meta"))"
  fi
  res=$(curl -s -m "$XFER_SECS" "$@" -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
        "$url/v2/images/$id/file" || true)
  code=${res%% *}; size=$(awk '{print $2}' <<<"$res"); t=$(awk '{print $3}' <<<"$res")
  put "$sys.download.http" "$code"
  put "$sys.download.bytes" "$size"
  put "$sys.download.mbps" "$(awk -v b="$size" -v t="$t" 'BEGIN{printf "%.1f", (t > 0 ? b / t / 1e6 : 0)}')"
  log "$sys: download: HTTP $code, $size bytes in $t s = ${R[$sys.download.mbps]} MB/s"
  # The same download again (the page cache holds what the first read), and
  # cat of the stored file, warm and cold, as the limit of each: the first
  # download reads a file the upload wrote past the page cache.
  res=$(curl -s -m "$XFER_SECS" "$@" -o /dev/null -w '%{http_code} %{size_download} %{time_total}' \
        "$url/v2/images/$id/file" || true)
  t=$(awk '{print $3}' <<<"$res")
  put "$sys.download_warm.mbps" "$(awk -v b="$(awk '{print $2}' <<<"$res")" -v t="$t" 'BEGIN{printf "%.1f", (t > 0 ? b / t / 1e6 : 0)}')"
  log "$sys: download again: HTTP ${res%% *} in $t s = ${R[$sys.download_warm.mbps]} MB/s"
  local blob
  blob=$(find "$blob_dir" -type f -size "+$(( bytes / 1024 - 1 ))k" 2>/dev/null | head -n1)
  if [ -n "$blob" ]; then
    put "$sys.cat_warm.mbps" "$(cat_mbps "$blob" warm)"
    put "$sys.cat_cold.mbps" "$(cat_mbps "$blob" cold)"
    log "$sys: cat of the stored file: warm ${R[$sys.cat_warm.mbps]} MB/s, cold ${R[$sys.cat_cold.mbps]} MB/s"
    # The download again through curl and through bench/fetch.py (recv:
    # read like cat reads, nothing written; splice: never copied into the
    # client), for imsd also nginx and the bound (bench/sendfile_bound.py:
    # one blocking sendfile and nothing else, the reference server) serving the
    # same file to the same clients, and a warm cat: in turn, so all see the
    # same load; the best of each is kept.
    local nurl= burl= i
    [ "$sys" = imsd ] && nurl=$(nginx_start "$blob") && burl=$(bound_start "$blob")
    for i in $(seq "$XFER_ROUNDS"); do
      best "$sys.download_warm.mbps" "$(fetch_mbps "$url/v2/images/$id/file" "$@")"
      best "$sys.fetch_warm.mbps" "$(fetchpy_mbps recv "$url/v2/images/$id/file" "$@")"
      best "$sys.splice_warm.mbps" "$(fetchpy_mbps splice "$url/v2/images/$id/file" "$@")"
      if [ -n "$nurl" ]; then
        best nginx.download_warm.mbps "$(fetch_mbps "$nurl")"
        best nginx.fetch_warm.mbps "$(fetchpy_mbps recv "$nurl")"
        best nginx.splice_warm.mbps "$(fetchpy_mbps splice "$nurl")"
      fi
      if [ -n "$burl" ]; then
        best bound.download_warm.mbps "$(fetch_mbps "$burl")"
        best bound.fetch_warm.mbps "$(fetchpy_mbps recv "$burl")"
        best bound.splice_warm.mbps "$(fetchpy_mbps splice "$burl")"
      fi
      best "$sys.cat_warm.mbps" "$(cat_mbps "$blob" warm)"
      log "round $i (best so far): $sys curl ${R[$sys.download_warm.mbps]}, fetch.py ${R[$sys.fetch_warm.mbps]}, splice ${R[$sys.splice_warm.mbps]}$( [ -z "$nurl" ] || echo "; nginx curl ${R[nginx.download_warm.mbps]}, fetch.py ${R[nginx.fetch_warm.mbps]}, splice ${R[nginx.splice_warm.mbps]}")$( [ -z "$burl" ] || echo "; bound curl ${R[bound.download_warm.mbps]}, fetch.py ${R[bound.fetch_warm.mbps]}, splice ${R[bound.splice_warm.mbps]}"); cat warm ${R[$sys.cat_warm.mbps]} MB/s"
    done
    bound_stop
    if [ -n "$nurl" ]; then
      # imsd's cold download again, its pages dropped as nginx's and cat's
      # are: the first one follows the upload at once (bench/README.md, Run CO)
      drop_pages "$blob"
      put "$sys.download_cold_dropped.mbps" "$(fetch_mbps "$url/v2/images/$id/file" "$@")"
      drop_pages "$blob"
      put nginx.download_cold.mbps "$(fetch_mbps "$nurl")"
      nginx_stop
      log "cold, pages dropped: $sys ${R[$sys.download_cold_dropped.mbps]} MB/s, nginx ${R[nginx.download_cold.mbps]} MB/s"
    fi
  fi
  alive "$sys" || true
  stop_sampler
  put "$sys.rss_peak_xfer_kb" "$(cat "$tmp/rss-$sys-xfer" 2>/dev/null || echo 0)"
}

# cat_mbps <file> warm|cold: MB/s of cat reading the file to /dev/null, from
# the page cache (read once first) or after its pages were dropped. Cold
# waits 5 s after the drop: on a VM that reports free pages to its host
# (virtio_balloon), pages freed a moment ago are filled at 5x the speed of
# pages the host took back, which is what the first download fills.
cat_mbps() {
  local t0 t1
  if [ "$2" = cold ]; then
    drop_pages "$1"
  else
    cat "$1" > /dev/null
  fi
  t0=$(date +%s.%N); cat "$1" > /dev/null; t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v n="$(stat -c %s "$1")" 'BEGIN{printf "%.1f", n/(b-a)/1e6}'
}

# fetch_mbps <url> [curl args]: MB/s of curl fetching url to /dev/null.
fetch_mbps() {
  local u=$1 res; shift
  res=$(curl -sf -m "$XFER_SECS" "$@" -o /dev/null -w '%{size_download} %{time_total}' "$u" || echo "0 0")
  awk -v b="${res% *}" -v t="${res#* }" 'BEGIN{printf "%.1f", (t > 0 ? b / t / 1e6 : 0)}'
}

# fetchpy_mbps recv|splice <url> [-H header]...: MB/s of bench/fetch.py
# fetching url (0 when the body was not whole).
fetchpy_mbps() {
  local mode=$1 u=$2 res; shift 2
  res=$(timeout "$XFER_SECS" /usr/bin/python3 "$here/fetch.py" --mode "$mode" "$@" "$u") || res="0 0 0 0"
  awk '{printf "%.1f", ($3 > 0 ? $2 / $3 / 1e6 : 0)}' <<<"$res"
}

# drop_pages <file>: its pages out of the page cache, then 5 s (cat_mbps says why).
drop_pages() {
  python3 -c 'import os,sys; fd=os.open(sys.argv[1],os.O_RDONLY); os.posix_fadvise(fd,0,0,os.POSIX_FADV_DONTNEED)' "$1"
  sleep 5
}

# nginx_start <file>: Debian's nginx-light (sendfile on, one worker) serving
# the file's directory on loopback, the limit of serving a file over HTTP on
# this machine with the same client as the downloads; prints the file's URL.
# nginx_stop ends it.
nginx_start() {
  local port conf
  port=$(free_port); conf=$tmp/nginx.conf
  # the temp dir is the bench user's only: nginx's worker runs as that user
  cat > "$conf" <<EOF
daemon off; user $(id -un) $(id -gn); worker_processes 1; pid $tmp/nginx.pid; error_log $tmp/nginx.err;
events { worker_connections 64; }
http { access_log off; sendfile on; tcp_nopush on; default_type application/octet-stream;
  client_body_temp_path $tmp; proxy_temp_path $tmp; fastcgi_temp_path $tmp; uwsgi_temp_path $tmp; scgi_temp_path $tmp;
  server { listen 127.0.0.1:$port; root $(dirname "$1"); } }
EOF
  nginx -c "$conf" -p "$tmp" >/dev/null 2>&1 &
  echo "$!" > "$tmp/nginx.started"
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
  echo "http://127.0.0.1:$port/$(basename "$1")"
}
# bound_start <file>: bench/sendfile_bound.py serving the file on loopback
# (one blocking sendfile of the whole file, imsd's socket options, no other
# work): what serving from the page cache reaches here with the same client;
# prints its URL. bound_stop ends it.
bound_start() {
  /usr/bin/python3 "$here/sendfile_bound.py" "$1" > "$tmp/bound.url" 2>/dev/null &
  echo "$!" > "$tmp/bound.started"
  for _ in $(seq 50); do [ -s "$tmp/bound.url" ] && break; sleep 0.1; done
  cat "$tmp/bound.url"
}
bound_stop() {
  local p; p=$(cat "$tmp/bound.started" 2>/dev/null) || return 0
  kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null || true
  rm -f "$tmp/bound.started"
}
nginx_stop() {
  local p; p=$(cat "$tmp/nginx.started" 2>/dev/null) || return 0
  kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null || true
  rm -f "$tmp/nginx.started"
}

# alive <sys>: is the daemon under test still running? If not, say how it
# ended (exit status / signal) and show the end of its log, once.
daemon_log=
alive() {
  kill -0 "$pid" 2>/dev/null && return 0
  if [ -z "${R[$1.died]:-}" ]; then
    local st=0; wait "$pid" 2>/dev/null || st=$?
    put "$1.died" "$( [ "$st" -gt 128 ] && echo "signal $((st - 128))" || echo "exit status $st")"
    log "$1: THE DAEMON IS GONE (${R[$1.died]}); end of its log:"
    tail -n 30 "$daemon_log" 2>/dev/null | sed 's/^/    /'
  fi
  return 1
}

stop_daemon() { # pid: SIGTERM, wait up to 30 s
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then
    log "pid $1 still running 30 s after SIGTERM: SIGKILL"
    for c in $(pgrep -P "$1" 2>/dev/null); do kill -KILL "$c" 2>/dev/null || true; done
    kill -KILL "$1" 2>/dev/null || true
  fi
  wait "$1" 2>/dev/null || true
}

# ================================================================ start
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD 2>/dev/null || commit="$commit+dirty"
[ -z "$OUT" ] || : > "$OUT"
put meta.date "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
put meta.commit "$commit"
put meta.cpus "$(nproc)"
put meta.load "$(cut -d' ' -f1-3 /proc/loadavg)"
log "imsd bench: commit $commit, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), wrk -t$THREADS -c$CONNS -d${DURATION}s"

# ---------------------------------------------------------------- the big file + baseline
bytes=$(awk -v g="$FILE_GB" 'BEGIN{printf "%.0f", g*1073741824}')
bigfile=$tmp/upload.bin
log "writing $bytes bytes of /dev/urandom to a temp file"
head -c "$bytes" /dev/urandom > "$bigfile"
t0=$(date +%s.%N); md5=$(openssl dgst -md5 -r "$bigfile" | cut -d' ' -f1)
t1=$(date +%s.%N); sha512=$(openssl dgst -sha512 -r "$bigfile" | cut -d' ' -f1)
t2=$(date +%s.%N)
put baseline.md5_secs "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')"
put baseline.sha512_secs "$(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.2f", b-a}')"
put baseline.mbps "$(awk -v a="$t0" -v b="$t2" -v n="$bytes" 'BEGIN{printf "%.1f", n/(b-a)/1e6}')"
log "baseline: openssl md5 ${R[baseline.md5_secs]} s + sha512 ${R[baseline.sha512_secs]} s = ${R[baseline.mbps]} MB/s"

# ---------------------------------------------------------------- imsd
port=$(free_port)
url=http://127.0.0.1:$port
pw=bench-$RANDOM$RANDOM
mkdir -p "$tmp/imsd"
# The default per-project image quota (10,000) is below what the bench
# creates: raise it when this imsd knows the setting.
: > "$tmp/imsd.ini"
if "$BUILD/imsd" --help 2>&1 | grep quota_default > /dev/null; then  # not -q: an early exit would SIGPIPE imsd and, with pipefail, fail the test
  printf '[images]\nquota_default = %d\n' $(( IMAGES * 2 + 1000 > 100000 ? 100000 : IMAGES * 2 + 1000 )) > "$tmp/imsd.ini"
fi
IMSD_CONFIG=$tmp/imsd.ini IMSD_DATA_DIR=$tmp/imsd IMSD_LISTEN=127.0.0.1:$port IMSD_ADMIN_PASSWORD=$pw IMSD_LOG_LEVEL=warning \
  "$BUILD/imsd" > "$tmp/imsd.log" 2>&1 &
pid=$!; pids+=("$pid"); daemon_log=$tmp/imsd.log
wait_http "$url/" "$pid" || { cat "$tmp/imsd.log"; die "imsd did not start"; }
sleep 1
put imsd.rss_idle_kb "$(rss_kb "$pid")"
log "imsd pid $pid on $url, idle RSS ${R[imsd.rss_idle_kb]} kB"

auth='{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"'$pw'"}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}'
token=$(curl -s -m 10 -D - -o /dev/null -H 'Content-Type: application/json' -d "$auth" "$url/v3/auth/tokens" \
        | tr -d '\r' | awk 'tolower($1)=="x-subject-token:"{print $2}')
[ -n "$token" ] || die "imsd: no token"
export BENCH_TOKEN=$token BENCH_HDRS=""

start_sampler "$pid" "$tmp/rss-imsd-create"
create_images imsd "$url" "$IMAGES" "$CREATE_SECS"
stop_sampler
blob_dir=$tmp/imsd/images   # where the stored file lands (cat_mbps)
workload imsd "$url" -H "X-Auth-Token: $token"
alive imsd || true
put imsd.rss_hwm_kb "$(hwm_kb "$pid")"
put imsd.db_bytes "$(stat -c %s "$tmp/imsd/imsd.db" 2>/dev/null || echo 0)"
put imsd.wal_bytes "$(stat -c %s "$tmp/imsd/imsd.db-wal" 2>/dev/null || echo 0)"
log "imsd: imsd.db ${R[imsd.db_bytes]} bytes, imsd.db-wal ${R[imsd.wal_bytes]} bytes after the workload"
stop_daemon "$pid"
grep -iE 'error|warn' "$tmp/imsd.log" | sort | uniq -c | sort -rn | head -5 | sed 's/^/    imsd log: /' || true
rm -rf "$tmp/imsd"

# ---------------------------------------------------------------- glance
if [ "$GLANCE" = 1 ]; then
  g=$tmp/glance
  gport=$(free_port)
  gurl=http://127.0.0.1:$gport
  mkdir -p "$g/images" "$g/lock" "$g/staging"
  cp /etc/glance/glance-api-paste.ini "$g/" 2>/dev/null || cp /usr/share/glance-common/glance-api-paste.ini "$g/"
  # noauth: the paste pipeline "glance-api" (empty flavor) uses
  # unauthenticated-context, which makes every request an admin context.
  # Per-request logging is turned down (imsd runs at warning too).
  cat > "$g/glance-api.conf" <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $gport
workers = $(nproc)
log_file = $g/glance-api.log
use_stderr = false
debug = false
default_log_levels = eventlet.wsgi.server=WARN,glance=WARN,sqlalchemy=WARN,amqp=WARN,oslo.messaging=WARN,stevedore=WARN,keystonemiddleware=WARN,routes.middleware=WARN,urllib3=WARN,requests=WARN,oslo_policy=WARN,glance_store=WARN
node_staging_uri = file://$g/staging
[database]
connection = sqlite:///$g/glance.sqlite
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = $g/images/
[oslo_concurrency]
lock_path = $g/lock
[paste_deploy]
flavor =
config_file = $g/glance-api-paste.ini
EOF
  log "glance: db_sync"
  (cd "$g" && timeout 120 glance-manage --config-file "$g/glance-api.conf" db_sync) > "$g/db_sync.log" 2>&1 \
    || { tail -20 "$g/db_sync.log"; die "glance-manage db_sync failed"; }
  (cd "$g" && exec glance-api --config-file "$g/glance-api.conf") > "$g/stdout.log" 2>&1 &
  pid=$!; pids+=("$pid"); daemon_log=$g/glance-api.log
  wait_http "$gurl/" "$pid" || { tail -20 "$g/stdout.log" "$g/glance-api.log"; die "glance-api did not start"; }
  # wait for its workers, then let it settle
  for _ in $(seq 100); do [ "$(pgrep -P "$pid" | wc -l)" -ge "$(nproc)" ] && break; sleep 0.1; done
  sleep 2
  put glance.rss_idle_kb "$(rss_kb "$pid")"
  log "glance-api pid $pid (+$(pgrep -P "$pid" | wc -l) workers) on $gurl, idle RSS ${R[glance.rss_idle_kb]} kB (sum over processes)"
  export BENCH_TOKEN="" BENCH_HDRS="X-Roles: admin"
  start_sampler "$pid" "$tmp/rss-glance-create"
  create_images glance "$gurl" "$IMAGES" "$GLANCE_CREATE_SECS"
  stop_sampler
  blob_dir=$g/images
  workload glance "$gurl" -H "X-Roles: admin"
  put glance.db_bytes "$(stat -c %s "$g/glance.sqlite" 2>/dev/null || echo 0)"
  stop_daemon "$pid"
  rm -rf "$g/images"
fi

# ================================================================ report
set +u    # figures of a step that could not run are simply empty
ratio() { # a b -> a/b or -
  awk -v a="${1:-}" -v b="${2:-}" 'BEGIN{ if (a == "" || b == "" || b+0 == 0) print "-"; else printf "%.1fx", a/b }'
}
ratio2() { # a b -> a/b to two places (the ratios near 0.90) or -
  awk -v a="${1:-}" -v b="${2:-}" 'BEGIN{ if (a == "" || b == "" || b+0 == 0) print "-"; else printf "%.2fx", a/b }'
}
mb() { awk -v k="${1:-0}" 'BEGIN{printf "%.1f MiB", k/1024}'; }

echo
echo "=== imsd benchmark — $(date -u +%Y-%m-%d) commit $commit, $(nproc) CPUs, wrk -t$THREADS -c$CONNS -d${DURATION}s ==="
echo "    imsd: ${R[imsd.images]} images; file $bytes bytes"
[ "$GLANCE" = 1 ] && echo "    glance-api $(dpkg-query -W -f='${Version}' glance-api 2>/dev/null) (SQLite, file store, noauth, $(nproc) workers): ${R[glance.images]} images$([ -n "${R[glance.create.capped]:-}" ] && echo ", create phase stopped by its ${GLANCE_CREATE_SECS}s cap (asked for $IMAGES)")"
[ -z "${R[imsd.died]}" ] || echo "    !! imsd DIED during the run (${R[imsd.died]}): figures after that point are missing"
[ -z "${R[glance.died]}" ] || echo "    !! glance-api died during the run (${R[glance.died]})"
echo "    figures are noisy: 2 cores shared with the client (wrk/curl) and whatever else runs on the machine"
echo
printf '%-24s %12s %10s %6s' "metric" "imsd" "p99 ms" "errs"
[ "$GLANCE" = 1 ] && printf ' %12s %10s %6s %10s' "glance" "p99 ms" "errs" "imsd/gl"
printf '   %s\n' "target"

row() { # key label unit target-text rps-threshold glance-multiple
  local k=$1 label=$2 unit=$3 tt=$4 thr=$5 mult=$6 v gv r st=""
  v=${R[imsd.$k.rps]:-}; gv=${R[glance.$k.rps]:-}
  printf '%-24s %12s %10s %6s' "$label" "${v:--} $unit" "${R[imsd.$k.p99_ms]:--}" "${R[imsd.$k.errors]:--}"
  if [ "$GLANCE" = 1 ]; then
    r=$(ratio "$v" "$gv")
    printf ' %12s %10s %6s %10s' "${gv:--} $unit" "${R[glance.$k.p99_ms]:--}" "${R[glance.$k.errors]:--}" "$r"
  fi
  if [ -n "$tt" ]; then
    [ -z "$thr" ] || { ge "$v" "$thr" && st="ok" || st="MISSED"; }
    if [ -n "$mult" ] && [ "$GLANCE" = 1 ] && [ "$r" != - ]; then
      ge "${r%x}" "$mult" && st="$st${st:+/}ok" || st="$st${st:+/}MISSED"
    fi
    printf '   %s: %s' "$tt" "${st:-n/a}"
  fi
  echo
}
row create   "create POST /v2/images" "op/s" "≥50× Glance" "" 50
row list     "list limit=25"          "r/s"  "≥10k r/s, ≥100× Glance" 10000 100
row list_marker "list +marker"        "r/s"  "≥10k r/s, ≥100× Glance" 10000 100
row list_name   "list +name="         "r/s"  "≥10k r/s, ≥100× Glance" 10000 100
row list_tag    "list +tag="          "r/s"  "≥10k r/s, ≥100× Glance" 10000 100
row get      "GET /v2/images/{id}"    "r/s"  "≥10k r/s, ≥100× Glance" 10000 100
row patch    "PATCH /v2/images/{id}"  "r/s"  "" "" ""

echo
up=${R[imsd.upload.mbps]}; base=${R[baseline.mbps]}
st=$(ge "$(awk -v a="$up" -v b="$base" 'BEGIN{print a/b}')" 1 && echo ok || echo MISSED)
printf 'baseline openssl md5 then sha512: %s MB/s (%s s + %s s)\n' "$base" "${R[baseline.md5_secs]}" "${R[baseline.sha512_secs]}"
printf 'upload   imsd %8s MB/s = %s of baseline (HTTP %s, %s, digests %s)   target ≥1.0x baseline: %s' \
  "$up" "$(ratio "$up" "$base")" "${R[imsd.upload.http]}" "${R[imsd.upload.status]}" "${R[imsd.upload.digests]}" "$st"
if [ "$GLANCE" = 1 ]; then
  gr=$(ratio "$up" "${R[glance.upload.mbps]}")
  printf ', ≥2× Glance: %s' "$( [ "$gr" != - ] && ge "${gr%x}" 2 && echo ok || echo MISSED)"
  printf '\n         glance %7s MB/s = %s of baseline (HTTP %s, %s, digests %s); imsd/glance %s' \
    "${R[glance.upload.mbps]}" "$(ratio "${R[glance.upload.mbps]}" "$base")" "${R[glance.upload.http]}" \
    "${R[glance.upload.status]}" "${R[glance.upload.digests]}" "$gr"
fi
echo
printf 'download imsd %8s MB/s (HTTP %s, %s bytes), cold; again %s MB/s' "${R[imsd.download.mbps]}" "${R[imsd.download.http]}" \
  "${R[imsd.download.bytes]}" "${R[imsd.download_warm.mbps]:-}"
if [ -n "${R[imsd.cat_warm.mbps]:-}" ]; then
  w=$(awk -v a="${R[imsd.download_warm.mbps]:-0}" -v b="${R[imsd.cat_warm.mbps]}" 'BEGIN{printf "%.2fx", (b > 0 ? a / b : 0)}')
  printf '\n         cat of the stored file: cold %s MB/s, warm %s MB/s; download/cat cold %s, again/cat warm %s   target ≥0.90 warm: %s' \
    "${R[imsd.cat_cold.mbps]}" "${R[imsd.cat_warm.mbps]}" "$(ratio "${R[imsd.download.mbps]}" "${R[imsd.cat_cold.mbps]}")" "$w" \
    "$( [ "$w" != - ] && ge "${w%x}" 0.9 && echo ok || echo MISSED)"
fi
if [ -n "${R[nginx.download_warm.mbps]:-}" ]; then
  printf '\n         nginx serving the stored file (sendfile, same client): cold %s MB/s, warm %s MB/s; download/nginx cold %s, again/nginx warm %s' \
    "${R[nginx.download_cold.mbps]}" "${R[nginx.download_warm.mbps]}" "$(ratio "${R[imsd.download.mbps]}" "${R[nginx.download_cold.mbps]}")" \
    "$(ratio "${R[imsd.download_warm.mbps]:-}" "${R[nginx.download_warm.mbps]}")"
  printf '\n         cold with the pages dropped 5 s before, as for nginx and cat: imsd %s MB/s; /nginx cold %s, /cat cold %s' \
    "${R[imsd.download_cold_dropped.mbps]:-}" "$(ratio "${R[imsd.download_cold_dropped.mbps]:-}" "${R[nginx.download_cold.mbps]}")" \
    "$(ratio "${R[imsd.download_cold_dropped.mbps]:-}" "${R[imsd.cat_cold.mbps]:-}")"
fi
# The same downloads read by bench/fetch.py: the ratio to a warm cat without
# curl's 4-12 KiB writes (issue 15 item 3 asks >= 0.90), next to nginx's.
if [ -n "${R[imsd.fetch_warm.mbps]:-}" ]; then
  w=$(awk -v a="${R[imsd.fetch_warm.mbps]:-0}" -v b="${R[imsd.cat_warm.mbps]:-0}" 'BEGIN{printf "%.2fx", (b > 0 ? a / b : 0)}')
  printf '\n         read like cat reads (bench/fetch.py, recv 128 KiB, no writes): imsd %s MB/s, nginx %s MB/s%s; imsd/cat warm %s (nginx/cat %s), imsd/nginx %s%s   target ≥0.90 warm: %s' \
    "${R[imsd.fetch_warm.mbps]}" "${R[nginx.fetch_warm.mbps]:-}" "$( [ "$GLANCE" = 1 ] && printf ', glance %s MB/s' "${R[glance.fetch_warm.mbps]:-}")" "$w" \
    "$(awk -v a="${R[nginx.fetch_warm.mbps]:-0}" -v b="${R[imsd.cat_warm.mbps]:-0}" 'BEGIN{printf "%.2fx", (b > 0 ? a / b : 0)}')" \
    "$(ratio "${R[imsd.fetch_warm.mbps]}" "${R[nginx.fetch_warm.mbps]:-}")" \
    "$( [ "$GLANCE" = 1 ] && printf ', imsd/glance %s' "$(ratio "${R[imsd.fetch_warm.mbps]}" "${R[glance.fetch_warm.mbps]:-}")")" \
    "$( [ "$w" != - ] && ge "${w%x}" 0.9 && echo ok || echo MISSED)"
  # the ratio that answers item 3: a copying client alone costs more than a
  # cat, with any server (bench/README.md, Run DB)
  w=$(ratio2 "${R[imsd.splice_warm.mbps]:-}" "${R[imsd.cat_warm.mbps]:-}")
  printf '\n         spliced to /dev/null (bench/fetch.py --mode splice, never copied into the client): imsd %s MB/s, nginx %s MB/s%s; imsd/cat warm %s   target ≥0.90 warm (item 3): %s' \
    "${R[imsd.splice_warm.mbps]:-}" "${R[nginx.splice_warm.mbps]:-}" "$( [ "$GLANCE" = 1 ] && printf ', glance %s MB/s' "${R[glance.splice_warm.mbps]:-}")" \
    "$w" "$( [ "$w" != - ] && ge "${w%x}" 0.9 && echo ok || echo MISSED)"
fi
# The bound: one blocking sendfile, imsd's socket options, the same clients.
# bound/cat is what sending from the page cache reaches here with that
# client; imsd/bound is what is left to imsd (bench/README.md, Run DB).
if [ -n "${R[bound.splice_warm.mbps]:-}" ]; then
  for c in download:curl fetch:'fetch.py recv' splice:'fetch.py splice'; do
    printf '\n         bound (bench/sendfile_bound.py), %s: %s MB/s; bound/cat warm %s, imsd/bound %s' "${c#*:}" \
      "${R[bound.${c%%:*}_warm.mbps]:-}" "$(ratio2 "${R[bound.${c%%:*}_warm.mbps]:-}" "${R[imsd.cat_warm.mbps]:-}")" \
      "$(ratio2 "${R[imsd.${c%%:*}_warm.mbps]:-}" "${R[bound.${c%%:*}_warm.mbps]:-}")"
  done
fi
# Glance's upload goes through the page cache, so its first download is a
# warm one: compare the downloads again as well.
[ "$GLANCE" = 1 ] && printf '\n         glance %7s MB/s (HTTP %s, %s bytes), again %s MB/s; imsd/glance %s, again %s' \
  "${R[glance.download.mbps]}" "${R[glance.download.http]}" "${R[glance.download.bytes]}" "${R[glance.download_warm.mbps]:-}" \
  "$(ratio "${R[imsd.download.mbps]}" "${R[glance.download.mbps]}")" \
  "$(ratio "${R[imsd.download_warm.mbps]:-}" "${R[glance.download_warm.mbps]:-}")"
echo
echo
st=$( [ "${R[imsd.rss_idle_kb]}" -lt 20480 ] && echo ok || echo MISSED)
printf 'RSS imsd   idle %s, peak during wrk %s, during upload/download %s, VmHWM %s   target idle < 20 MiB: %s\n' \
  "$(mb "${R[imsd.rss_idle_kb]}")" "$(mb "${R[imsd.rss_peak_wrk_kb]}")" "$(mb "${R[imsd.rss_peak_xfer_kb]}")" \
  "$(mb "${R[imsd.rss_hwm_kb]}")" "$st"
[ "$GLANCE" = 1 ] && printf 'RSS glance idle %s, peak during wrk %s, during upload/download %s (sum over parent + workers); idle imsd/glance %s\n' \
  "$(mb "${R[glance.rss_idle_kb]}")" "$(mb "${R[glance.rss_peak_wrk_kb]}")" "$(mb "${R[glance.rss_peak_xfer_kb]}")" \
  "$(awk -v a="${R[imsd.rss_idle_kb]}" -v b="${R[glance.rss_idle_kb]}" 'BEGIN{printf "%.3f (glance uses %.0fx more)", a/b, b/a}')"
printf 'SQLite files after the workload: imsd.db %s MB + WAL %s MB' \
  "$(awk -v b="${R[imsd.db_bytes]}" 'BEGIN{printf "%.1f", b/1e6}')" "$(awk -v b="${R[imsd.wal_bytes]}" 'BEGIN{printf "%.1f", b/1e6}')"
[ "$GLANCE" = 1 ] && printf '; glance.sqlite %s MB' "$(awk -v b="${R[glance.db_bytes]}" 'BEGIN{printf "%.1f", b/1e6}')"
echo
exit 0
