"""GET /v2/cloudimages (reference ims_apis/image/querying_images.md): the IMS
dialect of the shared list query, over HTTP against a real imsd."""
import uuid

import pytest

from helpers import Iam, active_image, create_image, policy_doc, unique


def ids(api, **params):
    r = api.get("/v2/cloudimages", params=params)
    assert r.status_code == 200, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"images"}, body
    return [i["id"] for i in body["images"]]


def err(api, code, **params):
    r = api.get("/v2/cloudimages", params=params)
    assert r.status_code == 400, (params, r.status_code, r.text)
    assert r.json()["error"]["code"] == code, (params, r.text)
    return r.json()["error"]["message"]


@pytest.fixture(scope="module")
def world(admin, alice, bob):
    tag = unique("cl")
    w = {"tag": tag}
    w["gold"] = active_image(admin, name=unique("gold"), visibility="public", protected=True, tags=[tag],
                             __os_version="CentOS 7.3 64bit")
    w["mine"] = active_image(alice, name=unique("mine"), tags=[tag], min_ram=2048, min_disk=40,
                             __os_version="Windows Server 2016 Standard 64bit", __support_kvm="true",
                             virtual_env_type="FusionCompute")
    w["queued"] = create_image(alice, name=unique("q"), tags=[tag], disk_format="qcow2", container_format="bare")
    # system attributes (__isregistered, __whole_image) are set by admin on alice's images
    w["unreg"] = create_image(admin, owner=alice.project_id, name=unique("unreg"), tags=[tag],
                              __isregistered="false")
    w["whole"] = create_image(admin, owner=alice.project_id, name=unique("whole"), tags=[tag],
                              __whole_image="true", virtual_env_type="DataImage")
    # bob shares one with alice (pending), another accepted
    w["pending"] = active_image(bob, name=unique("pend"), visibility="shared", tags=[tag])
    w["accepted"] = active_image(bob, name=unique("acc"), visibility="shared", tags=[tag])
    for k in ("pending", "accepted"):
        r = bob.post("/v2/images/%s/members" % w[k]["id"], json={"member": alice.project_id})
        assert r.status_code == 200, r.text
    r = alice.put("/v2/images/%s/members/%s" % (w["accepted"]["id"], alice.project_id),
                  json={"status": "accepted"})
    assert r.status_code == 200, r.text
    w["ownshared"] = create_image(alice, name=unique("own-sh"), visibility="shared", tags=[tag])
    r = alice.post("/v2/images/%s/members" % w["ownshared"]["id"], json={"member": bob.project_id})
    assert r.status_code == 200, r.text
    return w


def test_documented_example_public_sorted_by_name(admin, world):
    r = admin.get("/v2/cloudimages?__imagetype=gold&sort_key=name&limit=1")
    assert r.status_code == 200, r.text
    imgs = r.json()["images"]
    assert len(imgs) == 1
    img = imgs[0]
    assert img["__imagetype"] == "gold" and img["visibility"] == "public"
    for field in ("id", "name", "status", "visibility", "protected", "owner", "min_ram", "min_disk",
                  "container_format", "disk_format", "created_at", "updated_at", "tags", "self", "file",
                  "schema", "size", "virtual_size", "checksum", "__isregistered", "__os_type", "__platform",
                  "__os_bit", "virtual_env_type", "__image_source_type", "enterprise_project_id"):
        assert field in img, field


def test_imagetype_semantics(alice, world):
    t = world["tag"]
    gold = ids(alice, tag=t, __imagetype="gold")
    assert gold == [world["gold"]["id"]]
    private = set(ids(alice, tag=t, __imagetype="private"))
    assert {world["mine"]["id"], world["queued"]["id"], world["whole"]["id"]} <= private
    for k in ("gold", "accepted", "pending", "ownshared"):
        assert world[k]["id"] not in private, k
    shared = set(ids(alice, tag=t, __imagetype="shared"))
    assert world["accepted"]["id"] in shared and world["ownshared"]["id"] in shared
    assert world["pending"]["id"] not in shared and world["mine"]["id"] not in shared


def test_common_query_methods(alice, world):
    t = world["tag"]
    assert ids(alice, tag=t, __imagetype="gold", visibility="public", protected="true") == [world["gold"]["id"]]
    own = set(ids(alice, tag=t, owner=alice.project_id))
    assert world["mine"]["id"] in own and world["gold"]["id"] not in own
    acc = ids(alice, tag=t, member_status="accepted", visibility="shared", __imagetype="shared")
    assert world["accepted"]["id"] in acc and world["pending"]["id"] not in acc
    pend = ids(alice, tag=t, member_status="pending", visibility="shared", __imagetype="shared")
    assert world["pending"]["id"] in pend and world["accepted"]["id"] not in pend
    # the caller's own shared images are "shared" too (told apart by owner)
    rej = ids(alice, tag=t, member_status="rejected", visibility="shared", __imagetype="shared")
    assert rej == [world["ownshared"]["id"]]


def test_response_imagetype_field(alice, world):
    r = alice.get("/v2/cloudimages", params={"tag": world["tag"]})
    by_id = {i["id"]: i for i in r.json()["images"]}
    assert by_id[world["gold"]["id"]]["__imagetype"] == "gold"
    assert by_id[world["mine"]["id"]]["__imagetype"] == "private"
    assert by_id[world["accepted"]["id"]]["__imagetype"] == "shared"
    # "the __imagetype of images you share with other tenants ... is shared"
    assert by_id[world["ownshared"]["id"]]["__imagetype"] == "shared"


def test_own_image_imagetype_follows_its_members(alice, bob):
    img = create_image(alice, name=unique("follow"), visibility="shared")

    def imagetype():
        ims = alice.get("/v2/cloudimages", params={"id": img["id"]}).json()["images"]
        native = alice.get("/v2/images/%s" % img["id"]).json()
        assert ims[0]["__imagetype"] == native["__imagetype"], (ims, native)
        return native["__imagetype"]

    assert imagetype() == "private"
    assert alice.post("/v2/images/%s/members" % img["id"], json={"member": bob.project_id}).status_code == 200
    assert imagetype() == "shared"
    assert img["id"] in ids(alice, id=img["id"], __imagetype="shared")
    assert alice.delete("/v2/images/%s/members/%s" % (img["id"], bob.project_id)).status_code == 204
    assert imagetype() == "private"
    assert img["id"] in ids(alice, id=img["id"], __imagetype="private")


def test_isregistered_default_true(alice, world):
    t = world["tag"]
    assert world["unreg"]["id"] not in ids(alice, tag=t)
    assert ids(alice, tag=t, __isregistered="false") == [world["unreg"]["id"]]
    assert world["mine"]["id"] in ids(alice, tag=t, __isregistered="true")


@pytest.mark.parametrize("param,value,key", [
    ("__platform", "Windows", "mine"), ("__os_type", "Windows", "mine"), ("__os_bit", "64", "mine"),
    ("min_ram", "2048", "mine"), ("min_disk", "40", "mine"), ("__support_kvm", "true", "mine"),
    ("disk_format", "qcow2", "queued"), ("container_format", "bare", "queued"), ("status", "queued", "queued"),
    ("__whole_image", "true", "whole"), ("virtual_env_type", "DataImage", "whole"),
])
def test_filters(alice, world, param, value, key):
    got = ids(alice, tag=world["tag"], **{param: value})
    assert world[key]["id"] in got
    for other in ("mine", "queued", "whole"):
        if other != key and world[other]["id"] in got:
            # only the images that really match
            img = alice.get("/v2/images/%s" % world[other]["id"]).json()
            assert str(img.get(param)) == value or (param == "status" and img["status"] == value)


def test_exact_filters(alice, world):
    m = world["mine"]
    assert ids(alice, id=m["id"]) == [m["id"]]
    assert ids(alice, name=m["name"]) == [m["id"]]
    assert ids(alice, name=m["name"][:-1]) == []
    assert ids(alice, tag=world["tag"], name="in:%s" % m["name"]) == []       # no "in:" in IMS


def test_time_filters(alice, world):
    t = world["tag"]
    created = world["mine"]["created_at"]
    assert world["mine"]["id"] in ids(alice, tag=t, created_at="lte:" + created)
    assert world["mine"]["id"] in ids(alice, tag=t, created_at="gte:" + created.replace("T", " ").rstrip("Z"))
    assert world["mine"]["id"] not in ids(alice, tag=t, created_at="lt:2018-10-28T10:00:00Z")
    assert world["mine"]["id"] in ids(alice, tag=t, updated_at="gt:2018-10-28T10:00:00Z")
    assert world["mine"]["id"] not in ids(alice, tag=t, updated_at="neq:" + world["mine"]["updated_at"])
    assert ids(alice, tag=t, created_at="eq:" + created).count(world["mine"]["id"]) == 1


def test_sort_limit_marker(alice, world):
    t = world["tag"]
    r = alice.get("/v2/cloudimages", params={"tag": t, "sort_key": "name", "sort_dir": "asc"})
    names = [i["name"] for i in r.json()["images"]]
    assert names == sorted(names)
    all_ids = ids(alice, tag=t, sort_key="name", sort_dir="asc")
    page1 = ids(alice, tag=t, sort_key="name", sort_dir="asc", limit=2)
    page2 = ids(alice, tag=t, sort_key="name", sort_dir="asc", limit=2, marker=page1[-1])
    assert page1 + page2 == all_ids[:4]
    desc = ids(alice, tag=t)                          # created_at desc by default
    assert desc == ids(alice, tag=t, sort_key="created_at", sort_dir="desc")


@pytest.mark.parametrize("params,code", [
    ({"__imagetype": "public"}, "IMG.0001"), ({"visibility": "community"}, "IMG.0001"),
    ({"member_status": "maybe"}, "IMG.0001"), ({"sort_key": "owner"}, "IMG.0001"),
    ({"sort_dir": "sideways"}, "IMG.0001"), ({"limit": "-3"}, "IMG.0001"), ({"limit": "x"}, "IMG.0001"),
    ({"min_ram": "lots"}, "IMG.0055"), ({"min_disk": "-1"}, "IMG.0055"), ({"__os_type": "BeOS"}, "IMG.0122"),
    ({"architecture": "sparc"}, "IMG.0212"), ({"__platform": "Plan9"}, "IMG.0001"),
    ({"__os_bit": "128"}, "IMG.0001"), ({"status": "lost"}, "IMG.0001"),
    ({"__whole_image": "maybe"}, "IMG.0001"), ({"enterprise_project_id": "not-an-ep"}, "IMG.0001"),
    ({"created_at": "lt:last week"}, "IMG.0001"), ({"updated_at": "around:2018-10-28T10:00:00Z"}, "IMG.0001"),
    ({"marker": str(uuid.uuid4())}, "IMG.0027"),
])
def test_invalid_values(alice, params, code):
    err(alice, code, **params)


def test_needs_token(imsd):
    import requests
    r = requests.get(imsd.url + "/v2/cloudimages")
    assert r.status_code == 401


# ---------------------------------------------------------------- enterprise projects
@pytest.fixture(scope="module")
def eps(imsd):
    iam = Iam(imsd)
    P = unique("ep-p")
    iam.ctl("project", "create", P)
    owner = iam.user(P, role="member")
    E = iam.ctl("ep", "create", unique("ep-e"))
    E2 = iam.ctl("ep", "create", unique("ep-e2"))
    tag = unique("eptag")
    imgs = {}
    for name, ep in (("e", E), ("e2", E2), ("zero", "0")):
        imgs[name] = [create_image(owner, tags=[tag], enterprise_project_id=ep)["id"] for _ in range(3)]
    lister = iam.user(P, [(policy_doc("Allow", ["ims:images:list"]), "ep:" + E)])
    both = iam.user(P, [(policy_doc("Allow", ["ims:images:list"]), "ep:" + E),
                        (policy_doc("Allow", ["ims:images:list"]), "ep:" + E2)])
    return {"E": E, "E2": E2, "tag": tag, "imgs": imgs, "owner": owner, "lister": lister, "both": both}


def test_ep_grant_lists_only_its_images(eps):
    got = ids(eps["lister"], tag=eps["tag"])
    assert sorted(got) == sorted(eps["imgs"]["e"])


def test_ep_grant_pagination_stays_full(eps):
    api = eps["both"]
    want = set(eps["imgs"]["e"] + eps["imgs"]["e2"])
    p1 = ids(api, tag=eps["tag"], limit=4)
    assert len(p1) == 4 and set(p1) <= want
    p2 = ids(api, tag=eps["tag"], limit=4, marker=p1[-1])
    assert len(p2) == 2 and set(p1 + p2) == want


def test_ep_parameter_narrows(eps):
    api = eps["both"]
    assert sorted(ids(api, tag=eps["tag"], enterprise_project_id=eps["E2"])) == sorted(eps["imgs"]["e2"])
    assert ids(api, tag=eps["tag"], enterprise_project_id="0") == []
    assert len(ids(api, tag=eps["tag"], enterprise_project_id="all_granted_eps")) == 6
    owner = eps["owner"]
    assert sorted(ids(owner, tag=eps["tag"], enterprise_project_id="0")) == sorted(eps["imgs"]["zero"])
    assert len(ids(owner, tag=eps["tag"], enterprise_project_id="all_granted_eps")) == 9


def test_ep_grant_marker_outside_is_refused(eps):
    r = eps["lister"].get("/v2/cloudimages", params={"marker": eps["imgs"]["e2"][0]})
    assert r.status_code in (400, 403), r.text


def test_glance_list_unchanged(alice, world):
    """The shared engine still speaks Glance on /v2/images."""
    r = alice.get("/v2/images", params={"tag": world["tag"], "name": "in:%s" % world["mine"]["name"]})
    assert r.status_code == 200
    assert [i["id"] for i in r.json()["images"]] == [world["mine"]["id"]]
    r = alice.get("/v2/images", params={"__imagetype": "gold"})
    assert r.status_code == 200          # a property filter there, not an error
