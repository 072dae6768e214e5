#!/usr/bin/env bash
# The S3 store's throughput: an image upload (PUT /v2/images/{id}/file) and
# download (GET .../file) through imsd with [store] backend = s3, against
# curl's own PUT and GET of the same bytes on the same Swift s3api server
# (tests/fixtures/start-s3-server.sh, on loopback), in the same run, as
# ratios (target: imsd >= 80% of curl). Best of S3_BENCH_RUNS runs each: the
# machine is shared, the minimum is the least disturbed.
# Downloads three ways: streamed from S3 by a second imsd on the same data
# dir whose node cache is off ([cache] max_size = 0: the S3 store's own
# path), the first download through the node cache (its fill's thread
# writes the cache's file and, after the client has every byte, checks
# its md5 against the image's checksum: printed per run), and a
# download the cache serves. Each row also says the CPU seconds imsd and
# the S3 server (all its processes) spent (of the best run): on a machine
# where they share the cores, the ratio is bounded by their sum.
# S3_BENCH_PERF=PREFIX: perf records imsd during the first run's upload and
# first download through the cache (PREFIX.upload, PREFIX.fill; perf report -i).
# S3_BENCH_MD5_FROM_ETAG=off: imsd hashes the upload's md5 itself ([store]
# md5_from_etag; default auto: the one PUT's ETag, proved by the probe).
# usage: bench/s3_store_bench.sh [BUILD_DIR]   (S3_BENCH_MIB=1024 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
imsd=$PWD/$build/imsd
mib=${S3_BENCH_MIB:-1024}
runs=${S3_BENCH_RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/s3-store-bench.XXXXXX")
stop="" pid="" pid2=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$pid2" ] && kill "$pid2" 2>/dev/null && wait "$pid2" 2>/dev/null
  [ -n "$stop" ] && "$stop" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
die() { echo "s3_store_bench: $*" >&2; exit 1; }

head -c $((mib << 20)) /dev/urandom > "$work/src"
src_md5=$(md5sum < "$work/src" | cut -d' ' -f1)
sync
now() { date +%s.%N; }
secs() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
mbs() { awk -v s="$1" -v m="$mib" 'BEGIN { printf "%.0f", m * 1048576 / s / 1e6 }'; }
report() {  # what curl_s imsd_s [cpu note]
  printf '%-17s curl %7.3f s (%4s MB/s)  imsd %7.3f s (%4s MB/s)  imsd/curl %3.0f%%  (target >= 80%%: %s)  %s\n' \
    "$1" "$2" "$(mbs "$2")" "$3" "$(mbs "$3")" "$(awk -v a="$2" -v b="$3" 'BEGIN { print 100 * a / b }')" \
    "$(awk -v a="$2" -v b="$3" 'BEGIN { print (a / b >= 0.8) ? "ok" : "MISSED" }')" "${4:-}"
}
# CPU seconds (user + system) of processes, from /proc
cpu_of() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
cpu_snap() { echo "$(cpu_of "$pid" "$pid2") $(cpu_of $(pgrep -f "$work/s3/etc/" || true))"; }
cpu_note() { # snap-before snap-after: "cpu s: imsd X, S3 server Y"
  local a b c d; read -r a b <<<"$1"; read -r c d <<<"$2"
  awk -v i=$((c - a)) -v s=$((d - b)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "cpu s: imsd %.2f, S3 server %.2f", i / hz, s / hz }'
}
declare -A best note
perf_pid=""
perf_start() { # pid output: when S3_BENCH_PERF is set, in the first run
  [ -n "${S3_BENCH_PERF:-}" ] && [ "$i" = 1 ] || return 0
  perf record -q -F 999 -g -p "$1" -o "$2" 2>/dev/null & perf_pid=$!
  sleep 0.5
}
perf_stop() { [ -n "$perf_pid" ] && kill -INT "$perf_pid" && { wait "$perf_pid" 2>/dev/null || true; }; perf_pid=""; }
timed() { # label command...: runs it, keeps the best time and its CPU note
  local label=$1 t0 s0 t; shift
  s0=$(cpu_snap); t0=$(now); "$@"; t=$(secs "$t0")
  if [ -z "${best[$label]:-}" ] || awk -v a="$t" -v b="${best[$label]}" 'BEGIN { exit !(a < b) }'; then
    best[$label]=$t; note[$label]=$(cpu_note "$s0" "$(cpu_snap)")
  fi
}

# --- the S3 server ------------------------------------------------------------
base=$((20000 + RANDOM % 4000 * 10))
eval "$(S3_LOG_LEVEL=WARNING tests/fixtures/start-s3-server.sh "$work/s3" "$base")"
stop=$S3_STOP
sig=(--netrc-file "$S3_CURL_NETRC" --aws-sigv4 "aws:amz:$S3_REGION:s3" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")

# --- imsd on it -----------------------------------------------------------------
port=$((base + 7))
pw=bench-$RANDOM$RANDOM
cat > "$work/imsd.ini" <<EOF
[store]
backend = s3
endpoint = $S3_ENDPOINT
region = $S3_REGION
bucket = bench-store
access_key = $S3_ACCESS_KEY
secret_key = $S3_SECRET_KEY
md5_from_etag = ${S3_BENCH_MD5_FROM_ETAG:-auto}
[images]
max_image_size = $(( (mib + 1) << 20 ))
EOF
IMSD_CONFIG=$work/imsd.ini IMSD_DATA_DIR=$work/data IMSD_LISTEN=127.0.0.1:$port IMSD_ADMIN_PASSWORD=$pw \
  IMSD_LOG_LEVEL=info "$imsd" > "$work/imsd.log" 2>&1 &
pid=$!
url=http://127.0.0.1:$port
up() { # url log: waits up to 30 s for imsd to answer (each node PUTs its md5_from_etag probe first)
  for _ in $(seq 300); do curl -s -o /dev/null -m 1 "$1/" && return 0; sleep 0.1; done
  die "imsd at $1 did not start: $(tail -5 "$2")"
}
up "$url" "$work/imsd.log"
# the second node: the same data dir and database, its cache off
{ cat "$work/imsd.ini"; printf '[cache]\nmax_size = 0\n'; } > "$work/imsd2.ini"
IMSD_CONFIG=$work/imsd2.ini IMSD_DATA_DIR=$work/data IMSD_LISTEN=127.0.0.1:$((port + 1)) IMSD_ADMIN_PASSWORD=$pw \
  IMSD_LOG_LEVEL=info "$imsd" > "$work/imsd2.log" 2>&1 &
pid2=$!
url2=http://127.0.0.1:$((port + 1))
up "$url2" "$work/imsd2.log"
auth='{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"'$pw'"}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}'
token=$(curl -s -m 10 -D - -o /dev/null -H 'Content-Type: application/json' -d "$auth" "$url/v3/auth/tokens" \
        | tr -d '\r' | awk 'tolower($1)=="x-subject-token:"{print $2}')
[ -n "$token" ] || die "imsd: no token ($(tail -3 "$work/imsd.log"))"
H=(-H "X-Auth-Token: $token")

echo "S3 store: $mib MiB of /dev/urandom, best of $runs; md5_from_etag ${S3_BENCH_MD5_FROM_ETAG:-auto}; Swift s3api on $S3_ENDPOINT; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$runs"); do
  # curl's PUT of the same bytes as one object (curl cannot stream a multipart upload)
  timed put-curl curl -fsS -o /dev/null "${sig[@]}" -T "$work/src" "$S3_ENDPOINT/bench-store/curl-$i"
  id=$(curl -fsS -m 10 "${H[@]}" -H 'Content-Type: application/json' -d '{"name":"bench","disk_format":"raw","container_format":"bare"}' \
       "$url/v2/images" | sed -n 's/.*"id": *"\([0-9a-f-]*\)".*/\1/p')
  [ -n "$id" ] || die "no image created"
  perf_start "$pid" "${S3_BENCH_PERF:-}.upload"
  timed put-imsd curl -fsS -o /dev/null "${H[@]}" -H 'Content-Type: application/octet-stream' -T "$work/src" "$url/v2/images/$id/file"
  # downloads: curl's GET of the image's own object (a multipart object, as imsd reads it)
  key=$(curl -fsS "${sig[@]}" "$S3_ENDPOINT/bench-store?list-type=2&prefix=images%2F" \
        | grep -o '<Key>images/[^<]*</Key>' | sed 's/<[^>]*>//g' | tail -1)
  [ -n "$key" ] || die "no object for image $id"
  perf_stop
  timed get-curl curl -fsS -o /dev/null "${sig[@]}" "$S3_ENDPOINT/bench-store/$key"
  timed get-streamed curl -fsS -o /dev/null "${H[@]}" "$url2/v2/images/$id/file"
  fills=$(grep -c "image cache: cached" "$work/imsd.log" || true)
  perf_start "$pid" "${S3_BENCH_PERF:-}.fill"
  s_first=$(cpu_snap)
  timed get-first curl -fsS -o /dev/null "${H[@]}" "$url/v2/images/$id/file"
  # the fill's thread writes, checks the md5 and renames after the client has every byte
  t_end=$(now)
  for _ in $(seq 1200); do [ "$(grep -c "image cache: cached" "$work/imsd.log" || true)" -gt "$fills" ] && break; sleep 0.1; done
  echo "run $i: first download's file in place $(secs "$t_end") s after the client had it; with its fill $(cpu_note "$s_first" "$(cpu_snap)")"
  perf_stop
  timed get-cached curl -fsS -o /dev/null "${H[@]}" "$url/v2/images/$id/file"
  if [ "$i" = 1 ]; then  # once, untimed: the bytes are the upload's, from S3 and from the cache
    for u in "$url2" "$url"; do
      [ "$(curl -fsS "${H[@]}" "$u/v2/images/$id/file" | md5sum | cut -d' ' -f1)" = "$src_md5" ] \
        || die "the download from $u differs from the upload"
    done
  fi
  curl -fsS -o /dev/null -X DELETE "${H[@]}" "$url/v2/images/$id"
  curl -fsS -o /dev/null -X DELETE "${sig[@]}" "$S3_ENDPOINT/bench-store/curl-$i"
done
report upload "${best[put-curl]}" "${best[put-imsd]}" "${note[put-imsd]} (curl's: ${note[put-curl]})"
report "download S3" "${best[get-curl]}" "${best[get-streamed]}" "${note[get-streamed]} (curl's: ${note[get-curl]})"
report "download fill" "${best[get-curl]}" "${best[get-first]}" "${note[get-first]}"
report "download cached" "${best[get-curl]}" "${best[get-cached]}" "${note[get-cached]}"
# imsd's own account of each upload: receiving (and sending parts) vs the commit
grep -o 'upload of [0-9]* bytes committed.*' "$work/imsd.log" | sed 's/^/imsd: /'
grep -o 'image cache: .*' "$work/imsd.log" | sed 's/^/imsd: /'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
