"""Concurrent writes to one image: every acknowledged write is there
afterwards, every acknowledged upload is active with its checksum.

Each change of an image is one write transaction that reads the image
inside it; before, a PATCH, tag or member change read the image, changed
it and wrote the whole record back, erasing what others had been told had
succeeded. Each test is a few seconds at most."""
import threading
import uuid

import pytest

from helpers import (RawUpload, concurrently, create_image, get_image,
                     list_all, md5, patch, stored_blobs, upload)


@pytest.fixture(scope="module")
def srv(module_imsd):
    # more request threads than this machine's cores: the races need writers
    # running side by side
    return module_imsd(config={"server": {"threads": 8}})


@pytest.fixture(scope="module")
def owner(srv):
    return srv.project_user()


ROUNDS = 5   # a lost write showed in most rounds before, not in every one


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_tag_puts_are_all_kept(owner, round_):
    img = create_image(owner)
    tags = ["t%d" % i for i in range(40)]
    codes = concurrently(owner, [
        (lambda s, t=t: s.put("/v2/images/%s/tags/%s" % (img["id"], t)).status_code)
        for t in tags])
    assert codes == [204] * len(tags)
    assert sorted(get_image(owner, img["id"])["tags"]) == sorted(tags)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_concurrent_property_patches_are_all_kept(owner, round_):
    img = create_image(owner)
    props = {"p%d" % i: "v%d" % i for i in range(30)}
    codes = concurrently(owner, [
        (lambda s, k=k, v=v: patch(s, img["id"], [{"op": "add", "path": "/" + k,
                                                   "value": v}]).status_code)
        for k, v in props.items()])
    assert codes == [200] * len(props)
    got = get_image(owner, img["id"])
    assert {k: got.get(k) for k in props} == props


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_member_adds_stop_at_the_cap(owner, round_):
    img = create_image(owner, visibility="shared")
    url = "/v2/images/%s/members" % img["id"]
    for _ in range(124):   # the cap is 128 members
        r = owner.post(url, json={"member": uuid.uuid4().hex})
        assert r.status_code == 200, (r.status_code, r.text)
    codes = concurrently(owner, [
        (lambda s: s.post(url, json={"member": uuid.uuid4().hex}).status_code)
        for _ in range(40)])
    assert sorted(codes) == [200] * 4 + [413] * 36, codes
    r = owner.get(url)
    assert r.status_code == 200
    assert len(r.json()["members"]) == 128


@pytest.mark.parametrize("round_", range(3))
def test_patch_racing_an_upload_keeps_both(owner, round_):
    images = [create_image(owner, disk_format="raw", container_format="bare")
              for _ in range(16)]
    calls, expect = [], []
    for n, img in enumerate(images):
        data = ("data of image %d\n" % n).encode() * 2000
        calls.append(lambda s, i=img["id"], d=data: ("upload", i, d, upload(s, i, d).status_code))
        for k in range(6):
            calls.append(lambda s, i=img["id"], k=k: (
                "patch", i, "k%d" % k,
                patch(s, i, [{"op": "add", "path": "/k%d" % k, "value": "v"}]).status_code))
    results = concurrently(owner, calls)
    uploaded = 0
    for kind, image_id, what, code in results:
        got = get_image(owner, image_id)
        if kind == "upload" and code == 204:
            uploaded += 1
            assert got["status"] == "active", got
            assert got["checksum"] == md5(what), got
            assert got["size"] == len(what)
        elif kind == "patch" and code == 200:
            assert got.get(what) == "v", (what, got)
        else:
            assert code == 409, (kind, code)
    assert uploaded > 0


def test_delete_racing_an_upload_loses_no_acknowledged_upload(srv, owner):
    images = [create_image(owner, disk_format="raw", container_format="bare")
              for _ in range(12)]
    calls = []
    for n, img in enumerate(images):
        data = ("bytes of image %d\n" % n).encode() * 3000
        calls.append(lambda s, i=img["id"], d=data: ("upload", i, d, upload(s, i, d).status_code))
        calls.append(lambda s, i=img["id"]: ("delete", i, None,
                                             s.delete("/v2/images/%s" % i).status_code))
    results = concurrently(owner, calls)
    deleted = {i for kind, i, _, code in results if kind == "delete" and code == 204}
    for kind, image_id, data, code in results:
        assert code in (204, 404, 409, 410), (kind, code)
        if kind == "upload" and code == 204 and image_id not in deleted:
            got = get_image(owner, image_id)
            assert got["status"] == "active" and got["checksum"] == md5(data), got
    for image_id in deleted:
        assert owner.get("/v2/images/%s" % image_id).status_code == 404
    # the data of deleted images is gone: one blob per image of this
    # server still holding data (the owner's are all of them)
    holding = [i for i in list_all(owner) if i["status"] == "active"]
    assert len(stored_blobs(srv)) == len(holding)


def test_second_upload_while_saving_is_refused(srv, owner):
    img = create_image(owner, disk_format="raw", container_format="bare")
    data = b"x" * 65536
    first = RawUpload(srv, owner.token, img["id"], content_length=len(data))
    first.send(data[:1000])
    for _ in range(100):     # until the first upload holds the image in saving
        if get_image(owner, img["id"])["status"] == "saving":
            break
        threading.Event().wait(0.02)
    assert get_image(owner, img["id"])["status"] == "saving"
    r = upload(owner, img["id"], b"other data")
    assert r.status_code == 409, (r.status_code, r.text)
    first.send(data[1000:])
    status, _, body = first.response()
    assert status == 204, (status, body)
    got = get_image(owner, img["id"])
    assert got["status"] == "active" and got["checksum"] == md5(data)
