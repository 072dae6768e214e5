"""Kept documents and kept answers change no byte of an answer (issue 15
item 1): every list (the native one, the IMS one, v1.1's detail) under
every filter and sort, page after page through markers, and GET of each
image, read through an imsd with its caches on (rendered documents, whole
answers) equal the same reads through a second imsd on the same database
with both off ([images] document_cache_kib = 0, answer_cache_kib = 0), as
an administrator and as a project member, before and after writes.

The reads on the cached side come in an order that makes each cache
answer: a page is read twice (the second a kept answer on SQLite), and
the lists in other orders and filters meet images whose documents an
earlier list kept (their rows come back as stubs). Its first run found
a PATCH's reply kept under the image's new revision with the properties
in the order the change left them: the lists after it showed them so,
where a read of the row gives them by name (ims_image.as_read)."""
import pytest

from helpers import Api, active_image, create_image, patch, unique

CACHED = {"server": {"threads": 2}}
UNCACHED = {"server": {"threads": 2}, "images": {"document_cache_kib": 0, "answer_cache_kib": 0}}
PAGE = 3  # images per page: every list spans several pages


@pytest.fixture
def pair(start_imsd):
    cached = start_imsd(config=CACHED)
    plain = start_imsd(config=UNCACHED, data_dir=cached.data_dir)
    return cached, plain


def catalog(admin, alice, bob):
    """Images that differ in every filtered attribute and in what a
    document shows: owners, visibilities, members, data, tags, custom and
    IMS properties. Returns the values the filters below ask for."""
    tag, rare = unique("kt"), unique("rare")
    w = {"tag": tag, "rare": rare, "custom": unique("cv"), "name": unique("same")}
    made = []
    made.append(active_image(admin, name=unique("gold"), visibility="public", protected=True, tags=[tag, rare],
                             __os_type="Linux", __platform="Ubuntu", custom=w["custom"]))
    made.append(create_image(admin, name=w["name"], tags=[tag], disk_format="qcow2", container_format="bare",
                             min_ram=512, min_disk=4, extra_one="1", extra_two="two"))
    made.append(create_image(admin, name=w["name"], visibility="community", tags=[rare]))
    made.append(active_image(admin, name=unique("hidden"), os_hidden=True, visibility="public",
                             data=b"another payload\n"))
    made.append(create_image(alice, name=unique("mine"), tags=[tag], custom=w["custom"],
                             __os_version="Ubuntu 22.04 server 64bit"))
    made.append(active_image(alice, name=unique("mine-active"), visibility="shared", tags=[tag]))
    made.append(create_image(alice, name=unique("mine-q"), disk_format="vhd", container_format="ovf"))
    pending = active_image(bob, name=unique("pend"), visibility="shared", tags=[tag])
    accepted = active_image(bob, name=unique("acc"), visibility="shared", tags=[rare], custom="other")
    for img in (pending, accepted):
        r = bob.post("/v2/images/%s/members" % img["id"], json={"member": alice.project_id})
        assert r.status_code == 200, r.text
    r = alice.put("/v2/images/%s/members/%s" % (accepted["id"], alice.project_id), json={"status": "accepted"})
    assert r.status_code == 200, r.text
    made += [pending, accepted]
    for k in range(4):  # a run of plain ones: pages of the same shape
        made.append(create_image(admin, name="plain-%d" % k, tags=[tag]))
    w["ids"] = [i["id"] for i in made]
    w["alice"] = alice.project_id
    w["size"] = made[0]["size"]
    return w


def native_lists(w):
    return [
        {}, {"status": "queued"}, {"status": "active"}, {"status": "in:queued,active"},
        {"visibility": "public"}, {"visibility": "private"}, {"visibility": "shared"},
        {"visibility": "community"}, {"visibility": "all"}, {"name": w["name"]}, {"owner": w["alice"]},
        {"disk_format": "raw"}, {"container_format": "bare"}, {"size": w["size"]}, {"protected": "true"},
        {"tag": w["tag"]}, {"tag": w["rare"]}, {"custom": w["custom"]}, {"__os_type": "Linux"},
        {"member_status": "accepted"}, {"member_status": "all"}, {"os_hidden": "true"},
        {"sort_key": "name", "sort_dir": "asc"}, {"sort_key": "size"}, {"sort_key": "updated_at"},
        {"sort_key": "status"}, {"sort_key": "disk_format"}, {"sort_key": "id"}, {"sort": "name:asc,created_at:desc"},
    ]


def ims_lists(w):
    return [
        {}, {"status": "active"}, {"__imagetype": "gold"}, {"__imagetype": "private"}, {"__platform": "Ubuntu"},
        {"name": w["name"]}, {"visibility": "shared"}, {"sort_key": "name"}, {"disk_format": "raw"},
        {"member_status": "accepted"},
    ]


def pages(api, path, params, marker_of):
    """Every page of a list, each as (url, status, body bytes): the next
    page's marker is marker_of(the page's document)."""
    out = []
    params = dict(params, limit=PAGE)
    for _ in range(40):
        r = api.get(path, params=params)
        out.append((r.url[len(api.base):], r.status_code, r.content))
        if r.status_code != 200:
            return out
        marker = marker_of(r.json())
        if not marker:
            return out
        params = dict(params, marker=marker)
    raise AssertionError("too many pages: %s %s" % (path, params))


def native_marker(doc):
    return doc["images"][-1]["id"] if "next" in doc else None


def last_marker(doc):
    return doc["images"][-1]["id"] if len(doc["images"]) == PAGE else None


def reads(api, w):
    """Every read this test compares, as (url, status, body) in order."""
    out = []
    for params in native_lists(w):
        out += pages(api, "/v2/images", params, native_marker)
    for params in ims_lists(w):
        out += pages(api, "/v2/cloudimages", params, last_marker)
    for params in ({}, {"name": w["name"]}, {"sort_key": "name", "sort_dir": "asc"}):
        out += pages(api, "/v1.1/images/detail", params, last_marker)
    for iid in w["ids"]:
        r = api.get("/v2/images/%s" % iid)
        out.append((r.url[len(api.base):], r.status_code, r.content))
        r = api.get("/v2/cloudimages", params={"id": iid})
        out.append((r.url[len(api.base):], r.status_code, r.content))
    return out


def around_difference(a, b):
    """The bytes around the first difference of a and b."""
    i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
    return a[max(0, i - 200):i + 100], b[max(0, i - 200):i + 100]


def same_everywhere(cached_api, plain_api, w):
    cold = reads(cached_api, w)   # documents rendered and kept, stubs where an earlier read kept them
    warm = reads(cached_api, w)   # kept answers (SQLite) and kept documents
    plain = reads(plain_api, w)
    assert [(u, s) for u, s, _ in plain] == [(u, s) for u, s, _ in cold] == [(u, s) for u, s, _ in warm]
    # every list answers; a GET of an image the caller may not see is a 404 on both sides
    refused = [(u, s) for u, s, _ in plain if s != 200 and not (s == 404 and u.startswith("/v2/images/"))]
    assert not refused, refused
    for (url, _, a), (_, _, b), (_, _, c) in zip(plain, cold, warm):
        assert a == b, ("first read with caches differs", url) + around_difference(a, b)
        assert a == c, ("repeated read with caches differs", url) + around_difference(a, c)
    return len(plain)


def test_cached_answers_are_byte_identical_to_uncached_ones(pair):
    cached, plain = pair
    admin = cached.admin()
    alice, bob = cached.project_user(), cached.project_user()
    w = catalog(admin, alice, bob)
    for api in (admin, alice):
        n = same_everywhere(api, Api(plain.url, api.token), w)
        assert n > 60, n  # the lists did span pages
    # writes raise revisions: the kept documents of the old states are not used
    gold, mine = w["ids"][0], w["ids"][4]
    r = patch(admin, gold, [{"op": "replace", "path": "/name", "value": unique("renamed")},
                            {"op": "add", "path": "/added", "value": "yes"}])
    assert r.status_code == 200, r.text
    r = patch(alice, mine, [{"op": "remove", "path": "/custom"}])
    assert r.status_code == 200, r.text
    r = alice.put("/v2/images/%s/tags/%s" % (mine, w["rare"]))
    assert r.status_code == 204, r.text
    for api in (admin, alice):
        same_everywhere(api, Api(plain.url, api.token), w)
