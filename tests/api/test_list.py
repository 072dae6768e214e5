"""GET /v2/images: filters, sorting, limits, markers, links, pagination."""
import datetime
import time
import uuid

import pytest

from helpers import (Api, create_image, get_image, list_all, patch, unique, upload)


class Fixture:
    pass


@pytest.fixture(scope="module")
def lst(make_project_user, admin):
    """A project with a known set of images (A..E) + a member project M.

    A: private raw/bare active size 10 tags{common,x}    colour=red
    B: shared  qcow2/bare active size 1000 tags{common,y} colour=blue protected
    C: community raw/ovf queued tags{common,x,y}          colour=red
    --- >2 s later ---
    D: private hidden queued tags{common}
    E: shared vhd/bare queued tags{common}; M is a pending member
    F: admin's public image tagged common
    """
    f = Fixture()
    f.owner = make_project_user()
    f.member = make_project_user()
    f.common = unique("common")
    o = f.owner
    f.A = create_image(o, name=unique("alpha"), disk_format="raw", container_format="bare",
                       visibility="private", tags=[f.common, "x"], colour="red")
    f.B = create_image(o, name=unique("beta"), disk_format="qcow2", container_format="bare",
                       visibility="shared", tags=[f.common, "y"], colour="blue")
    f.C = create_image(o, name=unique("gamma"), disk_format="raw", container_format="ovf",
                       visibility="community", tags=[f.common, "x", "y"], colour="red")
    assert upload(o, f.A["id"], b"0123456789").status_code == 204
    assert upload(o, f.B["id"], b"b" * 1000).status_code == 204
    r = patch(o, f.B["id"], [{"op": "replace", "path": "/protected", "value": True}])
    assert r.status_code == 200, r.text
    time.sleep(2.2)
    f.D = create_image(o, name=unique("delta"), visibility="private", os_hidden=True,
                       tags=[f.common])
    f.E = create_image(o, name=unique("epsilon"), disk_format="vhd", container_format="bare",
                       visibility="shared", tags=[f.common])
    r = o.post("/v2/images/%s/members" % f.E["id"], json={"member": f.member.project_id})
    assert r.status_code == 200, r.text
    f.F = create_image(admin, name=unique("pub"), visibility="public", tags=[f.common])
    for k in "ABCDE":
        setattr(f, k, get_image(o, getattr(f, k)["id"]))
    f.ids = {k: getattr(f, k)["id"] for k in "ABCDEF"}
    return f


def ids_of(api, **params):
    r = api.get("/v2/images", params=params)
    assert r.status_code == 200, (params, r.status_code, r.text)
    return [i["id"] for i in r.json()["images"]]


def names(f, ids):
    inv = {v: k for k, v in f.ids.items()}
    return sorted(inv[i] for i in ids if i in inv)


def own(f, **params):
    """Filter over the owner's images (owner=...)."""
    params.setdefault("owner", f.owner.project_id)
    return names(f, ids_of(f.owner, **params))


def test_list_document_shape(lst):
    r = lst.owner.get("/v2/images", params={"owner": lst.owner.project_id})
    assert r.status_code == 200
    body = r.json()
    assert body["schema"] == "/v2/schemas/images"
    assert body["first"].startswith("/v2/images")
    assert "next" not in body
    for img in body["images"]:
        assert img["self"] == "/v2/images/%s" % img["id"]
        assert "status" in img and "visibility" in img and "tags" in img


def test_default_list(lst):
    # own images of every visibility except hidden ones, plus public images
    got = names(lst, ids_of(lst.owner))
    assert got == ["A", "B", "C", "E", "F"]
    # the member does not see E while pending, nor the community image C
    assert names(lst, ids_of(lst.member)) == ["F"]


def test_filter_name(lst):
    assert own(lst, name=lst.A["name"]) == ["A"]
    assert own(lst, name="no-such-name-" + uuid.uuid4().hex) == []


def test_filter_id_and_in(lst):
    assert own(lst, id=lst.ids["B"]) == ["B"]
    assert own(lst, id="in:%s,%s" % (lst.ids["A"], lst.ids["C"])) == ["A", "C"]


def test_filter_name_in(lst):
    assert own(lst, name="in:%s,%s" % (lst.A["name"], lst.E["name"])) == ["A", "E"]


def test_filter_owner(lst, admin):
    assert names(lst, ids_of(admin, owner=lst.owner.project_id)) == ["A", "B", "C", "E"]
    assert names(lst, ids_of(admin, owner=admin.project_id, tag=lst.common)) == ["F"]


def test_filter_status(lst):
    assert own(lst, status="active") == ["A", "B"]
    assert own(lst, status="queued") == ["C", "E"]
    assert own(lst, status="in:active,queued") == ["A", "B", "C", "E"]


@pytest.mark.parametrize("vis,expected", [
    ("private", ["A"]),
    ("shared", ["B", "E"]),
    ("community", ["C"]),
    ("all", ["A", "B", "C", "E"]),
])
def test_filter_visibility(lst, vis, expected):
    assert own(lst, visibility=vis) == expected


def test_filter_visibility_public(lst):
    assert names(lst, ids_of(lst.owner, visibility="public", tag=lst.common)) == ["F"]
    assert names(lst, ids_of(lst.member, visibility="public", tag=lst.common)) == ["F"]


def test_filter_visibility_community_other_project(lst):
    assert names(lst, ids_of(lst.member, visibility="community", tag=lst.common)) == ["C"]


def test_member_status_filter(lst):
    m = lst.member
    assert names(lst, ids_of(m, visibility="shared", member_status="pending")) == ["E"]
    assert names(lst, ids_of(m, visibility="shared", member_status="all")) == ["E"]
    assert names(lst, ids_of(m, visibility="shared", member_status="accepted")) == []
    assert names(lst, ids_of(m, visibility="shared")) == []
    assert names(lst, ids_of(m, visibility="shared", member_status="rejected")) == []


def test_filter_tags_all_must_match(lst):
    assert own(lst, tag=lst.common) == ["A", "B", "C", "E"]
    assert own(lst, tag=[lst.common, "x"]) == ["A", "C"]
    assert own(lst, tag=["x", "y"]) == ["C"]
    assert own(lst, tag=["x", "nope"]) == []


def test_filter_protected(lst):
    assert own(lst, protected="true") == ["B"]
    assert own(lst, protected="false") == ["A", "C", "E"]


def test_filter_os_hidden(lst):
    assert own(lst, os_hidden="true") == ["D"]
    assert own(lst, os_hidden="false") == ["A", "B", "C", "E"]
    # a hidden image stays reachable by id
    assert get_image(lst.owner, lst.ids["D"])["os_hidden"] is True


def test_filter_formats(lst):
    assert own(lst, container_format="ovf") == ["C"]
    assert own(lst, container_format="bare") == ["A", "B", "E"]
    assert own(lst, disk_format="qcow2") == ["B"]
    assert own(lst, disk_format="raw") == ["A", "C"]
    assert own(lst, disk_format="in:qcow2,vhd") == ["B", "E"]


def test_filter_size(lst):
    assert own(lst, size_min="100") == ["B"]
    assert own(lst, size_max="100") == ["A"]
    assert own(lst, size_min="10", size_max="1000") == ["A", "B"]
    assert own(lst, size_min="11", size_max="999") == []


def test_filter_custom_property(lst):
    assert own(lst, colour="red") == ["A", "C"]
    assert own(lst, colour="blue") == ["B"]
    assert own(lst, colour="green") == []


def iso_minus(t, seconds):
    d = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ")
    return (d - datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_filter_created_at(lst):
    # A, B, C were created > 2 s before D and E, so m lies strictly between
    # the two groups whatever precision the server keeps internally.
    m = iso_minus(lst.D["created_at"], 1)
    assert own(lst, created_at="gt:" + m) == ["E"]
    assert own(lst, created_at="gte:" + m) == ["E"]
    assert own(lst, created_at="lt:" + m) == ["A", "B", "C"]
    assert own(lst, created_at="lte:" + m) == ["A", "B", "C"]
    assert own(lst, created_at="neq:" + m) == ["A", "B", "C", "E"]
    assert own(lst, created_at="gt:2000-01-01T00:00:00Z") == ["A", "B", "C", "E"]
    assert own(lst, created_at="lt:2000-01-01T00:00:00Z") == []
    assert own(lst, os_hidden="true", created_at="gt:" + m) == ["D"]


def test_filter_created_at_eq_neq_displayed_value(lst):
    # filtering on the value the API shows finds the image (Glance stores seconds)
    t = lst.D["created_at"]
    assert own(lst, os_hidden="true", created_at="eq:" + t) == ["D"]
    assert own(lst, os_hidden="true", created_at="neq:" + t) == []
    assert "B" in own(lst, created_at="neq:" + t)


def test_filter_updated_at(lst):
    t = lst.E["updated_at"]
    assert "E" in own(lst, updated_at="gte:" + t)
    assert "A" in own(lst, updated_at="lt:" + t)
    assert "E" not in own(lst, updated_at="lt:" + t)
    assert own(lst, updated_at="gt:2999-01-01T00:00:00Z") == []


def test_unknown_status_value_refused(lst):
    # Glance itself lists nothing for an unknown status; imsd enforces the
    # values the reference enumerates (spec/query-enums.tsv), so a typo is a
    # 400 rather than an empty page
    r = lst.owner.get("/v2/images", params={"status": "bogus"})
    assert r.status_code == 400, r.text
    assert "Invalid value 'bogus' for 'status'" in r.json()["message"], r.text


@pytest.mark.parametrize("params", [
    {"visibility": "bogus"},
    {"member_status": "bogus"},
    {"protected": "maybe"},
    {"os_hidden": "maybe"},
    {"size_min": "abc"},
    {"size_max": "-x"},
    {"created_at": "gt:not-a-date"},
    {"created_at": "bogus:2020-01-01T00:00:00Z"},
    {"updated_at": "lt:yesterday"},
    {"limit": "-1"},
    {"limit": "abc"},
    {"sort_key": "no_such_key"},
    {"sort_dir": "sideways"},
    {"sort_key": "name", "sort_dir": "up"},
    {"sort": "name:sideways"},
    {"sort": "no_such_key:asc"},
    {"sort": "name:asc", "sort_key": "name"},
    {"marker": str(uuid.uuid4())},
    {"marker": "not-an-id"},
])
def test_bad_values_400(lst, params):
    r = lst.owner.get("/v2/images", params=params)
    assert r.status_code == 400, (params, r.status_code, r.text)


def sorted_ids(f, **params):
    return [i for i in ids_of(f.owner, owner=f.owner.project_id, **params) if i in f.ids.values()]


def test_default_sort_created_at_desc(lst):
    got = sorted_ids(lst)
    imgs = [get_image(lst.owner, i) for i in got]
    keys = [i["created_at"] for i in imgs]
    assert keys == sorted(keys, reverse=True)
    assert order(lst, got).index("E") == 0


def order(f, ids):
    inv = {v: k for k, v in f.ids.items()}
    return "".join(inv[i] for i in ids if i in inv)


def test_sort_key_name(lst):
    # names: alpha < beta < epsilon < gamma
    assert order(lst, sorted_ids(lst, sort_key="name", sort_dir="asc")) == "ABEC"
    assert order(lst, sorted_ids(lst, sort_key="name", sort_dir="desc")) == "CEBA"
    assert order(lst, sorted_ids(lst, sort_key="name")) == "CEBA"   # default dir desc


def test_sort_key_size(lst):
    got = order(lst, sorted_ids(lst, sort_key="size", sort_dir="asc", status="active"))
    assert got == "AB"
    got = order(lst, sorted_ids(lst, sort_key="size", sort_dir="desc", status="active"))
    assert got == "BA"


def test_sort_multiple_keys_and_dirs(lst):
    # disk_format: qcow2(B) raw(A,C) vhd(E); name desc inside raw: gamma(C) > alpha(A)
    got = sorted_ids(lst, sort_key=["disk_format", "name"], sort_dir=["asc", "desc"])
    assert order(lst, got) == "BCAE"
    got = sorted_ids(lst, sort_key=["disk_format", "name"], sort_dir=["desc", "asc"])
    assert order(lst, got) == "EACB"
    # one sort_dir applies to all keys
    got = sorted_ids(lst, sort_key=["disk_format", "name"], sort_dir="asc")
    assert order(lst, got) == "BACE"


def test_sort_new_syntax(lst):
    assert order(lst, sorted_ids(lst, sort="disk_format:asc,name:desc")) == "BCAE"
    assert order(lst, sorted_ids(lst, sort="name:asc")) == "ABEC"
    assert order(lst, sorted_ids(lst, sort="name")) == "CEBA"  # default desc
    assert order(lst, sorted_ids(lst, sort="container_format:desc,name:asc")) == "CABE"


def test_sort_by_created_at_and_status(lst):
    got = sorted_ids(lst, sort_key=["created_at", "name"], sort_dir=["asc", "asc"])
    o = order(lst, got)
    assert o.index("E") == 3 and sorted(o[:3]) == ["A", "B", "C"]
    got = sorted_ids(lst, sort="status:asc,name:asc")
    assert order(lst, got) == "ABEC"


def test_limit_marker_and_links(lst):
    o = lst.owner
    base = {"owner": o.project_id, "sort": "name:asc"}
    r = o.get("/v2/images", params=dict(base, limit=2))
    assert r.status_code == 200
    body = r.json()
    assert order(lst, [i["id"] for i in body["images"]]) == "AB"
    assert "next" in body
    assert body["first"].startswith("/v2/images")
    assert "marker=" not in body["first"]
    assert "marker=%s" % lst.ids["B"] in body["next"]
    assert "limit=2" in body["next"]
    r = o.get(body["next"])
    assert r.status_code == 200, r.text
    body2 = r.json()
    assert order(lst, [i["id"] for i in body2["images"]]) == "EC"
    # a full page always carries a next link; the page after it is empty
    if "next" in body2:
        body3 = o.get(body2["next"]).json()
        assert body3["images"] == []
        assert "next" not in body3
    # marker directly
    got = ids_of(o, owner=o.project_id, sort="name:asc", marker=lst.ids["B"])
    assert order(lst, got) == "EC"
    # the 'first' link restarts the listing
    r = o.get(body2["first"])
    assert order(lst, [i["id"] for i in r.json()["images"]]) == "AB"


def test_marker_of_invisible_image_400(lst):
    # the member cannot see A (private), so it is not a valid marker for it
    r = lst.member.get("/v2/images", params={"marker": lst.ids["A"]})
    assert r.status_code == 400


def test_list_walk_limit_1(lst):
    got = list_all(lst.owner, params={"owner": lst.owner.project_id, "limit": 1})
    assert names(lst, [i["id"] for i in got]) == ["A", "B", "C", "E"]
    assert len(got) == len({i["id"] for i in got})


def test_list_needs_token(imsd):
    assert Api(imsd.url).get("/v2/images").status_code == 401


# ------------------------------------------------------------- configured limits
def test_configured_limits(start_imsd):
    srv = start_imsd(config={"images": {"list_limit_max": 5, "list_limit_default": 3}})
    a = srv.admin()
    made = {create_image(a)["id"] for _ in range(8)}
    r = a.get("/v2/images")
    assert r.status_code == 200
    body = r.json()
    assert len(body["images"]) == 3
    assert "next" in body
    r = a.get("/v2/images", params={"limit": 100})
    assert len(r.json()["images"]) == 5
    seen = [i["id"] for i in list_all(a, params={"limit": 100})]
    assert len(seen) == len(set(seen))
    assert set(seen) == made
    seen = [i["id"] for i in list_all(a)]
    assert set(seen) == made and len(seen) == 8


# ------------------------------------------------------------- > 1000 images
N_BIG = 1100


@pytest.fixture(scope="module")
def big(module_imsd):
    srv = module_imsd()
    a = srv.admin()
    made = []
    for n in range(N_BIG):
        r = a.post("/v2/images", json={"name": "big-%05d" % n, "disk_format": "raw",
                                       "container_format": "bare"})
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
    return srv, a, made


def test_pagination_default_max_1000(big):
    _, a, made = big
    r = a.get("/v2/images", params={"limit": 5000})
    assert r.status_code == 200
    body = r.json()
    assert len(body["images"]) == 1000
    assert "next" in body
    r = a.get("/v2/images")
    assert len(r.json()["images"]) == 25


def test_pagination_walk_next_links_max(big):
    _, a, made = big
    seen = [i["id"] for i in list_all(a, params={"limit": 1000})]
    assert len(seen) == N_BIG
    assert len(set(seen)) == N_BIG
    assert set(seen) == set(made)


def test_pagination_walk_default_and_sorted(big):
    _, a, made = big
    seen = [i["id"] for i in list_all(a)]
    assert len(seen) == N_BIG and set(seen) == set(made)
    imgs = list_all(a, params={"limit": 300, "sort": "name:asc"})
    got = [i["name"] for i in imgs]
    assert got == ["big-%05d" % n for n in range(N_BIG)]
    imgs = list_all(a, params={"limit": 333, "sort_key": "created_at", "sort_dir": "asc"})
    ids = [i["id"] for i in imgs]
    assert len(ids) == N_BIG and set(ids) == set(made)
    keys = [i["created_at"] for i in imgs]
    assert keys == sorted(keys)


def test_list_entries_equal_show(make_project_user):
    """A page mixing images with and without custom properties and tags (the
    list loads those only for images that have any) shows every image exactly
    as GET /v2/images/{id} does, IMS attributes included; so does the IMS list."""
    api = make_project_user()
    made = [
        create_image(api, name="plain"),
        create_image(api, name="props", hw_disk_bus="scsi", zeta="last", alpha="first"),
        create_image(api, name="tagged", tags=["b-tag", "a-tag", "9:x", "a:b:c", "\u00fcn\u00ef c\u00f8d\u00e9"]),
        create_image(api, name="both", tags=["t"], __os_version="Ubuntu 20.04 server 64bit",
                     hw_qemu_guest_agent="yes"),
        create_image(api, name="plain2"),
    ]
    patch(api, made[0]["id"], [{"op": "add", "path": "/late_prop", "value": "v"}])
    patch(api, made[1]["id"], [{"op": "remove", "path": "/zeta"}])
    page = api.get("/v2/images", params={"limit": 25, "owner": api.project_id}).json()["images"]
    assert len(page) == len(made)
    for entry in page:
        shown = get_image(api, entry["id"])
        assert entry == shown, (entry, shown)
    by_name = {e["name"]: e for e in page}
    assert by_name["plain"]["late_prop"] == "v"
    assert "zeta" not in by_name["props"] and by_name["props"]["alpha"] == "first"
    assert sorted(by_name["tagged"]["tags"]) == sorted(["a-tag", "b-tag", "9:x", "a:b:c", "\u00fcn\u00ef c\u00f8d\u00e9"])
    assert by_name["both"]["__platform"] == "Ubuntu" and by_name["both"]["__imagetype"] == "private"
    ims = api.get("/v2/cloudimages", params={"limit": 25, "owner": api.project_id}).json()["images"]
    assert {e["id"] for e in ims} == {e["id"] for e in page}
    for e in ims:
        for key in ("__platform", "__os_bit", "__imagetype", "tags"):
            assert e.get(key) == by_name[e["name"]].get(key), (key, e, by_name[e["name"]])


def test_tag_filter_pages_with_markers_in_every_order(make_project_user):
    """A tag filter with the default order walks the tag's own index (its
    copy of created_at): pages joined by markers give exactly the tagged
    images, in the same order as one big page and as the untagged list
    filtered by hand, for both directions and for other sort keys; a second
    tag still has to match too. Images made within one second tie on
    created_at and are ordered by id."""
    api = make_project_user()
    tag, other = unique("pg"), unique("pg2")
    tagged = set()
    both = set()
    for i in range(9):
        tags = [tag] if i % 3 else []
        if i % 4 == 1:
            tags.append(other)
        img = create_image(api, name="n%d" % ((i * 5) % 9), tags=tags)
        if tag in tags:
            tagged.add(img["id"])
            if other in tags:
                both.add(img["id"])
    base = {"owner": api.project_id}
    for order in ({}, {"sort_dir": "asc"}, {"sort": "created_at:asc"}, {"sort_key": "name"},
                  {"sort": "name:desc,created_at:asc"}):
        every = [i["id"] for i in api.get("/v2/images", params=dict(base, limit=100, **order)).json()["images"]]
        want = [i for i in every if i in tagged]
        assert len(want) == len(tagged)
        one_page = [i["id"] for i in api.get("/v2/images", params=dict(base, tag=tag, limit=100, **order))
                    .json()["images"]]
        assert one_page == want, order
        paged = [i["id"] for i in list_all(api, dict(base, tag=tag, limit=2, **order))]
        assert paged == want, order
        two = [i["id"] for i in api.get("/v2/images", params=dict(base, tag=[tag, other], limit=100, **order))
               .json()["images"]]
        assert two == [i for i in every if i in both], order


def test_lists_in_parts_equal_the_list_filtered_by_hand(make_project_user, admin):
    """Lists answered as the merge of parts that each walk their own index
    (an in: filter's values; the default view of a caller who is not an
    administrator: own, public, community, shared with it), and a custom
    property's equality walked on its own index, page through markers to
    exactly what the administrator's whole list gives filtered by hand, in
    the same order, on either engine. Images made within one second tie on
    created_at (ordered by id); an own public image is in two parts and
    shown once."""
    me, other = make_project_user(), make_project_user()
    mine, accepted = [], set()
    for i in range(7):
        img = create_image(me, name="m%d" % i, colour="red" if i % 2 else "blue")
        if i % 3 == 0:
            assert upload(me, img["id"], b"x" * (i + 1)).status_code == 204
        mine.append(img["id"])
    for i in range(4):
        img = create_image(other, name="o%d" % i, visibility="shared" if i < 3 else "community",
                           colour="red")
        if i < 3:
            r = other.post("/v2/images/%s/members" % img["id"], json={"member": me.project_id})
            assert r.status_code == 200, r.text
        if i < 2:
            r = me.put("/v2/images/%s/members/%s" % (img["id"], me.project_id), json={"status": "accepted"})
            assert r.status_code == 200, r.text
            accepted.add(img["id"])
    own_public = create_image(admin, name="pub-own", visibility="public", colour="red")
    r = patch(admin, own_public["id"], [{"op": "replace", "path": "/owner", "value": me.project_id}])
    assert r.status_code == 200, r.text
    create_image(admin, name="pub", visibility="public", colour="red")

    everything = list_all(admin, {"limit": 1000})  # newest first, ties by id

    def seen_by_me(i, visibility=None):
        if visibility == "all":
            return seen_by_me(i) or i["visibility"] == "community"
        return i["owner"] == me.project_id or i["visibility"] == "public" or i["id"] in accepted

    def paged(api, params, limit):
        return [i["id"] for i in list_all(api, dict(params, limit=limit))]

    for limit in (1, 2, 5):
        assert paged(me, {}, limit) == [i["id"] for i in everything if seen_by_me(i)], limit
        assert paged(me, {"visibility": "all"}, limit) == [
            i["id"] for i in everything if seen_by_me(i, "all")], limit
        want = [i["id"] for i in everything if i["owner"] == me.project_id and i["status"] in ("queued", "active")]
        assert len(want) == 8
        got = paged(admin, {"status": "in:active,queued,killed", "owner": me.project_id}, limit)
        assert got == want, limit
        assert paged(me, {"status": "in:active,queued"}, limit) == [
            i["id"] for i in everything if seen_by_me(i) and i["status"] in ("active", "queued")], limit
        assert paged(admin, {"colour": "red"}, limit) == [
            i["id"] for i in everything if i.get("colour") == "red"], limit
        assert paged(me, {"colour": "red"}, limit) == [
            i["id"] for i in everything if seen_by_me(i) and i.get("colour") == "red"], limit
