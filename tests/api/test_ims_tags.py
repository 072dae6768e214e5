"""IMS image tag calls (reference ims_apis/image_tagging/, common_parameters/
image_tag_format.md) against a real imsd, and their consistency with the
native tags: an IMS tag (key, value) is the native tag "key=value" ("key"
alone for the empty value)."""
import uuid

import pytest

from helpers import active_image, create_image, get_image, unique


def code_of(r):
    return r.json()["error"]["code"]


def ims_error(r, status, code):
    assert r.status_code == status, r.text
    assert code_of(r) == code, r.text
    assert r.json()["error"]["message"]


def v2(api, path):
    return "/v2/%s/images%s" % (api.project_id, path)


def image_tags(api, image_id):
    r = api.get(v2(api, "/%s/tags" % image_id))
    assert r.status_code == 200, r.text
    return {t["key"]: t["value"] for t in r.json()["tags"]}


def add(api, image_id, key, value):
    return api.post(v2(api, "/%s/tags" % image_id), json={"tag": {"key": key, "value": value}})


def native(api, image_id):
    return sorted(get_image(api, image_id)["tags"])


@pytest.fixture
def img(alice):
    return create_image(alice, visibility="private")


# ---------------------------------------------------------------- PUT /v1/cloudimages/tags
def test_v1_put_documented_tag_example(alice, img):
    r = alice.put("/v1/cloudimages/tags", json={"image_id": img["id"], "tag": "aaaa.1111"})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert native(alice, img["id"]) == ["aaaa=1111"]
    assert image_tags(alice, img["id"]) == {"aaaa": "1111"}


def test_v1_put_documented_image_tag_example(alice, img):
    r = alice.put("/v1/cloudimages/tags",
                  json={"image_id": img["id"], "image_tag": {"key": "key1", "value": "value1"}})
    assert r.status_code == 204, r.text
    assert native(alice, img["id"]) == ["key1=value1"]


def test_v1_put_modifies_existing_key(alice, img):
    url = "/v1/cloudimages/tags"
    assert alice.put(url, json={"image_id": img["id"], "tag": "env.dev"}).status_code == 204
    assert alice.put(url, json={"image_id": img["id"], "tag": "env.prod"}).status_code == 204
    assert native(alice, img["id"]) == ["env=prod"]
    # a key alone is a tag with the empty value
    assert alice.put(url, json={"image_id": img["id"], "tag": "solo"}).status_code == 204
    assert image_tags(alice, img["id"]) == {"env": "prod", "solo": ""}
    assert "solo" in native(alice, img["id"])


def test_v1_put_image_tag_trims_spaces(alice, img):
    r = alice.put("/v1/cloudimages/tags",
                  json={"image_id": img["id"], "image_tag": {"key": "  k1 ", "value": " v 1  "}})
    assert r.status_code == 204, r.text
    assert image_tags(alice, img["id"]) == {"k1": "v 1"}


@pytest.mark.parametrize("body,code", [
    ({"image_id": None, "tag": "a.b"}, "IMG.0001"),                         # no image_id
    ({"image_id": 5, "tag": "a.b"}, "IMG.0001"),
    ({"tag": "a.b", "image_tag": {"key": "a", "value": "b"}}, "IMG.0001"),  # both
    ({}, "IMG.0001"),                                                       # neither
    ({"tag": 5}, "IMG.0001"),
    ({"image_tag": "k.v"}, "IMG.0001"),
    ({"image_tag": {"key": "k"}}, "IMG.0001"),
    ({"tag": ".value"}, "IMG.0115"),                                        # empty key
    ({"tag": ""}, "IMG.0115"),
    ({"tag": "k" * 37 + ".v"}, "IMG.0115"),                                 # key > 36
    ({"tag": "k.%s" % ("v" * 44)}, "IMG.0115"),                             # value > 43
    ({"tag": "bad key.v"}, "IMG.0115"),                                     # charset
    ({"tag": "k.v.w"}, "IMG.0115"),
    ({"tag": "k=1.v"}, "IMG.0115"),
    ({"image_tag": {"key": "", "value": "v"}}, "IMG.0115"),
    ({"image_tag": {"key": "   ", "value": "v"}}, "IMG.0115"),
    ({"image_tag": {"key": "k" * 37, "value": "v"}}, "IMG.0115"),
    ({"image_tag": {"key": "k", "value": "v" * 44}}, "IMG.0115"),
    ({"image_tag": {"key": "a=b", "value": "v"}}, "IMG.0115"),
])
def test_v1_put_invalid(alice, img, body, code):
    body = dict(body)
    if "image_id" not in body:
        body["image_id"] = img["id"]
    elif body["image_id"] is None:
        del body["image_id"]
    ims_error(alice.put("/v1/cloudimages/tags", json=body), 400, code)
    assert native(alice, img["id"]) == []


def test_v1_put_limits_accepted(alice, img):
    r = alice.put("/v1/cloudimages/tags", json={"image_id": img["id"], "tag": "K" * 36 + "." + "v" * 43})
    assert r.status_code == 204, r.text
    r = alice.put("/v1/cloudimages/tags",
                  json={"image_id": img["id"], "image_tag": {"key": "k_-9", "value": ""}})
    assert r.status_code == 204, r.text
    assert image_tags(alice, img["id"]) == {"K" * 36: "v" * 43, "k_-9": ""}


def test_v1_put_errors(alice, bob, img):
    url = "/v1/cloudimages/tags"
    ims_error(alice.put(url, data=b""), 400, "IMG.0007")
    ims_error(alice.put(url, data=b"{not json", headers={"Content-Type": "application/json"}), 400, "IMG.0001")
    ims_error(alice.put(url, json=[1]), 400, "IMG.0001")
    ims_error(alice.put(url, json={"image_id": str(uuid.uuid4()), "tag": "a.b"}), 400, "IMG.0027")
    # another project's private image does not exist for bob
    ims_error(bob.put(url, json={"image_id": img["id"], "tag": "a.b"}), 400, "IMG.0027")


# ---------------------------------------------------------------- GET /v1/cloudimages/tags
def test_v1_list_documented_example(make_project_user):
    alice = make_project_user()
    a = create_image(alice, tags=["jjjj=11111"])
    r = alice.put("/v1/cloudimages/tags", json={"image_id": a["id"], "tag": "uuuu.22222"})
    assert r.status_code == 204
    assert alice.put("/v2/images/%s/tags/test" % a["id"]).status_code == 204
    r = alice.get("/v1/cloudimages/tags?limit=5&page=1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["tags"]
    assert all(isinstance(t, str) for t in body["tags"])
    assert {"jjjj=11111", "uuuu=22222", "test"} <= set(body["tags"])
    assert len(body["tags"]) == len(set(body["tags"]))


def test_v1_list_filters(alice, bob):
    t = "f" + uuid.uuid4().hex[:8]
    a = create_image(alice, name=unique("v1list"), tags=["%s=one" % t])
    b = create_image(alice, name=unique("v1list"), tags=["%s=two" % t, "other=x"])
    # tag filter in the key=value form (the reference's "tag=a=b")
    r = alice.get("/v1/cloudimages/tags", params={"tag": "%s=two" % t})
    assert r.status_code == 200, r.text
    assert sorted(r.json()["tags"]) == sorted(["%s=two" % t, "other=x"])
    r = alice.get("/v1/cloudimages/tags", params={"name": a["name"]})
    assert r.json()["tags"] == ["%s=one" % t]
    r = alice.get("/v1/cloudimages/tags", params={"id": b["id"]})
    assert sorted(r.json()["tags"]) == sorted(["%s=two" % t, "other=x"])
    # another project's private images are not listed
    assert "%s=one" % t not in bob.get("/v1/cloudimages/tags").json()["tags"]
    ims_error(alice.get("/v1/cloudimages/tags", params={"__imagetype": "nonsense"}), 400, "IMG.0001")
    assert alice.get("/v1/cloudimages/tags", params={"limit": "x"}).status_code == 400


# ---------------------------------------------------------------- POST /v2/{project_id}/images/{image_id}/tags
def test_add_documented_example(alice, img):
    r = alice.post(v2(alice, "/%s/tags" % img["id"]), json={"tag": {"value": "value1", "key": "key1"}})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert image_tags(alice, img["id"]) == {"key1": "value1"}
    assert native(alice, img["id"]) == ["key1=value1"]


def test_add_idempotent_and_overwrite(alice, img):
    before = get_image(alice, img["id"])["updated_at"]
    assert add(alice, img["id"], "k", "v1").status_code == 204
    assert add(alice, img["id"], "k", "v1").status_code == 204
    assert native(alice, img["id"]) == ["k=v1"]
    assert add(alice, img["id"], "k", "v2").status_code == 204
    assert native(alice, img["id"]) == ["k=v2"]
    assert add(alice, img["id"], "k", "").status_code == 204
    assert native(alice, img["id"]) == ["k"]
    assert image_tags(alice, img["id"]) == {"k": ""}
    assert get_image(alice, img["id"])["updated_at"] >= before


def test_add_at_most_ten_tags(alice, img):
    for i in range(10):
        assert add(alice, img["id"], "key%d" % i, "v").status_code == 204
    ims_error(add(alice, img["id"], "key10", "v"), 400, "IMG.0116")
    # updating one of the ten is fine
    assert add(alice, img["id"], "key3", "new").status_code == 204
    tags = image_tags(alice, img["id"])
    assert len(tags) == 10 and tags["key3"] == "new" and "key10" not in tags


@pytest.mark.parametrize("body,code", [
    ({}, "IMG.0001"),
    ({"tag": "k.v"}, "IMG.0001"),
    ({"tag": {"key": "k"}}, "IMG.0001"),
    ({"tag": {"value": "v"}}, "IMG.0001"),
    ({"tag": {"key": 1, "value": "v"}}, "IMG.0001"),
    ({"tag": {"key": "", "value": "v"}}, "IMG.0115"),
    ({"tag": {"key": "k" * 37, "value": "v"}}, "IMG.0115"),
    ({"tag": {"key": "k", "value": "v" * 44}}, "IMG.0115"),
    ({"tag": {"key": "a=b", "value": "v"}}, "IMG.0115"),
    ({"tag": {"key": "k\n", "value": "v"}}, "IMG.0115"),
])
def test_add_invalid(alice, img, body, code):
    ims_error(alice.post(v2(alice, "/%s/tags" % img["id"]), json=body), 400, code)
    assert native(alice, img["id"]) == []


def test_add_lengths_in_characters(alice, img):
    assert add(alice, img["id"], "é" * 36, "ü" * 43).status_code == 204
    assert image_tags(alice, img["id"]) == {"é" * 36: "ü" * 43}


def test_add_empty_body_and_missing_image(alice, img):
    ims_error(alice.post(v2(alice, "/%s/tags" % img["id"]), data=b""), 400, "IMG.0007")
    ims_error(add(alice, str(uuid.uuid4()), "k", "v"), 400, "IMG.0027")


def test_other_projects_images(alice, bob):
    private = create_image(alice, visibility="private")
    ims_error(add(bob, private["id"], "k", "v"), 400, "IMG.0027")
    ims_error(bob.get(v2(bob, "/%s/tags" % private["id"])), 400, "IMG.0027")
    # an image bob can see but does not own: readable, not changeable
    com = create_image(alice, visibility="community", tags=["keep=1"])
    assert image_tags(bob, com["id"]) == {"keep": "1"}
    ims_error(add(bob, com["id"], "k", "v"), 400, "IMG.0047")
    ims_error(bob.delete(v2(bob, "/%s/tags/keep" % com["id"])), 400, "IMG.0047")
    ims_error(bob.post(v2(bob, "/%s/tags/action" % com["id"]),
                       json={"action": "delete", "tags": [{"key": "keep"}]}), 400, "IMG.0047")
    assert native(alice, com["id"]) == ["keep=1"]


# ---------------------------------------------------------------- project id in the path
@pytest.mark.parametrize("method,path,body", [
    ("POST", "/{img}/tags", {"tag": {"key": "k", "value": "v"}}),
    ("POST", "/{img}/tags/action", {"action": "create", "tags": [{"key": "k", "value": "v"}]}),
    ("DELETE", "/{img}/tags/k", None),
    ("GET", "/{img}/tags", None),
    ("GET", "/tags", None),
    ("POST", "/resource_instances/action", {"action": "count"}),
])
def test_project_id_must_be_the_callers(alice, bob, img, method, path, body):
    assert add(alice, img["id"], "k", "v").status_code == 204
    for project in (bob.project_id, uuid.uuid4().hex):
        url = "/v2/%s/images%s" % (project, path.format(img=img["id"]))
        ims_error(alice.request(method, url, json=body), 400, "IMG.0030")
    assert native(alice, img["id"]) == ["k=v"]


# ---------------------------------------------------------------- batch
def test_batch_documented_examples(alice, img):
    url = v2(alice, "/%s/tags/action" % img["id"])
    tags = [{"value": "value1", "key": "key1"}, {"value": "value2", "key": "key2"},
            {"value": "", "key": "key3"}]
    r = alice.post(url, json={"tags": tags, "action": "create"})
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert image_tags(alice, img["id"]) == {"key1": "value1", "key2": "value2", "key3": ""}
    assert native(alice, img["id"]) == ["key1=value1", "key2=value2", "key3"]
    r = alice.post(url, json={"tags": tags, "action": "delete"})
    assert r.status_code == 204, r.text
    assert image_tags(alice, img["id"]) == {}
    # deleting what is not there succeeds
    assert alice.post(url, json={"tags": tags, "action": "delete"}).status_code == 204


def test_batch_create_updates_and_is_all_or_nothing(alice, img):
    url = v2(alice, "/%s/tags/action" % img["id"])
    first = [{"key": "k%d" % i, "value": "v"} for i in range(8)]
    assert alice.post(url, json={"action": "create", "tags": first}).status_code == 204
    # update two, add two: 10 keys
    more = [{"key": "k0", "value": "new"}, {"key": "k1", "value": "new"},
            {"key": "k8", "value": "v"}, {"key": "k9", "value": "v"}]
    assert alice.post(url, json={"action": "create", "tags": more}).status_code == 204
    tags = image_tags(alice, img["id"])
    assert len(tags) == 10 and tags["k0"] == tags["k1"] == "new"
    # one more key: refused, nothing applied
    r = alice.post(url, json={"action": "create",
                              "tags": [{"key": "k2", "value": "changed"}, {"key": "k10", "value": "v"}]})
    ims_error(r, 400, "IMG.0116")
    assert image_tags(alice, img["id"]) == tags
    # an invalid tag among valid ones: nothing applied
    r = alice.post(url, json={"action": "create",
                              "tags": [{"key": "k2", "value": "changed"}, {"key": "", "value": "v"}]})
    ims_error(r, 400, "IMG.0115")
    assert image_tags(alice, img["id"]) == tags


def test_batch_delete_rules(alice, img):
    url = v2(alice, "/%s/tags/action" % img["id"])
    assert alice.post(url, json={"action": "create", "tags": [{"key": "a", "value": "1"},
                                                              {"key": "b", "value": "2"},
                                                              {"key": "c", "value": "3"}]}).status_code == 204
    # value optional: by key; a value given must match
    assert alice.post(url, json={"action": "delete", "tags": [{"key": "a"}]}).status_code == 204
    assert alice.post(url, json={"action": "delete", "tags": [{"key": "b", "value": "other"}]}).status_code == 204
    assert image_tags(alice, img["id"]) == {"b": "2", "c": "3"}
    # characters are not checked on delete, lengths are (127 / 255)
    assert alice.post(url, json={"action": "delete", "tags": [{"key": "x y=z", "value": "*"}]}).status_code == 204
    assert alice.post(url, json={"action": "delete",
                                 "tags": [{"key": "k" * 127, "value": "v" * 255}]}).status_code == 204
    ims_error(alice.post(url, json={"action": "delete", "tags": [{"key": "k" * 128}]}), 400, "IMG.0115")
    ims_error(alice.post(url, json={"action": "delete", "tags": [{"key": "k", "value": "v" * 256}]}),
              400, "IMG.0115")
    ims_error(alice.post(url, json={"action": "delete", "tags": [{"key": ""}]}), 400, "IMG.0115")


@pytest.mark.parametrize("body,code", [
    ({"tags": [{"key": "k", "value": "v"}]}, "IMG.0001"),                       # no action
    ({"action": "Create", "tags": [{"key": "k", "value": "v"}]}, "IMG.0001"),   # case sensitive
    ({"action": "update", "tags": [{"key": "k", "value": "v"}]}, "IMG.0001"),
    ({"action": "create"}, "IMG.0001"),
    ({"action": "create", "tags": []}, "IMG.0001"),
    ({"action": "create", "tags": {"key": "k", "value": "v"}}, "IMG.0001"),
    ({"action": "create", "tags": [{"key": "k"}]}, "IMG.0001"),
    ({"action": "create", "tags": ["k=v"]}, "IMG.0001"),
    ({"action": "create", "tags": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]}, "IMG.0115"),
    ({"action": "delete", "tags": [{"key": "k"}, {"key": "k"}]}, "IMG.0115"),
    ({"action": "create", "tags": [{"key": "k" * 37, "value": "v"}]}, "IMG.0115"),
    ({"action": "create", "tags": [{"key": "k", "value": "v" * 44}]}, "IMG.0115"),
])
def test_batch_invalid(alice, img, body, code):
    ims_error(alice.post(v2(alice, "/%s/tags/action" % img["id"]), json=body), 400, code)


def test_batch_missing_image(alice):
    url = v2(alice, "/%s/tags/action" % uuid.uuid4())
    ims_error(alice.post(url, json={"action": "create", "tags": [{"key": "k", "value": "v"}]}), 400, "IMG.0027")
    ims_error(alice.post(url, data=b""), 400, "IMG.0007")


# ---------------------------------------------------------------- DELETE one
def test_delete_documented_example(alice, img):
    assert add(alice, img["id"], "key1", "value1").status_code == 204
    r = alice.delete(v2(alice, "/%s/tags/key1" % img["id"]))
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert image_tags(alice, img["id"]) == {}
    # not idempotent: the second time the key is gone
    r = alice.delete(v2(alice, "/%s/tags/key1" % img["id"]))
    assert r.status_code == 404, r.text
    assert code_of(r).startswith("IMG.")
    ims_error(alice.delete(v2(alice, "/%s/tags/key1" % uuid.uuid4())), 400, "IMG.0027")


def test_delete_remaining_tags_of_any_form(alice):
    """Keys are not checked: tags the native API made (any characters) go too."""
    img = create_image(alice, tags=["Old Tag.x", "a.b"])
    assert image_tags(alice, img["id"]) == {"Old Tag.x": "", "a.b": ""}
    assert alice.delete(v2(alice, "/%s/tags/Old Tag.x" % img["id"])).status_code == 204
    assert native(alice, img["id"]) == ["a.b"]


# ---------------------------------------------------------------- GET tags of an image / of the project
def test_get_image_tags_documented_shape(alice, img):
    for k in ("key0", "key1"):
        assert add(alice, img["id"], k, "value0").status_code == 204
    r = alice.get(v2(alice, "/%s/tags" % img["id"]))
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["tags"]
    assert sorted(body["tags"], key=lambda t: t["key"]) == [{"value": "value0", "key": "key0"},
                                                            {"value": "value0", "key": "key1"}]
    other = create_image(alice)
    assert alice.get(v2(alice, "/%s/tags" % other["id"])).json() == {"tags": []}


@pytest.fixture(scope="module")
def carol(make_project_user):
    """A project of its own: the project-wide calls see only what this module made."""
    return make_project_user()


def test_get_project_tags_documented_example(carol):
    a = create_image(carol, tags=["key9=value9", "key8"])
    b = create_image(carol)
    assert add(carol, b["id"], "key3", "valueXX").status_code == 204
    c = create_image(carol)
    assert add(carol, c["id"], "key3", "value3").status_code == 204
    assert add(carol, c["id"], "key9", "value9").status_code == 204
    r = carol.get(v2(carol, "/tags"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["tags"]
    got = {t["key"]: sorted(t["values"]) for t in body["tags"]}
    assert got == {"key9": ["value9"], "key8": [""], "key3": ["value3", "valueXX"]}
    assert len(body["tags"]) == 3
    assert a["id"]


def test_project_tags_are_the_projects_only(alice, bob):
    t = "only" + uuid.uuid4().hex[:6]
    create_image(alice, tags=["%s=1" % t], visibility="public" if False else "private")
    assert t not in {x["key"] for x in bob.get(v2(bob, "/tags")).json()["tags"]}
    assert t in {x["key"] for x in alice.get(v2(alice, "/tags")).json()["tags"]}


# ---------------------------------------------------------------- query images by tag
@pytest.fixture(scope="module")
def dave(make_project_user):
    return make_project_user()


EXAMPLE_TAGS = {"key4": "value4", "key3": "valueXX", "key2": "value2", "key5": "value5", "key8": "value8",
                "key6": "valueXX", "key0": "valueXX", "key1": "value1", "key7": "value7", "key9": "valueXX"}


@pytest.fixture(scope="module")
def tagged(dave):
    """Images for the reference's query: only A meets every condition."""
    def mk(name, tags):
        img = create_image(dave, name=name)
        if tags:
            r = dave.post(v2(dave, "/%s/tags/action" % img["id"]),
                          json={"action": "create", "tags": [{"key": k, "value": v} for k, v in tags.items()]})
            assert r.status_code == 204, r.text
        return img
    return {
        "A": mk("test10001", {"key3": "valueXX", "key0": "valueXX"}),
        "B": mk("test10002", {"key3": "valueXX", "key0": "valueXX", "key7": "value7"}),  # not_tags_any
        "C": mk("test10003", {"key3": "valueXX", "key0": "valueXX", "key9": "value9"}),  # not_tags
        "D": mk("test10004", {"key3": "other", "key0": "valueXX"}),                      # tags
        "E": mk("test10005", {"key3": "valueXX", "key1": "valueXX"}),                    # tags_any
        "F": mk("other-name", {"key3": "valueXX", "key0": "valueXX"}),                   # matches
        "G": mk("test10006", EXAMPLE_TAGS),                                              # the example response's image
        "N": mk("test10007", {}),                                                        # no tags
    }


EXAMPLE_CONDITIONS = {
    "matches": [{"key": "resource_name", "value": "test100"}],
    "tags": [{"key": "key3", "values": ["valueXX"]}],
    "tags_any": [{"key": "key0", "values": ["valueXX"]}],
    "not_tags": [{"key": "key9", "values": ["value9"]}],
    "not_tags_any": [{"key": "key7", "values": ["value7"]}],
}


def query(api, body):
    return api.post(v2(api, "/resource_instances/action"), json=body)


def names(r):
    assert r.status_code == 200, r.text
    return [x["resource_name"] for x in r.json()["resources"]]


def test_query_documented_count_example(dave, tagged):
    r = query(dave, dict(EXAMPLE_CONDITIONS, action="count"))
    assert r.status_code == 200, r.text
    assert r.json() == {"total_count": 1}


def test_query_documented_filter_example(dave, tagged):
    r = query(dave, dict(EXAMPLE_CONDITIONS, action="filter", limit="1", offset="0"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"total_count", "resources"}
    assert body["total_count"] == 1
    [res] = body["resources"]
    assert set(res) == {"resource_id", "resource_detail", "tags", "resource_name"}
    assert res["resource_id"] == tagged["A"]["id"] and res["resource_name"] == "test10001"
    assert res["resource_detail"] == {"status": "queued"}
    assert sorted(res["tags"], key=lambda t: t["key"]) == [{"key": "key0", "value": "valueXX"},
                                                          {"key": "key3", "value": "valueXX"}]


def test_query_example_response_image(dave, tagged):
    body = {"action": "filter", "tags": [{"key": "key6", "values": ["valueXX"]}]}
    r = query(dave, body)
    assert r.status_code == 200, r.text
    [res] = r.json()["resources"]
    assert res["resource_name"] == "test10006"
    assert {t["key"]: t["value"] for t in res["tags"]} == EXAMPLE_TAGS
    assert len(res["tags"]) == 10


def test_query_each_condition(dave, tagged):
    def q(**kw):
        return sorted(names(query(dave, dict(kw, action="filter", limit="1000"))))
    assert q(tags=[{"key": "key3", "values": ["valueXX"]}]) == \
        ["other-name", "test10001", "test10002", "test10003", "test10005", "test10006"]
    # empty values: any value of the key
    assert q(tags=[{"key": "key3", "values": []}]) == \
        ["other-name", "test10001", "test10002", "test10003", "test10004", "test10005", "test10006"]
    # several values: any of them
    assert q(tags=[{"key": "key3", "values": ["other", "nope"]}]) == ["test10004"]
    # tags: all of the keys
    assert q(tags=[{"key": "key3", "values": []}, {"key": "key1", "values": []}]) == ["test10005", "test10006"]
    # tags_any: any of the keys
    assert q(tags_any=[{"key": "key7", "values": []}, {"key": "key1", "values": ["valueXX"]}]) == \
        ["test10002", "test10005", "test10006"]
    # not_tags: excludes the images with all of them
    assert q(not_tags=[{"key": "key0", "values": []}, {"key": "key7", "values": []}]) == \
        ["other-name", "test10001", "test10003", "test10004", "test10005", "test10007"]
    # not_tags_any: excludes the images with any of them
    assert q(not_tags_any=[{"key": "key0", "values": []}, {"key": "key1", "values": []}]) == ["test10007"]
    # without_any_tag ignores the tag conditions
    assert q(without_any_tag=True, tags=[{"key": "key3", "values": []}]) == ["test10007"]
    assert q(without_any_tag=False, tags=[{"key": "key1", "values": []}]) == ["test10005", "test10006"]
    # matches: resource_name is a fuzzy match, resource_id exact
    assert q(matches=[{"key": "resource_name", "value": "her-na"}]) == ["other-name"]
    assert q(matches=[{"key": "resource_id", "value": tagged["D"]["id"]}]) == ["test10004"]
    assert q(matches=[{"key": "resource_id", "value": tagged["D"]["id"][:8]}]) == []
    assert len(q()) == 8


def test_query_pagination(dave, tagged):
    all8 = names(query(dave, {"action": "filter", "limit": 1000}))
    assert len(all8) == 8
    assert sorted(all8) == sorted(["test1000%d" % i for i in range(1, 8)] + ["other-name"])
    # default limit 10, offset 0
    r = query(dave, {"action": "filter"})
    assert r.json()["total_count"] == 8 and names(r) == all8
    page = names(query(dave, {"action": "filter", "limit": "3", "offset": "0"}))
    page2 = names(query(dave, {"action": "filter", "limit": "3", "offset": "3"}))
    page3 = names(query(dave, {"action": "filter", "limit": 3, "offset": 6}))
    assert page + page2 + page3 == all8
    r = query(dave, {"action": "filter", "limit": "3", "offset": "7"})
    assert r.json()["total_count"] == 8 and len(r.json()["resources"]) == 1
    r = query(dave, {"action": "filter", "offset": "100"})
    assert r.json() == {"total_count": 8, "resources": []}
    # count ignores limit and offset
    assert query(dave, {"action": "count", "limit": "1", "offset": "5"}).json() == {"total_count": 8}
    assert query(dave, {"action": "count", "limit": "0"}).json() == {"total_count": 8}


def test_query_sees_only_the_projects_images(alice, dave, tagged):
    r = query(alice, {"action": "filter", "limit": "1000", "matches": [{"key": "resource_name",
                                                                         "value": "test1000"}]})
    assert not {x["resource_id"] for x in r.json()["resources"]} & {i["id"] for i in tagged.values()}


@pytest.mark.parametrize("body,code", [
    ({}, "IMG.0001"),
    ({"action": "Filter"}, "IMG.0001"),
    ({"action": "list"}, "IMG.0001"),
    ({"action": "filter", "limit": "0"}, "IMG.0001"),
    ({"action": "filter", "limit": "1001"}, "IMG.0001"),
    ({"action": "filter", "limit": "ten"}, "IMG.0001"),
    ({"action": "filter", "limit": 1.5}, "IMG.0001"),
    ({"action": "filter", "offset": "-1"}, "IMG.0001"),
    ({"action": "filter", "offset": -1}, "IMG.0001"),
    ({"action": "filter", "without_any_tag": "yes"}, "IMG.0001"),
    ({"action": "filter", "tags": {"key": "k", "values": []}}, "IMG.0001"),
    ({"action": "filter", "tags": [{"key": "k"}]}, "IMG.0001"),
    ({"action": "filter", "tags": [{"values": ["v"]}]}, "IMG.0001"),
    ({"action": "filter", "tags": [{"key": "k", "values": [1]}]}, "IMG.0001"),
    ({"action": "filter", "tags": [{"key": "", "values": []}]}, "IMG.0115"),
    ({"action": "filter", "tags_any": [{"key": "k" * 129, "values": []}]}, "IMG.0115"),
    ({"action": "filter", "not_tags": [{"key": "k", "values": ["v" * 256]}]}, "IMG.0115"),
    ({"action": "filter", "not_tags_any": [{"key": "k%d" % i, "values": []} for i in range(11)]}, "IMG.0115"),
    ({"action": "filter", "tags": [{"key": "k", "values": ["v%d" % i for i in range(11)]}]}, "IMG.0115"),
    ({"action": "filter", "tags": [{"key": "k", "values": []}, {"key": "k", "values": []}]}, "IMG.0115"),
    ({"action": "filter", "tags": [{"key": "k", "values": ["v", "v"]}]}, "IMG.0115"),
    ({"action": "filter", "matches": [{"key": "resource_type", "value": "x"}]}, "IMG.0001"),
    ({"action": "filter", "matches": [{"key": "resource_name", "value": ""}]}, "IMG.0001"),
    ({"action": "filter", "matches": [{"key": "resource_name", "value": "a"},
                                      {"key": "resource_name", "value": "b"}]}, "IMG.0001"),
])
def test_query_invalid(dave, body, code):
    ims_error(query(dave, body), 400, code)


def test_query_limits_accepted(dave, tagged):
    """10 keys of 10 values each; keys of 128 and values of 255 characters;
    characters are not checked."""
    conds = [{"key": "k%d" % i, "values": ["v%d" % j for j in range(10)]} for i in range(10)]
    assert query(dave, {"action": "count", "not_tags_any": conds}).json() == {"total_count": 8}
    long = [{"key": "K" * 128, "values": ["V" * 255, "any chars =.*"]}]
    assert query(dave, {"action": "count", "tags": long}).json() == {"total_count": 0}
    assert query(dave, {"action": "filter", "limit": "1000", "offset": "0"}).status_code == 200
    ims_error(query(dave, None), 400, "IMG.0007")


# ---------------------------------------------------------------- consistency with the native tags
def test_native_tags_read_as_ims_tags(alice):
    # the reference's native create example
    img = create_image(alice, tags=["test=testvalue", "image=imagevalue"])
    assert image_tags(alice, img["id"]) == {"test": "testvalue", "image": "imagevalue"}
    # a native key-only tag is a tag with the empty value
    assert alice.put("/v2/images/%s/tags/aaaa" % img["id"]).status_code == 204
    assert image_tags(alice, img["id"])["aaaa"] == ""
    # native delete of key=value removes the IMS tag
    assert alice.delete("/v2/images/%s/tags/test=testvalue" % img["id"]).status_code == 204
    assert "test" not in image_tags(alice, img["id"])
    # native tag filter finds IMS tags in the key=value form
    assert add(alice, img["id"], "color", "red").status_code == 204
    r = alice.get("/v2/images", params={"tag": "color=red"})
    assert img["id"] in [i["id"] for i in r.json()["images"]]
    r = alice.get("/v2/cloudimages", params={"tag": "color=red"})
    assert img["id"] in [i["id"] for i in r.json()["images"]]


def test_ims_changes_show_in_native_api(alice, img):
    assert add(alice, img["id"], "k", "v").status_code == 204
    assert get_image(alice, img["id"])["tags"] == ["k=v"]
    # native tags with the same key (two forms) are one IMS key: setting replaces both
    assert alice.put("/v2/images/%s/tags/k" % img["id"]).status_code == 204
    assert native(alice, img["id"]) == ["k", "k=v"]
    assert add(alice, img["id"], "k", "w").status_code == 204
    assert native(alice, img["id"]) == ["k=w"]
    # deleting a key removes every native form of it
    assert alice.put("/v2/images/%s/tags/k" % img["id"]).status_code == 204
    assert alice.delete(v2(alice, "/%s/tags/k" % img["id"])).status_code == 204
    assert native(alice, img["id"]) == []
    # native PATCH of tags is seen at once
    r = alice.patch("/v2/images/%s" % img["id"], json=[{"op": "replace", "path": "/tags", "value": ["x=1"]}],
                    headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert r.status_code == 200, r.text
    assert image_tags(alice, img["id"]) == {"x": "1"}


def test_ten_tag_limit_counts_native_tags(alice, img):
    r = alice.patch("/v2/images/%s" % img["id"],
                    json=[{"op": "replace", "path": "/tags", "value": ["n%d" % i for i in range(10)]}],
                    headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert r.status_code == 200, r.text
    ims_error(add(alice, img["id"], "one-more", "v"), 400, "IMG.0116")
    assert add(alice, img["id"], "n0", "now-with-value").status_code == 204
    assert "n0=now-with-value" in native(alice, img["id"])


def test_tags_on_active_image(alice):
    img = active_image(alice)
    assert add(alice, img["id"], "k", "v").status_code == 204
    r = alice.post(v2(alice, "/resource_instances/action"),
                   json={"action": "filter", "matches": [{"key": "resource_id", "value": img["id"]}]})
    assert r.json()["resources"][0]["resource_detail"] == {"status": "active"}
