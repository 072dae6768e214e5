"""IAM policies through a real imsd: system policies, custom policies
(wildcards, case, Deny, conditions), grant scopes, revocation, `imsctl
policy check`, policy validation, and the openstack CLI as a read-only user.

See DESIGN.md "Authorization"; the per-route matrix is test_authz_matrix.py.
"""
import json
import subprocess
import uuid

import pytest

from helpers import (PATCH_21, Api, Iam, active_image, clean_env, create_image, imsctl_run,
                     list_ids, password_auth_body, policy_doc, unique)

OPENSTACK = "/usr/bin/openstack"


class Env:
    def __init__(self, srv):
        self.srv = srv
        self.iam = Iam(srv)
        self.P = unique("pol-p")
        self.pid = self.iam.ctl("project", "create", self.P)
        self.owner = self.iam.user(self.P, role="member")          # Tenant Administrator
        self.Q = unique("pol-q")
        self.qid = self.iam.ctl("project", "create", self.Q)
        self.E = self.iam.ctl("ep", "create", unique("pol-ep"))
        self.img = active_image(self.owner, visibility="private")
        self.sessions = [self.owner]

    def user(self, grants=(), role="none", project=None):
        api = self.iam.user(project or self.P, list(grants), role=role)
        self.sessions.append(api)
        return api

    def queued(self):
        return create_image(self.owner, disk_format="raw", container_format="bare")


@pytest.fixture(scope="module")
def env(module_imsd):
    e = Env(module_imsd())
    yield e
    for s in e.sessions:
        s.close()


# ---------------------------------------------------------------- assertions
def denied(r, action=None, ims=False):
    assert r.status_code == 403, "expected 403: %s %s" % (r.status_code, r.text[:300])
    body = r.json()
    if ims:
        assert body["error"]["code"] == "IMG.0026", body
        msg = body["error"]["message"]
    else:
        assert {"code", "title", "message"} <= set(body), body
        msg = body["message"]
    if action:
        assert action.lower() in msg.lower(), "403 does not name %s: %s" % (action, msg)


def refused_after_authz(r, code):
    """An IMS route that authorized, then refused the request for what it
    names (a bucket that does not exist here, an invalid bucket name)."""
    assert r.status_code == 400, "expected 400 %s (allowed): %s %s" % (code, r.status_code, r.text[:300])
    assert r.json()["error"]["code"] == code, r.text


def status(r, code):
    assert r.status_code == code, "expected %s: %s %s" % (code, r.status_code, r.text[:300])
    return r


def reads_ok(api, img):
    assert img["id"] in list_ids(api, limit=1000)
    status(api.get("/v2/images/%s" % img["id"]), 200)
    status(api.head("/v1/images/%s" % img["id"]), 200)
    status(api.get("/v1.1/images/detail"), 200)
    status(api.get("/v2/cloudimages"), 200)


def writes_denied(env, api):
    """create, update, delete, upload, export, tag and share are 403; nothing changes."""
    img = env.img
    q = env.queued()
    denied(api.post("/v2/images", json={"name": unique("ro")}), "ims:images:create")
    denied(api.patch("/v2/images/%s" % img["id"], json=[{"op": "replace", "path": "/name",
                                                          "value": "hacked"}],
                     headers={"Content-Type": PATCH_21}), "ims:images:update")
    denied(api.delete("/v2/images/%s" % img["id"]), "ims:images:delete")
    denied(api.put("/v2/images/%s/file" % q["id"], data=b"data",
                   headers={"Content-Type": "application/octet-stream"}))
    denied(api.post("/v1/cloudimages/%s/file" % img["id"],
                    json={"bucket_url": "bucket:x.qcow2", "file_format": "qcow2"}),
           "ims:images:export", ims=True)
    denied(api.put("/v1/cloudimages/%s/upload" % q["id"], json={"image_url": "bucket:x.qcow2"}),
           "ims:images:upload", ims=True)
    denied(api.put("/v2/images/%s/tags/ro" % img["id"]), "ims:images:update")
    denied(api.delete("/v1.1/images/%s" % img["id"]), "ims:images:delete")
    denied(api.post("/v2/cloudimages/action", json={"name": "x", "instance_id": str(uuid.uuid4())}),
           "ims:serverImages:create", ims=True)
    after = env.owner.get("/v2/images/%s" % img["id"]).json()
    assert after["name"] == img["name"] and after["status"] == "active" and "ro" not in after["tags"]
    assert env.owner.get("/v2/images/%s" % q["id"]).json()["status"] == "queued"


def writes_ok(env, api, obs=False):
    """obs: the policy also allows object storage (Tenant Administrator's
    '*'); IMS FullAccess alone does not, and export needs OBS write."""
    img = status(api.post("/v2/images", json={"name": unique("rw"), "disk_format": "raw",
                                               "container_format": "bare"}), 201).json()
    status(api.patch("/v2/images/%s" % img["id"], json=[{"op": "replace", "path": "/min_ram",
                                                         "value": 128}],
                     headers={"Content-Type": PATCH_21}), 200)
    status(api.put("/v2/images/%s/file" % img["id"], data=b"written",
                   headers={"Content-Type": "application/octet-stream"}), 204)
    assert status(api.get("/v2/images/%s/file" % img["id"]), 200).content == b"written"
    status(api.put("/v2/images/%s/tags/rw" % img["id"]), 204)
    status(api.post("/v2/images/%s/members" % img["id"], json={"member": env.qid}), 200)
    export = api.post("/v1/cloudimages/%s/file" % img["id"],
                      json={"bucket_url": "bucket:x.qcow2", "file_format": "qcow2"})
    if obs:
        refused_after_authz(export, "IMG.0069")  # no bucket "bucket" on this server
    else:
        denied(export, "obs:object:PutObject", ims=True)
    refused_after_authz(api.post("/v2/cloudimages/action", json={"name": "x", "instance_id": str(uuid.uuid4())}),
                        "IMG.0005")  # authorized, then no such server
    whole = api.post("/v1/cloudimages/wholeimages/action",
                     json={"name": "w", "instance_id": str(uuid.uuid4()), "vault_id": str(uuid.uuid4())})
    if obs:  # Tenant Administrator's '*' covers the backup service too
        refused_after_authz(whole, "IMG.0005")  # authorized, then no such server
    else:  # IMS policies alone lack the backup service's action
        denied(whole, "cbr:vaults:backup", ims=True)
    # replication is built: allowed means a job id (the job runs asynchronously)
    assert set(status(api.post("/v1/cloudimages/%s/copy" % img["id"], json={"name": "c"}), 200).json()) == {"job_id"}
    status(api.get("/v1/cloudimages/quota"), 200)
    status(api.delete("/v2/images/%s" % img["id"]), 204)
    status(api.get("/v2/images/%s" % img["id"]), 404)


# ---------------------------------------------------------------- system policies
def test_ims_readonly_access(env):
    api = env.user([("IMS ReadOnlyAccess", "project")])
    reads_ok(api, env.img)
    status(api.get("/v2/images/%s/file" % env.img["id"]), 200)
    status(api.get("/v1/cloudimages/quota"), 200)
    writes_denied(env, api)


def test_ims_fullaccess(env):
    api = env.user([("IMS FullAccess", "project")])
    reads_ok(api, env.img)
    writes_ok(env, api)


def test_ims_administrator(env):
    api = env.user([("IMS Administrator", "project")])
    reads_ok(api, env.img)
    writes_ok(env, api)


def test_tenant_guest_reads_only(env):
    by_role = env.user(role="reader")
    by_grant = env.user([("Tenant Guest", "project")])
    for api in (by_role, by_grant):
        reads_ok(api, env.img)
        writes_denied(env, api)


def test_tenant_administrator_everything(env):
    by_role = env.user(role="member")
    by_grant = env.user([("Tenant Administrator", "project")])
    for api in (by_role, by_grant):
        reads_ok(api, env.img)
        writes_ok(env, api, obs=True)
        refused_after_authz(api.post("/v2/cloudimages/quickimport/action",
                                     json={"name": "q", "image_url": "b:f", "min_disk": 1, "type": "DataImage"}),
                            "IMG.0109")  # "b" is no valid bucket name
        status(api.get("/v1/cloudimages/os_version"), 200)


def test_no_policy_no_access(env):
    api = env.user()
    denied(api.get("/v2/images"), "ims:images:list")
    denied(api.get("/v2/images/%s" % env.img["id"]), "ims:images:get")
    status(api.get("/v2/schemas/image"), 200)      # N/A: a token is enough


# ---------------------------------------------------------------- custom policies
def test_wildcard_action(env):
    api = env.user([(policy_doc("Allow", ["ims:images:*"]), "project")])
    reads_ok(api, env.img)
    img = status(api.post("/v2/images", json={"name": unique("wc"), "disk_format": "raw",
                                               "container_format": "bare"}), 201).json()
    status(api.put("/v2/images/%s/file" % img["id"], data=b"x",
                   headers={"Content-Type": "application/octet-stream"}), 204)
    status(api.post("/v2/images/%s/members" % img["id"], json={"member": env.qid}), 200)
    status(api.delete("/v2/images/%s" % img["id"]), 204)
    # other resources are not covered by ims:images:*
    denied(api.post("/v2/cloudimages/action", json={"name": "x", "instance_id": str(uuid.uuid4())}),
           "ims:serverImages:create", ims=True)
    denied(api.get("/v1/cloudimages/quota"), "ims:quotas:get", ims=True)
    # operation wildcards
    ro = env.user([(policy_doc("Allow", ["ims:*:get*", "ims:*:list"]), "project")])
    reads_ok(ro, env.img)
    denied(ro.delete("/v2/images/%s" % env.img["id"]), "ims:images:delete")


def test_actions_are_case_insensitive(env):
    api = env.user([(policy_doc("Allow", ["IMS:Images:Get"]), "project")])
    status(api.get("/v2/images/%s" % env.img["id"]), 200)
    denied(api.get("/v2/images"), "ims:images:list")
    api2 = env.user([(policy_doc("Allow", ["Ims:IMAGES:*"]), "project")])
    status(api2.get("/v2/images"), 200)
    status(api2.get("/v2/images/%s" % env.img["id"]), 200)
    # Deny matches case-insensitively too
    api3 = env.user([("IMS FullAccess", "project"), (policy_doc("Deny", ["IMS:IMAGES:GET"]), "project")])
    denied(api3.get("/v2/images/%s" % env.img["id"]), "ims:images:get")
    status(api3.get("/v2/images"), 200)


def test_deny_in_one_group_beats_allow_in_another(env):
    api = env.user([("IMS FullAccess", "project")])          # group A
    gb = unique("deny-g")
    env.iam.ctl("group", "create", gb)
    env.iam.ctl("group", "add-user", gb, api.user_name)
    mine = status(api.post("/v2/images", json={"name": unique("d")}), 201).json()
    env.iam.grant(gb, policy_doc("Deny", ["ims:images:delete"]), "project", env.P)
    denied(api.delete("/v2/images/%s" % mine["id"]), "ims:images:delete")
    denied(api.delete("/v1.1/images/%s" % mine["id"]), "ims:images:delete")
    status(api.get("/v2/images/%s" % mine["id"]), 200)        # the rest of FullAccess stands
    # a Deny granted on all projects beats a project-level Allow as well
    gc = unique("deny-g")
    env.iam.ctl("group", "create", gc)
    env.iam.ctl("group", "add-user", gc, api.user_name)
    env.iam.grant(gc, policy_doc("Deny", ["ims:images:update"]), "all-projects")
    denied(api.patch("/v2/images/%s" % mine["id"], json=[{"op": "replace", "path": "/name",
                                                           "value": "x"}],
                     headers={"Content-Type": PATCH_21}), "ims:images:update")


def test_condition_on_user_name(env):
    alice = env.user()
    bob = env.user()
    g = unique("cond-g")
    env.iam.ctl("group", "create", g)
    for u in (alice, bob):
        env.iam.ctl("group", "add-user", g, u.user_name)
    env.iam.grant(g, policy_doc("Allow", ["ims:images:list", "ims:images:get"],
                                {"StringEquals": {"g:UserName": [alice.user_name]}}), "project", env.P)
    status(alice.get("/v2/images"), 200)
    status(alice.get("/v2/images/%s" % env.img["id"]), 200)
    denied(bob.get("/v2/images"), "ims:images:list")
    denied(bob.get("/v2/images/%s" % env.img["id"]), "ims:images:get")
    # and the negation
    env.iam.grant(g, policy_doc("Deny", ["ims:images:get"],
                                {"StringNotEquals": {"g:UserName": [bob.user_name]}}), "project", env.P)
    denied(alice.get("/v2/images/%s" % env.img["id"]), "ims:images:get")
    status(alice.get("/v2/images"), 200)


def test_condition_on_project_name(env):
    """g:ProjectName: one all-projects grant, effective in one project only."""
    api = env.user()
    g = unique("cond-p")
    env.iam.ctl("group", "create", g)
    env.iam.ctl("group", "add-user", g, api.user_name)
    env.iam.grant(g, policy_doc("Allow", ["ims:images:list"],
                                {"StringEquals": {"g:ProjectName": [env.Q]}}), "all-projects")
    denied(api.get("/v2/images"), "ims:images:list")             # token for P
    inq = env.iam.login(api.user_name, api.password, env.Q)
    try:
        status(inq.get("/v2/images"), 200)
    finally:
        inq.close()


# ---------------------------------------------------------------- grant scopes
def test_all_projects_grant_counts_in_every_project(env):
    p2 = unique("pol-p2")
    env.iam.ctl("project", "create", p2)
    everywhere = env.user([(policy_doc("Allow", ["ims:images:list", "ims:images:create"]),
                            "all-projects")])
    here_only = env.user([(policy_doc("Allow", ["ims:images:list", "ims:images:create"]), "project")])
    for proj in (env.P, p2, env.Q):
        api = env.iam.login(everywhere.user_name, everywhere.password, proj)
        try:
            status(api.get("/v2/images"), 200)
            img = status(api.post("/v2/images", json={"name": unique("ap")}), 201).json()
            assert img["owner"] == api.project_id
        finally:
            api.close()
    status(here_only.get("/v2/images"), 200)
    # a project grant counts only in its project: in p2 the user either may
    # not scope a token at all (no role or grant there) or gets 403
    r = env.srv.issue(password_auth_body(here_only.user_name, here_only.password, p2))
    if r.status_code == 201:
        with Api(env.srv.url, r.headers["X-Subject-Token"]) as api:
            denied(api.get("/v2/images"), "ims:images:list")
            denied(api.post("/v2/images", json={"name": "no"}), "ims:images:create")
    else:
        assert r.status_code == 401, (r.status_code, r.text)


def test_enterprise_project_grant_scopes_to_its_images(env):
    in_e = create_image(env.owner, enterprise_project_id=env.E, visibility="private")
    api = env.user([(policy_doc("Allow", ["ims:images:get", "ims:images:delete"]), "ep:" + env.E)])
    status(api.get("/v2/images/%s" % in_e["id"]), 200)
    denied(api.get("/v2/images/%s" % env.img["id"]), "ims:images:get")
    denied(api.delete("/v2/images/%s" % env.img["id"]))
    status(api.delete("/v2/images/%s" % in_e["id"]), 204)


def test_revoke_takes_effect_on_next_request(env):
    api = env.user([("IMS ReadOnlyAccess", "project")])
    url = "/v2/images/%s" % env.img["id"]

    def on_fresh_connections(n, code):
        # new connections may land on other server threads (each has its own cache)
        for _ in range(n):
            with Api(env.srv.url, api.token) as a:
                assert a.get(url).status_code == code
        for _ in range(n):
            assert api.get(url).status_code == code

    on_fresh_connections(4, 200)
    env.iam.grant(api.group, "IMS ReadOnlyAccess", "project", env.P, revoke=True)
    denied(api.get(url), "ims:images:get")
    on_fresh_connections(8, 403)
    env.iam.grant(api.group, "IMS ReadOnlyAccess", "project", env.P)
    status(api.get(url), 200)
    on_fresh_connections(8, 200)
    # revoking a Deny unblocks just as fast
    full = env.user([("IMS FullAccess", "project"), (policy_doc("Deny", ["ims:images:delete"]), "project")])
    mine = status(full.post("/v2/images", json={"name": unique("rv")}), 201).json()
    denied(full.delete("/v2/images/%s" % mine["id"]), "ims:images:delete")
    env.iam.grant(full.group, policy_doc("Deny", ["ims:images:delete"]), "project", env.P, revoke=True)
    status(full.delete("/v2/images/%s" % mine["id"]), 204)
    # removing a user's last grant through group membership is covered by revoke;
    # a grant to a new group the user joins also counts at once
    g = unique("late-g")
    env.iam.ctl("group", "create", g)
    env.iam.grant(g, "IMS FullAccess", "project", env.P)
    nobody = env.user()
    denied(nobody.get(url), "ims:images:get")
    env.iam.ctl("group", "add-user", g, nobody.user_name)
    status(nobody.get(url), 200)


# ---------------------------------------------------------------- imsctl
def test_policy_check_prints_decision(env):
    api = env.user([(policy_doc("Allow", ["ims:images:get", "ims:images:list"]), "project"),
                    (policy_doc("Deny", ["ims:images:delete"]), "project"),
                    (policy_doc("Allow", ["ims:images:update"]), "ep:" + env.E)])

    def check(*args):
        return imsctl_run(env.srv, "policy", "check", api.user_name, *args)

    r = check("ims:images:get", "--project", env.P)
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert r.stdout.startswith("allow"), r.stdout
    assert "ims:images:get" in r.stdout and "statement" in r.stdout.lower(), r.stdout
    r = check("ims:images:get,ims:images:list", "--project", env.P)
    assert r.returncode == 0 and r.stdout.startswith("allow"), r.stdout
    r = check("ims:images:delete", "--project", env.P)
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert r.stdout.startswith("deny") and "deny" in r.stdout[4:].lower(), r.stdout  # the Deny statement
    r = check("ims:images:create", "--project", env.P)
    assert r.returncode == 3 and r.stdout.startswith("deny"), r.stdout
    # enterprise-project grants
    r = check("ims:images:update", "--project", env.P, "--enterprise-project", env.E)
    assert r.returncode == 0 and r.stdout.startswith("allow"), r.stdout
    r = check("ims:images:update", "--project", env.P)
    assert r.returncode == 3 and r.stdout.startswith("deny"), r.stdout
    r = check("ims:images:update", "--project", env.P, "--enterprise-project", "0")
    assert r.returncode == 3 and r.stdout.startswith("deny"), r.stdout
    # it agrees with the server
    status(api.get("/v2/images/%s" % env.img["id"]), 200)
    denied(api.delete("/v2/images/%s" % env.img["id"]), "ims:images:delete")


@pytest.mark.parametrize("doc,field", [
    ({"Statement": [{"Effect": "Allow", "Action": ["ims:images:get"]}]}, "Version"),
    ({"Version": "2.0", "Statement": [{"Effect": "Allow", "Action": ["ims:images:get"]}]}, "Version"),
    ({"Version": "1.1"}, "Statement"),
    ({"Version": "1.1", "Statement": [{"Effect": "Maybe", "Action": ["ims:images:get"]}]}, "Effect"),
    ({"Version": "1.1", "Statement": [{"Action": ["ims:images:get"]}]}, "Effect"),
    ({"Version": "1.1", "Statement": [{"Effect": "Allow"}]}, "Action"),
    ({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["imagesget"]}]}, "Action"),
    ({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ims:images:get"],
                                       "Condition": {"StringFoo": {"g:UserName": ["a"]}}}]},
     "Condition"),
    ({"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ims:images:get"],
                                       "Bogus": 1}]}, "Bogus"),
    ("{not json", "JSON"),
], ids=["no-version", "bad-version", "no-statement", "bad-effect", "no-effect", "no-action",
        "bad-action", "bad-condition-operator", "unknown-field", "not-json"])
def test_invalid_policy_refused(env, doc, field):
    name = unique("bad")
    text = doc if isinstance(doc, str) else json.dumps(doc)
    r = imsctl_run(env.srv, "policy", "create", name, "--file", "-", input=text)
    assert r.returncode != 0, "accepted: %s -> %s" % (text, r.stdout)
    assert field.lower() in (r.stderr + r.stdout).lower(), (field, r.stderr, r.stdout)
    # nothing was stored under that name
    g = unique("bad-g")
    env.iam.ctl("group", "create", g)
    r = imsctl_run(env.srv, "grant", name, "--group", g, "--project", env.P)
    assert r.returncode != 0


# ---------------------------------------------------------------- openstack CLI
def test_openstack_cli_readonly_user(env):
    api = env.user([("IMS ReadOnlyAccess", "project")])

    def osc(*args):
        cmd = [OPENSTACK, "--os-auth-url", env.srv.auth_url, "--os-identity-api-version", "3",
               "--os-image-api-version", "2",
               "--os-username", api.user_name, "--os-password", api.password,
               "--os-project-name", env.P,
               "--os-user-domain-name", "Default", "--os-project-domain-name", "Default"] + list(args)
        return subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=120,
                              stdin=subprocess.DEVNULL)

    r = osc("image", "list", "-f", "json")
    assert r.returncode == 0, r.stderr[-2000:]
    assert env.img["id"] in [i["ID"] for i in json.loads(r.stdout)]
    r = osc("image", "show", env.img["id"], "-f", "json")
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads(r.stdout)["id"] == env.img["id"]
    name = unique("osc-ro")
    r = osc("image", "create", name)
    assert r.returncode != 0, r.stdout
    out = r.stdout + r.stderr
    assert "403" in out or "forbidden" in out.lower(), out[-2000:]
    assert "Traceback" not in out, out[-3000:]
    assert name not in [i["name"] for i in env.owner.get("/v2/images", params={"name": name})
                        .json()["images"]]
