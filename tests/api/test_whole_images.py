"""Full-ECS images (POST /v1/cloudimages/wholeimages/action) from a server
and from a backup: servers of real disk files made by qemu-img, one
full-ECS image referencing a hidden data-disk image per data disk, each
disk's data compared with its source by `qemu-img compare`; a server changed
after its backup still yields the backup's content; data shared with the
backup (hard links), never copied; deletion, refusals, the backup service's
permission."""
import hashlib
import os
import shutil
import signal
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from disk_helpers import MIB, download_same_as, image, make_disks
from libvirt_qemu import QEMU_USER
from helpers import Iam, concurrently, imsctl_run, libvirt_imsd, policy_doc, unique
from job_helpers import ims_error, one_taken, start_racing, submit, wait_job

WHOLE = "/v1/cloudimages/wholeimages/action"
OS = "CentOS 7.6 64bit"


@pytest.fixture
def disks(tmp_path):
    """A raw system disk, a qcow2 and a raw data disk (fresh per test: some
    tests change them)."""
    return make_disks(tmp_path, (("sys", 4 * MIB, "raw"), ("data1", 3 * MIB, "qcow2"), ("data2", 2 * MIB, "raw")))


@pytest.fixture(scope="module")
def srv(module_imsd):
    return module_imsd()


@pytest.fixture(scope="module")
def api(srv):
    return srv.project_user()


def add_server(srv, api, disks):
    out = srv.imsctl("server", "add", unique("srv"), "--project", api.project_name, "--os-version", OS,
                     "--firmware", "uefi", *sum((["--disk", str(disks[n]["disk"])] for n in ("sys", "data1", "data2")), []))
    return out.split("\n")[0]


def run_job(api, body, timeout=120):
    return wait_job(api, submit(api, "POST", WHOLE, body), timeout=timeout)


def check_whole(api, job, disks, tmp_path, backup_id=None, firmware="uefi"):
    assert job["status"] == "SUCCESS", job
    ent = job["entities"]
    whole = image(api, ent["image_id"])
    assert whole["status"] == "active" and whole["__whole_image"] == "true"
    assert whole["name"] == ent["image_name"]
    assert whole["__os_version"] == OS and whole["hw_firmware_type"] == firmware
    assert whole["virtual_env_type"] == "FusionCompute"
    if backup_id:
        assert whole["__backup_id"] == backup_id
    assert whole["__data_origin"] == "server_backup,%s" % whole["__backup_id"]
    download_same_as(api, whole["id"], disks["sys"]["ref"], tmp_path)
    subs = ent["sub_jobs_result"]
    assert [s["status"] for s in subs] == ["SUCCESS", "SUCCESS"]
    disk_ids = [s["entities"]["image_id"] for s in subs]
    assert whole["__whole_image_disks"] == ",".join(disk_ids)
    for i, name in zip(disk_ids, ("data1", "data2")):
        d = image(api, i)
        assert d["os_hidden"] is True and d["virtual_env_type"] == "DataImage"
        assert d["__backup_id"] == whole["__backup_id"]
        download_same_as(api, i, disks[name]["ref"], tmp_path)
    # one image in the list: its disks are parts of it
    listed = [i["id"] for i in api.get("/v2/images").json()["images"]]
    assert whole["id"] in listed and not set(disk_ids) & set(listed)
    return whole, disk_ids


def from_a_changed_backup(srv, api, sid, disks, changed, tmp_path):
    """A backup of server sid, then disk `changed` of the server written,
    then a full-ECS image of the backup: it has the backup's content.
    Returns (backup id, the image, its data-disk images' ids, the content)."""
    bid = srv.imsctl("backup", "create", "--server", sid).split("\n")[0]
    refs = {n: dict(disks[n]) for n in disks}
    with open(disks[changed]["disk"], "r+b") as f:
        f.write(b"changed after the backup")
    job = run_job(api, {"name": unique("fromb"), "backup_id": bid, "whole_image_type": "CBR"})
    assert job["job_type"] == "imsCreateWholeImageByBackupJob"
    whole, disk_ids = check_whole(api, job, refs, tmp_path, backup_id=bid)
    return bid, whole, disk_ids, refs


def test_from_a_server(srv, api, disks, tmp_path):
    sid = add_server(srv, api, disks)
    body = {"name": unique("whole"), "instance_id": sid, "vault_id": str(uuid.uuid4()), "tags": ["a.b"],
            "description": "the whole server"}
    job = run_job(api, body)
    assert job["job_type"] == "imsCreateWholeImageByInstanceJob"
    whole, _ = check_whole(api, job, disks, tmp_path)
    assert whole["__description"] == "the whole server" and whole["tags"] == ["a=b"]
    # the backup the job made is the server's
    assert job["entities"]["backup_id"] == whole["__backup_id"]
    assert sid in srv.imsctl("backup", "show", whole["__backup_id"])


def test_from_a_backup_keeps_the_backups_content_and_shares_it(srv, api, disks, tmp_path):
    sid = add_server(srv, api, disks)
    bid, whole, disk_ids, refs = from_a_changed_backup(srv, api, sid, disks, "sys", tmp_path)
    # the raw disks' data is the backup's own file (hard links): not copied
    # (on the S3 store, the linked files are uploaded)
    images_dir = srv.data_dir / "images"
    backup_files = [p for p in (srv.data_dir / "compute" / "backups" / bid).iterdir()]
    inodes = {os.stat(p).st_ino for p in backup_files}
    blobs = [p for p in images_dir.rglob("*") if p.is_file()]
    shared = [p for p in blobs if os.stat(p).st_ino in inodes]
    assert len(shared) == (0 if srv.store_env else 2), (backup_files, shared)  # raw system and data disks
    # a linked disk is read by nobody: no checksums (as a quick import); a converted one has them
    assert whole["checksum"] is None and image(api, disk_ids[1])["checksum"] is None
    assert image(api, disk_ids[0])["checksum"] == hashlib.md5(refs["data1"]["ref"].read_bytes()).hexdigest()
    # one full-ECS image per backup
    ims_error(api.post(WHOLE, json={"name": "again", "backup_id": bid, "whole_image_type": "CBR"}), 400, "IMG.0029")
    ims_error(api.post(WHOLE, json={"name": "again", "backup_id": bid}), 400, "IMG.0134")
    # the backup can go: the images keep their data
    srv.imsctl("backup", "rm", bid)
    download_same_as(api, whole["id"], refs["sys"]["ref"], tmp_path)
    # deleting the full-ECS image deletes its disks' images
    assert api.delete("/v2/images/%s" % whole["id"]).status_code == 204
    for i in disk_ids:
        assert api.get("/v2/images/%s" % i).status_code == 404
    assert not [p for p in shared if p.exists()]  # nothing else held the data: it is gone with the images


def test_full_ecs_images_are_not_exported_shared_or_copied(srv, api, disks, tmp_path):
    sid = add_server(srv, api, disks)
    job = run_job(api, {"name": unique("noexp"), "instance_id": sid})
    assert job["status"] == "SUCCESS", job
    wid = job["entities"]["image_id"]
    r = api.post("/v1/cloudimages/%s/file" % wid, json={"bucket_url": "b:x.qcow2", "file_format": "qcow2"})
    assert r.status_code == 400 and r.json()["error"]["code"] in ("IMG.0128", "IMG.0069"), r.text
    r = api.post("/v1/cloudimages/%s/copy" % wid, json={"name": "c"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0130", r.text


def test_refusals(srv, api, disks):
    sid = add_server(srv, api, disks)
    r = lambda body: api.post(WHOLE, json=body)
    ims_error(r({"instance_id": sid}), 400, "IMG.0013")
    ims_error(r({"name": "x"}), 400, "IMG.0012")
    ims_error(r({"name": "x", "whole_image_type": "CBR"}), 400, "IMG.0019")
    ims_error(r({"name": "x", "instance_id": str(uuid.uuid4())}), 400, "IMG.0005")
    ims_error(r({"name": "x", "backup_id": str(uuid.uuid4()), "whole_image_type": "CBR"}), 400, "IMG.0020")
    ims_error(r({"name": "x", "backup_id": str(uuid.uuid4())}), 400, "IMG.0127")
    ims_error(r({"name": "x", "backup_id": str(uuid.uuid4()), "whole_image_type": "NBU"}), 400, "IMG.0198")
    ims_error(r({"name": "x", "instance_id": sid, "backup_id": str(uuid.uuid4())}), 400, "IMG.0001")
    ims_error(r({"name": "x", "instance_id": sid, "data_images": []}), 400, "IMG.0001")
    other = srv.project_user()
    bid = srv.imsctl("backup", "create", "--server", sid).split("\n")[0]
    ims_error(other.post(WHOLE, json={"name": "x", "backup_id": bid, "whole_image_type": "CBR"}), 400, "IMG.0133")


def test_quota_counts_every_disk(start_imsd, disks):
    s = start_imsd(config={"images": {"quota_default": 2}})
    a = s.project_user()
    sid = add_server(s, a, disks)
    ims_error(a.post(WHOLE, json={"name": "x", "instance_id": sid}), 400, "IMG.0015")


def test_the_backup_services_permission_is_needed_too(srv, disks):
    """The route's action alone is not enough: the backup service's action
    the request needs (cbr:vaults:backup with a vault, csbs:backup:create
    without, cbr:backups:get / csbs:backup:get from a backup), evaluated by
    the same policy engine: 403 naming it; an explicit Deny beats Tenant
    Administrator; a wildcard grant counts."""
    iam = Iam(srv)
    project = unique("whole-p")
    iam.ctl("project", "create", project)
    out = srv.imsctl("server", "add", unique("srv"), "--project", project, "--os-version", OS,
                     "--disk", str(disks["sys"]["disk"]))
    sid = out.split("\n")[0]
    bid = srv.imsctl("backup", "create", "--server", sid).split("\n")[0]
    route = policy_doc("Allow", ["ims:wholeImages:create"])
    cases = [({"instance_id": sid, "vault_id": str(uuid.uuid4())}, "cbr:vaults:backup"),
             ({"instance_id": sid}, "csbs:backup:create"),
             ({"backup_id": bid, "whole_image_type": "CBR"}, "cbr:backups:get"),
             ({"backup_id": bid}, "csbs:backup:get")]
    for extra, action in cases:
        body = dict(extra, name=unique("perm"))
        only_route = iam.user(project, [(route, "project")])
        r = only_route.post(WHOLE, json=body)
        assert r.status_code == 403 and action in r.text, (action, r.status_code, r.text)
        denied = iam.user(project, [("Tenant Administrator", "project"), (policy_doc("Deny", [action]), "project")])
        r = denied.post(WHOLE, json=body)
        assert r.status_code == 403 and action in r.text, (action, r.status_code, r.text)
    # with the service's action (here its wildcard) the request is taken
    ok = iam.user(project, [(route, "project"), (policy_doc("Allow", [cases[2][1].split(":")[0] + ":*:*"]),
                                                 "project")])
    job = wait_job(ok, submit(ok, "POST", WHOLE, dict(cases[2][0], name=unique("perm"))), timeout=120)
    assert job["status"] == "SUCCESS", job


def wait_entities(api, job_id, ready, what, timeout=30):
    """The job's entities once ready(entities) holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ent = api.get("/v1/%s/jobs/%s" % (api.project_id, job_id)).json()["entities"]
        if ready(ent):
            return ent
        time.sleep(0.02)
    pytest.fail("the job never %s" % what)


def test_sigkill_during_a_full_ecs_job_resumes_with_the_same_backup(start_imsd, monkeypatch, disks, tmp_path):
    """imsd is killed once the job has backed the server up and made its
    images: after a restart the job resumes with the backup it made (no
    second backup), every image is made once, no temporary file is left."""
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1500")
    s = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    a = s.project_user()
    sid = add_server(s, a, disks)
    job_id = submit(a, "POST", WHOLE, {"name": unique("k"), "instance_id": sid})
    ent = wait_entities(a, job_id, lambda e: e.get("image_id") and
                        a.get("/v2/images/%s" % e["image_id"]).status_code == 200, "made its images")
    s.kill()
    s.ended_by_test = True
    s2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=s.data_dir)
    a2 = s2.session(a.user_name, a.password, a.project_name)
    job = wait_job(a2, job_id, timeout=90)
    check_whole(a2, job, disks, tmp_path, backup_id=ent["backup_id"])
    backups = [l for l in s2.imsctl("backup", "ls", "--project", a.project_name).split("\n") if l.strip()]
    assert len(backups) == 1 and ent["backup_id"] in backups[0], backups
    assert len(a2.get("/v2/images").json()["images"]) == 1
    tmp = s2.data_dir / "tmp"
    assert not (tmp.exists() and list(tmp.iterdir()))


def test_a_failed_full_ecs_job_leaves_nothing(start_imsd, monkeypatch, disks):
    """The server's data disk disappears before the job backs it up: the
    job fails, no image and no backup are left."""
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1500")
    s = start_imsd(config={"jobs": {"workers": 1}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    a = s.project_user()
    sid = add_server(s, a, disks)
    job_id = submit(a, "POST", WHOLE, {"name": unique("f"), "instance_id": sid})
    os.unlink(disks["data2"]["disk"])
    job = wait_job(a, job_id, timeout=60)
    assert job["status"] == "FAIL", job
    assert a.get("/v2/images").json()["images"] == []
    assert not [l for l in s.imsctl("backup", "ls", "--project", a.project_name).split("\n") if l.strip()]


def test_a_data_disk_image_of_a_full_ecs_image_is_not_deleted_alone(srv, api, disks):
    """A full-ECS image's hidden data-disk images go with it (deleting it
    deletes them), never alone: 403, and the full-ECS image stays whole."""
    sid = add_server(srv, api, disks)
    job = run_job(api, {"name": unique("part"), "instance_id": sid})
    assert job["status"] == "SUCCESS", job
    disk_ids = [s["entities"]["image_id"] for s in job["entities"]["sub_jobs_result"]]
    for i in disk_ids:
        r = api.delete("/v2/images/%s" % i)
        assert r.status_code == 403 and "full-ECS" in r.text, r.text
        assert image(api, i)["status"] == "active"
    assert api.delete("/v2/images/%s" % job["entities"]["image_id"]).status_code == 204
    for i in disk_ids:
        assert api.get("/v2/images/%s" % i).status_code == 404


def test_vault_id_must_be_a_vaults_id(srv, api, disks):
    """vault_id names a CBR vault by its id (a UUID, as the reference shows
    it): anything else is IMG.0184 (the vault cannot be obtained), before a
    backup is made."""
    sid = add_server(srv, api, disks)
    for bad in ("vault-1", "de9fcf45-11b2-432c-8562-5c542857460", "de9fcf45_11b2_432c_8562_5c5428574600", "x" * 36):
        ims_error(api.post(WHOLE, json={"name": "v", "instance_id": sid, "vault_id": bad}), 400, "IMG.0184")
    ims_error(api.post(WHOLE, json={"name": "v", "instance_id": sid, "vault_id": ""}), 400, "IMG.0184")
    backups = [l for l in srv.imsctl("backup", "ls", "--project", api.project_name).split("\n") if sid in l]
    assert backups == []


def test_concurrent_full_ecs_images_of_one_backup_one_is_taken(start_imsd, monkeypatch, disks):
    """One full-ECS image per backup, also for concurrent requests: the check
    is made again where the job is recorded, so exactly one is taken and the
    others are IMG.0029 (CBR)."""
    s = start_racing(start_imsd, monkeypatch, 3000)
    a = s.project_user()
    sid = add_server(s, a, disks)
    for round_ in range(3):
        bid = s.imsctl("backup", "create", "--server", sid).split("\n")[0]
        body = {"backup_id": bid, "whole_image_type": "CBR"}
        replies = concurrently(a, [(lambda api: api.post(WHOLE, json=dict(body, name=unique("cc"))))] * 6)
        one_taken(replies, "IMG.0029")


def test_sigkill_before_the_backup_is_made_leaves_no_orphan(start_imsd, monkeypatch, disks, tmp_path):
    """The job records its backup's id before it backs the server up, so a
    backup made by a job that dies at any moment is found again: imsd is
    killed after the id is recorded and before the backup exists; after a
    restart the job makes that backup (one, with that id) and its image."""
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "2000")
    s = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    a = s.project_user()
    sid = add_server(s, a, disks)
    job_id = submit(a, "POST", WHOLE, {"name": unique("o"), "instance_id": sid})
    ent = wait_entities(a, job_id, lambda e: e.get("backup_id"), "recorded its backup")
    listed = s.imsctl("backup", "ls", "--project", a.project_name)
    s.kill()
    s.ended_by_test = True
    assert ent["backup_id"] not in listed and "image_id" not in ent  # recorded before it was made
    s2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=s.data_dir)
    a2 = s2.session(a.user_name, a.password, a.project_name)
    job = wait_job(a2, job_id, timeout=90)
    check_whole(a2, job, disks, tmp_path, backup_id=ent["backup_id"])
    backups = [l for l in s2.imsctl("backup", "ls", "--project", a.project_name).split("\n") if l.strip()]
    assert len(backups) == 1 and ent["backup_id"] in backups[0], backups


# -- from a libvirt domain (libvirt's test driver: no daemon) ---------------

def whole_libvirt_imsd(start_imsd, disks, tmp_path, state=5):
    """imsd on the libvirt source, its one domain with the disks (the
    system disk first by its boot order though listed second)."""
    return libvirt_imsd(start_imsd, tmp_path, [(disks["data1"]["disk"], "qcow2", "vdb", None),
                                               (disks["sys"]["disk"], "raw", "vda", 1),
                                               (disks["data2"]["disk"], "raw", "vdc", None)], OS, state)


def test_from_a_libvirt_domain(start_imsd, disks, tmp_path):
    """A full-ECS image of a shut-off libvirt domain: the job backs the
    domain's disks up (imsd's own copies, as the inventory's) and makes the
    image and one hidden data-disk image per data disk from the backup, as
    from an inventory server."""
    s, a, domain = whole_libvirt_imsd(start_imsd, disks, tmp_path)
    job = run_job(a, {"name": unique("lv"), "instance_id": domain})
    assert job["job_type"] == "imsCreateWholeImageByInstanceJob"
    whole, disk_ids = check_whole(a, job, disks, tmp_path)
    assert job["entities"]["backup_id"] == whole["__backup_id"]
    assert domain in s.imsctl("backup", "show", whole["__backup_id"])
    # deleting it deletes its disks' images; the backup stays
    assert a.delete("/v2/images/%s" % whole["id"]).status_code == 204
    for i in disk_ids:
        assert a.get("/v2/images/%s" % i).status_code == 404
    assert whole["__backup_id"] in s.imsctl("backup", "ls")


def test_from_a_backup_of_a_libvirt_domain(start_imsd, disks, tmp_path):
    """A backup of a libvirt domain keeps the disks as they were: written
    after it, the domain's disks do not change the full-ECS image made from
    it; a second image of that backup is refused."""
    s, a, domain = whole_libvirt_imsd(start_imsd, disks, tmp_path)
    bid, _, _, _ = from_a_changed_backup(s, a, domain, disks, "data2", tmp_path)
    ims_error(a.post(WHOLE, json={"name": "again", "backup_id": bid, "whole_image_type": "CBR"}), 400, "IMG.0029")
    # another project's domain and backup are refused
    other = s.project_user()
    ims_error(other.post(WHOLE, json={"name": "x", "instance_id": domain}), 400, "IMG.0137")
    ims_error(other.post(WHOLE, json={"name": "x", "backup_id": bid, "whole_image_type": "CBR"}), 400, "IMG.0133")


def test_a_running_libvirt_domain_is_not_backed_up(start_imsd, disks, tmp_path):
    """A running domain's disk files would be copied torn beside the
    hypervisor, and libvirt's test driver offers no backup API (no domain
    capabilities) for the hypervisor to write them: neither a full-ECS
    image of it nor a backup is made (IMG.0008, on arrival), and nothing is
    left. (test_libvirt_qemu.py backs a running QEMU domain up.)"""
    s, a, domain = whole_libvirt_imsd(start_imsd, disks, tmp_path, state=1)  # running
    ims_error(a.post(WHOLE, json={"name": unique("run"), "instance_id": domain}), 400, "IMG.0008")
    r = imsctl_run(s, "backup", "create", "--server", domain)
    assert r.returncode != 0 and "IMG.0008" in r.stderr + r.stdout or "running" in r.stderr, r
    assert domain not in s.imsctl("backup", "ls")
    assert not list((s.data_dir / "compute" / "backups").iterdir())
    assert a.get("/v2/images").json()["images"] == []


def test_a_running_qemu_domain_is_backed_up_by_its_hypervisor(start_imsd, qemu_libvirt, disks, tmp_path):
    """A full-ECS image of a running QEMU domain (a libvirt daemon of the
    test's own: libvirt_qemu.py): QEMU writes the backup through libvirt's
    backup API, raw, every disk as of one instant, and the images hold the
    disks' content, including a write the guest made into the qcow2 data
    disk just before. That write is not in the disk's file yet (QEMU keeps
    a qcow2's new table entries in memory until a flush: a copy of the file
    would miss it; here `qemu-img map` of the file showed the cluster
    unallocated). Before, a running domain was refused (IMG.0008)."""
    s = start_imsd(config={"compute": {"backend": "libvirt", "uri": qemu_libvirt.uri}})
    a = s.project_user()
    assert disks["sys"]["ref"].read_bytes()[510:512] != b"\x55\xaa"  # nothing for SeaBIOS to boot
    dom = qemu_libvirt.start_domain(unique("run"), [(disks["sys"]["disk"], "raw", "vda"),
                                                    (disks["data1"]["disk"], "qcow2", "vdb"),
                                                    (disks["data2"]["disk"], "raw", "vdc")],
                                    project=a.project_id, os_version=OS)
    assert s.admin().get("/v1/admin/servers/" + dom).json()["server"]["state"] == "running"
    qemu_libvirt.guest_write(dom, 1, MIB + 65536, 0x5a, 65536)  # into data1's hole: a new cluster
    refs = {n: dict(disks[n]) for n in disks}
    changed = bytearray(disks["data1"]["ref"].read_bytes())
    changed[MIB + 65536:MIB + 131072] = b"\x5a" * 65536
    refs["data1"]["ref"] = tmp_path / "data1.written.raw"
    refs["data1"]["ref"].write_bytes(bytes(changed))

    job = run_job(a, {"name": unique("running"), "instance_id": dom})
    assert job["job_type"] == "imsCreateWholeImageByInstanceJob"
    whole, _ = check_whole(a, job, refs, tmp_path, firmware="bios")
    backup = s.admin().get("/v1/admin/backups/" + whole["__backup_id"]).json()["backup"]
    assert [(v["format"], v["size"]) for v in backup["volumes"]] == [
        ("raw", disks[n]["size"]) for n in ("sys", "data1", "data2")]
    # the domain ran on, untouched
    assert qemu_libvirt.virsh("domstate", dom).stdout.strip() == "running"


def test_a_stuck_hypervisor_fails_the_backup_in_bounded_time(start_imsd, qemu_libvirt, disks, tmp_path):
    """A running domain's QEMU stops answering (SIGSTOP: as one stuck in the
    kernel on its storage would): libvirt waits for it without limit, imsd
    does not. After [compute] backup_stall_seconds the job fails with
    IMG.0126, no image, backup or backup file is left; once QEMU runs again
    libvirt's backup job is gone, the domain runs on and a new full-ECS image
    of it succeeds. Before, the job waited for QEMU for ever."""
    s = start_imsd(config={"compute": {"backend": "libvirt", "uri": qemu_libvirt.uri, "backup_stall_seconds": 2}})
    a = s.project_user()
    name = unique("stuck")
    dom = qemu_libvirt.start_domain(name, [(disks["sys"]["disk"], "raw", "vda"),
                                           (disks["data1"]["disk"], "qcow2", "vdb"),
                                           (disks["data2"]["disk"], "raw", "vdc")],
                                    project=a.project_id, os_version=OS)
    pid = qemu_libvirt.qemu_pid(name)
    os.kill(pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        job = run_job(a, {"name": unique("stuck"), "instance_id": dom}, timeout=60)
        took = time.monotonic() - started
    finally:
        os.kill(pid, signal.SIGCONT)
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0126", job
    assert "2 s" in job["fail_reason"], job
    assert took < 45, took
    assert a.get("/v2/images").json()["images"] == []
    assert not [l for l in s.imsctl("backup", "ls", "--project", a.project_name).split("\n") if l.strip()]
    backups = s.data_dir / "compute" / "backups"
    assert not (backups.exists() and list(backups.iterdir()))
    # QEMU answers again: the backup it was asked for is cancelled or fails
    deadline = time.monotonic() + 60
    while qemu_libvirt.backup_running(dom):
        assert time.monotonic() < deadline, "libvirt's backup job never ended"
        time.sleep(0.1)
    assert qemu_libvirt.virsh("domstate", dom).stdout.strip() == "running"
    assert not (backups.exists() and list(backups.iterdir()))
    job = run_job(a, {"name": unique("again"), "instance_id": dom})
    check_whole(a, job, disks, tmp_path, firmware="bios")


def test_a_running_domain_whose_qemu_runs_as_libvirt_qemu(start_imsd, qemu_libvirt_user):
    """qemu:///system as Debian runs it: QEMU as the libvirt-qemu user, and
    libvirt (dynamic_ownership) handing the domain's disks, and the
    backup's files while QEMU writes them, to that user. imsd makes the
    backup's files itself, in a directory QEMU's user passes through, and
    gets them back after the job: the backup's and the images' files are
    imsd's own (QEMU's user can write none of them) and deleting the image
    and the backup leaves nothing. Before, QEMU could not create its files
    in imsd's backup directory (Permission denied). The administrator's part
    (README): QEMU's user can pass through the data directory down to
    compute/backups, and reach the disks."""
    base = Path(tempfile.mkdtemp(prefix="ims-qemu-user-", dir="/tmp"))
    try:
        base.chmod(0o711)
        (base / "disks").mkdir(mode=0o755)
        made = make_disks(base / "disks", (("sys", 4 * MIB, "raw"), ("data1", 3 * MIB, "qcow2")))
        data = base / "data"
        (data / "compute" / "backups").mkdir(parents=True)
        for d in (data, data / "compute", data / "compute" / "backups"):
            d.chmod(0o711)
        s = start_imsd(config={"compute": {"backend": "libvirt", "uri": qemu_libvirt_user.uri}}, data_dir=data)
        a = s.project_user()
        name = unique("user")
        dom = qemu_libvirt_user.start_domain(name, [(made["sys"]["disk"], "raw", "vda"),
                                                    (made["data1"]["disk"], "qcow2", "vdb")],
                                             project=a.project_id, os_version=OS)
        status = Path("/proc/%d/status" % qemu_libvirt_user.qemu_pid(name)).read_text()
        assert "\nUid:\t%d\t" % QEMU_USER in status  # QEMU is not root
        assert os.stat(made["sys"]["disk"]).st_uid == QEMU_USER  # libvirt handed the disk over
        job = run_job(a, {"name": unique("user"), "instance_id": dom})
        assert job["status"] == "SUCCESS", job
        ent = job["entities"]
        whole = image(a, ent["image_id"])
        download_same_as(a, whole["id"], made["sys"]["ref"], base)
        sub = ent["sub_jobs_result"][0]["entities"]["image_id"]
        download_same_as(a, sub, made["data1"]["ref"], base)
        owners = {(p, p.stat().st_uid) for p in data.rglob("*") if p.is_file()}
        assert {p for p, uid in owners if uid != os.getuid()} == set(), owners
        backup_dir = data / "compute" / "backups" / whole["__backup_id"]
        assert len(list(backup_dir.iterdir())) == 2
        assert a.delete("/v2/images/%s" % whole["id"]).status_code == 204
        s.imsctl("backup", "rm", whole["__backup_id"])
        assert not backup_dir.exists()
        assert qemu_libvirt_user.virsh("domstate", dom).stdout.strip() == "running"
        qemu_libvirt_user.virsh("destroy", dom)
    finally:
        shutil.rmtree(base, ignore_errors=True)
