"""Keystone role assignments (admin, member, reader) of users and groups on
projects and domains, next to the IAM policy grants: the real openstack CLI
makes a cloud administrator, tokens carry the roles, and an admin may do what
a Glance admin may."""
import json
import os
import subprocess
import tempfile
import uuid

import pytest

from helpers import (ADMIN_PASSWORD, ADMIN_PROJECT, ADMIN_USER, DEFAULT_DOMAIN, DEFAULT_DOMAIN_ID,
                     PATCH_21, Api, active_image, clean_env, create_image, get_image,
                     password_auth_body, unique)

OPENSTACK = "/usr/bin/openstack"
ALLOW_IAM = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["iam:*:*", "eps:*:*"]}]}


def osc(imsd, *args, user=ADMIN_USER, password=ADMIN_PASSWORD, project=ADMIN_PROJECT, ok=True):
    cmd = [OPENSTACK, "--os-auth-url", imsd.auth_url, "--os-identity-api-version", "3",
           "--os-username", user, "--os-password", password, "--os-project-name", project,
           "--os-user-domain-name", DEFAULT_DOMAIN, "--os-project-domain-name", DEFAULT_DOMAIN] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=120,
                       stdin=subprocess.DEVNULL)
    if ok:
        assert r.returncode == 0, "%s\nstdout:%s\nstderr:%s" % (" ".join(args), r.stdout, r.stderr[-3000:])
    return r


def keystone_error(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()["error"]["message"]


def token_roles(imsd, api):
    tok, body = imsd.token(api.user_name, api.password, api.project_name)
    return tok, sorted(r["name"] for r in body["roles"])


def test_roles_list_and_show(admin):
    r = admin.get("/v3/roles")
    assert r.status_code == 200, r.text
    ids = [x["id"] for x in r.json()["roles"]]
    assert {"admin", "member", "reader"} <= set(ids)
    assert "Tenant Administrator" in [x.get("display_name") for x in r.json()["roles"]]  # the policies stay
    r = admin.get("/v3/roles", params={"name": "reader"})
    assert [x["name"] for x in r.json()["roles"]] == ["reader"]
    r = admin.get("/v3/roles/admin")
    assert r.status_code == 200 and r.json()["role"]["name"] == "admin", r.text
    keystone_error(admin.get("/v3/roles/superuser"), 404)


def test_openstack_cli_role_add_makes_a_cloud_admin(imsd, admin, make_project_user):
    """`openstack role add --user U --project P admin`, then U may do what a
    Glance admin may; `openstack role remove` ends it (old tokens too)."""
    u = make_project_user()
    other = make_project_user()
    private = active_image(other, visibility="private")
    shared = create_image(other, visibility="shared")
    # before: a plain member
    _, roles = token_roles(imsd, u)
    assert roles == ["member"]
    assert u.get("/v2/images/%s" % private["id"]).status_code == 404
    r = u.post("/v2/images", json={"name": "x", "owner": other.project_id})
    assert r.status_code == 403, r.text

    osc(imsd, "role", "add", "--user", u.user_name, "--project", u.project_name, "admin")
    listed = json.loads(osc(imsd, "role", "assignment", "list", "--user", u.user_name, "--project",
                            u.project_name, "--names", "-f", "json").stdout)
    assert sorted(x["Role"] for x in listed) == ["admin", "member"]
    assert {x["User"] for x in listed} == {"%s@%s" % (u.user_name, DEFAULT_DOMAIN)}
    assert {x["Project"] for x in listed} == {"%s@%s" % (u.project_name, DEFAULT_DOMAIN)}

    tok, roles = token_roles(imsd, u)
    assert roles == ["admin", "member"]
    boss = Api(imsd.url, tok)
    # every image, member_status=all, any owner on create and update, deactivate any image
    assert boss.get("/v2/images/%s" % private["id"]).status_code == 200
    ids = [i["id"] for i in boss.get("/v2/images", params={"visibility": "shared", "member_status": "all",
                                                           "limit": 1000}).json()["images"]]
    assert shared["id"] in ids
    r = boss.post("/v2/images", json={"name": unique("owned"), "owner": other.project_id})
    assert r.status_code == 201 and r.json()["owner"] == other.project_id, r.text
    made = r.json()["id"]
    r = boss.patch("/v2/images/%s" % made, data=json.dumps([{"op": "replace", "path": "/owner",
                                                            "value": u.project_id}]),
                   headers={"Content-Type": PATCH_21})
    assert r.status_code == 200 and r.json()["owner"] == u.project_id, r.text
    assert boss.post("/v2/images/%s/actions/deactivate" % private["id"]).status_code == 204
    assert get_image(other, private["id"])["status"] == "deactivated"
    assert boss.get("/v2/images/%s/file" % private["id"]).status_code == 200
    assert boss.post("/v2/images/%s/actions/reactivate" % private["id"]).status_code == 204

    osc(imsd, "role", "remove", "--user", u.user_name, "--project", u.project_name, "admin")
    assert boss.get("/v2/images").status_code == 401          # a token never outlives its role
    tok, roles = token_roles(imsd, u)
    assert roles == ["member"]
    assert Api(imsd.url, tok).get("/v2/images/%s" % private["id"]).status_code == 404


def test_user_assignment_routes(imsd, admin, make_project_user):
    u = make_project_user()
    path = "/v3/projects/%s/users/%s/roles/reader" % (u.project_id, u.user_id)
    assert admin.head(path).status_code == 404
    assert admin.get(path).status_code == 404
    assert admin.put(path).status_code == 204
    assert admin.put(path).status_code == 204                  # twice: still one
    assert admin.head(path).status_code == 204
    assert admin.get(path).status_code == 204
    r = admin.get("/v3/projects/%s/users/%s/roles" % (u.project_id, u.user_id))
    assert r.status_code == 200 and sorted(x["id"] for x in r.json()["roles"]) == ["member", "reader"]
    assert token_roles(imsd, u)[1] == ["member", "reader"]
    assert admin.delete(path).status_code == 204
    keystone_error(admin.delete(path), 404)
    # unknown role, user, project; a policy is no Keystone role for a user
    keystone_error(admin.put("/v3/projects/%s/users/%s/roles/root" % (u.project_id, u.user_id)), 404)
    keystone_error(admin.put("/v3/projects/%s/users/%s/roles/admin" % (u.project_id, "0" * 32)), 404)
    keystone_error(admin.put("/v3/projects/%s/users/%s/roles/admin" % ("0" * 32, u.user_id)), 404)
    # a user needs a token to do it
    keystone_error(Api(imsd.url).put(path), 401)


def test_group_and_domain_assignments(imsd, admin, make_project_user):
    u = make_project_user()
    g = admin.post("/v3/groups", json={"group": {"name": unique("kg"), "description": ""}}).json()["group"]
    assert admin.put("/v3/groups/%s/users/%s" % (g["id"], u.user_id)).status_code == 204
    # a Keystone role through the group route, beside an IAM policy there
    gpath = "/v3/projects/%s/groups/%s/roles/admin" % (u.project_id, g["id"])
    assert admin.put(gpath).status_code == 204
    assert admin.head(gpath).status_code == 204
    policies = {x["display_name"]: x["id"] for x in admin.get("/v3/roles").json()["roles"]
                if x.get("display_name")}
    ppath = "/v3/projects/%s/groups/%s/roles/%s" % (u.project_id, g["id"], policies["IMS ReadOnlyAccess"])
    assert admin.put(ppath).status_code == 204
    r = admin.get("/v3/projects/%s/groups/%s/roles" % (u.project_id, g["id"]))
    listed = [x["id"] for x in r.json()["roles"]]
    assert "admin" in listed and policies["IMS ReadOnlyAccess"] in listed, listed
    assert token_roles(imsd, u)[1] == ["admin", "member"]      # the group's role reaches its member
    # effective: the group's row becomes the member's, linked to its membership
    r = admin.get("/v3/role_assignments", params={"scope.project.id": u.project_id, "effective": "",
                                                  "user.id": u.user_id})
    rows = r.json()["role_assignments"]
    assert sorted(x["role"]["id"] for x in rows) == ["admin", "member"]
    via = [x for x in rows if x["role"]["id"] == "admin"][0]
    assert via["user"]["id"] == u.user_id and "membership" in via["links"]
    assert via["links"]["assignment"].endswith(gpath)
    r = admin.get("/v3/role_assignments", params={"group.id": g["id"], "include_names": "true"})
    rows = r.json()["role_assignments"]
    assert [(x["group"]["name"], x["scope"]["project"]["name"], x["role"]["name"]) for x in rows] == \
        [(g["name"], u.project_name, "admin")]
    assert admin.delete(gpath).status_code == 204
    assert token_roles(imsd, u)[1] == ["member"]
    # the domain forms: a domain-scoped token carries the domain's roles
    dpath = "/v3/domains/%s/users/%s/roles/admin" % (DEFAULT_DOMAIN_ID, u.user_id)
    assert admin.put(dpath).status_code == 204
    r = admin.get("/v3/domains/%s/users/%s/roles" % (DEFAULT_DOMAIN_ID, u.user_id))
    assert [x["id"] for x in r.json()["roles"]] == ["admin"]
    r = imsd.issue(password_auth_body(u.user_name, u.password, domain_scope_id=DEFAULT_DOMAIN_ID))
    assert r.status_code == 201 and [x["name"] for x in r.json()["token"]["roles"]] == ["admin"], r.text
    r = admin.get("/v3/role_assignments", params={"scope.domain.id": DEFAULT_DOMAIN_ID, "role.id": "admin"})
    assert [x["user"]["id"] for x in r.json()["role_assignments"]] == [u.user_id]
    assert admin.delete(dpath).status_code == 204
    keystone_error(admin.put("/v3/domains/%s/users/%s/roles/admin" % ("0" * 32, u.user_id)), 404)
    gd = "/v3/domains/%s/groups/%s/roles/reader" % (DEFAULT_DOMAIN_ID, g["id"])
    assert admin.put(gd).status_code == 204
    assert "reader" in [x["id"] for x in admin.get("/v3/domains/%s/groups/%s/roles" % (
        DEFAULT_DOMAIN_ID, g["id"])).json()["roles"]]
    # deleting the group takes its assignments
    assert admin.delete("/v3/groups/%s" % g["id"]).status_code == 204
    r = admin.get("/v3/role_assignments", params={"group.id": g["id"]})
    assert r.json()["role_assignments"] == []
    keystone_error(admin.get("/v3/role_assignments", params={"user.id": "a", "group.id": "b"}), 400)
    keystone_error(admin.get("/v3/role_assignments", params={"group.id": "b", "effective": ""}), 400)


def iam_administrator(imsd, make_project_user):
    """A user of the account allowed every IAM action domain-wide (an IAM
    policy through its group), not a cloud administrator: its Api."""
    iam = make_project_user()
    group = unique("iamadm")
    imsd.imsctl("group", "create", group)
    imsd.imsctl("group", "add-user", group, iam.user_name)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(ALLOW_IAM, f)
    pname = unique("iam-admin")
    try:
        imsd.imsctl("policy", "create", pname, "--file", f.name)
    finally:
        os.unlink(f.name)
    imsd.imsctl("grant", pname, "--group", group, "--domain-wide")
    tok, roles = token_roles(imsd, iam)
    assert "admin" not in roles
    api = Api(imsd.url, tok)
    api.user_id, api.user_name, api.password, api.project_name = iam.user_id, iam.user_name, iam.password, \
        iam.project_name
    return api


def test_only_a_cloud_admin_gives_the_admin_role(imsd, admin, make_project_user):
    """An account's IAM administrator manages member and reader but cannot
    make anyone (itself included) a cloud administrator."""
    api = iam_administrator(imsd, make_project_user)
    iam = api
    target = make_project_user()
    base = "/v3/projects/%s/users/%s/roles/" % (target.project_id, target.user_id)
    assert api.put(base + "reader").status_code == 204
    assert api.delete(base + "reader").status_code == 204
    msg = keystone_error(api.put(base + "admin"), 403)
    assert "cloud administrator" in msg
    mine = "/v3/projects/%s/users/%s/roles/admin" % (iam.project_id, iam.user_id)
    keystone_error(api.put(mine), 403)
    assert api.head(base + "admin").status_code == 404          # checking is not giving
    # the role's removal ended target's tokens; a plain member may not touch assignments
    r = target.get("/v2/images")
    assert r.status_code == 401 and "roles changed" in r.text, r.text
    plain = Api(imsd.url, token_roles(imsd, target)[0])
    keystone_error(plain.put(base + "reader"), 403)
    keystone_error(plain.get("/v3/role_assignments"), 403)
    # the cloud admin's own project admin role survives all of this
    assert "admin" in imsd.token(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)[1]["roles"][0]["name"]


def test_an_iam_administrator_cannot_reach_a_cloud_administrators_role(imsd, admin, make_project_user):
    """What only a cloud administrator gives (the admin and service roles)
    an account's IAM administrator can neither take by joining a group
    that holds it nor by changing, disabling or deleting a user who holds
    it (a new password is a login as that user), nor take it away by
    deleting such a group, a member of it, or a project it is held on.
    Before, the group route made the IAM administrator a cloud
    administrator and the user routes reset such a user's password."""
    api = iam_administrator(imsd, make_project_user)
    ops = admin.post("/v3/groups", json={"group": {"name": unique("ops"), "description": ""}}).json()["group"]
    plain = admin.post("/v3/groups", json={"group": {"name": unique("plain"), "description": ""}}).json()["group"]
    boss, helper, staff = make_project_user(), make_project_user(), make_project_user()
    assert admin.put("/v3/projects/%s/groups/%s/roles/admin" % (helper.project_id, ops["id"])).status_code == 204
    assert admin.put("/v3/groups/%s/users/%s" % (ops["id"], helper.user_id)).status_code == 204
    assert admin.put("/v3/projects/%s/users/%s/roles/admin" % (boss.project_id, boss.user_id)).status_code == 204
    service = make_project_user()
    assert admin.put("/v3/projects/%s/users/%s/roles/service" % (service.project_id, service.user_id)) \
        .status_code == 204

    msg = keystone_error(api.put("/v3/groups/%s/users/%s" % (ops["id"], api.user_id)), 403)
    assert "cloud administrator" in msg, msg
    assert "admin" not in token_roles(imsd, api)[1]
    for who in (boss, helper, service):
        keystone_error(api.patch("/v3/users/%s" % who.user_id, json={"user": {"password": "Taken-0ver!"}}), 403)
        keystone_error(api.patch("/v3/users/%s" % who.user_id, json={"user": {"enabled": False}}), 403)
        keystone_error(api.delete("/v3/users/%s" % who.user_id), 403)
        assert "admin" in token_roles(imsd, who)[1] or who is service  # still logs in with its password
    keystone_error(api.delete("/v3/groups/%s/users/%s" % (ops["id"], helper.user_id)), 403)
    keystone_error(api.delete("/v3/groups/%s" % ops["id"]), 403)
    keystone_error(api.delete("/v3/projects/%s" % boss.project_id), 403)
    # disabling the project ends every login to it, the cloud administrator's too
    keystone_error(api.patch("/v3/projects/%s" % boss.project_id, json={"project": {"enabled": False}}), 403)
    r = api.patch("/v3/projects/%s" % staff.project_id, json={"project": {"description": "staff"}})
    assert r.status_code == 200, r.text
    assert "admin" in token_roles(imsd, helper)[1]
    # what holds neither role stays the IAM administrator's to manage
    assert api.put("/v3/groups/%s/users/%s" % (plain["id"], staff.user_id)).status_code == 204
    assert api.delete("/v3/groups/%s/users/%s" % (plain["id"], staff.user_id)).status_code == 204
    r = api.patch("/v3/users/%s" % staff.user_id, json={"user": {"enabled": False}})
    assert r.status_code == 200, r.text
    assert api.delete("/v3/groups/%s" % plain["id"]).status_code == 204
    # and a cloud administrator still does all of it
    assert admin.put("/v3/groups/%s/users/%s" % (ops["id"], staff.user_id)).status_code == 204
    assert admin.delete("/v3/groups/%s/users/%s" % (ops["id"], staff.user_id)).status_code == 204
    assert admin.delete("/v3/groups/%s" % ops["id"]).status_code == 204


def test_leaving_a_group_ends_the_tokens_its_roles_made(imsd, admin, make_project_user):
    """A token carries the Keystone roles its user held when it was issued,
    a group's among them. Taking the user out of a group that holds one
    (or deleting the group) ends the tokens issued before, as taking the
    role away from the group does and as Keystone revokes them. Before,
    a user removed from a cloud administrators' group kept the admin role
    in its tokens for their whole lifetime ([identity] token_ttl, a day)."""
    other = make_project_user()
    private = active_image(other, visibility="private")
    for leave in ("remove the member", "delete the group"):
        u = make_project_user()
        g = admin.post("/v3/groups", json={"group": {"name": unique("ops"), "description": ""}}).json()["group"]
        assert admin.put("/v3/projects/%s/groups/%s/roles/admin" % (u.project_id, g["id"])).status_code == 204
        assert admin.put("/v3/groups/%s/users/%s" % (g["id"], u.user_id)).status_code == 204
        tok, roles = token_roles(imsd, u)
        assert roles == ["admin", "member"], leave
        boss = Api(imsd.url, tok)
        assert boss.get("/v2/images/%s" % private["id"]).status_code == 200, leave
        if leave == "remove the member":
            assert admin.delete("/v3/groups/%s/users/%s" % (g["id"], u.user_id)).status_code == 204
        else:
            assert admin.delete("/v3/groups/%s" % g["id"]).status_code == 204
        r = boss.get("/v2/images/%s" % private["id"])
        assert r.status_code == 401, (leave, r.status_code, r.text)  # was 200: still the cloud admin
        tok, roles = token_roles(imsd, u)                            # a new login holds what is left
        assert roles == ["member"], leave
        assert Api(imsd.url, tok).get("/v2/images/%s" % private["id"]).status_code == 404, leave
    # a group holding no Keystone role (IAM policies, read at every request) ends no token
    u = make_project_user()
    plain = admin.post("/v3/groups", json={"group": {"name": unique("plain"), "description": ""}}).json()["group"]
    assert admin.put("/v3/groups/%s/users/%s" % (plain["id"], u.user_id)).status_code == 204
    assert admin.delete("/v3/groups/%s/users/%s" % (plain["id"], u.user_id)).status_code == 204
    assert u.get("/v2/images").status_code == 200
