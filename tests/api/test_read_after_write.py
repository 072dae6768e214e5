"""No answer is older than the last acknowledged write (issue 15 item 2): a
write one process acknowledged shows in the very next read of every kind
that answers with the image (GET, the native list and its name and tag
filters, the IMS list, the v1.1 list, the v1 HEAD) on every HTTP thread of
that process and of a second process on the same database. Whatever is kept
to answer reads faster (rendered documents, pages) must keep these passing:
they hold today because every read asks the database.

Each read goes over its own connection, so reads land on every thread
(SO_REUSEPORT spreads connections, not requests); four threads each."""
import uuid

from helpers import create_image, patch, unique

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
