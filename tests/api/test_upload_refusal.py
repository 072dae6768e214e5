"""A refused upload gets its final status from the request head, without
`100 Continue` and without the server reading the body (issue 9 item 4)."""
import socket

from helpers import RawReply, active_image, create_image, raw_request


def _put_head(image_id, token=None, length=100, expect=True, close=False):
    head = (b"PUT /v2/images/" + image_id.encode() + b"/file HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Length: %d\r\n" % length)
    if token:
        head += b"X-Auth-Token: " + token.encode() + b"\r\n"
    if expect:
        head += b"Expect: 100-continue\r\n"
    if close:
        head += b"Connection: close\r\n"
    return head + b"\r\n"


def _refused(port, head):
    """Sends only the head, as a client waiting for 100 Continue does: the
    final answer must come, and the connection close, with no body sent."""
    r = raw_request(port, head, timeout=10)
    assert b"100 Continue" not in r.raw, r.raw[:300]
    assert r.headers.get("connection") == "close", r.raw[:300]
    return r


def test_unauthenticated_upload_gets_401(imsd, admin):
    img = create_image(admin, disk_format="raw", container_format="bare")
    r = _refused(imsd.port, _put_head(img["id"]))
    assert r.status == 401, r.raw[:300]
    assert b"401 Unauthorized\n\n" in r.raw and b"requires authentication" in r.raw  # webob's text/plain


def test_invisible_image_upload_gets_404(imsd, admin, make_project_user):
    img = create_image(admin, disk_format="raw", container_format="bare")
    other = make_project_user()
    r = _refused(imsd.port, _put_head(img["id"], other.token))
    assert r.status == 404, r.raw[:300]


def test_upload_into_active_image_gets_409(imsd, admin):
    img = active_image(admin)
    r = _refused(imsd.port, _put_head(img["id"], admin.token))
    assert r.status == 409, r.raw[:300]


def test_oversized_upload_gets_413(imsd, admin):
    img = create_image(admin, disk_format="raw", container_format="bare")
    r = _refused(imsd.port, _put_head(img["id"], admin.token, length=3 * 1024 ** 3))
    assert r.status == 413, r.raw[:300]


def test_oversized_upload_without_expect_gets_413_before_its_body(imsd, admin):
    img = create_image(admin, disk_format="raw", container_format="bare")
    r = _refused(imsd.port, _put_head(img["id"], admin.token, length=3 * 1024 ** 3, expect=False))
    assert r.status == 413, r.raw[:300]


def test_refusal_without_expect_after_a_small_body(imsd, admin):
    img = active_image(admin)
    r = raw_request(imsd.port, _put_head(img["id"], admin.token, length=100, expect=False, close=True)
                    + b"x" * 100)
    assert r.status == 409, r.raw[:300]
    assert b"100 Continue" not in r.raw


def test_accepted_upload_still_gets_100_continue(imsd, admin):
    img = create_image(admin, disk_format="raw", container_format="bare")
    with socket.create_connection(("127.0.0.1", imsd.port), timeout=10) as s:
        s.sendall(_put_head(img["id"], admin.token, length=5))
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(b"12345")
        r = RawReply(s.recv(65536))
    assert r.status == 204, r.raw[:300]
    assert admin.get("/v2/images/" + img["id"]).json()["status"] == "active"
