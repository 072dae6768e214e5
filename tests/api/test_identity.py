"""Keystone v3 token API served by imsd."""
import datetime
import time

from helpers import (ADMIN_PASSWORD, ADMIN_PROJECT, ADMIN_USER, DEFAULT_DOMAIN,
                     DEFAULT_DOMAIN_ID, Api, password_auth_body)


def parse_time(s):
    # Keystone: 2016-05-23T02:43:34.000000Z
    s = s.rstrip("Z")
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.datetime.strptime(s, fmt)
        except ValueError:
            pass
    raise AssertionError("bad timestamp %r" % s)


def anon(imsd):
    return Api(imsd.url)


def test_v3_version_document(imsd):
    r = anon(imsd).get("/v3")
    assert r.status_code == 200, r.text
    v = r.json()["version"]
    assert v["id"].startswith("v3")
    assert v["status"] in ("stable", "CURRENT", "current")
    assert any(l["rel"] == "self" and l["href"].rstrip("/").endswith("/v3")
               for l in v["links"])


def test_issue_by_user_name_and_domain_name_project_scope(imsd):
    r = imsd.issue(password_auth_body(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT))
    assert r.status_code == 201, r.text
    assert r.headers.get("X-Subject-Token")
    tok = r.json()["token"]
    assert tok["user"]["name"] == ADMIN_USER
    assert tok["user"]["domain"]["id"] == DEFAULT_DOMAIN_ID
    assert tok["user"]["domain"]["name"] == DEFAULT_DOMAIN
    assert tok["project"]["name"] == ADMIN_PROJECT
    assert tok["project"]["domain"]["id"] == DEFAULT_DOMAIN_ID
    assert tok["methods"] == ["password"]


def test_issue_by_user_id_and_project_id(imsd):
    _, first = imsd.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)
    uid, pid = first["user"]["id"], first["project"]["id"]
    r = imsd.issue(password_auth_body(None, ADMIN_PASSWORD, user_id=uid, project_id=pid))
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    assert tok["user"]["id"] == uid
    assert tok["project"]["id"] == pid
    assert tok["project"]["name"] == ADMIN_PROJECT


def test_issue_project_scope_by_name_for_member_user(imsd, make_project_user):
    api = make_project_user()
    r = imsd.issue(password_auth_body(api.user_name, api.password, api.project_name))
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    assert tok["project"]["id"] == api.project_id
    assert tok["user"]["id"] == api.user_id
    assert tok["roles"], "a project-scoped token carries the member's roles"


def test_issue_domain_scope(imsd):
    r = imsd.issue(password_auth_body(ADMIN_USER, ADMIN_PASSWORD,
                                      domain_scope_id=DEFAULT_DOMAIN_ID))
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    assert tok["domain"]["id"] == DEFAULT_DOMAIN_ID
    assert tok["domain"]["name"] == DEFAULT_DOMAIN
    assert "project" not in tok


def test_issue_unscoped(imsd):
    r = imsd.issue(password_auth_body(ADMIN_USER, ADMIN_PASSWORD))
    assert r.status_code == 201, r.text
    tok = r.json()["token"]
    assert tok["user"]["name"] == ADMIN_USER
    assert tok["methods"] == ["password"]


def test_wrong_password_401(imsd):
    r = imsd.issue(password_auth_body(ADMIN_USER, "not-the-password", ADMIN_PROJECT))
    assert r.status_code == 401
    assert "X-Subject-Token" not in r.headers


def test_unknown_user_401(imsd):
    r = imsd.issue(password_auth_body("no-such-user-xyz", "whatever", ADMIN_PROJECT))
    assert r.status_code == 401
    assert "X-Subject-Token" not in r.headers


def test_unknown_user_id_401(imsd):
    r = imsd.issue(password_auth_body(None, "whatever",
                                      user_id="0123456789abcdef0123456789abcdef"))
    assert r.status_code == 401


def test_member_cannot_scope_to_foreign_project(imsd, make_project_user):
    a = make_project_user()
    b = make_project_user()
    r = imsd.issue(password_auth_body(a.user_name, a.password, b.project_name))
    assert r.status_code == 401


def test_malformed_auth_body_400(imsd):
    s = anon(imsd)
    r = s.post("/v3/auth/tokens", data="{not json",
               headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = s.post("/v3/auth/tokens", json={"auth": {}})
    assert r.status_code in (400, 401)


def test_token_body(imsd):
    before = datetime.datetime.utcnow().replace(microsecond=0)
    _, tok = imsd.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)
    issued = parse_time(tok["issued_at"])
    expires = parse_time(tok["expires_at"])
    assert issued >= before - datetime.timedelta(seconds=5)
    assert expires > issued
    assert tok["user"]["id"]
    assert tok["project"]["id"]
    role_names = [r["name"] for r in tok["roles"]]
    assert "admin" in role_names
    assert all(r.get("id") for r in tok["roles"])
    cat = tok["catalog"]
    images = [s for s in cat if s["type"] == "image"]
    assert len(images) == 1, cat
    eps = images[0]["endpoints"]
    assert {e["interface"] for e in eps} >= {"public", "internal", "admin"}
    for e in eps:
        assert e["url"].rstrip("/") == imsd.url
        assert e["region"] == "RegionOne"
        assert e.get("region_id", "RegionOne") == "RegionOne"
        assert e["id"]
    assert images[0]["id"]


def test_validate_token_get_and_head(imsd, admin):
    tok, body = imsd.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)
    r = admin.get("/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status_code == 200, r.text
    assert r.headers.get("X-Subject-Token") == tok
    got = r.json()["token"]
    assert got["user"]["id"] == body["user"]["id"]
    assert got["project"]["id"] == body["project"]["id"]
    assert got["expires_at"] == body["expires_at"]
    r = admin.head("/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status_code == 200


def test_validate_requires_auth_token(imsd):
    tok, _ = imsd.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)
    r = anon(imsd).get("/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status_code == 401


def test_validate_own_token(imsd, make_project_user):
    api = make_project_user()
    r = api.get("/v3/auth/tokens", headers={"X-Subject-Token": api.token})
    assert r.status_code == 200, r.text
    assert r.json()["token"]["user"]["id"] == api.user_id


def test_another_users_token_is_neither_shown_nor_revoked(imsd, make_project_user):
    """Keystone (identity:validate_token, identity:revoke_token): only the
    token's owner or an admin; anyone else gets 403 and learns nothing."""
    alice, bob = make_project_user(), make_project_user()
    for method in ("get", "head", "delete"):
        r = getattr(alice, method)("/v3/auth/tokens", headers={"X-Subject-Token": bob.token})
        assert r.status_code == 403, (method, r.status_code, r.text)
        assert "X-Subject-Token" not in r.headers
        assert bob.user_id not in r.text
    assert bob.get("/v2/images").status_code == 200
    assert bob.get("/v3/auth/tokens", headers={"X-Subject-Token": bob.token}).status_code == 200


def test_revoke_token(imsd, admin):
    tok, _ = imsd.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)
    victim = Api(imsd.url, tok)
    assert victim.get("/v2/images").status_code == 200
    r = admin.delete("/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status_code == 204, r.text
    assert victim.get("/v2/images").status_code == 401
    r = admin.get("/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status_code == 404
    r = admin.head("/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status_code == 404
    # the caller's own token is unaffected
    assert admin.get("/v2/images").status_code == 200


def test_revoke_own_token(imsd):
    tok, _ = imsd.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)
    s = Api(imsd.url, tok)
    r = s.delete("/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status_code == 204
    assert s.get("/v2/images").status_code == 401


def test_tampered_token_401(imsd):
    tok, _ = imsd.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)
    assert Api(imsd.url, tok).get("/v2/images").status_code == 200
    mid = len(tok) // 2
    flipped = tok[:mid] + ("A" if tok[mid] != "A" else "B") + tok[mid + 1:]
    for bad in (flipped, tok[:-1], tok + "x", "garbage", ""):
        s = Api(imsd.url)
        r = s.get("/v2/images", headers={"X-Auth-Token": bad})
        assert r.status_code == 401, (bad, r.status_code)


def test_no_token_401_and_www_authenticate(imsd):
    r = anon(imsd).get("/v2/images")
    assert r.status_code == 401
    assert "WWW-Authenticate" in r.headers or r.text


def test_expired_token_401(start_imsd):
    srv = start_imsd(config={"identity": {"token_ttl": 1, "region": "RegionOne"}})
    tok, body = srv.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)
    ttl = parse_time(body["expires_at"]) - parse_time(body["issued_at"])
    assert ttl <= datetime.timedelta(seconds=2), ttl
    s = Api(srv.url, tok)
    time.sleep(2.2)
    r = s.get("/v2/images")
    assert r.status_code == 401
    fresh, _ = srv.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)
    r = Api(srv.url, fresh).get("/v3/auth/tokens", headers={"X-Subject-Token": tok})
    assert r.status_code in (401, 404)


def test_a_token_used_before_still_expires_and_its_forgeries_fail(start_imsd):
    """Each HTTP thread remembers the tokens it decoded (the signature is not
    computed again for the same bytes): a token used on every thread is
    still refused on every thread once it expires, and a token differing from
    it in one character (same length) is refused while it is remembered."""
    srv = start_imsd(config={"identity": {"token_ttl": 2}, "server": {"threads": 4}})
    tok, _ = srv.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)
    s = Api(srv.url, tok)
    for _ in range(12):  # each on its own connection: every thread decodes it
        assert s.get("/v2/images", headers={"Connection": "close"}).status_code == 200
    i = len(tok) // 2
    forged = tok[:i] + ("A" if tok[i] != "A" else "B") + tok[i + 1:]
    for _ in range(12):
        assert Api(srv.url, forged).get("/v2/images", headers={"Connection": "close"}).status_code == 401
    time.sleep(3.2)
    for _ in range(12):
        assert s.get("/v2/images", headers={"Connection": "close"}).status_code == 401


def test_password_guessing_locks_the_user(start_imsd):
    """After lockout_failures wrong passwords in a row the user is refused,
    even with the right password, until lockout_seconds have passed; other
    users are unaffected; a success resets the count."""
    srv = start_imsd(config={"identity": {"lockout_failures": 3, "lockout_seconds": 2}})
    srv.imsctl("project", "create", "lockp")
    srv.imsctl("user", "create", "victim", "--password", "victim-pw", "--project", "lockp")
    srv.imsctl("user", "create", "bystander", "--password", "bystander-pw", "--project", "lockp")
    # two failures, then a success: the count starts over
    for _ in range(2):
        assert srv.issue(password_auth_body("victim", "nope", "lockp")).status_code == 401
    assert srv.issue(password_auth_body("victim", "victim-pw", "lockp")).status_code == 201
    for _ in range(2):
        assert srv.issue(password_auth_body("victim", "nope", "lockp")).status_code == 401
    assert srv.issue(password_auth_body("victim", "victim-pw", "lockp")).status_code == 201
    # three in a row lock it
    for _ in range(3):
        assert srv.issue(password_auth_body("victim", "nope", "lockp")).status_code == 401
    r = srv.issue(password_auth_body("victim", "victim-pw", "lockp"))
    assert r.status_code == 401
    assert "locked" in r.text
    assert srv.issue(password_auth_body("bystander", "bystander-pw", "lockp")).status_code == 201
    time.sleep(2.5)
    assert srv.issue(password_auth_body("victim", "victim-pw", "lockp")).status_code == 201


# ------------------------------------------------- Keystone's error shape
def keystone_error(r, status):
    """Keystone's {"error": {"code": 401, "title": "Unauthorized", "message": ...}}."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == status and isinstance(err["code"], int), err
    assert err["title"] and err["message"], err
    return err


def test_identity_errors_in_keystone_shape(imsd, admin):
    err = keystone_error(imsd.issue(password_auth_body(ADMIN_USER, "not-the-password", ADMIN_PROJECT)), 401)
    assert err["title"] == "Unauthorized"
    assert "requires authentication" in err["message"]
    keystone_error(anon(imsd).post("/v3/auth/tokens", data="{not json",
                                   headers={"Content-Type": "application/json"}), 400)
    keystone_error(admin.get("/v3/auth/tokens"), 400)                      # no X-Subject-Token
    keystone_error(admin.get("/v3/auth/tokens", headers={"X-Subject-Token": "garbage"}), 404)
    # a bad token on an IAM route is refused before its handler runs
    keystone_error(Api(imsd.url, "not-a-token").get("/v3/users"), 401)
    keystone_error(anon(imsd).get("/v3/projects"), 401)
    # paths and methods no identity route has
    keystone_error(admin.get("/v3/no-such-collection"), 404)
    keystone_error(admin.put("/v3/users"), 405)
    keystone_error(admin.get("/v3.0/OS-ROLE/nothing"), 404)
    # the image API keeps Glance's shape
    r = admin.get("/v2/images/%s" % ("0" * 32))
    assert r.status_code == 404 and r.json()["code"] == "404 Not Found", r.text
