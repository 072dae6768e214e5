"""The S3 client under faults: a proxy (fault_proxy.py) between imsd (or
imsctl) and the real S3 test server answers 503 to some requests, resets
connections and cuts GET bodies midway. Transient failures are tried again
with backoff, one part of a multipart upload alone, and a cut download
resumes where it stopped (Range, If-Match the first ETag), so the bytes are
exactly the object's; a permanent fault fails in bounded time with the
error the server gave."""
import hashlib
import os
import re
import subprocess
import tempfile
import time
import uuid

import pytest
import requests

from fault_proxy import FaultProxy
from helpers import IMSCTL_BIN, clean_env, write_ini
from obs_fixtures import s3_config, s3_keys, s3_request, s3_uploads

MIB = 1024 * 1024
PART = 5 * MIB
# short waits: the schedule itself is the unit tests'
FAST_RETRY = {"retry_attempts": 4, "retry_base_ms": 20, "retry_max_delay_ms": 100, "retry_total_seconds": 20}


@pytest.fixture
def proxy(obs_s3):
    p = FaultProxy.for_endpoint(obs_s3["S3_ENDPOINT"])
    yield p
    p.close()


class Ctl:
    """imsctl obs on the S3 server through the proxy."""

    def __init__(self, root, env, proxy, **extra):
        self.env = env
        self.data_dir = root / "data"
        self.data_dir.mkdir(exist_ok=True)
        self.config_path = root / "imsd.ini"
        write_ini(self.config_path, {"obs": dict(s3_config(env), endpoint=proxy.endpoint, part_size=PART,
                                                 server_copy_max=PART, **dict(FAST_RETRY, **extra))})

    def run(self, *args, timeout=120):
        e = clean_env({"IMSD_CONFIG": str(self.config_path), "IMSD_DATA_DIR": str(self.data_dir)})
        return subprocess.run([IMSCTL_BIN, "obs"] + [str(a) for a in args], capture_output=True, env=e,
                              timeout=timeout)

    def ok(self, *args):
        r = self.run(*args)
        assert r.returncode == 0, (args, r.returncode, r.stderr.decode(errors="replace"))
        return r


@pytest.fixture
def ctl(tmp_path, obs_s3, proxy):
    return Ctl(tmp_path, obs_s3, proxy)


def new_bucket(env):
    b = "flt-" + uuid.uuid4().hex[:16]
    status, body = s3_request(env, "PUT", "/" + b)
    assert status == 200, body
    return b


def put_direct(env, bucket, key, data):
    """An object put straight to the server (not through the proxy), by curl."""
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", f.name, "--netrc-file",
                            env["S3_CURL_NETRC"], "--aws-sigv4", "aws:amz:%s:s3" % env["S3_REGION"],
                            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
                            "%s/%s/%s" % (env["S3_ENDPOINT"], bucket, key)], capture_output=True, timeout=60)
    assert r.stdout == b"200", r


def get_direct(env, bucket, key):
    status, body = s3_request(env, "GET", "/%s/%s" % (bucket, key))
    assert status == 200, body
    return body


def test_a_cut_download_resumes_with_the_same_bytes(ctl, proxy, obs_s3, tmp_path):
    b = new_bucket(obs_s3)
    data = os.urandom(3 * MIB + 4321)
    put_direct(obs_s3, b, "disk.raw", data)
    proxy.cut(3, after=700000)
    r = ctl.ok("get", b, "disk.raw", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data
    gets = [s for s in proxy.seen if s[0] == "GET"]
    assert [s[2] for s in gets] == ["cut 700000"] * 3 + ["206"], gets
    log = r.stderr.decode()
    assert log.count("S3 get (from byte ") == 3 and "try 2 of 4" in log, log


def test_a_ranged_read_resumes_inside_its_range(ctl, proxy, obs_s3):
    b = new_bucket(obs_s3)
    data = os.urandom(2 * MIB)
    put_direct(obs_s3, b, "r.bin", data)
    proxy.cut(1, after=100000)
    r = ctl.ok("get", b, "r.bin", "-", "--offset", 12345, "--length", MIB)
    assert r.stdout == data[12345:12345 + MIB]


def test_stalls_time_out_and_are_tried_again(tmp_path, obs_s3, proxy):
    """A server that answers nothing, or stops sending midway, times out
    after [obs] stall_seconds; the request is tried again, the read resumes."""
    ctl = Ctl(tmp_path, obs_s3, proxy, stall_seconds=1)
    b = new_bucket(obs_s3)
    data = os.urandom(2 * MIB)
    put_direct(obs_s3, b, "disk.raw", data)
    proxy.stall(1, method="GET")
    proxy.cut(1, after=300000, stall=True)
    t = time.monotonic()
    r = ctl.ok("get", b, "disk.raw", "-")
    assert r.stdout == data
    assert 2 <= time.monotonic() - t < 20
    assert [s[2] for s in proxy.seen if s[0] == "GET"] == ["stall", "stall 300000", "206"], proxy.seen
    assert r.stderr.count(b"Operation too slow") == 2, r.stderr   # libcurl's words for the timeout


def test_an_object_replaced_midway_fails_the_read(ctl, proxy, obs_s3, tmp_path):
    """The resumed GET asks If-Match the first answer's ETag: the object
    replaced meanwhile gives 412 and a clear failure, never bytes of both."""
    b = new_bucket(obs_s3)
    put_direct(obs_s3, b, "disk.raw", os.urandom(2 * MIB))
    proxy.cut(1, after=500000, on_cut=lambda: put_direct(obs_s3, b, "disk.raw", os.urandom(2 * MIB)))
    r = ctl.run("get", b, "disk.raw", tmp_path / "out")
    assert r.returncode != 0
    assert b"the object changed while it was read" in r.stderr, r.stderr
    assert not (tmp_path / "out").exists()


def test_puts_retry_503_and_resets_one_part_at_a_time(ctl, proxy, obs_s3, tmp_path):
    b = new_bucket(obs_s3)
    data = os.urandom(2 * PART + 999)
    (tmp_path / "in").write_bytes(data)
    proxy.fail(2, method="PUT")
    proxy.reset(1, method="PUT")
    proxy.fail(1, status=500, code="InternalError", method="POST")
    r = ctl.ok("put", b, "big.raw", tmp_path / "in")
    assert get_direct(obs_s3, b, "big.raw") == data
    assert s3_uploads(obs_s3, b) == 0
    puts = [s for s in proxy.seen if s[0] == "PUT"]
    # three parts, the faults all on the first: 3 failed tries of it, then one try of each part
    assert [s[2] for s in puts] == ["fail 503", "fail 503", "reset", "200", "200", "200"], puts
    assert "partNumber=1&" in puts[3][1] and "partNumber=2&" in puts[4][1], puts
    log = r.stderr.decode()
    assert "S3 upload part failed" in log and "HTTP 503 SlowDown" in log, log
    assert "S3 create multipart upload failed" in log and "HTTP 500 InternalError" in log, log
    # a single PUT of a file too, and 408 / 429 are transient as well
    proxy.fail(1, status=408, code="RequestTimeout", method="PUT")
    proxy.fail(1, status=429, code="TooManyRequests", method="PUT")
    (tmp_path / "small").write_bytes(b"small" * 1000)
    ctl.ok("put", b, "small", tmp_path / "small")
    assert get_direct(obs_s3, b, "small") == b"small" * 1000


def test_a_failed_complete_is_tried_again_and_a_stream_put_too(ctl, proxy, obs_s3, tmp_path):
    """CompleteMultipartUpload may answer 200 with an <Error> document: an
    InternalError there is transient. A put from a stream (stdin) is held
    in memory a part at a time, so it can be sent again as well."""
    b = new_bucket(obs_s3)
    data = os.urandom(PART + 100)
    (tmp_path / "in").write_bytes(data)
    proxy.fail(1, status=200, code="InternalError", method="POST", match="uploadId=")
    r = ctl.ok("put", b, "big.raw", tmp_path / "in")
    assert get_direct(obs_s3, b, "big.raw") == data
    assert proxy.count("fail 200") == 1 and b"HTTP 200 InternalError" in r.stderr, (proxy.seen, r.stderr)
    assert s3_uploads(obs_s3, b) == 0
    for size in (1000, 2 * PART + 5):   # one PUT; a multipart upload
        proxy.clear()
        proxy.fail(1, method="PUT")
        proxy.reset(1, method="PUT")
        stream = os.urandom(size)
        e = clean_env({"IMSD_CONFIG": str(ctl.config_path), "IMSD_DATA_DIR": str(ctl.data_dir)})
        r = subprocess.run([IMSCTL_BIN, "obs", "put", b, "stream", "-", "--size", str(size)], input=stream, capture_output=True, env=e,
                           timeout=120)
        assert r.returncode == 0, r.stderr
        assert get_direct(obs_s3, b, "stream") == stream
        assert proxy.count("fail 503") == 1 and proxy.count("reset") == 1, proxy.seen


COMPLETE = "uploadId="   # of the POSTs, only CompleteMultipartUpload's query has it (Create's: ?uploads=)


@pytest.mark.parametrize("retry_answer", ["server", "NoSuchUpload"])
def test_a_lost_complete_answer_is_the_put_done(ctl, proxy, obs_s3, tmp_path, retry_answer):
    """The server completes the upload but its answer never arrives: the
    Complete tried again finds no upload (AWS answers NoSuchUpload; the
    test server is asked as it is, then made to answer so), and the put
    succeeds when the object's size and multipart ETag are the upload's."""
    b = new_bucket(obs_s3)
    data = os.urandom(2 * PART + 777)
    (tmp_path / "in").write_bytes(data)
    proxy.drop(1, method="POST", match=COMPLETE)
    if retry_answer == "NoSuchUpload":
        proxy.fail(1, status=404, code="NoSuchUpload", method="POST", match=COMPLETE)
    r = ctl.ok("put", b, "big.raw", tmp_path / "in")
    assert get_direct(obs_s3, b, "big.raw") == data
    completes = [s[2] for s in proxy.seen if s[0] == "POST" and COMPLETE in s[1]]
    assert completes[0] == "drop 200" and len(completes) == 2, proxy.seen
    if retry_answer == "NoSuchUpload":
        assert completes[1] == "fail 404", proxy.seen
        assert b"an earlier try completed it" in r.stderr, r.stderr
    assert s3_uploads(obs_s3, b) == 0


def test_a_lost_complete_answer_with_another_object_there_fails(ctl, proxy, obs_s3, tmp_path):
    """The upload is gone and the object is another put's (replaced after
    the lost answer): the put fails, it does not claim another's object."""
    b = new_bucket(obs_s3)
    (tmp_path / "in").write_bytes(os.urandom(2 * PART + 777))
    other = os.urandom(2 * PART + 777)   # the same size: only the ETag tells
    proxy.drop(1, method="POST", match=COMPLETE, on_drop=lambda: put_direct(obs_s3, b, "big.raw", other))
    proxy.fail(1, status=404, code="NoSuchUpload", method="POST", match=COMPLETE)
    r = ctl.run("put", b, "big.raw", tmp_path / "in")
    assert r.returncode != 0 and b"NoSuchUpload" in r.stderr, r.stderr
    assert b"the object is another" in r.stderr, r.stderr
    assert get_direct(obs_s3, b, "big.raw") == other


def test_a_part_failing_for_good_aborts_the_upload(ctl, proxy, obs_s3, tmp_path):
    b = new_bucket(obs_s3)
    (tmp_path / "in").write_bytes(os.urandom(2 * PART + 1))
    proxy.fail(None, status=503, method="PUT")
    t = time.monotonic()
    r = ctl.run("put", b, "big.raw", tmp_path / "in")
    assert r.returncode != 0 and b"HTTP 503 SlowDown" in r.stderr, r.stderr
    assert time.monotonic() - t < 15
    assert proxy.count("fail 503") == 4      # retry_attempts
    assert s3_uploads(obs_s3, b) == 0        # aborted
    assert b"giving up after 4 tries" in r.stderr


@pytest.mark.parametrize("status,code", [(403, "AccessDenied"), (400, "InvalidArgument"), (404, "NoSuchKey")])
def test_other_4xx_are_never_retried(ctl, proxy, obs_s3, tmp_path, status, code):
    b = new_bucket(obs_s3)
    put_direct(obs_s3, b, "x", b"data")
    proxy.fail(1, status=status, code=code, method="GET")
    r = ctl.run("get", b, "x", "-")
    assert r.returncode != 0 and code.encode() in r.stderr or status == 404, r.stderr
    assert proxy.count("fail %d" % status) == 1
    assert len([s for s in proxy.seen if s[0] == "GET"]) == 1, proxy.seen
    assert b"try 2 of" not in r.stderr


def test_a_permanent_fault_fails_in_bounded_time(tmp_path, obs_s3, proxy):
    """Resets for ever: the attempts are capped, and so is the time (a total
    of 1 s with waits of up to 400 ms gives up before the attempts do)."""
    ctl = Ctl(tmp_path, obs_s3, proxy, retry_attempts=50, retry_base_ms=200, retry_max_delay_ms=400,
              retry_total_seconds=1)
    b = new_bucket(obs_s3)
    put_direct(obs_s3, b, "x", b"data")
    proxy.reset(None)
    t = time.monotonic()
    r = ctl.run("get", b, "x", "-")
    took = time.monotonic() - t
    assert r.returncode != 0 and b"S3 get" in r.stderr, r.stderr
    assert took < 5, took
    assert 3 <= proxy.count("reset") <= 8, proxy.seen


# ---------------------------------------------------------------- through imsd
from helpers import active_image, create_image, unique  # noqa: E402
from job_helpers import submit, wait_job  # noqa: E402

CREATE = "/v2/cloudimages/action"


def import_body(image_url):
    return {"name": unique("flt"), "image_url": image_url, "os_version": "CentOS 7.6 64bit", "min_disk": 1}


def checksummed(api, image_id, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        img = api.get("/v2/images/%s" % image_id).json()
        if img["checksum"] or time.monotonic() > deadline:
            return img
        time.sleep(0.05)


def test_import_from_obs_under_faults(start_imsd, obs_s3, proxy):
    """Every kind of fault on the way from the bucket: 503s, a reset HEAD,
    GET bodies cut midway; the image is the object's bytes exactly."""
    srv = start_imsd(config={"obs": dict(s3_config(obs_s3), endpoint=proxy.endpoint, **FAST_RETRY)})
    api = srv.project_user()
    b = new_bucket(obs_s3)
    data = os.urandom(3 * MIB + 512)
    put_direct(obs_s3, b, "disk.raw", data)
    proxy.reset(1, method="HEAD")
    proxy.fail(2, method="GET")
    proxy.cut(2, after=400000)
    job = wait_job(api, submit(api, "POST", CREATE, import_body("%s:disk.raw" % b)), timeout=120)
    assert job["status"] == "SUCCESS", job
    img = checksummed(api, job["entities"]["image_id"])
    assert img["size"] == len(data) and img["checksum"] == hashlib.md5(data).hexdigest(), img
    assert img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    assert proxy.count("reset") == 1 and proxy.count("fail 503") == 2 and proxy.count("cut 400000") == 2, proxy.seen
    log = srv.log_path.read_text(errors="replace")
    assert re.search(r"WARNING S3 get \(from byte \d+\) failed \(S3 get %s:disk.raw: the transfer ended after "
                     r"\d+ of %d bytes" % (b, len(data)), log), log


def test_an_export_whose_complete_answer_was_lost_succeeds(start_imsd, obs_s3, proxy):
    """An export put as a multipart upload; the server completes it, the
    answer is lost and the retry finds no upload: the object is the
    export's, so the job succeeds (it failed, with the object there)."""
    srv = start_imsd(config={"obs": dict(s3_config(obs_s3), endpoint=proxy.endpoint, part_size=PART, **FAST_RETRY)})
    api = srv.project_user()
    b = new_bucket(obs_s3)
    data = os.urandom(2 * PART + 999)
    img = active_image(api, data)
    proxy.drop(1, method="POST", match=COMPLETE)
    proxy.fail(1, status=404, code="NoSuchUpload", method="POST", match=COMPLETE)
    job = wait_job(api, submit(api, "POST", "/v1/cloudimages/%s/file" % img["id"],
                               {"bucket_url": "%s:out.raw" % b, "file_format": "raw"}), timeout=120)
    assert job["status"] == "SUCCESS", job
    assert get_direct(obs_s3, b, "out.raw") == data
    assert proxy.count("drop 200") == 1 and proxy.count("fail 404") == 1, proxy.seen
    assert s3_uploads(obs_s3, b) == 0


def store_config(env, proxy, bucket):
    return {"store": dict(s3_config(env), endpoint=proxy.endpoint, bucket=bucket, part_size=PART, **FAST_RETRY),
            "images": {"max_image_size": 64 * MIB}}


def upload_chunked(api, image_id, data):
    """An upload of a size not known in advance (Transfer-Encoding:
    chunked): the S3 store sends it in parts."""
    def body():
        for i in range(0, len(data), MIB):
            yield data[i:i + MIB]
    return api.put("/v2/images/%s/file" % image_id, data=body(), headers={"Content-Type": "application/octet-stream"})


def active_image_chunked(api, data):
    img = create_image(api, disk_format="raw", container_format="bare")
    r = upload_chunked(api, img["id"], data)
    assert r.status_code == 204, (r.status_code, r.text[:300])
    return api.get("/v2/images/%s" % img["id"]).json()


@pytest.mark.parametrize("sized", [True, False], ids=["one-put", "parts"])
def test_s3_store_upload_and_download_under_faults(start_imsd, obs_s3, proxy, sized):
    """Upload: parts answered 503 or reset are sent again alone; the one
    PUT of an upload whose size is known is sent again too, since the
    faults come before its body (Expect: 100-continue); download: bodies
    cut midway resume; every byte and digest exact."""
    bucket = "st-" + uuid.uuid4().hex[:20]
    srv = start_imsd(config=store_config(obs_s3, proxy, bucket))
    api = srv.admin()
    data = os.urandom(2 * PART + 4567)
    # the image's requests (not the md5_from_etag probe its first one PUT sends first)
    proxy.fail(2, method="PUT", match="/images/")
    proxy.reset(1, method="PUT", match="/images/")
    img = active_image(api, data) if sized else active_image_chunked(api, data)
    puts = [s for s in proxy.seen if s[0] == "PUT" and "/images/" in s[1]]   # not the bucket's
    if sized:   # one object, one PUT tried four times
        assert [s[2] for s in puts] == ["fail 503", "fail 503", "reset", "200"], puts
        assert len({s[1] for s in puts}) == 1 and "partNumber" not in puts[0][1], puts
    else:
        assert sum(1 for s in puts if s[2] == "200") == 3 and all("partNumber" in s[1] for s in puts), puts
    assert img["size"] == len(data) and img["checksum"] == hashlib.md5(data).hexdigest()
    assert img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert proxy.count("fail 503") == 2 and proxy.count("reset") == 1, proxy.seen
    assert s3_uploads(obs_s3, bucket) == 0
    proxy.cut(3, after=MIB + 17)
    r = api.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 200 and r.content == data
    assert proxy.count("cut %d" % (MIB + 17)) == 3
    proxy.cut(1, after=1000)
    r = api.get("/v2/images/%s/file" % img["id"], headers={"Range": "bytes=%d-%d" % (PART - 10, PART + 99999)})
    assert r.status_code == 206 and r.content == data[PART - 10:PART + 100000]
    assert "S3 get (from byte" in srv.log_path.read_text(errors="replace")


def test_s3_store_upload_survives_a_lost_complete_answer(start_imsd, obs_s3, proxy):
    """The store's streamed writer (parts held in memory: an upload of
    unknown size) completes its upload, the answer is lost, the retry finds no upload: the object is
    the upload's, so the image is active with the data."""
    bucket = "st-" + uuid.uuid4().hex[:20]
    srv = start_imsd(config=store_config(obs_s3, proxy, bucket))
    api = srv.admin()
    data = os.urandom(2 * PART + 4567)
    proxy.drop(1, method="POST", match=COMPLETE)
    proxy.fail(1, status=404, code="NoSuchUpload", method="POST", match=COMPLETE)
    img = active_image_chunked(api, data)   # a size not known in advance: parts
    assert img["size"] == len(data) and img["checksum"] == hashlib.md5(data).hexdigest()
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    assert proxy.count("drop 200") == 1 and proxy.count("fail 404") == 1, proxy.seen
    assert s3_uploads(obs_s3, bucket) == 0


def s3_store_leaves_nothing(api, obs_s3, bucket, image_id):
    """The image queued, no object, no multipart upload (a blob another
    request failed to write is removed at once, its writer's claim ended)."""
    assert api.get("/v2/images/%s" % image_id).json()["status"] == "queued"
    assert s3_keys(obs_s3, bucket, "images/") == {}
    assert s3_uploads(obs_s3, bucket) == 0


@pytest.mark.parametrize("fault", ["cut", "lost answer"])
def test_s3_store_one_put_failing_once_its_body_went_fails_the_upload(start_imsd, obs_s3, proxy, fault):
    """The one PUT of an upload of known size holds no copy of the bytes:
    broken midway (the server stores nothing), or stored with its answer
    lost, it cannot be sent again. The upload fails with 503 (as Glance's
    own store fails it), the image stays queued, nothing stays on S3 (the
    lost answer's object is removed), and the same upload again succeeds."""
    bucket = "st-" + uuid.uuid4().hex[:20]
    srv = start_imsd(config=store_config(obs_s3, proxy, bucket))
    api = srv.admin()
    data = os.urandom(2 * PART + 999)
    img = create_image(api, disk_format="raw", container_format="bare")
    if fault == "cut":   # the image's PUT, not the md5_from_etag probe before it
        proxy.cut_request(1, after=PART + 3, match="/images/")
    else:
        proxy.drop(1, method="PUT", match="/images/")
    try:
        r = api.put("/v2/images/%s/file" % img["id"], data=data, headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 503, (r.status_code, r.text[:300])
    except requests.exceptions.ConnectionError:
        pass   # the answer came while the body was still going
    puts = [s for s in proxy.seen if s[0] == "PUT" and "/images/" in s[1]]
    assert [s[2] for s in puts] == (["cut request %d" % (PART + 3)] if fault == "cut" else ["drop 200"]), puts
    deadline = time.monotonic() + 10
    while api.get("/v2/images/%s" % img["id"]).json()["status"] != "queued" and time.monotonic() < deadline:
        time.sleep(0.1)
    s3_store_leaves_nothing(api, obs_s3, bucket, img["id"])
    log = srv.log_path.read_text(errors="replace")
    assert "try 2 of" not in log, log[-2000:]
    proxy.clear()
    assert api.put("/v2/images/%s/file" % img["id"], data=data,
                   headers={"Content-Type": "application/octet-stream"}).status_code == 204
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    assert [s[2] for s in proxy.seen if s[0] == "PUT"] == ["200"], proxy.seen


def writes(proxy, want):
    """The PUTs and POSTs of image data the proxy saw (method, what
    happened; not the md5_from_etag probe a process's first one PUT sends
    first), once the first are want or after 10 s: the proxy notes a
    request after its answer went, so the last may be noted a moment after
    imsd went on."""
    deadline = time.monotonic() + 10
    while True:
        seen = [(s[0], s[2]) for s in proxy.seen if s[0] in ("PUT", "POST") and "/ims-probe/" not in s[1]]
        if seen[:len(want)] == want or time.monotonic() > deadline:
            return seen


def test_s3_store_writes_a_known_size_as_one_put(start_imsd, obs_s3, proxy):
    """Content-Length or x-openstack-image-size known and larger than a
    part: one PUT of the object, no multipart upload, the image exact;
    chunked: a multipart upload; [store] single_put_max below the size:
    parts again. Glance's stage streams its one PUT too."""
    bucket = "st-" + uuid.uuid4().hex[:20]
    srv = start_imsd(config=store_config(obs_s3, proxy, bucket))
    api = srv.admin()
    data = os.urandom(2 * PART + 31)
    proxy.clear()   # the bucket made at start
    img = active_image(api, data)
    assert img["checksum"] == hashlib.md5(data).hexdigest() and img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert writes(proxy, [("PUT", "200")]) == [("PUT", "200")], proxy.seen
    assert "partNumber" not in next(s[1] for s in proxy.seen if s[0] == "PUT" and "/images/" in s[1])
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    assert list(s3_keys(obs_s3, bucket, "images/").values()) == [len(data)]
    # the declared size without Content-Length (chunked): one PUT as well
    proxy.clear()
    other = create_image(api, disk_format="raw", container_format="bare")
    r = api.put("/v2/images/%s/file" % other["id"], data=iter([data[:MIB], data[MIB:]]),
                headers={"Content-Type": "application/octet-stream", "x-openstack-image-size": str(len(data))})
    assert r.status_code == 204, r.text
    assert writes(proxy, [("PUT", "200")]) == [("PUT", "200")], proxy.seen
    proxy.clear()
    third = active_image_chunked(api, data)
    assert third["checksum"] == img["checksum"]
    # create, three parts (the proxy notes the Complete only when Swift
    # closes its chunked answer's connection)
    parts = [("POST", "200"), ("PUT", "200"), ("PUT", "200"), ("PUT", "200")]
    assert writes(proxy, parts)[:4] == parts, proxy.seen
    proxy.clear()
    staged = create_image(api, disk_format="raw", container_format="bare")
    r = api.put("/v2/images/%s/stage" % staged["id"], data=data, headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    assert writes(proxy, [("PUT", "200")]) == [("PUT", "200")], proxy.seen
    srv2 = start_imsd(config=dict(store_config(obs_s3, proxy, bucket), **{
        "store": dict(store_config(obs_s3, proxy, bucket)["store"], single_put_max=2 * PART)}))
    api2 = srv2.admin()
    proxy.clear()   # (the bucket is there: only a HEAD)
    fourth = active_image(api2, data)
    assert fourth["checksum"] == img["checksum"]
    assert writes(proxy, parts)[:4] == parts, proxy.seen
    assert s3_uploads(obs_s3, bucket) == 0


def test_copy_image_into_the_s3_store_is_one_put(start_imsd, obs_s3, proxy):
    """copy-image knows the size it copies: into the S3 store it goes as one
    PUT (no multipart upload), and the copy is the image's data."""
    bucket = "st-" + uuid.uuid4().hex[:20]
    cfg = store_config(obs_s3, proxy, bucket)
    cfg["stores"] = {"enabled": "local:file, cloud:s3", "default": "local"}
    srv = start_imsd(config=cfg)
    api = srv.admin()
    data = os.urandom(2 * PART + 31)
    img = active_image(api, data)
    assert img["stores"] == "local"
    proxy.clear()
    r = api.post("/v2/images/%s/import" % img["id"], json={"method": {"name": "copy-image"}, "stores": ["cloud"]})
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 60
    while "cloud" not in api.get("/v2/images/%s" % img["id"]).json()["stores"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(api.get("/v2/images/%s" % img["id"]).json()["stores"].split(",")) == ["cloud", "local"]
    assert writes(proxy, [("PUT", "200")]) == [("PUT", "200")], proxy.seen
    assert "partNumber" not in next(s[1] for s in proxy.seen if s[0] == "PUT" and "/images/" in s[1])
    assert list(s3_keys(obs_s3, bucket, "images/").values()) == [len(data)]
    assert api.delete("/v2/stores/local/%s" % img["id"]).status_code == 204
    assert api.get("/v2/images/%s/file" % img["id"]).content == data
    assert s3_uploads(obs_s3, bucket) == 0


def test_permanent_store_faults_answer_503_in_bounded_time(start_imsd, obs_s3, proxy):
    bucket = "st-" + uuid.uuid4().hex[:20]
    srv = start_imsd(config=store_config(obs_s3, proxy, bucket))
    api = srv.admin()
    img = active_image(api, os.urandom(PART + 1))
    # the store unreachable: the download is refused before it starts
    proxy.fail(None)
    t = time.monotonic()
    r = api.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert time.monotonic() - t < 10
    proxy.clear()
    # GETs failing once the answer's head went: the body ends short, never complete with wrong bytes, no hang
    proxy.fail(None, method="GET")
    t = time.monotonic()
    try:
        r = api.get("/v2/images/%s/file" % img["id"])
        assert r.status_code == 200 and len(r.content) < PART + 1
    except requests.exceptions.RequestException:
        pass
    assert time.monotonic() - t < 10
    proxy.clear()
    proxy.fail(None, method="PUT")
    queued = create_image(api, disk_format="raw", container_format="bare")
    t = time.monotonic()
    r = api.put("/v2/images/%s/file" % queued["id"], data=os.urandom(2 * PART),
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 503, (r.status_code, r.text[:300])
    assert time.monotonic() - t < 15
    assert api.get("/v2/images/%s" % queued["id"]).json()["status"] == "queued"
    proxy.clear()
    assert s3_uploads(obs_s3, bucket) == 0


def test_a_permanent_obs_fault_fails_the_import_in_bounded_time(start_imsd, obs_s3, proxy):
    srv = start_imsd(config={"obs": dict(s3_config(obs_s3), endpoint=proxy.endpoint, **FAST_RETRY)})
    api = srv.project_user()
    b = new_bucket(obs_s3)
    put_direct(obs_s3, b, "disk.raw", os.urandom(MIB))
    job_id = submit(api, "POST", CREATE, import_body("%s:disk.raw" % b))
    proxy.fail(None, method="GET")
    t = time.monotonic()
    job = wait_job(api, job_id, timeout=60)
    assert time.monotonic() - t < 20
    # the object storage failing: IMS's "unknown system error", its cause in the log
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0061", job
    assert "giving up after 4 tries" in srv.log_path.read_text(errors="replace")
