"""The S3-compatible server for object-storage tests: OpenStack Swift with
its s3api middleware (Debian's packages, installed by scripts/install-deps.sh),
started on loopback by tests/fixtures/start-s3-server.sh for the session.
It verifies SigV4 signatures for real, so signing mistakes fail here."""
import random
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
START = REPO / "tests" / "fixtures" / "start-s3-server.sh"


def _ports_free(base, n=6):
    for p in range(base, base + n):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def _parse(out):
    env = {}
    for line in out.splitlines():
        k, _, v = line.partition("=")
        env[k] = v.strip('"')
    return env


@pytest.fixture(scope="session")
def obs_s3():
    """A running Swift s3api server: a dict of S3_ENDPOINT, S3_REGION,
    S3_ACCESS_KEY, S3_SECRET_KEY, S3_STOP."""
    if not Path("/usr/bin/swift-proxy-server").exists():
        pytest.fail("OpenStack Swift is not installed (scripts/install-deps.sh installs swift, swift-proxy, "
                    "swift-object, swift-container and swift-account)", pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="imsd-s3-"))
    last = None
    for _ in range(8):
        base = random.randrange(20000, 60000, 10)
        if not _ports_free(base):
            continue
        r = subprocess.run([str(START), str(root / "s3"), str(base)], capture_output=True, text=True,
                           timeout=120, env={"PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
                                             "S3_LOG_LEVEL": "WARNING"})
        if r.returncode == 0:
            env = _parse(r.stdout)
            try:
                yield env
            finally:
                subprocess.run([env["S3_STOP"]], timeout=60)
                shutil.rmtree(root, ignore_errors=True)
            return
        last = r.stderr
    pytest.fail("the S3 test server did not start:\n%s" % last, pytrace=False)


def s3_config(env):
    """[obs] settings for the server obs_s3 started."""
    return {"backend": "s3", "endpoint": env["S3_ENDPOINT"], "region": env["S3_REGION"],
            "access_key": env["S3_ACCESS_KEY"], "secret_key": env["S3_SECRET_KEY"]}
