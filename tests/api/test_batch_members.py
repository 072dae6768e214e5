"""Batch image sharing: POST/PUT/DELETE /v1/cloudimages/members (jobs
imsAddImageMembersJob, imsUpdateImageMembersJob, imsDelImageMembersJob),
with the limits of restrictions_on_image_sharing.md and the native member
rules (only the owner shares, only the member answers)."""
import uuid

import pytest

from helpers import active_image, create_image, list_ids
from job_helpers import ims_error, run, submit

URL = "/v1/cloudimages/members"


@pytest.fixture(scope="module")
def carol(make_project_user):
    return make_project_user()


def members(api, image_id):
    r = api.get("/v2/images/%s/members" % image_id)
    assert r.status_code == 200, r.text
    return {m["member_id"]: m["status"] for m in r.json()["members"]}


def test_documented_flow_add_accept_delete(alice, bob, carol):
    imgs = [active_image(alice, visibility="private")["id"] for _ in range(2)]
    job = run(alice, "POST", URL, {"images": imgs, "projects": [bob.project_id, carol.project_id]})
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsAddImageMembersJob"
    assert job["error_code"] is None and job["fail_reason"] is None
    assert job["begin_time"].endswith("Z") and job["end_time"].endswith("Z")
    res = job["entities"]["results"]
    assert len(res) == 4 and all(x["status"] == "success" for x in res), res
    assert {(x["image_id"], x["project_id"]) for x in res} == {
        (i, p) for i in imgs for p in (bob.project_id, carol.project_id)}
    for i in imgs:
        assert members(alice, i) == {bob.project_id: "pending", carol.project_id: "pending"}
        # a private image becomes shared when it gets members (Glance's rule)
        assert alice.get("/v2/images/%s" % i).json()["visibility"] == "shared"
    # adding again changes nothing and is not an error
    assert run(alice, "POST", URL, {"images": imgs, "projects": [bob.project_id]})["status"] == "SUCCESS"

    # bob accepts both: they show in his default list
    job = run(bob, "PUT", URL, {"images": imgs, "project_id": bob.project_id, "status": "accepted"})
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsUpdateImageMembersJob"
    assert {x["image_id"] for x in job["entities"]["results"]} == set(imgs)
    assert set(imgs) <= set(list_ids(bob, limit=1000))
    assert members(alice, imgs[0])[bob.project_id] == "accepted"
    # carol rejects, with a vault_id (accepted and ignored for non-CBR images)
    job = run(carol, "PUT", URL, {"images": imgs, "project_id": carol.project_id, "status": "rejected",
                                  "vault_id": str(uuid.uuid4())})
    assert job["status"] == "SUCCESS", job
    assert members(alice, imgs[1])[carol.project_id] == "rejected"

    # alice stops sharing with bob
    job = run(alice, "DELETE", URL, {"images": imgs, "projects": [bob.project_id]})
    assert job["status"] == "SUCCESS", job
    assert job["job_type"] == "imsDelImageMembersJob"
    for i in imgs:
        assert bob.project_id not in members(alice, i)
        assert bob.get("/v2/images/%s" % i).status_code == 404
    # removing an absent member is not an error
    assert run(alice, "DELETE", URL, {"images": imgs, "projects": [bob.project_id]})["status"] == "SUCCESS"


@pytest.mark.parametrize("body,code", [
    ({}, "IMG.0001"),
    ({"images": [], "projects": ["p"]}, "IMG.0001"),
    ({"images": "x", "projects": ["p"]}, "IMG.0001"),
    ({"images": [str(uuid.uuid4())]}, "IMG.0001"),
    ({"images": [str(uuid.uuid4())], "projects": [7]}, "IMG.0001"),
    ({"images": ["not-a-uuid"], "projects": ["p"]}, "IMG.0066"),
    ({"images": [str(uuid.uuid4())], "projects": ["p%d" % i for i in range(257)]}, "IMG.0001"),
])
def test_add_rejects_bad_bodies(alice, body, code):
    ims_error(alice.post(URL, json=body), 400, code)


def test_bad_bodies_for_update_and_delete(alice, bob):
    img = str(uuid.uuid4())
    ims_error(alice.put(URL, json={"images": [img], "project_id": alice.project_id, "status": "maybe"}),
              400, "IMG.0001")
    ims_error(alice.put(URL, json={"images": [img], "status": "accepted"}), 400, "IMG.0067")
    # only the recipient (the token's project) answers for itself
    ims_error(alice.put(URL, json={"images": [img], "project_id": bob.project_id, "status": "accepted"}),
              400, "IMG.0067")
    ims_error(alice.delete(URL, json={"images": [img]}), 400, "IMG.0001")
    ims_error(alice.post(URL, data=b"", headers={"Content-Type": "application/json"}), 400, "IMG.0007")
    ims_error(alice.post(URL, data=b"{nope", headers={"Content-Type": "application/json"}), 400, "IMG.0001")


def test_cannot_share_with_yourself(alice):
    img = active_image(alice, visibility="private")["id"]
    ims_error(alice.post(URL, json={"images": [img], "projects": [alice.project_id]}), 400, "IMG.0076")
    # within a batch the pair fails, the others go on
    someone_else = uuid.uuid4().hex
    job = run(alice, "POST", URL, {"images": [img], "projects": [alice.project_id, someone_else]})
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0076", job
    by = {x["project_id"]: x for x in job["entities"]["results"]}
    assert by[alice.project_id]["status"] == "failed"
    assert by[someone_else]["status"] == "success"


def test_job_failures_carry_ims_codes(alice, bob, admin):
    mine = active_image(alice, visibility="private")["id"]
    missing = str(uuid.uuid4())
    job = run(alice, "POST", URL, {"images": [missing, mine], "projects": [bob.project_id]})
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0027", job
    assert job["fail_reason"]
    by = {x["image_id"]: x for x in job["entities"]["results"]}
    assert by[missing]["status"] == "failed" and by[missing]["error_code"] == "IMG.0027"
    assert by[mine]["status"] == "success"
    # bob (a member now) may not share alice's image further, nor remove members
    job = run(bob, "POST", URL, {"images": [mine], "projects": [uuid.uuid4().hex]})
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0047", job
    job = run(bob, "DELETE", URL, {"images": [mine], "projects": [bob.project_id]})
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0047", job
    # a public image cannot be shared
    pub = active_image(admin, visibility="public")["id"]
    job = run(admin, "POST", URL, {"images": [pub], "projects": [bob.project_id]})
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0089", job
    # accepting an image that was never shared with you
    other = active_image(alice, visibility="private")["id"]
    job = run(bob, "PUT", URL, {"images": [other], "project_id": bob.project_id, "status": "accepted"})
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0027", job


def test_limit_256_members(alice):
    img = create_image(alice, visibility="private")["id"]
    many = [uuid.uuid4().hex for _ in range(256)]
    job = run(alice, "POST", URL, {"images": [img], "projects": many})
    assert job["status"] == "SUCCESS", job["error_code"]
    assert len(members(alice, img)) == 256
    job = run(alice, "POST", URL, {"images": [img], "projects": [uuid.uuid4().hex]})
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0088", job


def test_full_ecs_images(alice, admin):
    # only full-ECS images made from CBR backups may be shared, with at most 10 projects;
    # __whole_image and __backup_id are the system's to set, so admin makes alice's images
    plain = create_image(admin, owner=alice.project_id, visibility="private", __whole_image="true")["id"]
    job = run(alice, "POST", URL, {"images": [plain], "projects": [uuid.uuid4().hex]})
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0135", job
    cbr = create_image(admin, owner=alice.project_id, visibility="private", __whole_image="true",
                       __backup_id=str(uuid.uuid4()))["id"]
    job = run(alice, "POST", URL, {"images": [cbr], "projects": [uuid.uuid4().hex for _ in range(11)]})
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0088", job
    ok = [x for x in job["entities"]["results"] if x["status"] == "success"]
    assert len(ok) == 10 and len(members(alice, cbr)) == 10


def test_native_api_rules_unchanged(alice, bob):
    # the native API still gives members only to shared images
    img = create_image(alice, visibility="private")["id"]
    r = alice.post("/v2/images/%s/members" % img, json={"member": bob.project_id})
    assert r.status_code == 403, r.text
    # a batch-shared image is managed by the native API as usual
    job = run(alice, "POST", URL, {"images": [img], "projects": [bob.project_id]})
    assert job["status"] == "SUCCESS"
    r = bob.put("/v2/images/%s/members/%s" % (img, bob.project_id), json={"status": "accepted"})
    assert r.status_code == 200, r.text
    r = alice.delete("/v2/images/%s/members/%s" % (img, bob.project_id))
    assert r.status_code == 204, r.text


def test_other_projects_cannot_see_the_job(alice, bob):
    img = create_image(alice, visibility="private")["id"]
    job_id = submit(alice, "POST", URL, {"images": [img], "projects": [bob.project_id]})
    assert bob.get("/v1/%s/jobs/%s" % (bob.project_id, job_id)).status_code == 404
    assert bob.get("/v1/%s/jobs/%s" % (alice.project_id, job_id)).status_code == 404
