"""Attributes the IMS reference describes as set by the system (__imagetype,
__isregistered, __image_size, ...) are read-only for tenants on both APIs,
as Glance treats its own read-only attributes (403); an administrator may
set them. Member ids must be well-formed project ids."""
import uuid

import pytest

from helpers import create_image, get_image, patch, unique
from job_helpers import ims_error

SYSTEM = ["__imagetype", "__isregistered", "__image_source_type", "__image_size", "__data_origin",
          "__originalimagename", "__backup_id", "__whole_image", "__image_location", "__root_origin",
          "__system__cmkid", "__lazyloading"]


@pytest.mark.parametrize("attr", SYSTEM)
def test_tenant_cannot_create_with_system_attribute(alice, attr):
    name = unique("sys")
    r = alice.post("/v2/images", json={"name": name, attr: "gold"})
    assert r.status_code == 403, r.text
    assert "Attribute '%s' is read-only." % attr in r.text
    assert not [i for i in alice.get("/v2/images", params={"name": name}).json()["images"]]


def test_tenant_cannot_patch_system_attributes(alice, bob):
    img = create_image(alice, visibility="shared")
    before = get_image(alice, img["id"])
    for op in ("add", "replace"):
        r = patch(alice, img["id"], [{"op": op, "path": "/__imagetype", "value": "gold"}])
        assert r.status_code == 403, r.text
        assert "Attribute '__imagetype' is read-only." in r.text
    r = patch(alice, img["id"], [{"op": "remove", "path": "/__isregistered"}])
    assert r.status_code == 403, r.text
    # one forbidden op refuses the whole patch
    r = patch(alice, img["id"], [{"op": "replace", "path": "/name", "value": "renamed"},
                                 {"op": "add", "path": "/__data_origin", "value": "image,x"}])
    assert r.status_code == 403, r.text
    after = get_image(alice, img["id"])
    assert after["__imagetype"] == before["__imagetype"] == "private"
    assert after["__isregistered"] == "true" and after["name"] == before["name"]
    assert after["__data_origin"] == ""  # the documented attribute, as the system made it
    # what another project sees is what the system set
    r = alice.post("/v2/images/%s/members" % img["id"], json={"member": bob.project_id})
    assert r.status_code == 200, r.text
    assert get_image(bob, img["id"])["__imagetype"] == "shared"


def test_tenant_keeps_guest_attributes(alice):
    img = create_image(alice, __os_version="Ubuntu 20.04 server 64bit", __support_kvm="true",
                       __is_config_init="true", hw_firmware_type="uefi")
    assert img["__platform"] == "Ubuntu" and img["__support_kvm"] == "true"
    r = patch(alice, img["id"], [{"op": "add", "path": "/__support_amd", "value": "true"},
                                 {"op": "replace", "path": "/__os_bit", "value": "64"}])
    assert r.status_code == 200, r.text
    assert r.json()["__support_amd"] == "true"


def test_admin_sets_system_attributes(admin, alice):
    img = create_image(admin, owner=alice.project_id, __isregistered="false", __backup_id=str(uuid.uuid4()))
    assert img["__isregistered"] == "false" and img["owner"] == alice.project_id
    r = patch(admin, img["id"], [{"op": "replace", "path": "/__isregistered", "value": "true"},
                                 {"op": "remove", "path": "/__backup_id"}])
    assert r.status_code == 200, r.text
    # removed, __backup_id shows its documented default (empty) again
    assert r.json()["__isregistered"] == "true" and r.json()["__backup_id"] == ""
    # the owner may read them, not write them
    assert patch(alice, img["id"], [{"op": "replace", "path": "/__isregistered", "value": "false"}]) \
        .status_code == 403


@pytest.mark.parametrize("attr", ["__imagetype", "__isregistered", "__image_size", "__data_origin"])
def test_ims_patch_refuses_system_attributes(alice, attr):
    img = create_image(alice)
    before = get_image(alice, img["id"])
    r = alice.patch("/v2/cloudimages/%s" % img["id"],
                    json=[{"op": "replace", "path": "/" + attr, "value": "gold"}])
    ims_error(r, 400, "IMG.0001")
    assert get_image(alice, img["id"]).get(attr) == before.get(attr)


# ---------------------------------------------------------------- member ids

BAD_MEMBERS = ["../../x\nfoo", "p", "", uuid.uuid4().hex.upper(), uuid.uuid4().hex + "0",
               uuid.uuid4().hex[:31], str(uuid.uuid4()), uuid.uuid4().hex[:31] + "g"]


@pytest.mark.parametrize("member", BAD_MEMBERS)
def test_glance_member_must_be_a_project_id(alice, member):
    img = create_image(alice, visibility="shared")
    r = alice.post("/v2/images/%s/members" % img["id"], json={"member": member})
    assert r.status_code == 400, r.text
    assert "../../x" not in r.text  # never echoed
    assert alice.get("/v2/images/%s/members" % img["id"]).json()["members"] == []


def test_glance_member_well_formed_id_accepted(alice):
    # a well-formed id is accepted whether or not the project exists (Glance does the same)
    img = create_image(alice, visibility="shared")
    pid = uuid.uuid4().hex
    r = alice.post("/v2/images/%s/members" % img["id"], json={"member": pid})
    assert r.status_code == 200, r.text
    assert r.json()["member_id"] == pid


@pytest.mark.parametrize("member", [m for m in BAD_MEMBERS if m])
def test_ims_share_projects_must_be_project_ids(alice, member):
    img = create_image(alice, visibility="private")["id"]
    for method in ("POST", "DELETE"):
        r = alice.request(method, "/v1/cloudimages/members",
                          json={"images": [img], "projects": [uuid.uuid4().hex, member]})
        ims_error(r, 400, "IMG.0067")
        assert "../../x" not in r.text  # never echoed
