"""IAM management API: users, groups, projects, custom policies, roles, grants
and enterprise projects, over HTTP against a real imsd.

Shapes and status codes follow reference/iam (user_management,
user_group_management, project_management, custom_policy_management,
permission_management) and the EPS API for /v1.0/enterprise-projects.
"""
import json
import os
import tempfile
import uuid

import pytest

from helpers import Api, DEFAULT_DOMAIN_ID, password_auth_body, unique

ALLOW_IMS = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ims:*:*"]}]}
ALLOW_IAM = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["iam:*:*", "eps:*:*"]}]}


def uname(prefix="user"):
    # reference: 5 to 32 characters, letters, digits, -_. ; not starting with a digit
    return "%s_%s" % (prefix, uuid.uuid4().hex[:10])


def password():
    return "Pw-" + uuid.uuid4().hex[:12]


def keystone_error(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    err = r.json()["error"]
    assert err["code"] == status and isinstance(err["code"], int), err
    assert err["title"] and err["message"], err
    return err["message"]


# -- builders ----------------------------------------------------------------
def make_user(api, **fields):
    body = {"name": uname(), "password": password()}
    body.update(fields)
    r = api.post("/v3/users", json={"user": body})
    assert r.status_code == 201, (r.status_code, r.text)
    u = r.json()["user"]
    u["_password"] = body["password"]
    return u


def make_group(api, name=None):
    r = api.post("/v3/groups", json={"group": {"name": name or unique("grp"), "description": "d"}})
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()["group"]


def make_project(api, name=None):
    r = api.post("/v3/projects", json={"project": {"name": name or unique("proj")}})
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()["project"]


def make_policy(api, document, type_="XA", name=None):
    r = api.post("/v3.0/OS-ROLE/roles", json={"role": {
        "display_name": name or unique("pol"), "type": type_, "description": "test policy",
        "policy": document}})
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()["role"]


def login(imsd, user_id, pw, project_id=None, domain_id=None):
    body = password_auth_body(None, pw, user_id=user_id, project_id=project_id,
                              domain_scope_id=domain_id)
    r = imsd.issue(body)
    assert r.status_code == 201, (r.status_code, r.text)
    return Api(imsd.url, r.headers["X-Subject-Token"])


@pytest.fixture(scope="module")
def domain_id(admin):
    return DEFAULT_DOMAIN_ID


# -- users -------------------------------------------------------------------
def test_user_lifecycle(admin, domain_id):
    u = make_user(admin, description="first", enabled=True)
    assert u["domain_id"] == domain_id and u["enabled"] is True
    assert u["description"] == "first" and u["password_expires_at"] is None
    assert u["links"]["self"].endswith("/v3/users/" + u["id"])
    assert "password" not in u and "password_hash" not in u

    r = admin.get("/v3/users/" + u["id"])
    assert r.status_code == 200 and r.json()["user"]["name"] == u["name"]
    assert not {"password", "password_hash"} & set(r.json()["user"])
    assert u["_password"] not in r.text and "argon2" not in r.text

    r = admin.get("/v3/users", params={"name": u["name"]})
    assert r.status_code == 200
    body = r.json()
    assert [x["id"] for x in body["users"]] == [u["id"]]
    assert body["links"]["next"] is None and body["links"]["previous"] is None

    r = admin.patch("/v3/users/" + u["id"], json={"user": {"description": "second", "enabled": False}})
    assert r.status_code == 200, r.text
    assert r.json()["user"]["description"] == "second" and r.json()["user"]["enabled"] is False
    assert u["id"] in [x["id"] for x in admin.get("/v3/users", params={"enabled": "false"}).json()["users"]]

    r = admin.post("/v3/users", json={"user": {"name": u["name"], "password": password()}})
    keystone_error(r, 409)

    assert admin.delete("/v3/users/" + u["id"]).status_code == 204
    keystone_error(admin.get("/v3/users/" + u["id"]), 404)
    keystone_error(admin.delete("/v3/users/" + u["id"]), 404)


def test_user_password_change_and_login(imsd, admin):
    p = make_project(admin)
    u = make_user(admin, default_project_id=p["id"])
    assert u["default_project_id"] == p["id"]
    login(imsd, u["id"], u["_password"], project_id=p["id"])
    new = password()
    assert admin.patch("/v3/users/" + u["id"], json={"user": {"password": new}}).status_code == 200
    assert imsd.issue(password_auth_body(None, u["_password"], user_id=u["id"])).status_code == 401
    login(imsd, u["id"], new)


def test_root_user_cannot_be_deleted(admin):
    keystone_error(admin.delete("/v3/users/" + admin_user_id(admin)), 403)


def admin_user_id(admin):
    r = admin.get("/v3/auth/tokens", headers={"X-Subject-Token": admin.token})
    return r.json()["token"]["user"]["id"]


# -- groups ------------------------------------------------------------------
def test_group_lifecycle_and_membership(admin, domain_id):
    g = make_group(admin)
    assert g["domain_id"] == domain_id and isinstance(g["create_time"], int)
    assert g["links"]["self"].endswith("/v3/groups/" + g["id"])
    keystone_error(admin.post("/v3/groups", json={"group": {"name": g["name"]}}), 409)

    r = admin.get("/v3/groups", params={"name": g["name"]})
    assert [x["id"] for x in r.json()["groups"]] == [g["id"]]
    r = admin.patch("/v3/groups/" + g["id"], json={"group": {"description": "new words"}})
    assert r.status_code == 200 and r.json()["group"]["description"] == "new words"
    assert admin.get("/v3/groups/" + g["id"]).json()["group"]["description"] == "new words"

    u = make_user(admin)
    member = "/v3/groups/%s/users/%s" % (g["id"], u["id"])
    keystone_error(admin.get(member), 404)
    assert admin.head(member).status_code == 404
    assert admin.put(member).status_code == 204
    assert admin.put(member).status_code == 204          # idempotent
    assert admin.head(member).status_code == 204
    r = admin.get("/v3/groups/%s/users" % g["id"])
    assert [x["id"] for x in r.json()["users"]] == [u["id"]]
    r = admin.get("/v3/users/%s/groups" % u["id"])
    assert [x["id"] for x in r.json()["groups"]] == [g["id"]]
    assert admin.delete(member).status_code == 204
    assert admin.head(member).status_code == 404
    keystone_error(admin.delete(member), 404)
    keystone_error(admin.put("/v3/groups/%s/users/%s" % (g["id"], "nosuchuser")), 404)

    assert admin.delete("/v3/groups/" + g["id"]).status_code == 204
    keystone_error(admin.get("/v3/groups/" + g["id"]), 404)


# -- projects ----------------------------------------------------------------
def test_project_lifecycle(admin, domain_id):
    p = make_project(admin)
    assert p["domain_id"] == domain_id and p["parent_id"] == domain_id
    assert p["is_domain"] is False and p["enabled"] is True
    keystone_error(admin.post("/v3/projects", json={"project": {"name": p["name"]}}), 409)

    r = admin.get("/v3/projects", params={"name": p["name"], "domain_id": domain_id})
    assert [x["id"] for x in r.json()["projects"]] == [p["id"]]
    assert admin.get("/v3/projects", params={"domain_id": "someone-else"}).json()["projects"] == []
    r = admin.patch("/v3/projects/" + p["id"], json={"project": {"description": "about"}})
    assert r.status_code == 200 and r.json()["project"]["description"] == "about"
    assert admin.get("/v3/projects/" + p["id"]).json()["project"]["description"] == "about"
    keystone_error(admin.patch("/v3/projects/" + p["id"], json={"project": {}}), 400)

    assert admin.delete("/v3/projects/" + p["id"]).status_code == 204
    keystone_error(admin.get("/v3/projects/" + p["id"]), 404)


def test_project_delete_unsets_default_project(admin):
    """Keystone unsets the default_project_id of the users whose default
    project is deleted (identity's _unset_default_project callback): no user
    is left naming a project that no longer exists; other users keep theirs."""
    gone, kept = make_project(admin), make_project(admin)
    u = make_user(admin, default_project_id=gone["id"])
    v = make_user(admin, default_project_id=kept["id"])
    assert u["default_project_id"] == gone["id"]
    assert admin.delete("/v3/projects/" + gone["id"]).status_code == 204
    r = admin.get("/v3/users/" + u["id"])
    assert r.status_code == 200 and "default_project_id" not in r.json()["user"], r.text
    assert u["id"] in [x["id"] for x in admin.get("/v3/users", params={"name": u["name"]}).json()["users"]]
    assert admin.get("/v3/users/" + v["id"]).json()["user"]["default_project_id"] == kept["id"]
    # the user can be given a default project again
    r = admin.patch("/v3/users/" + u["id"], json={"user": {"default_project_id": kept["id"]}})
    assert r.status_code == 200 and r.json()["user"]["default_project_id"] == kept["id"], r.text


# -- custom policies and roles -----------------------------------------------
def test_custom_policy_lifecycle(admin, domain_id):
    role = make_policy(admin, ALLOW_IMS, "AX")
    assert role["catalog"] == "CUSTOMED" and role["type"] == "AX"
    assert role["domain_id"] == domain_id and role["policy"] == ALLOW_IMS
    assert role["name"].startswith("custom_%s_" % domain_id)
    keystone_error(admin.post("/v3.0/OS-ROLE/roles", json={"role": {
        "display_name": role["display_name"], "type": "AX", "description": "x", "policy": ALLOW_IMS}}), 409)

    r = admin.get("/v3.0/OS-ROLE/roles")
    assert r.status_code == 200
    body = r.json()
    assert role["id"] in [x["id"] for x in body["roles"]]
    assert all(x["domain_id"] == domain_id for x in body["roles"])
    assert body["total_number"] == len(body["roles"])

    r = admin.get("/v3.0/OS-ROLE/roles/" + role["id"])
    assert r.status_code == 200 and r.json()["role"]["references"] == 0

    doc = {"Version": "1.1", "Statement": [{"Effect": "Deny", "Action": ["ims:images:delete"]}]}
    r = admin.patch("/v3.0/OS-ROLE/roles/" + role["id"], json={"role": {"policy": doc, "type": "XA"}})
    assert r.status_code == 200, r.text
    assert r.json()["role"]["policy"] == doc and r.json()["role"]["type"] == "XA"

    # the role list: system policies plus the account's custom ones
    r = admin.get("/v3/roles")
    names = {x["display_name"]: x for x in r.json()["roles"]}
    assert "Tenant Administrator" in names and "IMS FullAccess" in names
    assert names["Tenant Administrator"]["domain_id"] is None
    assert names["IMS FullAccess"]["flag"] == "fine_grained"
    assert names["IMS FullAccess"]["policy"]["Version"] == "1.1"
    assert role["display_name"] in names
    only_custom = admin.get("/v3/roles", params={"domain_id": domain_id}).json()["roles"]
    assert all(x["domain_id"] == domain_id for x in only_custom)
    r = admin.get("/v3/roles/" + names["Tenant Guest"]["id"])
    assert r.status_code == 200 and r.json()["role"]["display_name"] == "Tenant Guest"
    # system policies are not custom ones
    keystone_error(admin.get("/v3.0/OS-ROLE/roles/" + names["Tenant Guest"]["id"]), 404)
    keystone_error(admin.delete("/v3.0/OS-ROLE/roles/" + names["Tenant Guest"]["id"]), 404)

    assert admin.delete("/v3.0/OS-ROLE/roles/" + role["id"]).status_code == 200
    keystone_error(admin.get("/v3/roles/" + role["id"]), 404)


@pytest.mark.parametrize("role,field", [
    ({"type": "AX", "description": "d", "policy": ALLOW_IMS}, "display_name"),
    ({"display_name": "x1", "type": "ZZ", "description": "d", "policy": ALLOW_IMS}, "type"),
    ({"display_name": "x2", "type": "AX", "policy": ALLOW_IMS}, "description"),
    ({"display_name": "x3", "type": "AX", "description": "d"}, "policy"),
    ({"display_name": "x4", "type": "AX", "description": "d", "policy": "text"}, "role.policy"),
    ({"display_name": "x5", "type": "AX", "description": "d",
      "policy": {"Version": "1.1", "Statement": [{"Effect": "Maybe", "Action": ["ims:*:*"]}]}}, "Effect"),
    ({"display_name": "x6", "type": "AX", "description": "d",
      "policy": {"Version": "1.1", "Statement": [{"Effect": "Allow"}]}}, "Action"),
    ({"display_name": "x7", "type": "AX", "description": "d",
      "policy": {"Version": "1.0", "Statement": [{"Effect": "Allow", "Action": ["ims:*:*"]}]}}, "Version"),
    ({"display_name": 7, "type": "AX", "description": "d", "policy": ALLOW_IMS}, "role.display_name"),
])
def test_custom_policy_bad_input(admin, role, field):
    msg = keystone_error(admin.post("/v3.0/OS-ROLE/roles", json={"role": role}), 400)
    assert field in msg, msg


# -- grants drive image access -----------------------------------------------
@pytest.fixture
def iam_user(imsd, admin):
    """A project, a user who may log in to it, in a group; no grants yet."""
    p = make_project(admin)
    u = make_user(admin, default_project_id=p["id"])
    g = make_group(admin)
    assert admin.put("/v3/groups/%s/users/%s" % (g["id"], u["id"])).status_code == 204
    api = login(imsd, u["id"], u["_password"], project_id=p["id"])
    yield {"project": p, "user": u, "group": g, "api": api}
    api.close()


def test_project_grant_allows_images_until_revoked(admin, iam_user):
    api, p, g = iam_user["api"], iam_user["project"], iam_user["group"]
    role = make_policy(admin, ALLOW_IMS)
    assert api.get("/v2/images").status_code == 403

    grant = "/v3/projects/%s/groups/%s/roles/%s" % (p["id"], g["id"], role["id"])
    assert admin.head(grant).status_code == 404
    assert admin.put(grant).status_code == 204
    assert admin.head(grant).status_code == 204
    assert admin.get(grant).status_code == 204
    r = admin.get("/v3/projects/%s/groups/%s/roles" % (p["id"], g["id"]))
    assert r.status_code == 200 and [x["id"] for x in r.json()["roles"]] == [role["id"]]
    assert admin.get("/v3.0/OS-ROLE/roles/" + role["id"]).json()["role"]["references"] == 1

    assert api.get("/v2/images").status_code == 200
    r = api.post("/v2/images", json={"name": unique("img"), "disk_format": "raw", "container_format": "bare"})
    assert r.status_code == 201, r.text
    image_id = r.json()["id"]

    assert admin.delete(grant).status_code == 204
    assert api.get("/v2/images").status_code == 403
    assert api.get("/v2/images/" + image_id).status_code == 403
    keystone_error(admin.delete(grant), 404)
    # the project still owns an image: it cannot go
    keystone_error(admin.delete("/v3/projects/" + p["id"]), 409)
    assert admin.delete("/v2/images/" + image_id).status_code == 204


def test_all_projects_grant(admin, iam_user):
    api, g = iam_user["api"], iam_user["group"]
    role = make_policy(admin, ALLOW_IMS)
    grant = "/v3/OS-INHERIT/domains/%s/groups/%s/roles/%s/inherited_to_projects" % (
        DEFAULT_DOMAIN_ID, g["id"], role["id"])
    assert admin.head(grant).status_code == 404
    assert admin.put(grant).status_code == 204
    assert admin.head(grant).status_code == 204
    assert api.get("/v2/images").status_code == 200
    assert admin.delete(grant).status_code == 204
    assert admin.head(grant).status_code == 404
    assert api.get("/v2/images").status_code == 403
    keystone_error(admin.put(grant.replace(DEFAULT_DOMAIN_ID, "not-my-domain", 1)), 404)


def test_domain_grant_makes_an_iam_admin(imsd, admin, iam_user):
    api, g, u = iam_user["api"], iam_user["group"], iam_user["user"]
    role = make_policy(admin, ALLOW_IAM, "AX")
    grant = "/v3/domains/%s/groups/%s/roles/%s" % (DEFAULT_DOMAIN_ID, g["id"], role["id"])
    keystone_error(api.get("/v3/users"), 403)
    assert admin.put(grant).status_code == 204
    assert admin.get(grant).status_code == 204
    assert admin.head(grant).status_code == 204
    r = admin.get("/v3/domains/%s/groups/%s/roles" % (DEFAULT_DOMAIN_ID, g["id"]))
    assert [x["id"] for x in r.json()["roles"]] == [role["id"]]
    # the same token: decisions follow the grants at once
    r = api.get("/v3/users")
    assert r.status_code == 200 and u["id"] in [x["id"] for x in r.json()["users"]]
    assert api.post("/v1.0/enterprise-projects", json={"name": unique("ep")}).status_code == 200
    # a project-level grant of the same policy would not do: IAM is global
    assert admin.delete(grant).status_code == 204
    keystone_error(api.get("/v3/users"), 403)
    pgrant = "/v3/projects/%s/groups/%s/roles/%s" % (iam_user["project"]["id"], g["id"], role["id"])
    assert admin.put(pgrant).status_code == 204
    keystone_error(api.get("/v3/users"), 403)
    keystone_error(api.get("/v1.0/enterprise-projects"), 403)


def test_grant_unknown_parts_404(admin, iam_user):
    p, g = iam_user["project"], iam_user["group"]
    role = make_policy(admin, ALLOW_IMS)
    for path in ("/v3/projects/nope/groups/%s/roles/%s" % (g["id"], role["id"]),
                 "/v3/projects/%s/groups/nope/roles/%s" % (p["id"], role["id"]),
                 "/v3/projects/%s/groups/%s/roles/nope" % (p["id"], g["id"]),
                 "/v3/domains/nope/groups/%s/roles/%s" % (g["id"], role["id"]),
                 "/v3.0/OS-PERMISSION/enterprise-projects/nope/groups/%s/roles/%s" % (g["id"], role["id"])):
        keystone_error(admin.put(path), 404)


# -- enterprise projects -----------------------------------------------------
def test_enterprise_project_lifecycle(admin, iam_user):
    name = unique("ep")
    r = admin.post("/v1.0/enterprise-projects", json={"name": name, "description": "team"})
    assert r.status_code == 200, r.text
    ep = r.json()["enterprise_project"]
    assert ep["name"] == name and ep["status"] == 1 and ep["type"] == "prod"
    keystone_error(admin.post("/v1.0/enterprise-projects", json={"name": name}), 409)
    msg = keystone_error(admin.post("/v1.0/enterprise-projects", json={"name": "default"}), 400)
    assert "name" in msg
    keystone_error(admin.post("/v1.0/enterprise-projects", json={"name": "x", "type": "dev"}), 400)

    r = admin.get("/v1.0/enterprise-projects")
    ids = [x["id"] for x in r.json()["enterprise_projects"]]
    assert "0" in ids and ep["id"] in ids and r.json()["total_count"] == len(ids)
    assert admin.get("/v1.0/enterprise-projects/" + ep["id"]).json()["enterprise_project"]["name"] == name

    r = admin.put("/v1.0/enterprise-projects/" + ep["id"], json={"name": name + "-b", "description": "renamed"})
    assert r.status_code == 200 and r.json()["enterprise_project"]["description"] == "renamed"

    action = "/v1.0/enterprise-projects/%s/action" % ep["id"]
    assert admin.post(action, json={"action": "disable"}).status_code == 204
    assert admin.get("/v1.0/enterprise-projects/" + ep["id"]).json()["enterprise_project"]["status"] == 2
    disabled = [x["id"] for x in admin.get("/v1.0/enterprise-projects",
                                           params={"status": 2}).json()["enterprise_projects"]]
    assert ep["id"] in disabled and "0" not in disabled
    # a disabled enterprise project takes no new images
    r = admin.post("/v2/images", json={"name": unique("img"), "enterprise_project_id": ep["id"]})
    assert r.status_code == 400, r.text
    assert admin.post(action, json={"action": "enable"}).status_code == 204
    assert admin.get("/v1.0/enterprise-projects/" + ep["id"]).json()["enterprise_project"]["status"] == 1
    keystone_error(admin.post(action, json={"action": "pause"}), 400)
    keystone_error(admin.post("/v1.0/enterprise-projects/0/action", json={"action": "disable"}), 400)
    keystone_error(admin.get("/v1.0/enterprise-projects/" + str(uuid.uuid4())), 404)

    # grants on an enterprise project
    role = make_policy(admin, ALLOW_IMS)
    grant = "/v3.0/OS-PERMISSION/enterprise-projects/%s/groups/%s/roles/%s" % (
        ep["id"], iam_user["group"]["id"], role["id"])
    assert admin.put(grant).status_code == 204
    assert admin.delete(grant).status_code == 204
    keystone_error(admin.delete(grant), 404)


# -- access --------------------------------------------------------------------
IAM_CALLS = [
    ("POST", "/v3/users", {"user": {"name": "someone_x", "password": "Secret-123"}}),
    ("GET", "/v3/users", None),
    ("GET", "/v3/users/{user}", None),
    ("PATCH", "/v3/users/{user}", {"user": {"description": "x"}}),
    ("DELETE", "/v3/users/{user}", None),
    ("GET", "/v3/users/{user}/groups", None),
    ("POST", "/v3/groups", {"group": {"name": "g"}}),
    ("GET", "/v3/groups", None),
    ("GET", "/v3/groups/{group}", None),
    ("PATCH", "/v3/groups/{group}", {"group": {"description": "x"}}),
    ("DELETE", "/v3/groups/{group}", None),
    ("GET", "/v3/groups/{group}/users", None),
    ("PUT", "/v3/groups/{group}/users/{user}", None),
    ("HEAD", "/v3/groups/{group}/users/{user}", None),
    ("DELETE", "/v3/groups/{group}/users/{user}", None),
    ("POST", "/v3/projects", {"project": {"name": "p"}}),
    ("GET", "/v3/projects", None),
    ("GET", "/v3/projects/{project}", None),
    ("PATCH", "/v3/projects/{project}", {"project": {"description": "x"}}),
    ("DELETE", "/v3/projects/{project}", None),
    ("GET", "/v3/projects/{project}/groups/{group}/roles", None),
    ("PUT", "/v3/projects/{project}/groups/{group}/roles/{role}", None),
    ("HEAD", "/v3/projects/{project}/groups/{group}/roles/{role}", None),
    ("DELETE", "/v3/projects/{project}/groups/{group}/roles/{role}", None),
    ("PUT", "/v3/OS-INHERIT/domains/{domain}/groups/{group}/roles/{role}/inherited_to_projects", None),
    ("HEAD", "/v3/OS-INHERIT/domains/{domain}/groups/{group}/roles/{role}/inherited_to_projects", None),
    ("DELETE", "/v3/OS-INHERIT/domains/{domain}/groups/{group}/roles/{role}/inherited_to_projects", None),
    ("GET", "/v3/domains/{domain}/groups/{group}/roles", None),
    ("PUT", "/v3/domains/{domain}/groups/{group}/roles/{role}", None),
    ("GET", "/v3/domains/{domain}/groups/{group}/roles/{role}", None),
    ("DELETE", "/v3/domains/{domain}/groups/{group}/roles/{role}", None),
    ("PUT", "/v3.0/OS-PERMISSION/enterprise-projects/{ep}/groups/{group}/roles/{role}", None),
    ("DELETE", "/v3.0/OS-PERMISSION/enterprise-projects/{ep}/groups/{group}/roles/{role}", None),
    ("GET", "/v3/roles", None),
    ("GET", "/v3/roles/{role}", None),
    ("POST", "/v3.0/OS-ROLE/roles", {"role": {"display_name": "x", "type": "AX", "description": "d",
                                              "policy": ALLOW_IMS}}),
    ("GET", "/v3.0/OS-ROLE/roles", None),
    ("GET", "/v3.0/OS-ROLE/roles/{role}", None),
    ("PATCH", "/v3.0/OS-ROLE/roles/{role}", {"role": {"description": "x"}}),
    ("DELETE", "/v3.0/OS-ROLE/roles/{role}", None),
    ("POST", "/v1.0/enterprise-projects", {"name": "epx"}),
    ("GET", "/v1.0/enterprise-projects", None),
    ("GET", "/v1.0/enterprise-projects/{ep}", None),
    ("PUT", "/v1.0/enterprise-projects/{ep}", {"name": "epy"}),
    ("POST", "/v1.0/enterprise-projects/{ep}/action", {"action": "disable"}),
    ("POST", "/v1.0/enterprise-projects/{ep}/action", {"action": "enable"}),
]


@pytest.fixture(scope="module")
def targets(admin):
    r = admin.post("/v1.0/enterprise-projects", json={"name": unique("ep")})
    return {"user": make_user(admin)["id"], "group": make_group(admin)["id"],
            "project": make_project(admin)["id"], "role": make_policy(admin, ALLOW_IMS)["id"],
            "domain": DEFAULT_DOMAIN_ID, "ep": r.json()["enterprise_project"]["id"]}


@pytest.mark.parametrize("method,path,body", IAM_CALLS, ids=["%s %s" % c[:2] for c in IAM_CALLS])
def test_non_admin_gets_403(alice, targets, method, path, body):
    # alice holds Tenant Administrator on her project: every service but IAM
    r = alice.request(method, path.format(**targets), json=body)
    assert r.status_code == 403, (r.status_code, r.text)
    if method != "HEAD":
        keystone_error(r, 403)


def test_no_token_401(imsd):
    api = Api(imsd.url)
    assert api.get("/v3/users").status_code == 401
    api.close()


# -- accounts are separate -------------------------------------------------------
@pytest.fixture(scope="module")
def other_admin(imsd):
    """Another account's IAM administrator. `imsctl domain create` makes only
    the domain (no admin user), so the user gets iam:*/eps:* on its domain."""
    dom_name = unique("acct")
    dom = imsd.imsctl("domain", "create", dom_name)
    pw = password()
    user = uname("boss")
    uid = imsd.imsctl("user", "create", user, "--password", pw, "--domain", dom_name)
    imsctl_group = unique("admins")
    imsd.imsctl("group", "create", imsctl_group, "--domain", dom_name)
    imsd.imsctl("group", "add-user", imsctl_group, user, "--domain", dom_name)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(ALLOW_IAM, f)
    try:
        imsd.imsctl("policy", "create", "iam-admin", "--file", f.name, "--domain", dom_name)
    finally:
        os.unlink(f.name)
    imsd.imsctl("grant", "iam-admin", "--group", imsctl_group, "--domain-wide", "--domain", dom_name)
    api = login(imsd, uid, pw, domain_id=dom)
    api.domain_id = dom
    yield api
    api.close()


@pytest.fixture(scope="module")
def other_root(imsd):
    """Another account's root user, made by `imsctl domain create
    --admin-password` (user "admin" of that domain)."""
    dom_name = unique("root-acct")
    pw = password()
    dom = imsd.imsctl("domain", "create", dom_name, "--admin-password", pw)
    r = imsd.issue(password_auth_body("admin", pw, domain=dom_name, domain_scope_id=dom))
    assert r.status_code == 201, (r.status_code, r.text)
    api = Api(imsd.url, r.headers["X-Subject-Token"])
    api.domain_id = dom
    yield api
    api.close()


@pytest.mark.parametrize("who", ["other_admin", "other_root"])
def test_other_account_sees_nothing_of_ours(request, admin, targets, who):
    o = request.getfixturevalue(who)
    ours = {"/v3/users/" + targets["user"], "/v3/groups/" + targets["group"],
            "/v3/projects/" + targets["project"], "/v3.0/OS-ROLE/roles/" + targets["role"],
            "/v3/roles/" + targets["role"], "/v1.0/enterprise-projects/" + targets["ep"],
            "/v3/groups/%s/users" % targets["group"]}
    for path in ours:
        keystone_error(o.get(path), 404)
    keystone_error(o.patch("/v3/users/" + targets["user"], json={"user": {"description": "x"}}), 404)
    keystone_error(o.delete("/v3/groups/" + targets["group"]), 404)
    keystone_error(o.post("/v1.0/enterprise-projects/%s/action" % targets["ep"],
                          json={"action": "disable"}), 404)
    for path in ("/v3/users", "/v3/groups", "/v3/projects", "/v3.0/OS-ROLE/roles"):
        body = o.get(path).json()
        listed = json.dumps(body)
        for t in ("user", "group", "project", "role"):
            assert targets[t] not in listed, (path, t)
    assert targets["ep"] not in json.dumps(o.get("/v1.0/enterprise-projects").json())
    # it manages its own account
    u = make_user(o)
    assert u["domain_id"] == o.domain_id
    g = make_group(o)
    keystone_error(o.put("/v3/groups/%s/users/%s" % (g["id"], targets["user"])), 404)
    keystone_error(o.put("/v3/projects/%s/groups/%s/roles/%s" % (targets["project"], g["id"], targets["role"])),
                   404)
    keystone_error(o.put("/v3/domains/%s/groups/%s/roles/%s" % (DEFAULT_DOMAIN_ID, g["id"], targets["role"])),
                   404)
    # nor the other way round
    keystone_error(admin.get("/v3/users/" + u["id"]), 404)
    # a body naming another account is refused
    msg = keystone_error(o.post("/v3/groups", json={"group": {"name": "x", "domain_id": DEFAULT_DOMAIN_ID}}), 400)
    assert "domain_id" in msg


# -- bad input -------------------------------------------------------------------
@pytest.mark.parametrize("path,body,field", [
    ("/v3/users", {"user": {"password": "Secret-123"}}, "name"),
    ("/v3/users", {"user": {"name": "ab", "password": "Secret-123"}}, "name"),
    ("/v3/users", {"user": {"name": "9starts_with_digit", "password": "Secret-123"}}, "name"),
    ("/v3/users", {"user": {"name": "good_name", "password": "short"}}, "password"),
    ("/v3/users", {"user": {"name": "good_name", "password": "alllowercase"}}, "password"),
    ("/v3/users", {"user": {"name": "good_name", "password": "Secret-123", "enabled": "yes"}}, "user.enabled"),
    ("/v3/users", {"user": {"name": "good_name", "default_project_id": "nope"}}, "default_project_id"),
    ("/v3/users", {"users": {}}, "user"),
    ("/v3/groups", {"group": {"name": "x" * 65}}, "name"),
    ("/v3/groups", {"group": {"name": 5}}, "group.name"),
    ("/v3/projects", {"project": {}}, "project.name"),
    ("/v3/projects", {"project": {"name": "bad/name"}}, "name"),
    ("/v1.0/enterprise-projects", {"description": "no name"}, "name"),
    ("/v1.0/enterprise-projects", {"name": "has space"}, "name"),
])
def test_bad_input_400_names_the_field(admin, path, body, field):
    msg = keystone_error(admin.post(path, json=body), 400)
    assert field in msg, msg


def test_malformed_json_400(admin):
    for path in ("/v3/users", "/v3/groups", "/v3.0/OS-ROLE/roles", "/v1.0/enterprise-projects"):
        r = admin.post(path, data=b"{not json", headers={"Content-Type": "application/json"})
        keystone_error(r, 400)
