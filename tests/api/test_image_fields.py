"""Every field the IMS reference documents for an image, with its type, in
every API's answer (spec/image-fields.tsv, written from the reference's
response tables and examples by scripts/extract-image-fields.py): images
made by each path (native create and upload, IMS import from an
object-storage file, quick import, data image, copy, from a server) are
read through GET /v2/images/{id}, the native list, GET /v2/cloudimages,
GET /v1.1/images/detail and the two PATCH answers, and each document must
carry each of its API's fields with the documented type."""
import subprocess
from pathlib import Path

import pytest

from helpers import unique, upload
from job_helpers import submit, wait_job

SPEC = Path(__file__).resolve().parents[2] / "spec" / "image-fields.tsv"
MIB = 1 << 20
BUCKET = "fields"
OS = "Ubuntu 22.04 server 64bit"
PY = {"string": str, "integer": int, "boolean": bool, "array": list, "object": dict}


def spec():
    out = {}
    for line in SPEC.read_text().splitlines():
        if line.startswith("#") or line.startswith("api\t"):
            continue
        api, field, typ, nullable, _ = line.split("\t")
        out.setdefault(api, {})[field] = (typ, nullable == "yes")
    return out


FIELDS = spec()


def check(api_name, doc, where):
    """Every documented field present, with the documented type."""
    missing = [f for f in FIELDS[api_name] if f not in doc]
    assert not missing, "%s (%s) lacks %s" % (api_name, where, missing)
    for field, (typ, nullable) in FIELDS[api_name].items():
        v = doc[field]
        if v is None:
            assert nullable, "%s (%s): %s is null, documented as %s" % (api_name, where, field, typ)
            continue
        ok = isinstance(v, PY[typ]) and not (typ == "integer" and isinstance(v, bool))
        assert ok, "%s (%s): %s is %r, documented as %s" % (api_name, where, field, v, typ)


def test_the_data_file_covers_every_api():
    assert set(FIELDS) == {"glance_create", "glance_show", "glance_list", "glance_update", "ims_list",
                           "ims_update", "v1.1_list"}
    # the fields the issue names, in the IMS answers
    for f in ("__description", "__originalimagename", "__productcode", "__data_origin", "__lazyloading",
              "__support_fc_inject", "hw_firmware_type", "hw_vif_multiqueue_enabled"):
        assert f in FIELDS["ims_update"], f
    assert FIELDS["glance_show"]["virtual_size"] == ("integer", True)


def qemu_img(*args):
    r = subprocess.run(["qemu-img"] + [str(a) for a in args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture(scope="module")
def srv(module_imsd):
    return module_imsd()


@pytest.fixture(scope="module")
def api(srv):
    return srv.project_user()


@pytest.fixture(scope="module")
def disks(tmp_path_factory):
    d = tmp_path_factory.mktemp("field-disks")
    raw = d / "disk.raw"
    raw.write_bytes(b"\x5a" * MIB + b"\0" * MIB)
    qcow = d / "disk.qcow2"
    qemu_img("convert", "-f", "raw", "-O", "qcow2", raw, qcow)
    return {"raw": raw, "qcow2": qcow}


def job_images(api, url, body):
    job = wait_job(api, submit(api, "POST", url, body), timeout=120)
    assert job["status"] == "SUCCESS", job
    ent = job["entities"]
    ids = [ent["image_id"]]
    for sub in ent.get("sub_jobs_result") or []:
        ids.append(sub["entities"]["image_id"])
    return ids


@pytest.fixture(scope="module")
def made(srv, api, disks):
    """path name -> image ids made by that path (all active)."""
    out = {}
    # native create (its answer checked against the create API) and upload
    r = api.post("/v2/images", json={"name": unique("native"), "disk_format": "raw", "container_format": "bare"})
    assert r.status_code == 201, r.text
    check("glance_create", r.json(), "native create")
    native = r.json()["id"]
    assert upload(api, native, disks["raw"].read_bytes()).status_code == 204
    out["native"] = [native]

    srv.imsctl("obs", "mb", BUCKET)
    srv.imsctl("obs", "put", BUCKET, "sys.qcow2", str(disks["qcow2"]))
    srv.imsctl("obs", "put", BUCKET, "sys.raw", str(disks["raw"]))
    out["import"] = job_images(api, "/v2/cloudimages/action", {
        "name": unique("imp"), "image_url": BUCKET + ":sys.qcow2", "os_version": "CentOS 7.6 64bit",
        "min_disk": 1, "data_images": [{"name": unique("imp-d"), "image_url": BUCKET + ":sys.raw", "min_disk": 1}]})
    out["quick"] = job_images(api, "/v2/cloudimages/quickimport/action", {
        "name": unique("quick"), "image_url": BUCKET + ":sys.raw", "os_version": "CentOS 7.6 64bit",
        "min_disk": 1, "type": "ECS"})
    out["data"] = job_images(api, "/v1/cloudimages/dataimages/action", {
        "name": unique("data"), "image_url": BUCKET + ":sys.qcow2", "min_disk": 40})
    out["copy"] = job_images(api, "/v1/cloudimages/%s/copy" % native, {"name": unique("copy")})
    ids = srv.imsctl("server", "add", unique("srv"), "--project", api.project_name, "--os-version", OS,
                     "--disk", str(disks["qcow2"]), "--disk", str(disks["raw"])).split("\n")
    out["server"] = job_images(api, "/v2/cloudimages/action", {
        "name": unique("srvimg"), "instance_id": ids[0],
        "data_images": [{"name": unique("srv-d"), "volume_id": ids[2]}]})
    return out


PATHS = ["native", "import", "quick", "data", "copy", "server"]


@pytest.mark.parametrize("path", PATHS)
def test_every_documented_field_in_every_api(api, made, path):
    for image_id in made[path]:
        where = "%s image %s" % (path, image_id)
        r = api.get("/v2/images/%s" % image_id)
        assert r.status_code == 200, r.text
        img = r.json()
        assert img["status"] == "active", img
        check("glance_show", img, where)
        name = img["name"]

        r = api.get("/v2/images", params={"name": name})
        assert r.status_code == 200, r.text
        [listed] = r.json()["images"]
        check("glance_list", listed, where)

        r = api.get("/v2/cloudimages", params={"name": name})
        assert r.status_code == 200, r.text
        [listed] = r.json()["images"]
        check("ims_list", listed, where)

        r = api.get("/v1.1/images/detail", params={"name": name})
        assert r.status_code == 200, r.text
        [listed] = r.json()["images"]
        check("v1.1_list", listed, where)

        r = api.patch("/v2/images/%s" % image_id, json=[{"op": "add", "path": "/fields_seen", "value": "1"}],
                      headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
        assert r.status_code == 200, r.text
        check("glance_update", r.json(), where)

        r = api.patch("/v2/cloudimages/%s" % image_id,
                      json=[{"op": "replace", "path": "/__description", "value": "seen"}])
        assert r.status_code == 200, r.text
        check("ims_update", r.json(), where)
        assert r.json()["__description"] == "seen"

        # what the fields say of an active image: its sizes known, when it became active
        assert isinstance(img["virtual_size"], int) and img["virtual_size"] > 0, img["virtual_size"]
        assert img["active_at"] >= img["created_at"], img
        assert img["_sys_enterprise_project_id"] == img["enterprise_project_id"]


def test_meaningful_values_by_path(api, made):
    """Values the paths give (the rest are the reference's defaults)."""
    def get(i):
        return api.get("/v2/images/%s" % i).json()
    native = get(made["native"][0])
    assert native["__data_origin"] == "" and native["__originalimagename"] == ""
    assert native["hw_firmware_type"] == "bios" and native["__lazyloading"] == "false"
    assert native["__os_version"] == "Other(64 bit)"
    assert get(made["copy"][0])["__originalimagename"] == native["id"]
    imported = get(made["import"][0])
    assert imported["__data_origin"].startswith("file,") and imported["__root_origin"] == "file"
    assert get(made["server"][0])["__data_origin"].startswith("instance,")
    # a tenant cannot write what the service records
    r = api.patch("/v2/images/%s" % native["id"], json=[{"op": "replace", "path": "/active_at", "value": "x"}],
                  headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert r.status_code == 403, r.text


def test_defaults_are_shown_filtered_and_patched_without_being_stored(srv, api):
    """The documented attributes an image shows by default are not property
    rows (every read of every image would pay for them): filters match an
    image without the row as its default, PATCH replaces and removes them,
    and they leave the whole allowance of properties to the client."""
    from helpers import PATCH_21, create_image
    plain = create_image(api, name=unique("dflt"))
    kvm = create_image(api, name=unique("dflt"))
    r = api.patch("/v2/images/%s" % kvm["id"], json=[{"op": "replace", "path": "/__support_kvm", "value": "true"}],
                  headers={"Content-Type": PATCH_21})
    assert r.status_code == 200 and r.json()["__support_kvm"] == "true", r.text

    def ids(path):
        r = api.get(path)
        assert r.status_code == 200, r.text
        return {i["id"] for i in r.json()["images"]}
    for base in ("/v2/images?", "/v2/cloudimages?"):
        assert plain["id"] in ids(base + "__support_kvm=false") and kvm["id"] not in ids(base + "__support_kvm=false")
        assert kvm["id"] in ids(base + "__support_kvm=true") and plain["id"] not in ids(base + "__support_kvm=true")
    # removing a shown attribute shows its default again
    r = api.patch("/v2/images/%s" % kvm["id"], json=[{"op": "remove", "path": "/__support_kvm"}],
                  headers={"Content-Type": PATCH_21})
    assert r.status_code == 200 and r.json()["__support_kvm"] == "false", r.text
    # nothing stored: of the 128 properties an image may have (IMS_IMAGE_PROPS_MAX)
    # the ~30 shown defaults take none; the 10 attributes kept in columns count
    ops = [{"op": "add", "path": "/p%03d" % i, "value": "v"} for i in range(110)]
    r = api.patch("/v2/images/%s" % plain["id"], json=ops, headers={"Content-Type": PATCH_21})
    assert r.status_code == 200, r.text
    assert r.json()["p109"] == "v" and r.json()["__lazyloading"] == "false"
