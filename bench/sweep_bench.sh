#!/usr/bin/env bash
# The start-up sweep of the file store: how long imsd takes to start over
# SWEEP_BLOBS registered blobs (SQLite, the file store, every file older than
# the grace: [storage] recovery_grace_seconds = 0, so recovery checks each
# one against the blobs table). Blob rows and empty files are seeded by
# direct SQL into a database imsd's own migrations made (started once,
# stopped). Prints the time from exec to "imsd is running", best of
# SWEEP_RUNS, and checks that no registered file was removed.
# usage: bench/sweep_bench.sh [IMSD_BIN]   (SWEEP_BLOBS="0 20000 40000")
set -euo pipefail
cd "$(dirname "$0")/.."
imsd=${1:-$PWD/build/imsd}
runs=${SWEEP_RUNS:-3}
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pid=""
work=$(mktemp -d "${TMPDIR:-/tmp}/sweep-bench.XXXXXX")
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
printf '[storage]\nrecovery_grace_seconds = 0\n' > "$work/imsd.ini"
export IMSD_CONFIG=$work/imsd.ini IMSD_LISTEN=127.0.0.1:$port IMSD_ADMIN_PASSWORD=Sweep-bench-123

started() { # data dir, log: waits for the start-up line
  for _ in $(seq 3000); do grep -q "imsd is running" "$2" && return 0; kill -0 "$pid" || return 1; sleep 0.01; done
  return 1
}

for n in ${SWEEP_BLOBS:-0 20000 40000}; do
  dir=$work/d$n
  IMSD_DATA_DIR=$dir "$imsd" > "$work/seed.log" 2>&1 & pid=$!
  mkdir -p "$dir"; started "$dir" "$work/seed.log"
  kill "$pid"; wait "$pid" || true; pid=""
  /usr/bin/python3 - "$dir" "$n" <<'PY'
import glob, os, sqlite3, sys, time, uuid
d, n = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(glob.glob(os.path.join(d, "*.db"))[0])
rows = []
for _ in range(n):
    u = str(uuid.uuid4())
    os.makedirs(os.path.join(d, "images", u[:2]), exist_ok=True)
    open(os.path.join(d, "images", u[:2], u), "wb").close()
    rows.append(("file://%s/%s" % (u[:2], u), 1, None, 0, int(time.time())))
con.executemany("INSERT INTO blobs (location, refs, writer, lease_until, created_at) VALUES (?, ?, ?, ?, ?)", rows)
con.commit()
PY
  best=""
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    IMSD_DATA_DIR=$dir "$imsd" > "$work/run.log" 2>&1 & pid=$!
    started "$dir" "$work/run.log"
    t=$(( ($(date +%s%N) - t0) / 1000000 ))
    kill "$pid"; wait "$pid" || true; pid=""
    [ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
  done
  left=$(find "$dir/images" -type f 2>/dev/null | wc -l)
  [ "$left" -eq "$n" ] || { echo "sweep removed registered blobs: $left of $n left" >&2; exit 1; }
  echo "BENCH blobs=$n start_ms=$best"
done
