"""GET / and /v2 version documents; deprecated v1 / v1.1 calls."""
import uuid

import pytest

from helpers import Api, active_image, create_image, get_image, unique


def check_versions(r, base):
    assert r.status_code == 300, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    versions = r.json()["versions"]
    by_id = {v["id"]: v for v in versions}
    v2 = [v for v in versions if v["id"].startswith("v2.")]
    assert v2, versions
    assert [v["status"] for v in v2].count("CURRENT") == 1
    for v in v2:
        assert v["status"] in ("CURRENT", "SUPPORTED")
        hrefs = [l["href"] for l in v["links"] if l["rel"] == "self"]
        assert hrefs and hrefs[0].rstrip("/") == base + "/v2", hrefs
    for old in ("v2.0", "v2.1", "v2.2"):
        assert old in by_id, old
    for v in versions:
        assert v["status"] in ("CURRENT", "SUPPORTED", "DEPRECATED")
    return versions


@pytest.mark.parametrize("path", ["/", "/v2", "/v2/"])
def test_versions_anonymous(imsd, path):
    r = Api(imsd.url).get(path)
    check_versions(r, imsd.url)


def test_versions_with_token(admin, imsd):
    check_versions(admin.get("/"), imsd.url)


def test_unknown_path_404(admin):
    assert admin.get("/v9/images").status_code == 404


# ---------------------------------------------------------------- v1.1
def test_v11_images_detail(alice):
    img = active_image(alice, data=b"v1 data", name=unique("v11"), disk_format="qcow2",
                       visibility="private", legacyprop="yes")
    r = alice.get("/v1.1/images/detail", params={"name": img["name"]})
    assert r.status_code == 200, r.text
    imgs = r.json()["images"]
    assert [i["id"] for i in imgs] == [img["id"]]
    d = imgs[0]
    assert d["name"] == img["name"]
    assert d["status"] == "active"
    assert d["disk_format"] == "qcow2"
    assert d["container_format"] == "bare"
    assert d["size"] == 7
    assert d["checksum"] == img["checksum"]
    assert d["owner"] == alice.project_id
    assert d["is_public"] is False
    assert d["protected"] is False
    assert d["deleted"] is False
    assert d["deleted_at"] is None
    assert d["min_disk"] == 0 and d["min_ram"] == 0
    assert d["properties"]["legacyprop"] == "yes"
    for k in ("created_at", "updated_at", "virtual_size"):
        assert k in d


def test_v11_images_detail_filters(alice):
    tagname = unique("v11f")
    q = active_image(alice, data=b"x" * 10, name=tagname, disk_format="qcow2")
    r = active_image(alice, data=b"x" * 100, name=tagname, disk_format="raw")

    def ids(**params):
        resp = alice.get("/v1.1/images/detail", params=dict(params, name=tagname))
        assert resp.status_code == 200, resp.text
        return sorted(i["id"] for i in resp.json()["images"])

    assert ids() == sorted([q["id"], r["id"]])
    assert ids(disk_format="qcow2") == [q["id"]]
    assert ids(container_format="bare") == sorted([q["id"], r["id"]])
    assert ids(status="active") == sorted([q["id"], r["id"]])
    assert ids(size_min="50") == [r["id"]]
    assert ids(size_max="50") == [q["id"]]


def test_v11_images_detail_changes_since(alice):
    """v1's changes-since: images updated at or after the time (not v2's 400)."""
    import datetime
    import time
    name = unique("v11cs")
    a = create_image(alice, name=name)
    time.sleep(1.1)
    b = create_image(alice, name=name)
    tb = b["updated_at"]
    assert tb > a["updated_at"]

    def ids(since):
        resp = alice.get("/v1.1/images/detail", params={"name": name, "changes-since": since})
        assert resp.status_code == 200, resp.text
        return sorted(i["id"] for i in resp.json()["images"])

    assert ids(a["updated_at"]) == sorted([a["id"], b["id"]])
    assert ids(tb) == [b["id"]]                 # updated at the time counts
    t = datetime.datetime.strptime(tb, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    plus2 = t.astimezone(datetime.timezone(datetime.timedelta(hours=2)))
    assert ids(plus2.isoformat()) == [b["id"]]  # an offset names the same instant
    later = (t + datetime.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(later) == []
    time.sleep(1.1)
    r = alice.patch("/v2/images/%s" % a["id"], json=[{"op": "replace", "path": "/name", "value": name}],
                    headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert r.status_code == 200, r.text
    assert ids(later) == [a["id"]]              # a was updated since
    resp = alice.get("/v1.1/images/detail", params={"changes-since": "not-a-time"})
    assert resp.status_code == 400 and "Unrecognized changes-since value" in resp.text, resp.text
    # the v2 list keeps v2's refusal
    resp = alice.get("/v2/images", params={"changes-since": tb})
    assert resp.status_code == 400 and "no longer available on v2" in resp.text, resp.text


def test_v11_detail_needs_token(imsd):
    assert Api(imsd.url).get("/v1.1/images/detail").status_code == 401


# ---------------------------------------------------------------- v1 HEAD
def test_v1_head_image(alice):
    img = active_image(alice, data=b"head data", name=unique("head"),
                       disk_format="qcow2", hprop="hval")
    r = alice.head("/v1/images/%s" % img["id"])
    assert r.status_code == 200
    assert r.content == b""
    h = r.headers
    assert h["x-image-meta-id"] == img["id"]
    assert h["x-image-meta-name"] == img["name"]
    assert h["x-image-meta-status"] == "active"
    assert h["x-image-meta-size"] == "9"
    assert h["x-image-meta-checksum"] == img["checksum"]
    assert h["x-image-meta-disk_format"] == "qcow2"
    assert h["x-image-meta-container_format"] == "bare"
    assert h["x-image-meta-owner"] == alice.project_id
    assert h["x-image-meta-is_public"].lower() == "false"
    assert h["x-image-meta-protected"].lower() == "false"
    assert h["x-image-meta-deleted"].lower() == "false"
    assert h["x-image-meta-min_disk"] == "0"
    assert h["x-image-meta-min_ram"] == "0"
    assert h["x-image-meta-property-hprop"] == "hval"
    assert "x-image-meta-created_at" in h
    assert "x-image-meta-updated_at" in h
    assert h.get("ETag", "").strip('"') == img["checksum"]


def test_v1_head_queued_image(alice):
    img = create_image(alice, name=unique("headq"))
    r = alice.head("/v1/images/%s" % img["id"])
    assert r.status_code == 200
    assert r.headers["x-image-meta-status"] == "queued"
    assert r.headers["x-image-meta-id"] == img["id"]


def test_v1_head_unknown_404(alice):
    assert alice.head("/v1/images/%s" % uuid.uuid4()).status_code == 404


def test_v1_head_other_projects_private_404(alice, bob):
    img = create_image(alice, visibility="private")
    assert bob.head("/v1/images/%s" % img["id"]).status_code == 404


# ---------------------------------------------------------------- v1.1 DELETE
def test_v11_delete(alice):
    img = create_image(alice)
    r = alice.delete("/v1.1/images/%s" % img["id"])
    # the reference shows 200 in its example and 204 in its table
    assert r.status_code in (200, 204), r.text
    assert alice.get("/v2/images/%s" % img["id"]).status_code == 404
    assert alice.delete("/v1.1/images/%s" % img["id"]).status_code == 404


def test_v11_delete_protected_403(alice):
    img = create_image(alice, protected=True)
    assert alice.delete("/v1.1/images/%s" % img["id"]).status_code == 403
    assert get_image(alice, img["id"])["status"] == "queued"


def test_v11_delete_other_projects_image(alice, bob):
    img = create_image(alice, visibility="private")
    assert bob.delete("/v1.1/images/%s" % img["id"]).status_code == 404
    assert get_image(alice, img["id"])["id"] == img["id"]
