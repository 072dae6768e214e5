"""Several image stores ([stores] enabled, Glance's enabled_backends): each
store by id in GET /v2/info/stores, its id the scheme of its locations;
copy-image (an administrator's, as Glance's copy_image policy) copies an
active image's data into further stores, checked against its digests; the
image's `stores` and locations name every store holding it; glance-direct
with several stores imports into each; all_stores and
all_stores_must_succeed as Glance; a download reads from any store that
holds the data; DELETE /v2/stores/{store}/{image} removes one store's data.
Two file stores, and a file store beside an S3 one (the session's Swift
s3api server). The single-store configuration is the default and unchanged
(test_glance_import.py)."""
import hashlib
import os
import shutil
import time
import uuid

import pytest

from helpers import PATCH_21, Api, Server, create_image, files_under, get_image, sdk_connect, unique, upload
from test_web_download import serve, web  # noqa: F401 (web: the local HTTP server fixture)

DATA = os.urandom(2 * 1024 * 1024 + 333)
OCTET = {"Content-Type": "application/octet-stream"}


def two_files(start_imsd, extra=None):
    config = {"stores": {"enabled": "fast:file, cheap:file", "default": "fast"},
              "images": {"show_multiple_locations": "true"}}
    config.update(extra or {})
    return start_imsd(config=config)


def blobs_of(srv, store):
    return files_under(srv.data_dir / "stores" / store / "images")


def active(api, data=DATA):
    img = create_image(api, name=unique("ms"), disk_format="raw", container_format="bare")
    r = upload(api, img["id"], data)
    assert r.status_code == 204, r.text
    return get_image(api, img["id"])


def do_import(api, image_id, body):
    return api.post("/v2/images/%s/import" % image_id, json=body)


def wait_task(api, image_id, n=1, timeout=60):
    """The image's n-th task once it ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tasks = api.get("/v2/images/%s/tasks" % image_id).json()["tasks"]
        done = [t for t in tasks if t["status"] in ("success", "failure")]
        if len(done) >= n:
            return sorted(done, key=lambda t: t["created_at"])[-1]
        time.sleep(0.1)
    raise AssertionError("no finished task for %s" % image_id)


def stores_of(doc):
    return sorted(doc.get("stores", "").split(",")) if doc.get("stores") else []


def restarted(start_imsd, srv, config, enabled, *apis):
    """srv stopped and started again on its data dir with [stores] enabled
    (its first store the default); the credentials of apis against it."""
    srv.ended_by_test = True
    assert srv.stop() == 0
    config["stores"] = {"enabled": enabled, "default": enabled.split(":")[0]}
    srv = start_imsd(config=config, data_dir=srv.data_dir)
    return (srv,) + tuple(Api(srv.url, a.token) for a in apis)


def test_info_lists_the_stores_and_copy_image(start_imsd):
    srv = two_files(start_imsd)
    api = srv.project_user()
    r = api.get("/v2/info/stores")
    assert r.status_code == 200, r.text
    assert r.json()["stores"] == [{"id": "fast", "default": "true"}, {"id": "cheap"}]
    methods = api.get("/v2/info/import").json()["import-methods"]["value"]
    assert methods == ["glance-direct", "web-download", "copy-image"]
    # openstacksdk reads them too
    c = sdk_connect(srv)
    try:
        assert sorted(s.id for s in c.image.stores()) == ["cheap", "fast"]
    finally:
        c.close()


def test_default_store_takes_uploads_and_copy_image_copies(start_imsd):
    srv = two_files(start_imsd)
    api, admin = srv.project_user(), srv.admin()
    img = active(api)
    assert stores_of(img) == ["fast"]
    [loc] = img["locations"]
    assert loc["url"].startswith("fast://") and loc["metadata"] == {"store": "fast"}, loc
    assert len(blobs_of(srv, "fast")) == 1 and blobs_of(srv, "cheap") == []

    # copy-image is the admin role's (Glance's copy_image policy)
    r = do_import(api, img["id"], {"method": {"name": "copy-image"}, "stores": ["cheap"]})
    assert r.status_code == 403 and "copy_image" in r.text, r.text
    # unknown store: 409, as Glance's UnknownScheme
    r = do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["nowhere"]})
    assert r.status_code == 409 and "nowhere" in r.text, r.text
    # a store holding it already: 400
    r = do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["fast"]})
    assert r.status_code == 400 and "already present at store 'fast'" in r.text, r.text

    r = do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["cheap"]})
    assert r.status_code == 202, r.text
    task = wait_task(admin, img["id"])
    assert task["status"] == "success", task
    assert task["input"]["backend"] == ["cheap"]
    got = get_image(api, img["id"])
    assert got["status"] == "active"
    assert stores_of(got) == ["cheap", "fast"]
    assert got["os_glance_importing_to_stores"] == "" and got["os_glance_failed_import"] == ""
    assert "os_glance_import_task" not in got
    assert sorted(l["metadata"]["store"] for l in got["locations"]) == ["cheap", "fast"]
    assert [l["url"].split("://")[0] for l in got["locations"]] == ["fast", "cheap"]
    # the copies are hidden properties, never shown
    assert not [k for k in got if k.startswith("os_glance_location") or k.startswith("os_glance_locmeta")]
    [copy] = blobs_of(srv, "cheap")
    assert copy.read_bytes() == DATA
    # the copy is a blob reference like the image's own location
    rows = srv.sql("SELECT refs FROM blobs WHERE location = ?", (got["locations"][1]["url"],))
    assert rows and int(rows[0][0]) == 1, rows
    # tenants cannot write the stores nor the copies' properties
    r = api.patch("/v2/images/%s" % img["id"], json=[{"op": "add", "path": "/stores", "value": "x"}],
                  headers={"Content-Type": PATCH_21})
    assert r.status_code == 403, r.text
    r = api.patch("/v2/images/%s" % img["id"],
                  json=[{"op": "add", "path": "/os_glance_location_cheap", "value": "cheap://00/x"}],
                  headers={"Content-Type": PATCH_21})
    assert r.status_code == 403, r.text

    # all_stores when every store has it: 202 and no task (Glance)
    r = do_import(admin, img["id"], {"method": {"name": "copy-image"}, "all_stores": True})
    assert r.status_code == 202, r.text
    time.sleep(0.3)
    assert len(admin.get("/v2/images/%s/tasks" % img["id"]).json()["tasks"]) == 1

    # deleting the image removes its data from both stores
    assert api.delete("/v2/images/%s" % img["id"]).status_code == 204
    deadline = time.monotonic() + 10
    while (blobs_of(srv, "fast") or blobs_of(srv, "cheap")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert blobs_of(srv, "fast") == [] and blobs_of(srv, "cheap") == []


def test_download_reads_another_store_and_delete_from_store(start_imsd):
    srv = two_files(start_imsd)
    api, admin = srv.project_user(), srv.admin()
    img = active(api)
    assert do_import(admin, img["id"], {"method": {"name": "copy-image"}, "all_stores": True}).status_code == 202
    assert wait_task(admin, img["id"])["status"] == "success"
    assert stores_of(get_image(api, img["id"])) == ["cheap", "fast"]

    # its own location's file gone: the download reads the copy
    [own] = blobs_of(srv, "fast")
    saved = own.read_bytes()
    own.unlink()
    r = api.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 200 and r.content == DATA
    own.write_bytes(saved)

    # DELETE /v2/stores/{store}/{image}: the admin's; errors as Glance
    url = "/v2/stores/%s/%s"
    r = api.delete(url % ("fast", img["id"]))
    assert r.status_code == 403, r.text
    assert admin.delete(url % ("nowhere", img["id"])).status_code == 409
    assert admin.delete(url % ("fast", str(uuid.uuid4()))).status_code == 404
    r = admin.delete(url % ("fast", img["id"]))     # its own location: the copy takes its place
    assert r.status_code == 204, r.text
    got = get_image(api, img["id"])
    assert stores_of(got) == ["cheap"]
    assert [l["url"].split("://")[0] for l in got["locations"]] == ["cheap"]
    assert blobs_of(srv, "fast") == []
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA
    r = admin.delete(url % ("fast", img["id"]))
    assert r.status_code == 404 and "not stored in store fast" in r.text, r.text
    r = admin.delete(url % ("cheap", img["id"]))
    assert r.status_code == 403 and "only store" in r.text, r.text
    # and back again
    assert do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["fast"]}).status_code == 202
    assert wait_task(admin, img["id"], n=2)["status"] == "success"
    assert stores_of(get_image(api, img["id"])) == ["cheap", "fast"]
    assert len(blobs_of(srv, "fast")) == 1


def test_a_store_taken_out_of_the_configuration(start_imsd, tmp_path):
    """A store removed from [stores] enabled (Glance's enabled_backends)
    leaves its locations with the images, as Glance does: the locations and
    `stores` still name it (Glance lists every location's store), the
    download reads the store still configured and nothing of the removed
    one, DELETE /v2/stores/{removed}/{image} is Glance's 409, and an
    administrator's PATCH removes such a location, its data left where it
    is. Before, an image whose own location was in the removed store lost
    it from `stores` and its metadata, and its removal was a 400 (Invalid
    position)."""
    data = tmp_path / "data"
    config = {"stores": {"enabled": "fast:file, cheap:file", "default": "fast"},
              "images": {"show_multiple_locations": "true"}}
    srv = start_imsd(config=config, data_dir=data)
    api, admin = srv.project_user(), srv.admin()
    own_in_fast, copy_in_fast = active(api), active(api)
    for img in (own_in_fast, copy_in_fast):
        assert do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["cheap"]}).status_code == 202
        assert wait_task(admin, img["id"])["status"] == "success"
    # copy_in_fast: its own data in cheap, a copy in fast
    assert admin.delete("/v2/stores/fast/%s" % copy_in_fast["id"]).status_code == 204
    assert do_import(admin, copy_in_fast["id"], {"method": {"name": "copy-image"}, "stores": ["fast"]}).status_code \
        == 202
    assert wait_task(admin, copy_in_fast["id"], n=2)["status"] == "success"
    before = {i["id"]: get_image(api, i["id"])["locations"] for i in (own_in_fast, copy_in_fast)}
    assert [l["metadata"]["store"] for l in before[own_in_fast["id"]]] == ["fast", "cheap"]
    assert [l["metadata"]["store"] for l in before[copy_in_fast["id"]]] == ["cheap", "fast"]
    fast_files = blobs_of(srv, "fast")
    assert len(fast_files) == 2
    srv, api, admin = restarted(start_imsd, srv, config, "cheap:file", api, admin)
    for image_id, locations in before.items():
        got = get_image(api, image_id)
        assert got["locations"] == locations, got
        assert stores_of(got) == ["cheap", "fast"], got
        assert api.get("/v2/images/%s/file" % image_id).content == DATA
    assert "could not be read" not in srv.log_path.read_text(), "the removed store was read"
    r = admin.delete("/v2/stores/fast/%s" % own_in_fast["id"])
    assert r.status_code == 409 and "The selected store fast is not available on this node." in r.text, r.text
    for img, pos in ((own_in_fast, 0), (copy_in_fast, 1)):
        r = admin.patch("/v2/images/%s" % img["id"], json=[{"op": "remove", "path": "/locations/%d" % pos}],
                        headers={"Content-Type": PATCH_21})
        assert r.status_code == 200, r.text
        assert [l["metadata"]["store"] for l in r.json()["locations"]] == ["cheap"]
        assert stores_of(r.json()) == ["cheap"]
        assert api.get("/v2/images/%s/file" % img["id"]).content == DATA
    assert blobs_of(srv, "fast") == fast_files  # the removed store's data is left where it is
    assert api.delete("/v2/images/%s" % own_in_fast["id"]).status_code == 204


def test_data_left_in_a_removed_store_goes_once_the_store_is_back(start_imsd, tmp_path):
    """An image deleted (or an administrator's PATCH removing a location)
    while its data sits in a store taken out of [stores] enabled: imsd
    cannot reach that store, so the data stays there (Glance's
    safe_delete_from_backend logs and leaves it likewise). Its blob then
    has no row and no image: once the store is configured again, the
    start-up recovery removes it as any unreferenced blob older than
    [storage] recovery_grace_seconds (0 here; an hour by default), and
    nothing else of that store."""
    data = tmp_path / "data"
    config = {"stores": {"enabled": "fast:file, cheap:file", "default": "fast"},
              "images": {"show_multiple_locations": "true"}, "storage": {"recovery_grace_seconds": "0"}}
    srv = start_imsd(config=config, data_dir=data)
    api, admin = srv.project_user(), srv.admin()
    only_in_fast, copied, kept = active(api), active(api), active(api)
    assert do_import(admin, copied["id"], {"method": {"name": "copy-image"}, "stores": ["cheap"]}).status_code == 202
    assert wait_task(admin, copied["id"])["status"] == "success"
    kept_files = blobs_of(srv, "fast")
    assert len(kept_files) == 3
    srv, api, admin = restarted(start_imsd, srv, config, "cheap:file", api, admin)
    assert api.delete("/v2/images/%s" % only_in_fast["id"]).status_code == 204
    r = admin.patch("/v2/images/%s" % copied["id"], json=[{"op": "remove", "path": "/locations/0"}],
                    headers={"Content-Type": PATCH_21})
    assert r.status_code == 200 and stores_of(r.json()) == ["cheap"], r.text
    assert blobs_of(srv, "fast") == kept_files  # out of reach: left where it is
    srv, api = restarted(start_imsd, srv, config, "fast:file, cheap:file", api)
    fast_location = get_image(api, kept["id"])["locations"][0]["url"]
    assert len(blobs_of(srv, "fast")) == 1 and fast_location.startswith("fast://"), blobs_of(srv, "fast")
    assert api.get("/v2/images/%s/file" % kept["id"]).content == DATA
    assert api.get("/v2/images/%s/file" % copied["id"]).content == DATA


def test_glance_direct_into_several_stores(start_imsd):
    srv = two_files(start_imsd)
    api = srv.project_user()
    img = create_image(api, name=unique("gd"), disk_format="raw", container_format="bare")
    assert api.put("/v2/images/%s/stage" % img["id"], data=DATA, headers=OCTET).status_code == 204
    r = do_import(api, img["id"], {"method": {"name": "glance-direct"}, "stores": ["fast", "cheap"]})
    assert r.status_code == 202, r.text
    task = wait_task(api, img["id"])
    assert task["status"] == "success", task
    got = get_image(api, img["id"])
    assert got["status"] == "active" and stores_of(got) == ["cheap", "fast"], got
    assert got["checksum"] == hashlib.md5(DATA).hexdigest()
    assert got["os_glance_importing_to_stores"] == "" and "os_glance_import_task" not in got
    assert [f.read_bytes() == DATA for f in blobs_of(srv, "cheap")] == [True]


def test_glance_direct_into_another_store_only(start_imsd):
    """stores: ["cheap"] without the default: the data ends in cheap alone
    (it passes through the default store, which does not keep it)."""
    srv = two_files(start_imsd)
    api = srv.project_user()
    img = create_image(api, name=unique("gd"), disk_format="raw", container_format="bare")
    assert api.put("/v2/images/%s/stage" % img["id"], data=DATA, headers=OCTET).status_code == 204
    r = do_import(api, img["id"], {"method": {"name": "glance-direct"}, "stores": ["cheap"]})
    assert r.status_code == 202, r.text
    assert wait_task(api, img["id"])["status"] == "success"
    got = get_image(api, img["id"])
    assert got["status"] == "active" and stores_of(got) == ["cheap"], got
    assert [l["url"].split("://")[0] for l in got["locations"]] == ["cheap"]
    assert "os_glance_import_task" not in got and got["os_glance_importing_to_stores"] == ""
    deadline = time.monotonic() + 10
    while blobs_of(srv, "fast") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert blobs_of(srv, "fast") == []
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA


def cheap_cannot_write(start_imsd):
    """Three file stores, cheap's temporary area replaced by a file (its
    writers cannot open), and an active image in fast: (srv, api, admin, image)."""
    srv = start_imsd(config={"stores": {"enabled": "fast:file, cheap:file, third:file"}})
    api, admin = srv.project_user(), srv.admin()
    img = active(api)
    tmp = srv.data_dir / "stores" / "cheap" / "tmp"
    os.rmdir(tmp)
    tmp.write_text("not a directory")
    return srv, api, admin, img


def test_a_failing_store_with_and_without_all_stores_must_succeed(start_imsd):
    """A copy that cannot be written: the store goes into
    os_glance_failed_import; with all_stores_must_succeed false the task
    goes on to the next store and succeeds."""
    srv, api, admin, img = cheap_cannot_write(start_imsd)
    r = do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["cheap", "third"],
                                     "all_stores_must_succeed": False})
    assert r.status_code == 202, r.text
    assert wait_task(admin, img["id"])["status"] == "success"
    got = get_image(api, img["id"])
    assert stores_of(got) == ["fast", "third"], got
    assert got["os_glance_failed_import"] == "cheap" and got["os_glance_importing_to_stores"] == ""
    r = do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["cheap"]})
    assert r.status_code == 202, r.text
    task = wait_task(admin, img["id"], n=2)
    assert task["status"] == "failure", task
    got = get_image(api, img["id"])
    assert got["status"] == "active" and stores_of(got) == ["fast", "third"]
    assert got["os_glance_failed_import"] == "cheap" and "os_glance_import_task" not in got
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA


def test_a_failing_copy_image_that_must_succeed_leaves_no_copy(start_imsd):
    """copy-image with all_stores_must_succeed (the default) into a store
    that takes the copy and then one that fails: the task fails and, as
    Glance's flow reverts each store's import, the copy already made goes
    (its data collected): only the image's own store holds it; the failing
    store is os_glance_failed_import, the reverted one not."""
    srv, api, admin, img = cheap_cannot_write(start_imsd)
    r = do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["third", "cheap"]})
    assert r.status_code == 202, r.text
    task = wait_task(admin, img["id"])
    assert task["status"] == "failure", task
    got = get_image(api, img["id"])
    assert got["status"] == "active" and stores_of(got) == ["fast"], got
    assert got["os_glance_failed_import"] == "cheap" and got["os_glance_importing_to_stores"] == ""
    assert "os_glance_import_task" not in got
    deadline = time.monotonic() + 30
    while blobs_of(srv, "third") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert blobs_of(srv, "third") == [] and blobs_of(srv, "cheap") == []
    assert len(blobs_of(srv, "fast")) == 1
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA


def break_store(srv, store):
    """store's temporary area replaced by a file: its writers cannot open,
    so a copy into it fails."""
    tmp = srv.data_dir / "stores" / store / "tmp"
    os.rmdir(tmp)
    tmp.write_text("not a directory")


def wait_no_blobs(srv, *stores):
    """The stores' data collected (released blobs go after the commit)."""
    deadline = time.monotonic() + 30
    while any(blobs_of(srv, s) for s in stores) and time.monotonic() < deadline:
        time.sleep(0.1)
    return {s: blobs_of(srv, s) for s in stores}


def assert_reverted(api, srv, image_id, failed):
    """A failed import whose every store had to succeed, reverted as
    Glance's flow: the image queued without data, digests or stores, the
    failing store in os_glance_failed_import, no data left anywhere."""
    got = get_image(api, image_id)
    assert got["status"] == "queued" and stores_of(got) == [], got
    assert got.get("checksum") is None and got.get("os_hash_value") is None and got.get("size") is None, got
    assert got["os_glance_failed_import"] == failed and got["os_glance_importing_to_stores"] == "", got
    assert "os_glance_import_task" not in got
    assert wait_no_blobs(srv, "fast", "cheap") == {"fast": [], "cheap": []}
    assert api.get("/v2/images/%s/file" % image_id).status_code != 200


def test_glance_direct_that_must_succeed_is_active_after_the_last_store(start_imsd, monkeypatch):
    """glance-direct into two stores with all_stores_must_succeed (the
    default): as Glance's set_active (true for the last store only), the
    image holds the first store's data while it is still importing, and is
    active only once the last store has it. Each job step is followed by a
    pause (IMSD_TEST_JOB_DELAY_MS), so the state between the two stores is
    seen; every state seen is checked, none is waited for by time."""
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "3000")
    srv = start_imsd(config={"stores": {"enabled": "fast:file, cheap:file", "default": "fast"}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    api = srv.project_user()
    img = create_image(api, name=unique("gd"), disk_format="raw", container_format="bare")
    assert api.put("/v2/images/%s/stage" % img["id"], data=DATA, headers=OCTET).status_code == 204
    r = do_import(api, img["id"], {"method": {"name": "glance-direct"}, "stores": ["fast", "cheap"]})
    assert r.status_code == 202, r.text
    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        tasks = api.get("/v2/images/%s/tasks" % img["id"]).json()["tasks"]
        got = get_image(api, img["id"])
        if tasks and tasks[0]["status"] in ("success", "failure"):
            break
        if got.get("checksum"):  # the first store's data is the image's
            seen.append((got["status"], got["os_glance_importing_to_stores"]))
        time.sleep(0.05)
    assert tasks[0]["status"] == "success", tasks
    assert seen, "the image was never seen between its two stores"
    assert set(seen) <= {("importing", "cheap"), ("active", "")}, seen
    assert seen[0] == ("importing", "cheap"), seen
    got = get_image(api, img["id"])
    assert got["status"] == "active" and stores_of(got) == ["cheap", "fast"], got
    assert got["checksum"] == hashlib.md5(DATA).hexdigest()


def test_a_failing_glance_direct_that_must_succeed_leaves_nothing(start_imsd):
    """glance-direct into fast then a failing cheap, every store having to
    succeed: as Glance's flow reverts, the data already in fast goes and the
    image is queued again (before: active on fast's data). It can be staged
    and imported again."""
    srv = start_imsd(config={"stores": {"enabled": "fast:file, cheap:file", "default": "fast"}})
    api = srv.project_user()
    break_store(srv, "cheap")
    img = create_image(api, name=unique("gd"), disk_format="raw", container_format="bare")
    assert api.put("/v2/images/%s/stage" % img["id"], data=DATA, headers=OCTET).status_code == 204
    r = do_import(api, img["id"], {"method": {"name": "glance-direct"}, "stores": ["fast", "cheap"]})
    assert r.status_code == 202, r.text
    assert wait_task(api, img["id"])["status"] == "failure"
    assert_reverted(api, srv, img["id"], "cheap")
    # queued again: staged and imported into the store that works
    assert api.put("/v2/images/%s/stage" % img["id"], data=DATA, headers=OCTET).status_code == 204
    r = do_import(api, img["id"], {"method": {"name": "glance-direct"}, "stores": ["fast"]})
    assert r.status_code == 202, r.text
    assert wait_task(api, img["id"], n=2)["status"] == "success"
    got = get_image(api, img["id"])
    assert got["status"] == "active" and stores_of(got) == ["fast"], got
    # only the task's own stores leave os_glance_failed_import (Glance's remove_failed_stores)
    assert got["os_glance_failed_import"] == "cheap" and got["checksum"] == hashlib.md5(DATA).hexdigest()
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA


def test_a_failing_web_download_to_all_stores_leaves_nothing(start_imsd, web):
    """web-download with all_stores (fast, then a failing cheap) and
    all_stores_must_succeed: reverted the same way, the downloaded data
    gone from fast, the image queued."""
    srv = start_imsd(config={
        "stores": {"enabled": "fast:file, cheap:file", "default": "fast"},
        "import_filtering_opts": {"allowed_hosts": "127.0.0.1", "allowed_ports": str(web.server_address[1])}})
    api = srv.project_user()
    break_store(srv, "cheap")
    img = create_image(api, name=unique("wd"), disk_format="raw", container_format="bare")
    r = do_import(api, img["id"], {"method": {"name": "web-download", "uri": web.base + "/file/" + serve(DATA)},
                                   "all_stores": True, "all_stores_must_succeed": True})
    assert r.status_code == 202, r.text
    assert wait_task(api, img["id"])["status"] == "failure"
    assert_reverted(api, srv, img["id"], "cheap")


def test_all_stores_must_succeed_needs_several_stores(imsd, alice):
    """One store (no enabled_backends): Glance refuses the flag with 400."""
    img = create_image(alice, name=unique("one"), disk_format="raw", container_format="bare")
    assert alice.put("/v2/images/%s/stage" % img["id"], data=b"x" * 1024, headers=OCTET).status_code == 204
    r = do_import(alice, img["id"], {"method": {"name": "glance-direct"}, "all_stores_must_succeed": False})
    assert r.status_code == 400 and "All_stores_must_succeed can only be set with enabled_backends" in r.text, r.text
    assert get_image(alice, img["id"])["status"] == "uploading"
    assert "os_glance_import_task" not in get_image(alice, img["id"])


@pytest.mark.parametrize("enabled,default,message", [
    ("a:file, a:file", "", "given twice"),
    ("1st:file", "", "a letter first"),
    ("http:file", "", "web scheme"),
    ("a:tape", "", "not id:file"),
    ("a:file, b:file", "c", "not a store of [stores] enabled"),
])
def test_refused_store_configurations(enabled, default, message):
    srv = Server(config={"stores": {"enabled": enabled, "default": default}})
    with pytest.raises(AssertionError) as e:
        srv.start(timeout=20)
    assert message in str(e.value), str(e.value)[-2000:]
    shutil.rmtree(srv.root, ignore_errors=True)


@pytest.mark.parametrize("obs_in,message", [
    (".", "holds the file store's directory"),          # bucket "images" would be the store's blobs
    ("..", "holds the file store's directory"),
    ("images/obs", "lies in the images/ or tmp/"),      # the store's recovery would remove its objects
    ("tmp", "lies in the images/ or tmp/"),
])
def test_the_embedded_object_storage_apart_from_the_file_store(tmp_path, obs_in, message):
    """[obs] dir holding the file store's directory made its blobs a bucket
    tenants import from and export to by name; one inside the store's
    images/ or tmp/ mixed objects with its files. Both are refused at start
    (the previous build started), also for a store of [stores] enabled;
    the default <data_dir>/obs and a directory beside the store start."""
    data = tmp_path / "data"
    data.mkdir()
    obs = os.path.normpath(str(data / obs_in))
    named = tmp_path / "named"
    for config in ({"obs": {"dir": obs}},
                   {"obs": {"dir": os.path.normpath(str(named / obs_in))},
                    "stores": {"enabled": "a:file:%s" % named}}):
        srv = Server(config=config, data_dir=data)
        try:
            with pytest.raises(AssertionError) as e:
                srv.start(timeout=20)
            assert message in str(e.value), str(e.value)[-2000:]
        finally:
            shutil.rmtree(srv.root, ignore_errors=True)
    for config in (None, {"obs": {"dir": str(tmp_path / "beside")}}):
        srv = Server(config=config, data_dir=data)
        try:
            srv.start(timeout=20)
        finally:
            srv.stop()
            shutil.rmtree(srv.root, ignore_errors=True)


def test_a_refused_store_id_makes_no_directory():
    """A store id is checked before its directory, <data_dir>/stores/<id>,
    is made: an id that is a path ("../x") escaped the stores directory
    (the previous build made <data_dir>/x with its images/ and tmp/, then
    refused the id)."""
    srv = Server(config={"stores": {"enabled": "../escaped:file"}})
    try:
        with pytest.raises(AssertionError) as e:
            srv.start(timeout=20)
        assert "a letter first" in str(e.value), str(e.value)[-2000:]
        assert not (srv.data_dir / "escaped").exists()
    finally:
        shutil.rmtree(srv.root, ignore_errors=True)


def test_two_stores_on_one_directory_spelt_two_ways(tmp_path):
    """Two file stores on one directory would each remove the other's
    files at recovery: "<dir>" and "<dir>/." (or a link to it) are one
    directory and refused as one (the previous build compared the strings
    and started)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (tmp_path / "link").symlink_to(shared)
    for second in (str(shared) + "/.", str(tmp_path / "link")):
        srv = Server(config={"stores": {"enabled": "a:file:%s, b:file:%s" % (shared, second)}})
        try:
            with pytest.raises(AssertionError) as e:
                srv.start(timeout=20)
            assert "is another store's" in str(e.value), str(e.value)[-2000:]
        finally:
            shutil.rmtree(srv.root, ignore_errors=True)


def test_a_file_store_beside_an_s3_store(start_imsd, obs_s3):
    """copy-image between a file store and an S3 store (the session's Swift
    s3api server), both ways, and a download from either."""
    bucket = "ms-" + uuid.uuid4().hex[:20]
    srv = start_imsd(config={
        "stores": {"enabled": "local:file, cloud:s3", "default": "cloud"},
        "store": {"backend": "s3", "endpoint": obs_s3["S3_ENDPOINT"], "region": obs_s3["S3_REGION"],
                  "bucket": bucket, "access_key": obs_s3["S3_ACCESS_KEY"], "secret_key": obs_s3["S3_SECRET_KEY"],
                  "part_size": 5 * 1024 * 1024},
        "images": {"show_multiple_locations": "true"}})
    api, admin = srv.project_user(), srv.admin()
    assert [s["id"] for s in api.get("/v2/info/stores").json()["stores"]] == ["cloud", "local"]
    img = active(api)
    assert stores_of(img) == ["cloud"] and img["locations"][0]["url"].startswith("cloud://")
    assert do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["local"]}).status_code == 202
    assert wait_task(admin, img["id"])["status"] == "success"
    assert stores_of(get_image(api, img["id"])) == ["cloud", "local"]
    assert [f.read_bytes() == DATA for f in blobs_of(srv, "local")] == [True]
    assert admin.delete("/v2/stores/cloud/%s" % img["id"]).status_code == 204
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA
    assert do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["cloud"]}).status_code == 202
    assert wait_task(admin, img["id"], n=2)["status"] == "success"
    got = get_image(api, img["id"])
    assert stores_of(got) == ["cloud", "local"]
    assert admin.delete("/v2/stores/local/%s" % img["id"]).status_code == 204
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA


def test_location_patches_with_a_location_in_each_store(start_imsd, obs_s3):
    """PATCH of /locations on an image whose data is in two stores (its own
    location and a copy): a replace with the same URLs changes their
    metadata; removing one (an administrator's, Glance's
    delete_image_location) leaves the other, the last one stays (403); an
    add names the same data in a store holding none of it, and only the
    image's own data."""
    bucket = "mloc-" + uuid.uuid4().hex[:20]
    srv = start_imsd(config={
        "stores": {"enabled": "local:file, cloud:s3", "default": "cloud"},
        "store": {"backend": "s3", "endpoint": obs_s3["S3_ENDPOINT"], "region": obs_s3["S3_REGION"],
                  "bucket": bucket, "access_key": obs_s3["S3_ACCESS_KEY"], "secret_key": obs_s3["S3_SECRET_KEY"]},
        "images": {"show_multiple_locations": "true"}})
    api, admin = srv.project_user(), srv.admin()
    img = active(api)
    assert do_import(admin, img["id"], {"method": {"name": "copy-image"}, "stores": ["local"]}).status_code == 202
    assert wait_task(admin, img["id"])["status"] == "success"
    locs = get_image(api, img["id"])["locations"]
    assert [l["metadata"]["store"] for l in locs] == ["cloud", "local"], locs

    def patch_locs(who, *ops):
        return who.patch("/v2/images/%s" % img["id"], json=list(ops), headers={"Content-Type": PATCH_21})

    # the same URLs, in another order: only their metadata
    value = [{"url": locs[1]["url"], "metadata": {"zone": "b"}}, {"url": locs[0]["url"], "metadata": {"zone": "a"}}]
    r = patch_locs(api, {"op": "replace", "path": "/locations", "value": value})
    assert r.status_code == 200, r.text
    assert [l["metadata"] for l in r.json()["locations"]] == [{"zone": "a"}, {"zone": "b"}]
    r = patch_locs(api, {"op": "replace", "path": "/locations", "value": value[:1]})
    assert r.status_code == 400 and "Original locations is not empty" in r.text, r.text
    # removal: the admin's; the own location's place taken by the copy
    r = patch_locs(api, {"op": "remove", "path": "/locations/1"})
    assert r.status_code == 403 and "delete_image_location" in r.text, r.text
    r = patch_locs(admin, {"op": "remove", "path": "/locations/2"})
    assert r.status_code == 400 and "Invalid position" in r.text, r.text
    r = patch_locs(admin, {"op": "remove", "path": "/locations/0"})
    assert r.status_code == 200, r.text
    assert r.json()["locations"] == [{"url": locs[1]["url"], "metadata": {"zone": "b"}}]
    assert stores_of(r.json()) == ["local"]
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA
    r = patch_locs(admin, {"op": "remove", "path": "/locations/0"})
    assert r.status_code == 403 and "Cannot remove last location in the image." in r.text, r.text
    # an add in the store holding none of it: the same data only
    same, other = active(api), active(api, data=DATA[::-1])
    for x in (same, other):
        assert x["locations"][0]["url"].startswith("cloud://"), x
    r = patch_locs(api, {"op": "add", "path": "/locations/-",
                         "value": {"url": other["locations"][0]["url"], "metadata": {}}})
    assert r.status_code == 400 and "is not image" in r.text, r.text
    r = patch_locs(api, {"op": "add", "path": "/locations/-",
                         "value": {"url": same["locations"][0]["url"], "metadata": {}}})
    assert r.status_code == 200, r.text
    got = r.json()
    assert stores_of(got) == ["cloud", "local"] and len(got["locations"]) == 2, got
    # a second location in one store: refused
    again = active(api)
    r = patch_locs(api, {"op": "add", "path": "/locations/-",
                         "value": {"url": again["locations"][0]["url"], "metadata": {}}})
    assert r.status_code == 400 and "one location per store" in r.text, r.text
    # the data the admin removed is collected: the S3 copy is only the one just added
    assert admin.delete("/v2/stores/local/%s" % img["id"]).status_code == 204
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA
