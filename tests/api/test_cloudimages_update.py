"""PATCH /v2/cloudimages/{image_id} (reference ims_apis/image/updating_an_image.md)."""
import uuid

import pytest

from helpers import Iam, active_image, create_image, policy_doc, unique


def patch(api, image_id, ops):
    return api.patch("/v2/cloudimages/%s" % image_id, json=ops)


def code_of(r):
    return r.json()["error"]["code"]


@pytest.fixture
def img(alice):
    return active_image(alice, name=unique("upd"), __os_version="Ubuntu 14.04 server 64bit")


def test_documented_example_rename(alice, img):
    r = patch(alice, img["id"], [{"op": "replace", "path": "/name", "value": "ims_test"}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["name"] == "ims_test" and body["id"] == img["id"]
    for field in ("file", "owner", "id", "size", "self", "schema", "status", "tags", "visibility", "name",
                  "checksum", "protected", "container_format", "min_ram", "updated_at", "__os_bit",
                  "__os_version", "disk_format", "__isregistered", "__platform", "__os_type", "min_disk",
                  "virtual_env_type", "__image_source_type", "__imagetype", "created_at", "virtual_size",
                  "__image_size", "enterprise_project_id"):
        assert field in body, field
    assert body["__platform"] == "Ubuntu" and body["__imagetype"] == "private"
    assert alice.get("/v2/images/%s" % img["id"]).json()["name"] == "ims_test"


def test_documented_attributes(alice, img):
    ops = [{"op": "replace", "path": "/__description", "value": "ims test"},
           {"op": "add", "path": "/__support_kvm", "value": "true"},
           {"op": "replace", "path": "/__support_largememory", "value": "true"},
           {"op": "replace", "path": "/__is_config_init", "value": "true"},
           {"op": "replace", "path": "/min_ram", "value": 1024},
           {"op": "replace", "path": "/max_ram", "value": "4096"},
           {"op": "replace", "path": "/hw_vif_multiqueue_enabled", "value": "true"},
           {"op": "replace", "path": "/hw_firmware_type", "value": "uefi"},
           {"op": "replace", "path": "/__support_kvm_gpu_type", "value": "V100_vGPU"},
           {"op": "replace", "path": "/__support_fc_inject", "value": "true"},
           {"op": "replace", "path": "/__support_amd", "value": "false"}]
    r = patch(alice, img["id"], ops)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["__description"] == "ims test" and b["__support_kvm"] == "true"
    assert b["min_ram"] == 1024 and b["max_ram"] == "4096" and b["hw_firmware_type"] == "uefi"
    r = patch(alice, img["id"], [{"op": "remove", "path": "/__support_kvm"}])
    # removed, the attribute shows its documented default again (issue 13 item 7: every field present)
    assert r.status_code == 200 and r.json()["__support_kvm"] == "false"


def test_extension_attributes_add_remove(alice, img):
    r = patch(alice, img["id"], [{"op": "add", "path": "/my_attr", "value": "v"}])
    assert r.status_code == 200 and r.json()["my_attr"] == "v"
    r = patch(alice, img["id"], [{"op": "remove", "path": "/my_attr"}])
    assert r.status_code == 200 and "my_attr" not in r.json()
    r = patch(alice, img["id"], [{"op": "add", "path": "/MyAttr", "value": "v"}])
    assert r.status_code == 400 and code_of(r) == "IMG.0001"


@pytest.mark.parametrize("ops,code", [
    ([{"op": "replace", "path": "/name", "value": "x" * 129}], "IMG.0002"),
    ([{"op": "replace", "path": "/name", "value": "bad/name"}], "IMG.0003"),
    ([{"op": "replace", "path": "/name", "value": "trailing "}], "IMG.0003"),
    ([{"op": "replace", "path": "/__description", "value": "d" * 1025}], "IMG.0004"),
    ([{"op": "replace", "path": "/__description", "value": "<script>"}], "IMG.0054"),
    ([{"op": "replace", "path": "/min_ram", "value": "much"}], "IMG.0055"),
    ([{"op": "replace", "path": "/max_ram", "value": "much"}], "IMG.0055"),
    ([{"op": "replace", "path": "/hw_firmware_type", "value": "efi"}], "IMG.0141"),
    ([{"op": "replace", "path": "/status", "value": "killed"}], "IMG.0001"),
    ([{"op": "replace", "path": "/visibility", "value": "public"}], "IMG.0001"),
    ([{"op": "replace", "path": "/__os_version", "value": "CentOS 7.6 64bit"}], "IMG.0001"),
    ([{"op": "remove", "path": "/name"}], "IMG.0001"),
    ([{"op": "copy", "path": "/name", "value": "x"}], "IMG.0001"),
    ([{"op": "replace", "path": "/name"}], "IMG.0001"),
    ({"op": "replace", "path": "/name", "value": "x"}, "IMG.0001"),
    ([], "IMG.0007"),
    ([{"op": "replace", "path": "/enterprise_project_id", "value": "nope"}], "IMG.0155"),
    ([{"op": "replace", "path": "/enterprise_project_id", "value": str(uuid.uuid4())}], "IMG.0155"),
])
def test_errors(alice, img, ops, code):
    r = patch(alice, img["id"], ops)
    assert r.status_code == 400, r.text
    assert code_of(r) == code, r.text
    assert alice.get("/v2/images/%s" % img["id"]).json()["name"] == img["name"]   # nothing changed


def test_empty_body(alice, img):
    r = alice.patch("/v2/cloudimages/%s" % img["id"], data=b"")
    assert r.status_code == 400 and code_of(r) == "IMG.0007"


def test_only_active_images(alice):
    q = create_image(alice)
    r = patch(alice, q["id"], [{"op": "replace", "path": "/name", "value": "n"}])
    assert r.status_code == 400 and code_of(r) == "IMG.0046", r.text


def test_unknown_and_foreign_images(alice, bob, img):
    r = patch(alice, str(uuid.uuid4()), [{"op": "replace", "path": "/name", "value": "n"}])
    assert r.status_code == 400 and code_of(r) == "IMG.0027"
    r = patch(bob, img["id"], [{"op": "replace", "path": "/name", "value": "n"}])   # invisible to bob
    assert r.status_code == 400 and code_of(r) == "IMG.0027"


def test_only_the_owner(admin, alice):
    pub = active_image(admin, visibility="public")
    r = patch(alice, pub["id"], [{"op": "replace", "path": "/name", "value": "mine now"}])
    assert r.status_code == 400 and code_of(r) == "IMG.0047", r.text


def test_enterprise_project_migration(imsd, alice, img):
    iam = Iam(imsd)
    E = iam.ctl("ep", "create", unique("upd-ep"))
    r = patch(alice, img["id"], [{"op": "replace", "path": "/enterprise_project_id", "value": E}])
    assert r.status_code == 200, r.text
    assert r.json()["enterprise_project_id"] == E
    r = patch(alice, img["id"], [{"op": "replace", "path": "/enterprise_project_id", "value": "0"}])
    assert r.status_code == 200 and r.json()["enterprise_project_id"] == "0"


def test_migration_to_disabled_ep(imsd, admin):
    iam = Iam(imsd)
    E = iam.ctl("ep", "create", unique("off-ep"))
    r = admin.post("/v1.0/enterprise-projects/%s/action" % E, json={"action": "disable"})
    assert r.status_code in (200, 204), r.text
    img = active_image(admin)
    r = patch(admin, img["id"], [{"op": "replace", "path": "/enterprise_project_id", "value": E}])
    assert r.status_code == 400 and code_of(r) == "IMG.0155", r.text


def test_migration_needs_create_in_target(imsd):
    iam = Iam(imsd)
    P = unique("mv-p")
    iam.ctl("project", "create", P)
    owner = iam.user(P, role="member")
    E = iam.ctl("ep", "create", unique("mv-e"))
    E2 = iam.ctl("ep", "create", unique("mv-e2"))
    img = active_image(owner)
    mover = iam.user(P, [(policy_doc("Allow", ["ims:images:update"]), "project"),
                         (policy_doc("Allow", ["ims:serverImages:create"]), "ep:" + E)])
    r = patch(mover, img["id"], [{"op": "replace", "path": "/enterprise_project_id", "value": E2}])
    assert r.status_code == 403 and code_of(r) == "IMG.0026"
    assert "ims:serverImages:create" in r.json()["error"]["message"]
    r = patch(mover, img["id"], [{"op": "replace", "path": "/enterprise_project_id", "value": E}])
    assert r.status_code == 200, r.text
    assert owner.get("/v2/images/%s" % img["id"]).json()["enterprise_project_id"] == E
