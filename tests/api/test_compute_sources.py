"""Compute sources: the inventory through imsctl (server, volume, backup),
with real disk files made by qemu-img, against the data dir of a running
imsd."""
import os
import subprocess
import uuid

import pytest

from disk_helpers import loop_device
from helpers import IMSCTL_BIN, imsctl_run, libvirt_domain, libvirt_node

OS = "Ubuntu 22.04 server 64bit"


def qemu_img(*args):
    subprocess.run(["qemu-img"] + list(args), check=True, capture_output=True)


@pytest.fixture(scope="module")
def disks(tmp_path_factory):
    """A qcow2 system disk and a raw data disk with known content."""
    d = tmp_path_factory.mktemp("disks")
    sys_disk = d / "sys.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(sys_disk), "64M")
    data = d / "data.raw"
    data.write_bytes(b"data disk, first version".ljust(1 << 20, b"\0"))
    return {"dir": d, "sys": sys_disk, "data": data}


@pytest.fixture(scope="module")
def project(imsd):
    name = "compute-" + uuid.uuid4().hex[:8]
    return {"name": name, "id": imsd.imsctl("project", "create", name)}


def ctl(imsd, *args):
    return imsctl_run(imsd, *args)


def add_server(imsd, project, disks, *extra, name=None):
    out = imsd.imsctl("server", "add", name or "srv-" + uuid.uuid4().hex[:6], "--project", project["name"],
                      "--os-version", OS, "--disk", str(disks["sys"]), "--disk", str(disks["data"]), *extra)
    ids = out.split("\n")
    return ids[0], ids[1:]


def show(imsd, noun, ident):
    fields, disks_ = {}, []
    for line in imsd.imsctl(noun, "show", ident).split("\n"):
        key, _, value = line.partition(": ")
        if key.startswith("disk "):
            disks_.append(value.split("  "))
        else:
            fields[key] = value
    return fields, disks_


def test_server_add_show_ls_set_state_rm(imsd, project, disks):
    sid, vids = add_server(imsd, project, disks, "--state", "running", "--firmware", "uefi", "--ram", "2048")
    uuid.UUID(sid)
    assert len(vids) == 2
    fields, ds = show(imsd, "server", sid)
    assert fields["project"] == project["id"]
    assert fields["os_version"] == OS
    assert fields["state"] == "running"
    assert fields["firmware"] == "uefi"
    assert fields["ram_mb"] == "2048"
    # The system disk first, each with its format and virtual size from the inspector.
    assert [d[0] for d in ds] == vids
    assert ds[0][1:] == ["qcow2", str(64 << 20), str(disks["sys"])]
    assert ds[1][1:] == ["raw", str(1 << 20), str(disks["data"])]

    listed = imsd.imsctl("server", "ls", "--project", project["name"])
    assert sid in listed

    imsd.imsctl("server", "set-state", sid, "stopped")
    assert show(imsd, "server", sid)[0]["state"] == "stopped"

    imsd.imsctl("server", "rm", sid)
    r = ctl(imsd, "server", "show", sid)
    assert r.returncode == 1 and "No server with id" in r.stderr
    assert sid not in imsd.imsctl("server", "ls")
    # Its volumes went with it; the files stay.
    assert ctl(imsd, "volume", "show", vids[0]).returncode == 1
    assert disks["sys"].exists()


def test_relative_disk_paths_become_absolute(imsd, project, disks):
    r = subprocess.run([IMSCTL_BIN, "--data-dir", str(imsd.data_dir), "server", "add", "rel",
                        "--project", project["id"], "--os-version", OS, "--disk", "sys.qcow2"],
                       capture_output=True, text=True, cwd=str(disks["dir"]), env=imsd.ctl_env())
    assert r.returncode == 0, r.stderr
    sid = r.stdout.split("\n")[0]
    assert show(imsd, "server", sid)[1][0][3] == str(disks["sys"])
    imsd.imsctl("server", "rm", sid)


@pytest.mark.parametrize("args,message", [
    (["--os-version", "Windows 3.1"], "Unknown os_version 'Windows 3.1'"),
    (["--disk", "/nonexistent/disk.qcow2"], "Disk /nonexistent/disk.qcow2 cannot be opened: No such file"),
    (["--state", "paused"], "invalid --state 'paused' (stopped or running)"),
    (["--firmware", "coreboot"], "invalid --firmware 'coreboot' (bios or uefi)"),
    (["--ram", "lots"], "invalid --ram 'lots'"),
])
def test_server_add_refusals(imsd, project, disks, args, message):
    base = {"--os-version": OS, "--disk": str(disks["sys"])}
    opts = dict(base)
    opts.update(dict(zip(args[::2], args[1::2])))
    flat = [x for kv in opts.items() for x in kv]
    before = imsd.imsctl("server", "ls")
    r = ctl(imsd, "server", "add", "bad", "--project", project["name"], *flat)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert imsd.imsctl("server", "ls") == before


def test_unknown_project_and_usage_errors(imsd, disks):
    r = ctl(imsd, "server", "add", "x", "--project", "no-such-project", "--os-version", OS,
            "--disk", str(disks["sys"]))
    assert r.returncode == 1 and "No project 'no-such-project'" in r.stderr
    r = ctl(imsd, "server", "add", "x", "--os-version", OS, "--disk", str(disks["sys"]))
    assert r.returncode == 2 and "needs --project P" in r.stderr
    r = ctl(imsd, "server", "set-state", "x")
    assert r.returncode == 2 and "takes 2 argument(s)" in r.stderr
    r = ctl(imsd, "server", "frobnicate")
    assert r.returncode == 2 and "imsctl server add NAME" in r.stderr
    r = ctl(imsd, "server", "set-state", str(uuid.uuid4()), "paused")
    assert r.returncode == 1 and "invalid state 'paused'" in r.stderr


@pytest.mark.parametrize("cmd", [["server", "add"], ["server", "ls"], ["server", "show"], ["server", "rm"],
                                 ["server", "set-state"], ["volume", "add"], ["volume", "ls"], ["volume", "show"],
                                 ["volume", "rm"], ["backup", "create"], ["backup", "ls"], ["backup", "show"],
                                 ["backup", "rm"]])
def test_help_for_each_command(imsd, cmd):
    r = ctl(imsd, *cmd, "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: imsctl %s %s" % tuple(cmd))
    assert len(r.stdout.split("\n")) >= 3


def test_volume_add_to_server_and_detached(imsd, project, disks):
    sid, vids = add_server(imsd, project, disks)
    vid = imsd.imsctl("volume", "add", str(disks["data"]), "--project", project["name"], "--server", sid)
    assert [d[0] for d in show(imsd, "server", sid)[1]] == vids + [vid]
    fields = show(imsd, "volume", vid)[0]
    assert fields["server"] == sid and fields["position"] == "2" and fields["format"] == "raw"
    # A volume of a server cannot be removed on its own.
    r = ctl(imsd, "volume", "rm", vid)
    assert r.returncode == 1 and "remove the server instead" in r.stderr
    # Another project's volume cannot join the server.
    other = imsd.imsctl("project", "create", "compute-other-" + uuid.uuid4().hex[:6])
    r = ctl(imsd, "volume", "add", str(disks["data"]), "--project", other, "--server", sid)
    assert r.returncode == 1 and "belongs to another project" in r.stderr
    detached = imsd.imsctl("volume", "add", str(disks["data"]), "--project", project["name"])
    assert show(imsd, "volume", detached)[0]["server"] == ""
    assert detached in imsd.imsctl("volume", "ls", "--project", project["name"])
    assert detached not in imsd.imsctl("volume", "ls", "--project", other)
    imsd.imsctl("volume", "rm", detached)
    imsd.imsctl("server", "rm", sid)


def test_backup_keeps_content_after_server_disk_changes(imsd, project, tmp_path):
    sys_disk = tmp_path / "sys.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(sys_disk), "16M")
    src = tmp_path / "content.raw"
    src.write_bytes(b"first version of the system disk".ljust(1 << 20, b"\1"))
    qemu_img("convert", "-f", "raw", "-O", "qcow2", str(src), str(sys_disk))
    data = tmp_path / "data.raw"
    data.write_bytes(b"data, first".ljust(1 << 20, b"\2"))
    out = imsd.imsctl("server", "add", "bk", "--project", project["name"], "--os-version", OS,
                      "--disk", str(sys_disk), "--disk", str(data))
    sid = out.split("\n")[0]
    bid = imsd.imsctl("backup", "create", "--server", sid)
    uuid.UUID(bid)

    # The server's disks change after the backup.
    changed = tmp_path / "changed.raw"
    changed.write_bytes(b"SECOND version of the system disk".ljust(1 << 20, b"\3"))
    qemu_img("convert", "-f", "raw", "-O", "qcow2", str(changed), str(sys_disk))
    data.write_bytes(b"data, SECOND".ljust(1 << 20, b"\4"))

    fields, copies = show(imsd, "backup", bid)
    assert fields["server"] == sid and fields["project"] == project["id"]
    assert len(copies) == 2
    copy_sys, copy_data = copies[0][3], copies[1][3]
    assert copy_sys.startswith(str(imsd.data_dir))
    # The backup still holds the first versions: qemu-img compares the disks' contents.
    subprocess.run(["qemu-img", "compare", "-q", str(src), copy_sys], check=True)
    assert subprocess.run(["qemu-img", "compare", "-q", str(changed), copy_sys]).returncode == 1
    assert open(copy_data, "rb").read(11) == b"data, first"
    assert bid in imsd.imsctl("backup", "ls", "--project", project["name"])

    # The backup outlives its server; removing it removes its copies.
    imsd.imsctl("server", "rm", sid)
    assert show(imsd, "backup", bid)[0]["server_name"] == "bk"
    imsd.imsctl("backup", "rm", bid)
    r = ctl(imsd, "backup", "show", bid)
    assert r.returncode == 1 and "No backup with id" in r.stderr
    assert not os.path.exists(copy_sys)


def test_backup_of_unknown_server(imsd):
    r = ctl(imsd, "backup", "create", "--server", str(uuid.uuid4()))
    assert r.returncode == 1 and "No server with id" in r.stderr
    r = ctl(imsd, "backup", "create")
    assert r.returncode == 1 and "needs --server S" in r.stderr


# -- the admin REST API -------------------------------------------------------

def test_rest_add_list_show_set_state_rm(imsd, admin, project, disks):
    body = {"name": "rest-web", "project_id": project["id"], "os_version": OS,
            "disks": [str(disks["sys"]), str(disks["data"])], "state": "running", "firmware": "uefi", "ram": 4096}
    r = admin.post("/v1/admin/servers", json=body)
    assert r.status_code == 201, r.text
    s = r.json()["server"]
    assert s["name"] == "rest-web" and s["project_id"] == project["id"] and s["os_version"] == OS
    assert s["state"] == "running" and s["firmware"] == "uefi" and s["ram"] == 4096
    assert [(v["position"], v["disk"], v["format"], v["size"]) for v in s["volumes"]] == [
        (0, str(disks["sys"]), "qcow2", 64 << 20), (1, str(disks["data"]), "raw", 1 << 20)]
    sid = s["id"]
    # imsctl sees what the API registered (one inventory).
    assert show(imsd, "server", sid)[0]["name"] == "rest-web"

    r = admin.get("/v1/admin/servers", params={"project_id": project["id"]})
    assert r.status_code == 200
    assert sid in [x["id"] for x in r.json()["servers"]]
    other = imsd.imsctl("project", "create", "compute-empty-" + uuid.uuid4().hex[:6])
    assert admin.get("/v1/admin/servers", params={"project_id": other}).json() == {"servers": []}

    r = admin.patch("/v1/admin/servers/" + sid, json={"state": "stopped"})
    assert r.status_code == 200, r.text
    assert r.json()["server"]["state"] == "stopped"
    assert admin.get("/v1/admin/servers/" + sid).json()["server"]["state"] == "stopped"

    r = admin.delete("/v1/admin/servers/" + sid)
    assert r.status_code == 204
    r = admin.get("/v1/admin/servers/" + sid)
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0005"


def test_rest_volumes_and_backups(imsd, admin, project, tmp_path):
    sys_disk = tmp_path / "sys.raw"
    sys_disk.write_bytes(b"rest backup, first".ljust(1 << 20, b"\0"))
    r = admin.post("/v1/admin/servers", json={"name": "rest-bk", "project_id": project["id"], "os_version": OS,
                                               "disks": [str(sys_disk)]})
    assert r.status_code == 201, r.text
    sid = r.json()["server"]["id"]
    data = tmp_path / "data.raw"
    data.write_bytes(b"\0" * 4096)
    r = admin.post("/v1/admin/volumes", json={"disk": str(data), "project_id": project["id"], "server_id": sid})
    assert r.status_code == 201, r.text
    vol = r.json()["volume"]
    assert vol["server_id"] == sid and vol["position"] == 1 and vol["size"] == 4096
    assert admin.get("/v1/admin/volumes/" + vol["id"]).json()["volume"]["disk"] == str(data)
    r = admin.delete("/v1/admin/volumes/" + vol["id"])
    assert r.status_code == 409, r.text
    r = admin.post("/v1/admin/volumes", json={"disk": str(data), "project_id": project["id"]})
    detached = r.json()["volume"]
    assert detached["server_id"] is None and detached["position"] is None
    ids = [v["id"] for v in admin.get("/v1/admin/volumes", params={"project_id": project["id"]}).json()["volumes"]]
    assert vol["id"] in ids and detached["id"] in ids
    assert admin.delete("/v1/admin/volumes/" + detached["id"]).status_code == 204

    r = admin.post("/v1/admin/backups", json={"server_id": sid})
    assert r.status_code == 201, r.text
    b = r.json()["backup"]
    assert b["server_id"] == sid and b["server_name"] == "rest-bk" and len(b["volumes"]) == 2
    sys_disk.write_bytes(b"rest backup, SECOND".ljust(1 << 20, b"\0"))
    got = admin.get("/v1/admin/backups/" + b["id"]).json()["backup"]
    assert open(got["volumes"][0]["disk"], "rb").read(18) == b"rest backup, first"
    assert b["id"] in [x["id"] for x in admin.get("/v1/admin/backups").json()["backups"]]
    assert admin.delete("/v1/admin/backups/" + b["id"]).status_code == 204
    r = admin.get("/v1/admin/backups/" + b["id"])
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0020"
    assert not os.path.exists(got["volumes"][0]["disk"])
    assert admin.delete("/v1/admin/servers/" + sid).status_code == 204


@pytest.mark.parametrize("method,path,body", [
    ("GET", "/v1/admin/servers", None),
    ("POST", "/v1/admin/servers", {"name": "x"}),
    ("GET", "/v1/admin/servers/%s", None),
    ("PATCH", "/v1/admin/servers/%s", {"state": "running"}),
    ("DELETE", "/v1/admin/servers/%s", None),
    ("GET", "/v1/admin/volumes", None),
    ("POST", "/v1/admin/volumes", {}),
    ("GET", "/v1/admin/backups", None),
    ("POST", "/v1/admin/backups", {"server_id": "%s"}),
])
def test_rest_tenants_get_403(imsd, admin, alice, project, disks, method, path, body):
    """A tenant (even of the server's project) cannot see or touch servers through the admin API."""
    r = admin.post("/v1/admin/servers", json={"name": "hidden", "project_id": alice.project_id, "os_version": OS,
                                               "disks": [str(disks["sys"])]})
    assert r.status_code == 201
    sid = r.json()["server"]["id"]
    if "%s" in path:
        path = path % sid
    if body and "server_id" in body:
        body = {"server_id": sid}
    r = alice.request(method, path, json=body)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "IMG.0026"
    assert "hidden" not in r.text and sid not in r.text
    # Nothing changed.
    s = admin.get("/v1/admin/servers/" + sid).json()["server"]
    assert s["state"] == "stopped"
    assert admin.delete("/v1/admin/servers/" + sid).status_code == 204


def test_rest_needs_a_token(imsd):
    import requests
    r = requests.get(imsd.url + "/v1/admin/servers", timeout=30)
    assert r.status_code == 401


@pytest.mark.parametrize("change,code,message", [
    ({"os_version": "Windows 3.1"}, "IMG.0056", "Unknown os_version 'Windows 3.1'"),
    ({"disks": ["/nonexistent/d.qcow2"]}, "IMG.0057", "Disk /nonexistent/d.qcow2 cannot be opened"),
    ({"disks": ["relative.qcow2"]}, "IMG.0057", "neither an absolute path nor bucket:object"),
    ({"disks": []}, "IMG.0001", "'disks' must be an array of 1 to 24 disks"),
    ({"state": "paused"}, "IMG.0001", "'state' must be \"stopped\" or \"running\""),
    ({"firmware": "coreboot"}, "IMG.0001", "'firmware' must be \"bios\" or \"uefi\""),
    ({"ram": "lots"}, "IMG.0001", "'ram' must be an integer"),
    ({"name": ""}, "IMG.0001", "'name' must be a string of 1 to 255"),
    ({"project_id": "nope"}, "IMG.0001", "'project_id' must be a project id"),
    ({"project_id": "0" * 32}, "IMG.0001", "No project with id"),
    ({"colour": "red"}, "IMG.0001", "Unknown member 'colour'"),
])
def test_rest_bad_input(admin, project, disks, change, code, message):
    body = {"name": "bad", "project_id": project["id"], "os_version": OS, "disks": [str(disks["sys"])]}
    body.update(change)
    before = admin.get("/v1/admin/servers").json()["servers"]
    r = admin.post("/v1/admin/servers", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code
    assert message in r.json()["error"]["message"], r.text
    assert admin.get("/v1/admin/servers").json()["servers"] == before


def test_rest_bad_requests_elsewhere(admin):
    r = admin.post("/v1/admin/servers", data=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0001"
    r = admin.get("/v1/admin/servers/not-a-uuid")
    assert r.status_code == 400 and "must be a UUID" in r.json()["error"]["message"]
    r = admin.patch("/v1/admin/servers/" + str(uuid.uuid4()), json={"state": "running"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0005"
    r = admin.patch("/v1/admin/servers/" + str(uuid.uuid4()), json={"state": "paused"})
    assert r.status_code == 400 and "'state' must be" in r.json()["error"]["message"]
    r = admin.post("/v1/admin/backups", json={"server_id": str(uuid.uuid4())})
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0005"
    r = admin.get("/v1/admin/servers", params={"project_id": "x"})
    assert r.status_code == 400
    r = admin.put("/v1/admin/servers")
    assert r.status_code == 405


# -- the libvirt source, through libvirt's test driver (no daemon) -----------

def web_and_db_domains(web, db, sys_disk, data, other, tmp_path, project):
    """lv-web (shut off, uefi, the system disk by its boot order though
    listed second, a cdrom that is no volume, with a project and OS) and
    lv-db (running, bios, no metadata)."""
    return libvirt_node(
        libvirt_domain("lv-web", web, [(data, "raw", "vdb", None), (sys_disk, "qcow2", "vda", 1)], memory_mib=2048,
                       pflash=True, project=project, os_version=OS, runstate=5,
                       more_devices="<disk type='file' device='cdrom'><source file='%s/no.iso'/>"
                                    "<target dev='hdc' bus='ide'/></disk>\n" % tmp_path),
        libvirt_domain("lv-db", db, [(other, None, "vda", None)]))


def test_libvirt_test_driver(start_imsd, tmp_path):
    web, db = str(uuid.uuid4()), str(uuid.uuid4())
    sys_disk, data, other = tmp_path / "sys.qcow2", tmp_path / "data.raw", tmp_path / "other.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(sys_disk), "32M")
    qemu_img("create", "-q", "-f", "raw", str(data), "1M")
    qemu_img("create", "-q", "-f", "qcow2", str(other), "16M")
    project = "0123456789abcdef0123456789abcdef"
    default_project = "fedcba9876543210fedcba9876543210"
    node = tmp_path / "node.xml"
    node.write_text(web_and_db_domains(web, db, sys_disk, data, other, tmp_path, project))
    srv = start_imsd(config={"compute": {"backend": "libvirt", "uri": "test://" + str(node),
                                         "default_project": default_project}})
    admin = srv.admin()
    servers = {s["id"]: s for s in admin.get("/v1/admin/servers").json()["servers"]}
    assert set(servers) == {web, db}
    w = servers[web]
    # shutoff (runstate 5) is stopped; the boot disk is the system disk; the cdrom is no volume.
    assert (w["name"], w["state"], w["firmware"], w["ram"], w["project_id"], w["os_version"]) == (
        "lv-web", "stopped", "uefi", 2048, project, OS)
    assert [(v["position"], v["disk"], v["format"], v["size"]) for v in w["volumes"]] == [
        (0, str(sys_disk), "qcow2", 32 << 20), (1, str(data), "raw", 1 << 20)]
    d = servers[db]
    assert (d["state"], d["firmware"], d["project_id"], d["os_version"]) == ("running", "bios", default_project, None)
    # no driver type: raw, as libvirt reads it (never probed), of the file's size
    assert [(v["disk"], v["format"], v["size"]) for v in d["volumes"]] == [
        (str(other), "raw", other.stat().st_size)]

    # Filters, single reads, stable volume ids.
    assert [s["id"] for s in admin.get("/v1/admin/servers", params={"project_id": project}).json()["servers"]] == [web]
    assert admin.get("/v1/admin/servers/" + web).json()["server"] == w
    vid = w["volumes"][1]["id"]
    assert admin.get("/v1/admin/volumes/" + vid).json()["volume"]["disk"] == str(data)
    assert admin.get("/v1/admin/backups").json() == {"backups": []}
    r = admin.get("/v1/admin/servers/" + str(uuid.uuid4()))
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0005"

    # Read-only: writes are refused, through the API and imsctl alike.
    r = admin.patch("/v1/admin/servers/" + web, json={"state": "running"})
    assert r.status_code == 501 and "read-only" in r.json()["error"]["message"]
    # but for backups, imsd's own copies of the domain's disks: later
    # writes to the disks do not reach them
    r = admin.post("/v1/admin/backups", json={"server_id": web})
    assert r.status_code == 201, r.text
    b = r.json()["backup"]
    assert (b["server_id"], b["server_name"], b["project_id"]) == (web, "lv-web", project)
    assert [(v["id"], v["position"], v["format"], v["size"]) for v in b["volumes"]] == [
        (v["id"], v["position"], v["format"], v["size"]) for v in w["volumes"]]
    assert all(v["disk"].startswith(str(srv.data_dir)) for v in b["volumes"])
    data.write_bytes(b"after the backup".ljust(1 << 20, b"\0"))
    assert open(b["volumes"][1]["disk"], "rb").read(16) == bytes(16)
    assert [x["id"] for x in admin.get("/v1/admin/backups").json()["backups"]] == [b["id"]]
    assert b["id"] in srv.imsctl("backup", "ls")
    assert admin.delete("/v1/admin/backups/" + b["id"]).status_code == 204
    assert not os.path.exists(b["volumes"][0]["disk"])
    r = admin.post("/v1/admin/backups", json={"server_id": str(uuid.uuid4())})
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0005"
    # a running domain's disks would be copied torn, and the test driver
    # cannot back one up (libvirt's backup API): refused
    r = admin.post("/v1/admin/backups", json={"server_id": db})
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0008", r.text
    assert admin.get("/v1/admin/backups").json() == {"backups": []}
    r = imsctl_run(srv, "server", "rm", web)
    assert r.returncode == 1 and "read-only" in r.stderr
    listed = srv.imsctl("server", "ls")
    assert "lv-web" in listed and "stopped" in listed
    admin.close()


def test_libvirt_block_device_disk(start_imsd, tmp_path):
    """A domain's <disk type='block'> (a loop device over a qcow2 file, its
    driver qcow2): its virtual size is read from the device (before, the
    device was not inspected: the driver's type and a size of 0), and a
    backup copies the device's bytes. (A raw driver's disk is raw whatever
    its bytes: test_server_images.py.)"""
    disk = tmp_path / "blk.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(disk), "24M")
    os.truncate(disk, (disk.stat().st_size + 511) // 512 * 512)  # a loop device ends at a whole sector
    dom = str(uuid.uuid4())
    project = "0123456789abcdef0123456789abcdef"
    with loop_device(disk) as dev:
        block = ("<disk type='block' device='disk'><driver name='qemu' type='qcow2'/><source dev='%s'/>"
                 "<target dev='vda' bus='virtio'/></disk>\n" % dev)
        node = tmp_path / "node.xml"
        node.write_text(libvirt_node(libvirt_domain("lv-blk", dom, [], project=project, runstate=5,
                                                    more_devices=block)))
        srv = start_imsd(config={"compute": {"backend": "libvirt", "uri": "test://" + str(node)}})
        admin = srv.admin()
        vols = admin.get("/v1/admin/servers/" + dom).json()["server"]["volumes"]
        assert [(v["disk"], v["format"], v["size"]) for v in vols] == [(dev, "qcow2", 24 << 20)]
        r = admin.post("/v1/admin/backups", json={"server_id": dom})
        assert r.status_code == 201, r.text
        copy = r.json()["backup"]["volumes"][0]["disk"]
        assert open(copy, "rb").read() == open(dev, "rb").read()
        admin.close()


def test_libvirt_domain_without_project(start_imsd, tmp_path):
    """Without metadata and without a default project a domain belongs to no project."""
    other = tmp_path / "other.qcow2"
    qemu_img("create", "-q", "-f", "qcow2", str(other), "16M")
    sys_disk, data = tmp_path / "sys.qcow2", tmp_path / "data.raw"
    qemu_img("create", "-q", "-f", "qcow2", str(sys_disk), "16M")
    qemu_img("create", "-q", "-f", "raw", str(data), "1M")
    web, db = str(uuid.uuid4()), str(uuid.uuid4())
    project = "0123456789abcdef0123456789abcdef"
    node = tmp_path / "node.xml"
    node.write_text(web_and_db_domains(web, db, sys_disk, data, other, tmp_path, project))
    srv = start_imsd(config={"compute": {"backend": "libvirt", "uri": "test://" + str(node)}})
    admin = srv.admin()
    assert admin.get("/v1/admin/servers/" + db).json()["server"]["project_id"] is None
    assert [s["id"] for s in admin.get("/v1/admin/servers", params={"project_id": project}).json()["servers"]] == [web]
    assert "project: -" in srv.imsctl("server", "show", db)
    admin.close()


def test_libvirt_no_backup_of_a_domain_without_project(start_imsd, tmp_path):
    """A backup is a project's: a shut-off domain without one is refused
    (IMG.0067), not recorded (backups.project_id is NOT NULL)."""
    disk = tmp_path / "idle.raw"
    qemu_img("create", "-q", "-f", "raw", str(disk), "1M")
    idle = str(uuid.uuid4())
    node = tmp_path / "node.xml"
    node.write_text(libvirt_node(libvirt_domain("lv-idle", idle, [(disk, "raw", "vda", None)], runstate=5)))
    srv = start_imsd(config={"compute": {"backend": "libvirt", "uri": "test://" + str(node)}})
    admin = srv.admin()
    r = admin.post("/v1/admin/backups", json={"server_id": idle})
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0067", r.text
    assert admin.get("/v1/admin/backups").json() == {"backups": []}
    assert not list((srv.data_dir / "compute" / "backups").iterdir())
    admin.close()


def test_libvirt_bad_uri_and_unknown_backend(tmp_path):
    import shutil
    from helpers import Server
    srv = Server(config={"compute": {"backend": "libvirt", "uri": "test://" + str(tmp_path / "missing.xml")}})
    try:
        r = imsctl_run(srv, "server", "ls")
        assert r.returncode == 1 and "compute source ([compute] backend libvirt)" in r.stderr
        assert "backend = libvirt" in imsctl_run(srv, "config", "show").stdout
    finally:
        shutil.rmtree(srv.root, ignore_errors=True)
    srv = Server(config={"compute": {"backend": "vmware"}})
    try:
        r = imsctl_run(srv, "server", "ls")
        assert r.returncode == 2 and "invalid [compute] backend 'vmware' (inventory or libvirt)" in r.stderr
    finally:
        shutil.rmtree(srv.root, ignore_errors=True)


def test_object_storage_disks(imsd, admin, project, disks, tmp_path):
    """A disk in object storage (bucket:object) is inspected at registration and copied by a backup."""
    bucket = "compute-" + uuid.uuid4().hex[:8]
    imsd.imsctl("obs", "mb", bucket)
    imsd.imsctl("obs", "put", bucket, "disks/sys.qcow2", str(disks["sys"]))
    ref = bucket + ":disks/sys.qcow2"
    r = admin.post("/v1/admin/servers", json={"name": "obs-srv", "project_id": project["id"], "os_version": OS,
                                               "disks": [ref, str(disks["data"])]})
    assert r.status_code == 201, r.text
    s = r.json()["server"]
    assert (s["volumes"][0]["disk"], s["volumes"][0]["format"], s["volumes"][0]["size"]) == (ref, "qcow2", 64 << 20)

    r = admin.post("/v1/admin/backups", json={"server_id": s["id"]})
    assert r.status_code == 201, r.text
    backup_id = r.json()["backup"]["id"]
    copy = r.json()["backup"]["volumes"][0]["disk"]
    assert copy.startswith(str(imsd.data_dir))
    subprocess.run(["qemu-img", "compare", "-q", str(disks["sys"]), copy], check=True)
    # The object changes; the backup does not.
    other = tmp_path / "other.raw"
    other.write_bytes(b"x" * 4096)
    imsd.imsctl("obs", "put", bucket, "disks/sys.qcow2", str(other))
    subprocess.run(["qemu-img", "compare", "-q", str(disks["sys"]), copy], check=True)

    r = admin.post("/v1/admin/servers", json={"name": "obs-missing", "project_id": project["id"], "os_version": OS,
                                               "disks": [bucket + ":disks/none.qcow2"]})
    assert r.status_code == 400 and r.json()["error"]["code"] == "IMG.0057"
    assert "no such object" in r.json()["error"]["message"]
    r = ctl(imsd, "server", "add", "x", "--project", project["name"], "--os-version", OS,
            "--disk", "no-such-bucket-" + uuid.uuid4().hex[:6] + ":a.qcow2")
    assert r.returncode == 1 and "no such bucket" in r.stderr
    assert admin.delete("/v1/admin/backups/" + backup_id).status_code == 204
    assert admin.delete("/v1/admin/servers/" + s["id"]).status_code == 204
