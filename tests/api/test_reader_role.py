"""Keystone's reader role is read-only, as Glance 25's and Keystone's default
policies make it: a user whose role on the project is reader alone is
refused every write route of the native, IMS and IAM APIs (403 before the
handler), even when IAM policies would let it write; it still reads, and
member or admin next to reader writes again. The write routes are every
route of spec/api-permissions.tsv with a method other than GET or HEAD
(deactivation, staging, import and the metadata definitions included), and
the routes the table does not list (IAM, the compute admin API)."""
import uuid
from pathlib import Path

import pytest

from helpers import Iam, active_image, unique

TSV = Path(__file__).resolve().parents[2] / "spec" / "api-permissions.tsv"
# What changes nothing though it is not a GET: the tag query, and revoking
# one's own token (DELETE /v3/auth/tokens, tested apart).
READS = {("POST", "/v2/{project_id}/images/resource_instances/action")}
UNLISTED_WRITES = [
    ("POST", "/v3/users"),
    ("PATCH", "/v3/users/{user_id}"),
    ("DELETE", "/v3/users/{user_id}"),
    ("POST", "/v3/groups"),
    ("PUT", "/v3/groups/{group_id}/users/{user_id}"),
    ("POST", "/v3/projects"),
    ("PATCH", "/v3/projects/{project_id}"),
    ("PUT", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    ("DELETE", "/v3/projects/{project_id}/users/{user_id}/roles/{role_id}"),
    ("PUT", "/v3/projects/{project_id}/groups/{group_id}/roles/{role_id}"),
    ("POST", "/v3.0/OS-ROLE/roles"),
    ("DELETE", "/v3.0/OS-ROLE/roles/{role_id}"),
    ("POST", "/v1.0/enterprise-projects"),
    ("PUT", "/v1.0/enterprise-projects/{enterprise_project_id}"),
    ("POST", "/v1/admin/servers"),
    ("DELETE", "/v1/admin/volumes/{volume_id}"),
]


def table_writes():
    out, header = [], None
    for line in TSV.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if header is None:
            header = cells
            continue
        row = dict(zip(header, cells))
        if row["method"] not in ("GET", "HEAD") and (row["method"], row["path"]) not in READS:
            out.append((row["method"], row["path"]))
    return sorted(set(out))


WRITES = table_writes() + UNLISTED_WRITES


@pytest.fixture(scope="module")
def reader(imsd, admin):
    """A user whose IAM policies allow everything in its project (Tenant
    Administrator), and whose Keystone role there is reader alone."""
    iam = Iam(imsd)
    project = unique("rd")
    iam.ctl("project", "create", project)
    api = iam.user(project, grants=[("Tenant Administrator", "project")])
    r = admin.put("/v3/projects/%s/users/%s/roles/reader" % (api.project_id, api.user_id))
    assert r.status_code == 204, r.text
    api = iam.login(api.user_name, api.password, project)  # a token with the role
    api.iam = iam
    return api


def fill(path, api, image_id):
    values = {"project_id": api.project_id, "image_id": image_id, "user_id": api.user_id, "role_id": "member"}
    for name in ("member_id", "tag", "key", "namespace", "tag_name", "group_id", "enterprise_project_id",
                 "volume_id", "job_id", "object_name", "property_name", "resource_type", "store_id"):
        values.setdefault(name, "x" + uuid.uuid4().hex[:8])
    return path.format(**values)


def test_the_table_has_write_routes_of_every_kind():
    methods = {m for m, _ in WRITES}
    assert methods == {"POST", "PUT", "PATCH", "DELETE"}
    assert len(WRITES) > 45


@pytest.mark.parametrize("method,path", WRITES, ids=["%s %s" % w for w in WRITES])
def test_a_reader_is_refused_every_write(reader, method, path):
    img = reader.image_id
    r = reader.request(method, fill(path, reader, img), json={})
    assert r.status_code == 403, (method, path, r.status_code, r.text)
    assert "read-only" in r.text, r.text


@pytest.fixture(scope="module", autouse=True)
def _reader_image(reader, admin):
    """An image of the reader's project, made before its role was reader alone."""
    owner = reader.iam.user(reader.project_name, grants=[("Tenant Administrator", "project")])
    reader.image_id = active_image(owner)["id"]


def test_a_reader_still_reads(reader):
    r = reader.get("/v2/images/%s" % reader.image_id)
    assert r.status_code == 200, r.text
    assert reader.get("/v2/images").status_code == 200
    assert reader.get("/v2/cloudimages").status_code == 200
    assert reader.get("/v2/images/%s/file" % reader.image_id).status_code == 200
    r = reader.post("/v2/%s/images/resource_instances/action" % reader.project_id,
                    json={"action": "filter", "tags": [{"key": "a", "values": ["b"]}]})
    assert r.status_code == 200, r.text


def test_glance_and_iam_refusals_in_their_shapes(reader):
    r = reader.post("/v2/images", json={"name": "x"})
    assert r.status_code == 403 and r.json()["code"] == "403 Forbidden"
    r = reader.post("/v2/cloudimages/action", json={})
    assert r.status_code == 403 and r.json()["error"]["code"] == "IMG.0026"
    r = reader.post("/v3/groups", json={"group": {"name": "g"}})
    assert r.status_code == 403 and r.json()["error"]["code"] == 403


def test_member_next_to_reader_writes(imsd, admin, reader):
    other = reader.iam.user(reader.project_name, grants=[("Tenant Administrator", "project")])
    for role in ("reader", "member"):
        r = admin.put("/v3/projects/%s/users/%s/roles/%s" % (other.project_id, other.user_id, role))
        assert r.status_code == 204, r.text
    api = reader.iam.login(other.user_name, other.password, reader.project_name)
    r = api.post("/v2/images", json={"name": unique("mr"), "disk_format": "raw", "container_format": "bare"})
    assert r.status_code == 201, r.text
    # and the reader may still revoke its own token
    tok = reader.iam.login(reader.user_name, reader.password, reader.project_name)
    r = tok.delete("/v3/auth/tokens", headers={"X-Subject-Token": tok.token})
    assert r.status_code == 204, r.text
