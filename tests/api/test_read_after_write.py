"""No answer is older than the last acknowledged write (issue 15 item 2): a
write one process acknowledged shows in the very next read of every kind
that answers with the image (GET, the native list and its name and tag
filters, the IMS list, the v1.1 list, the v1 HEAD) on every HTTP thread of
that process and of a second process on the same database. Whatever is kept
to answer reads faster (rendered documents, pages) must keep these passing:
they hold today because every read asks the database.

Each read goes over its own connection, so reads land on every thread
(SO_REUSEPORT spreads connections, not requests); four threads each."""
import struct
import time
import uuid

import pytest

import pg_fixture
from helpers import Api, Iam, RawUpload, create_image, patch, policy_doc, unique

THREADS = 4
ROUNDS = 12          # reads of each kind, per process
CONFIG = {"server": {"threads": THREADS}}


def _get(api, path, **kw):
    r = api.get(path, headers={"Connection": "close"}, **kw)
    assert r.status_code == 200, (path, r.status_code, r.text)
    return r


def names_seen(api, image_id, name, tag):
    """The image's name as each kind of read shows it, ROUNDS times each;
    None where the read does not show the image at all."""
    seen = set()
    for _ in range(ROUNDS):
        seen.add(("get", _get(api, "/v2/images/%s" % image_id).json()["name"]))
        listed = {i["id"]: i["name"] for i in _get(api, "/v2/images", params={"limit": 1000}).json()["images"]}
        seen.add(("list", listed.get(image_id)))
        by_name = [i["id"] for i in _get(api, "/v2/images", params={"name": name}).json()["images"]]
        seen.add(("list name=", name if image_id in by_name else None))
        tagged = {i["id"]: i["name"] for i in _get(api, "/v2/images", params={"tag": tag}).json()["images"]}
        seen.add(("list tag=", tagged.get(image_id)))
        ims = {i["id"]: i["name"] for i in _get(api, "/v2/cloudimages", params={"id": image_id}).json()["images"]}
        seen.add(("ims list", ims.get(image_id)))
        v11 = {i["id"]: i["name"] for i in _get(api, "/v1.1/images/detail", params={"name": name}).json()["images"]}
        seen.add(("v1.1 list", v11.get(image_id)))
        r = api.head("/v1/images/%s" % image_id, headers={"Connection": "close"})
        assert r.status_code == 200, r.status_code
        seen.add(("v1 head", r.headers["x-image-meta-name"]))
    return seen


def everywhere(name):
    return {(kind, name) for kind in ("get", "list", "list name=", "list tag=", "ims list", "v1.1 list", "v1 head")}


def test_writes_show_on_every_thread_of_both_processes(start_imsd):
    first = start_imsd(config=CONFIG)
    second = start_imsd(config=CONFIG, data_dir=first.data_dir)
    apis = [first.admin(), second.admin()]
    tag = unique("raw-tag")
    img = create_image(apis[0], name=unique("raw"), tags=[tag])
    iid = img["id"]
    name = img["name"]
    for api in apis:   # every thread has answered with the image as it is now
        assert names_seen(api, iid, name, tag) == everywhere(name)
    for round_ in range(4):   # written on each process in turn, read on both
        writer = apis[round_ % 2]
        name = unique("raw-%d" % round_)
        r = patch(writer, iid, [{"op": "replace", "path": "/name", "value": name}])
        assert r.status_code == 200, r.text
        for api in apis:
            assert names_seen(api, iid, name, tag) == everywhere(name)


def test_an_id_deleted_and_made_again_shows_the_new_image(start_imsd):
    """The same id, deleted and created again at once with another name (same
    second, same number of writes): every read shows the new image."""
    first = start_imsd(config=CONFIG)
    second = start_imsd(config=CONFIG, data_dir=first.data_dir)
    apis = [first.admin(), second.admin()]
    iid = str(uuid.uuid4())
    tag = unique("again-tag")
    old = unique("old")
    create_image(apis[0], id=iid, name=old, tags=[tag])
    for api in apis:
        assert names_seen(api, iid, old, tag) == everywhere(old)
    assert apis[1].delete("/v2/images/%s" % iid).status_code == 204
    new = unique("new")
    create_image(apis[1], id=iid, name=new, tags=[tag])
    for api in apis:
        assert names_seen(api, iid, new, tag) == everywhere(new)


def test_kept_ims_documents_follow_the_caller(start_imsd):
    """The IMS document shows __imagetype as the caller sees it: one HTTP
    thread keeps a document per image state and per kind (native, IMS as
    the owner or as anyone else sees it, v1), so the owner, an administrator
    of another project and the native and v1 lists, read in turn on that
    thread, each get their own."""
    srv = start_imsd(config={"server": {"threads": 1}})
    admin, alice = srv.admin(), srv.project_user()
    img = create_image(alice, name=unique("kinds"))
    iid = img["id"]
    for _ in range(3):
        mine = _get(alice, "/v2/cloudimages", params={"id": iid}).json()["images"]
        assert [i["__imagetype"] for i in mine] == ["private"], mine
        theirs = _get(admin, "/v2/cloudimages", params={"id": iid}).json()["images"]
        assert [i["__imagetype"] for i in theirs] == ["shared"], theirs
        v11 = _get(admin, "/v1.1/images/detail", params={"name": img["name"]}).json()["images"]
        assert [(i["id"], i["is_public"]) for i in v11] == [(iid, False)], v11
        native = _get(admin, "/v2/images", params={"name": img["name"]}).json()["images"]
        assert [(i["id"], i["visibility"]) for i in native] == [(iid, img["visibility"])], native
    r = patch(admin, iid, [{"op": "replace", "path": "/visibility", "value": "public"}])
    assert r.status_code == 200, r.text
    for api in (alice, admin, alice):
        docs = _get(api, "/v2/cloudimages", params={"id": iid}).json()["images"]
        assert [i["__imagetype"] for i in docs] == ["gold"], docs


def presence(api, image_id, tag):
    """How the native list, its tag page and GET answer about the image,
    ROUNDS times each, each read on its own connection: "shown", "absent"
    (a 200 without it) or the refusal's status."""
    seen = set()
    for _ in range(ROUNDS):
        for kind, params in (("list", {"limit": 1000}), ("list tag=", {"tag": tag})):
            r = api.get("/v2/images", params=params, headers={"Connection": "close"})
            assert r.status_code in (200, 403), (r.status_code, r.text)
            listed = [i["id"] for i in r.json()["images"]] if r.status_code == 200 else []
            seen.add((kind, r.status_code if r.status_code != 200 else "shown" if image_id in listed else "absent"))
        r = api.get("/v2/images/%s" % image_id, headers={"Connection": "close"})
        assert r.status_code in (200, 403, 404), (r.status_code, r.text)
        seen.add(("get", "shown" if r.status_code == 200 else "refused"))
    return seen


def expect(lists, get):
    return {("list", lists), ("list tag=", lists), ("get", get)}


def on_both(second, api):
    """api, and the same token on the second server."""
    return [api, Api(second.url, api.token)]


def test_revoked_grants_count_on_every_thread_of_both_processes(start_imsd):
    """A caller reads an image through grants that imsctl (a third process)
    revokes and makes again: GET through an enterprise-project grant (the
    other enterprise project's grant still lets the caller read), the list
    through a project grant. The very next read on every thread of both
    servers follows each change. Whatever a server keeps of earlier answers
    must follow grants, not only images."""
    first = start_imsd(config=CONFIG)
    second = start_imsd(config=CONFIG, data_dir=first.data_dir)
    iam = Iam(first)
    project = unique("raw-p")
    iam.ctl("project", "create", project)
    owner = iam.user(project, role="member")
    kept_ep, revoked_ep = iam.ctl("ep", "create", unique("raw-e")), iam.ctl("ep", "create", unique("raw-e2"))
    tag = unique("raw-ep-tag")
    create_image(owner, tags=[tag], enterprise_project_id=kept_ep)
    iid = create_image(owner, tags=[tag], enterprise_project_id=revoked_ep)["id"]
    gets, lists = policy_doc("Allow", ["ims:images:get"]), policy_doc("Allow", ["ims:images:list"])
    reader = iam.user(project, [(gets, "ep:" + kept_ep), (gets, "ep:" + revoked_ep), (lists, "project")])
    apis = on_both(second, reader)
    for api in apis:
        assert presence(api, iid, tag) == expect("shown", "shown")
    iam.grant(reader.group, gets, "ep:" + revoked_ep, revoke=True)
    for api in apis:
        assert presence(api, iid, tag) == expect("shown", "refused")
    iam.grant(reader.group, lists, "project", project, revoke=True)
    for api in apis:
        assert presence(api, iid, tag) == expect(403, "refused")
    iam.grant(reader.group, gets, "ep:" + revoked_ep)
    iam.grant(reader.group, lists, "project", project)
    for api in apis:
        assert presence(api, iid, tag) == expect("shown", "shown")


def test_a_removed_member_no_longer_sees_the_image_on_every_thread_of_both_processes(start_imsd):
    """An image shared with a project (member accepted) shows in that
    project's lists; the owner removes the member on one server, adds it
    back on the other: every thread of both follows each change at once
    (the member's own rights and request are the same throughout)."""
    first = start_imsd(config=CONFIG)
    second = start_imsd(config=CONFIG, data_dir=first.data_dir)
    owner, member = first.project_user(), first.project_user()
    tag = unique("raw-member-tag")
    iid = create_image(owner, tags=[tag], visibility="shared")["id"]
    owners, members = on_both(second, owner), on_both(second, member)
    for api in members:
        assert presence(api, iid, tag) == expect("absent", "refused")
    for round_ in range(3):
        r = owners[round_ % 2].post("/v2/images/%s/members" % iid, json={"member": member.project_id})
        assert r.status_code == 200, r.text
        r = members[round_ % 2].put("/v2/images/%s/members/%s" % (iid, member.project_id),
                                    json={"status": "accepted"})
        assert r.status_code == 200, r.text
        for api in members:
            assert presence(api, iid, tag) == expect("shown", "shown")
        r = owners[(round_ + 1) % 2].delete("/v2/images/%s/members/%s" % (iid, member.project_id))
        assert r.status_code == 204, r.text
        for api in members:
            assert presence(api, iid, tag) == expect("absent", "refused")


def data_signal(srv):
    """The data signal's count (lib/db/signals.c: the magic, then the
    counters IAM, revocation, data, each a native uint64)."""
    return struct.unpack_from("=Q", (srv.data_dir / "imsd.db-signals").read_bytes(), 8 + 8 * 2)[0]


def next_renewal(srv, image_id, after):
    """The upload's lease expiry once the lease keeper renewed it past `after`."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        [(expires,)] = srv.sql("SELECT COALESCE(upload_expires, 0) FROM images WHERE id = ?", (image_id,))
        if int(expires) > after:
            return int(expires)
        time.sleep(0.1)
    raise AssertionError("the upload's lease was not renewed")


@pytest.mark.skipif(pg_fixture.ON_PG, reason="the data signal (and the answer cache) is SQLite's shared file's")
def test_lease_renewals_keep_the_answers_and_writes_still_show(start_imsd):
    """A lease renewal (an upload's, renewed every third of [images]
    upload_lease_seconds) changes only an expiry no answer shows: it moves no
    data signal, so the answers every thread keeps outlive it; a write made
    while renewals go on shows on every thread at once, as ever."""
    srv = start_imsd(config={"server": {"threads": THREADS}, "images": {"upload_lease_seconds": 5}})
    api = srv.admin()
    tag = unique("lease-tag")
    img = create_image(api, name=unique("lease"), tags=[tag])
    saving = create_image(api, disk_format="raw", container_format="bare")
    raw = RawUpload(srv, api.token, saving["id"], content_length=1 << 30)
    try:
        assert raw.send(b"x" * 65536)
        expires = next_renewal(srv, saving["id"], 0)  # the upload holds its lease
        for round_ in range(2):
            name = unique("lease-%d" % round_)
            r = patch(api, img["id"], [{"op": "replace", "path": "/name", "value": name}])
            assert r.status_code == 200, r.text
            assert names_seen(api, img["id"], name, tag) == everywhere(name)
            before = data_signal(srv)
            expires = next_renewal(srv, saving["id"], expires)
            assert data_signal(srv) == before, "a lease renewal moved the data signal"
            assert names_seen(api, img["id"], name, tag) == everywhere(name)
    finally:
        raw.close()
