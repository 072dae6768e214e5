# bench/pg_common.sh — sourced by nodes_bench.sh, wait_bench.sh and s3_wait_bench.sh (set NAME
# first): checks, a temp dir cleaned up with every process started
# (append their pids to `pids`), helpers, and a PostgreSQL server started on
# loopback by tests/fixtures/start-postgres.sh (PG_URL: its maintenance
# database; new_db NAME creates a C-collation database and prints its URL),
# unless BENCH_NO_PG is set (s3_wait_bench.sh: imsd on SQLite).
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD=${BENCH_BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$repo/$BUILD ;; esac
export BENCH_LUA_DIR=$here/lua

log() { printf '[%s %s] %s\n' "$NAME" "$(date +%H:%M:%S)" "$*"; }
die() { printf '%s: %s\n' "$NAME" "$*" >&2; exit 1; }
for t in wrk curl jq python3 $([ -n "${BENCH_NO_PG:-}" ] || echo psql); do
  command -v $t >/dev/null || die "missing $t (apt-get install wrk curl jq python3 postgresql-client)"
done
[ -x "$BUILD/imsd" ] || die "$BUILD/imsd not built (make all)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/imsd-$NAME.XXXXXX")
chmod 755 "$tmp" # the server runs as postgres when we are root
pids=()
pg_stop=
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -z "$pg_stop" ] || "$pg_stop" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
cd "$tmp"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url pid
  for _ in $(seq 600); do
    kill -0 "$2" 2>/dev/null || return 1
    [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" || true)" != 000 ] && return 0
    sleep 0.1
  done
  return 1
}
field() { sed -n "s/.*[[:space:]]$2=\([^[:space:]]*\).*/\1/p" <<<"$1"; }

pw=bench-$RANDOM$RANDOM
token_of() { # url: an admin token
  local auth='{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"'$pw'"}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}'
  curl -s -m 30 -D - -o /dev/null -H 'Content-Type: application/json' -d "$auth" "$1/v3/auth/tokens" \
    | tr -d '\r' | awk 'tolower($1)=="x-subject-token:"{print $2}'
}
# start_imsd <name> <build dir>: imsd on $tmp/<name>.ini (written by the
# caller) with its data in $tmp/<name> -> IMSD_URL, IMSD_PID (in pids)
start_imsd() {
  local name=$1 build=$2 port
  port=$(free_port)
  mkdir -p "$tmp/$name"
  IMSD_CONFIG=$tmp/$name.ini IMSD_DATA_DIR=$tmp/$name IMSD_LISTEN=127.0.0.1:$port IMSD_ADMIN_PASSWORD=$pw \
    IMSD_LOG_LEVEL=warning "$build/imsd" > "$tmp/$name.log" 2>&1 &
  IMSD_PID=$!; pids+=("$IMSD_PID")
  IMSD_URL=http://127.0.0.1:$port
  wait_http "$IMSD_URL/" "$IMSD_PID" || { tail -n 20 "$tmp/$name.log"; die "$name: imsd did not start"; }
}
# catalog_of <label> <url>: an admin token and IMAGES images created through
# <url> -> exports BENCH_TOKEN, BENCH_HDRS and BENCH_IDS (their ids) for the lua scripts
catalog_of() {
  local token
  token=$(token_of "$2"); [ -n "$token" ] || die "$1: no token"
  export BENCH_TOKEN=$token BENCH_HDRS="" BENCH_IDS=$tmp/ids-$1
  create_images "$2" "$token" "$IMAGES" > "$BENCH_IDS"
}
create_images() { # url token count: creates them (8 at a time), prints their ids
  python3 - "$@" <<'PY'
import json, sys, urllib.request
from concurrent.futures import ThreadPoolExecutor
url, token, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def create(i):
    req = urllib.request.Request(url + "/v2/images", method="POST",
                                 data=json.dumps({"name": "bench-%d" % i}).encode(),
                                 headers={"X-Auth-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["id"]
with ThreadPoolExecutor(8) as pool:
    for i in pool.map(create, range(n)):
        print(i)
PY
}

log "load average at start: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo '?')"
[ -z "${BENCH_NO_PG:-}" ] || return 0
pgport=$(free_port)
env=$("$repo/tests/fixtures/start-postgres.sh" "$tmp/pg" "$pgport") || die "PostgreSQL did not start"
PG_URL=$(sed -n 's/^PG_URL=//p' <<<"$env"); pg_stop=$(sed -n 's/^PG_STOP=//p' <<<"$env")
log "PostgreSQL on 127.0.0.1:$pgport"
new_db() {
  psql -X -q "$PG_URL" -c "CREATE DATABASE $1 TEMPLATE template0 LOCALE 'C' ENCODING 'UTF8'" >/dev/null
  echo "${PG_URL%/*}/$1"
}
