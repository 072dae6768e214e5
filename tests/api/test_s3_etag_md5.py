"""[store] md5_from_etag: an upload that goes to the S3 store as one PUT
takes its md5 (Glance's checksum) from the PUT's ETag, but only on a
service a probe proved (a small object PUT the same way, its ETag compared
with its md5, removed; at imsd's start, never by imsctl's commands that
upload nothing), and only from an answer whose ETag is 32
hex digits and whose encryption headers are the probe's. Any other answer
has the md5 read back from the stored object before the upload is
answered: the checksum is always the data's md5, never the ETag's word
alone. A fault proxy (fault_proxy.py) between imsd and the tests' Swift
s3api server rewrites answers as services of other kinds give them."""
import hashlib
import os
import time
import uuid

from fault_proxy import FaultProxy
from helpers import active_image, create_image
from obs_fixtures import s3_config, s3_etags, s3_keys, s3_request, s3_uploads
from test_web_download import serve, wait_done, web, web_import  # noqa: F401 (web: the fixture)

MIB = 1024 * 1024
PART = 5 * MIB
FAST_RETRY = {"retry_attempts": 2, "retry_base_ms": 20, "retry_max_delay_ms": 100, "retry_total_seconds": 10}
PROBE = "/ims-probe/"
KMS = {"x-amz-server-side-encryption": "aws:kms",
       "x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:us-east-1:1:key/k"}


def start(start_imsd, obs_s3, proxy, **store):
    bucket = "md5-" + uuid.uuid4().hex[:20]
    cfg = {"store": dict(s3_config(obs_s3), endpoint=proxy.endpoint, bucket=bucket, part_size=PART,
                         **dict(FAST_RETRY, **store)),
           "images": {"max_image_size": 64 * MIB}}
    return start_imsd(config=cfg), bucket


def md5_source(srv, image_id):
    """How the upload's commit line says the md5 was had."""
    for line in srv.log_path.read_text(errors="replace").splitlines():
        if "image %s: upload of" % image_id in line and "; md5 " in line:
            return line.rsplit("; md5 ", 1)[1].strip()
    raise AssertionError("no commit line for %s" % image_id)


def exact(api, img, data):
    assert img["status"] == "active" and img["size"] == len(data)
    assert img["checksum"] == hashlib.md5(data).hexdigest()
    assert img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert api.get("/v2/images/%s/file" % img["id"]).content == data


def upload_source(srv, api, data):
    """Uploads data as a new image, checks it exact, and says how its md5 was had."""
    img = active_image(api, data)
    exact(api, img, data)
    return md5_source(srv, img["id"])


def probe_requests(proxy):
    return [(s[0], s[2]) for s in proxy.seen if PROBE in s[1]]


def test_one_put_takes_its_md5_from_the_etag(start_imsd, obs_s3):
    """The probe PUT and DELETE at start, nothing of it left, none from
    imsctl's commands nor from later uploads; a sized upload
    larger than a part (one PUT) has the md5 of the ETag, which is the
    data's; a chunked one (parts) and a small one still hash."""
    proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    try:
        srv, bucket = start(start_imsd, obs_s3, proxy)
        api = srv.admin()
        assert probe_requests(proxy) == [("PUT", "200"), ("DELETE", "204")], proxy.seen
        assert s3_keys(obs_s3, bucket, "ims-probe/") == {}
        assert "probe passed" in srv.log_path.read_text(errors="replace")
        srv.imsctl("project", "create", "no-probe")  # imsctl opens the store: no probe of its own
        srv.imsctl("quota", "show", "no-probe")
        assert upload_source(srv, api, os.urandom(2 * PART + 77)) == "from the store's answer"
        assert upload_source(srv, api, os.urandom(PART + 1)) == "from the store's answer"
        assert len(probe_requests(proxy)) == 2, proxy.seen
        # one PUT from memory, not the streamed one: hashed
        assert upload_source(srv, api, os.urandom(PART - 1)) == "hashed"
    finally:
        proxy.close()


def test_answers_that_prove_nothing_have_the_md5_read_back(start_imsd, obs_s3):
    """After a probe that passed: an answer with SSE-KMS headers, one whose
    ETag is a multipart one, one whose ETag is no hex, one with an
    encryption header the probe did not have (AES256), one without ETag:
    each upload's md5 is read back from the object, exact; the ETag is never
    taken for it."""
    proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    try:
        srv, bucket = start(start_imsd, obs_s3, proxy)
        api = srv.admin()
        wrong = hashlib.md5(b"not the data").hexdigest()
        answers = [dict(KMS, ETag='"%s"' % wrong),
                   {"ETag": '"%s-1"' % wrong},
                   {"ETag": '"%s"' % ("z" * 32)},
                   {"ETag": '"%s"' % wrong, "x-amz-server-side-encryption": "AES256"},
                   {"ETag": ""},
                   {"ETag": '"%s"' % wrong, "x-amz-server-side-encryption-customer-algorithm": "AES256"}]
        for headers in answers:
            data = os.urandom(PART + 4096)
            img = create_image(api, disk_format="raw", container_format="bare")
            proxy.rewrite(1, headers, method="PUT", match="/images/")
            r = api.put("/v2/images/%s/file" % img["id"], data=data,
                        headers={"Content-Type": "application/octet-stream"})
            assert r.status_code == 204, (headers, r.status_code, r.text[:300])
            img = api.get("/v2/images/%s" % img["id"]).json()
            exact(api, img, data)
            assert md5_source(srv, img["id"]) == "read back from the store", headers
        assert "does not prove the md5" in srv.log_path.read_text(errors="replace")
        assert s3_uploads(obs_s3, bucket) == 0
    finally:
        proxy.close()


def test_a_failed_or_wrong_probe_turns_it_off(start_imsd, obs_s3):
    """A probe answered with an ETag that is not its md5 (a service whose
    ETags are no md5s), or one the service refuses: md5_from_etag is off,
    and then even an answer whose ETag looks like an md5 is not asked: the
    md5 is hashed while the data arrives."""
    for fault in ("wrong etag", "refused", "encrypted"):
        proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
        try:
            if fault == "wrong etag":
                proxy.rewrite(1, {"ETag": '"%s"' % hashlib.md5(b"other").hexdigest()}, method="PUT", match=PROBE)
            elif fault == "encrypted":
                proxy.rewrite(1, KMS, method="PUT", match=PROBE)
            else:
                proxy.fail(1, status=403, code="AccessDenied", method="PUT", match=PROBE)
            srv, bucket = start(start_imsd, obs_s3, proxy)
            api = srv.admin()
            data = os.urandom(PART + 999)
            assert upload_source(srv, api, data) == "hashed", fault
            log = srv.log_path.read_text(errors="replace")
            assert "md5_from_etag off" in log and "probe passed" not in log, fault
            assert s3_keys(obs_s3, bucket, "ims-probe/") == {}, fault
            proxy.rewrite(1, {"ETag": '"%s"' % hashlib.md5(b"not the data").hexdigest()}, method="PUT",
                          match="/images/")
            assert upload_source(srv, api, data) == "hashed", fault
            assert len([r for r in probe_requests(proxy) if r[0] == "PUT"]) == 1, (fault, proxy.seen)
        finally:
            proxy.close()


def test_recovery_removes_a_probe_object_left_behind(start_imsd, obs_s3):
    """A probe object whose DELETE failed stays in the bucket; the start-up
    recovery removes it once it is older than the grace, as it removes
    other orphans, and leaves every other object alone."""
    proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    try:
        bucket = "md5-" + uuid.uuid4().hex[:20]
        cfg = {"store": dict(s3_config(obs_s3), endpoint=proxy.endpoint, bucket=bucket, part_size=PART,
                             **FAST_RETRY),
               "images": {"max_image_size": 64 * MIB}, "storage": {"recovery_grace_seconds": 0}}
        proxy.fail(None, status=503, code="SlowDown", method="DELETE", match=PROBE)
        srv = start_imsd(config=cfg)
        api = srv.admin()
        data = os.urandom(PART + 5)
        img = active_image(api, data)
        assert md5_source(srv, img["id"]) == "from the store's answer"
        assert len(s3_keys(obs_s3, bucket, "ims-probe/")) == 1
        assert "cannot remove the probe object" in srv.log_path.read_text(errors="replace")
        assert srv.stop() == 0
        time.sleep(1.1)  # older than the grace of 0 s, to the second
        proxy.clear()
        srv.start()
        assert s3_keys(obs_s3, bucket, "ims-probe/") == {}
        assert "1 probe object(s) older than the grace removed" in srv.log_path.read_text(errors="replace")
        assert srv.admin().get("/v2/images/%s/file" % img["id"]).content == data
    finally:
        proxy.close()


def test_off_sends_no_probe_and_hashes(start_imsd, obs_s3):
    proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    try:
        srv, _ = start(start_imsd, obs_s3, proxy, md5_from_etag="off")
        assert probe_requests(proxy) == [], proxy.seen
        api = srv.admin()
        assert upload_source(srv, api, os.urandom(PART + 5)) == "hashed"
    finally:
        proxy.close()


def stage_and_import(api, data):
    img = create_image(api, disk_format="raw", container_format="bare")
    r = api.put("/v2/images/%s/stage" % img["id"], data=data, headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    r = api.post("/v2/images/%s/import" % img["id"], json={"method": {"name": "glance-direct"}})
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 60
    while api.get("/v2/images/%s" % img["id"]).json()["status"] != "active" and time.monotonic() < deadline:
        time.sleep(0.1)
    return api.get("/v2/images/%s" % img["id"]).json()


def stage_md5_source(srv, image_id):
    for line in srv.log_path.read_text(errors="replace").splitlines():
        if "image %s: " % image_id in line and "bytes staged in" in line:
            return line.rsplit("; md5 ", 1)[1].strip()
    raise AssertionError("no staging line for %s" % image_id)


def test_glance_direct_stage_takes_its_md5_the_same_way(start_imsd, obs_s3):
    """Glance's stage of a known size is one PUT too: its md5 is the ETag's
    when the answer proves it, read back when it does not; the imported
    image's checksum is the data's either way."""
    proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    try:
        srv, _ = start(start_imsd, obs_s3, proxy)
        api = srv.admin()
        data = os.urandom(PART + 333)
        img = stage_and_import(api, data)
        exact(api, img, data)
        assert stage_md5_source(srv, img["id"]) == "from the store's answer"
        proxy.rewrite(1, dict(KMS, ETag='"%s"' % hashlib.md5(b"not the data").hexdigest()), method="PUT",
                      match="/images/")
        img = stage_and_import(api, data)
        exact(api, img, data)
        assert stage_md5_source(srv, img["id"]) == "read back from the store"
    finally:
        proxy.close()


def copy_to_cloud(api, image_id):
    """copy-image into the S3 store 'cloud'; the task once it ended."""
    r = api.post("/v2/images/%s/import" % image_id, json={"method": {"name": "copy-image"}, "stores": ["cloud"]})
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        tasks = api.get("/v2/images/%s/tasks" % image_id).json()["tasks"]
        done = [t for t in tasks if t["status"] in ("success", "failure")]
        if done:
            return done[-1]
        time.sleep(0.1)
    raise AssertionError("copy-image of %s did not end" % image_id)


def copy_md5_source(srv, image_id):
    for line in srv.log_path.read_text(errors="replace").splitlines():
        if "image %s: copied to store cloud" % image_id in line:
            return line.rsplit("; md5 ", 1)[1].strip()
    raise AssertionError("no copy line for %s" % image_id)


def test_copy_image_into_s3_checks_the_etag_md5(start_imsd, obs_s3):
    """copy-image into the S3 store (one PUT) checks the image's checksum
    against the ETag's md5 when the answer proves it, against the md5 read
    back when it does not; an answer whose (believed) md5 is not the
    image's fails the copy and leaves no copy behind."""
    proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    try:
        bucket = "md5-" + uuid.uuid4().hex[:20]
        cfg = {"store": dict(s3_config(obs_s3), endpoint=proxy.endpoint, bucket=bucket, part_size=PART,
                             **FAST_RETRY),
               "stores": {"enabled": "local:file, cloud:s3", "default": "local"},
               "images": {"max_image_size": 64 * MIB}}
        srv = start_imsd(config=cfg)
        api = srv.admin()
        data = os.urandom(PART + 1234)
        img = active_image(api, data)
        assert copy_to_cloud(api, img["id"])["status"] == "success"
        assert copy_md5_source(srv, img["id"]) == "from the store's answer"
        img = active_image(api, data)
        proxy.rewrite(1, dict(KMS, ETag='"%s"' % hashlib.md5(b"not the data").hexdigest()), method="PUT",
                      match="/images/")
        assert copy_to_cloud(api, img["id"])["status"] == "success"
        assert copy_md5_source(srv, img["id"]) == "read back from the store"
        assert api.delete("/v2/stores/local/%s" % img["id"]).status_code == 204
        assert api.get("/v2/images/%s/file" % img["id"]).content == data
        # an answer believed whose md5 is not the image's: the copy fails, nothing of it stays
        img = active_image(api, data)
        before = len(s3_keys(obs_s3, bucket, "images/"))
        proxy.rewrite(1, {"ETag": '"%s"' % hashlib.md5(b"not the data").hexdigest()}, method="PUT",
                      match="/images/")
        assert copy_to_cloud(api, img["id"])["status"] == "failure"
        assert api.get("/v2/images/%s" % img["id"]).json()["stores"] == "local"
        deadline = time.monotonic() + 10
        while len(s3_keys(obs_s3, bucket, "images/")) != before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(s3_keys(obs_s3, bucket, "images/")) == before
    finally:
        proxy.close()


def import_md5_source(srv, image_id):
    for line in srv.log_path.read_text(errors="replace").splitlines():
        if "image %s: " % image_id in line and " imported (" in line:
            return line.rsplit("; md5 ", 1)[1].strip() if "; md5 " in line else ""
    raise AssertionError("no import line for %s" % image_id)


def test_raw_import_into_s3_takes_its_md5_the_same_way(start_imsd, obs_s3):
    """An import of a raw file from object storage into the S3 store: the
    fetched file goes up as one PUT (not in parts, though larger than a
    part) and only sha512 is hashed on the way; the md5 is the ETag's when
    the answer proves it, read back when it does not; the checksum is the
    data's either way."""
    from job_helpers import run
    proxy = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    try:
        bucket = "md5-" + uuid.uuid4().hex[:20]
        cfg = {"store": dict(s3_config(obs_s3), endpoint=proxy.endpoint, bucket=bucket, part_size=PART,
                             **FAST_RETRY),
               "obs": s3_config(obs_s3),
               "images": {"max_image_size": 64 * MIB}}
        srv = start_imsd(config=cfg)
        api = srv.project_user()
        src = "src-" + uuid.uuid4().hex[:16]
        assert s3_request(obs_s3, "PUT", "/" + src)[0] == 200
        data = os.urandom(2 * PART + 4321)
        assert s3_request(obs_s3, "PUT", "/%s/disk.raw" % src, data=data)[0] == 200
        body = {"name": "raw-" + uuid.uuid4().hex[:8], "image_url": "%s:disk.raw" % src,
                "os_version": "CentOS 7.6 64bit", "min_disk": 1}
        for answer, source in ((None, "from the store's answer"),
                               (dict(KMS, ETag='"%s"' % hashlib.md5(b"not the data").hexdigest()),
                                "read back from the store")):
            proxy.clear()
            if answer:
                proxy.rewrite(1, answer, method="PUT", match="/images/")
            job = run(api, "POST", "/v2/cloudimages/action", body, timeout=120)
            assert job["status"] == "SUCCESS", job
            img = api.get("/v2/images/%s" % job["entities"]["image_id"]).json()
            exact(api, img, data)
            assert import_md5_source(srv, img["id"]) == source
            puts = [s for s in proxy.seen if s[0] == "PUT" and "/images/" in s[1]]
            assert len(puts) == 1 and "partNumber" not in puts[0][1], proxy.seen
        assert s3_uploads(obs_s3, bucket) == 0
    finally:
        proxy.close()


def web_md5_source(srv, image_id):
    for line in srv.log_path.read_text(errors="replace").splitlines():
        if "image %s: " % image_id in line and "bytes downloaded into" in line:
            return line.rsplit("; md5 ", 1)[1].strip() if "; md5 " in line else None
    raise AssertionError("no download line for %s" % image_id)


def test_web_download_of_a_known_size_is_one_put(start_imsd, obs_s3, web):
    """web-download into the S3 store: an answer whose Content-Length is
    within single_put_max goes up as one PUT (a plain object, its ETag the
    data's md5, which gives the checksum) as an upload of that size does;
    one without Content-Length goes up in parts, its md5 hashed; one that
    announces more than it sends fails the import and leaves nothing."""
    bucket = "md5-" + uuid.uuid4().hex[:20]
    cfg = {"store": dict(s3_config(obs_s3), bucket=bucket, part_size=PART, **FAST_RETRY),
           "images": {"max_image_size": 64 * MIB},
           "import_filtering_opts": {"allowed_hosts": "127.0.0.1", "allowed_ports": str(web.server_address[1])},
           "web_download": {"max_size": 64 * MIB, "timeout": 60}}
    srv = start_imsd(config=cfg)
    api = srv.admin()
    results = {}
    for path in ("file", "unsized"):
        data = os.urandom(2 * PART + 77)
        img = create_image(api, disk_format="raw", container_format="bare")
        before = set(s3_keys(obs_s3, bucket, "images/"))
        assert web_import(api, img["id"], "%s/%s/%s" % (web.base, path, serve(data))).status_code == 202
        task, got = wait_done(api, img["id"])
        assert task["status"] == "success", (path, task["message"])
        exact(api, got, data)
        etags = s3_etags(obs_s3, bucket, "images/")
        made = [etags[k] for k in set(etags) - before]
        assert len(made) == 1, (path, etags)
        results[path] = (web_md5_source(srv, img["id"]), made[0], hashlib.md5(data).hexdigest())
    md5_from, etag, md5 = results["file"]
    assert md5_from == "from the store's answer" and etag == md5, results  # one PUT: a plain object
    md5_from, etag, md5 = results["unsized"]
    assert md5_from == "hashed" and etag.endswith("-3"), results  # in parts
    assert s3_uploads(obs_s3, bucket) == 0
    # announced 2 parts and more, half sent: the import fails, nothing stays
    img = create_image(api, disk_format="raw", container_format="bare")
    before = s3_keys(obs_s3, bucket, "images/")
    assert web_import(api, img["id"], "%s/short/%s" % (web.base, serve(os.urandom(2 * PART + 77)))).status_code == 202
    task, got = wait_done(api, img["id"])
    assert task["status"] == "failure" and got["status"] == "queued", task
    assert s3_keys(obs_s3, bucket, "images/") == before
    assert s3_uploads(obs_s3, bucket) == 0
