"""The S3-compatible server for object-storage tests: OpenStack Swift with
its s3api middleware (Debian's packages, installed by scripts/install-deps.sh),
started on loopback by tests/fixtures/start-s3-server.sh for the session.
It verifies SigV4 signatures for real, so signing mistakes fail here."""
import atexit
import hashlib
import os
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


_server = {}  # the session's server: env, root


def _stop():
    if _server.get("env"):
        subprocess.run([_server["env"]["S3_STOP"]], timeout=60)
        shutil.rmtree(_server["root"], ignore_errors=True)
        _server.clear()


def server_env():
    """The session's running Swift s3api server, started on first use and
    stopped when the test process ends: a dict of S3_ENDPOINT, S3_REGION,
    S3_ACCESS_KEY, S3_SECRET_KEY, S3_CURL_NETRC, S3_STOP."""
    if _server:
        return _server["env"]
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
            _server.update(env=_parse(r.stdout), root=root)
            atexit.register(_stop)
            return _server["env"]
        last = r.stderr
    shutil.rmtree(root, ignore_errors=True)
    pytest.fail("the S3 test server did not start:\n%s" % last, pytrace=False)


@pytest.fixture(scope="session")
def obs_s3():
    """A running Swift s3api server (server_env())."""
    return server_env()


def s3_config(env):
    """[obs] settings for the server obs_s3 started."""
    return {"backend": "s3", "endpoint": env["S3_ENDPOINT"], "region": env["S3_REGION"],
            "access_key": env["S3_ACCESS_KEY"], "secret_key": env["S3_SECRET_KEY"]}


# IMSD_TEST_STORE=s3 runs the whole suite with image data on the S3 store:
# every imsd the tests start (and the imsctl run against its data dir) gets
# a bucket of its own on the session's server, unless its configuration has
# a [store] section; a second process on the same data dir gets the same.
STORE = os.environ.get("IMSD_TEST_STORE", "file")
if STORE not in ("file", "s3"):
    raise SystemExit("IMSD_TEST_STORE must be file or s3, not %r" % STORE)
ON_S3 = STORE == "s3"


def bucket_for(data_dir):
    """The bucket name of the imsd using data_dir (made by imsd at start)."""
    return "imsd-" + hashlib.sha256(str(Path(data_dir).resolve()).encode()).hexdigest()[:32]


def store_env(data_dir):
    """imsd's environment for the S3 store of data_dir."""
    env = server_env()
    return {"IMSD_STORE_BACKEND": "s3", "IMSD_STORE_ENDPOINT": env["S3_ENDPOINT"],
            "IMSD_STORE_REGION": env["S3_REGION"], "IMSD_STORE_ACCESS_KEY": env["S3_ACCESS_KEY"],
            "IMSD_STORE_SECRET_KEY": env["S3_SECRET_KEY"], "IMSD_STORE_BUCKET": bucket_for(data_dir)}


def s3_request(env, method, path, query="", data=None, timeout=60):
    """One signed request to the S3 server with curl (its own SigV4, not
    imsd's): (HTTP status, body bytes). path is /bucket[/key]; query in
    canonical form (sorted, valueless parameters as 'name=')."""
    url = env["S3_ENDPOINT"] + path + ("?" + query if query else "")
    cmd = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method, "--netrc-file", env["S3_CURL_NETRC"],
           "--aws-sigv4", "aws:amz:%s:s3" % env["S3_REGION"], "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
           url]
    if data is not None:  # the body, from stdin
        cmd[-1:-1] = ["--data-binary", "@-"]
    r = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    body, _, status = r.stdout.rpartition(b"\n")
    return int(status), body


def s3_keys(env, bucket, prefix=""):
    """{key: size} of a bucket's objects (one page: tests keep them few)."""
    import re
    query = "list-type=2&max-keys=1000" + ("&prefix=" + prefix.replace("/", "%2F") if prefix else "")
    status, body = s3_request(env, "GET", "/" + bucket, query)
    assert status == 200, body
    text = body.decode()
    return {k: int(s) for k, s in re.findall(r"<Contents><Key>([^<]*)</Key>.*?<Size>(\d+)</Size>", text)}


def s3_etags(env, bucket, prefix=""):
    """{key: ETag without quotes} of a bucket's objects (one page): a
    multipart object's ends in -<parts>, a plain PUT's is its md5."""
    import re
    query = "list-type=2&max-keys=1000" + ("&prefix=" + prefix.replace("/", "%2F") if prefix else "")
    status, body = s3_request(env, "GET", "/" + bucket, query)
    assert status == 200, body
    return {k: e.replace("&quot;", "").strip('"')
            for k, e in re.findall(r"<Contents><Key>([^<]*)</Key>.*?<ETag>([^<]*)</ETag>", body.decode())}


def s3_uploads(env, bucket):
    """How many multipart uploads of bucket are in progress."""
    status, body = s3_request(env, "GET", "/" + bucket, "uploads=")
    assert status == 200 and b"ListMultipartUploadsResult" in body, body
    return body.count(b"<Upload>")
