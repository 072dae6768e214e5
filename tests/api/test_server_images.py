"""Images from servers and their disks (POST /v2/cloudimages/action with
instance_id, data_images or volume_id): servers registered in the inventory
with real disk files made by qemu-img (known content), images made by the
job engine, each image's data downloaded and compared with its source disk
by `qemu-img compare`; the documented refusals; SIGKILL during a multi-disk
job."""
import hashlib
import os
import time
import uuid

import pytest

from disk_helpers import MIB, download_same_as, image, loop_device, make_disks, pattern, qemu_img
from helpers import concurrently, libvirt_imsd, unique
from job_helpers import ims_error, one_taken, start_racing, submit, wait_job

CREATE = "/v2/cloudimages/action"
OS = "Ubuntu 22.04 server 64bit"


@pytest.fixture(scope="module")
def disks(tmp_path_factory):
    """A qcow2 system disk, a raw and a vmdk data disk, each with its raw
    reference."""
    return make_disks(tmp_path_factory.mktemp("server-disks"),
                      (("sys", 6 * MIB, "qcow2"), ("data1", 3 * MIB, "raw"), ("data2", 2 * MIB, "vmdk")))


@pytest.fixture(scope="module")
def srv(module_imsd):
    return module_imsd()


@pytest.fixture(scope="module")
def api(srv):
    return srv.project_user()


def add_server(srv, api, disks, *extra, names=("sys", "data1", "data2")):
    out = srv.imsctl("server", "add", unique("srv"), "--project", api.project_name, "--os-version", OS,
                     *sum((["--disk", str(disks[n]["disk"])] for n in names), []), *extra)
    ids = out.split("\n")  # the server, then its volumes: the system disk first
    return ids[0], ids[2:]


def run_job(api, body, timeout=120):
    return wait_job(api, submit(api, "POST", CREATE, body), timeout=timeout)


def assert_same_data(api, image_id, ref, tmp_path):
    """The image's data, downloaded, is the disk's content (raw)."""
    assert download_same_as(api, image_id, ref, tmp_path) == ref.read_bytes()


def temp_files(srv):
    return [p for p in (srv.data_dir / "tmp").iterdir()] if (srv.data_dir / "tmp").exists() else []


# ---------------------------------------------------------------- from a server
def test_system_and_data_disk_images_of_a_server(srv, api, disks, tmp_path):
    sid, vids = add_server(srv, api, disks, "--firmware", "uefi", "--state", "running")
    body = {"name": unique("sys"), "instance_id": sid, "description": "from a server", "tags": ["k.v"],
            "min_ram": 1024, "max_ram": 4096,
            "data_images": [{"name": unique("d1"), "volume_id": vids[0], "description": "first data disk"},
                            {"name": unique("d2"), "volume_id": vids[1], "image_tags": [{"key": "a", "value": "b"}]}]}
    job = run_job(api, body)
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsCreateImageByInstance"
    ent = job["entities"]
    assert ent["image_name"] == body["name"] and ent["process_percent"] == 100
    subs = ent["sub_jobs_result"]
    assert [s["status"] for s in subs] == ["SUCCESS", "SUCCESS"]
    assert [s["job_type"] for s in subs] == ["imsImportDataImageJob"] * 2
    assert ent["sub_jobs_list"] == [s["job_id"] for s in subs]

    img = image(api, ent["image_id"])
    assert img["status"] == "active" and img["disk_format"] == "raw"
    assert img["virtual_size"] == disks["sys"]["size"] and img["min_disk"] == 1 and img["min_ram"] == 1024
    assert img["__os_version"] == OS and img["__os_type"] == "Linux" and img["__platform"] == "Ubuntu"
    assert img["hw_firmware_type"] == "uefi"
    assert img["__image_source_type"] == "uds" and img["__originalimagename"] == ""
    assert img["__data_origin"] == "instance,%s" % sid
    assert img["virtual_env_type"] == "FusionCompute" and img["__imagetype"] == "private"
    assert img["__description"] == "from a server" and img["tags"] == ["k=v"] and img["max_ram"] == "4096"
    assert img["checksum"] == hashlib.md5(disks["sys"]["ref"].read_bytes()).hexdigest()
    assert_same_data(api, img["id"], disks["sys"]["ref"], tmp_path)

    for sub, vid, name in zip(subs, vids, ("data1", "data2")):
        d = image(api, sub["entities"]["image_id"])
        assert d["name"] == sub["entities"]["image_name"]
        assert d["status"] == "active" and d["virtual_env_type"] == "DataImage" and d["__os_type"] == "Linux"
        assert d["__data_origin"] == "volume,%s" % vid
        assert d["__os_version"] == ""  # a data disk has no OS: documented, empty
        assert_same_data(api, d["id"], disks[name]["ref"], tmp_path)
    assert image(api, subs[0]["entities"]["image_id"])["__description"] == "first data disk"
    assert image(api, subs[1]["entities"]["image_id"])["tags"] == ["a=b"]
    assert not temp_files(srv)


def test_images_of_a_libvirt_domain(start_imsd, disks, tmp_path):
    """The libvirt source end to end (its test driver): a system-disk image
    of a running domain, with data-disk images of two of its data disks,
    each the disk's data; the attributes from the domain (its metadata's OS,
    uefi from its pflash loader)."""
    s, a, domain = libvirt_imsd(start_imsd, tmp_path, [(disks["sys"]["disk"], "qcow2", "vda", 1),
                                                       (disks["data1"]["disk"], "raw", "vdb", None),
                                                       (disks["data2"]["disk"], "vmdk", "vdc", None)], OS, state=1)
    admin = s.admin()
    vids = [v["id"] for v in admin.get("/v1/admin/servers/" + domain).json()["server"]["volumes"]][1:]
    admin.close()
    job = run_job(a, {"name": unique("lv"), "instance_id": domain,
                      "data_images": [{"name": unique("d"), "volume_id": v} for v in vids]})
    assert job["status"] == "SUCCESS", job
    img = image(a, job["entities"]["image_id"])
    assert img["__os_version"] == OS and img["hw_firmware_type"] == "uefi"
    assert img["__data_origin"] == "instance,%s" % domain
    assert_same_data(a, img["id"], disks["sys"]["ref"], tmp_path)
    subs = job["entities"]["sub_jobs_result"]
    for sub, vid, name in zip(subs, vids, ("data1", "data2")):
        d = image(a, sub["entities"]["image_id"])
        assert d["virtual_env_type"] == "DataImage" and d["__data_origin"] == "volume,%s" % vid
        assert_same_data(a, d["id"], disks[name]["ref"], tmp_path)
    assert len(subs) == 2 and not temp_files(s)


def assert_raw_image_of_its_bytes(start_imsd, tmp_path, disk, driver_type):
    """A domain whose system disk is disk (its driver's type driver_type):
    the volume is raw of the file's size, and the image of the server is
    the file's bytes."""
    s, a, domain = libvirt_imsd(start_imsd, tmp_path, [(disk, driver_type, "vda", 1)], OS)
    admin = s.admin()
    vols = admin.get("/v1/admin/servers/" + domain).json()["server"]["volumes"]
    admin.close()
    assert [(v["format"], v["size"]) for v in vols] == [("raw", disk.stat().st_size)]
    job = run_job(a, {"name": unique("raw"), "instance_id": domain})
    assert job["status"] == "SUCCESS", job
    assert_same_data(a, job["entities"]["image_id"], disk, tmp_path)
    assert not temp_files(s)


def test_a_raw_libvirt_disk_is_its_bytes_whatever_they_look_like(start_imsd, tmp_path):
    """A disk libvirt reads as raw holds its guest's bytes: a guest that
    writes a qcow2 header at its start does not make imsd read the disk as
    qcow2 (between the inspection and qemu-img's read, the guest could give
    that header a backing file on the host). The volume is raw of the
    file's size and the image the file's bytes, as the guest sees its disk;
    the previous build listed a qcow2 of the header's virtual size and made
    the image of what qemu-img converted from it."""
    made = make_disks(tmp_path, [("guest", 2 * MIB, "qcow2")])
    disk = made["guest"]["disk"]  # a qcow2 file, given to the domain as raw
    assert_raw_image_of_its_bytes(start_imsd, tmp_path, disk, "raw")


def test_a_libvirt_disk_without_a_driver_type_is_raw(start_imsd, tmp_path):
    """A disk whose domain declares no <driver type> is raw, as libvirt and
    QEMU read it (they stopped probing formats): its guest may have written
    a qcow2 header naming a backing file on the host at its start, and that
    file is never opened. The volume is raw of the file's size and the image
    the file's bytes, header and all; the previous build probed the disk (the
    inspector refused the backing file: no format, and the job failed with
    IMG.0022; a guest writing the header after the inspection had qemu-img
    open the host's file)."""
    secret = tmp_path / "host-secret.raw"
    secret.write_bytes(pattern(MIB, "the host's file"))
    os.utime(secret, (0, secret.stat().st_mtime))  # relatime: any read moves the access time
    disk = tmp_path / "guest.disk"
    qemu_img("create", "-q", "-f", "qcow2", "-b", str(secret), "-F", "raw", str(disk), "2M")
    assert_raw_image_of_its_bytes(start_imsd, tmp_path, disk, None)
    assert secret.stat().st_atime == 0, "the backing file was read"


def test_system_disk_image_alone(srv, api, disks, tmp_path):
    sid, _ = add_server(srv, api, disks, names=("sys",))
    job = run_job(api, {"name": unique("only"), "instance_id": sid})
    assert job["status"] == "SUCCESS", job
    assert "sub_jobs_result" not in job["entities"]
    img = image(api, job["entities"]["image_id"])
    assert img["hw_firmware_type"] == "bios"
    assert_same_data(api, img["id"], disks["sys"]["ref"], tmp_path)


def test_data_disk_images_alone(srv, api, disks, tmp_path):
    sid, vids = add_server(srv, api, disks)
    body = {"data_images": [{"name": unique("only-data"), "volume_id": vids[1]}]}
    job = run_job(api, body)
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsVolumesToSysDataImagesJob"
    assert "image_id" not in job["entities"]
    sub = job["entities"]["sub_jobs_result"][0]
    assert sub["status"] == "SUCCESS"
    d = image(api, sub["entities"]["image_id"])
    assert d["virtual_env_type"] == "DataImage"
    assert_same_data(api, d["id"], disks["data2"]["ref"], tmp_path)


def read_bytes_of(proc):
    """Bytes the process has read by system calls so far (rchar: read,
    pread, copy_file_range alike, page cache or not)."""
    with open("/proc/%d/io" % proc.pid) as f:
        return int(next(line for line in f if line.startswith("rchar:")).split()[1])


def test_a_raw_disk_is_read_once_for_its_data_and_digests(srv, api, tmp_path):
    """A raw disk copied into the store is hashed as the copy reads it:
    imsd reads the disk once, not once to copy and again for md5 and
    sha512 (a reflink reads nothing and is hashed once after). The
    digests are the disk's. The S3 store reads the copy once more, to
    upload it (the previous build: three reads there, two here), as one
    PUT whose proved ETag gives the md5: the copy's pass hashes sha512
    alone there."""
    size = 48 * MIB
    d = make_disks(tmp_path, (("big", size, "raw"),))["big"]
    sid, _ = add_server(srv, api, {"big": d}, names=("big",))
    before = read_bytes_of(srv.proc)
    job = run_job(api, {"name": unique("once"), "instance_id": sid})
    read = read_bytes_of(srv.proc) - before
    assert job["status"] == "SUCCESS", job
    img = image(api, job["entities"]["image_id"])
    data = d["ref"].read_bytes()
    assert img["size"] == size and img["checksum"] == hashlib.md5(data).hexdigest(), img
    assert img["os_hash_algo"] == "sha512" and img["os_hash_value"] == hashlib.sha512(data).hexdigest()
    uploads = 1 if srv.store_env else 0
    assert (1 + uploads) * size <= read < (1 + uploads) * size + size // 2, (read, size, uploads)
    taken = [line for line in srv.log_path.read_text(errors="replace").splitlines()
             if "image %s: disk " % img["id"] in line and " taken (" in line]
    assert len(taken) == 1 and taken[0].endswith("; md5 " + ("from the store's answer" if uploads else "hashed")), taken


def test_min_disk_is_the_disk_size_in_gb(srv, api, tmp_path):
    if srv.store_env:
        pytest.skip("a 3 GiB raw image: the S3 store uploads every byte (a sparse file is not sparse in S3)")
    disk = tmp_path / "big.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", disk, str(3 * 1024 + 1) + "M")
    out = srv.imsctl("server", "add", unique("big"), "--project", api.project_name, "--os-version", OS,
                     "--disk", str(disk))
    job = run_job(api, {"name": unique("big"), "instance_id": out.split("\n")[0]})
    assert job["status"] == "SUCCESS", job
    img = image(api, job["entities"]["image_id"])
    assert img["min_disk"] == 4 and img["virtual_size"] == (3 * 1024 + 1) * MIB


def test_block_device_disks(srv, api, disks, tmp_path):
    """Disks that are block devices (loop devices over a raw file and over
    the qcow2 system disk's file): registered with the device's size and
    format (st_size is 0 there; before, a block device was refused as "not
    a regular file"), their images hold the devices' content, and a backup
    copies the devices' bytes."""
    raw = tmp_path / "sys.raw"
    raw.write_bytes(disks["data1"]["ref"].read_bytes())
    with loop_device(raw) as sys_dev, loop_device(disks["sys"]["disk"]) as data_dev:
        out = srv.imsctl("server", "add", unique("blk"), "--project", api.project_name, "--os-version", OS,
                         "--disk", sys_dev, "--disk", data_dev)
        sid = out.split("\n")[0]
        admin = srv.admin()
        vols = admin.get("/v1/admin/servers/" + sid).json()["server"]["volumes"]
        assert [(v["disk"], v["format"], v["size"]) for v in vols] == [
            (sys_dev, "raw", disks["data1"]["size"]), (data_dev, "qcow2", disks["sys"]["size"])]
        job = run_job(api, {"name": unique("blk"), "instance_id": sid,
                            "data_images": [{"name": unique("blk-d"), "volume_id": vols[1]["id"]}]})
        assert job["status"] == "SUCCESS", job
        img = image(api, job["entities"]["image_id"])
        assert img["virtual_size"] == disks["data1"]["size"]
        assert_same_data(api, img["id"], raw, tmp_path)
        assert_same_data(api, job["entities"]["sub_jobs_result"][0]["entities"]["image_id"], disks["sys"]["ref"],
                         tmp_path)
        r = admin.post("/v1/admin/backups", json={"server_id": sid})
        assert r.status_code == 201, r.text
        b = r.json()["backup"]
        assert [(v["format"], v["size"]) for v in b["volumes"]] == [(v["format"], v["size"]) for v in vols]
        assert open(b["volumes"][0]["disk"], "rb").read() == raw.read_bytes()
        assert open(b["volumes"][1]["disk"], "rb").read() == disks["sys"]["disk"].read_bytes()
        assert admin.delete("/v1/admin/backups/" + b["id"]).status_code == 204
        srv.imsctl("server", "rm", sid)
        admin.close()
    assert not temp_files(srv)


# ---------------------------------------------------------------- from a data disk
def test_system_disk_image_from_a_data_disk(srv, api, disks, tmp_path):
    _, vids = add_server(srv, api, disks)
    body = {"name": unique("fromvol"), "volume_id": vids[0], "os_version": "CentOS 7.6 64bit", "type": "ECS"}
    job = run_job(api, body)
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsVolumeCreateImageJob"
    img = image(api, job["entities"]["image_id"])
    assert img["__os_version"] == "CentOS 7.6 64bit" and img["__platform"] == "CentOS"
    assert img["virtual_env_type"] == "FusionCompute"
    assert img["__data_origin"] == "volume,%s" % vids[0]
    assert_same_data(api, img["id"], disks["data1"]["ref"], tmp_path)


def test_system_disk_image_from_a_detached_data_disk(srv, api, disks, tmp_path):
    vid = srv.imsctl("volume", "add", str(disks["data2"]["disk"]), "--project", api.project_name)
    job = run_job(api, {"name": unique("detached"), "volume_id": vid, "os_version": OS})
    assert job["status"] == "SUCCESS", job
    assert_same_data(api, job["entities"]["image_id"], disks["data2"]["ref"], tmp_path)


# ---------------------------------------------------------------- refusals
def test_refusals(srv, api, disks):
    sid, vids = add_server(srv, api, disks)
    other_sid, other_vids = add_server(srv, api, disks)
    r = lambda body: api.post(CREATE, json=body)
    ims_error(r({"name": "x", "instance_id": str(uuid.uuid4())}), 400, "IMG.0005")
    ims_error(r({"instance_id": sid}), 400, "IMG.0013")
    ims_error(r({"name": "", "instance_id": sid}), 400, "IMG.0013")
    ims_error(r({"name": "x", "instance_id": ""}), 400, "IMG.0012")
    ims_error(r({"name": "x"}), 400, "IMG.0012")
    ims_error(r({"name": "x", "instance_id": sid, "data_images": [{"volume_id": vids[0]}]}), 400, "IMG.0013")
    ims_error(r({"name": "x", "instance_id": sid, "data_images": [{"name": "d"}]}), 400, "IMG.0120")
    ims_error(r({"name": "x", "instance_id": sid, "data_images": [{"name": "d", "volume_id": str(uuid.uuid4())}]}),
              400, "IMG.0120")
    # a disk of another server, the system disk as a data disk
    ims_error(r({"name": "x", "instance_id": sid, "data_images": [{"name": "d", "volume_id": other_vids[0]}]}),
              400, "IMG.0140")
    sys_vol = srv.imsctl("server", "show", sid).split("disk 0: ")[1].split()[0]
    assert sys_vol not in vids
    ims_error(r({"name": "x", "instance_id": sid, "data_images": [{"name": "d", "volume_id": sys_vol}]}),
              400, "IMG.0022")
    ims_error(r({"data_images": [{"name": "d", "volume_id": vids[0]}, {"name": "e", "volume_id": other_vids[1]}]}),
              400, "IMG.0140")
    # volume_id: os_version required and known; a data disk
    ims_error(r({"name": "x", "volume_id": vids[0]}), 400, "IMG.0056")
    ims_error(r({"name": "x", "volume_id": vids[0], "os_version": "Plan 9"}), 400, "IMG.0056")
    ims_error(r({"name": "x", "volume_id": str(uuid.uuid4()), "os_version": OS}), 400, "IMG.0120")
    ims_error(r({"name": "x", "volume_id": sys_vol, "os_version": OS}), 400, "IMG.0022")
    ims_error(r({"name": "x", "volume_id": vids[0], "os_version": OS, "type": "IsoImage"}), 400, "IMG.0024")
    ims_error(r({"name": "x", "instance_id": sid, "volume_id": vids[0]}), 400, "IMG.0001")
    ims_error(r({"name": "x", "instance_id": sid, "min_ram": -1}), 400, "IMG.0055")
    ims_error(r({"name": "x", "instance_id": sid, "enterprise_project_id": "nope"}), 400, "IMG.0155")


def test_another_projects_server_and_disks(srv, api, disks):
    sid, vids = add_server(srv, api, disks)
    other = srv.project_user()
    # the compute source tells another project's server apart (IMG.0137); its disks are unavailable
    ims_error(other.post(CREATE, json={"name": "x", "instance_id": sid}), 400, "IMG.0137")
    ims_error(other.post(CREATE, json={"name": "x", "volume_id": vids[0], "os_version": OS}), 400, "IMG.0120")


def test_quota(start_imsd, disks):
    s = start_imsd(config={"images": {"quota_default": 2}})
    a = s.project_user()
    sid, vids = add_server(s, a, disks)
    body = {"name": "x", "instance_id": sid,
            "data_images": [{"name": "d1", "volume_id": vids[0]}, {"name": "d2", "volume_id": vids[1]}]}
    ims_error(a.post(CREATE, json=body), 400, "IMG.0015")
    body["data_images"].pop()
    assert run_job(a, body)["status"] == "SUCCESS"


def test_a_server_busy_with_another_image_job(start_imsd, monkeypatch, disks):
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1500")
    s = start_imsd(config={"jobs": {"workers": 1}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    a = s.project_user()
    sid, vids = add_server(s, a, disks)
    first = submit(a, "POST", CREATE, {"name": unique("first"), "instance_id": sid})
    ims_error(a.post(CREATE, json={"name": "second", "instance_id": sid}), 400, "IMG.0010")
    ims_error(a.post(CREATE, json={"data_images": [{"name": "d", "volume_id": vids[0]}]}), 400, "IMG.0010")
    assert wait_job(a, first, timeout=60)["status"] == "SUCCESS"
    # free again once the job ended
    assert run_job(a, {"name": unique("second"), "instance_id": sid})["status"] == "SUCCESS"


def test_a_disk_gone_before_the_job_runs_leaves_nothing(start_imsd, monkeypatch, disks, tmp_path):
    """The second data disk's file disappears between the request and the
    job: the job fails with the disk's code and every image it made goes."""
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1500")
    s = start_imsd(config={"jobs": {"workers": 1}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    a = s.project_user()
    vanishing = tmp_path / "vanishing.raw"
    vanishing.write_bytes(pattern(MIB, "v"))
    out = s.imsctl("server", "add", unique("v"), "--project", a.project_name, "--os-version", OS,
                   "--disk", str(disks["sys"]["disk"]), "--disk", str(vanishing))
    sid, vid = out.split("\n")[0], out.split("\n")[2]
    job_id = submit(a, "POST", CREATE, {"name": unique("v"), "instance_id": sid,
                                        "data_images": [{"name": unique("vd"), "volume_id": vid}]})
    vanishing.unlink()
    job = wait_job(a, job_id, timeout=60)
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0022", job
    assert job["entities"]["sub_jobs_result"][0]["status"] == "FAIL"
    for i in (job["entities"]["image_id"], job["entities"]["sub_jobs_result"][0]["entities"]["image_id"]):
        assert a.get("/v2/images/%s" % i).status_code == 404
    assert not temp_files(s)


def test_sigkill_during_a_multi_disk_job_resumes(start_imsd, monkeypatch, disks, tmp_path):
    """imsd is killed while a job of a server with two disks runs: after a
    restart the job resumes, each image is made once with its disk's data,
    no temporary file is left."""
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1500")
    s = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    a = s.project_user()
    sid, vids = add_server(s, a, disks)
    job_id = submit(a, "POST", CREATE, {"name": unique("k"), "instance_id": sid,
                                        "data_images": [{"name": unique("kd"), "volume_id": vids[0]}]})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ent = a.get("/v1/%s/jobs/%s" % (a.project_id, job_id)).json()["entities"]
        if ent.get("image_id") and a.get("/v2/images/%s" % ent["image_id"]).status_code == 200:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the job never made its images")
    s.kill()
    s.ended_by_test = True
    s2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=s.data_dir)
    a2 = s2.session(a.user_name, a.password, a.project_name)
    job = wait_job(a2, job_id, timeout=90)
    assert job["status"] == "SUCCESS", job
    sys_id = job["entities"]["image_id"]
    data_id = job["entities"]["sub_jobs_result"][0]["entities"]["image_id"]
    assert_same_data(a2, sys_id, disks["sys"]["ref"], tmp_path)
    assert_same_data(a2, data_id, disks["data1"]["ref"], tmp_path)
    names = [i["name"] for i in a2.get("/v2/images").json()["images"]]
    assert sorted(names) == sorted([image(a2, sys_id)["name"], image(a2, data_id)["name"]])
    assert not temp_files(s2)


def test_concurrent_image_jobs_of_one_server_one_is_taken(start_imsd, monkeypatch, disks):
    """Concurrent creations from one server: the busy check is made again in
    the transaction that records the job, so exactly one is taken and every
    other is IMG.0010 (before, several passed the check side by side)."""
    s = start_racing(start_imsd, monkeypatch, 3000)
    a = s.project_user()
    for round_ in range(4):
        sid, vids = add_server(s, a, disks)
        bodies = [{"name": unique("c"), "instance_id": sid} for _ in range(6)] + \
                 [{"data_images": [{"name": unique("d"), "volume_id": vids[0]}]} for _ in range(2)]
        replies = concurrently(a, [(lambda api, b=b: api.post(CREATE, json=b)) for b in bodies])
        one_taken(replies, "IMG.0010")


def test_images_from_servers_have_no_root_origin(srv, api, disks):
    """__root_origin names one origin, an external image file ("file"): an
    image made from a server's disk has none."""
    sid, _ = add_server(srv, api, disks, names=("sys",))
    job = run_job(api, {"name": unique("ro"), "instance_id": sid})
    assert job["status"] == "SUCCESS", job
    img = image(api, job["entities"]["image_id"])
    assert img.get("__root_origin", "") == "" and img["__data_origin"] == "instance,%s" % sid
