"""Concurrent IAM writes: nothing acknowledged is lost.

Every IAM change is one operation that says what it changes, applied inside
one write transaction to the row as it is then. Each test fires changes from
many threads at once and then checks that the stored state is exactly what
the acknowledged answers say. Each is bounded to a few seconds.
"""
import concurrent.futures as cf

import pytest

from helpers import Api, unique
from test_iam_api import make_group, make_policy, make_project, make_user, password, uname

ALLOW_IMS = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ims:images:list"]}]}


THREADS = 16


@pytest.fixture(scope="module")
def imsd(module_imsd):
    """A server that really serves THREADS requests at once (the shared one
    has one HTTP thread per core)."""
    return module_imsd({"server": {"threads": THREADS}})


@pytest.fixture(scope="module")
def admin(imsd):
    api = imsd.admin()
    yield api
    api.close()


def run_all(imsd, calls, workers=THREADS):
    """Runs every (method, path, json) at once, each on its own session;
    returns the status codes in order."""
    token = imsd.admin().token

    def one(call):
        method, path, body = call
        with Api(imsd.url, token) as api:
            return api.request(method, path, json=body).status_code

    with cf.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, calls))


def members(admin, group_id):
    r = admin.get("/v3/groups/%s/users" % group_id)
    assert r.status_code == 200, r.text
    return {u["id"] for u in r.json()["users"]}


def test_concurrent_group_membership_changes(imsd, admin):
    g = make_group(admin)
    old = [make_user(admin)["id"] for _ in range(15)]
    new = [make_user(admin)["id"] for _ in range(30)]
    for u in old:
        assert admin.put("/v3/groups/%s/users/%s" % (g["id"], u)).status_code == 204
    calls = [("PUT", "/v3/groups/%s/users/%s" % (g["id"], u), None) for u in new]
    calls += [("DELETE", "/v3/groups/%s/users/%s" % (g["id"], u), None) for u in old]
    # users deleted while they are added: an add answered 204 after the
    # delete would be a membership of nobody
    doomed = [make_user(admin)["id"] for _ in range(10)]
    calls += [("PUT", "/v3/groups/%s/users/%s" % (g["id"], u), None) for u in doomed]
    calls += [("DELETE", "/v3/users/%s" % u, None) for u in doomed]
    codes = run_all(imsd, calls)
    n_new, n_old, n_doomed = len(new), len(old), len(doomed)
    assert codes[:n_new + n_old] == [204] * (n_new + n_old), codes
    assert codes[n_new + n_old + n_doomed:] == [204] * n_doomed, codes
    # an add that came after its user's delete answers 404
    assert set(codes[n_new + n_old:n_new + n_old + n_doomed]) <= {204, 404}, codes
    assert members(admin, g["id"]) == set(new)


def test_group_membership_changes_through_two_processes(start_imsd):
    """Adds and removes of different users to one group, and deletes of
    users being added, through two imsd processes on one database at once:
    every change answered 204 is there afterwards, seen alike by both.
    (It passes on the code before the write model too: a membership was a
    single-row INSERT or DELETE then as now, atomic across processes, and
    the checks that ran before it outside a transaction could only let an
    add of a user deleted meanwhile fail its foreign key, which was answered
    204 with the same final state as the order add-then-delete. The test
    holds the write model to that across processes.)"""
    one = start_imsd(config={"server": {"threads": 8}})
    two = start_imsd(config={"server": {"threads": 8}}, data_dir=one.data_dir)
    admin = one.admin()
    g = make_group(admin)
    old = [make_user(admin)["id"] for _ in range(12)]
    new = [make_user(admin)["id"] for _ in range(24)]
    doomed = [make_user(admin)["id"] for _ in range(8)]
    for u in old:
        assert admin.put("/v3/groups/%s/users/%s" % (g["id"], u)).status_code == 204
    member = "/v3/groups/%s/users/%%s" % g["id"]
    # every change alternates between the processes; a doomed user is added
    # through one and deleted through the other
    calls = [(srv, "PUT", member % u) for srv, u in zip([one, two] * len(new), new)]
    calls += [(srv, "DELETE", member % u) for srv, u in zip([two, one] * len(old), old)]
    calls += [(one, "PUT", member % u) for u in doomed]
    calls += [(two, "DELETE", "/v3/users/%s" % u) for u in doomed]
    token = admin.token

    def call(c):
        srv, method, path = c
        with Api(srv.url, token) as api:
            return api.request(method, path).status_code

    with cf.ThreadPoolExecutor(max_workers=THREADS) as pool:
        codes = list(pool.map(call, calls))
    n = len(new) + len(old)
    assert codes[:n] == [204] * n, codes
    assert set(codes[n:n + len(doomed)]) <= {204, 404}, codes
    assert codes[n + len(doomed):] == [204] * len(doomed), codes
    for srv in (one, two):
        with Api(srv.url, token) as api:
            assert members(api, g["id"]) == set(new)
            # each acknowledged membership, asked for one by one
            for u in new:
                assert api.get(member % u).status_code == 204, u
            for u in old + doomed:
                assert api.get(member % u).status_code == 404, u


def test_concurrent_user_updates_keep_every_field(imsd, admin):
    """Different fields of one user changed at once (one of them a password,
    which takes a while to hash): every field is there afterwards."""
    rounds = []
    for _ in range(4):
        u = make_user(admin)
        p = make_project(admin)
        new_name, new_pw = uname("rn"), password()
        rounds.append((u, p, new_name, new_pw))
    calls = []
    for u, p, new_name, new_pw in rounds:
        path = "/v3/users/" + u["id"]
        # the password first: its hash takes a while, the others come meanwhile
        calls += [("PATCH", path, {"user": {"password": new_pw}}),
                  ("PATCH", path, {"user": {"name": new_name}}),
                  ("PATCH", path, {"user": {"description": "described"}}),
                  ("PATCH", path, {"user": {"enabled": False}}),
                  ("PATCH", path, {"user": {"default_project_id": p["id"]}})]
    codes = run_all(imsd, calls)
    assert codes == [200] * len(calls), codes
    for u, p, new_name, new_pw in rounds:
        got = admin.get("/v3/users/" + u["id"]).json()["user"]
        assert got["name"] == new_name, got
        assert got["description"] == "described", got
        assert got["enabled"] is False, got
        assert got["default_project_id"] == p["id"], got
    # the password change was kept too: the new one logs in once enabled
    u, p, new_name, new_pw = rounds[0]
    assert admin.patch("/v3/users/" + u["id"], json={"user": {"enabled": True}}).status_code == 200
    body = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"id": u["id"], "password": new_pw}}}}}
    r = imsd.issue(body)
    assert r.status_code == 201, (r.status_code, r.text)


def test_concurrent_enterprise_project_updates(imsd, admin):
    eps = []
    for _ in range(80):
        r = admin.post("/v1.0/enterprise-projects", json={"name": unique("ep"), "description": "first"})
        assert r.status_code == 200, r.text
        eps.append(r.json()["enterprise_project"])
    calls = []
    for ep in eps:
        path = "/v1.0/enterprise-projects/" + ep["id"]
        calls += [("PUT", path, {"name": ep["name"] + "-b"}),
                  ("PUT", path, {"name": ep["name"] + "-b", "description": "second"}),
                  ("POST", path + "/action", {"action": "disable"})]
    codes = run_all(imsd, calls)
    assert codes == [200, 200, 204] * len(eps), codes
    for ep in eps:
        got = admin.get("/v1.0/enterprise-projects/" + ep["id"]).json()["enterprise_project"]
        assert (got["name"], got["description"], got["status"]) == (ep["name"] + "-b", "second", 2), got


def test_concurrent_policy_attach_detach_and_updates(imsd, admin):
    g = make_group(admin)
    p = make_project(admin)
    keep = [make_policy(admin, ALLOW_IMS) for _ in range(40)]
    drop = [make_policy(admin, ALLOW_IMS) for _ in range(8)]
    grant = "/v3/projects/%s/groups/%s/roles/%%s" % (p["id"], g["id"])
    for pol in drop:
        assert admin.put(grant % pol["id"]).status_code == 204
    calls = [("PUT", grant % pol["id"], None) for pol in keep]
    calls += [("DELETE", grant % pol["id"], None) for pol in drop]
    # and different fields of the attached policies changed at the same time
    for pol in keep:
        path = "/v3.0/OS-ROLE/roles/" + pol["id"]
        calls += [("PATCH", path, {"role": {"display_name": pol["display_name"] + "-b"}}),
                  ("PATCH", path, {"role": {"description": "second"}}),
                  ("PATCH", path, {"role": {"type": "AX"}})]
    codes = run_all(imsd, calls)
    assert codes == [204] * (len(keep) + len(drop)) + [200] * (3 * len(keep)), codes
    r = admin.get("/v3/projects/%s/groups/%s/roles" % (p["id"], g["id"]))
    assert r.status_code == 200, r.text
    assert {x["id"] for x in r.json()["roles"]} == {pol["id"] for pol in keep}
    for pol in keep:
        got = admin.get("/v3.0/OS-ROLE/roles/" + pol["id"]).json()["role"]
        assert (got["display_name"], got["description"], got["type"]) == (
            pol["display_name"] + "-b", "second", "AX"), got
