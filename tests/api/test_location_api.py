"""Glance 2.17's Add Location and Get Locations (POST and GET
/v2/images/{id}/locations) behind [images] location_api, off by default
(404, as a Glance without them). Neither python-glanceclient nor
openstacksdk as installed offer the calls, so they go as raw requests
through openstacksdk's session (its image adapter, the token it got from
imsd's Keystone). The data lives on an S3 store (s3://<key>, a scheme a
client may name; file:// is restricted as Glance's).

Add: the image's project, an admin or the service role; only on a queued
image (409); the location is checked as a PATCH's (a configured store's,
data it holds, data the caller may read); validation_data's digests must be
the data's (400, the image stays queued); the image becomes active on the
data with its size and digests. Get: the service role only (Glance's
fetch_image_location), which only a cloud administrator gives."""
import hashlib
import threading
import time
import uuid

import pytest

from fault_proxy import FaultProxy
from helpers import PATCH_21, RawUpload, active_image, sdk_connect, unique

DATA = b"location api data\n" * 100
MD5, SHA = hashlib.md5(DATA).hexdigest(), hashlib.sha512(DATA).hexdigest()


@pytest.fixture(scope="module")
def proxy(obs_s3):
    """Between imsd and its S3 store, passing everything but the faults a test sets."""
    p = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    yield p
    p.close()


@pytest.fixture(scope="module")
def srv(module_imsd, obs_s3, proxy):
    bucket = "locapi-" + uuid.uuid4().hex[:20]
    return module_imsd(config={
        "images": {"location_api": "true", "show_multiple_locations": "true"},
        "store": {"backend": "s3", "endpoint": proxy.endpoint, "region": obs_s3["S3_REGION"],
                  "bucket": bucket, "access_key": obs_s3["S3_ACCESS_KEY"], "secret_key": obs_s3["S3_SECRET_KEY"]}})


class Sdk:
    """openstacksdk's image adapter as api's user: raw calls on the SDK's session."""

    def __init__(self, srv, api):
        self.conn = sdk_connect(srv, api.user_name, api.password, api.project_name)

    def add(self, image_id, body):
        return self.conn.image.post("/images/%s/locations" % image_id, json=body, raise_exc=False)

    def get(self, image_id):
        return self.conn.image.get("/images/%s/locations" % image_id, raise_exc=False)

    def close(self):
        self.conn.close()


def queued(api):
    r = api.post("/v2/images", json={"name": unique("q"), "disk_format": "raw", "container_format": "bare"})
    assert r.status_code == 201, r.text
    return r.json()


def location_of(api, image_id):
    [loc] = api.get("/v2/images/%s" % image_id).json()["locations"]
    return loc["url"]


def grant(srv, api, role):
    admin = srv.admin()
    r = admin.put("/v3/projects/%s/users/%s/roles/%s" % (api.project_id, api.user_id, role))
    assert r.status_code == 204, r.text
    return srv.session(api.user_name, api.password, api.project_name)  # a role change ends old tokens


def test_off_by_default(imsd, make_project_user):
    api = make_project_user()
    img = active_image(api, data=DATA)
    q = queued(api)
    sdk = Sdk(imsd, api)
    try:
        r = sdk.add(q["id"], {"url": "s3://%s" % uuid.uuid4()})
        assert r.status_code == 404, r.text
        assert sdk.get(img["id"]).status_code == 404
    finally:
        sdk.close()
    assert api.get("/v2/images/%s" % q["id"]).json()["status"] == "queued"
    versions = api.get("/").json()["versions"]
    assert versions[0]["id"] == "v2.16" and versions[0]["status"] == "CURRENT"
    assert "v2.17" not in [v["id"] for v in versions]


def test_version_2_17_is_current_with_the_calls(srv):
    import requests
    versions = requests.get(srv.url + "/versions").json()["versions"]
    assert [(v["id"], v["status"]) for v in versions[:2]] == [("v2.17", "CURRENT"), ("v2.16", "SUPPORTED")]
    assert [v["status"] for v in versions].count("CURRENT") == 1
    # openstacksdk discovers the image API at it
    api = srv.project_user()
    c = Sdk(srv, api)
    try:
        assert c.conn.image.get_api_major_version()[0] == 2
        assert c.conn.image.get("/images", raise_exc=False).status_code == 200
    finally:
        c.close()


def test_a_queued_image_takes_a_location(srv):
    api = srv.project_user()
    src = active_image(api, data=DATA)
    url = location_of(api, src["id"])
    assert url.startswith("s3://"), url
    sdk = Sdk(srv, api)
    try:
        q = queued(api)
        # validation data that is not the data's: refused, the image stays queued
        bad = {"url": url, "validation_data": {"os_hash_algo": "sha512",
                                               "os_hash_value": hashlib.sha512(b"other").hexdigest()}}
        r = sdk.add(q["id"], bad)
        assert r.status_code == 400 and "does not match" in r.text, r.text
        assert api.get("/v2/images/%s" % q["id"]).json()["status"] == "queued"
        r = sdk.add(q["id"], {"url": url, "validation_data": {"os_hash_algo": "sha512", "os_hash_value": "ab"}})
        assert r.status_code == 409 and "not the correct size" in r.text, r.text
        r = sdk.add(q["id"], {"url": url, "validation_data": {"os_hash_algo": "sha512", "os_hash_value": SHA}})
        assert r.status_code == 202, r.text
        got = api.get("/v2/images/%s" % q["id"]).json()
        assert got["status"] == "active" and got["size"] == len(DATA), got
        assert got["checksum"] == MD5 and got["os_hash_algo"] == "sha512" and got["os_hash_value"] == SHA
        assert got["locations"] == [{"url": url, "metadata": {}}]
        assert api.get("/v2/images/%s/file" % q["id"]).content == DATA
        # only a queued image: 409, as Glance
        r = sdk.add(q["id"], {"url": url})
        assert r.status_code == 409 and "if image status is active" in r.text, r.text
        # without validation data the digests are the data's all the same
        q2 = queued(api)
        assert sdk.add(q2["id"], {"url": url}).status_code == 202
        got = api.get("/v2/images/%s" % q2["id"]).json()
        assert got["status"] == "active" and got["checksum"] == MD5 and got["os_hash_value"] == SHA, got
        # the data outlives the image it came from
        assert api.delete("/v2/images/%s" % src["id"]).status_code == 204
        assert api.get("/v2/images/%s/file" % q2["id"]).content == DATA
    finally:
        sdk.close()


def test_bad_bodies_and_locations(srv):
    api = srv.project_user()
    src = active_image(api, data=DATA)
    url = location_of(api, src["id"])
    q = queued(api)
    sdk = Sdk(srv, api)
    try:
        for body in ({}, {"url": 7}, {"url": url, "metadata": {}}, {"url": url, "extra": 1}, [url], "x",
                     {"url": "s3://" + "a" * 300}, {"url": url, "validation_data": {"md5": MD5}}):
            r = sdk.add(q["id"], body)
            assert r.status_code == 400, (body, r.status_code, r.text)
        for bad_url in ("file:///etc/passwd", "http://example.com/x", "s3://%s" % uuid.uuid4()):
            r = sdk.add(q["id"], {"url": bad_url})
            assert r.status_code == 400, (bad_url, r.text)
        r = sdk.add(str(uuid.uuid4()), {"url": url})
        assert r.status_code == 404, r.text
    finally:
        sdk.close()
    assert api.get("/v2/images/%s" % q["id"]).json()["status"] == "queued"


def test_who_may_add(srv):
    """Another project's data: 400 "Invalid location" (the data must be
    readable); another project's image: 404 (not visible); a reader: 403;
    an admin may add to any project's image and name any data."""
    owner, other = srv.project_user(), srv.project_user()
    src = active_image(owner, data=DATA + b"private")
    url = location_of(owner, src["id"])
    q = queued(other)
    sdk = Sdk(srv, other)
    try:
        r = sdk.add(q["id"], {"url": url})
        assert r.status_code == 400 and "Invalid location" in r.text, r.text
        mine = queued(owner)
        assert sdk.add(mine["id"], {"url": url}).status_code == 404
    finally:
        sdk.close()
    assert other.get("/v2/images/%s" % q["id"]).json()["status"] == "queued"
    reader = srv.project_user()
    rq = queued(reader)
    admin = srv.admin()
    assert admin.delete("/v3/projects/%s/users/%s/roles/member" % (reader.project_id, reader.user_id)).status_code \
        in (204, 404)
    reader = grant(srv, reader, "reader")
    r = reader.post("/v2/images/%s/locations" % rq["id"], json={"url": url})
    assert r.status_code == 403, r.text
    r = admin.post("/v2/images/%s/locations" % q["id"], json={"url": url})
    assert r.status_code == 202, r.text
    assert other.get("/v2/images/%s/file" % q["id"]).content == DATA + b"private"


def test_get_locations_is_the_service_roles(srv):
    api = srv.project_user()
    img = active_image(api, data=DATA)
    url = location_of(api, img["id"])
    for who in (api, srv.admin()):
        r = who.get("/v2/images/%s/locations" % img["id"])
        assert r.status_code == 403 and "fetch_image_location" in r.text, r.text
    # only a cloud administrator gives the service role
    base = "/v3/projects/%s/users/%s/roles/service" % (api.project_id, api.user_id)
    r = api.put(base)
    assert r.status_code == 403, r.text
    svc = grant(srv, api, "service")
    tok, body = srv.token(api.user_name, api.password, api.project_name)
    assert "service" in [x["name"] for x in body["roles"]]
    sdk = Sdk(srv, svc)
    try:
        r = sdk.get(img["id"])
        assert r.status_code == 200, r.text
        assert r.json() == [{"url": url, "metadata": {}}]
        q = queued(svc)
        assert sdk.get(q["id"]).json() == []
        assert sdk.get(str(uuid.uuid4())).status_code == 404
    finally:
        sdk.close()
    # with member beside it the service user still writes as before
    r = svc.patch("/v2/images/%s" % img["id"], json=[{"op": "replace", "path": "/name", "value": "n"}],
                  headers={"Content-Type": PATCH_21})
    assert r.status_code == 200, r.text


def test_the_service_role_alone_reads(srv):
    """The service role without member: reads and Get Locations, no writes
    (imsd's service role is reading only: a service user writes with member
    or admin beside it)."""
    owner = srv.project_user()
    img = active_image(owner, data=DATA)
    admin = srv.admin()
    assert admin.put("/v3/projects/%s/users/%s/roles/service" % (owner.project_id, owner.user_id)).status_code \
        == 204
    r = admin.delete("/v3/projects/%s/users/%s/roles/member" % (owner.project_id, owner.user_id))
    assert r.status_code == 204, r.text
    svc = srv.session(owner.user_name, owner.password, owner.project_name)
    assert svc.get("/v2/images/%s" % img["id"]).status_code == 200
    assert svc.get("/v2/images/%s/locations" % img["id"]).status_code == 200
    assert svc.post("/v2/images", json={"name": unique("w")}).status_code == 403


def reads_of(srv, url):
    """How often imsd read the data at url for its checksums (its log)."""
    return srv.log_path.read_text(errors="replace").count("reading the data at %s for its checksums" % url)


def add_until_read(sdk, image_id, url):
    """Adds url to the image, again while its data is being read (409)."""
    deadline = time.monotonic() + 30
    while True:
        r = sdk.add(image_id, {"url": url})
        if r.status_code != 409 or "being read" not in r.text or time.monotonic() > deadline:
            return r
        time.sleep(0.1)


def test_data_without_checksums_is_read_once(srv):
    """Data whose holders carry no checksums (a full-ECS image's from a
    backup; here cleared in the row) is read for them once, before the
    image's edit: remembered on its blob, so later requests, the PATCH's as
    the add's, read no data, and of two requests at once one reads while
    the other is told to retry (409) instead of reading it too."""
    from concurrent.futures import ThreadPoolExecutor
    api = srv.project_user()
    src = active_image(api, data=DATA + b"no checksums\n")
    md5, sha = hashlib.md5(DATA + b"no checksums\n").hexdigest(), hashlib.sha512(DATA + b"no checksums\n").hexdigest()
    url = location_of(api, src["id"])
    srv.sql("UPDATE images SET checksum = NULL, os_hash_algo = NULL, os_hash_value = NULL, revision = revision + 1 "
            "WHERE id = ?", (src["id"],))
    [(n,)] = srv.sql("SELECT COUNT(*) FROM images WHERE id = ? AND checksum IS NULL", (src["id"],))
    assert int(n) == 1
    sdks = [Sdk(srv, api), Sdk(srv, api)]
    try:
        both = [queued(api), queued(api)]
        with ThreadPoolExecutor(2) as pool:
            got = list(pool.map(lambda i: sdks[i].add(both[i]["id"], {"url": url}), range(2)))
        for q, r in zip(both, got):
            if r.status_code == 409:  # being read (by the other request): a retry takes what was read
                assert "being read for its checksums" in r.text, r.text
                assert api.get("/v2/images/%s" % q["id"]).json()["status"] == "queued"
                r = add_until_read(sdks[0], q["id"], url)
            assert r.status_code == 202, r.text
        # validation data is checked against what was read
        q = queued(api)
        bad = {"url": url, "validation_data": {"os_hash_algo": "sha512", "os_hash_value": SHA}}
        r = sdks[0].add(q["id"], bad)
        assert r.status_code == 400 and "does not match" in r.text, r.text
        good = {"url": url, "validation_data": {"os_hash_algo": "sha512", "os_hash_value": sha, "checksum": md5}}
        assert sdks[0].add(q["id"], good).status_code == 202
    finally:
        for s in sdks:
            s.close()
    q = queued(api)  # the PATCH of /locations too
    r = api.patch("/v2/images/%s" % q["id"], json=[{"op": "add", "path": "/locations/-",
                                                    "value": {"url": url, "metadata": {}}}],
                  headers={"Content-Type": PATCH_21})
    assert r.status_code == 200, r.text
    for img in both + [q]:
        got = api.get("/v2/images/%s" % img["id"]).json()
        assert got["status"] == "active" and got["checksum"] == md5 and got["os_hash_value"] == sha, got
    assert reads_of(srv, url) == 1  # though four requests named it


def test_reading_the_data_holds_no_request(srv, proxy):
    """The reading of data for its checksums runs on a thread of its own,
    outside any edit: while the store's answer is held back (by the proxy),
    the request that started it is told to retry (409) after a short wait,
    another naming the same data at once, and other requests go on: writes
    (an edit held the image's row, on SQLite the database's write lock) and
    logins (the deferred pool, one thread by default, waited for a read).
    Released, the held answer's connection is reset: the store's client
    reads it again, or the read fails, keeps nothing, and the next request
    reads the data again."""
    api = srv.project_user()
    data = DATA + b"held back\n"
    src = active_image(api, data=data)
    url = location_of(api, src["id"])
    srv.sql("UPDATE images SET checksum = NULL, os_hash_algo = NULL, os_hash_value = NULL, revision = revision + 1 "
            "WHERE id = ?", (src["id"],))
    q, other = queued(api), queued(api)
    held, release = threading.Event(), threading.Event()

    def hold():
        held.set()
        release.wait(60)
    # the answer is read whole, held, then the connection reset
    proxy.drop(1, method="GET", match=url.split("://", 1)[1], on_drop=hold)
    sdk = Sdk(srv, api)
    try:
        r = sdk.add(q["id"], {"url": url})
        assert r.status_code == 409 and "being read for its checksums" in r.text, r.text
        assert held.is_set()
        try:
            r = sdk.add(other["id"], {"url": url})
            assert r.status_code == 409 and "being read for its checksums" in r.text, r.text
            r = api.patch("/v2/images/%s" % other["id"], json=[{"op": "replace", "path": "/name", "value": "n"}],
                          headers={"Content-Type": PATCH_21}, timeout=10)
            assert r.status_code == 200, r.text
            assert api.post("/v2/images", json={"name": unique("w")}, timeout=10).status_code == 201
            srv.token(api.user_name, api.password, api.project_name)  # a login
        finally:
            release.set()
        r = add_until_read(sdk, q["id"], url)  # the held read ends; its checksums, or a read again
        assert r.status_code == 202, r.text
        assert sdk.add(other["id"], {"url": url}).status_code == 202
    finally:
        proxy.clear()
        sdk.close()
    for img in (q, other):
        got = api.get("/v2/images/%s" % img["id"]).json()
        assert got["checksum"] == hashlib.md5(data).hexdigest(), got
    assert reads_of(srv, url) in (1, 2)


def test_a_claim_left_behind_by_this_process_is_taken_over(srv):
    """A claim of this process's to read data whose read is not running
    (the write that ends it failed) holds nothing: the next request reads
    the data, instead of every request being told to retry while the
    process lives (its claims are renewed with its leases)."""
    api = srv.project_user()
    writing = queued(api)
    raw = RawUpload(srv, api.token, writing["id"], content_length=1 << 30)  # names this process in blobs.writer
    try:
        assert raw.send(b"x" * 65536)
        deadline, owner = time.monotonic() + 30, []
        while not owner and time.monotonic() < deadline:
            owner = srv.sql("SELECT writer FROM blobs WHERE writer IS NOT NULL")
            time.sleep(0.05)
        assert owner, "the upload registered no blob"
    finally:
        raw.close()
    data = DATA + b"claim left behind\n"
    src = active_image(api, data=data)
    url = location_of(api, src["id"])
    srv.sql("UPDATE images SET checksum = NULL, os_hash_algo = NULL, os_hash_value = NULL, revision = revision + 1 "
            "WHERE id = ?", (src["id"],))
    srv.sql("UPDATE blobs SET hasher = ?, hash_until = ? WHERE location = ?",
            (owner[0][0], int(time.time()) + 3600, url))
    q = queued(api)
    sdk = Sdk(srv, api)
    try:
        r = add_until_read(sdk, q["id"], url)
        assert r.status_code == 202, r.text
    finally:
        sdk.close()
    assert api.get("/v2/images/%s" % q["id"]).json()["checksum"] == hashlib.md5(data).hexdigest()
    assert reads_of(srv, url) == 1


def test_a_caller_who_may_not_edit_the_image_starts_no_read(srv):
    """Whether the caller may change the image is asked before any data is
    read for its checksums: a member of a shared image (who sees it but may
    not change it) gets 403 and an image it cannot see 404, from the add as
    from a PATCH of /locations, and no read of the data starts; the owner's
    add then reads it, once."""
    owner, other = srv.project_user(), srv.project_user()
    data = DATA + b"not yours to edit\n"
    src = active_image(other, data=data)
    url = location_of(other, src["id"])
    srv.sql("UPDATE images SET checksum = NULL, os_hash_algo = NULL, os_hash_value = NULL, revision = revision + 1 "
            "WHERE id = ?", (src["id"],))
    shared, hidden = queued(owner), queued(owner)
    r = owner.post("/v2/images/%s/members" % shared["id"], json={"member": other.project_id})
    assert r.status_code == 200, r.text
    assert other.get("/v2/images/%s" % shared["id"]).status_code == 200
    assert other.get("/v2/images/%s" % hidden["id"]).status_code == 404
    sdk = Sdk(srv, other)
    try:
        for img, status in ((shared, 403), (hidden, 404)):
            r = sdk.add(img["id"], {"url": url})
            assert r.status_code == status, r.text
            r = other.patch("/v2/images/%s" % img["id"],
                            json=[{"op": "add", "path": "/locations/-", "value": {"url": url, "metadata": {}}}],
                            headers={"Content-Type": PATCH_21})
            assert r.status_code == status, r.text
    finally:
        sdk.close()
    assert reads_of(srv, url) == 0
    assert owner.get("/v2/images/%s" % shared["id"]).json()["status"] == "queued"


def fast_retry_srv(start_imsd, obs_s3, proxy):
    """An imsd whose S3 store (through proxy) retries fast, within 1 s."""
    return start_imsd(config={
        "images": {"location_api": "true", "show_multiple_locations": "true"},
        "store": {"backend": "s3", "endpoint": proxy.endpoint, "region": obs_s3["S3_REGION"],
                  "bucket": "locfast-" + uuid.uuid4().hex[:20], "access_key": obs_s3["S3_ACCESS_KEY"],
                  "secret_key": obs_s3["S3_SECRET_KEY"], "retry_attempts": 2, "retry_base_ms": 20,
                  "retry_max_delay_ms": 100, "retry_total_seconds": 1}})


def checksumless(srv, api, data):
    """The location of data that no holder has checksums for."""
    src = active_image(api, data=data)
    srv.sql("UPDATE images SET checksum = NULL, os_hash_algo = NULL, os_hash_value = NULL, "
            "revision = revision + 1 WHERE id = ?", (src["id"],))
    return location_of(api, src["id"])


def test_a_reset_after_a_long_held_answer_is_read_again(start_imsd, obs_s3):
    """The S3 store's answer held longer than [store] retry_total_seconds,
    then its connection reset: the checksum read is tried again (a fresh
    GET), not failed; the data is read once for the image, which takes it."""
    proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    try:
        srv = fast_retry_srv(start_imsd, obs_s3, proxy)
        api = srv.project_user()
        data = DATA + b"reset after a long hold\n"
        url = checksumless(srv, api, data)
        q = queued(api)
        proxy.drop(1, method="GET", match=url.split("://", 1)[1], on_drop=lambda: time.sleep(2.5))
        sdk = Sdk(srv, api)
        try:
            r = add_until_read(sdk, q["id"], url)
            assert r.status_code == 202, r.text
        finally:
            sdk.close()
        assert [s for s in proxy.seen if s[2].startswith("drop")], proxy.seen
        got = api.get("/v2/images/%s" % q["id"]).json()
        assert got["checksum"] == hashlib.md5(data).hexdigest(), got
        log = srv.log_path.read_text(errors="replace")
        assert reads_of(srv, url) == 1 and "checksum read of %s failed:" % url not in log and "try 2 of" in log, log[-6000:]
    finally:
        proxy.close()


def test_data_that_cannot_be_read_is_not_read_again_for_a_while(start_imsd, obs_s3):
    """A checksum read that failed (every GET of the data refused, after the
    store's retries) is kept on the blob's row for a bounded time: an add
    meanwhile gets the same 400 at once and reads nothing; once that time
    is over (here set back in the row) the data is read again, and taken."""
    proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    try:
        srv = fast_retry_srv(start_imsd, obs_s3, proxy)
        api = srv.project_user()
        data = DATA + b"unreadable for a while\n"
        url = checksumless(srv, api, data)
        q = queued(api)
        proxy.fail(None, status=503, code="SlowDown", method="GET", match=url.split("://", 1)[1])
        sdk = Sdk(srv, api)
        try:
            r = add_until_read(sdk, q["id"], url)
            assert r.status_code == 400 and "could not be read" in r.text, r.text
            assert reads_of(srv, url) == 1, srv.log_path.read_text(errors="replace")[-5000:]
            gets = len([s for s in proxy.seen if s[0] == "GET"])
            t = time.monotonic()
            for _ in range(3):
                r = sdk.add(q["id"], {"url": url})
                assert r.status_code == 400 and "could not be read" in r.text, r.text
            assert time.monotonic() - t < 5
            assert reads_of(srv, url) == 1 and len([s for s in proxy.seen if s[0] == "GET"]) == gets, proxy.seen
            assert api.get("/v2/images/%s" % q["id"]).json()["status"] == "queued"
            proxy.clear()
            srv.sql("UPDATE blobs SET hash_until = ? WHERE location = ?", (int(time.time()) - 1, url))
            r = add_until_read(sdk, q["id"], url)
            assert r.status_code == 202, r.text
        finally:
            sdk.close()
        assert reads_of(srv, url) == 2
        assert api.get("/v2/images/%s" % q["id"]).json()["checksum"] == hashlib.md5(data).hexdigest()
    finally:
        proxy.close()


@pytest.mark.parametrize("how", ["add", "patch"])
def test_a_slow_store_holds_no_other_write(srv, proxy, start_imsd, how):
    """Whether the store holds a location's data is asked of it (S3: a HEAD)
    before the edit's transaction, never in it: while every HEAD of the data
    is held back (by the proxy), writes of other images go on (an edit held
    the image's row, on SQLite the database's write lock) and the add, once
    answered, succeeds. The other writes go to a second process on the same
    data: the held request also holds its own HTTP thread, which a new
    connection to the first process may meet."""
    api = srv.project_user()
    node2 = start_imsd(config=srv.config, data_dir=srv.data_dir)
    api2 = node2.session(api.user_name, api.password, api.project_name)
    url = location_of(api, active_image(api, data=DATA + b"slow store\n")["id"])
    q, other = queued(api), queued(api)
    arrived, go = threading.Semaphore(0), threading.Semaphore(0)

    def hold():
        arrived.release()
        go.acquire(timeout=60)
    proxy.hold(None, method="HEAD", match=url.split("://", 1)[1], on_hold=hold)
    sdk = Sdk(srv, api)
    result = []

    def add():
        if how == "add":
            result.append(sdk.add(q["id"], {"url": url}))
        else:
            result.append(api.patch("/v2/images/%s" % q["id"], json=[
                {"op": "add", "path": "/locations/-", "value": {"url": url, "metadata": {}}}],
                headers={"Content-Type": PATCH_21}))
    t = threading.Thread(target=add)
    t.start()
    heads = 0
    try:
        while t.is_alive() or arrived.acquire(blocking=False):
            if not arrived.acquire(timeout=0.1):
                continue
            heads += 1  # a HEAD is held: other images are written meanwhile
            try:
                r = api2.patch("/v2/images/%s" % other["id"], json=[
                    {"op": "replace", "path": "/name", "value": unique("n")}],
                    headers={"Content-Type": PATCH_21}, timeout=10)
                assert r.status_code == 200, r.text
                assert api2.post("/v2/images", json={"name": unique("w")}, timeout=10).status_code == 201
            finally:
                go.release()
    finally:
        proxy.clear()
        for _ in range(8):
            go.release()
        t.join(60)
        sdk.close()
    assert heads >= 1
    assert result[0].status_code in (200, 202), result[0].text
    assert api.get("/v2/images/%s" % q["id"]).json()["status"] == "active"
