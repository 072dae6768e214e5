"""Images from object-storage files and exports to object storage, end to
end: files made by qemu-img at test time and put into a bucket with
`imsctl obs put`, imported through POST /v2/cloudimages/action (and the quick
import, data-image and registration calls), exported through POST
/v1/cloudimages/{id}/file and compared with `qemu-img compare`. Every case
runs against the embedded object storage and against a real S3-compatible
server (Swift s3api, tests/fixtures/start-s3-server.sh)."""
import hashlib
import os
import subprocess
import time

import pytest

from helpers import concurrently, create_image, unique
from job_helpers import ims_error, one_taken, start_racing, submit, wait_job
import obs_fixtures
from obs_fixtures import s3_config

CREATE = "/v2/cloudimages/action"
QUICK = "/v2/cloudimages/quickimport/action"
DATA = "/v1/cloudimages/dataimages/action"
MIB = 1 << 20
SIZE = 4 * MIB
BUCKET = "ims-image"

# what qemu-img calls each format we import
IMPORT_FORMATS = {"raw": "raw", "qcow2": "qcow2", "vhd": "vpc", "vhdx": "vhdx", "vmdk": "vmdk", "vdi": "vdi",
                  "qed": "qed"}
EXPORT_FORMATS = ["qcow2", "vhd", "vmdk", "zvhd", "zvhd2", "raw"]


def qemu_img(*args):
    r = subprocess.run(["qemu-img"] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, "qemu-img %s: %s" % (" ".join(map(str, args)), r.stderr)
    return r.stdout


def pattern(size, seed):
    """Known, incompressible-looking content with holes: blocks of data
    every other MiB, zeros between."""
    out = bytearray(size)
    for off in range(0, size, 2 * MIB):
        block = hashlib.sha512(("%s-%d" % (seed, off)).encode()).digest() * (MIB // 64)
        out[off:off + MIB] = block[:min(MIB, size - off)]
    return bytes(out)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The reference raw disk and its copies in every import format."""
    d = tmp_path_factory.mktemp("disks")
    raw = d / "disk.raw"
    raw.write_bytes(pattern(SIZE, "system"))
    made = {"raw": raw}
    for name, fmt in IMPORT_FORMATS.items():
        if name != "raw":
            made[name] = d / ("disk." + name)
            # VHD rounds the disk to its CHS geometry unless told the size is exact
            opts = ["-o", "force_size=on"] if fmt == "vpc" else []
            qemu_img("convert", "-f", "raw", "-O", fmt, *opts, raw, made[name])
    data = d / "data.raw"
    data.write_bytes(pattern(2 * MIB, "data"))
    made["data"] = data
    data_q = d / "data.qcow2"
    qemu_img("convert", "-f", "raw", "-O", "qcow2", data, data_q)
    made["data.qcow2"] = data_q
    backing = d / "backed.qcow2"
    qemu_img("create", "-f", "qcow2", "-o", "backing_file=%s,backing_fmt=raw" % raw, backing)
    made["backed"] = backing
    return made


@pytest.fixture(scope="module", params=["embedded", "s3"])
def srv(request, module_imsd):
    if request.param == "s3":
        env = request.getfixturevalue("obs_s3")
        s = module_imsd(config={"obs": s3_config(env)})
    else:
        s = module_imsd()
    s.backend = request.param
    s.imsctl("obs", "mb", BUCKET)
    return s


@pytest.fixture(scope="module")
def api(srv):
    return srv.project_user()


def put(srv, key, path, bucket=BUCKET):
    srv.imsctl("obs", "put", bucket, key, str(path))
    return "%s:%s" % (bucket, key)


def get(srv, key, path, bucket=BUCKET):
    srv.imsctl("obs", "get", bucket, key, str(path))
    return path


def run_job(api, url, body, timeout=120):
    return wait_job(api, submit(api, "POST", url, body), timeout=timeout)


def import_body(image_url, **kw):
    b = {"name": unique("imp"), "image_url": image_url, "os_version": "CentOS 7.6 64bit", "min_disk": 1}
    b.update(kw)
    return b


def temp_files(srv):
    return [p for p in (srv.data_dir / "tmp").iterdir()] if (srv.data_dir / "tmp").exists() else []


def image(api, image_id):
    r = api.get("/v2/images/%s" % image_id)
    assert r.status_code == 200, r.text
    return r.json()


def checksummed(api, image_id, timeout=60):
    """The image once its checksums are recorded: an import that links or
    converts its file in the store makes the image active first and leaves
    the md5 and sha512 to imsd's checksum job."""
    deadline = time.monotonic() + timeout
    while True:
        img = image(api, image_id)
        if img["checksum"] or time.monotonic() > deadline:
            return img
        time.sleep(0.05)


def assert_gone(api, image_id):
    assert api.get("/v2/images/%s" % image_id).status_code == 404


# ---------------------------------------------------------------- import
@pytest.mark.parametrize("fmt", sorted(IMPORT_FORMATS))
def test_import_each_format(srv, api, files, fmt):
    key = unique("f") + "." + fmt
    url = put(srv, key, files[fmt])
    body = import_body(url, description="from a %s file" % fmt, tags=["fmt.%s" % fmt], hw_firmware_type="uefi",
                       is_config=True, min_ram=512, max_ram=4096)
    job = run_job(api, CREATE, body)
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsImportImageJob"
    assert job["error_code"] is None and job["fail_reason"] is None
    ent = job["entities"]
    assert ent["image_name"] == body["name"] and ent["process_percent"] == 100
    img = image(api, ent["image_id"])
    raw = files["raw"].read_bytes()
    assert img["status"] == "active"
    # a download works before the checksums are there
    r = api.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 200 and r.content == raw
    img = checksummed(api, img["id"])
    assert img["disk_format"] == "raw" and img["container_format"] == "bare"
    assert img["virtual_size"] == SIZE and img["size"] == SIZE
    assert img["checksum"] == hashlib.md5(raw).hexdigest()
    assert img["os_hash_algo"] == "sha512" and img["os_hash_value"] == hashlib.sha512(raw).hexdigest()
    expected = {"__os_version": "CentOS 7.6 64bit", "__platform": "CentOS", "__os_bit": "64", "__os_type": "Linux",
                "__imagetype": "private", "__isregistered": "true", "__image_source_type": "uds",
                "__data_origin": "file," + url, "__originalimagename": "", "__lazyloading": "false",
                "__root_origin": "file",
                "__description": body["description"], "virtual_env_type": "FusionCompute",
                "hw_firmware_type": "uefi", "__is_auto_config": "true", "__image_size": str(SIZE),
                "max_ram": "4096"}
    for k, v in expected.items():
        assert img.get(k) == v, (k, img.get(k))
    assert img["min_disk"] == 1 and img["min_ram"] == 512 and img["visibility"] == "private"
    assert "fmt=%s" % fmt in img["tags"]
    r = api.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 200 and r.content == raw
    assert not temp_files(srv)
    if fmt == "raw" and srv.backend == "embedded" and not srv.store_env:
        # stored as it is: the object's own file, linked, not copied (the file store)
        assert os.stat(srv.data_dir / "obs" / BUCKET / key).st_nlink == 2


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_import_checksums_come_from_where_the_file_is(srv, api, files, fmt):
    """On the file store, an imported image gets its md5 and sha512 after
    it is active, from the checksum job reading the store's file, whether
    the file was linked (raw, embedded object storage), streamed in (raw,
    S3: on a machine shared with the S3 server the digests in the fetch's
    pass made the import take twice a plain GET) or converted. On an S3
    image store (IMSD_TEST_STORE=s3) the import computes them before the
    store takes the file: the checksum job would download the image again."""
    url = put(srv, unique("sum") + "." + fmt, files[fmt])
    log_start = srv.log_path.stat().st_size
    job = run_job(api, CREATE, import_body(url))
    assert job["status"] == "SUCCESS", job
    img = checksummed(api, job["entities"]["image_id"])
    raw = files["raw"].read_bytes()
    assert img["checksum"] == hashlib.md5(raw).hexdigest()
    assert img["os_hash_value"] == hashlib.sha512(raw).hexdigest()
    line = "image %s: checksums of %d bytes" % (img["id"], SIZE)
    by_job = not srv.store_env

    def log():
        return srv.log_path.read_bytes()[log_start:].decode(errors="replace")
    deadline = time.monotonic() + 30  # the job logs just after it records the checksums
    while by_job and line not in log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (line in log()) == by_job, log()


def test_import_with_data_disks(srv, api, files):
    sys_url = put(srv, unique("sys") + ".qcow2", files["qcow2"])
    d1 = put(srv, unique("d1") + ".qcow2", files["data.qcow2"])
    d2 = put(srv, unique("d2") + ".raw", files["data"])
    body = import_body(sys_url, data_images=[{"name": unique("data1"), "image_url": d1, "min_disk": 10},
                                             {"image_url": d2, "min_disk": 20, "image_tags": [{"key": "k",
                                                                                               "value": "v"}]}])
    job = run_job(api, CREATE, body)
    assert job["status"] == "SUCCESS", job
    ent = job["entities"]
    subs = ent["sub_jobs_result"]
    assert len(subs) == 2 and ent["sub_jobs_list"] == [s["job_id"] for s in subs]
    data = files["data"].read_bytes()
    for s, min_disk in zip(subs, (10, 20)):
        assert s["status"] == "SUCCESS" and s["job_type"] == "imsImportDataImageJob", s
        img = image(api, s["entities"]["image_id"])
        assert img["name"] == s["entities"]["image_name"]
        assert img["status"] == "active" and img["virtual_env_type"] == "DataImage"
        assert img["min_disk"] == min_disk and img["__os_type"] == "Linux"
        img = checksummed(api, img["id"])
        assert img["checksum"] == hashlib.md5(data).hexdigest() and img["virtual_size"] == 2 * MIB
        assert img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert subs[1]["entities"]["image_name"] == body["name"] + "-data2"
    assert "k=v" in image(api, subs[1]["entities"]["image_id"])["tags"]
    assert image(api, ent["image_id"])["status"] == "active"


def test_data_image_call(srv, api, files):
    url = put(srv, unique("data") + ".qcow2", files["data.qcow2"])
    job = run_job(api, DATA, {"name": unique("di"), "image_url": url, "min_disk": 40, "os_type": "Windows"})
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsImportDataImageJob"
    img = image(api, job["entities"]["image_id"])
    assert img["virtual_env_type"] == "DataImage" and img["__os_type"] == "Windows"
    assert img["disk_format"] == "raw" and img["virtual_size"] == 2 * MIB


def test_quick_import_links_the_raw_file(srv, api, files):
    key = unique("big") + ".raw"
    url = put(srv, key, files["raw"])
    job = run_job(api, QUICK, {"name": unique("quick"), "image_url": url, "os_version": "CentOS 7.6 64bit",
                               "min_disk": 1, "type": "ECS"})
    assert job["status"] == "SUCCESS", job
    img = image(api, job["entities"]["image_id"])
    assert img["status"] == "active" and img["disk_format"] == "raw"
    assert img["size"] == SIZE and img["virtual_size"] == SIZE
    r = api.get("/v2/images/%s/file" % img["id"])
    assert r.content == files["raw"].read_bytes()
    if srv.backend == "embedded" and not srv.store_env:
        # the object's file is the image's: one inode, no byte copied (the file store)
        assert os.stat(srv.data_dir / "obs" / BUCKET / key).st_nlink == 2
        assert img["checksum"] is None


def test_quick_data_image(srv, api, files):
    url = put(srv, unique("qd") + ".raw", files["data"])
    job = run_job(api, QUICK, {"name": unique("qd"), "image_url": url, "os_type": "Linux", "min_disk": 1,
                               "type": "DataImage"})
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsImportDataImageJob"
    assert image(api, job["entities"]["image_id"])["virtual_env_type"] == "DataImage"


def test_quick_import_takes_raw_files_only(srv, api, files):
    url = put(srv, unique("q") + ".qcow2", files["qcow2"])
    job = run_job(api, QUICK, {"name": unique("q"), "image_url": url, "os_version": "CentOS 7.6 64bit",
                               "min_disk": 1})
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0057", job
    assert_gone(api, job["entities"]["image_id"])


def test_registration(srv, api, files):
    img = create_image(api, name=unique("reg"), disk_format="vmdk", container_format="bare")
    url = put(srv, unique("reg") + ".vmdk", files["vmdk"])
    r = api.put("/v1/cloudimages/%s/upload" % img["id"], json={"image_url": url})
    assert r.status_code == 200, r.text
    job = wait_job(api, r.json()["job_id"])
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsNativeImportImageJob" and job["entities"]["image_id"] == img["id"]
    got = checksummed(api, img["id"])
    assert got["status"] == "active" and got["virtual_size"] == SIZE
    assert got["checksum"] == hashlib.md5(files["raw"].read_bytes()).hexdigest()
    assert got["__data_origin"] == "file," + url


def test_registration_of_a_file_that_is_not_the_declared_format(srv, api, files):
    img = create_image(api, name=unique("reg"), disk_format="vhd", container_format="bare")
    url = put(srv, unique("reg") + ".vhd", files["qcow2"])
    r = api.put("/v1/cloudimages/%s/upload" % img["id"], json={"image_url": url})
    assert r.status_code == 200, r.text
    job = wait_job(api, r.json()["job_id"])
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0057", job
    got = image(api, img["id"])
    assert got["status"] == "queued" and got["checksum"] is None
    assert not temp_files(srv)


# ---------------------------------------------------------------- refusals
def test_missing_bucket_and_object(srv, api):
    ims_error(api.post(CREATE, json=import_body("no-such-bucket:disk.qcow2")), 400, "IMG.0069")
    ims_error(api.post(CREATE, json=import_body("%s:%s" % (BUCKET, unique("nothing")))), 400, "IMG.0057")
    ims_error(api.post(CREATE, json=import_body("Bad_Bucket:disk.qcow2")), 400, "IMG.0109")
    img = create_image(api, disk_format="raw", container_format="bare")
    ims_error(api.put("/v1/cloudimages/%s/upload" % img["id"], json={"image_url": "%s:gone" % BUCKET}),
              400, "IMG.0057")


def test_empty_file(srv, api, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    url = put(srv, unique("empty"), empty)
    ims_error(api.post(CREATE, json=import_body(url)), 400, "IMG.0057")


def test_unsafe_file_refused_and_nothing_left(srv, api, files):
    url = put(srv, unique("backed") + ".qcow2", files["backed"])
    job = run_job(api, CREATE, import_body(url))
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0057", job
    assert "backing" in job["fail_reason"].lower()
    assert_gone(api, job["entities"]["image_id"])
    assert not temp_files(srv)


def test_disk_larger_than_min_disk(srv, api, tmp_path):
    big = tmp_path / "big.qcow2"
    qemu_img("create", "-f", "qcow2", big, "2G")
    url = put(srv, unique("big") + ".qcow2", big)
    job = run_job(api, CREATE, import_body(url, min_disk=1))
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0055", job
    assert_gone(api, job["entities"]["image_id"])


def test_a_failing_data_disk_removes_every_image(srv, api, files):
    sys_url = put(srv, unique("sys") + ".raw", files["raw"])
    bad = put(srv, unique("bad") + ".qcow2", files["backed"])
    job = run_job(api, CREATE, import_body(sys_url, data_images=[{"image_url": bad, "min_disk": 10}]))
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0057", job
    sub = job["entities"]["sub_jobs_result"][0]
    assert sub["status"] == "FAIL" and sub["error_code"] == "IMG.0057"
    assert_gone(api, job["entities"]["image_id"])
    assert_gone(api, sub["entities"]["image_id"])


def iso_image(path, sectors=32):
    """A minimal ISO 9660 volume: a primary volume descriptor at sector 16
    and the set terminator after it."""
    data = bytearray(sectors * 2048)
    pvd = 16 * 2048
    data[pvd:pvd + 7] = b"\x01CD001\x01"
    data[pvd + 80:pvd + 88] = sectors.to_bytes(4, "little") + sectors.to_bytes(4, "big")
    data[pvd + 128:pvd + 132] = (2048).to_bytes(2, "little") + (2048).to_bytes(2, "big")
    data[pvd + 2048:pvd + 2055] = b"\xffCD001\x01"
    path.write_bytes(bytes(data))
    return path


def test_iso_needs_the_iso_type(srv, api, tmp_path):
    iso = iso_image(tmp_path / "disk.iso")
    url = put(srv, unique("cd") + ".iso", iso)
    job = run_job(api, CREATE, import_body(url))
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0057", job
    assert "IsoImage" in job["fail_reason"]
    job = run_job(api, CREATE, import_body(url, type="IsoImage"))
    assert job["status"] == "SUCCESS", job
    img = checksummed(api, job["entities"]["image_id"])
    assert img["disk_format"] == "iso" and img["virtual_env_type"] == "IsoImage"
    assert img["checksum"] == hashlib.md5(iso.read_bytes()).hexdigest()
    # ISO images are not exported
    ims_error(api.post("/v1/cloudimages/%s/file" % img["id"],
                       json={"bucket_url": "%s:%s" % (BUCKET, unique("iso-out")), "file_format": "qcow2"}),
              400, "IMG.0167")


def test_object_removed_after_submission(start_imsd, monkeypatch, files):
    """The object goes between the request and the fetch: the job fails,
    nothing is left."""
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1500")
    srv = start_imsd(config={"jobs": {"workers": 1}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    api = srv.project_user()
    srv.imsctl("obs", "mb", BUCKET)
    key = unique("vanishing") + ".qcow2"
    url = put(srv, key, files["qcow2"])
    job_id = submit(api, "POST", CREATE, import_body(url))
    srv.imsctl("obs", "rm", BUCKET, key)
    job = wait_job(api, job_id, timeout=60)
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0057", job
    assert_gone(api, job["entities"]["image_id"])
    assert not temp_files(srv)


def test_sigkill_during_an_import_resumes(start_imsd, monkeypatch, files):
    """imsd is killed while the job fetches the file (the image saving, a
    temporary file in the store): after a restart the job resumes, the
    image is made once, no temporary file is left."""
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "2000")
    srv = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    api = srv.project_user()
    srv.imsctl("obs", "mb", BUCKET)
    url = put(srv, unique("k") + ".qcow2", files["qcow2"])
    job_id = submit(api, "POST", CREATE, import_body(url))
    deadline = time.monotonic() + 30
    image_id = None
    while time.monotonic() < deadline:
        ent = api.get("/v1/%s/jobs/%s" % (api.project_id, job_id)).json()["entities"]
        image_id = ent.get("image_id")
        if image_id:
            r = api.get("/v2/images/%s" % image_id)
            if r.status_code == 200 and r.json()["status"] == "saving":
                break
        time.sleep(0.05)
    else:
        pytest.fail("the import never started fetching")
    assert temp_files(srv), "the fetch writes into the store's temporary area"
    srv.kill()
    srv.ended_by_test = True
    srv2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=srv.data_dir)
    api2 = srv2.session(api.user_name, api.password, api.project_name)
    job = wait_job(api2, job_id, timeout=90)
    assert job["status"] == "SUCCESS", job
    img = checksummed(api2, image_id)
    assert img["status"] == "active"
    assert img["checksum"] == hashlib.md5(files["raw"].read_bytes()).hexdigest()
    names = [i["name"] for i in api2.get("/v2/images").json()["images"]]
    assert names.count(img["name"]) == 1
    assert not temp_files(srv2)


# ---------------------------------------------------------------- export
@pytest.fixture(scope="module")
def exportable(srv, api, files):
    url = put(srv, unique("src") + ".raw", files["raw"])
    job = run_job(api, CREATE, import_body(url))
    assert job["status"] == "SUCCESS", job
    return job["entities"]["image_id"]


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_export_round_trip(srv, api, files, exportable, fmt, tmp_path):
    key = unique("out") + "." + fmt
    job = run_job(api, "/v1/cloudimages/%s/file" % exportable,
                  {"bucket_url": "%s:%s" % (BUCKET, key), "file_format": fmt})
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsNativeExportImageJob" and job["entities"]["image_id"] == exportable
    out = get(srv, key, tmp_path / key)
    info = qemu_img("info", "--output=json", out)
    expect = {"qcow2": "qcow2", "vhd": "vpc", "zvhd": "vpc", "zvhd2": "vpc", "vmdk": "vmdk", "raw": "raw"}[fmt]
    assert '"format": "%s"' % expect in info, info
    qemu_img("compare", "-F", "raw", out, files["raw"])
    assert not temp_files(srv)
    if srv.backend == "embedded" and not srv.store_env:  # on the S3 store no stored file is local to link
        # put without a copy: the object is a hard link of the stored file
        # (itself the imported object's, linked) or of the conversion's
        # output (removed since: one link left)
        st = os.stat(srv.data_dir / "obs" / BUCKET / key)
        assert st.st_nlink == (3 if fmt == "raw" else 1)
        if fmt == "raw":
            assert any(p.stat().st_ino == st.st_ino for p in (srv.data_dir / "images").rglob("*") if p.is_file())


def test_quick_export_is_the_stored_file(srv, api, files, exportable, tmp_path):
    key = unique("quick-out")
    job = run_job(api, "/v1/cloudimages/%s/file" % exportable,
                  {"bucket_url": "%s:%s" % (BUCKET, key), "is_quick_export": True})
    assert job["status"] == "SUCCESS", job
    assert get(srv, key, tmp_path / "q").read_bytes() == files["raw"].read_bytes()


def test_export_refusals(srv, api, exportable):
    key = unique("taken") + ".qcow2"
    url = "/v1/cloudimages/%s/file" % exportable
    job = run_job(api, url, {"bucket_url": "%s:%s" % (BUCKET, key), "file_format": "qcow2"})
    assert job["status"] == "SUCCESS", job
    # nothing a user kept is overwritten
    ims_error(api.post(url, json={"bucket_url": "%s:%s" % (BUCKET, key), "file_format": "vhd"}), 400, "IMG.0070")
    ims_error(api.post(url, json={"bucket_url": "no-such-bucket:x.qcow2", "file_format": "qcow2"}), 400,
              "IMG.0069")
    ims_error(api.post(url, json={"bucket_url": "UPPER:x.qcow2", "file_format": "qcow2"}), 400, "IMG.0109")


# ---------------------------------------------------------------- sizes (sparse files)
GIB = 1 << 30


def sparse_object(srv, key, size):
    """A sparse raw file of `size` bytes made directly in the embedded
    store's bucket directory (no byte written)."""
    path = srv.data_dir / "obs" / BUCKET / key
    with open(path, "wb") as f:
        f.truncate(size)
    return "%s:%s" % (BUCKET, key)


def test_sizes(srv, api):
    if srv.backend != "embedded":
        pytest.skip("sparse objects are made in the embedded store's directory")
    if srv.store_env:
        pytest.skip("the S3 store would upload all 129 GiB of the sparse file (no link into S3)")
    url = sparse_object(srv, unique("big") + ".raw", 129 * GIB)
    # above 128 GB only a quick import takes it
    ims_error(api.post(CREATE, json=import_body(url, min_disk=130)), 400, "IMG.0059")
    started = time.monotonic()
    job = run_job(api, QUICK, {"name": unique("big"), "image_url": url, "os_version": "CentOS 7.6 64bit",
                               "min_disk": 130, "type": "ECS"})
    took = time.monotonic() - started
    assert job["status"] == "SUCCESS", job
    img = image(api, job["entities"]["image_id"])
    assert img["virtual_size"] == 129 * GIB and img["size"] == 129 * GIB and img["checksum"] is None
    print("quick import of a 129 GiB sparse raw file: %.2f s (submission to SUCCESS)" % took)
    # and it exports only quickly
    ims_error(api.post("/v1/cloudimages/%s/file" % img["id"],
                       json={"bucket_url": "%s:%s" % (BUCKET, unique("x")), "file_format": "qcow2"}),
              400, "IMG.0160")
    # nothing over 1 TB
    huge = sparse_object(srv, unique("huge") + ".raw", (1 << 40) + GIB)
    ims_error(api.post(QUICK, json={"name": unique("huge"), "image_url": huge, "os_version": "CentOS 7.6 64bit",
                                    "min_disk": 1024}), 400, "IMG.0059")


def test_object_names_object_storage_refuses(srv, api):
    ims_error(api.post(CREATE, json=import_body("%s:a//b.qcow2" % BUCKET)), 400, "IMG.0017")
    ims_error(api.post(CREATE, json=import_body("%s:../x.qcow2" % BUCKET)), 400, "IMG.0017")
    ims_error(api.post(CREATE, json=import_body("xn--bucket:x.qcow2")), 400, "IMG.0109")


def test_obs_permission_revoked_while_queued(start_imsd, monkeypatch, files):
    """The job checks the object-storage permission again when it is taken:
    revoked while the job waits, the import fails with IMG.0161 and makes
    nothing."""
    from helpers import Iam, active_image, policy_doc
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1500")
    srv = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 30}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    iam = Iam(srv)
    project = unique("revoke")
    iam.ctl("project", "create", project)
    ims_all, obs_read = policy_doc("Allow", ["ims:*:*"]), policy_doc("Allow", ["obs:object:GetObject"])
    api = iam.user(project, [(ims_all, "project"), (obs_read, "project")])
    srv.imsctl("obs", "mb", BUCKET)
    url = put(srv, unique("r") + ".qcow2", files["qcow2"])
    src = active_image(api, visibility="private")
    busy = submit(api, "POST", "/v1/cloudimages/%s/copy" % src["id"], {"name": "busy"})  # holds the worker
    queued = submit(api, "POST", CREATE, import_body(url))
    assert api.get("/v1/%s/jobs/%s" % (api.project_id, queued)).json()["status"] == "INIT"
    iam.grant(api.group, obs_read, "project", project, revoke=True)
    job = wait_job(api, queued, timeout=60)
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0161", job
    assert "obs:object:GetObject" in job["fail_reason"]
    assert not job["entities"].get("image_id")
    assert not [i for i in api.get("/v2/images").json()["images"] if i["name"].startswith("imp-")]
    assert wait_job(api, busy, timeout=60)["status"] == "SUCCESS"


def test_sigkill_during_an_export_resumes(start_imsd, monkeypatch, files, tmp_path):
    """imsd is killed while an export job runs: after a restart the job
    resumes and the object is complete, no temporary file is left, and
    nothing was put before the export finished."""
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1500")
    srv = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    api = srv.project_user()
    srv.imsctl("obs", "mb", BUCKET)
    url = put(srv, unique("src") + ".raw", files["raw"])
    job = wait_job(api, submit(api, "POST", CREATE, import_body(url)), timeout=90)
    assert job["status"] == "SUCCESS", job
    image_id = job["entities"]["image_id"]
    key = unique("out") + ".qcow2"
    job_id = submit(api, "POST", "/v1/cloudimages/%s/file" % image_id,
                    {"bucket_url": "%s:%s" % (BUCKET, key), "file_format": "qcow2"})
    deadline = time.monotonic() + 30
    while api.get("/v1/%s/jobs/%s" % (api.project_id, job_id)).json()["status"] != "RUNNING":
        assert time.monotonic() < deadline, "the export never started"
        time.sleep(0.05)
    srv.kill()
    srv.ended_by_test = True
    assert not (srv.data_dir / "obs" / BUCKET / key).exists()
    srv2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=srv.data_dir)
    api2 = srv2.session(api.user_name, api.password, api.project_name)
    job = wait_job(api2, job_id, timeout=90)
    assert job["status"] == "SUCCESS", job
    out = get(srv2, key, tmp_path / key)
    qemu_img("compare", "-F", "raw", out, files["raw"])
    assert not temp_files(srv2)


def exportable_image(srv, api, files):
    """A new bucket and an active image imported from the raw file into it."""
    srv.imsctl("obs", "mb", BUCKET)
    job = wait_job(api, submit(api, "POST", CREATE, import_body(put(srv, unique("s") + ".raw", files["raw"]))),
                   timeout=90)
    assert job["status"] == "SUCCESS", job
    return job["entities"]["image_id"]


def test_one_export_of_an_image_at_a_time(start_imsd, monkeypatch, files):
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1000")
    srv = start_imsd(config={"jobs": {"workers": 1}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    api = srv.project_user()
    url = "/v1/cloudimages/%s/file" % exportable_image(srv, api, files)
    first = submit(api, "POST", url, {"bucket_url": "%s:%s" % (BUCKET, unique("a")), "file_format": "qcow2"})
    ims_error(api.post(url, json={"bucket_url": "%s:%s" % (BUCKET, unique("b")), "file_format": "vhd"}),
              400, "IMG.0148")
    assert wait_job(api, first, timeout=90)["status"] == "SUCCESS"
    again = submit(api, "POST", url, {"bucket_url": "%s:%s" % (BUCKET, unique("c")), "file_format": "vhd"})
    assert wait_job(api, again, timeout=90)["status"] == "SUCCESS"


def test_concurrent_exports_of_an_image_one_is_taken(start_imsd, monkeypatch, files):
    """One export of an image at a time, also for concurrent requests that
    all passed the early check: the condition is checked again in the
    transaction that records the job, so exactly one is taken and the others
    are IMG.0148. Several rounds, each after the last export ended."""
    srv = start_racing(start_imsd, monkeypatch, 500)
    api = srv.project_user()
    url = "/v1/cloudimages/%s/file" % exportable_image(srv, api, files)
    for round_ in range(3):
        replies = concurrently(api, [(lambda a: a.post(url, json={"bucket_url": "%s:%s" % (BUCKET, unique("c")),
                                                                  "file_format": "qcow2"}))] * 6)
        assert wait_job(api, one_taken(replies, "IMG.0148"), timeout=90)["status"] == "SUCCESS"


def test_concurrent_registrations_into_an_image_one_is_taken(start_imsd, monkeypatch, files):
    """A queued image takes one file: of concurrent registrations into it,
    all past the early checks, exactly one is recorded and the others are
    IMG.0046; the image gets the taken one's file. Several rounds, each on a
    new image."""
    srv = start_racing(start_imsd, monkeypatch, 300)
    api = srv.project_user()
    srv.imsctl("obs", "mb", BUCKET)
    file_url = put(srv, unique("reg") + ".raw", files["raw"])
    for round_ in range(3):
        img = create_image(api, name=unique("reg"), disk_format="raw", container_format="bare")
        path = "/v1/cloudimages/%s/upload" % img["id"]
        replies = concurrently(api, [(lambda a: a.put(path, json={"image_url": file_url}))] * 6)
        assert wait_job(api, one_taken(replies, "IMG.0046"), timeout=90)["status"] == "SUCCESS"
        assert image(api, img["id"])["status"] == "active"


# ---------------------------------------------------------------- the image store's own bucket
def test_store_bucket_refused_through_obs(start_imsd, obs_s3, files):
    """[obs] and an S3 [store] on one endpoint (written differently: a
    trailing '/'): the store's bucket is nobody's to import from or export
    to, though imsd's credentials reach it. Another tenant's image data is
    the object images/<blob uuid> there."""
    store_bucket = unique("store").lower().replace("_", "-")
    srv = start_imsd(config={"obs": s3_config(obs_s3),
                             "store": dict(s3_config(obs_s3), endpoint=obs_s3["S3_ENDPOINT"] + "/",
                                           bucket=store_bucket)})
    other = srv.project_user()
    secret = create_image(other, disk_format="raw", container_format="bare")
    r = other.put("/v2/images/%s/file" % secret["id"], data=files["raw"].read_bytes(),
                  headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    blobs = list(obs_fixtures.s3_keys(obs_s3, store_bucket))
    assert len(blobs) == 1 and blobs[0].startswith("images/"), blobs
    stolen = "%s:%s" % (store_bucket, blobs[0])

    api = srv.project_user()
    ims_error(api.post(CREATE, json=import_body(stolen)), 400, "IMG.0069")
    ims_error(api.post(QUICK, json=import_body(stolen, type="ECS")), 400, "IMG.0069")
    ims_error(api.post(DATA, json={"name": unique("d"), "image_url": stolen, "min_disk": 40}), 400, "IMG.0069")
    mine = create_image(api, disk_format="raw", container_format="bare")
    ims_error(api.put("/v1/cloudimages/%s/upload" % mine["id"], json={"image_url": stolen}), 400, "IMG.0069")

    # an export writes nothing beside the images
    users = unique("users").lower().replace("_", "-")
    srv.imsctl("obs", "mb", users)
    job = run_job(api, CREATE, import_body(put(srv, unique("s") + ".raw", files["raw"], bucket=users)))
    assert job["status"] == "SUCCESS", job
    exportable = job["entities"]["image_id"]
    before = obs_fixtures.s3_keys(obs_s3, store_bucket)
    ims_error(api.post("/v1/cloudimages/%s/file" % exportable,
                       json={"bucket_url": "%s:%s" % (store_bucket, unique("out")), "file_format": "raw"}),
              400, "IMG.0069")
    assert obs_fixtures.s3_keys(obs_s3, store_bucket) == before
    # other buckets of the endpoint stay usable
    job = run_job(api, "/v1/cloudimages/%s/file" % exportable,
                  {"bucket_url": "%s:%s" % (users, unique("out")), "file_format": "raw"})
    assert job["status"] == "SUCCESS", job
