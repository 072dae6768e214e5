"""Image data on the S3 store ([store] backend = s3) against a real
S3-compatible server (OpenStack Swift with s3api, which checks SigV4), started
by the obs_s3 fixture: uploads go up while they arrive, as one PUT when their
size is known (Content-Length) and as multipart uploads when not, downloads and Range requests are ranged GETs, deletes remove the object, an
interrupted upload leaves nothing behind. (IMSD_TEST_STORE=s3, part of
`make test`, runs the whole suite on this store as well.)"""
import hashlib
import os
import shutil
import socket
import time
import uuid

import pytest

from helpers import active_image, create_image, get_image, upload
from obs_fixtures import s3_keys, s3_request, s3_uploads

MIB = 1024 * 1024
PART = 5 * MIB   # the smallest part S3 takes


def store_config(env, bucket, part=PART):
    return {"store": {"backend": "s3", "endpoint": env["S3_ENDPOINT"], "region": env["S3_REGION"],
                      "bucket": bucket, "access_key": env["S3_ACCESS_KEY"], "secret_key": env["S3_SECRET_KEY"],
                      "part_size": part},
            "images": {"max_image_size": 64 * MIB}}


@pytest.fixture
def s3_imsd(start_imsd, obs_s3):
    bucket = "st-" + uuid.uuid4().hex[:20]
    srv = start_imsd(config=store_config(obs_s3, bucket))
    srv.bucket = bucket
    srv.s3 = obs_s3
    return srv


def images_in(srv):
    return s3_keys(srv.s3, srv.bucket, "images/")


def chunked(data):
    """A body requests sends chunked: a size not known in advance (no
    empty chunk: requests would send it as a second last-chunk)."""
    for i in range(0, len(data), MIB):
        yield data[i:i + MIB]


@pytest.mark.parametrize("sized", [True, False], ids=["content-length", "chunked"])
def test_round_trip_in_parts_and_ranges(s3_imsd, sized):
    """Three sizes: empty, smaller than a part (one PUT) and 2 parts and a
    bit (one streamed PUT with a Content-Length, a multipart upload when
    chunked); each object is the image's bytes, downloads and Ranges (one
    across a part boundary) give them back, digests match, no multipart
    upload stays open, and deleting an image removes its object."""
    api = s3_imsd.admin()
    sizes = [0, 1000, 2 * PART + 12345]
    made = {}
    for size in sizes:
        data = os.urandom(size)
        img = create_image(api, disk_format="raw", container_format="bare")
        assert upload(api, img["id"], data if sized else chunked(data)).status_code == 204
        img = get_image(api, img["id"])
        assert img["size"] == size and img["checksum"] == hashlib.md5(data).hexdigest()
        assert img["os_hash_value"] == hashlib.sha512(data).hexdigest()
        made[img["id"]] = data
    objects = images_in(s3_imsd)
    assert sorted(objects.values()) == sorted(sizes), objects
    assert s3_uploads(s3_imsd.s3, s3_imsd.bucket) == 0
    for image_id, data in made.items():
        r = api.get("/v2/images/%s/file" % image_id)
        assert r.status_code == 200 and r.content == data, (image_id, r.status_code)
    big = next(i for i, d in made.items() if len(d) == sizes[2])
    data = made[big]
    for first, last in [(PART - 10, PART + 9), (0, 0), (2 * PART, len(data) - 1), (len(data) - 5, len(data) - 1)]:
        r = api.get("/v2/images/%s/file" % big, headers={"Range": "bytes=%d-%d" % (first, last)})
        assert r.status_code == 206, (first, last, r.status_code, r.text[:200])
        assert r.content == data[first:last + 1]
        assert r.headers["Content-Range"] == "bytes %d-%d/%d" % (first, last, len(data))
    r = api.get("/v2/images/%s/file" % big, headers={"Range": "bytes=-7"})
    assert r.status_code == 206 and r.content == data[-7:]
    r = api.get("/v2/images/%s/file" % big, headers={"Range": "bytes=%d-" % len(data)})
    assert r.status_code == 416
    # deleting the image deletes its object, and only its
    assert api.delete("/v2/images/%s" % big).status_code == 204
    left = images_in(s3_imsd)
    assert sorted(left.values()) == sorted(sizes[:2]), left
    api.close()


@pytest.mark.parametrize("sized", [True, False], ids=["content-length", "chunked"])
def test_interrupted_upload_leaves_nothing(s3_imsd, sized):
    """A client that goes away after sending more than a part: the one PUT
    (Content-Length) or the multipart upload (chunked) is aborted (no part
    stays on the server), no object appears and the image is queued again,
    ready for a new upload."""
    api = s3_imsd.admin()
    img = create_image(api, disk_format="raw", container_format="bare")
    token = api.headers["X-Auth-Token"]
    size = 4 * PART
    sent = 2 * PART + 4096
    framing = "Content-Length: %d" % size if sized else "Transfer-Encoding: chunked"
    with socket.create_connection(("127.0.0.1", s3_imsd.port)) as s:
        s.sendall(("PUT /v2/images/%s/file HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: %s\r\n"
                   "Content-Type: application/octet-stream\r\n%s\r\n\r\n"
                   % (img["id"], token, framing)).encode())
        chunk = os.urandom(MIB)
        left = sent
        while left:
            n = min(left, len(chunk))
            s.sendall(chunk[:n] if sized else b"%x\r\n" % n + chunk[:n] + b"\r\n")
            left -= n
        time.sleep(1.0)  # the first parts are on their way
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if get_image(api, img["id"])["status"] == "queued" and s3_uploads(s3_imsd.s3, s3_imsd.bucket) == 0:
            break
        time.sleep(0.2)
    assert get_image(api, img["id"])["status"] == "queued"
    assert s3_uploads(s3_imsd.s3, s3_imsd.bucket) == 0
    assert images_in(s3_imsd) == {}
    data = os.urandom(PART + 1)
    assert upload(api, img["id"], data).status_code == 204
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    api.close()


def test_missing_object_is_not_a_crash(s3_imsd):
    """An object removed behind imsd's back: the download is an error
    answer (not a hang, not a dead process), the rest keeps working."""
    api = s3_imsd.admin()
    img = active_image(api, b"x" * 5000)
    (key,) = images_in(s3_imsd)
    status, _ = s3_request(s3_imsd.s3, "DELETE", "/%s/%s" % (s3_imsd.bucket, key))
    assert status == 204
    r = api.get("/v2/images/%s/file" % img["id"])
    assert r.status_code in (404, 500, 503) and r.status_code != 200, r.status_code
    assert s3_imsd.running()
    other = active_image(api, b"y" * 10)
    assert api.get("/v2/images/%s/file" % other["id"]).content == b"y" * 10
    api.close()


def test_refused_configurations(start_imsd, obs_s3, tmp_path):
    """A wrong secret, an invalid bucket name, an unknown backend: imsd
    does not start, and says why (never with the secret)."""
    from helpers import Server
    bad = [
        (dict(store_config(obs_s3, "st-" + uuid.uuid4().hex[:12])["store"], secret_key="wrong-secret"),
         "bucket"),
        (dict(store_config(obs_s3, "Not_A_Bucket")["store"]), "bucket must be a valid"),
        ({"backend": "tape"}, "invalid [store] backend 'tape'"),
        (dict(store_config(obs_s3, "st-x1")["store"], part_size=1000), "part_size"),
    ]
    for store, words in bad:
        srv = Server(config={"store": store})
        with pytest.raises(AssertionError) as e:
            srv.start(timeout=20)
        assert words in str(e.value), (store, str(e.value)[-600:])
        assert "wrong-secret" not in srv.log_path.read_text(errors="replace")
        shutil.rmtree(srv.root, ignore_errors=True)


# -- blobs shared by the nodes of one cloud: one PostgreSQL database, one bucket

def start_nodes(start_imsd, obs_s3, tmp_path, n=2, lease=None):
    import pg_fixture
    database = pg_fixture.new_database()
    bucket = "gc-" + uuid.uuid4().hex[:20]
    key = os.urandom(32).hex()
    nodes = []
    for i in range(n):
        config = store_config(obs_s3, bucket)
        config.update({"database": {"connection": database}, "identity": {"token_key": key}})
        if lease:
            config["images"]["upload_lease_seconds"] = lease
        srv = start_imsd(config=config, data_dir=tmp_path / ("node%d" % i))
        srv.bucket, srv.s3, srv.database = bucket, obs_s3, database
        nodes.append(srv)
    return nodes


def blob_rows(srv):
    """{location: (refs, writer, lease_until)} of the shared database."""
    import pg_fixture
    rows = pg_fixture.query(srv.database, "SELECT location, refs, COALESCE(writer, ''), lease_until FROM blobs")
    return {loc: (int(refs), writer, int(until)) for loc, refs, writer, until in rows}


def test_a_blob_two_images_share_outlives_one_delete_across_nodes(start_imsd, obs_s3, tmp_path):
    """An image uploaded through node 0, replicated through node 1 (the copy
    references the same blob: refs 2, one object); the source deleted through
    node 0: the blob stays (refs 1) and node 1 still serves the copy; the
    copy deleted through node 1: row and object are gone."""
    from helpers import Api
    from job_helpers import run
    n0, n1 = start_nodes(start_imsd, obs_s3, tmp_path)
    api0 = n0.admin()
    api1 = Api(n1.url, api0.token)
    api1.project_id = api0.project_id
    data = os.urandom(PART + 99)
    src = active_image(api0, data, visibility="private")
    job = run(api1, "POST", "/v1/cloudimages/%s/copy" % src["id"], {"name": "shared"})
    assert job["status"] == "SUCCESS", job
    copy_id = job["entities"]["image_id"]
    (obj,) = images_in(n0)
    loc = "s3://" + obj[len("images/"):]
    assert blob_rows(n0) == {loc: (2, "", blob_rows(n0)[loc][2])}
    assert api0.delete("/v2/images/%s" % src["id"]).status_code == 204
    assert blob_rows(n0)[loc][0] == 1
    assert list(images_in(n0)) == [obj]
    r = api1.get("/v2/images/%s/file" % copy_id)
    assert r.status_code == 200 and r.content == data
    assert api1.delete("/v2/images/%s" % copy_id).status_code == 204
    assert blob_rows(n0) == {}
    assert images_in(n0) == {}
    api0.close()
    api1.close()


def kill_mid_upload(srv, api, img):
    """Sends srv more than two parts of an upload of img of unknown size
    (chunked: the multipart path), waits for its multipart upload to be
    open on S3, then SIGKILLs srv."""
    s = socket.create_connection(("127.0.0.1", srv.port))
    s.sendall(("PUT /v2/images/%s/file HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: %s\r\n"
               "Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
               % (img["id"], api.headers["X-Auth-Token"])).encode())
    chunk = os.urandom(MIB)
    for _ in range(2 * PART // MIB + 1):
        s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    deadline = time.monotonic() + 30
    while s3_uploads(srv.s3, srv.bucket) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert s3_uploads(srv.s3, srv.bucket) == 1
    time.sleep(1.0)  # the first parts arrive
    srv.kill()
    srv.ended_by_test = True
    s.close()


def test_a_node_killed_during_one_put_leaves_nothing_on_s3(start_imsd, obs_s3, tmp_path):
    """imsd SIGKILLed in the middle of the one PUT of an upload of known
    size: the server stores nothing of a PUT whose body broke off, so the
    bucket is empty at once; the restart ends the dead writer's claim and
    the image is back in queued, and takes a new upload."""
    (n0,) = start_nodes(start_imsd, obs_s3, tmp_path, n=1)
    api = n0.admin()
    img = create_image(api, disk_format="raw", container_format="bare")
    s = socket.create_connection(("127.0.0.1", n0.port))
    s.sendall(("PUT /v2/images/%s/file HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: %s\r\n"
               "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
               % (img["id"], api.headers["X-Auth-Token"], 6 * PART)).encode())
    chunk = os.urandom(MIB)
    for _ in range(2 * PART // MIB + 1):
        s.sendall(chunk)
    deadline = time.monotonic() + 30
    while not blob_rows(n0) and time.monotonic() < deadline:   # the writer registered: its PUT is going
        time.sleep(0.1)
    time.sleep(1.0)  # the first bytes arrive
    n0.kill()
    n0.ended_by_test = True
    s.close()
    deadline = time.monotonic() + 10
    while images_in(n0) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert images_in(n0) == {} and s3_uploads(obs_s3, n0.bucket) == 0
    n0.ended_by_test = False
    n0.start()
    assert blob_rows(n0) == {}
    api = n0.admin()
    assert get_image(api, img["id"])["status"] == "queued"
    data = os.urandom(2 * PART + 7)
    assert upload(api, img["id"], data).status_code == 204
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    api.close()


def test_a_killed_writers_blob_is_collected_only_after_its_lease(start_imsd, obs_s3, tmp_path):
    """Node 0 is SIGKILLed in the middle of an upload (two parts already on
    S3 in a multipart upload): its blob row keeps node 0's lease, and node 1,
    which collects every lease/3 seconds, leaves the multipart upload alone
    until the lease has run out, then aborts it and deletes the row."""
    lease = 6
    n0, n1 = start_nodes(start_imsd, obs_s3, tmp_path, lease=lease)
    api = n0.admin()
    img = create_image(api, disk_format="raw", container_format="bare")
    kill_mid_upload(n0, api, img)
    (loc, (refs, writer, until)), = blob_rows(n1).items()
    assert refs == 0 and writer, (refs, writer)
    # before the lease runs out, node 1's collector (every 2 s) takes nothing
    while time.time() < until - 1:
        assert s3_uploads(obs_s3, n1.bucket) == 1, "collected before the writer's lease ran out"
        assert loc in blob_rows(n1)
        time.sleep(0.5)
    deadline = time.time() + lease + 10
    while time.time() < deadline and (loc in blob_rows(n1) or s3_uploads(obs_s3, n1.bucket)):
        time.sleep(0.5)
    assert blob_rows(n1) == {}
    assert s3_uploads(obs_s3, n1.bucket) == 0
    assert images_in(n1) == {}
    api.close()


def test_a_restart_aborts_what_its_killed_predecessor_was_uploading(start_imsd, obs_s3, tmp_path):
    """imsd SIGKILLed in the middle of an upload (a multipart upload open on
    S3), then started again on the same host with the default lease (60 s):
    its start knows the writer is gone, so the multipart upload is aborted
    and the blob row deleted at once, not a lease later; the image is back
    in queued (as Glance leaves an image whose upload failed) and takes a
    new upload."""
    (n0,) = start_nodes(start_imsd, obs_s3, tmp_path, n=1)
    api = n0.admin()
    img = create_image(api, disk_format="raw", container_format="bare")
    kill_mid_upload(n0, api, img)
    assert s3_uploads(obs_s3, n0.bucket) == 1
    (loc, (refs, writer, until)), = blob_rows(n0).items()
    assert refs == 0 and writer and until > time.time() + 30, (refs, writer, until)
    n0.ended_by_test = False
    n0.start()
    assert s3_uploads(obs_s3, n0.bucket) == 0, "the restart left its predecessor's multipart upload open"
    assert blob_rows(n0) == {}
    api = n0.admin()
    assert get_image(api, img["id"])["status"] == "queued"
    data = os.urandom(PART + 7)
    assert upload(api, img["id"], data).status_code == 204
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    api.close()


def test_a_killed_nodes_upload_goes_back_to_queued_on_another_node(start_imsd, obs_s3, tmp_path):
    """Node 0 SIGKILLed mid-upload and never started again: node 1 returns
    the image to queued once the upload's lease has run out (its lease
    keeper, not only a start, recovers interrupted uploads), and the image
    takes a new upload through node 1."""
    from helpers import Api
    lease = 6
    n0, n1 = start_nodes(start_imsd, obs_s3, tmp_path, lease=lease)
    api = n0.admin()
    api1 = Api(n1.url, api.token)
    api1.project_id = api.project_id
    img = create_image(api, disk_format="raw", container_format="bare")
    kill_mid_upload(n0, api, img)
    assert get_image(api1, img["id"])["status"] == "saving"
    deadline = time.time() + 2 * lease + 10
    while time.time() < deadline and get_image(api1, img["id"])["status"] == "saving":
        time.sleep(0.5)
    assert get_image(api1, img["id"])["status"] == "queued"
    data = os.urandom(1000)
    assert upload(api1, img["id"], data).status_code == 204
    assert api1.get("/v2/images/%s/file" % img["id"]).content == data
    api1.close()


def test_start_up_sweep_removes_only_objects_no_row_names(start_imsd, obs_s3, tmp_path):
    """The start-up sweep with no grace ([storage] recovery_grace_seconds =
    0): an object under images/ that no blob row names (what a crash
    between a commit and its row leaves) is removed; an image's object,
    whose row the sweep looks up, stays and is still served. The old
    objects are asked about in one query, not one each (on PostgreSQL a
    round trip per object was the sweep's cost)."""
    bucket = "sw-" + uuid.uuid4().hex[:20]
    config = store_config(obs_s3, bucket)
    config["storage"] = {"recovery_grace_seconds": 0}
    srv = start_imsd(config=config, data_dir=tmp_path / "node")
    srv.bucket, srv.s3 = bucket, obs_s3
    api = srv.admin()
    data = os.urandom(1000)
    img = active_image(api, data)
    (kept,) = images_in(srv)
    orphans = {"images/" + str(uuid.uuid4()) for _ in range(20)}
    for orphan in orphans:
        status, _ = s3_request(obs_s3, "PUT", "/%s/%s" % (bucket, orphan), data=b"left by a crash")
        assert status == 200
    assert set(images_in(srv)) == {kept} | orphans
    assert srv.stop() == 0
    time.sleep(1.1)  # older than the grace of 0 s, to the second
    log_start = srv.log_path.stat().st_size
    srv.start()
    assert set(images_in(srv)) == {kept}
    log = srv.log_path.read_bytes()[log_start:].decode(errors="replace")
    assert "21 blob(s) older than the grace looked up in 1 query" in log, srv.log_tail()
    api = srv.admin()
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    api.close()
