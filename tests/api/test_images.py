"""Glance v2 image CRUD: POST/GET/DELETE/PATCH /v2/images and actions."""
import re
import uuid

import pytest

from helpers import (PATCH_20, PATCH_21, active_image, create_image, get_image,
                     list_ids, patch, unique, upload)

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# ---------------------------------------------------------------- create
def test_create_defaults(alice):
    name = unique("defaults")
    r = alice.post("/v2/images", json={"name": name})
    assert r.status_code == 201, r.text
    img = r.json()
    uuid.UUID(img["id"])
    assert img["name"] == name
    assert img["status"] == "queued"
    assert img["visibility"] == "shared"
    assert img["protected"] is False
    assert img["os_hidden"] is False
    assert img["size"] is None
    assert img["virtual_size"] is None
    assert img["checksum"] is None
    assert img["os_hash_algo"] is None
    assert img["os_hash_value"] is None
    assert img["tags"] == []
    assert img["min_disk"] == 0
    assert img["min_ram"] == 0
    assert img["owner"] == alice.project_id
    assert img["self"] == "/v2/images/%s" % img["id"]
    assert img["file"] == "/v2/images/%s/file" % img["id"]
    assert img["schema"] == "/v2/schemas/image"
    assert TIME_RE.match(img["created_at"]), img["created_at"]
    assert TIME_RE.match(img["updated_at"]), img["updated_at"]
    assert img["enterprise_project_id"] == "0"
    assert r.headers["Content-Type"].startswith("application/json")
    # GET returns the same document
    got = get_image(alice, img["id"])
    for k in ("id", "name", "status", "visibility", "owner", "created_at", "tags",
              "self", "file", "schema", "enterprise_project_id", "min_disk"):
        assert got[k] == img[k], k


def test_create_without_body_fields(alice):
    r = alice.post("/v2/images", json={})
    assert r.status_code == 201, r.text
    img = r.json()
    assert img["status"] == "queued"
    assert img.get("name") is None


def test_create_core_fields_echoed(alice):
    body = {"name": unique("core"), "disk_format": "qcow2", "container_format": "bare",
            "min_disk": 10, "min_ram": 512, "protected": False,
            "tags": ["red", "blue"], "visibility": "private"}
    img = create_image(alice, **body)
    for k, v in body.items():
        if k == "tags":
            assert sorted(img[k]) == sorted(v)
        else:
            assert img[k] == v, k
    got = get_image(alice, img["id"])
    assert got["disk_format"] == "qcow2"
    assert got["min_ram"] == 512
    assert sorted(got["tags"]) == ["blue", "red"]


@pytest.mark.parametrize("vis", ["private", "shared", "community"])
def test_create_visibility_non_admin(alice, vis):
    img = create_image(alice, visibility=vis)
    assert img["visibility"] == vis


def test_create_public_requires_admin(alice, admin):
    r = alice.post("/v2/images", json={"name": unique("pub"), "visibility": "public"})
    assert r.status_code == 403, r.text
    img = create_image(admin, visibility="public")
    assert img["visibility"] == "public"


def test_custom_properties_echoed_and_stored(alice):
    img = create_image(alice, hw_disk_bus="scsi", my_prop="my value", another="x")
    assert img["hw_disk_bus"] == "scsi"
    assert img["my_prop"] == "my value"
    got = get_image(alice, img["id"])
    assert got["my_prop"] == "my value"
    assert got["another"] == "x"


def test_ims_attributes_stored(alice):
    img = create_image(alice, __os_version="Ubuntu 14.04 server 64bit",
                       __platform="Ubuntu", __os_type="Linux", __os_bit="64")
    assert img["__os_version"] == "Ubuntu 14.04 server 64bit"
    assert img["__platform"] == "Ubuntu"
    got = get_image(alice, img["id"])
    assert got["__os_version"] == "Ubuntu 14.04 server 64bit"
    assert got["__platform"] == "Ubuntu"
    assert got["__os_type"] == "Linux"
    assert got["__os_bit"] == "64"


def test_enterprise_project_id_given(alice):
    img = create_image(alice, enterprise_project_id="0")
    assert img["enterprise_project_id"] == "0"


def test_create_non_json_400(alice):
    r = alice.post("/v2/images", data="this is not json",
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = alice.post("/v2/images", data='{"name": "x"',
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_create_body_not_object_400(alice):
    for body in ([], "name", 5, None):
        r = alice.post("/v2/images", json=body)
        assert r.status_code == 400, (body, r.status_code, r.text)


@pytest.mark.parametrize("body", [
    {"name": 123},
    {"min_ram": "abc"},
    {"min_disk": "10"},
    {"min_disk": -1},
    {"min_ram": -5},
    {"protected": "yes"},
    {"os_hidden": "no"},
    {"tags": "not-a-list"},
    {"tags": [1, 2]},
    {"name": "x" * 256},
    {"my_custom_prop": 5},
    {"visibility": "bogus"},
    {"visibility": None},
    {"disk_format": "floppy"},
    {"container_format": "crate"},
])
def test_create_bad_values_400(alice, body):
    r = alice.post("/v2/images", json=body)
    assert r.status_code == 400, (body, r.status_code, r.text)


@pytest.mark.parametrize("attr,value", [
    ("status", "active"),
    ("created_at", "2020-01-01T00:00:00Z"),
    ("updated_at", "2020-01-01T00:00:00Z"),
    ("size", 10),
    ("virtual_size", 10),
    ("checksum", "d41d8cd98f00b204e9800998ecf8427e"),
    ("os_hash_algo", "sha512"),
    ("os_hash_value", "00"),
    ("self", "/v2/images/x"),
    ("file", "/v2/images/x/file"),
    ("schema", "/v2/schemas/image"),
    ("deleted", "False"),
])
def test_create_read_only_or_reserved_403(alice, attr, value):
    r = alice.post("/v2/images", json={"name": unique("ro"), attr: value})
    assert r.status_code == 403, (attr, r.status_code, r.text)


def test_create_with_client_id(alice):
    iid = str(uuid.uuid4())
    img = create_image(alice, id=iid)
    assert img["id"] == iid
    assert get_image(alice, iid)["id"] == iid
    r = alice.post("/v2/images", json={"id": iid, "name": "dup"})
    assert r.status_code == 409, r.text


def test_create_with_client_id_conflict_across_projects(alice, bob):
    iid = str(uuid.uuid4())
    create_image(alice, id=iid, visibility="private")
    r = bob.post("/v2/images", json={"id": iid})
    assert r.status_code == 409


def test_create_with_invalid_id_400(alice):
    r = alice.post("/v2/images", json={"id": "not-a-uuid"})
    assert r.status_code == 400


def test_create_requires_token(imsd):
    from helpers import Api
    r = Api(imsd.url).post("/v2/images", json={"name": "x"})
    assert r.status_code == 401


# ---------------------------------------------------------------- get
def test_get_unknown_404(alice):
    r = alice.get("/v2/images/%s" % uuid.uuid4())
    assert r.status_code == 404


def test_get_non_uuid_404(alice):
    r = alice.get("/v2/images/nonexistent-image")
    assert r.status_code == 404


def test_get_other_projects_private_image_404(alice, bob, admin):
    for vis in ("private", "shared"):
        img = create_image(alice, visibility=vis)
        r = bob.get("/v2/images/%s" % img["id"])
        assert r.status_code == 404, (vis, r.status_code)
        # the admin sees everything
        assert get_image(admin, img["id"])["owner"] == alice.project_id


def test_get_other_projects_public_and_community_image(alice, bob, admin):
    pub = create_image(admin, visibility="public")
    assert get_image(bob, pub["id"])["visibility"] == "public"
    com = create_image(alice, visibility="community")
    assert get_image(bob, com["id"])["visibility"] == "community"


# ---------------------------------------------------------------- delete
def test_delete(alice):
    img = create_image(alice)
    r = alice.delete("/v2/images/%s" % img["id"])
    assert r.status_code == 204
    assert alice.get("/v2/images/%s" % img["id"]).status_code == 404
    assert alice.delete("/v2/images/%s" % img["id"]).status_code == 404


def test_delete_active_image_with_data(alice):
    img = active_image(alice, data=b"x" * 1000)
    assert alice.delete("/v2/images/%s" % img["id"]).status_code == 204
    assert alice.get("/v2/images/%s/file" % img["id"]).status_code == 404


def test_delete_unknown_404(alice):
    assert alice.delete("/v2/images/%s" % uuid.uuid4()).status_code == 404


def test_delete_protected_403(alice):
    img = create_image(alice, protected=True)
    r = alice.delete("/v2/images/%s" % img["id"])
    assert r.status_code == 403
    assert get_image(alice, img["id"])["protected"] is True
    r = patch(alice, img["id"], [{"op": "replace", "path": "/protected", "value": False}])
    assert r.status_code == 200, r.text
    assert alice.delete("/v2/images/%s" % img["id"]).status_code == 204


def test_delete_other_projects_image(alice, bob, admin):
    img = create_image(alice, visibility="private")
    assert bob.delete("/v2/images/%s" % img["id"]).status_code == 404
    pub = create_image(admin, visibility="public")
    assert bob.delete("/v2/images/%s" % pub["id"]).status_code == 403
    assert get_image(admin, pub["id"])["status"] == "queued"
    com = create_image(alice, visibility="community")
    assert bob.delete("/v2/images/%s" % com["id"]).status_code == 403
    # admin may delete anything
    assert admin.delete("/v2/images/%s" % img["id"]).status_code == 204


# ---------------------------------------------------------------- PATCH
def test_patch_v21_core_and_custom(alice):
    img = create_image(alice, keepme="k", dropme="d", changeme="old")
    new_name = unique("renamed")
    r = patch(alice, img["id"], [
        {"op": "replace", "path": "/name", "value": new_name},
        {"op": "replace", "path": "/min_ram", "value": 256},
        {"op": "add", "path": "/min_disk", "value": 3},
        {"op": "add", "path": "/newprop", "value": "new"},
        {"op": "replace", "path": "/changeme", "value": "new"},
        {"op": "remove", "path": "/dropme"},
        {"op": "replace", "path": "/disk_format", "value": "qcow2"},
        {"op": "replace", "path": "/container_format", "value": "bare"},
        {"op": "replace", "path": "/tags", "value": ["t1", "t2"]},
        {"op": "replace", "path": "/visibility", "value": "private"},
    ])
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    out = r.json()
    assert out["name"] == new_name
    assert out["min_ram"] == 256
    assert out["min_disk"] == 3
    assert out["newprop"] == "new"
    assert out["changeme"] == "new"
    assert out["keepme"] == "k"
    assert "dropme" not in out
    assert out["disk_format"] == "qcow2"
    assert sorted(out["tags"]) == ["t1", "t2"]
    assert out["visibility"] == "private"
    got = get_image(alice, img["id"])
    assert got["name"] == new_name and got["newprop"] == "new" and "dropme" not in got


def test_patch_v21_add_existing_replaces(alice):
    img = create_image(alice, prop="one")
    r = patch(alice, img["id"], [{"op": "add", "path": "/prop", "value": "two"}])
    assert r.status_code == 200, r.text
    assert r.json()["prop"] == "two"


def test_patch_v20_draft4_format(alice):
    img = create_image(alice, dropme="d", changeme="old")
    new_name = unique("v20")
    r = patch(alice, img["id"], [
        {"replace": "/name", "value": new_name},
        {"add": "/added", "value": "yes"},
        {"replace": "/changeme", "value": "new"},
        {"remove": "/dropme"},
    ], media=PATCH_20)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["name"] == new_name
    assert out["added"] == "yes"
    assert out["changeme"] == "new"
    assert "dropme" not in out


def test_patch_v20_add_existing_409(alice):
    img = create_image(alice, prop="one")
    r = patch(alice, img["id"], [{"add": "/prop", "value": "two"}], media=PATCH_20)
    assert r.status_code == 409, r.text


def test_patch_ims_attribute(alice):
    img = create_image(alice, __os_version="Ubuntu 14.04 server 64bit")
    r = patch(alice, img["id"], [{"op": "replace", "path": "/__os_version",
                                  "value": "CentOS 7.6 64bit"}])
    assert r.status_code == 200, r.text
    assert get_image(alice, img["id"])["__os_version"] == "CentOS 7.6 64bit"


@pytest.mark.parametrize("path,value", [
    ("/status", "active"),
    ("/id", "5a0d0c1f-2b8e-4b4f-8c2c-2e1c1e1c1e1c"),
    ("/size", 5),
    ("/checksum", "d41d8cd98f00b204e9800998ecf8427e"),
    ("/created_at", "2020-01-01T00:00:00Z"),
    ("/updated_at", "2020-01-01T00:00:00Z"),
    ("/os_hash_value", "00"),
    ("/self", "/v2/images/x"),
    ("/file", "/v2/images/x/file"),
    ("/schema", "/x"),
])
def test_patch_read_only_403(alice, path, value):
    img = create_image(alice)
    r = patch(alice, img["id"], [{"op": "replace", "path": path, "value": value}])
    assert r.status_code == 403, (path, r.status_code, r.text)
    assert get_image(alice, img["id"])["status"] == "queued"


def test_patch_remove_core_property_403(alice):
    img = create_image(alice, name=unique("core"))
    r = patch(alice, img["id"], [{"op": "remove", "path": "/name"}])
    assert r.status_code == 403, r.text


def test_patch_missing_custom_property_409(alice):
    img = create_image(alice)
    r = patch(alice, img["id"], [{"op": "remove", "path": "/nope"}])
    assert r.status_code == 409, r.text
    r = patch(alice, img["id"], [{"op": "replace", "path": "/nope", "value": "x"}])
    assert r.status_code == 409, r.text


def test_patch_wrong_content_type_415(alice):
    img = create_image(alice)
    ops = [{"op": "replace", "path": "/name", "value": "x"}]
    for ct in ("application/json", "application/json-patch+json", "text/plain"):
        r = alice.patch("/v2/images/%s" % img["id"], json=ops,
                        headers={"Content-Type": ct})
        assert r.status_code == 415, (ct, r.status_code)
    assert get_image(alice, img["id"])["name"] == img["name"]


def test_patch_bad_json_400(alice):
    img = create_image(alice)
    r = alice.patch("/v2/images/%s" % img["id"], data="[{not json",
                    headers={"Content-Type": PATCH_21})
    assert r.status_code == 400


@pytest.mark.parametrize("ops", [
    {"op": "replace", "path": "/name", "value": "x"},       # not a list
    [{"op": "frobnicate", "path": "/name", "value": "x"}],  # unknown op
    [{"op": "replace", "path": "name", "value": "x"}],      # not a pointer
    [{"op": "replace", "value": "x"}],                      # no path
    [{"op": "replace", "path": "/name"}],                   # no value
    [{"op": "replace", "path": "/visibility", "value": "bogus"}],
    [{"op": "replace", "path": "/min_ram", "value": "many"}],
    [{"op": "replace", "path": "/protected", "value": "yes"}],
    [{"op": "add", "path": "/custom", "value": 5}],
    [{"op": "replace", "path": "/disk_format", "value": "floppy"}],
    [{"op": "replace", "path": "/name", "value": "x" * 256}],
])
def test_patch_bad_ops_400(alice, ops):
    img = create_image(alice)
    r = patch(alice, img["id"], ops)
    assert r.status_code == 400, (ops, r.status_code, r.text)


def test_patch_is_atomic(alice):
    img = create_image(alice, name="before")
    r = patch(alice, img["id"], [
        {"op": "replace", "path": "/name", "value": "after"},
        {"op": "replace", "path": "/status", "value": "active"},
    ])
    assert r.status_code == 403
    assert get_image(alice, img["id"])["name"] == "before"


def test_patch_other_projects_image(alice, bob):
    img = create_image(alice, visibility="private")
    r = patch(bob, img["id"], [{"op": "replace", "path": "/name", "value": "x"}])
    assert r.status_code == 404
    com = create_image(alice, visibility="community")
    r = patch(bob, com["id"], [{"op": "replace", "path": "/name", "value": "x"}])
    assert r.status_code == 403


def test_patch_unknown_image_404(alice):
    r = patch(alice, str(uuid.uuid4()), [{"op": "replace", "path": "/name", "value": "x"}])
    assert r.status_code == 404


def test_patch_publicize_requires_admin(alice, admin):
    img = create_image(alice)
    r = patch(alice, img["id"], [{"op": "replace", "path": "/visibility", "value": "public"}])
    assert r.status_code == 403
    r = patch(admin, img["id"], [{"op": "replace", "path": "/visibility", "value": "public"}])
    assert r.status_code == 200, r.text
    assert r.json()["visibility"] == "public"


def test_patch_hide_image(alice):
    img = create_image(alice)
    r = patch(alice, img["id"], [{"op": "replace", "path": "/os_hidden", "value": True}])
    assert r.status_code == 200, r.text
    assert r.json()["os_hidden"] is True


# ---------------------------------------------------------------- actions
def test_deactivate_reactivate(alice, admin):
    data = b"deactivate me" * 100
    img = active_image(alice, data=data)
    iid = img["id"]
    r = admin.post("/v2/images/%s/actions/deactivate" % iid)
    assert r.status_code == 204, r.text
    assert get_image(alice, iid)["status"] == "deactivated"
    # the (non-admin) owner may not download a deactivated image ...
    assert alice.get("/v2/images/%s/file" % iid).status_code == 403
    # ... the admin may (Glance lets admins download deactivated images)
    r = admin.get("/v2/images/%s/file" % iid)
    assert r.status_code == 200 and r.content == data
    # deactivating twice is a no-op
    assert admin.post("/v2/images/%s/actions/deactivate" % iid).status_code == 204
    r = admin.post("/v2/images/%s/actions/reactivate" % iid)
    assert r.status_code == 204, r.text
    assert get_image(alice, iid)["status"] == "active"
    r = alice.get("/v2/images/%s/file" % iid)
    assert r.status_code == 200 and r.content == data
    # reactivating an active image is a no-op
    assert admin.post("/v2/images/%s/actions/reactivate" % iid).status_code == 204


def test_project_deactivates_and_reactivates_its_image(alice, bob, admin):
    """Glance 25: the image's project (or an admin) may; others may not."""
    data = b"own deactivation" * 64
    name = unique("deact")
    img = active_image(alice, data=data, visibility="shared", name=name)
    iid = img["id"]
    r = alice.post("/v2/images/%s/members" % iid, json={"member": bob.project_id})
    assert r.status_code == 200, r.text
    # another project that sees the image (a member) may not deactivate it
    r = bob.post("/v2/images/%s/actions/deactivate" % iid)
    assert r.status_code == 403 and "deactivate" in r.json()["message"], r.text
    r = alice.post("/v2/images/%s/actions/deactivate" % iid)
    assert r.status_code == 204, r.text
    assert get_image(alice, iid)["status"] == "deactivated"
    # nobody but an admin downloads a deactivated image, the owner neither
    for api in (alice, bob):
        r = api.get("/v2/images/%s/file" % iid)
        assert r.status_code == 403 and "deactivated" in r.json()["message"], r.text
    r = admin.get("/v2/images/%s/file" % iid)
    assert r.status_code == 200 and r.content == data
    # lists and filters show it (by name: other tests' images do not page it out)
    assert list_ids(alice, name=name) == [iid]
    assert list_ids(alice, name=name, status="deactivated") == [iid]
    assert list_ids(alice, name=name, status="active") == []
    r = alice.get("/v2/cloudimages", params={"status": "deactivated", "id": iid})
    assert r.status_code == 200, r.text
    assert [i["status"] for i in r.json()["images"]] == ["deactivated"]
    assert bob.post("/v2/images/%s/actions/reactivate" % iid).status_code == 403
    r = alice.post("/v2/images/%s/actions/reactivate" % iid)
    assert r.status_code == 204, r.text
    assert get_image(alice, iid)["status"] == "active"
    assert alice.get("/v2/images/%s/file" % iid).content == data
    assert list_ids(alice, name=name, status="active") == [iid]


def test_deactivate_image_not_seen_404(alice, bob):
    img = active_image(alice)
    assert bob.post("/v2/images/%s/actions/deactivate" % img["id"]).status_code == 404
    assert bob.post("/v2/images/%s/actions/reactivate" % img["id"]).status_code == 404
    assert get_image(alice, img["id"])["status"] == "active"


def test_admin_deactivates_any_image(alice, admin):
    img = active_image(alice)
    assert admin.post("/v2/images/%s/actions/deactivate" % img["id"]).status_code == 204
    assert get_image(alice, img["id"])["status"] == "deactivated"
    assert admin.post("/v2/images/%s/actions/reactivate" % img["id"]).status_code == 204


def test_deactivate_queued_image_403(admin):
    img = create_image(admin)
    r = admin.post("/v2/images/%s/actions/deactivate" % img["id"])
    assert r.status_code == 403
    r = admin.post("/v2/images/%s/actions/reactivate" % img["id"])
    assert r.status_code == 403
    assert get_image(admin, img["id"])["status"] == "queued"


def test_deactivate_unknown_404(admin):
    r = admin.post("/v2/images/%s/actions/deactivate" % uuid.uuid4())
    assert r.status_code == 404


def test_deactivated_image_cannot_get_new_data(alice, admin):
    img = active_image(alice, data=b"abc")
    assert admin.post("/v2/images/%s/actions/deactivate" % img["id"]).status_code == 204
    r = upload(alice, img["id"], b"other")
    assert r.status_code in (403, 409)
    assert get_image(alice, img["id"])["checksum"] == img["checksum"]
