"""Serving while waiting (issue 14): a download's S3 reads run off the event
loop (lib/http/pump.c), so a slow S3 answer stalls only its own download.
The fault proxy holds the S3 GETs' answers; on one HTTP thread, catalog
GETs complete meanwhile, the downloads then get exact bytes, and clients
that leave during the hold or stop reading leave no thread behind."""
import os
import socket
import threading
import time
import uuid

import pytest
import requests

from fault_proxy import FaultProxy
from helpers import active_image
from test_s3_faults import store_config

MIB = 1024 * 1024
GET_TIMEOUT = 15   # a catalog GET waiting behind the hold would wait its whole length


@pytest.fixture
def proxy(obs_s3):
    p = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    yield p
    p.close()


class Hold:
    """The proxy's held answers: each waits until release()."""

    def __init__(self, proxy, n, method="GET", match="/images/"):
        self.held = 0
        self.lock = threading.Lock()
        self.gate = threading.Event()
        proxy.hold(n, method=method, match=match, on_hold=self._on_hold)

    def _on_hold(self):
        with self.lock:
            self.held += 1
        self.gate.wait(60)

    def count(self):
        with self.lock:
            return self.held

    def release(self):
        self.gate.set()


def wait_for(cond, what, timeout=30):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out waiting for " + what
        time.sleep(0.02)


def one_thread_server(start_imsd, obs_s3, proxy):
    config = store_config(obs_s3, proxy, "sw-" + uuid.uuid4().hex[:20])
    config["server"] = {"threads": 1}
    config["cache"] = {"max_size": 0}   # every download reads S3
    return start_imsd(config=config)


def threads_of(srv):
    return len(os.listdir("/proc/%d/task" % srv.proc.pid))


def test_catalog_gets_complete_while_downloads_wait_for_s3(start_imsd, obs_s3, proxy):
    srv = one_thread_server(start_imsd, obs_s3, proxy)
    api = srv.admin()
    data = os.urandom(3 * MIB + 123)
    img = active_image(api, data)
    hold = Hold(proxy, 2)
    results = [None, None]

    def download(i):
        r = srv.admin().get("/v2/images/%s/file" % img["id"], timeout=120)
        results[i] = (r.status_code, r.content)

    downloads = [threading.Thread(target=download, args=(i,)) for i in range(2)]
    try:
        for t in downloads:
            t.start()
        wait_for(lambda: hold.count() == 2, "both downloads' S3 GETs to be held")
        # the only event loop serves these while both S3 reads wait
        for _ in range(5):
            r = api.get("/v2/images", timeout=GET_TIMEOUT)
            assert r.status_code == 200 and img["id"] in [i["id"] for i in r.json()["images"]]
            r = api.get("/v2/images/%s" % img["id"], timeout=GET_TIMEOUT)
            assert r.status_code == 200 and r.json()["size"] == len(data)
        assert all(t.is_alive() for t in downloads)
    finally:
        hold.release()
        for t in downloads:
            t.join(120)
    assert results == [(200, data), (200, data)]


def test_clients_leaving_during_the_hold_leave_no_thread(start_imsd, obs_s3, proxy):
    """One client disconnects while its download's S3 GET is held, another
    reads one block and stops reading (its pump fills its ring and waits),
    then leaves: imsd serves on and ends both downloads' threads."""
    srv = one_thread_server(start_imsd, obs_s3, proxy)
    api = srv.admin()
    data = os.urandom(6 * MIB + 7)
    img = active_image(api, data)
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    before = threads_of(srv)
    token = api.headers["X-Auth-Token"]
    head = ("GET /v2/images/%s/file HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: %s\r\n\r\n"
            % (img["id"], token)).encode()

    hold = Hold(proxy, 1)
    gone = socket.create_connection(("127.0.0.1", srv.port))
    gone.sendall(head)
    try:
        wait_for(lambda: hold.count() == 1, "the S3 GET to be held")
        gone.close()
        assert api.get("/v2/images", timeout=GET_TIMEOUT).status_code == 200
    finally:
        hold.release()

    slow = socket.create_connection(("127.0.0.1", srv.port))
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.sendall(head)
    assert slow.recv(4096).startswith(b"HTTP/1.1 200")
    assert api.get("/v2/images/%s" % img["id"], timeout=GET_TIMEOUT).status_code == 200
    slow.close()

    r = api.get("/v2/images/%s/file" % img["id"], timeout=60)
    assert r.status_code == 200 and r.content == data
    wait_for(lambda: threads_of(srv) <= before, "the downloads' threads to end (%d before)" % before)


@pytest.mark.parametrize("s3_method,request_method,path,status", [
    ("HEAD", "GET", "/v2/images/%s/file", 200),     # the download's handler asks the data's size
    ("DELETE", "DELETE", "/v2/images/%s", 204),     # the image's data is removed
])
def test_catalog_gets_complete_while_a_handler_waits_for_s3(start_imsd, obs_s3, proxy, s3_method, request_method,
                                                            path, status):
    """Handlers that wait on the S3 store run on the remote pool, not on the
    event loop (SQLite: other handlers run there)."""
    srv = one_thread_server(start_imsd, obs_s3, proxy)
    api = srv.admin()
    data = os.urandom(MIB + 1)
    img = active_image(api, data)
    other = active_image(api, b"another image")
    hold = Hold(proxy, 1, method=s3_method)
    result = []
    t = threading.Thread(target=lambda: result.append(srv.admin().request(request_method, path % img["id"],
                                                                           timeout=120)))
    try:
        t.start()
        wait_for(lambda: hold.count() == 1, "the handler's S3 %s to be held" % s3_method)
        for _ in range(3):
            r = api.get("/v2/images/%s" % other["id"], timeout=GET_TIMEOUT)
            assert r.status_code == 200 and r.json()["size"] == len(b"another image")
        assert t.is_alive()
    finally:
        hold.release()
        t.join(120)
    assert result[0].status_code == status
    if request_method == "GET":
        assert result[0].content == data
    else:
        assert api.get("/v2/images/%s" % img["id"]).status_code == 404


def test_a_stop_ends_a_download_waiting_for_s3(start_imsd, obs_s3, proxy):
    """SIGTERM while a download's S3 GET is held: past the drain time the
    download ends (cut short) and imsd exits 0 (libmicrohttpd aborts a stop
    with a connection still suspended), once the held read stalled out (its
    thread's reader uses the store)."""
    config = store_config(obs_s3, proxy, "sw-" + uuid.uuid4().hex[:20])
    config["store"]["stall_seconds"] = 2
    config["server"] = {"threads": 1, "drain_timeout_ms": 500}
    config["cache"] = {"max_size": 0}
    srv = start_imsd(config=config)
    api = srv.admin()
    data = os.urandom(2 * MIB)
    img = active_image(api, data)
    hold = Hold(proxy, 1)
    got = []

    def download():
        try:
            r = srv.admin().get("/v2/images/%s/file" % img["id"], timeout=60)
            got.append(len(r.content))
        except requests.RequestException as e:
            got.append(e)

    t = threading.Thread(target=download)
    try:
        t.start()
        wait_for(lambda: hold.count() == 1, "the S3 GET to be held")
        srv.ended_by_test = True
        assert srv.stop() == 0, srv.log_tail()
    finally:
        hold.release()
        t.join(60)
    assert got and got[0] != len(data), got
