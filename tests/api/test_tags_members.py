"""Image tags and image members (sharing)."""
import re
import uuid

import pytest

from helpers import create_image, get_image, list_ids, patch

TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


# ---------------------------------------------------------------- tags
def test_add_and_delete_tag(alice):
    img = create_image(alice)
    url = "/v2/images/%s/tags/" % img["id"]
    r = alice.put(url + "blue")
    assert r.status_code == 204
    assert r.content == b""
    assert alice.put(url + "green-1_x").status_code == 204
    assert sorted(get_image(alice, img["id"])["tags"]) == ["blue", "green-1_x"]
    # adding an existing tag is idempotent
    assert alice.put(url + "blue").status_code == 204
    assert sorted(get_image(alice, img["id"])["tags"]) == ["blue", "green-1_x"]
    assert alice.delete(url + "blue").status_code == 204
    assert get_image(alice, img["id"])["tags"] == ["green-1_x"]
    assert alice.delete(url + "blue").status_code == 404


def test_tag_filter_after_tag_api(alice):
    img = create_image(alice)
    tag = "tag" + uuid.uuid4().hex[:8]
    assert alice.put("/v2/images/%s/tags/%s" % (img["id"], tag)).status_code == 204
    assert list_ids(alice, tag=tag) == [img["id"]]


def test_tag_unknown_image_404(alice):
    iid = uuid.uuid4()
    assert alice.put("/v2/images/%s/tags/x" % iid).status_code == 404
    assert alice.delete("/v2/images/%s/tags/x" % iid).status_code == 404


def test_tag_other_projects_image(alice, bob):
    img = create_image(alice, visibility="private")
    assert bob.put("/v2/images/%s/tags/x" % img["id"]).status_code == 404
    com = create_image(alice, visibility="community", tags=["keep"])
    assert bob.put("/v2/images/%s/tags/x" % com["id"]).status_code == 403
    assert bob.delete("/v2/images/%s/tags/keep" % com["id"]).status_code == 403
    assert get_image(alice, com["id"])["tags"] == ["keep"]


def test_tag_too_long_400(alice):
    img = create_image(alice)
    assert alice.put("/v2/images/%s/tags/%s" % (img["id"], "t" * 256)).status_code == 400


# ---------------------------------------------------------------- members
@pytest.fixture
def shared(alice):
    return create_image(alice, visibility="shared")


def members_url(img, member=None):
    u = "/v2/images/%s/members" % img["id"]
    return u + ("/%s" % member if member else "")


def add_member(owner, img, project_id):
    r = owner.post(members_url(img), json={"member": project_id})
    assert r.status_code == 200, r.text
    return r.json()


def test_add_member_document(alice, bob, shared):
    m = add_member(alice, shared, bob.project_id)
    assert m["image_id"] == shared["id"]
    assert m["member_id"] == bob.project_id
    assert m["status"] == "pending"
    assert m["schema"] == "/v2/schemas/member"
    assert TIME_RE.match(m["created_at"]) and TIME_RE.match(m["updated_at"])


def test_list_and_get_members(alice, bob, make_project_user, shared):
    carol = make_project_user()
    add_member(alice, shared, bob.project_id)
    add_member(alice, shared, carol.project_id)
    r = alice.get(members_url(shared))
    assert r.status_code == 200
    body = r.json()
    assert body["schema"] == "/v2/schemas/members"
    assert sorted(m["member_id"] for m in body["members"]) == \
        sorted([bob.project_id, carol.project_id])
    r = alice.get(members_url(shared, bob.project_id))
    assert r.status_code == 200
    assert r.json()["member_id"] == bob.project_id
    assert r.json()["status"] == "pending"
    # a member sees only its own membership
    r = bob.get(members_url(shared))
    assert r.status_code == 200
    assert [m["member_id"] for m in r.json()["members"]] == [bob.project_id]
    assert bob.get(members_url(shared, bob.project_id)).status_code == 200
    assert bob.get(members_url(shared, carol.project_id)).status_code == 404


def test_get_unknown_member_404(alice, shared):
    assert alice.get(members_url(shared, "0" * 32)).status_code == 404
    assert alice.delete(members_url(shared, "0" * 32)).status_code == 404


def test_members_of_unknown_image_404(alice, bob):
    img = {"id": str(uuid.uuid4())}
    assert alice.get(members_url(img)).status_code == 404
    r = alice.post(members_url(img), json={"member": bob.project_id})
    assert r.status_code == 404


def test_duplicate_member_409(alice, bob, shared):
    add_member(alice, shared, bob.project_id)
    r = alice.post(members_url(shared), json={"member": bob.project_id})
    assert r.status_code == 409


@pytest.mark.parametrize("vis", ["private", "public", "community"])
def test_members_only_for_shared_images(alice, bob, admin, vis):
    owner = admin if vis == "public" else alice
    img = create_image(owner, visibility=vis)
    r = owner.post(members_url(img), json={"member": bob.project_id})
    assert r.status_code == 403, (vis, r.status_code, r.text)


def test_add_member_bad_body_400(alice, shared):
    for body in ({}, {"members": "x"}, []):
        r = alice.post(members_url(shared), json=body)
        assert r.status_code == 400, (body, r.status_code)
    r = alice.post(members_url(shared), data="{bad",
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 400


def test_pending_member_sees_by_id_not_in_list(alice, bob, shared):
    add_member(alice, shared, bob.project_id)
    assert get_image(bob, shared["id"])["id"] == shared["id"]
    assert shared["id"] not in list_ids(bob)
    assert shared["id"] in list_ids(bob, member_status="pending", visibility="shared")


def test_accept_reject_flow(alice, bob, shared):
    iid = shared["id"]
    add_member(alice, shared, bob.project_id)
    r = bob.put(members_url(shared, bob.project_id), json={"status": "accepted"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"
    assert r.json()["member_id"] == bob.project_id
    assert iid in list_ids(bob)
    assert iid in list_ids(bob, member_status="accepted", visibility="shared")
    assert iid not in list_ids(bob, member_status="pending", visibility="shared")
    assert alice.get(members_url(shared, bob.project_id)).json()["status"] == "accepted"
    r = bob.put(members_url(shared, bob.project_id), json={"status": "rejected"})
    assert r.status_code == 200
    assert iid not in list_ids(bob)
    assert iid in list_ids(bob, member_status="rejected", visibility="shared")
    assert iid in list_ids(bob, member_status="all", visibility="shared")
    # a rejected member can still get the image by id
    assert get_image(bob, iid)["id"] == iid
    # and may change its mind
    r = bob.put(members_url(shared, bob.project_id), json={"status": "pending"})
    assert r.status_code == 200
    assert iid in list_ids(bob, member_status="pending", visibility="shared")


def test_owner_cannot_set_member_status(alice, bob, shared):
    add_member(alice, shared, bob.project_id)
    r = alice.put(members_url(shared, bob.project_id), json={"status": "accepted"})
    assert r.status_code == 403
    assert alice.get(members_url(shared, bob.project_id)).json()["status"] == "pending"


def test_member_status_bad_value_400(alice, bob, shared):
    add_member(alice, shared, bob.project_id)
    for body in ({"status": "maybe"}, {}, {"status": 1}):
        r = bob.put(members_url(shared, bob.project_id), json=body)
        assert r.status_code == 400, (body, r.status_code)


def test_member_cannot_add_or_delete_members(alice, bob, make_project_user, shared):
    carol = make_project_user()
    add_member(alice, shared, bob.project_id)
    r = bob.post(members_url(shared), json={"member": carol.project_id})
    assert r.status_code == 403
    r = bob.delete(members_url(shared, bob.project_id))
    assert r.status_code == 403
    assert alice.get(members_url(shared, bob.project_id)).status_code == 200


def test_non_member_cannot_see_shared_image(alice, make_project_user, shared):
    eve = make_project_user()
    assert eve.get("/v2/images/%s" % shared["id"]).status_code == 404
    assert eve.get(members_url(shared)).status_code == 404
    r = eve.post(members_url(shared), json={"member": eve.project_id})
    assert r.status_code == 404


def test_delete_member(alice, bob, shared):
    add_member(alice, shared, bob.project_id)
    bob.put(members_url(shared, bob.project_id), json={"status": "accepted"})
    assert shared["id"] in list_ids(bob)
    r = alice.delete(members_url(shared, bob.project_id))
    assert r.status_code == 204
    assert alice.get(members_url(shared, bob.project_id)).status_code == 404
    assert alice.get(members_url(shared)).json()["members"] == []
    assert bob.get("/v2/images/%s" % shared["id"]).status_code == 404
    assert shared["id"] not in list_ids(bob)


def test_member_can_download_shared_image(alice, bob, shared):
    from helpers import upload
    r = patch(alice, shared["id"], [
        {"op": "replace", "path": "/disk_format", "value": "raw"},
        {"op": "replace", "path": "/container_format", "value": "bare"}])
    assert r.status_code == 200, r.text
    assert upload(alice, shared["id"], b"shared bytes").status_code == 204
    add_member(alice, shared, bob.project_id)
    r = bob.get("/v2/images/%s/file" % shared["id"])
    assert r.status_code == 200 and r.content == b"shared bytes"


def test_member_cannot_modify_image(alice, bob, shared):
    add_member(alice, shared, bob.project_id)
    bob.put(members_url(shared, bob.project_id), json={"status": "accepted"})
    r = patch(bob, shared["id"], [{"op": "replace", "path": "/name", "value": "mine"}])
    assert r.status_code == 403
    assert bob.delete("/v2/images/%s" % shared["id"]).status_code == 403
    assert get_image(alice, shared["id"])["name"] == shared["name"]


def test_making_image_private_hides_it_from_members(alice, bob, shared):
    add_member(alice, shared, bob.project_id)
    r = patch(alice, shared["id"], [{"op": "replace", "path": "/visibility",
                                     "value": "private"}])
    assert r.status_code == 200
    assert bob.get("/v2/images/%s" % shared["id"]).status_code == 404
    # members of a non-shared image cannot be listed or added (Glance: 403)
    assert alice.get(members_url(shared)).status_code == 403
