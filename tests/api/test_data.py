"""Image data: PUT/GET /v2/images/{id}/file, limits, ranges, crash safety."""
import concurrent.futures
import hashlib
import os
import socket
import subprocess
import time
import uuid

import obs_fixtures
import pytest
from helpers import (IMSD_BIN, Api, RawUpload, active_image, clean_env, create_image, files_under, free_port,
                     get_image, kill_hard, md5, pattern_chunks, stored_blobs, trickle, upload, write_ini)

DATA = os.urandom(100 * 1024 + 7)


def new_image(api, **kw):
    kw.setdefault("disk_format", "raw")
    kw.setdefault("container_format", "bare")
    return create_image(api, **kw)


def check_active(api, iid, data):
    img = get_image(api, iid)
    assert img["status"] == "active"
    assert img["size"] == len(data)
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    assert img["os_hash_algo"] == "sha512"
    assert img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    return img


def check_pristine(api, iid):
    img = get_image(api, iid)
    assert img["status"] == "queued"
    assert img["size"] is None
    assert img["checksum"] is None
    assert img["os_hash_value"] is None
    r = api.get("/v2/images/%s/file" % iid)
    assert r.status_code == 204
    assert r.content == b""


def test_upload_with_content_length(alice):
    img = new_image(alice)
    r = upload(alice, img["id"], DATA)
    assert r.status_code == 204, r.text
    check_active(alice, img["id"], DATA)


def test_upload_chunked(alice):
    img = new_image(alice)

    def gen():
        for i in range(0, len(DATA), 10000):
            yield DATA[i:i + 10000]

    r = upload(alice, img["id"], gen())
    assert r.request.headers.get("Transfer-Encoding") == "chunked"
    assert r.status_code == 204, r.text
    check_active(alice, img["id"], DATA)
    r = alice.get("/v2/images/%s/file" % img["id"])
    assert r.content == DATA


def test_upload_empty_body(alice):
    img = new_image(alice)
    r = upload(alice, img["id"], b"")
    assert r.status_code == 204, r.text
    check_active(alice, img["id"], b"")


def test_download(alice):
    img = active_image(alice, data=DATA)
    r = alice.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 200
    assert r.content == DATA
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert int(r.headers["Content-Length"]) == len(DATA)
    # Glance sends the hex md5 checksum as Content-MD5
    assert r.headers["Content-MD5"] == md5(DATA)


def resident_bytes(path):
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", str(path)], capture_output=True,
                         text=True, check=True).stdout
    return int(out.split()[0])


def test_download_reads_through_the_page_cache(imsd, alice):
    """An image read again is served from memory: the download reads the
    blob through the page cache (uploads alone bypass it)."""
    if obs_fixtures.ON_S3:
        pytest.skip("the S3 store keeps no local file of a blob: downloads are ranged GETs")
    data = os.urandom(2 * 1024 * 1024)
    img = active_image(alice, data=data)
    blobs = [f for f in files_under(imsd.data_dir / "images")
             if f.stat().st_size == len(data) and f.read_bytes() == data]
    assert len(blobs) == 1
    fd = os.open(blobs[0], os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    assert resident_bytes(blobs[0]) < len(data) // 2  # out of the cache
    r = alice.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 200
    assert r.content == data
    assert resident_bytes(blobs[0]) >= len(data)  # read through it


def server_side_congestion(port, client_port):
    """The congestion control of imsd's end of one loopback connection (ss -ti), or None."""
    flt = "( sport = :%d and dport = :%d )" % (port, client_port)
    out = subprocess.run(["ss", "-tinH", "state", "connected", flt], capture_output=True, text=True,
                         check=True).stdout.split()
    return next((w for w in out if w in ("reno", "cubic", "bbr", "bbr2", "dctcp", "vegas", "westwood", "htcp")), None)


def test_download_from_this_host_is_not_paced(imsd, alice):
    """A client on this host is sent to unpaced: imsd switches its end of a
    loopback connection to reno (a paced BBR arms a timer per send, which
    halved loopback downloads), and the download is whole."""
    data = os.urandom(3 * 1024 * 1024 + 5)
    iid = active_image(alice, data=data)["id"]
    with socket.create_connection(("127.0.0.1", imsd.port)) as sock:
        sock.sendall(("GET /v2/images/%s/file HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n"
                      "Connection: close\r\n\r\n" % (iid, alice.token)).encode())
        got = b""
        while b"\r\n\r\n" not in got:  # answered: imsd has set up its end
            got += sock.recv(65536)
        assert server_side_congestion(imsd.port, sock.getsockname()[1]) == "reno"
        while True:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            got += chunk
    head, body = got.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200")
    assert body == data


def test_download_range(alice):
    data = bytes(range(256)) * 4           # 1024 bytes
    iid = active_image(alice, data=data)["id"]
    url = "/v2/images/%s/file" % iid
    r = alice.get(url, headers={"Range": "bytes=0-99"})
    assert r.status_code == 206
    assert r.content == data[:100]
    assert r.headers["Content-Range"] == "bytes 0-99/1024"
    assert int(r.headers["Content-Length"]) == 100
    r = alice.get(url, headers={"Range": "bytes=1000-"})
    assert r.status_code == 206
    assert r.content == data[1000:]
    assert r.headers["Content-Range"] == "bytes 1000-1023/1024"
    r = alice.get(url, headers={"Range": "bytes=-24"})
    assert r.status_code == 206
    assert r.content == data[-24:]
    r = alice.get(url, headers={"Range": "bytes=500-5000"})
    assert r.status_code == 206
    assert r.content == data[500:]
    assert r.headers["Content-Range"] == "bytes 500-1023/1024"


def test_download_range_unsatisfiable_416(alice):
    iid = active_image(alice, data=b"z" * 1024)["id"]
    r = alice.get("/v2/images/%s/file" % iid, headers={"Range": "bytes=2000-3000"})
    assert r.status_code == 416


def test_download_no_data_204(alice):
    img = new_image(alice)
    r = alice.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 204
    assert r.content == b""


def test_download_unknown_404(alice):
    assert alice.get("/v2/images/%s/file" % uuid.uuid4()).status_code == 404


def test_download_other_projects_private_404(alice, bob):
    img = active_image(alice, data=b"secret", visibility="private")
    assert bob.get("/v2/images/%s/file" % img["id"]).status_code == 404


def test_download_community_image_by_other_project(alice, bob):
    img = active_image(alice, data=b"community data", visibility="community")
    r = bob.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 200 and r.content == b"community data"


def test_upload_size_header_mismatch_400(alice):
    img = new_image(alice)
    data = b"q" * 1000
    # header claims more than is sent
    r = upload(alice, img["id"], data, headers={"x-openstack-image-size": "2000"})
    assert r.status_code == 400, r.text
    check_pristine(alice, img["id"])
    # header claims less than is sent
    raw = RawUpload(alice_server(alice), alice.token, img["id"], content_length=len(data),
                    headers={"x-openstack-image-size": "500"})
    raw.send(data)
    status, _, _ = raw.response()
    assert status == 400
    check_pristine(alice, img["id"])
    # a matching header is accepted, and no leftover of the failed tries remains
    r = upload(alice, img["id"], data, headers={"x-openstack-image-size": "1000"})
    assert r.status_code == 204, r.text
    check_active(alice, img["id"], data)


def alice_server(api):
    class S:
        port = int(api.base.rsplit(":", 1)[1])
    return S


def test_second_upload_409(alice):
    img = active_image(alice, data=b"first")
    r = upload(alice, img["id"], b"second")
    assert r.status_code == 409
    check_active(alice, img["id"], b"first")
    assert alice.get("/v2/images/%s/file" % img["id"]).content == b"first"


def test_upload_wrong_content_type_415(alice):
    img = new_image(alice)
    r = alice.put("/v2/images/%s/file" % img["id"], data=b"abc",
                  headers={"Content-Type": "application/json"})
    assert r.status_code == 415
    check_pristine(alice, img["id"])


def test_upload_unknown_image_404(alice):
    assert upload(alice, str(uuid.uuid4()), b"abc").status_code == 404


def test_upload_other_projects_image(alice, bob):
    img = new_image(alice, visibility="private")
    assert upload(bob, img["id"], b"abc").status_code == 404
    com = new_image(alice, visibility="community")
    assert upload(bob, com["id"], b"abc").status_code == 403
    check_pristine(alice, com["id"])


def test_upload_requires_token(imsd, alice):
    from helpers import Api
    img = new_image(alice)
    r = Api(imsd.url).put("/v2/images/%s/file" % img["id"], data=b"abc",
                          headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 401
    check_pristine(alice, img["id"])


def test_max_image_size_413(start_imsd):
    limit = 1024 * 1024
    srv = start_imsd(config={"images": {"max_image_size": limit}})
    a = srv.admin()
    # exactly the limit is fine
    ok = new_image(a)
    assert upload(a, ok["id"], b"o" * limit).status_code == 204
    # Content-Length over the limit
    img = new_image(a)
    raw = RawUpload(srv, a.token, img["id"], content_length=limit + 1)
    for chunk in pattern_chunks(limit + 1, chunk=65536):
        if not raw.send(chunk):
            break
    status, _, _ = raw.response()
    assert status == 413
    check_pristine(a, img["id"])
    # chunked body growing over the limit
    raw = RawUpload(srv, a.token, img["id"], headers={"Transfer-Encoding": "chunked"})
    for chunk in pattern_chunks(3 * limit, chunk=65536):
        if not raw.send(b"%x\r\n%s\r\n" % (len(chunk), chunk)):
            break
    raw.send(b"0\r\n\r\n")
    status, _, _ = raw.response()
    assert status == 413
    check_pristine(a, img["id"])
    assert srv.running()
    # the image is still usable
    assert upload(a, img["id"], b"small").status_code == 204
    check_active(a, img["id"], b"small")
    assert files_under(srv.data_dir / "tmp") == []


def test_data_with_and_without_direct_io(start_imsd):
    """[storage] direct_io: both ways keep every byte and serve any range."""
    data = os.urandom(3 * 1024 * 1024 + 4099)  # whole 4 KiB blocks, then a tail
    for direct_io in ("true", "false"):
        srv = start_imsd(config={"storage": {"direct_io": direct_io}})
        a = srv.admin()
        iid = new_image(a)["id"]
        assert upload(a, iid, data).status_code == 204
        check_active(a, iid, data)
        url = "/v2/images/%s/file" % iid
        assert a.get(url).content == data
        for first, last in ((1, 4096), (2 * 1024 * 1024 - 3, 3 * 1024 * 1024 + 5), (len(data) - 5, len(data) - 1)):
            r = a.get(url, headers={"Range": "bytes=%d-%d" % (first, last)})
            assert r.status_code == 206, (direct_io, first)
            assert r.content == data[first:last + 1], (direct_io, first)
        assert files_under(srv.data_dir / "tmp") == []


def test_direct_io_setting_is_checked(tmp_path):
    ini = tmp_path / "imsd.ini"
    write_ini(ini, {"storage": {"direct_io": "maybe"}})
    r = subprocess.run([IMSD_BIN], env=clean_env({"IMSD_CONFIG": str(ini), "IMSD_DATA_DIR": str(tmp_path / "d"),
                                                  "IMSD_LISTEN": "127.0.0.1:%d" % free_port()}),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)
    assert r.returncode != 0
    assert "invalid value for direct_io: 'maybe' (expected true or false)" in r.stderr


def test_concurrent_downloads_and_ranges(alice):
    """Downloads read ahead while they send: many at once, whole and in
    ranges that cross the reader's 4 MiB chunks, each gets its own bytes;
    one abandoned half-way leaves the server serving the others."""
    data = os.urandom(13 * 1024 * 1024 + 77)
    iid = active_image(alice, data=data)["id"]
    url = "/v2/images/%s/file" % iid
    mib = 1024 * 1024
    ranges = [None, (0, 4 * mib), (4 * mib - 1, 9 * mib), (12 * mib + 5, len(data) - 1), None,
              (3, 3), (8 * mib, 8 * mib + 4095), None]

    def fetch(rng):
        s = Api(alice.base, token=alice.token)  # a session per thread
        headers = {"Range": "bytes=%d-%d" % rng} if rng else {}
        r = s.get(url, headers=headers)
        return rng, r.status_code, r.content

    abandoned = alice.get(url, stream=True)
    assert len(next(abandoned.iter_content(256 * 1024))) > 0
    abandoned.close()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        for rng, status, body in pool.map(fetch, ranges * 2):
            if rng is None:
                assert status == 200 and body == data
            else:
                assert status == 206, rng
                assert body == data[rng[0]:rng[1] + 1], rng


def test_one_gib_round_trip(admin):
    total = 1 << 30
    img = new_image(admin)
    up_md5 = hashlib.md5()

    def gen():
        for chunk in pattern_chunks(total):
            up_md5.update(chunk)
            yield chunk

    t0 = time.monotonic()
    r = upload(admin, img["id"], gen())
    assert r.status_code == 204, r.text
    t_up = time.monotonic() - t0
    meta = get_image(admin, img["id"])
    assert meta["status"] == "active"
    assert meta["size"] == total
    assert meta["checksum"] == up_md5.hexdigest()
    assert meta["os_hash_algo"] == "sha512"
    r = admin.get("/v2/images/%s/file" % img["id"], stream=True)
    assert r.status_code == 200
    assert int(r.headers["Content-Length"]) == total
    assert r.headers["Content-MD5"] == up_md5.hexdigest()
    down = hashlib.md5()
    n = 0
    for chunk in r.iter_content(1 << 20):
        down.update(chunk)
        n += len(chunk)
    assert n == total
    assert down.hexdigest() == up_md5.hexdigest()
    t_all = time.monotonic() - t0
    print("1 GiB: upload %.1fs, round trip %.1fs" % (t_up, t_all))
    assert admin.delete("/v2/images/%s" % img["id"]).status_code == 204


def test_crash_mid_upload_leaves_no_partial_data(start_imsd):
    srv = start_imsd()
    a = srv.admin()
    keep_data = os.urandom(256 * 1024)
    keep = active_image(a, data=keep_data)
    victim = new_image(a)
    raw = RawUpload(srv, a.token, victim["id"], content_length=64 << 20)
    trickle(raw, 8 << 20)
    # Glance shows 'saving' while data is being received
    assert get_image(a, victim["id"])["status"] == "saving"
    kill_hard(srv, raw)

    srv2 = start_imsd(data_dir=srv.data_dir)
    a2 = srv2.admin()
    check_pristine(a2, victim["id"])
    k = check_active(a2, keep["id"], keep_data)
    r = a2.get("/v2/images/%s/file" % keep["id"])
    assert r.status_code == 200 and md5(r.content) == k["checksum"]
    leftovers = files_under(srv2.data_dir / "tmp")
    assert leftovers == [], leftovers
    blobs = stored_blobs(srv2)
    assert sum(blobs) == len(keep_data), blobs
    # the image can be uploaded again
    data = os.urandom(4096)
    assert upload(a2, victim["id"], data).status_code == 204
    check_active(a2, victim["id"], data)


def test_sigterm_completes_in_flight_request(start_imsd):
    srv = start_imsd()
    a = srv.admin()
    img = new_image(a)
    data = os.urandom(4 << 20)
    raw = RawUpload(srv, a.token, img["id"], content_length=len(data))
    assert raw.send(data[:1 << 20])
    time.sleep(0.3)
    srv.ended_by_test = True
    srv.proc.terminate()
    time.sleep(0.5)
    assert srv.proc.poll() is None, "imsd exited with a request in flight"
    for i in range(1 << 20, len(data), 1 << 20):
        assert raw.send(data[i:i + (1 << 20)])
    status, _, _ = raw.response()
    assert status == 204
    rc = srv.proc.wait(15)
    assert rc == 0, srv.log_tail()
    srv2 = start_imsd(data_dir=srv.data_dir)
    a2 = srv2.admin()
    check_active(a2, img["id"], data)
