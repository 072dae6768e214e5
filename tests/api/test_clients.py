"""Real OpenStack clients against imsd: openstack CLI, glance CLI, openstacksdk."""
import hashlib
import io
import json
import os
import subprocess

import pytest

from helpers import (ADMIN_PASSWORD, ADMIN_PROJECT, ADMIN_USER, DEFAULT_DOMAIN,
                     clean_env, get_image, sdk_connect, unique)

OPENSTACK = "/usr/bin/openstack"
GLANCE = "/usr/bin/glance"


def auth_args(imsd, user=ADMIN_USER, password=ADMIN_PASSWORD, project=ADMIN_PROJECT,
              identity_version=True):
    # the glance CLI has no --os-identity-api-version (it infers v3 from the URL)
    ident = ["--os-identity-api-version", "3"] if identity_version else []
    return ["--os-auth-url", imsd.auth_url] + ident + [
            "--os-image-api-version", "2",
            "--os-username", user, "--os-password", password,
            "--os-project-name", project,
            "--os-user-domain-name", DEFAULT_DOMAIN,
            "--os-project-domain-name", DEFAULT_DOMAIN]


def run(cmd, ok=True, close_stdin=False):
    # the glance CLI reads image data from any non-tty stdin, so it gets none;
    # the openstack CLI wants a stdin object, so it gets /dev/null
    pre = (lambda: os.close(0)) if close_stdin else None
    r = subprocess.run(cmd, capture_output=True, text=True, env=clean_env(), timeout=120,
                       stdin=subprocess.DEVNULL, preexec_fn=pre)
    if ok:
        assert r.returncode == 0, "%s\nrc=%d\nstdout:%s\nstderr:%s" % (
            " ".join(cmd), r.returncode, r.stdout, r.stderr[-3000:])
    return r


def osc(imsd, *args, **kw):
    r = run([OPENSTACK] + auth_args(imsd, **kw) + list(args))
    return json.loads(r.stdout) if r.stdout.strip() else None


def glance(imsd, *args, ok=True, **kw):
    return run([GLANCE] + auth_args(imsd, identity_version=False, **kw) + list(args), ok=ok,
               close_stdin=True)


def table(out):
    """Parse a prettytable 'Property | Value' block into a dict."""
    d = {}
    for line in out.splitlines():
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0] not in ("Property", "ID"):
            d[cells[0]] = cells[1]
    return d


def rows(out):
    """Parse a prettytable list into a list of lists."""
    res = []
    for line in out.splitlines():
        if line.startswith("|"):
            res.append([c.strip() for c in line.strip().strip("|").split("|")])
    return res[1:]   # drop the header


# ---------------------------------------------------------------- openstack CLI
def test_openstack_cli_image_lifecycle(imsd, admin, tmp_path):
    data = os.urandom(64 * 1024)
    src = tmp_path / "disk.raw"
    src.write_bytes(data)
    name = unique("osc")
    img = osc(imsd, "image", "create", name, "--disk-format", "raw",
              "--container-format", "bare", "--file", str(src),
              "--property", "osc_prop=one", "-f", "json")
    iid = img["id"]
    meta = get_image(admin, iid)
    assert meta["name"] == name
    assert meta["status"] == "active"
    assert meta["checksum"] == hashlib.md5(data).hexdigest()
    assert meta["osc_prop"] == "one"

    listed = osc(imsd, "image", "list", "--name", name, "-f", "json")
    assert [i["ID"] for i in listed] == [iid]
    assert listed[0]["Status"] == "active"

    shown = osc(imsd, "image", "show", iid, "-f", "json")
    assert shown["id"] == iid
    assert shown["checksum"] == meta["checksum"]
    assert shown["size"] == len(data)

    new = unique("osc-renamed")
    osc(imsd, "image", "set", "--name", new, "--property", "osc_prop=two",
        "--min-ram", "128", iid)
    meta = get_image(admin, iid)
    assert meta["name"] == new and meta["osc_prop"] == "two" and meta["min_ram"] == 128

    out = tmp_path / "saved.raw"
    osc(imsd, "image", "save", "--file", str(out), iid)
    assert out.read_bytes() == data

    osc(imsd, "image", "delete", iid)
    assert admin.get("/v2/images/%s" % iid).status_code == 404


def test_openstack_cli_non_admin_user(imsd, make_project_user):
    u = make_project_user()
    name = unique("osc-user")
    img = osc(imsd, "image", "create", name, "--private", "-f", "json",
              user=u.user_name, password=u.password, project=u.project_name)
    assert img["owner"] == u.project_id
    listed = osc(imsd, "image", "list", "--private", "-f", "json",
                 user=u.user_name, password=u.password, project=u.project_name)
    assert [i["ID"] for i in listed] == [img["id"]]


def test_openstack_cli_token_issue(imsd):
    tok = osc(imsd, "token", "issue", "-f", "json")
    assert tok["id"]
    assert tok["project_id"]
    assert tok["user_id"]


# ---------------------------------------------------------------- glance CLI
def test_glance_cli_image_lifecycle(imsd, admin, tmp_path):
    data = os.urandom(96 * 1024 + 3)
    src = tmp_path / "in.raw"
    src.write_bytes(data)
    name = unique("gl")
    r = glance(imsd, "image-create", "--name", name, "--disk-format", "raw",
               "--container-format", "bare", "--file", str(src),
               "--property", "gl_prop=yes")
    t = table(r.stdout)
    iid = t["id"]
    assert t["status"] == "active"
    assert t["checksum"] == hashlib.md5(data).hexdigest()
    assert t["gl_prop"] == "yes"

    r = glance(imsd, "image-list", "--property-filter", "name=%s" % name)
    assert [row[0] for row in rows(r.stdout)] == [iid]

    r = glance(imsd, "image-show", iid)
    assert table(r.stdout)["name"] == name

    r = glance(imsd, "image-update", "--name", name + "-2", "--property", "x=1",
               "--remove-property", "gl_prop", iid)
    t = table(r.stdout)
    assert t["name"] == name + "-2" and t["x"] == "1" and "gl_prop" not in t

    glance(imsd, "image-tag-update", iid, "cli-tag")
    assert get_image(admin, iid)["tags"] == ["cli-tag"]
    glance(imsd, "image-tag-delete", iid, "cli-tag")
    assert get_image(admin, iid)["tags"] == []

    out = tmp_path / "out.raw"
    glance(imsd, "image-download", "--file", str(out), iid)
    assert hashlib.md5(out.read_bytes()).hexdigest() == hashlib.md5(data).hexdigest()

    glance(imsd, "image-deactivate", iid)
    assert get_image(admin, iid)["status"] == "deactivated"
    glance(imsd, "image-reactivate", iid)
    assert get_image(admin, iid)["status"] == "active"

    glance(imsd, "image-delete", iid)
    assert admin.get("/v2/images/%s" % iid).status_code == 404


def test_openstack_cli_project_member_deactivates_its_image(imsd, make_project_user, tmp_path):
    owner = make_project_user()
    src = tmp_path / "disk.raw"
    src.write_bytes(b"member deactivates" * 100)
    who = dict(user=owner.user_name, password=owner.password, project=owner.project_name)
    img = osc(imsd, "image", "create", unique("osc-deact"), "--disk-format", "raw",
              "--container-format", "bare", "--file", str(src), "-f", "json", **who)
    osc(imsd, "image", "set", "--deactivate", img["id"], **who)
    assert get_image(owner, img["id"])["status"] == "deactivated"
    r = run([OPENSTACK] + auth_args(imsd, **who) + ["image", "save", "--file", str(tmp_path / "o"), img["id"]],
            ok=False)
    # (the SDK reports the 403 of a download as "Unable to download image")
    assert r.returncode != 0 and "Unable to download image" in r.stderr, r.stderr[-2000:]
    listed = osc(imsd, "image", "list", "--status", "deactivated", "-f", "json", **who)
    assert img["id"] in [i["ID"] for i in listed]
    osc(imsd, "image", "set", "--activate", img["id"], **who)
    assert get_image(owner, img["id"])["status"] == "active"


def test_glance_cli_members(imsd, make_project_user):
    owner = make_project_user()
    member = make_project_user()
    o = dict(user=owner.user_name, password=owner.password, project=owner.project_name)
    m = dict(user=member.user_name, password=member.password, project=member.project_name)
    r = glance(imsd, "image-create", "--name", unique("glm"), "--visibility", "shared", **o)
    iid = table(r.stdout)["id"]
    r = glance(imsd, "member-create", iid, member.project_id, **o)
    assert rows(r.stdout)[0][:3] == [iid, member.project_id, "pending"]
    r = glance(imsd, "member-list", "--image-id", iid, **o)
    assert [row[1] for row in rows(r.stdout)] == [member.project_id]
    r = glance(imsd, "member-update", iid, member.project_id, "accepted", **m)
    assert rows(r.stdout)[0][2] == "accepted"
    r = glance(imsd, "image-list", **m)
    assert iid in [row[0] for row in rows(r.stdout)]
    r = glance(imsd, "member-get", iid, member.project_id, **o)
    assert member.project_id in r.stdout and "accepted" in r.stdout
    glance(imsd, "member-delete", iid, member.project_id, **o)
    r = glance(imsd, "member-list", "--image-id", iid, **o)
    assert rows(r.stdout) == []


def test_glance_cli_schema_commands(imsd):
    r = glance(imsd, "explain", "image")
    assert "visibility" in r.stdout and "disk_format" in r.stdout


# ---------------------------------------------------------------- openstacksdk
@pytest.fixture(scope="module")
def conn(imsd):
    c = sdk_connect(imsd)
    yield c
    c.close()


def test_sdk_create_list_get_update_delete(conn, admin):
    name = unique("sdk")
    img = conn.image.create_image(name=name, disk_format="raw", container_format="bare",
                                  allow_duplicates=True, tags=["sdk"],
                                  sdk_prop="one")
    assert img.id
    assert img.name == name
    got = conn.image.get_image(img.id)
    assert got.status == "queued"
    assert got.visibility in ("shared", "private")
    assert get_image(admin, img.id)["sdk_prop"] == "one"
    found = [i.id for i in conn.image.images(name=name)]
    assert found == [img.id]
    found = [i.id for i in conn.image.images(tag="sdk", name=name)]
    assert found == [img.id]
    upd = conn.image.update_image(img, name=name + "-x", min_ram=64)
    assert upd.name == name + "-x"
    assert conn.image.get_image(img.id).min_ram == 64
    conn.image.delete_image(img, ignore_missing=False)
    assert conn.image.find_image(img.id) is None


def test_sdk_upload_and_download(conn, admin):
    data = os.urandom(300 * 1024)
    name = unique("sdk-data")
    img = conn.image.create_image(name=name, disk_format="raw", container_format="bare",
                                  data=io.BytesIO(data), allow_duplicates=True,
                                  validate_checksum=False)
    got = conn.image.get_image(img.id)
    assert got.status == "active"
    assert got.checksum == hashlib.md5(data).hexdigest()
    assert got.size == len(data)
    assert got.hash_algo == "sha512"
    assert got.hash_value == hashlib.sha512(data).hexdigest()
    resp = conn.image.download_image(got)
    assert resp.content == data
    buf = io.BytesIO()
    conn.image.download_image(got, output=buf)
    assert buf.getvalue() == data
    conn.image.delete_image(got)


def test_sdk_deprecated_upload_image(conn):
    data = b"old style upload" * 100
    img = conn.image.upload_image(container_format="bare", disk_format="raw",
                                  data=data, name=unique("sdk-old"))
    got = conn.image.get_image(img.id)
    assert got.status == "active"
    assert got.checksum == hashlib.md5(data).hexdigest()
    conn.image.delete_image(got)


def test_sdk_members_and_tags(conn, make_project_user):
    other = make_project_user()
    img = conn.image.create_image(name=unique("sdk-share"), disk_format="raw",
                                  container_format="bare", allow_duplicates=True,
                                  visibility="shared")
    conn.image.add_tag(img, "t1")
    assert "t1" in conn.image.get_image(img.id).tags
    conn.image.remove_tag(img, "t1")
    assert conn.image.get_image(img.id).tags == []
    m = conn.image.add_member(img, member_id=other.project_id)
    assert m.status == "pending"
    members = [x.member_id for x in conn.image.members(img)]
    assert members == [other.project_id]
    conn.image.remove_member(other.project_id, img)
    assert list(conn.image.members(img)) == []
    conn.image.delete_image(img)


# ------------------------------------------- identity errors reach the user
def test_openstack_cli_wrong_password_shows_keystone_message(imsd):
    r = run([OPENSTACK] + auth_args(imsd, password="not-the-password") + ["image", "list"], ok=False)
    assert r.returncode != 0
    assert "requires authentication" in r.stderr and "(HTTP 401)" in r.stderr, r.stderr[-2000:]
    assert "Unrecognized schema" not in r.stderr, r.stderr[-2000:]


def test_sdk_identity_error_message(imsd, conn):
    import openstack
    bad = sdk_connect(imsd, password="not-the-password")
    with pytest.raises(Exception) as e:
        bad.authorize()
    assert "requires authentication" in str(e.value), str(e.value)
    assert "Unrecognized schema" not in str(e.value)
    bad.close()
    # an identity call refused by imsd: the SDK reports Keystone's message
    with pytest.raises(openstack.exceptions.NotFoundException) as e:
        conn.identity.get_user("0123456789abcdef0123456789abcdef")
    assert "Could not find user" in str(e.value), str(e.value)


# ------------------------------------------- image errors reach the user
@pytest.fixture(scope="module")
def glance_lib(imsd):
    """python-glanceclient's library on a keystoneauth session, as the glance CLI builds it."""
    from glanceclient import Client
    from keystoneauth1 import session
    from keystoneauth1.identity import v3
    auth = v3.Password(auth_url=imsd.auth_url, username=ADMIN_USER, password=ADMIN_PASSWORD,
                       project_name=ADMIN_PROJECT, user_domain_name=DEFAULT_DOMAIN,
                       project_domain_name=DEFAULT_DOMAIN)
    return Client("2", session=session.Session(auth=auth))


def test_glanceclient_exceptions_carry_the_message(glance_lib, imsd):
    from glanceclient import exc
    missing = "0c8e2a1e-64a4-4d3a-9b55-9f5c1b3c5a11"
    # a JSON error body in webob's flat shape made glanceclient raise AttributeError
    with pytest.raises(exc.HTTPNotFound) as e:
        glance_lib.images.get(missing)
    assert "No image found with ID %s" % missing in str(e.value), str(e.value)
    img = glance_lib.images.create(name=unique("gc-err"), disk_format="raw", container_format="bare")
    try:
        with pytest.raises(exc.HTTPBadRequest) as e:
            glance_lib.images.update(img.id, min_ram=-5)
        assert "min_ram" in str(e.value), str(e.value)
    finally:
        glance_lib.images.delete(img.id)
    # the glance CLI prints the message
    r = glance(imsd, "image-show", missing, ok=False)
    assert r.returncode != 0
    assert "No image found with ID %s" % missing in r.stderr + r.stdout, r.stderr[-2000:]
    assert "AttributeError" not in r.stderr


def test_glance_error_bodies_follow_accept(imsd, admin):
    """webob's choice: text/plain for */* (or no Accept), JSON on request, IMS routes keep IMS JSON."""
    import requests
    missing = "/v2/images/0c8e2a1e-64a4-4d3a-9b55-9f5c1b3c5a11"
    tok = {"X-Auth-Token": admin.token}
    r = requests.get(imsd.url + missing, headers=dict(tok, Accept="*/*"))
    assert r.status_code == 404
    assert r.headers["Content-Type"].startswith("text/plain")
    assert r.text.startswith("404 Not Found\n\nNo image found with ID "), r.text
    r = requests.get(imsd.url + missing, headers=dict(tok, Accept="application/json"))
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json()["code"] == "404 Not Found" and "No image found" in r.json()["message"]
    r = requests.get(imsd.url + missing, headers=dict(tok, Accept="text/html"))
    assert r.headers["Content-Type"].startswith("text/html")
    assert "<h1>404 Not Found</h1>" in r.text and "No image found" in r.text
    # IMS routes answer their own JSON whatever the client accepts
    r = requests.get(imsd.url + "/v2/cloudimages", params={"__imagetype": "nope"},
                     headers=dict(tok, Accept="*/*"))
    assert r.status_code == 400 and r.json()["error"]["code"].startswith("IMG."), r.text
    r = requests.get(imsd.url + "/v2/cloudimages", headers={"Accept": "*/*"})
    assert r.status_code == 401 and r.headers["Content-Type"].startswith("application/json")
