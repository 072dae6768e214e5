"""Glance's interoperable import: /v2/info/import and /v2/info/stores, staging,
glance-direct, the os_glance_* properties, and the tasks API; with the glance
CLI and openstacksdk as well as raw HTTP."""
import hashlib
import os
import subprocess
import time

import pytest

from obs_fixtures import STORE  # the store new data goes to: file, or s3 in the S3 pass

from helpers import (ADMIN_PASSWORD, ADMIN_PROJECT, ADMIN_USER, DEFAULT_DOMAIN, RawUpload, clean_env,
                     create_image, files_under, get_image, kill_hard, patch, sdk_connect, store_has,
                     stored_blobs, trickle, unique)

GLANCE = "/usr/bin/glance"
OCTET = {"Content-Type": "application/octet-stream"}


def glance_cli(srv, *args, ok=True, user=ADMIN_USER, password=ADMIN_PASSWORD, project=ADMIN_PROJECT):
    cmd = [GLANCE, "--os-auth-url", srv.auth_url, "--os-image-api-version", "2",
           "--os-username", user, "--os-password", password, "--os-project-name", project,
           "--os-user-domain-name", DEFAULT_DOMAIN, "--os-project-domain-name", DEFAULT_DOMAIN] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=120,
                       stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))
    if ok:
        assert r.returncode == 0, "%s\nstdout:%s\nstderr:%s" % (" ".join(cmd), r.stdout, r.stderr[-3000:])
    return r


def stage(api, image_id, data):
    return api.put("/v2/images/%s/stage" % image_id, data=data, headers=OCTET)


def do_import(api, image_id, body):
    return api.post("/v2/images/%s/import" % image_id, json=body)


def wait_status(api, image_id, statuses, timeout=30):
    deadline = time.monotonic() + timeout
    img = None
    while time.monotonic() < deadline:
        img = get_image(api, image_id)
        if img["status"] in statuses:
            return img
        time.sleep(0.1)
    raise AssertionError("image %s stayed %s" % (image_id, img and img["status"]))


def wait_task_done(api, image_id, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = api.get("/v2/images/%s/tasks" % image_id)
        assert r.status_code == 200, r.text
        tasks = r.json()["tasks"]
        if tasks and tasks[-1]["status"] in ("success", "failure"):
            return tasks[-1]
        time.sleep(0.1)
    raise AssertionError("the import task of %s did not finish" % image_id)


def staged_files(srv):
    """What the node-local staging area holds (staged data lived there, on
    the node that took it, before it moved into the image store)."""
    d = srv.data_dir / "staging"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def staged_blob(srv, image_id):
    """The image store's blob holding image_id's staged data (the location
    the uploading image references, registered in the blobs table), or
    None."""
    rows = srv.sql("SELECT i.location FROM images i JOIN blobs b ON b.location = i.location "
                   "WHERE i.id = ? AND i.status = 'uploading'", (image_id,))
    return rows[0][0] if rows else None


def blob_registered(srv, location):
    return bool(srv.sql("SELECT location FROM blobs WHERE location = ?", (location,)))


def queued(api, **attrs):
    attrs.setdefault("disk_format", "raw")
    attrs.setdefault("container_format", "bare")
    return create_image(api, **attrs)


# ------------------------------------------------------------------ discovery
def test_info_import_and_stores(admin, alice):
    r = alice.get("/v2/info/import")
    assert r.status_code == 200
    methods = r.json()["import-methods"]
    assert methods["type"] == "array" and methods["description"] == "Import methods available."
    assert "glance-direct" in methods["value"]
    assert "copy-image" not in methods["value"]      # one store: nothing to copy between
    r = alice.get("/v2/info/stores")
    assert r.status_code == 200
    stores = r.json()["stores"]
    assert [s["id"] for s in stores] == [STORE]
    assert stores[0]["default"] == "true"
    r = alice.get("/v2/info/import/")
    assert r.status_code == 404
    import requests
    assert requests.get(admin.base + "/v2/info/import").status_code == 401


def test_glance_cli_import_info(imsd):
    r = glance_cli(imsd, "import-info")
    cells = "".join(line.split("|")[2].strip() for line in r.stdout.splitlines() if line.startswith("|"))
    assert '"glance-direct"' in cells.replace("glance- direct", "glance-direct"), r.stdout
    r = glance_cli(imsd, "stores-info")
    assert STORE in r.stdout


# ------------------------------------------------------------ glance-direct
def test_stage_then_glance_direct(imsd, alice):
    data = os.urandom(3 * 1024 * 1024 + 17)
    img = queued(alice)
    r = stage(alice, img["id"], data)
    assert r.status_code == 204, r.text
    got = get_image(alice, img["id"])
    assert got["status"] == "uploading"
    assert got["size"] == len(data)
    # os_glance_stage_host is recorded but hidden, as Glance hides it
    assert "os_glance_stage_host" not in got
    rows = imsd.sql("SELECT value FROM image_properties WHERE image_id = ? AND name = ?",
                    (img["id"], "os_glance_stage_host"))
    assert rows and rows[0][0] == imsd.url
    # staged into the image store, where every node reads it, not on this node
    loc = staged_blob(imsd, img["id"])
    assert loc and store_has(imsd, loc), loc
    assert img["id"] not in " ".join(staged_files(imsd))
    # staged data is not the image's data yet: no download, no location
    r = alice.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 204 and r.content == b""
    # staged once: a second stage is a conflict
    assert stage(alice, img["id"], b"x").status_code == 409

    r = do_import(alice, img["id"], {"method": {"name": "glance-direct"}})
    assert r.status_code == 202, r.text
    assert r.text == ""
    done = wait_status(alice, img["id"], ("active", "queued"))
    assert done["status"] == "active", done
    assert done["checksum"] == hashlib.md5(data).hexdigest()
    assert done["os_hash_algo"] == "sha512"
    assert done["os_hash_value"] == hashlib.sha512(data).hexdigest()
    assert done["size"] == len(data)
    assert done["virtual_size"] == len(data)
    assert "os_glance_import_task" not in done
    assert done["os_glance_importing_to_stores"] == ""
    assert done["os_glance_failed_import"] == ""
    r = alice.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 200 and r.content == data
    assert staged_files(imsd) == [] or img["id"] not in " ".join(staged_files(imsd))
    # the staged blob became the image's data as it was (no copy)
    assert imsd.sql("SELECT location FROM images WHERE id = ?", (img["id"],))[0][0] == loc

    task = wait_task_done(alice, img["id"])
    assert task["status"] == "success"
    assert task["type"] == "api_image_import"
    assert task["image_id"] == img["id"]
    assert task["owner"] == alice.project_id
    assert task["user_id"] == alice.user_id
    assert task["input"]["image_id"] == img["id"]
    assert task["input"]["import_req"] == {"method": {"name": "glance-direct"}}
    assert task["input"]["backend"] == [STORE]
    assert task["result"] == {"image_id": img["id"]}


def test_import_refusals(alice, bob):
    img = queued(alice)
    # glance-direct before staging
    r = do_import(alice, img["id"], {"method": {"name": "glance-direct"}})
    assert r.status_code == 409 and "staged" in r.text
    for body, status, words in [
            ({}, 400, "'method' field"),
            ({"method": {}}, 400, "'name' field"),
            ({"method": "glance-direct"}, 400, "method"),
            ({"method": {"name": "copy-image"}}, 400, "Unknown import method name 'copy-image'"),
            ({"method": {"name": "nope\u0001"}}, 400, "import method"),
            ({"method": {"name": "nope\u0085"}}, 400, "import method"),
            # a C1 control character is no store id (it was echoed in a 409)
            ({"method": {"name": "glance-direct"}, "stores": ["x\u0085"]}, 400, "stores"),
            ({"method": {"name": "glance-direct"}, "all_stores": "yes"}, 400, "'all_stores' must be boolean"),
            ({"method": {"name": "glance-direct"}, "all_stores_must_succeed": 1}, 400,
             "'all_stores_must_succeed' must be boolean"),
            ({"method": {"name": "glance-direct"}, "stores": STORE}, 400, "stores"),
            ({"method": {"name": "glance-direct"}, "stores": [STORE], "all_stores": True}, 400,
             "All_stores parameter"),
    ]:
        r = do_import(alice, img["id"], body)
        assert r.status_code == status, (body, r.status_code, r.text)
        assert words in r.json()["message"], (body, r.text)
    assert alice.post("/v2/images/%s/import" % img["id"], data=b"{nope",
                      headers={"Content-Type": "application/json"}).status_code == 400
    # another project's image does not exist for bob
    assert do_import(bob, img["id"], {"method": {"name": "glance-direct"}}).status_code == 404
    assert stage(bob, img["id"], b"data").status_code == 404
    # an unknown store is a conflict, as Glance's UnknownScheme
    assert stage(alice, img["id"], b"data").status_code == 204
    r = do_import(alice, img["id"], {"method": {"name": "glance-direct"}, "stores": ["elsewhere"]})
    assert r.status_code == 409 and "elsewhere" in r.text
    # formats must be set before an import
    bare = create_image(alice, name=unique("noformat"))
    assert stage(alice, bare["id"], b"data").status_code == 204
    r = do_import(alice, bare["id"], {"method": {"name": "glance-direct"}})
    assert r.status_code == 409 and "container_format" in r.text
    # an active image is no target; stage needs queued
    r = do_import(alice, img["id"], {"method": {"name": "glance-direct"}})
    assert r.status_code == 202
    wait_status(alice, img["id"], ("active",))
    r = do_import(alice, img["id"], {"method": {"name": "glance-direct"}})
    assert r.status_code == 409 and "active" in r.text
    r = stage(alice, img["id"], b"more")
    assert r.status_code == 409 and "uploading" in r.text
    # stage takes octet-stream only
    other = queued(alice)
    r = alice.put("/v2/images/%s/stage" % other["id"], data=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert get_image(alice, other["id"])["status"] == "queued"


def test_stage_size_limit(start_imsd):
    srv = start_imsd({"images": {"max_image_size": 1000}})
    api = srv.admin()
    img = queued(api)
    r = stage(api, img["id"], b"x" * 1001)
    assert r.status_code == 413, r.text
    assert get_image(api, img["id"])["status"] == "queued"
    assert staged_files(srv) == []
    assert stored_blobs(srv) == []
    assert stage(api, img["id"], b"x" * 1000).status_code == 204


def test_tenants_cannot_set_os_glance_properties(alice):
    for key in ("os_glance_import_task", "os_glance_failed_import", "os_glance_importing_to_stores",
                "os_glance_stage_host"):
        r = alice.post("/v2/images", json={"name": unique("g"), key: "x"})
        assert r.status_code == 403, (key, r.text)
        img = queued(alice)
        r = patch(alice, img["id"], [{"op": "add", "path": "/" + key, "value": "x"}])
        assert r.status_code == 403, (key, r.text)
    # nor change or remove the ones the import wrote
    img = queued(alice)
    assert stage(alice, img["id"], b"data").status_code == 204
    assert do_import(alice, img["id"], {"method": {"name": "glance-direct"}}).status_code == 202
    done = wait_status(alice, img["id"], ("active",))
    for op in ("replace", "remove"):
        r = patch(alice, img["id"], [{"op": op, "path": "/os_glance_importing_to_stores", "value": "x"}])
        assert r.status_code == 403, (op, r.text)
    assert get_image(alice, img["id"])["os_glance_importing_to_stores"] == done["os_glance_importing_to_stores"]


def qcow2_file(tmp_path, size="1M"):
    path = tmp_path / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(path), size], check=True)
    return path.read_bytes()


def test_format_mismatch_refused_by_inspector(imsd, alice, tmp_path):
    # declared qcow2, staged raw bytes: the inspector refuses, the image is queued again
    img = queued(alice, disk_format="qcow2")
    assert stage(alice, img["id"], b"\0" * 65536).status_code == 204
    loc = staged_blob(imsd, img["id"])
    assert loc and store_has(imsd, loc)
    assert do_import(alice, img["id"], {"method": {"name": "glance-direct"}}).status_code == 202
    task = wait_task_done(alice, img["id"])
    assert task["status"] == "failure"
    assert "qcow2" in task["message"] or "format" in task["message"], task
    got = get_image(alice, img["id"])
    assert got["status"] == "queued"
    assert got["os_glance_failed_import"] == STORE
    assert got["os_glance_importing_to_stores"] == ""
    assert "os_glance_import_task" not in got
    assert got["checksum"] is None
    assert img["id"] not in " ".join(staged_files(imsd))
    # the failed import took the staged data with it, from the store too
    assert not blob_registered(imsd, loc) and not store_has(imsd, loc)
    assert got["size"] is None
    # declared raw, staged qcow2: refused too
    img = queued(alice, disk_format="raw")
    assert stage(alice, img["id"], qcow2_file(tmp_path)).status_code == 204
    assert do_import(alice, img["id"], {"method": {"name": "glance-direct"}}).status_code == 202
    assert wait_task_done(alice, img["id"])["status"] == "failure"
    assert get_image(alice, img["id"])["status"] == "queued"
    # the right format goes through, with its virtual size
    img = queued(alice, disk_format="qcow2")
    data = qcow2_file(tmp_path, "3M")
    assert stage(alice, img["id"], data).status_code == 204
    assert do_import(alice, img["id"], {"method": {"name": "glance-direct"}}).status_code == 202
    done = wait_status(alice, img["id"], ("active", "queued"))
    assert done["status"] == "active"
    assert done["virtual_size"] == 3 * 1024 * 1024
    assert done["os_glance_failed_import"] == ""


def test_staged_data_survives_restart(start_imsd, tmp_path):
    srv = start_imsd()
    api = srv.admin()
    data = os.urandom(1024 * 1024)
    img = queued(api)
    assert stage(api, img["id"], data).status_code == 204
    assert srv.stop() == 0
    srv.start()
    api = srv.admin()
    assert get_image(api, img["id"])["status"] == "uploading"
    assert do_import(api, img["id"], {"method": {"name": "glance-direct"}}).status_code == 202
    done = wait_status(api, img["id"], ("active", "queued"))
    assert done["status"] == "active"
    assert api.get("/v2/images/%s/file" % img["id"]).content == data


def test_deleting_a_staged_image_removes_its_staged_data(imsd, alice):
    """A DELETE of an image with staged data takes the data with it, from
    the image store every node shares (no node keeps a copy of its own)."""
    data = os.urandom(2 * 1024 * 1024 + 5)
    img = queued(alice)
    assert stage(alice, img["id"], data).status_code == 204
    loc = staged_blob(imsd, img["id"])
    assert loc and store_has(imsd, loc), loc
    assert alice.delete("/v2/images/%s" % img["id"]).status_code == 204
    assert img["id"] not in " ".join(staged_files(imsd))
    assert not blob_registered(imsd, loc)
    assert not store_has(imsd, loc)
    assert len(data) not in stored_blobs(imsd)


def test_a_stage_cut_by_a_crash_gives_the_image_back(start_imsd):
    """A stage is leased to its process as an upload is: imsd killed mid-stage,
    the next start returns the image to queued (it would stay "uploading"
    with no data for good), leaves none of the partial data behind, and the
    image can be staged and imported again."""
    srv = start_imsd()
    api = srv.admin()
    img = queued(api)
    raw = RawUpload(srv, api.token, img["id"], content_length=64 << 20,
                    path="/v2/images/%s/stage" % img["id"])
    trickle(raw, 4 << 20)
    assert get_image(api, img["id"])["status"] == "uploading"
    kill_hard(srv, raw)

    srv2 = start_imsd(data_dir=srv.data_dir)
    api = srv2.admin()
    got = get_image(api, img["id"])
    assert got["status"] == "queued" and got["size"] is None, got
    assert files_under(srv2.data_dir / "tmp") == []
    assert stored_blobs(srv2) == []
    data = os.urandom(4096)
    assert stage(api, img["id"], data).status_code == 204
    assert do_import(api, img["id"], {"method": {"name": "glance-direct"}}).status_code == 202
    assert wait_status(api, img["id"], ("active", "queued"))["status"] == "active"
    assert api.get("/v2/images/%s/file" % img["id"]).content == data


def test_start_up_sweeps_the_node_local_staging_area(start_imsd):
    """Files an earlier imsd staged on this node (data of images deleted
    since, or never imported) are removed at start-up: staged data now lives
    in the image store, so nothing there belongs to anyone."""
    srv = start_imsd()
    assert srv.stop() == 0
    area = srv.data_dir / "staging"
    area.mkdir(exist_ok=True)
    for name in ("0b8d6c8e-6d0e-4f0e-9a3c-1f1e2d3c4b5a", "0b8d6c8e-6d0e-4f0e-9a3c-1f1e2d3c4b5a.digests",
                 ".0b8d6c8e-6d0e-4f0e-9a3c-1f1e2d3c4b5a.0011223344556677.part"):
        (area / name).write_bytes(b"left behind\n")
    srv.start()
    assert staged_files(srv) == []
    assert srv.admin().get("/v2/images").status_code == 200


# ------------------------------------------------------------------- clients
def test_glance_cli_create_via_import_and_stage_import(imsd, admin, tmp_path):
    data = os.urandom(200000)
    f = tmp_path / "disk.raw"
    f.write_bytes(data)
    name = unique("via-import")
    r = glance_cli(imsd, "image-create-via-import", "--name", name, "--disk-format", "raw",
                   "--container-format", "bare", "--import-method", "glance-direct", "--file", str(f))
    ids = [img["id"] for img in admin.get("/v2/images", params={"name": name}).json()["images"]]
    assert len(ids) == 1, r.stdout
    done = wait_status(admin, ids[0], ("active", "queued"))
    assert done["status"] == "active"
    assert done["checksum"] == hashlib.md5(data).hexdigest()

    img = queued(admin)
    glance_cli(imsd, "image-stage", "--file", str(f), img["id"])
    assert get_image(admin, img["id"])["status"] == "uploading"
    glance_cli(imsd, "image-import", "--import-method", "glance-direct", img["id"])
    assert wait_status(admin, img["id"], ("active", "queued"))["status"] == "active"
    # the tasks API through the CLI (admin only), against the task schemas
    r = glance_cli(imsd, "task-list")
    assert "api_image_import" in r.stdout
    task = wait_task_done(admin, img["id"])
    r = glance_cli(imsd, "task-show", task["id"])
    assert "success" in r.stdout and img["id"] in r.stdout


@pytest.fixture(scope="module")
def conn(imsd):
    c = sdk_connect(imsd)
    yield c
    c.close()


def test_sdk_stage_and_import(conn, admin):
    data = os.urandom(300000)
    img = conn.image.create_image(name=unique("sdk-import"), disk_format="raw", container_format="bare",
                                  allow_duplicates=True)
    conn.image.stage_image(img, data=data)
    assert conn.image.get_image(img.id).status == "uploading"
    conn.image.import_image(img, method="glance-direct")
    done = wait_status(admin, img.id, ("active", "queued"))
    assert done["status"] == "active"
    assert done["checksum"] == hashlib.md5(data).hexdigest()
    assert [s.id for s in conn.image.stores()] == [STORE]


# --------------------------------------------------------------------- tasks
def test_tasks_api(admin, alice, bob):
    img = queued(alice)
    assert stage(alice, img["id"], b"task data").status_code == 204
    assert do_import(alice, img["id"], {"method": {"name": "glance-direct"}}).status_code == 202
    wait_status(alice, img["id"], ("active",))
    task = wait_task_done(alice, img["id"])
    # Glance 25's tasks_api_access is the admin role
    assert alice.get("/v2/tasks").status_code == 403
    assert alice.get("/v2/tasks/%s" % task["id"]).status_code == 403
    r = admin.get("/v2/tasks/%s" % task["id"])
    assert r.status_code == 200, r.text
    t = r.json()
    assert t["id"] == task["id"] and t["status"] == "success" and t["type"] == "api_image_import"
    assert t["owner"] == alice.project_id and t["self"] == "/v2/tasks/" + task["id"]
    assert t["schema"] == "/v2/schemas/task" and t["result"] == {"image_id": img["id"]}
    assert t["created_at"].endswith("Z") and "expires_at" in t and t["message"] == ""
    assert admin.get("/v2/tasks/%s" % unique("x")).status_code == 404
    r = admin.get("/v2/tasks", params={"limit": 1000})
    assert r.status_code == 200
    listed = r.json()
    assert listed["schema"] == "/v2/schemas/tasks" and listed["first"].startswith("/v2/tasks")
    stub = [x for x in listed["tasks"] if x["id"] == task["id"]]
    assert stub and "input" not in stub[0] and "result" not in stub[0]
    assert admin.get("/v2/tasks", params={"status": "success", "limit": 1000}).json()["tasks"]
    assert admin.get("/v2/tasks", params={"status": "failure"}).status_code == 200
    assert admin.get("/v2/tasks", params={"type": "import"}).json()["tasks"] == []
    for key in ("status", "id", "type", "updated_at", "created_at"):
        for d in ("asc", "desc"):
            r = admin.get("/v2/tasks", params={"sort_key": key, "sort_dir": d, "limit": 1000})
            assert r.status_code == 200 and task["id"] in [x["id"] for x in r.json()["tasks"]], (key, d)
    ids = [x["id"] for x in admin.get("/v2/tasks", params={"sort_key": "id", "sort_dir": "asc",
                                                            "limit": 1000}).json()["tasks"]]
    assert ids == sorted(ids)
    for params in ({"status": "done"}, {"type": "x"}, {"sort_dir": "up"}, {"limit": "x"}, {"limit": -1},
                   {"marker": "nope"}, {"sort_key": "owner"}):
        assert admin.get("/v2/tasks", params=params).status_code == 400, params
    # pages: limit 1 and next
    first = admin.get("/v2/tasks", params={"limit": 1}).json()
    assert len(first["tasks"]) == 1 and "next" in first
    second = admin.get(first["next"]).json()
    assert second["tasks"] and second["tasks"][0]["id"] != first["tasks"][0]["id"]
    # an image's tasks: whoever sees the image; 404 otherwise
    assert bob.get("/v2/images/%s/tasks" % img["id"]).status_code == 404
    assert admin.get("/v2/images/%s/tasks" % img["id"]).json()["tasks"][0]["id"] == task["id"]
    # the schemas
    s = alice.get("/v2/schemas/task").json()
    assert s["name"] == "task" and "api_image_import" in s["properties"]["type"]["enum"]
    s = alice.get("/v2/schemas/tasks").json()
    assert s["name"] == "tasks" and "input" not in s["properties"]["tasks"]["items"]["properties"]
