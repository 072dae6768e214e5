"""Imports and exports that fail midway, and imsd killed midway (issue 11):
a full disk (a small tmpfs as the data dir or the object storage's dir), a
qemu-img killed from outside, imsd killed during a conversion (its qemu-img
must die with it) or after an export's put. Each time the job ends with a
precise error_code and fail_reason, or resumes and succeeds, and nothing is
left behind: no image, no temporary file, no partial object."""
import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import unique
from job_helpers import submit, wait_job
from obs_fixtures import s3_config

CREATE = "/v2/cloudimages/action"
MIB = 1 << 20
BUCKET = "ims-fail"


def qemu_img(*args):
    r = subprocess.run(["qemu-img"] + [str(a) for a in args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, "qemu-img %s: %s" % (" ".join(map(str, args)), r.stderr)
    return r.stdout


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """A 256 MiB raw disk of random data and its qcow2 copy: a conversion
    long enough to catch qemu-img running."""
    d = tmp_path_factory.mktemp("big")
    raw = d / "big.raw"
    with open(raw, "wb") as f:
        for _ in range(256):
            f.write(os.urandom(MIB))
    qcow = d / "big.qcow2"
    qemu_img("convert", "-f", "raw", "-O", "qcow2", raw, qcow)
    return {"raw": raw, "qcow2": qcow}


@pytest.fixture
def tmpfs(tmp_path):
    """tmpfs(size_mib) -> a fresh directory that is a tmpfs of that size,
    unmounted at teardown (after the servers on it stopped)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = []

    def make(size_mib):
        d = tmp_path / ("tmpfs%d" % len(mounted))
        d.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0755" % size_mib, "tmpfs", str(d)], check=True)
        mounted.append(d)
        return d
    yield make
    for d in mounted:
        subprocess.run(["umount", "-l", str(d)], check=False)


def body(url, **kw):
    b = {"name": unique("fail"), "image_url": url, "os_version": "CentOS 7.6 64bit", "min_disk": 1}
    b.update(kw)
    return b


def temp_files(data_dir):
    tmp = Path(data_dir) / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []


def blobs(data_dir):
    images = Path(data_dir) / "images"
    return sorted(str(p) for p in images.rglob("*") if p.is_file()) if images.exists() else []


def obs_leftovers(obs_dir, bucket=BUCKET):
    """Files of the embedded object storage: its temporary area and the bucket."""
    d = Path(obs_dir)
    tmp = sorted(p.name for p in (d / ".tmp").iterdir()) if (d / ".tmp").exists() else []
    return tmp, sorted(p.name for p in (d / bucket).iterdir()) if (d / bucket).exists() else []


def children(pid, name="qemu-img"):
    """Live processes named `name` whose parent is pid."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc/%s/stat" % entry).read_text()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        if comm == name and int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def alive(pid):
    try:
        stat = Path("/proc/%d/stat" % pid).read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2:].split()[0] != "Z"


def catch_qemu_img(srv, timeout=60):
    """Waits for imsd's qemu-img child and stops it (SIGSTOP) mid-conversion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = children(srv.proc.pid)
        if kids:
            os.kill(kids[0], signal.SIGSTOP)
            return kids[0]
        time.sleep(0.002)
    pytest.fail("no qemu-img child of imsd appeared")


def failed(api, job_id, code="IMG.0061"):
    job = wait_job(api, job_id, timeout=120)
    assert job["status"] == "FAIL" and job["error_code"] == code, job
    return job


# ---------------------------------------------------------------- a full disk
def test_import_into_a_full_data_dir(start_imsd, tmpfs, big, tmp_path):
    """The data dir is a 40 MiB tmpfs, the object storage elsewhere: a
    64 MiB raw import (fetched: no link across file systems) and a qcow2
    import (qemu-img's output) run out of space. The jobs fail with
    IMG.0061 saying so, and leave no image, no temporary file, no blob."""
    data = tmpfs(40)
    obs_dir = tmp_path / "obs"
    srv = start_imsd(config={"obs": {"dir": str(obs_dir)}, "jobs": {"workers": 1}}, data_dir=data)
    api = srv.project_user()
    srv.imsctl("obs", "mb", BUCKET)
    raw = tmp_path / "r.raw"
    with open(big["raw"], "rb") as f, open(raw, "wb") as out:
        out.write(f.read(64 * MIB))
    qcow = tmp_path / "r.qcow2"
    qemu_img("convert", "-f", "raw", "-O", "qcow2", raw, qcow)
    srv.imsctl("obs", "put", BUCKET, "r.raw", str(raw))
    srv.imsctl("obs", "put", BUCKET, "r.qcow2", str(qcow))
    for key, words in (("r.raw", "no space left"), ("r.qcow2", "no space")):
        job = failed(api, submit(api, "POST", CREATE, body("%s:%s" % (BUCKET, key))))
        assert words in job["fail_reason"].lower(), job
        assert api.get("/v2/images/%s" % job["entities"]["image_id"]).status_code == 404
        assert temp_files(data) == [] and blobs(data) == []
    # with room again, the same import works
    small = tmp_path / "s.raw"
    small.write_bytes(raw.read_bytes()[:4 * MIB])
    srv.imsctl("obs", "put", BUCKET, "s.raw", str(small))
    job = wait_job(api, submit(api, "POST", CREATE, body("%s:s.raw" % BUCKET)), timeout=120)
    assert job["status"] == "SUCCESS", job


def test_export_into_a_full_object_storage(start_imsd, tmpfs, tmp_path):
    """The object storage's dir is a 40 MiB tmpfs: a 64 MiB export (raw as
    stored, and converted to qcow2) runs out of space in the bucket. The
    jobs fail with IMG.0061 saying so; no object, no temporary file in the
    object storage or the image store."""
    obs_dir = tmpfs(40)
    srv = start_imsd(config={"obs": {"dir": str(obs_dir)}, "jobs": {"workers": 1}})
    api = srv.project_user()
    srv.imsctl("obs", "mb", BUCKET)
    # a 64 MiB disk holding 16 MiB of data: its object fits (tmpfs keeps holes), its exports do not
    src = obs_dir / BUCKET / "sparse.raw"
    with open(src, "wb") as f:
        f.write(os.urandom(16 * MIB))
        f.truncate(64 * MIB)
    job = wait_job(api, submit(api, "POST", CREATE, body("%s:sparse.raw" % BUCKET)), timeout=120)
    assert job["status"] == "SUCCESS", job
    image_id = job["entities"]["image_id"]
    # filling the rest: the exports' data has no room
    filler = obs_dir / BUCKET / "filler"
    with open(filler, "wb") as f:
        f.write(os.urandom(20 * MIB))
    for fmt in ("raw", "qcow2"):
        key = unique("out") + "." + fmt
        job = failed(api, submit(api, "POST", "/v1/cloudimages/%s/file" % image_id,
                                 {"bucket_url": "%s:%s" % (BUCKET, key), "file_format": fmt}))
        assert "no room" in job["fail_reason"], job
        tmp, objects = obs_leftovers(obs_dir)
        assert tmp == [] and objects == ["filler", "sparse.raw"], (tmp, objects)
        assert temp_files(srv.data_dir) == []


# ---------------------------------------------------------------- qemu-img killed
def test_qemu_img_killed_midway(start_imsd, big):
    """qemu-img dies of a SIGKILL from outside in the middle of an import's
    conversion: the job fails with IMG.0061 saying the conversion was
    killed (not a limit, not the user's file), and nothing is left."""
    srv = start_imsd(config={"jobs": {"workers": 1}})
    api = srv.project_user()
    srv.imsctl("obs", "mb", BUCKET)
    srv.imsctl("obs", "put", BUCKET, "big.qcow2", str(big["qcow2"]))
    job_id = submit(api, "POST", CREATE, body("%s:big.qcow2" % BUCKET))
    pid = catch_qemu_img(srv)
    assert temp_files(srv.data_dir), "qemu-img writes into the store's temporary area"
    os.kill(pid, signal.SIGKILL)  # a stopped process dies of SIGKILL too; no SIGCONT (imsd may have reaped it)
    job = failed(api, job_id)
    assert "killed (signal 9)" in job["fail_reason"], job
    assert api.get("/v2/images/%s" % job["entities"]["image_id"]).status_code == 404
    assert temp_files(srv.data_dir) == [] and blobs(srv.data_dir) == []


# ---------------------------------------------------------------- imsd killed
def test_sigkill_of_imsd_kills_its_qemu_img(start_imsd, big):
    """imsd is killed while qemu-img converts an import (qemu-img stopped
    there, so it cannot finish on its own): qemu-img dies with imsd (it
    asked for SIGKILL at its parent's death), recovery at the next start
    removes its output, and the job resumes and succeeds."""
    srv = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}})
    api = srv.project_user()
    srv.imsctl("obs", "mb", BUCKET)
    srv.imsctl("obs", "put", BUCKET, "big.qcow2", str(big["qcow2"]))
    job_id = submit(api, "POST", CREATE, body("%s:big.qcow2" % BUCKET))
    pid = catch_qemu_img(srv)
    srv.kill()
    srv.ended_by_test = True
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
        pytest.fail("qemu-img outlived imsd")
    srv2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=srv.data_dir)
    api2 = srv2.session(api.user_name, api.password, api.project_name)
    job = wait_job(api2, job_id, timeout=180)
    assert job["status"] == "SUCCESS", job
    deadline = time.monotonic() + 120
    while True:  # the checksums come after the image is active (imsd's checksum job)
        img = api2.get("/v2/images/%s" % job["entities"]["image_id"]).json()
        if img["checksum"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert img["status"] == "active" and img["size"] == 256 * MIB
    h = hashlib.md5()
    with open(big["raw"], "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    assert img["checksum"] == h.hexdigest()
    assert temp_files(srv2.data_dir) == []


@pytest.fixture(params=["embedded", "s3"])
def backend(request):
    if request.param == "s3":
        return request.param, request.getfixturevalue("obs_s3")
    return request.param, None


def s3_call(env, method, path):
    """One signed request to the S3 test server (curl's SigV4)."""
    # the netrc: the access key has a ':' that --user would split at
    r = subprocess.run(["curl", "-sS", "--fail-with-body", "-X", method, "--aws-sigv4",
                        "aws:amz:%s:s3" % env["S3_REGION"], "--netrc-file", env["S3_CURL_NETRC"],
                        "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", env["S3_ENDPOINT"] + path],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_sigkill_after_the_export_put(start_imsd, monkeypatch, backend, tmp_path):
    """imsd is killed after an export's put and before the job recorded
    its end: the resumed job finds the object it put (marked with the job's
    id) and succeeds, instead of refusing its own object with IMG.0070.
    On S3 the resumed export also removes the unfinished multipart uploads
    to its key (the parts of a put killed midway)."""
    name, s3 = backend
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1500")
    config = {"jobs": {"workers": 1, "lease_seconds": 2}}
    if s3:
        config["obs"] = s3_config(s3)
    srv = start_imsd(config=config)
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    api = srv.project_user()
    bucket = unique("bk").lower()
    srv.imsctl("obs", "mb", bucket)
    src = tmp_path / "d.raw"
    src.write_bytes(os.urandom(3 * MIB))
    srv.imsctl("obs", "put", bucket, "d.raw", str(src))
    job = wait_job(api, submit(api, "POST", CREATE, body("%s:d.raw" % bucket)), timeout=120)
    assert job["status"] == "SUCCESS", job
    image_id = job["entities"]["image_id"]
    key = unique("out") + ".qcow2"
    if s3:
        # what a put killed midway leaves on S3: an unfinished multipart upload to the key
        assert "<UploadId>" in s3_call(s3, "POST", "/%s/%s?uploads=" % (bucket, key))
        assert key in s3_call(s3, "GET", "/%s?prefix=%s&uploads=" % (bucket, key))
    job_id = submit(api, "POST", "/v1/cloudimages/%s/file" % image_id,
                    {"bucket_url": "%s:%s" % (bucket, key), "file_format": "qcow2"})
    # the job pauses in its step after the put (progress 100)
    deadline = time.monotonic() + 60
    while True:
        listing = srv.imsctl("obs", "ls", bucket)
        if key in listing:
            break
        assert time.monotonic() < deadline, "the export never put its object"
        time.sleep(0.05)
    assert api.get("/v1/%s/jobs/%s" % (api.project_id, job_id)).json()["status"] == "RUNNING"
    srv.kill()
    srv.ended_by_test = True
    srv2 = start_imsd(config=config, data_dir=srv.data_dir)
    api2 = srv2.session(api.user_name, api.password, api.project_name)
    job = wait_job(api2, job_id, timeout=120)
    assert job["status"] == "SUCCESS", job
    out = tmp_path / "out.qcow2"
    srv2.imsctl("obs", "get", bucket, key, str(out))
    qemu_img("compare", "-F", "raw", out, src)
    if s3:
        # the resumed export removed the unfinished upload
        assert "<Upload>" not in s3_call(s3, "GET", "/%s?prefix=%s&uploads=" % (bucket, key))
