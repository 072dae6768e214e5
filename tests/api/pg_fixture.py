"""PostgreSQL for the API suite: Debian's server, initialised in a temporary
directory and started on loopback by tests/fixtures/start-postgres.sh the
first time a test needs it, stopped when the test process ends.

IMSD_TEST_DATABASE=postgresql runs the whole suite on it: every imsd the
tests start (and the imsctl they run against its data dir) gets a database
of its own on that server, as every imsd gets a data dir of its own, and a
second process started on the same data dir gets the same database. Tests
of PostgreSQL itself (test_pg.py) use it whatever the variable says.
IMSD_TEST_PG_URL=postgresql://USER@HOST:PORT/DB uses a server that already
runs instead (its user must be allowed to create databases)."""
import atexit
import os
import random
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
START = REPO / "tests" / "fixtures" / "start-postgres.sh"
ENGINE = os.environ.get("IMSD_TEST_DATABASE", "sqlite")
if ENGINE not in ("sqlite", "postgresql"):
    raise SystemExit("IMSD_TEST_DATABASE must be sqlite or postgresql, not %r" % ENGINE)
ON_PG = ENGINE == "postgresql"

_server = {}        # url, stop, root once started
_by_data_dir = {}   # str(data_dir) -> database URL


def _port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _stop():
    if _server.get("stop"):
        subprocess.run([_server["stop"]], timeout=120)
        shutil.rmtree(_server["root"], ignore_errors=True)
        _server.clear()


def server_url():
    """The URL of the test server's maintenance database, started on first use."""
    if os.environ.get("IMSD_TEST_PG_URL"):
        return os.environ["IMSD_TEST_PG_URL"]
    if _server:
        return _server["url"]
    root = tempfile.mkdtemp(prefix="imsd-pg-")
    os.chmod(root, 0o755)  # run as root, the server runs as postgres, who must reach its directory
    last = None
    for _ in range(8):
        port = random.randrange(20000, 60000)
        if not _port_free(port):
            continue
        r = subprocess.run([str(START), os.path.join(root, "pg"), str(port)], capture_output=True, text=True,
                           timeout=180, env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})
        if r.returncode == 0:
            env = dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)
            _server.update(url=env["PG_URL"], stop=env["PG_STOP"], root=root)
            atexit.register(_stop)
            return _server["url"]
        last = r.stderr
    shutil.rmtree(root, ignore_errors=True)
    raise AssertionError("the PostgreSQL test server did not start:\n%s" % last)


def psql(sql, url=None):
    """Runs sql on url (default: the maintenance database); returns stdout."""
    r = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", url or server_url(), "-c", sql],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "psql %r failed: %s" % (sql, r.stderr)
    return r.stdout


def new_database():
    """A fresh empty database (C collation, as imsd requires); its URL."""
    base = server_url()
    name = "imsd_" + uuid.uuid4().hex[:16]
    psql("CREATE DATABASE %s TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'" % name, base)
    return base.rsplit("/", 1)[0] + "/" + name


def database_for(data_dir):
    """The database of the imsd using data_dir (made on first use)."""
    key = str(Path(data_dir).resolve())
    if key not in _by_data_dir:
        _by_data_dir[key] = new_database()
    return _by_data_dir[key]


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def query(url, sql, params=()):
    """Runs sql on url with '?' replaced by params as SQL literals (tests
    only: their own values); returns the rows as tuples of strings."""
    parts = sql.split("?")
    assert len(parts) == len(params) + 1, "%d placeholders, %d params" % (len(parts) - 1, len(params))
    text = parts[0] + "".join(_literal(p) + rest for p, rest in zip(params, parts[1:]))
    r = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-F", "\x1f", "-v", "ON_ERROR_STOP=1", url, "-c", text],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "psql %r failed: %s" % (text, r.stderr)
    return [tuple(line.split("\x1f")) for line in r.stdout.splitlines() if line]
