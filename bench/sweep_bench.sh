#!/usr/bin/env bash
# The start-up sweep of the file store: how long imsd takes to start over
# SWEEP_BLOBS registered blobs (the file store, every file older than the
# grace: [storage] recovery_grace_seconds = 0, so recovery checks each one
# against the blobs table). SWEEP_ENGINES="sqlite postgresql" runs it on
# each engine (default sqlite; postgresql: Debian's server on loopback,
# started by tests/fixtures/start-postgres.sh in the temp dir, where each
# lookup is a round trip). Blob rows and empty files are seeded by direct
# SQL into a database imsd's own migrations made (started once, stopped).
# Prints the time from exec to "imsd is running", best of SWEEP_RUNS, and
# checks that no registered file was removed.
# usage: bench/sweep_bench.sh [IMSD_BIN]   (SWEEP_BLOBS="0 20000 40000")
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
imsd=${1:-$PWD/build/imsd}
runs=${SWEEP_RUNS:-3}
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pid=""
pg_stop=""
work=$(mktemp -d "${TMPDIR:-/tmp}/sweep-bench.XXXXXX")
chmod 755 "$work" # the PostgreSQL server runs as postgres when we are root
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  [ -n "$pg_stop" ] && "$pg_stop" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
export IMSD_LISTEN=127.0.0.1:$port IMSD_ADMIN_PASSWORD=Sweep-bench-123

started() { # data dir, log: waits for the start-up line
  for _ in $(seq 3000); do grep -q "imsd is running" "$2" && return 0; kill -0 "$pid" || return 1; sleep 0.01; done
  return 1
}

pg_url=""
pg_server() { # starts the PostgreSQL server once; its maintenance database's URL in pg_url
  [ -n "$pg_url" ] && return 0
  local pgport env
  pgport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  env=$("$repo/tests/fixtures/start-postgres.sh" "$work/pg" "$pgport") || { echo "PostgreSQL did not start" >&2; exit 1; }
  pg_url=$(sed -n 's/^PG_URL=//p' <<<"$env"); pg_stop=$(sed -n 's/^PG_STOP=//p' <<<"$env")
}

for engine in ${SWEEP_ENGINES:-sqlite}; do
for n in ${SWEEP_BLOBS:-0 20000 40000}; do
  dir=$work/$engine-$n
  printf '[storage]\nrecovery_grace_seconds = 0\n' > "$work/imsd.ini"
  db=""
  if [ "$engine" = postgresql ]; then
    pg_server
    psql -X -q "$pg_url" -c "CREATE DATABASE sweep_$n TEMPLATE template0 LOCALE 'C' ENCODING 'UTF8'" >/dev/null
    db=${pg_url%/*}/sweep_$n
    printf '[database]\nconnection = %s\n' "$db" >> "$work/imsd.ini"
  fi
  export IMSD_CONFIG=$work/imsd.ini
  IMSD_DATA_DIR=$dir "$imsd" > "$work/seed.log" 2>&1 & pid=$!
  mkdir -p "$dir"; started "$dir" "$work/seed.log"
  kill "$pid"; wait "$pid" || true; pid=""
  /usr/bin/python3 - "$dir" "$n" "$db" <<'PY'
import glob, os, sqlite3, subprocess, sys, time, uuid
d, n, db = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
for _ in range(n):
    u = str(uuid.uuid4())
    os.makedirs(os.path.join(d, "images", u[:2]), exist_ok=True)
    open(os.path.join(d, "images", u[:2], u), "wb").close()
    rows.append(("file://%s/%s" % (u[:2], u), 1, None, 0, int(time.time())))
if db:  # one COPY through psql
    data = "".join("%s\t%d\t\\N\t%d\t%d\n" % (r[0], r[1], r[3], r[4]) for r in rows)
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", db, "-c",
                    "COPY blobs (location, refs, writer, lease_until, created_at) FROM STDIN"],
                   input=data, text=True, check=True)
else:
    con = sqlite3.connect(glob.glob(os.path.join(d, "*.db"))[0])
    con.executemany("INSERT INTO blobs (location, refs, writer, lease_until, created_at) VALUES (?, ?, ?, ?, ?)",
                    rows)
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
  echo "BENCH engine=$engine blobs=$n start_ms=$best $(grep -o 'looked up in [0-9]* quer[a-z]*' "$work/run.log" || true)"
done
done
