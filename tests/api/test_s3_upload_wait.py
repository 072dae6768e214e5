"""Serving while waiting (issue 14), uploads: an upload into the S3 store
never waits on S3 on the HTTP event loop. When the S3 writer is behind, the
upload pipe's ring fills and the upload's connection is suspended (not the
loop) until a slot frees; the finishing commit (the PUT's answer) runs on
the handler pool. The fault proxy holds S3 PUTs' answers; on one HTTP
thread, catalog GETs complete meanwhile, the upload then completes with
exact checksums, and a client that leaves during the hold leaves nothing."""
import hashlib
import os
import socket
import threading
import uuid

import pytest
import requests

from helpers import active_image, create_image
from test_s3_faults import store_config
from test_s3_wait import GET_TIMEOUT, Hold, one_thread_server, proxy, threads_of, wait_for  # noqa: F401

MIB = 1024 * 1024


def upload_in_thread(srv, image_id, data, path="file", chunked=False):
    result = []

    def run():
        body = data
        if chunked:  # size not known in advance: the S3 store sends parts
            body = (data[i:i + MIB] for i in range(0, len(data), MIB))
        try:
            r = srv.admin().put("/v2/images/%s/%s" % (image_id, path), data=body, timeout=120,
                                headers={"Content-Type": "application/octet-stream"})
            result.append(r.status_code)
        except requests.RequestException as e:  # a stopped server
            result.append(e)
    t = threading.Thread(target=run)
    t.start()
    return t, result


def catalog_gets_complete(api, other):
    for _ in range(3):
        r = api.get("/v2/images", timeout=GET_TIMEOUT)
        assert r.status_code == 200
        r = api.get("/v2/images/%s" % other["id"], timeout=GET_TIMEOUT)
        assert r.status_code == 200 and r.json()["status"] == "active"


@pytest.mark.parametrize("chunked,match", [
    (False, "/images/"),       # one PUT of the whole blob: the commit waits for its answer
    (True, "partNumber="),     # parts: the writer waits, the ring fills, data() would block
])
def test_catalog_gets_complete_while_an_upload_waits_for_s3(start_imsd, obs_s3, proxy, chunked, match):
    srv = one_thread_server(start_imsd, obs_s3, proxy)
    api = srv.admin()
    other = active_image(api, b"another image")
    img = create_image(api, disk_format="raw", container_format="bare")
    data = os.urandom(24 * MIB + 5)
    hold = Hold(proxy, 1, method="PUT", match=match)
    t, result = upload_in_thread(srv, img["id"], data, chunked=chunked)
    try:
        wait_for(lambda: hold.count() == 1, "the upload's S3 PUT to be held", timeout=60)
        catalog_gets_complete(api, other)
        assert t.is_alive()
    finally:
        hold.release()
        t.join(120)
    assert result == [204]
    got = api.get("/v2/images/%s" % img["id"]).json()
    assert got["status"] == "active" and got["size"] == len(data)
    assert got["checksum"] == hashlib.md5(data).hexdigest()
    assert got["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert api.get("/v2/images/%s/file" % img["id"], timeout=60).content == data


def test_catalog_gets_complete_while_a_stage_waits_for_s3(start_imsd, obs_s3, proxy):
    srv = one_thread_server(start_imsd, obs_s3, proxy)
    api = srv.admin()
    other = active_image(api, b"another image")
    img = create_image(api, disk_format="raw", container_format="bare")
    data = os.urandom(24 * MIB + 5)
    hold = Hold(proxy, 1, method="PUT", match="partNumber=")
    t, result = upload_in_thread(srv, img["id"], data, path="stage", chunked=True)
    try:
        wait_for(lambda: hold.count() == 1, "the stage's S3 PUT to be held", timeout=60)
        catalog_gets_complete(api, other)
        assert t.is_alive()
    finally:
        hold.release()
        t.join(120)
    assert result == [204]
    assert api.get("/v2/images/%s" % img["id"]).json()["status"] == "uploading"


def test_a_client_leaving_during_the_hold_leaves_nothing(start_imsd, obs_s3, proxy):
    """The client sends more than the ring holds while the first part's PUT
    is held, then disconnects: imsd serves on, the image goes back to
    queued and the upload's threads end."""
    srv = one_thread_server(start_imsd, obs_s3, proxy)
    api = srv.admin()
    other = active_image(api, b"another image")
    before = threads_of(srv)
    img = create_image(api, disk_format="raw", container_format="bare")
    hold = Hold(proxy, 1, method="PUT", match="partNumber=")
    raw = socket.create_connection(("127.0.0.1", srv.port))
    raw.sendall(("PUT /v2/images/%s/file HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: %s\r\n"
                 "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                 % (img["id"], api.headers["X-Auth-Token"])).encode())
    sent = []

    def send():  # until the server stops reading (the socket's buffers fill) or the socket closes
        chunk = b"%x\r\n" % MIB + os.urandom(MIB) + b"\r\n"
        try:
            for _ in range(40):
                raw.sendall(chunk)
                sent.append(1)
        except OSError:
            pass
    sender = threading.Thread(target=send)
    sender.start()
    try:
        wait_for(lambda: hold.count() == 1, "the first part's S3 PUT to be held", timeout=60)
        wait_for(lambda: len(sent) >= 14, "the ring to fill (%d MiB sent)" % len(sent), timeout=60)
        catalog_gets_complete(api, other)
        raw.shutdown(socket.SHUT_RDWR)
        raw.close()
        sender.join(30)
    finally:
        hold.release()
    wait_for(lambda: api.get("/v2/images/%s" % img["id"]).json()["status"] == "queued",
             "the image to go back to queued", timeout=60)
    catalog_gets_complete(api, other)
    wait_for(lambda: threads_of(srv) <= before, "the upload's threads to end (%d before)" % before, timeout=60)


def test_a_stop_ends_an_upload_waiting_for_s3(start_imsd, obs_s3, proxy):
    """SIGTERM while an upload's first part PUT is held and its connection
    waits suspended for room: imsd resumes it and exits 0 (libmicrohttpd
    aborts a stop with a connection still suspended)."""
    config = store_config(obs_s3, proxy, "sw-" + uuid.uuid4().hex[:20])
    config["store"]["stall_seconds"] = 2
    config["server"] = {"threads": 1, "drain_timeout_ms": 500}
    srv = start_imsd(config=config)
    api = srv.admin()
    img = create_image(api, disk_format="raw", container_format="bare")
    hold = Hold(proxy, 1, method="PUT", match="partNumber=")
    t, result = upload_in_thread(srv, img["id"], os.urandom(24 * MIB), chunked=True)
    try:
        wait_for(lambda: hold.count() == 1, "the first part's S3 PUT to be held", timeout=60)
        srv.ended_by_test = True
        assert srv.stop() == 0, srv.log_tail()
    finally:
        hold.release()
        t.join(60)
    assert result and not t.is_alive()  # ended or completed (a retry of the stalled part may finish it in the drain)
