"""Empty and malformed image ids answer 404 on every Glance image route, as
Glance does: its routes match the path exactly (no trailing slash), and an id
that names no image is not found whatever its shape."""
import uuid

import pytest

from helpers import PATCH_21, active_image

# Every Glance image route with an image id, as (method, path after the id).
ROUTES = [
    ("GET", ""), ("PATCH", ""), ("DELETE", ""),
    ("POST", "/actions/deactivate"), ("POST", "/actions/reactivate"),
    ("PUT", "/file"), ("GET", "/file"), ("HEAD", "/file"),
    ("PUT", "/tags/t1"), ("DELETE", "/tags/t1"),
    ("GET", "/members"), ("POST", "/members"),
    ("GET", "/members/%s" % ("a" * 32)), ("PUT", "/members/%s" % ("a" * 32)),
    ("DELETE", "/members/%s" % ("a" * 32)),
]
LEGACY = [("HEAD", "/v1/images/%s"), ("DELETE", "/v1.1/images/%s")]

MALFORMED = ["not-a-uuid", "1", "a" * 300, "%20", "%s%%2Fx" % uuid.uuid4(), "%s-" % uuid.uuid4(),
             "{image_id}", "%C3%A9t%C3%A9"]


def call(api, method, path):
    headers, data = {}, None
    if method == "PATCH":
        headers["Content-Type"] = PATCH_21
        data = "[]"
    elif method == "PUT" and path.endswith("/file"):
        headers["Content-Type"] = "application/octet-stream"
        data = b"x"
    elif method in ("POST", "PUT"):
        headers["Content-Type"] = "application/json"
        # valid bodies: Glance checks a body's shape before it looks the image up
        data = ('{"member": "%s"}' % ("b" * 32) if path.endswith("/members")
                else '{"status": "accepted"}' if "/members/" in path else "{}")
    return api.request(method, path, headers=headers, data=data)


@pytest.mark.parametrize("method,suffix", ROUTES)
def test_empty_id_404(alice, method, suffix):
    r = call(alice, method, "/v2/images/" + suffix)
    assert r.status_code == 404, (method, suffix, r.status_code, r.text)


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE", "PATCH", "PUT"])
def test_images_with_trailing_slash_404(alice, method):
    """GET /v2/images/ is not the list and DELETE /v2/images/ not a 405."""
    r = call(alice, method, "/v2/images/")
    assert r.status_code == 404, (method, r.status_code, r.text)
    assert "Allow" not in r.headers


@pytest.mark.parametrize("method,suffix", [rt for rt in ROUTES if rt[1]] + [("GET", "")])
def test_existing_image_with_trailing_slash_404(alice, method, suffix):
    img = active_image(alice)
    r = call(alice, method, "/v2/images/%s%s/" % (img["id"], suffix))
    assert r.status_code == 404, (method, suffix, r.status_code, r.text)
    # the same call without the slash reaches the image (not 404)
    if method == "GET" and "/members/" not in suffix:
        assert call(alice, method, "/v2/images/%s%s" % (img["id"], suffix)).status_code == 200


@pytest.mark.parametrize("bad", MALFORMED)
@pytest.mark.parametrize("method,suffix", ROUTES)
def test_malformed_id_404(alice, method, suffix, bad):
    r = call(alice, method, "/v2/images/%s%s" % (bad, suffix))
    assert r.status_code == 404, (method, suffix, bad, r.status_code, r.text)


@pytest.mark.parametrize("bad", MALFORMED + [""])
@pytest.mark.parametrize("method,path", LEGACY)
def test_legacy_malformed_and_empty_id_404(alice, method, path, bad):
    r = alice.request(method, path % bad)
    assert r.status_code == 404, (method, path, bad, r.status_code, r.text)


def test_schemas_exact(alice):
    assert alice.get("/v2/schemas/image").status_code == 200
    assert alice.get("/v2/schemas/image/").status_code == 404
