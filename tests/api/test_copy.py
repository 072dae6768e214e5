"""Replicating an image within a region: POST /v1/cloudimages/{image_id}/copy
(job imsCopyImageInRegionJob). The copy shares the source's blob: no bytes
are copied and the blob goes only with its last image."""
import uuid

import pytest

from helpers import Iam, active_image, create_image, md5, stored_blobs
from job_helpers import ims_error, run, submit


def copy_url(image_id):
    return "/v1/cloudimages/%s/copy" % image_id


def blobs(srv):
    return len(stored_blobs(srv))


def test_documented_example(imsd, alice):
    data = b"replicate me\n" * 1000
    src = active_image(alice, data=data, visibility="private", min_ram=512, hw_disk_bus="virtio")
    before = blobs(imsd)
    job = run(alice, "POST", copy_url(src["id"]),
              {"name": "ims_encrypted_copy3", "description": "test copy"})
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsCopyImageInRegionJob"
    assert job["error_code"] is None and job["fail_reason"] is None
    ent = job["entities"]
    assert ent["image_name"] == "ims_encrypted_copy3"
    new = alice.get("/v2/images/%s" % ent["image_id"]).json()
    assert new["id"] != src["id"]
    assert new["name"] == "ims_encrypted_copy3"
    assert new["__description"] == "test copy"
    assert new["status"] == "active" and new["visibility"] == "private"
    assert new["owner"] == alice.project_id
    for k in ("checksum", "size", "disk_format", "container_format", "min_ram", "os_hash_value",
              "hw_disk_bus"):
        assert new[k] == src[k], k
    assert new["enterprise_project_id"] == "0"
    r = alice.get("/v2/images/%s/file" % new["id"])
    assert r.status_code == 200 and r.content == data
    assert blobs(imsd) == before, "a copy must not duplicate the data"
    # the blob outlives the source and goes with the last image
    assert alice.delete("/v2/images/%s" % src["id"]).status_code == 204
    assert blobs(imsd) == before
    r = alice.get("/v2/images/%s/file" % new["id"])
    assert r.status_code == 200 and md5(r.content) == src["checksum"]
    assert alice.delete("/v2/images/%s" % new["id"]).status_code == 204
    assert blobs(imsd) == before - 1


def test_copy_into_enterprise_project(imsd, admin):
    ep = Iam(imsd).ctl("ep", "create", "copy-ep-%s" % uuid.uuid4().hex[:8])
    src = active_image(admin, visibility="private")
    job = run(admin, "POST", copy_url(src["id"]), {"name": "in-ep", "enterprise_project_id": ep})
    assert job["status"] == "SUCCESS", job
    assert admin.get("/v2/images/%s" % job["entities"]["image_id"]).json()["enterprise_project_id"] == ep
    ims_error(admin.post(copy_url(src["id"]), json={"name": "x", "enterprise_project_id": str(uuid.uuid4())}),
              400, "IMG.0155")


@pytest.mark.parametrize("body,code", [
    ({}, "IMG.0013"),
    ({"name": ""}, "IMG.0013"),
    ({"name": 5}, "IMG.0003"),
    ({"name": "x" * 129}, "IMG.0002"),
    ({"name": " lead"}, "IMG.0003"),
    ({"name": "bad/name"}, "IMG.0003"),
    ({"name": "ok", "description": "d" * 1025}, "IMG.0004"),
    ({"name": "ok", "description": "<script>"}, "IMG.0054"),
    ({"name": "ok", "cmk_id": "bd66288c-9081-460a-8227-4cbd0c814cb4"}, "IMG.0095"),
])
def test_request_checks(alice, body, code):
    src = _src(alice)
    ims_error(alice.post(copy_url(src), json=body), 400, code)


_SRC = {}


def _src(api):
    if api.project_id not in _SRC:
        _SRC[api.project_id] = active_image(api, visibility="private")["id"]
    return _SRC[api.project_id]


def test_empty_and_malformed_bodies(alice):
    src = _src(alice)
    ims_error(alice.post(copy_url(src), data=b"", headers={"Content-Type": "application/json"}), 400, "IMG.0007")
    ims_error(alice.post(copy_url(src), data=b"[", headers={"Content-Type": "application/json"}), 400, "IMG.0001")


def test_source_rules(alice, bob, admin):
    # missing, or another project's private image: "image ID does not exist"
    ims_error(alice.post(copy_url(str(uuid.uuid4())), json={"name": "c"}), 400, "IMG.0027")
    ims_error(bob.post(copy_url(_src(alice)), json={"name": "c"}), 400, "IMG.0027")
    # no data yet
    queued = create_image(alice, visibility="private")["id"]
    ims_error(alice.post(copy_url(queued), json={"name": "c"}), 400, "IMG.0046")
    # full-ECS and ISO images cannot be replicated
    whole = active_image(admin, owner=alice.project_id, visibility="private", __whole_image="true")["id"]
    ims_error(alice.post(copy_url(whole), json={"name": "c"}), 400, "IMG.0130")
    iso = active_image(alice, disk_format="iso")["id"]
    ims_error(alice.post(copy_url(iso), json={"name": "c"}), 400, "IMG.0167")
    # someone else's public image
    pub = active_image(admin, visibility="public")["id"]
    ims_error(alice.post(copy_url(pub), json={"name": "c"}), 400, "IMG.0083")


def test_shared_image_needs_acceptance(alice, bob):
    src = active_image(alice, data=b"shared data", visibility="shared")
    r = alice.post("/v2/images/%s/members" % src["id"], json={"member": bob.project_id})
    assert r.status_code == 200, r.text
    ims_error(bob.post(copy_url(src["id"]), json={"name": "mine"}), 400, "IMG.0196")
    r = bob.put("/v2/images/%s/members/%s" % (src["id"], bob.project_id), json={"status": "accepted"})
    assert r.status_code == 200
    job = run(bob, "POST", copy_url(src["id"]), {"name": "mine"})
    assert job["status"] == "SUCCESS", job
    new = bob.get("/v2/images/%s" % job["entities"]["image_id"]).json()
    assert new["owner"] == bob.project_id and new["checksum"] == src["checksum"]
    # the copy is bob's own: alice does not see it
    assert alice.get("/v2/images/%s" % new["id"]).status_code == 404


def test_source_deleted_before_the_job_runs(alice):
    """The request was valid; the source is gone when the worker gets to it:
    the job fails cleanly and leaves no half-made image."""
    src = active_image(alice, visibility="private")["id"]
    job_id = submit(alice, "POST", copy_url(src), {"name": "too-late"})
    alice.delete("/v2/images/%s" % src)
    from job_helpers import wait_job
    job = wait_job(alice, job_id)
    if job["status"] == "SUCCESS":          # the worker was faster than the delete
        return
    assert job["error_code"] == "IMG.0027", job
    new = job["entities"].get("image_id")
    if new:
        assert alice.get("/v2/images/%s" % new).status_code == 404
