"""IAM writes through two imsd nodes on one PostgreSQL database (pg_fixture's
server): what one write transaction at a time gave on SQLite must hold
across nodes.

A name is taken once: concurrent creates of one user, group, project,
custom policy or enterprise project name through both nodes give exactly
one success and 409 for the rest, round after round. Concurrent adds of
different users to one group, and attaches of different policies to one
group, all stay. A role assignment racing the delete of its user, group or
project never leaves a row naming one that is gone (the assignments table
has no foreign keys: the check of the parties must run in the transaction
that writes). A user created disabled is never seen enabled by the other
node (its fields are written in the transaction that inserts it). The
internal names of custom policies (custom_<account>_<n>) never repeat."""
import pytest

import pg_fixture
from helpers import unique
from test_iam_api import make_group, make_policy, make_project, make_user, password, uname
from test_pg import concurrently, on, start_nodes

ALLOW_IMS = {"Version": "1.1", "Statement": [{"Effect": "Allow", "Action": ["ims:images:list"]}]}
ROUNDS = 4
PER_NODE = 4


@pytest.fixture
def nodes(start_imsd, tmp_path):
    (one, two), database = start_nodes(start_imsd, tmp_path, server={"threads": 8})
    return one, two, database


def both(one, two):
    """The administrator's session on each node, PER_NODE times each."""
    admin = one.admin()
    return [on(node, admin) for node in (one, two)] * PER_NODE


CREATES = {
    "user": ("/v3/users", lambda name: {"user": {"name": name, "password": password()}}, uname, 201),
    "group": ("/v3/groups", lambda name: {"group": {"name": name, "description": "d"}}, lambda: unique("grp"), 201),
    "project": ("/v3/projects", lambda name: {"project": {"name": name}}, lambda: unique("proj"), 201),
    "policy": ("/v3.0/OS-ROLE/roles",
               lambda name: {"role": {"display_name": name, "type": "XA", "description": "d", "policy": ALLOW_IMS}},
               lambda: unique("pol"), 201),
    "enterprise project": ("/v1.0/enterprise-projects", lambda name: {"name": name, "description": "d"},
                           lambda: unique("ep"), 200),
}


@pytest.mark.parametrize("kind", sorted(CREATES))
def test_a_name_is_created_once_across_nodes(nodes, kind):
    one, two, _ = nodes
    path, body, new_name, created = CREATES[kind]
    apis = both(one, two)
    for _ in range(ROUNDS):
        name = new_name()
        codes = concurrently([lambda a=a: a.post(path, json=body(name)).status_code for a in apis])
        assert sorted(codes) == [created] + [409] * (len(apis) - 1), (kind, codes)


def test_adds_of_different_users_to_one_group_through_two_nodes_are_all_kept(nodes):
    one, two, _ = nodes
    admin = one.admin()
    for _ in range(ROUNDS):
        g = make_group(admin)
        users = [make_user(admin)["id"] for _ in range(2 * PER_NODE)]
        apis = both(one, two)
        codes = concurrently([lambda a=a, u=u: a.put("/v3/groups/%s/users/%s" % (g["id"], u)).status_code
                              for a, u in zip(apis, users)])
        assert codes == [204] * len(users), codes
        for node in (one, two):
            r = on(node, admin).get("/v3/groups/%s/users" % g["id"])
            assert r.status_code == 200, r.text
            assert {u["id"] for u in r.json()["users"]} == set(users)


def test_attaches_of_different_policies_through_two_nodes_are_all_kept(nodes):
    one, two, _ = nodes
    admin = one.admin()
    for _ in range(ROUNDS):
        g = make_group(admin)
        p = make_project(admin)
        policies = [make_policy(admin, ALLOW_IMS)["id"] for _ in range(2 * PER_NODE)]
        grant = "/v3/projects/%s/groups/%s/roles/%%s" % (p["id"], g["id"])
        apis = both(one, two)
        codes = concurrently([lambda a=a, pol=pol: a.put(grant % pol).status_code for a, pol in zip(apis, policies)])
        assert codes == [204] * len(policies), codes
        for node in (one, two):
            r = on(node, admin).get("/v3/projects/%s/groups/%s/roles" % (p["id"], g["id"]))
            assert r.status_code == 200, r.text
            assert {x["id"] for x in r.json()["roles"]} == set(policies)


def dangling_assignments(database):
    """Role assignments naming a user, group or project that is gone."""
    return pg_fixture.psql(
        "SELECT actor_type, actor_id, target_type, target_id FROM assignments a WHERE "
        "(actor_type = 'user' AND NOT EXISTS (SELECT 1 FROM users WHERE id = a.actor_id)) OR "
        "(actor_type = 'group' AND NOT EXISTS (SELECT 1 FROM groups WHERE id = a.actor_id)) OR "
        "(target_type = 'project' AND NOT EXISTS (SELECT 1 FROM projects WHERE id = a.target_id))",
        database).split()


def test_role_assignments_racing_deletes_leave_no_dangling_row(nodes):
    """Each round assigns roles to users and a group on a project through
    one node while the other deletes the users, the group or the project:
    whatever the order, no assignment names one that is gone, and each
    assignment answered 204 either stays or went with what it named."""
    one, two, database = nodes
    admin = one.admin()
    for _ in range(ROUNDS):
        p = make_project(admin)
        users = [make_user(admin)["id"] for _ in range(PER_NODE)]
        g = make_group(admin)
        calls = []
        for u in users:
            calls.append(lambda u=u: on(one, admin).put(
                "/v3/projects/%s/users/%s/roles/reader" % (p["id"], u)).status_code)
            calls.append(lambda u=u: on(two, admin).delete("/v3/users/%s" % u).status_code)
        calls.append(lambda: on(one, admin).put("/v3/projects/%s/groups/%s/roles/member" % (p["id"], g["id"]))
                     .status_code)
        calls.append(lambda: on(two, admin).delete("/v3/groups/%s" % g["id"]).status_code)
        codes = concurrently(calls)
        assert set(codes) <= {204, 404}, codes
        assert dangling_assignments(database) == []
    # and assignments (given directly or with a new user's default project)
    # racing the delete of their project
    for _ in range(ROUNDS):
        p = make_project(admin)
        users = [make_user(admin)["id"] for _ in range(PER_NODE)]
        calls = [lambda u=u: on(one, admin).put("/v3/projects/%s/users/%s/roles/reader" % (p["id"], u)).status_code
                 for u in users]
        # users created with it as their default project get a role on it
        calls += [lambda: on(one, admin).post("/v3/users", json={"user": {
            "name": uname(), "password": password(), "default_project_id": p["id"]}}).status_code
            for _ in range(PER_NODE)]
        calls.append(lambda: on(two, admin).delete("/v3/projects/%s" % p["id"]).status_code)
        codes = concurrently(calls)
        assert set(codes[:PER_NODE]) <= {204, 404}, codes
        assert set(codes[PER_NODE:2 * PER_NODE]) <= {201, 400}, codes
        assert codes[-1] == 204, codes
        assert dangling_assignments(database) == []


def test_a_user_created_disabled_is_never_seen_enabled(nodes):
    """A user created disabled and described is one row from the first
    moment any node sees it: never enabled (it could log in) nor without
    its description, whatever another node reads meanwhile."""
    one, two, _ = nodes
    admin = one.admin()
    seen = []
    for _ in range(ROUNDS * 2):
        name = uname()
        done = []

        def create():
            r = on(one, admin).post("/v3/users", json={"user": {
                "name": name, "password": password(), "enabled": False, "description": "from the start"}})
            done.append(True)
            return r.status_code

        def watch():
            reader = on(two, admin)
            while not done:
                for u in reader.get("/v3/users", params={"name": name}).json()["users"]:
                    seen.append((u["enabled"], u.get("description")))
            return 0

        codes = concurrently([create] + [watch] * 3)
        assert codes[0] == 201, codes
    assert seen, "the readers never saw a created user"
    assert set(seen) == {(False, "from the start")}, set(seen)


def test_internal_policy_names_stay_distinct_across_deletes_and_nodes(nodes):
    """custom_<account>_<n>: the number is picked in the transaction that
    adds the policy, past every one taken, so neither concurrent creates
    through two nodes nor a create after a delete repeat a name."""
    one, two, _ = nodes
    admin = one.admin()
    first = [make_policy(admin, ALLOW_IMS) for _ in range(3)]
    assert admin.delete("/v3.0/OS-ROLE/roles/" + first[0]["id"]).status_code == 200
    apis = both(one, two)
    codes = concurrently([lambda a=a: a.post("/v3.0/OS-ROLE/roles", json={"role": {
        "display_name": unique("pol"), "type": "XA", "description": "d", "policy": ALLOW_IMS}}).status_code
        for a in apis])
    assert codes == [201] * len(apis), codes
    r = admin.get("/v3.0/OS-ROLE/roles")
    assert r.status_code == 200, r.text
    names = [x["name"] for x in r.json()["roles"] if x.get("domain_id")]
    assert len(names) == 2 + len(apis), names
    assert len(set(names)) == len(names), sorted(names)
