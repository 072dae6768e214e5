"""Glance's locations and direct_url behind its switches ([images]
show_image_direct_url, show_multiple_locations; off by default), read
through openstacksdk and python-glanceclient: hidden by default and not
changeable; shown to the image's project and admins when switched on,
never to other projects. Switched on, PATCH adds, replaces and removes
them as Glance 25 does, on imsd's one location per image: a location names
data one of the configured stores holds, file:// is one of Glance's
restricted schemes (so no path on the host ever becomes an image's data),
the last location cannot be removed."""
import hashlib
import uuid

import pytest

from obs_fixtures import STORE  # the store new data goes to: file, or s3 in the S3 pass

from helpers import DEFAULT_DOMAIN, PATCH_21, active_image, sdk_connect, unique

DATA = b"location test data\n" * 64


def glance_lib(srv, api):
    from glanceclient import Client
    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    auth = v3.Password(auth_url=srv.auth_url, username=api.user_name, password=api.password,
                       project_name=api.project_name, user_domain_name=DEFAULT_DOMAIN,
                       project_domain_name=DEFAULT_DOMAIN)
    return Client("2", session=session.Session(auth=auth))


@pytest.fixture(scope="module")
def shown(module_imsd):
    return module_imsd(config={"images": {"show_image_direct_url": "true", "show_multiple_locations": "true"}})


def test_hidden_by_default(imsd, make_project_user):
    api = make_project_user()
    img = active_image(api, data=DATA)
    doc = api.get("/v2/images/%s" % img["id"]).json()
    assert "locations" not in doc and "direct_url" not in doc
    c = sdk_connect(imsd, api.user_name, api.password, api.project_name)
    try:
        got = c.image.get_image(img["id"])
        assert not got.locations and got.direct_url is None
    finally:
        c.close()
    from glanceclient import exc
    gc = glance_lib(imsd, api)
    assert "locations" not in gc.images.get(img["id"])
    with pytest.raises(exc.HTTPForbidden) as e:
        gc.images.add_location(img["id"], "file:///etc/passwd", {})
    assert "not allowed to add locations if locations are invisible" in str(e.value), str(e.value)
    r = api.patch("/v2/images/%s" % img["id"], json=[{"op": "replace", "path": "/locations", "value": []}],
                  headers={"Content-Type": PATCH_21})
    assert r.status_code == 403 and "invisible" in r.json()["message"], r.text


def test_shown_to_the_project_and_admins(shown):
    api = shown.project_user()
    img = active_image(api, data=DATA)
    doc = api.get("/v2/images/%s" % img["id"]).json()
    [loc] = doc["locations"]
    assert loc["url"].startswith(STORE + "://") and loc["metadata"] == {}
    assert doc["direct_url"] == loc["url"]
    # no host path leaks: the URL names the store's blob, relative to the store
    assert not loc["url"].startswith(STORE + ":///"), loc["url"]
    c = sdk_connect(shown, api.user_name, api.password, api.project_name)
    try:
        got = c.image.get_image(img["id"])
        assert got.direct_url == loc["url"]
        assert [x["url"] for x in got.locations] == [loc["url"]]
    finally:
        c.close()
    gc = glance_lib(shown, api)
    assert gc.images.get(img["id"]).locations == [{"url": loc["url"], "metadata": {}}]
    # the cloud admin sees them too
    admin = shown.admin()
    assert admin.get("/v2/images/%s" % img["id"]).json()["locations"] == [loc]
    # a queued image has none
    q = api.post("/v2/images", json={"name": unique("q")}).json()
    assert q["locations"] == [] and "direct_url" not in q


def test_other_projects_see_no_location(shown):
    admin = shown.admin()
    public = active_image(admin, data=DATA, visibility="public")
    other = shown.project_user()
    doc = other.get("/v2/images/%s" % public["id"]).json()
    assert doc["locations"] == [] and "direct_url" not in doc
    listed = [i for i in other.get("/v2/images", params={"visibility": "public"}).json()["images"]
              if i["id"] == public["id"]]
    assert listed and listed[0]["locations"] == [] and "direct_url" not in listed[0]


def test_no_client_location_becomes_data(shown):
    """file:// (restricted, as Glance's RESTRICTED_URI_SCHEMAS), an unknown
    scheme, the image's own location again: 400, as Glance; the last
    location cannot be removed: 403."""
    from glanceclient import exc
    api = shown.project_user()
    img = active_image(api, data=DATA)
    before = api.get("/v2/images/%s" % img["id"]).json()["locations"]
    gc = glance_lib(shown, api)
    for url in ("file:///etc/passwd", "file://../../token.key", before[0]["url"], "http://example.com/x"):
        with pytest.raises(exc.HTTPBadRequest):
            gc.images.add_location(img["id"], url, {})
    with pytest.raises(exc.HTTPForbidden) as e:
        gc.images.delete_locations(img["id"], {before[0]["url"]})
    assert "Cannot remove last location in the image." in str(e.value)
    # a queued image cannot be given data through a location either
    q = api.post("/v2/images", json={"name": unique("q"), "disk_format": "raw",
                                     "container_format": "bare"}).json()
    with pytest.raises(exc.HTTPBadRequest):
        gc.images.add_location(q["id"], "file:///etc/passwd", {})
    assert api.get("/v2/images/%s" % q["id"]).json()["status"] == "queued"
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA
    assert api.get("/v2/images/%s" % img["id"]).json()["locations"] == before


def locations_patch(api, image_id, *ops):
    return api.patch("/v2/images/%s" % image_id, json=list(ops), headers={"Content-Type": PATCH_21})


def test_location_patches_checked_as_glance(shown):
    api = shown.project_user()
    img = active_image(api, data=DATA)
    [loc] = api.get("/v2/images/%s" % img["id"]).json()["locations"]
    # the same list again changes nothing (Glance: metadata only)
    r = locations_patch(api, img["id"], {"op": "replace", "path": "/locations",
                                         "value": [{"url": loc["url"], "metadata": {}}]})
    assert r.status_code == 200, r.text
    assert r.json()["locations"] == [loc]
    # another list: the original is not empty
    r = locations_patch(api, img["id"], {"op": "replace", "path": "/locations",
                                         "value": [{"url": "s3://%s" % uuid.uuid4(), "metadata": {}}]})
    assert r.status_code == 400 and "Original locations is not empty" in r.text, r.text
    # positions, as Glance's _get_locations_op_pos
    r = locations_patch(api, img["id"], {"op": "add", "path": "/locations/5",
                                         "value": {"url": loc["url"], "metadata": {}}})
    assert r.status_code == 400 and "Invalid position for adding a location." in r.text, r.text
    # the schema: url and metadata required, nothing else
    for value in ({"url": loc["url"]}, {"metadata": {}}, {"url": 7, "metadata": {}}, "x",
                  {"url": loc["url"], "metadata": {}, "extra": 1}, {"url": "s3://" + "a" * 300, "metadata": {}}):
        r = locations_patch(api, img["id"], {"op": "add", "path": "/locations/-", "value": value})
        assert r.status_code == 400, (value, r.status_code, r.text)
    # statuses: remove needs active, add and replace active or queued
    q = api.post("/v2/images", json={"name": unique("q"), "disk_format": "raw",
                                     "container_format": "bare"}).json()
    r = locations_patch(api, q["id"], {"op": "remove", "path": "/locations/0"})
    assert r.status_code == 409 and "if image status is queued" in r.text, r.text
    # [] on an image without a location changes nothing
    r = locations_patch(api, q["id"], {"op": "replace", "path": "/locations", "value": []})
    assert r.status_code == 200 and r.json()["status"] == "queued", r.text
    admin = shown.admin()
    assert admin.post("/v2/images/%s/actions/deactivate" % img["id"]).status_code == 204
    r = locations_patch(admin, img["id"], {"op": "add", "path": "/locations/-",
                                           "value": {"url": loc["url"], "metadata": {}}})
    assert r.status_code == 409, r.text
    assert "It's not allowed to add locations if image status is deactivated." in r.text
    assert admin.post("/v2/images/%s/actions/reactivate" % img["id"]).status_code == 204
    assert api.get("/v2/images/%s/file" % img["id"]).content == DATA


@pytest.mark.skipif(STORE != "s3", reason="the file store's locations are file://, a scheme Glance restricts")
def test_a_queued_image_takes_a_stored_location(shown):
    """With the S3 store a location is s3://<key>: a queued image given the
    location of data the store holds becomes active on it, with the
    validation data's checksums; the data outlives the image it came from;
    a key the store does not hold is an invalid location."""
    from glanceclient import exc
    api = shown.project_user()
    src = active_image(api, data=DATA)
    [loc] = api.get("/v2/images/%s" % src["id"]).json()["locations"]
    assert loc["url"].startswith("s3://"), loc
    gc = glance_lib(shown, api)
    q = api.post("/v2/images", json={"name": unique("q"), "disk_format": "raw",
                                     "container_format": "bare"}).json()
    with pytest.raises(exc.HTTPBadRequest) as e:
        gc.images.add_location(q["id"], "s3://%s" % uuid.uuid4(), {})
    assert "Invalid location" in str(e.value)
    r = locations_patch(api, q["id"], {"op": "add", "path": "/locations/-",
                                       "value": {"url": loc["url"], "metadata": {},
                                                 "validation_data": {
                                                     "checksum": hashlib.md5(DATA).hexdigest(),
                                                     "os_hash_algo": "sha512",
                                                     "os_hash_value": hashlib.sha512(DATA).hexdigest()}}})
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["status"] == "active" and got["size"] == len(DATA), got
    assert got["locations"] == [{"url": loc["url"], "metadata": {}}]
    assert got["checksum"] == hashlib.md5(DATA).hexdigest()
    assert got["os_hash_value"] == hashlib.sha512(DATA).hexdigest()
    # a second location: imsd keeps one per image
    r = locations_patch(api, q["id"], {"op": "add", "path": "/locations/-",
                                       "value": {"url": "s3://%s" % uuid.uuid4(), "metadata": {}}})
    assert r.status_code == 400, r.text
    assert api.delete("/v2/images/%s" % src["id"]).status_code == 204
    assert api.get("/v2/images/%s/file" % q["id"]).content == DATA


@pytest.fixture(scope="module")
def s3_shown(module_imsd, obs_s3):
    """Locations shown, image data on an S3 store (s3://<key>, a scheme a
    client may name), in either test pass."""
    bucket = "loc-" + uuid.uuid4().hex[:20]
    return module_imsd(config={
        "images": {"show_multiple_locations": "true"},
        "store": {"backend": "s3", "endpoint": obs_s3["S3_ENDPOINT"], "region": obs_s3["S3_REGION"],
                  "bucket": bucket, "access_key": obs_s3["S3_ACCESS_KEY"], "secret_key": obs_s3["S3_SECRET_KEY"]}})


def queued(api):
    return api.post("/v2/images", json={"name": unique("q"), "disk_format": "raw",
                                        "container_format": "bare"}).json()


def test_a_location_names_only_data_the_caller_may_read(s3_shown):
    """Another project's image data cannot become a tenant's image through
    its location (Glance checks a location of its own store against the
    images holding it): 400 "Invalid location", the image stays queued; once
    the data's image is public the tenant may read it, and may name it; an
    administrator may name any."""
    owner, other = s3_shown.project_user(), s3_shown.project_user()
    src = active_image(owner, data=DATA)
    [loc] = owner.get("/v2/images/%s" % src["id"]).json()["locations"]
    q = queued(other)
    r = locations_patch(other, q["id"], {"op": "add", "path": "/locations/-",
                                         "value": {"url": loc["url"], "metadata": {}}})
    assert r.status_code == 400 and "Invalid location" in r.text, r.text
    assert other.get("/v2/images/%s" % q["id"]).json()["status"] == "queued"
    assert other.get("/v2/images/%s/file" % q["id"]).content == b""
    # deactivated data: not readable by tenants, so not nameable either
    admin = s3_shown.admin()
    assert admin.patch("/v2/images/%s" % src["id"], json=[{"op": "replace", "path": "/visibility",
                                                           "value": "public"}],
                       headers={"Content-Type": PATCH_21}).status_code == 200
    assert admin.post("/v2/images/%s/actions/deactivate" % src["id"]).status_code == 204
    r = locations_patch(other, q["id"], {"op": "add", "path": "/locations/-",
                                         "value": {"url": loc["url"], "metadata": {}}})
    assert r.status_code == 400, r.text
    assert admin.post("/v2/images/%s/actions/reactivate" % src["id"]).status_code == 204
    r = locations_patch(other, q["id"], {"op": "add", "path": "/locations/-",
                                         "value": {"url": loc["url"], "metadata": {}}})
    assert r.status_code == 200 and r.json()["status"] == "active", r.text
    assert other.get("/v2/images/%s/file" % q["id"]).content == DATA
    # the administrator may name a private image's data
    private = active_image(owner, data=DATA + b"2")
    [ploc] = owner.get("/v2/images/%s" % private["id"]).json()["locations"]
    aq = queued(admin)
    r = locations_patch(admin, aq["id"], {"op": "add", "path": "/locations/-",
                                          "value": {"url": ploc["url"], "metadata": {}}})
    assert r.status_code == 200, r.text


def test_location_metadata_is_kept(s3_shown):
    """Glance keeps each location's metadata: shown as given, changed by a
    replace with the same URL, read back by glanceclient."""
    api = s3_shown.project_user()
    src = active_image(api, data=DATA)
    [loc] = api.get("/v2/images/%s" % src["id"]).json()["locations"]
    assert loc["metadata"] == {}
    q = queued(api)
    meta = {"zone": "a", "n": 1, "nested": {"k": [1, "x"]}}
    r = locations_patch(api, q["id"], {"op": "add", "path": "/locations/-",
                                       "value": {"url": loc["url"], "metadata": meta}})
    assert r.status_code == 200, r.text
    assert r.json()["locations"] == [{"url": loc["url"], "metadata": meta}]
    r = locations_patch(api, q["id"], {"op": "replace", "path": "/locations",
                                       "value": [{"url": loc["url"], "metadata": {"zone": "b"}}]})
    assert r.status_code == 200, r.text
    gc = glance_lib(s3_shown, api)
    assert gc.images.get(q["id"])["locations"] == [{"url": loc["url"], "metadata": {"zone": "b"}}]
    # metadata too large to keep: 400
    r = locations_patch(api, q["id"], {"op": "replace", "path": "/locations",
                                       "value": [{"url": loc["url"], "metadata": {"x": "y" * 5000}}]})
    assert r.status_code == 400 and "metadata" in r.text, r.text
    r = locations_patch(api, q["id"], {"op": "replace", "path": "/locations",
                                       "value": [{"url": loc["url"], "metadata": {}}]})
    assert r.status_code == 200 and r.json()["locations"] == [{"url": loc["url"], "metadata": {}}], r.text
