"""Glance's web-download import against a local HTTP server the test starts:
[import_filtering_opts] (schemes, hosts, ports; loopback, link-local and private
addresses; every redirect checked), [web_download] size and time limits, with
raw HTTP, the glance CLI and openstacksdk."""
import hashlib
import http.server
import os
import threading
import time
import urllib.parse

import pytest

from helpers import create_image, files_under, get_image, sdk_connect, unique
from obs_fixtures import ON_S3, STORE
from test_data import resident_bytes
from test_glance_import import glance_cli, wait_task_done

FILES = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", q["to"])
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "1000000")
            self.end_headers()
            try:
                self.wfile.write(b"x" * 1000)
                self.wfile.flush()
                time.sleep(float(q.get("sleep", "10")))
            except OSError:
                pass
        elif url.path == "/endless":            # no Content-Length: only the counted bytes can stop it
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for _ in range(4096):
                    self.wfile.write(b"y" * 65536)
            except OSError:
                pass
        elif url.path.startswith("/unsized/") and url.path[9:] in FILES:  # no Content-Length: ends at the close
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(FILES[url.path[9:]])
            self.close_connection = True
        elif url.path.startswith("/short/") and url.path[7:] in FILES:  # announces it all, sends half
            data = FILES[url.path[7:]]
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.close_connection = True
        elif url.path.startswith("/file/") and url.path[6:] in FILES:
            data = FILES[url.path[6:]]
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"not found")


@pytest.fixture(scope="module")
def web():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    srv.base = "http://127.0.0.1:%d" % srv.server_address[1]
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def allowed(module_imsd, web):
    """An imsd that allows the local server: its host and port listed."""
    return module_imsd({
        "import_filtering_opts": {"allowed_hosts": "127.0.0.1", "allowed_ports": str(web.server_address[1])},
        "web_download": {"max_size": 2 * 1024 * 1024, "timeout": 3},
    })


@pytest.fixture(scope="module")
def default(module_imsd):
    """An imsd with Glance's default filter (http/https, ports 80 and 443)."""
    return module_imsd()


def queued(api, **attrs):
    attrs.setdefault("disk_format", "raw")
    attrs.setdefault("container_format", "bare")
    return create_image(api, **attrs)


def web_import(api, image_id, uri):
    return api.post("/v2/images/%s/import" % image_id,
                    json={"method": {"name": "web-download", "uri": uri}})


def serve(data):
    name = unique("f")
    FILES[name] = data
    return name


def wait_done(api, image_id):
    task = wait_task_done(api, image_id, timeout=60)
    return task, get_image(api, image_id)


def test_info_offers_web_download(allowed):
    api = allowed.admin()
    assert "web-download" in api.get("/v2/info/import").json()["import-methods"]["value"]


def test_web_download(allowed, web):
    api = allowed.admin()
    data = os.urandom(1024 * 1024 + 5)
    img = queued(api)
    r = web_import(api, img["id"], web.base + "/file/" + serve(data))
    assert r.status_code == 202, r.text
    task, got = wait_done(api, img["id"])
    assert task["status"] == "success", task["message"]
    assert got["status"] == "active"
    assert got["checksum"] == hashlib.md5(data).hexdigest()
    assert got["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert got["size"] == len(data) and got["virtual_size"] == len(data)
    assert got["os_glance_importing_to_stores"] == "" and got["os_glance_failed_import"] == ""
    assert "os_glance_import_task" not in got
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    assert task["input"]["import_req"]["method"]["uri"].endswith("/file/" + [k for k, v in FILES.items()
                                                                              if v == data][0])
    # web-download needs a queued image
    r = web_import(api, img["id"], web.base + "/file/x")
    assert r.status_code == 409


def test_redirects_are_checked(allowed, web):
    api = allowed.admin()
    data = os.urandom(4096)
    name = serve(data)
    # to an allowed place: followed
    img = queued(api)
    to = urllib.parse.quote(web.base + "/file/" + name, safe="")
    assert web_import(api, img["id"], web.base + "/redirect?to=" + to).status_code == 202
    task, got = wait_done(api, img["id"])
    assert task["status"] == "success" and got["checksum"] == hashlib.md5(data).hexdigest()
    # to a host the filter refuses (localhost is not the listed 127.0.0.1), to a
    # refused port, to a refused scheme: the task fails, nothing is fetched there
    port = web.server_address[1]
    for target in ("http://localhost:%d/file/%s" % (port, name), "http://127.0.0.1:1/file/x",
                   "ftp://127.0.0.1:%d/file/x" % port, "file:///etc/passwd"):
        img = queued(api)
        r = web_import(api, img["id"], web.base + "/redirect?to=" + urllib.parse.quote(target, safe=""))
        assert r.status_code == 202, r.text
        task, got = wait_done(api, img["id"])
        assert task["status"] == "failure", (target, task)
        assert "filtering" in task["message"] or "not allowed" in task["message"], task["message"]
        assert got["status"] == "queued" and got["os_glance_failed_import"] == STORE
        assert "os_glance_import_task" not in got and got["checksum"] is None


def test_filter_refusals_at_the_call(allowed, default, web):
    port = web.server_address[1]
    api = allowed.admin()
    img = queued(api)
    for uri in ("http://localhost:%d/file/x" % port,           # host not in allowed_hosts
                "http://127.0.0.1:%d/file/x" % (port + 1 if port < 65535 else 1),   # port not allowed
                "ftp://127.0.0.1:%d/x" % port, "file:///etc/passwd", "gopher://127.0.0.1/",
                "http://user:pw@127.0.0.1:%d/file/x" % port, "not a url", "http://127.0.0.1:%d/\u0001" % port):
        r = web_import(api, img["id"], uri)
        assert r.status_code == 400, (uri, r.text)
        assert "URI for web-download does not pass filtering" in r.json()["message"], r.text
    r = api.post("/v2/images/%s/import" % img["id"], json={"method": {"name": "web-download"}})
    assert r.status_code == 400
    assert get_image(api, img["id"])["status"] == "queued"
    # Glance's defaults: loopback, link-local and private addresses are refused,
    # however they are written, and so is a port other than 80 and 443
    api = default.admin()
    img = queued(api)
    for uri in ("http://127.0.0.1/x", "http://127.1/x", "http://0x7f000001/x", "http://2130706433/x",
                "http://[::1]/x", "http://[::ffff:127.0.0.1]/x", "http://169.254.169.254/latest/meta-data",
                "http://[fe80::1]/x", "http://10.1.2.3/x", "http://192.168.0.1/x", "http://172.16.0.1/x",
                "http://0.0.0.0/x", "http://localhost/x", "http://127.0.0.1:%d/file/x" % port,
                "https://10.0.0.1/x"):
        r = web_import(api, img["id"], uri)
        assert r.status_code == 400, (uri, r.text)
        assert "does not pass filtering" in r.json()["message"], (uri, r.text)
    assert get_image(api, img["id"])["status"] == "queued"


def test_size_and_time_limits(allowed, web):
    api = allowed.admin()
    # larger than [web_download] max_size with Content-Length, and without
    for uri in (web.base + "/file/" + serve(b"z" * (2 * 1024 * 1024 + 1)), web.base + "/endless"):
        img = queued(api)
        assert web_import(api, img["id"], uri).status_code == 202
        task, got = wait_done(api, img["id"])
        assert task["status"] == "failure" and "larger than" in task["message"], (uri, task)
        assert got["status"] == "queued"
    # a server that stalls: [web_download] timeout (3 s) ends it
    img = queued(api)
    started = time.monotonic()
    assert web_import(api, img["id"], web.base + "/slow?sleep=20").status_code == 202
    task, got = wait_done(api, img["id"])
    assert task["status"] == "failure" and "timed out" in task["message"], task
    assert time.monotonic() - started < 15
    assert got["status"] == "queued"
    # an answer other than 2xx
    img = queued(api)
    assert web_import(api, img["id"], web.base + "/file/missing").status_code == 202
    task, got = wait_done(api, img["id"])
    assert task["status"] == "failure" and "HTTP 404" in task["message"], task


def test_web_download_streams_into_the_store(allowed, web):
    """The download goes into the image store as an upload does, on the
    pipe that computes the digests: on the file store the blob is written
    past the page cache (O_DIRECT), not into a temporary file through the
    page cache that is synced and adopted afterwards; on S3 it goes up as
    it arrives, with no local file at all."""
    api = allowed.admin()
    if ON_S3:
        # while the server stalls after its first bytes, nothing of the
        # import is on local disk
        tmp = allowed.data_dir / "tmp"
        before = set(files_under(tmp))
        img = queued(api)
        assert web_import(api, img["id"], web.base + "/slow?sleep=4").status_code == 202
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            assert set(files_under(tmp)) - before == set()
            time.sleep(0.05)
        task, got = wait_done(api, img["id"])
        assert task["status"] == "failure" and got["status"] == "queued"
        return
    data = os.urandom(1536 * 1024)         # whole 4 KiB blocks: every write can be direct
    img = queued(api)
    assert web_import(api, img["id"], web.base + "/file/" + serve(data)).status_code == 202
    task, got = wait_done(api, img["id"])
    assert task["status"] == "success", task["message"]
    blobs = [f for f in files_under(allowed.data_dir / "images") if f.stat().st_size == len(data)]
    assert len(blobs) == 1
    # looked at before anything reads it: what is resident is what the
    # import's writes left in the page cache
    assert resident_bytes(blobs[0]) < len(data) // 2
    assert blobs[0].read_bytes() == data


def test_declared_format_checked(allowed, web):
    api = allowed.admin()
    img = queued(api, disk_format="qcow2")
    assert web_import(api, img["id"], web.base + "/file/" + serve(b"\0" * 70000)).status_code == 202
    task, got = wait_done(api, img["id"])
    assert task["status"] == "failure" and got["status"] == "queued"


def test_clients_web_download(allowed, web):
    data = os.urandom(150000)
    uri = web.base + "/file/" + serve(data)
    name = unique("cli-web")
    glance_cli(allowed, "image-create-via-import", "--name", name, "--disk-format", "raw",
               "--container-format", "bare", "--import-method", "web-download", "--uri", uri)
    api = allowed.admin()
    ids = [i["id"] for i in api.get("/v2/images", params={"name": name}).json()["images"]]
    assert len(ids) == 1
    task, got = wait_done(api, ids[0])
    assert got["status"] == "active" and got["checksum"] == hashlib.md5(data).hexdigest()

    img = queued(api)
    glance_cli(allowed, "image-import", "--import-method", "web-download", "--uri", uri, img["id"])
    task, got = wait_done(api, img["id"])
    assert got["status"] == "active"

    conn = sdk_connect(allowed)
    try:
        sdk_img = conn.image.create_image(name=unique("sdk-web"), disk_format="raw", container_format="bare",
                                          allow_duplicates=True)
        conn.image.import_image(sdk_img, method="web-download", uri=uri)
        task, got = wait_done(api, sdk_img.id)
        assert got["status"] == "active" and got["checksum"] == hashlib.md5(data).hexdigest()
    finally:
        conn.close()
