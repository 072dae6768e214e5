"""The node-local image cache of the S3 store ([cache] directory, max_size)
and Glance's cache API (/v2/cache, admin only). Each test starts an imsd on
the S3 server of the obs_s3 fixture (with the suite's database: PostgreSQL
under IMSD_TEST_DATABASE=postgresql) and a small cache bound, and looks at
the cache directory (<data_dir>/cache) itself: data/ holds complete,
verified images only; tmp/ holds nothing once no download fills."""
import hashlib
import os
import socket
import threading
import time
import uuid

import pytest

from helpers import active_image, create_image, unique
from obs_fixtures import s3_request
from test_s3_store import store_config

MIB = 1024 * 1024
BOUND = 3 * MIB


def cache_server(start_imsd, obs_s3, bound):
    bucket = "ca-" + uuid.uuid4().hex[:20]
    config = store_config(obs_s3, bucket)
    config["cache"] = {"max_size": bound}
    srv = start_imsd(config=config)
    srv.bucket = bucket
    srv.s3 = obs_s3
    srv.cache = srv.data_dir / "cache"
    return srv


@pytest.fixture
def cache_imsd(start_imsd, obs_s3):
    return cache_server(start_imsd, obs_s3, BOUND)


def socket_buffers_max():
    """The most the kernel may hold of a download on its way to a client
    whose receive buffer is ABANDON_RCVBUF: imsd's send buffer at its
    largest (tcp_wmem's third value, 4 MiB by default), the client's
    receive buffer (the kernel doubles what is asked) and imsd's block of
    the response (256 KiB, lib/http/server.c)."""
    try:
        wmem = int(open("/proc/sys/net/ipv4/tcp_wmem").read().split()[2])
    except (OSError, IndexError, ValueError):
        wmem = 4 * MIB
    return wmem + 2 * ABANDON_RCVBUF + 256 * 1024


ABANDON_RCVBUF = 16 * 1024
# An image that cannot all be in flight when the client goes away: imsd
# cannot have read it to the end, so the fill is abandoned, never completed.
# (A 2 MiB image could: loopback's buffers took all of it before a loaded
# client closed, and imsd rightly kept the whole, verified file.)
ABANDONED_SIZE = socket_buffers_max() + 2 * MIB


@pytest.fixture
def large_cache_imsd(start_imsd, obs_s3):
    """As cache_imsd, with room for an image of ABANDONED_SIZE."""
    return cache_server(start_imsd, obs_s3, ABANDONED_SIZE + MIB)


def held_download(srv, api, image_id, timeout=60):
    """A GET of the image's data on a socket with a small receive buffer
    whose client reads the response's head and then holds: imsd reads what
    the socket buffers take and waits. The socket and what came past the
    head."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, ABANDON_RCVBUF)  # before connect: a small window
    s.settimeout(timeout)
    s.connect(("127.0.0.1", srv.port))
    s.sendall(("GET /v2/images/%s/file HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Auth-Token: %s\r\nConnection: close\r\n\r\n"
               % (image_id, api.token)).encode())
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(4096)
        assert chunk, "the connection closed before the response's head: %r" % got
        got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return s, body


def abandon_download(srv, api, image_id):
    """GET the image's data on a socket with a small receive buffer, read
    the response's head and go away (close with unread bytes: a reset)."""
    s, _ = held_download(srv, api, image_id, timeout=30)
    s.close()


def listing(path):
    """The names in path; none while the cache has not been written (it is
    made by its first fill or queued image)."""
    return os.listdir(path) if path.exists() else []


def cached_files(srv):
    """{image id: bytes} of the cache's complete files."""
    return {name.split(".")[0]: (srv.cache / "data" / name).read_bytes() for name in listing(srv.cache / "data")}


def temp_files(srv):
    return listing(srv.cache / "tmp")


def download(api, image_id, **kw):
    r = api.get("/v2/images/%s/file" % image_id, **kw)
    assert r.status_code in (200, 206), (r.status_code, r.text)
    return r.content


def srv_blobs(srv):
    status, body = s3_request(srv.s3, "GET", "/%s" % srv.bucket, "prefix=images%2F")
    assert status == 200, body
    return [k.split(b"</Key>")[0].decode() for k in body.split(b"<Key>")[1:]]


def image_with_data(api, size):
    data = os.urandom(size)
    img = active_image(api, data)
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    return img, data


def wait_for(pred, timeout=15, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


def settle(srv):
    """Waits for the fills in progress to end: a fill's thread writes the
    file, checks its md5 and renames it into place after the client has
    every byte (lib/core/cache_filler.c); its temporary file exists from
    before the response's first byte until then."""
    wait_for(lambda: temp_files(srv) == [], what="the fill to end")


def test_first_full_download_fills_the_cache_and_later_ones_read_it(cache_imsd):
    """A download streams from S3 and leaves the verified file; with the S3
    object gone behind imsd's back the next downloads still get the bytes,
    from the cache, and GET /v2/cache counts the hits."""
    api = cache_imsd.admin()
    img, data = image_with_data(api, MIB + 123)
    assert cached_files(cache_imsd) == {}
    assert download(api, img["id"]) == data
    settle(cache_imsd)
    assert cached_files(cache_imsd) == {img["id"]: data}
    assert temp_files(cache_imsd) == []
    keys = srv_blobs(cache_imsd)
    assert len(keys) == 1
    status, _ = s3_request(cache_imsd.s3, "DELETE", "/%s/%s" % (cache_imsd.bucket, keys[0]))
    assert status == 204
    assert download(api, img["id"]) == data
    r = api.get("/v2/images/%s/file" % img["id"], headers={"Range": "bytes=10-19"})
    assert r.status_code == 206 and r.content == data[10:20]
    r = api.get("/v2/cache")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["queued_images"] == []
    [entry] = body["cached_images"]
    assert entry["image_id"] == img["id"] and entry["size"] == len(data)
    assert entry["hits"] == 2
    assert entry["last_accessed"] >= entry["last_modified"] > time.time() - 60


def test_partial_and_ranged_downloads_leave_nothing(large_cache_imsd):
    cache_imsd = large_cache_imsd
    api = cache_imsd.admin()
    img, data = image_with_data(api, ABANDONED_SIZE)
    r = api.get("/v2/images/%s/file" % img["id"], headers={"Range": "bytes=100-"})
    assert r.status_code == 206 and r.content == data[100:]
    r = api.get("/v2/images/%s/file" % img["id"], headers={"Range": "bytes=0-999"})
    assert r.status_code == 206 and r.content == data[:1000]
    # a client that goes away after the first bytes, before imsd can have
    # read the image to its end (ABANDONED_SIZE); imsd sees it go when its
    # next write fails, so the file goes some time after the close
    abandon_download(cache_imsd, api, img["id"])
    wait_for(lambda: temp_files(cache_imsd) == [], what="the abandoned fill's file to go")
    assert cached_files(cache_imsd) == {}
    assert download(api, img["id"]) == data     # a full download still fills it
    settle(cache_imsd)
    assert cached_files(cache_imsd) == {img["id"]: data}


def test_data_that_does_not_match_the_checksum_is_not_cached(cache_imsd):
    """The object replaced behind imsd's back by other bytes of the same
    size: the download gives what S3 has, the cache keeps nothing."""
    api = cache_imsd.admin()
    img, data = image_with_data(api, 100000)
    [key] = srv_blobs(cache_imsd)
    other = os.urandom(len(data))
    status, _ = s3_request(cache_imsd.s3, "PUT", "/%s/%s" % (cache_imsd.bucket, key), data=other)
    assert status == 200
    assert download(api, img["id"]) == other
    settle(cache_imsd)
    assert cached_files(cache_imsd) == {}
    assert temp_files(cache_imsd) == []
    wait_for(lambda: "image cache: not cached: the data read has md5" in cache_imsd.log_path.read_text(),
             what="the fill's warning")


def test_concurrent_downloads_during_the_fill(cache_imsd):
    """Eight downloads at once: one fills, all get the right bytes, one
    file results, no temporary file stays."""
    api = cache_imsd.admin()
    img, data = image_with_data(api, 2 * MIB + 7)
    results = [None] * 8

    def fetch(i):
        s = cache_imsd.admin()
        results[i] = download(s, img["id"])
        s.close()

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(len(results))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == data for r in results)
    settle(cache_imsd)
    assert cached_files(cache_imsd) == {img["id"]: data}
    assert temp_files(cache_imsd) == []
    # and readers while the file is evicted keep reading it
    r = api.get("/v2/images/%s/file" % img["id"], stream=True)
    first = next(r.iter_content(256 * 1024))
    assert api.delete("/v2/cache/%s" % img["id"]).status_code == 204
    assert cached_files(cache_imsd) == {}
    rest = b"".join(r.iter_content(256 * 1024))
    assert first + rest == data


def test_least_recently_used_images_are_evicted_at_the_bound(cache_imsd):
    api = cache_imsd.admin()
    imgs = [image_with_data(api, MIB + 1000) for _ in range(3)]
    (a, da), (b, db), (c, dc) = imgs
    download(api, a["id"])
    settle(cache_imsd)
    time.sleep(0.05)
    download(api, b["id"])
    settle(cache_imsd)
    time.sleep(0.05)
    download(api, a["id"])         # a is used again: b is now the least recently used
    time.sleep(0.05)
    download(api, c["id"])         # 3 x (1 MiB + 1000) > 3 MiB: one goes
    settle(cache_imsd)
    assert set(cached_files(cache_imsd)) == {a["id"], c["id"]}
    total = sum(len(v) for v in cached_files(cache_imsd).values())
    assert total <= BOUND
    # an image larger than the whole cache is never cached
    big, dbig = image_with_data(api, BOUND + 1)
    assert download(api, big["id"]) == dbig
    settle(cache_imsd)
    assert big["id"] not in cached_files(cache_imsd)
    assert temp_files(cache_imsd) == []


def test_deleting_the_image_drops_its_file(cache_imsd):
    api = cache_imsd.admin()
    img, data = image_with_data(api, 4096)
    keep, kdata = image_with_data(api, 4096)
    download(api, img["id"])
    download(api, keep["id"])
    settle(cache_imsd)
    assert set(cached_files(cache_imsd)) == {img["id"], keep["id"]}
    assert api.delete("/v2/images/%s" % img["id"]).status_code == 204
    assert set(cached_files(cache_imsd)) == {keep["id"]}
    assert [e["image_id"] for e in api.get("/v2/cache").json()["cached_images"]] == [keep["id"]]


def test_deleting_through_another_process_drops_the_file_at_the_listing(cache_imsd, start_imsd):
    """Another imsd on the same database (another node): its delete drops
    its own cache's file; this node's GET /v2/cache drops the stale one."""
    api = cache_imsd.admin()
    img, data = image_with_data(api, 4096)
    download(api, img["id"])
    settle(cache_imsd)
    assert set(cached_files(cache_imsd)) == {img["id"]}
    config = dict(cache_imsd.config)
    config["cache"] = {"max_size": BOUND, "directory": str(cache_imsd.root / "other-cache")}
    other = start_imsd(config=config, data_dir=cache_imsd.data_dir)
    assert other.admin().delete("/v2/images/%s" % img["id"]).status_code == 204
    assert api.get("/v2/cache").json()["cached_images"] == []
    assert cached_files(cache_imsd) == {}


def test_queue_belongs_to_the_node_that_answers(cache_imsd, start_imsd):
    """As Glance's, the cache API manages the cache of the node that answers
    (README): an image queued through another node is filled into that
    node's cache and listed there, never in this node's."""
    api = cache_imsd.admin()
    img, data = image_with_data(api, 4096)
    config = dict(cache_imsd.config)
    other_cache = cache_imsd.root / "other-cache"
    config["cache"] = {"max_size": BOUND, "directory": str(other_cache)}
    other = start_imsd(config=config, data_dir=cache_imsd.data_dir)
    oapi = other.admin()
    assert oapi.put("/v2/cache/%s" % img["id"]).status_code == 202
    wait_for(lambda: listing(other_cache / "data"), what="the other node's prefetcher")
    assert [n.split(".")[0] for n in listing(other_cache / "data")] == [img["id"]]
    assert [e["image_id"] for e in oapi.get("/v2/cache").json()["cached_images"]] == [img["id"]]
    assert cached_files(cache_imsd) == {}
    assert api.get("/v2/cache").json() == {"cached_images": [], "queued_images": []}


@pytest.fixture
def glance_cache(cache_imsd):
    from glanceclient import Client
    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    from helpers import ADMIN_PASSWORD, ADMIN_PROJECT, ADMIN_USER, DEFAULT_DOMAIN
    auth = v3.Password(auth_url=cache_imsd.auth_url, username=ADMIN_USER, password=ADMIN_PASSWORD,
                       project_name=ADMIN_PROJECT, user_domain_name=DEFAULT_DOMAIN,
                       project_domain_name=DEFAULT_DOMAIN)
    return Client("2", session=session.Session(auth=auth)).cache


def test_glanceclient_queue_list_delete_clear(cache_imsd, glance_cache):
    api = cache_imsd.admin()
    img, data = image_with_data(api, MIB)
    other, odata = image_with_data(api, 1000)
    glance_cache.queue(img["id"])
    state = wait_for(lambda: (lambda s: s if s["cached_images"] else None)(glance_cache.list()),
                     what="the prefetcher to fill the queued image")
    assert [e["image_id"] for e in state["cached_images"]] == [img["id"]]
    assert state["queued_images"] == []
    assert cached_files(cache_imsd) == {img["id"]: data}
    glance_cache.delete(img["id"])
    assert glance_cache.list()["cached_images"] == []
    # clear: only the queue, only the cache, both
    download(api, other["id"])
    settle(cache_imsd)
    (cache_imsd.cache / "queue" / img["id"]).touch()   # a queue entry the prefetcher has not taken yet
    glance_cache.clear("queue")
    assert not (cache_imsd.cache / "queue" / img["id"]).exists()
    assert set(cached_files(cache_imsd)) == {other["id"]}
    glance_cache.clear("cache")
    assert cached_files(cache_imsd) == {}
    download(api, other["id"])
    settle(cache_imsd)
    glance_cache.clear("both")
    assert glance_cache.list() == {"cached_images": [], "queued_images": []}


def test_refusals(cache_imsd, start_imsd):
    api = cache_imsd.admin()
    user = cache_imsd.project_user()
    mine = active_image(user, b"x" * 5000)
    for method, path in (("GET", "/v2/cache"), ("DELETE", "/v2/cache"), ("PUT", "/v2/cache/" + mine["id"]),
                         ("DELETE", "/v2/cache/" + mine["id"])):
        r = user.request(method, path)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    assert listing(cache_imsd.cache / "queue") == []
    missing = str(uuid.uuid4())
    assert api.put("/v2/cache/" + missing).status_code == 404
    assert api.delete("/v2/cache/" + missing).status_code == 404
    assert api.put("/v2/cache/not-an-id").status_code == 404
    queued = create_image(api, name=unique("nodata"), disk_format="raw", container_format="bare")
    r = api.put("/v2/cache/" + queued["id"])
    assert r.status_code == 400 and "Only images with status active" in r.text, r.text
    r = api.delete("/v2/cache", headers={"x-image-cache-clear-target": "everything"})
    assert r.status_code == 400, r.text
    assert api.get("/v2/cache").json() == {"cached_images": [], "queued_images": []}


def test_file_store_images_are_not_cached(start_imsd):
    """On the file store a download is the blob's own file (page cache):
    nothing is cached, the API lists nothing, queueing is accepted and
    leaves no entry."""
    srv = start_imsd(config={"store": {"backend": "file"}})
    api = srv.admin()
    img, data = image_with_data(api, 100000)
    assert download(api, img["id"]) == data
    assert download(api, img["id"]) == data
    assert api.put("/v2/cache/" + img["id"]).status_code == 202
    assert api.get("/v2/cache").json() == {"cached_images": [], "queued_images": []}
    assert not (srv.data_dir / "cache").exists()
    assert api.delete("/v2/cache/" + img["id"]).status_code == 204
    assert api.delete("/v2/cache").status_code == 204


def test_cache_off(start_imsd, obs_s3):
    """max_size = 0: no cache; the API answers with empty lists."""
    config = store_config(obs_s3, "co-" + uuid.uuid4().hex[:20])
    config["cache"] = {"max_size": 0}
    srv = start_imsd(config=config)
    api = srv.admin()
    img, data = image_with_data(api, 1000)
    assert download(api, img["id"]) == data
    assert not (srv.data_dir / "cache").exists()
    assert api.put("/v2/cache/" + img["id"]).status_code == 202
    assert api.get("/v2/cache").json() == {"cached_images": [], "queued_images": []}
