"""GET /v2/schemas/*: JSON schema documents usable by glanceclient."""
import io

import jsonschema
import pytest

from helpers import active_image, create_image

IMAGE_PROPS = {"id", "name", "status", "visibility", "protected", "os_hidden",
               "checksum", "os_hash_algo", "os_hash_value", "owner", "size",
               "virtual_size", "container_format", "disk_format", "created_at",
               "updated_at", "tags", "min_ram", "min_disk", "self", "file", "schema"}


def get_schema(api, name):
    r = api.get("/v2/schemas/%s" % name)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    doc = r.json()
    jsonschema.Draft4Validator.check_schema(doc)
    return doc


def test_image_schema(alice):
    s = get_schema(alice, "image")
    assert s["name"] == "image"
    assert IMAGE_PROPS <= set(s["properties"]), IMAGE_PROPS - set(s["properties"])
    props = s["properties"]
    assert set(props["visibility"]["enum"]) >= {"public", "private", "shared", "community"}
    assert set(props["status"]["enum"]) >= {"queued", "saving", "active", "killed",
                                             "deleted", "pending_delete", "deactivated"}
    assert {"raw", "qcow2", "vhd", "iso"} <= set(props["disk_format"]["enum"])
    assert {"bare", "ovf"} <= set(props["container_format"]["enum"])
    assert props["tags"]["type"] == "array"
    assert props["id"].get("pattern")
    # extra properties are strings, as in Glance
    assert s["additionalProperties"] == {"type": "string"}
    rels = {l["rel"] for l in s["links"]}
    assert {"self", "enclosure", "describedby"} <= rels


def test_images_schema(alice):
    s = get_schema(alice, "images")
    assert s["name"] == "images"
    assert s["properties"]["images"]["type"] == "array"
    item = s["properties"]["images"]["items"]
    assert IMAGE_PROPS <= set(item["properties"])
    assert {"schema", "first", "next"} <= set(s["properties"])
    rels = {l["rel"] for l in s["links"]}
    assert {"first", "next", "describedby"} <= rels


def test_member_schema(alice):
    s = get_schema(alice, "member")
    assert s["name"] == "member"
    assert {"created_at", "updated_at", "image_id", "member_id", "schema",
            "status"} <= set(s["properties"])
    assert set(s["properties"]["status"]["enum"]) == {"pending", "accepted", "rejected"}


def test_members_schema(alice):
    s = get_schema(alice, "members")
    assert s["name"] == "members"
    assert s["properties"]["members"]["type"] == "array"
    assert "status" in s["properties"]["members"]["items"]["properties"]
    assert "schema" in s["properties"]


def test_unknown_schema_404(alice):
    assert alice.get("/v2/schemas/nothing").status_code == 404


def test_schemas_validate_real_documents(alice, bob):
    img_schema = get_schema(alice, "image")
    member_schema = get_schema(alice, "member")
    images_schema = get_schema(alice, "images")
    members_schema = get_schema(alice, "members")
    queued = create_image(alice, visibility="shared", myprop="v",
                          __os_version="Ubuntu 14.04 server 64bit")
    jsonschema.validate(queued, img_schema)
    act = active_image(alice, data=b"schema data")
    jsonschema.validate(act, img_schema)
    r = alice.get("/v2/images", params={"limit": 5})
    jsonschema.validate(r.json(), images_schema)
    r = alice.post("/v2/images/%s/members" % queued["id"], json={"member": bob.project_id})
    jsonschema.validate(r.json(), member_schema)
    jsonschema.validate(alice.get("/v2/images/%s/members" % queued["id"]).json(),
                        members_schema)


@pytest.fixture
def gclient(alice):
    import glanceclient
    return glanceclient.Client("2", endpoint=alice.base, token=alice.token)


def test_glanceclient_library_uses_schemas(alice, gclient):
    img = gclient.images.create(name="gc-lib", disk_format="raw",
                                container_format="bare", myprop="one")
    assert img.status == "queued"
    assert img.myprop == "one"
    # update goes through the schema (warlock model + json patch)
    img2 = gclient.images.update(img.id, name="gc-lib-2", myprop="two", other="x",
                                 remove_props=[])
    assert img2.name == "gc-lib-2"
    assert img2.myprop == "two"
    img3 = gclient.images.update(img.id, remove_props=["other"])
    assert "other" not in img3
    gclient.images.upload(img.id, io.BytesIO(b"glanceclient bytes"))
    got = gclient.images.get(img.id)
    assert got.status == "active"
    data = b"".join(gclient.images.data(img.id))
    assert data == b"glanceclient bytes"
    listed = [i.id for i in gclient.images.list(filters={"name": "gc-lib-2"})]
    assert listed == [img.id]
    gclient.images.delete(img.id)
    assert alice.get("/v2/images/%s" % img.id).status_code == 404
