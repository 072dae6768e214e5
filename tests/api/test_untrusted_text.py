"""Strings from the network are checked before they are stored or echoed
(issue: hardening): invalid UTF-8 and control characters in the path, the
query and names in bodies get 400; no response carries invalid UTF-8; an
oversized token signature is refused before authentication, not a crash."""
import json
import socket
import time

import pytest

from helpers import active_image, create_image, get_image, list_ids, patch, unique


def raw_request(server, request_line, headers=None, timeout=10):
    """One HTTP/1.1 request written byte for byte; returns (status, headers, body bytes)."""
    hdrs = {"Host": "127.0.0.1:%d" % server.port, "Connection": "close"}
    hdrs.update(headers or {})
    head = request_line + b"\r\n" + b"".join(
        ("%s: %s\r\n" % (k, v)).encode("latin-1") for k, v in hdrs.items()) + b"\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as s:
        s.sendall(head)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    return status, lines[1:], body


def assert_json_utf8(body):
    text = body.decode("utf-8")      # raises on invalid UTF-8
    return json.loads(text) if text else None


def test_oversized_token_signature_is_401_not_a_crash(imsd):
    for token in ("v1.x." + "_" * 504, "v1." + "A" * 480 + "." + "A" * 30, "v1." + "_" * 600):
        status, _, body = raw_request(imsd, b"GET /v2/images HTTP/1.1", {"X-Auth-Token": token})
        assert status == 401, body
    assert imsd.running()


@pytest.mark.parametrize("tag", ["%ff", "%c0%ae", "a%0ab", "%7f", "%c2%85", "%ed%a0%80"])
def test_tag_that_is_not_text_is_refused(alice, tag):
    img = create_image(alice, name=unique("utf8"))
    r = alice.put("/v2/images/%s/tags/%s" % (img["id"], tag))
    assert r.status_code == 400, r.text
    assert_json_utf8(r.content)
    assert get_image(alice, img["id"])["tags"] == []


def test_valid_utf8_tag_round_trips(alice):
    img = create_image(alice, name=unique("utf8"))
    r = alice.put("/v2/images/%s/tags/%s" % (img["id"], "%C3%A9t%C3%A9"))
    assert r.status_code == 204, r.text
    assert get_image(alice, img["id"])["tags"] == ["\u00e9t\u00e9"]


@pytest.mark.parametrize("path", [b"/v2/images/%c0%ae", b"/v2/images/%ff%fe", b"/v2/images/\xff\xfe",
                                  b"/v2/images/a%0Ab", b"/v2/images/%e2%82"])
def test_path_that_is_not_text_is_400_and_not_echoed(imsd, admin, path):
    status, _, body = raw_request(imsd, b"GET " + path + b" HTTP/1.1", {"X-Auth-Token": admin.token})
    assert status == 400, body
    doc = assert_json_utf8(body)
    assert "\ufffd" not in json.dumps(doc) and "\u00c0" not in json.dumps(doc)


@pytest.mark.parametrize("query", [b"name=%ff", b"%c0%ae=1", b"tag=a%01b", b"name=\xff", b"name=%ed%bf%bf"])
def test_query_that_is_not_text_is_400_and_not_echoed(imsd, admin, query):
    status, _, body = raw_request(imsd, b"GET /v2/images?" + query + b" HTTP/1.1", {"X-Auth-Token": admin.token})
    assert status == 400, body
    assert_json_utf8(body)  # refused before routing: JSON whatever the client accepts


def test_names_with_control_characters_are_refused(alice):
    r = alice.post("/v2/images", json={"name": "a\nb"})
    assert r.status_code == 400, r.text
    r = alice.post("/v2/images", json={"name": "ok", "tags": ["t\u0007"]})
    assert r.status_code == 400, r.text
    r = alice.post("/v2/images", json={"name": "ok", "k\u0085ey": "v"})
    assert r.status_code == 400, r.text
    img = create_image(alice, name=unique("ctl"))
    r = patch(alice, img["id"], [{"op": "replace", "path": "/name", "value": "x\u001by"}])
    assert r.status_code == 400, r.text
    r = patch(alice, img["id"], [{"op": "add", "path": "/tags/-", "value": "x\u007fy"}])
    assert r.status_code == 400, r.text
    # text that only looks unusual is fine
    r = patch(alice, img["id"], [{"op": "replace", "path": "/name", "value": "\u00e9\u4e2d\U0001f600 \t-"}])
    assert r.status_code == 400, r.text   # the tab is a control character
    r = patch(alice, img["id"], [{"op": "replace", "path": "/name", "value": "\u00e9\u4e2d\U0001f600"}])
    assert r.status_code == 200, r.text
    assert get_image(alice, img["id"])["name"] == "\u00e9\u4e2d\U0001f600"


def test_stored_invalid_utf8_is_never_echoed(start_imsd, tmp_path):
    """Data stored before these checks (written here straight into the
    database) is sent as valid UTF-8 JSON, with U+FFFD for the bad bytes,
    to the owner and to another project the image is shared with."""
    import sqlite3
    # SQLite: PostgreSQL stores no invalid UTF-8 in text, so there nothing
    # like it can have been stored
    data = tmp_path / "data"
    srv = start_imsd(config={"database": {"connection": "sqlite://%s" % (data / "imsd.db")}}, data_dir=data)
    alice, bob = srv.project_user(), srv.project_user()
    img = active_image(alice, name="before")
    r = alice.post("/v2/images/%s/members" % img["id"], json={"member": bob.project_id})
    assert r.status_code == 200, r.text
    srv.stop()
    db = sqlite3.connect(str(srv.data_dir / "imsd.db"))
    db.execute("UPDATE images SET name = CAST(X'61ff62c0ae' AS TEXT) WHERE id = ?", (img["id"],))
    db.commit()
    db.close()
    srv.start()
    r = alice.get("/v2/images/%s" % img["id"])
    assert r.status_code == 200
    assert assert_json_utf8(r.content)["name"] == "a\ufffdb\ufffd\ufffd"
    r = bob.get("/v2/images", params={"member_status": "all"})
    assert r.status_code == 200
    names = {i["id"]: i["name"] for i in assert_json_utf8(r.content)["images"]}
    assert names[img["id"]] == "a\ufffdb\ufffd\ufffd"


@pytest.mark.parametrize("field", ["name", "id"])
def test_login_names_with_control_characters_are_refused_and_not_logged(imsd, field):
    """A failed login names its user in the log: a newline in the name
    would start a forged line there."""
    import requests
    forged = "evil\n2026-01-01 00:00:00.000 ERROR forged\rx"
    user = {field: forged, "password": "x"}
    if field == "name":
        user["domain"] = {"id": "default"}
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}}
    start = imsd.log_path.stat().st_size
    r = requests.post("http://127.0.0.1:%d/v3/auth/tokens" % imsd.port, json=body, timeout=30)
    assert r.status_code == 400, r.text
    assert "forged" not in r.text
    r = requests.get("http://127.0.0.1:%d/" % imsd.port, timeout=30)  # its access line follows the login's
    deadline = time.monotonic() + 30
    while b"GET / 300" not in imsd.log_path.read_bytes()[start:] and time.monotonic() < deadline:
        time.sleep(0.01)
    log = imsd.log_path.read_bytes()[start:]
    assert b"GET / 300" in log
    assert b"forged" not in log and b"\r" not in log


@pytest.mark.parametrize("host", ['evil"x', "a b", "evil.example/x", "user@evil.example", "h\xe9",
                                  "<script>", "x" * 4096])
def test_a_host_header_that_is_no_host_never_reaches_a_link(imsd, host):
    """Links are built from Host (no public_url configured): a value that is
    not host[:port] gives http://localhost, never the value itself."""
    status, _, body = raw_request(imsd, b"GET / HTTP/1.1", {"Host": host})
    assert status == 300, body
    doc = assert_json_utf8(body)
    hrefs = [link["href"] for v in doc["versions"] for link in v["links"] if link["rel"] == "self"]
    assert hrefs and all(h.startswith("http://localhost/") for h in hrefs), hrefs
    assert host.encode("latin-1") not in body
