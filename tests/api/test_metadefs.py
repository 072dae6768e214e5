"""Metadata definitions as Glance 25 serves them: namespaces, objects,
properties, tags, resource types and associations, their schemas,
visibility, admin-only writes, protection, and `imsctl metadefs load`.
Driven by the glance CLI (python3-glanceclient's md-* commands) and raw
HTTP for what clients never send; Debian 12's openstacksdk (0.101) and
openstack CLI (6.0) have no metadef calls."""
import json
from pathlib import Path

import pytest

from helpers import imsctl_run, unique
from test_clients import glance, rows, table

NS = "/v2/metadefs/namespaces"
SCHEMAS = json.loads((Path(__file__).resolve().parents[2] / "data" / "metadefs_schemas.json").read_text())


def ns_name(prefix="OS::Test"):
    return "%s::%s" % (prefix, unique("n"))


def make_ns(api, **body):
    body.setdefault("namespace", ns_name())
    r = api.post(NS, json=body)
    assert r.status_code == 201, (r.status_code, r.text)
    return r.json()


@pytest.fixture
def public_ns(admin):
    ns = make_ns(admin, visibility="public")
    yield ns["namespace"]
    admin.put("%s/%s" % (NS, ns["namespace"]), json={"namespace": ns["namespace"], "protected": False,
                                                    "visibility": "public"})
    admin.delete("%s/%s" % (NS, ns["namespace"]))


# ------------------------------------------------------------------ schemas
@pytest.mark.parametrize("name", ["namespace", "namespaces", "object", "objects", "property", "properties",
                                  "tag", "tags", "resource_type", "resource_types"])
def test_schemas_as_glance_serves_them(admin, name):
    r = admin.get("/v2/schemas/metadefs/%s" % name)
    assert r.status_code == 200, r.text
    assert r.json() == SCHEMAS[name]


def test_schema_facts_clients_rely_on(admin):
    ns = admin.get("/v2/schemas/metadefs/namespace").json()
    assert ns["required"] == ["namespace"] and ns["additionalProperties"] is False
    assert ns["properties"]["visibility"]["enum"] == ["public", "private"]
    prop = admin.get("/v2/schemas/metadefs/property").json()
    assert prop["required"] == ["type", "title", "name"]
    props = admin.get("/v2/schemas/metadefs/properties").json()
    assert props["properties"]["properties"]["additionalProperties"]["required"] == ["type", "title"]
    assert admin.get("/v2/schemas/metadefs/nothing").status_code == 404


def test_glance_cli_explains_a_metadef_schema(imsd):
    # glanceclient builds its md-* models from these schemas
    r = glance(imsd, "md-namespace-create", ns_name("OS::Cli"), "--visibility", "public")
    assert table(r.stdout)["visibility"] == "public"


# ------------------------------------------------------------------ namespaces
def test_namespace_lifecycle_with_glance_cli(imsd, admin):
    name = ns_name("OS::Cli")
    r = glance(imsd, "md-namespace-create", name, "--display-name", "Disp", "--description", "first",
               "--visibility", "public", "--protected", "True")
    t = table(r.stdout)
    assert t["namespace"] == name and t["protected"] == "True" and t["display_name"] == "Disp"
    assert t["owner"] == admin.project_id
    r = glance(imsd, "md-namespace-list")
    assert name in [row[0] for row in rows(r.stdout)]
    assert glance(imsd, "md-namespace-delete", name, ok=False).returncode != 0   # protected
    r = glance(imsd, "md-namespace-update", name, "--description", "second", "--protected", "False")
    t = table(r.stdout)
    assert t["description"] == "second" and t["display_name"] == "Disp" and t["protected"] == "False"
    # Glance's PUT takes the whole namespace: what is not given falls back (visibility private)
    r = admin.put("%s/%s" % (NS, name), json={"namespace": name, "display_name": "Disp", "visibility": "public"})
    assert r.status_code == 200 and "description" not in r.json() and r.json()["protected"] is False
    r = glance(imsd, "md-namespace-show", name)
    assert table(r.stdout)["display_name"] == "Disp" and "description" not in table(r.stdout)
    glance(imsd, "md-namespace-delete", name)
    assert admin.get("%s/%s" % (NS, name)).status_code == 404


def test_namespace_documents(admin):
    name = ns_name()
    body = {"namespace": name, "display_name": "D", "description": "x", "visibility": "public",
            "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}],
            "properties": {"cpu": {"title": "CPU", "type": "string", "enum": ["a", "b"], "default": "a"}},
            "objects": [{"name": "Obj", "required": ["n"],
                         "properties": {"n": {"title": "N", "type": "integer", "minimum": 1}}}],
            "tags": [{"name": "t1"}, {"name": "t2"}]}
    r = admin.post(NS, json=body)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith("%s/%s" % (NS, name))
    made = r.json()
    assert made["self"] == "%s/%s" % (NS, name) and made["schema"] == "/v2/schemas/metadefs/namespace"
    assert made["properties"] == body["properties"]
    got = admin.get("%s/%s" % (NS, name)).json()
    assert got["properties"] == body["properties"]
    assert [o["name"] for o in got["objects"]] == ["Obj"]
    assert got["objects"][0]["properties"] == body["objects"][0]["properties"]
    assert got["objects"][0]["required"] == ["n"]
    assert [t["name"] for t in got["tags"]] == ["t1", "t2"]
    assert got["resource_type_associations"][0]["prefix"] == "hw_"
    # Glance leaves out what is not set, never null
    assert None not in got.values()
    # as a resource type sees it: names carry the association's prefix
    rt = admin.get("%s/%s" % (NS, name), params={"resource_type": "OS::Glance::Image"}).json()
    assert list(rt["properties"]) == ["hw_cpu"]
    assert list(rt["objects"][0]["properties"]) == ["hw_n"]
    r = admin.get("%s/%s/properties/hw_cpu" % (NS, name), params={"resource_type": "OS::Glance::Image"})
    assert r.status_code == 200 and r.json()["name"] == "hw_cpu", r.text
    # the list shows associations but not contents
    listed = [n for n in admin.get(NS, params={"limit": 1000}).json()["namespaces"] if n["namespace"] == name]
    assert listed and "properties" not in listed[0] and listed[0]["resource_type_associations"]
    assert admin.delete("%s/%s" % (NS, name)).status_code == 204


def test_names_that_need_encoding(admin):
    name = "OS::Sp ace \u00fc%2F:" + unique("e")
    r = admin.post(NS, json={"namespace": name, "objects": [{"name": "o b/c?"}]})
    assert r.status_code == 400, r.text     # no '/' in a name: no path could address it
    r = admin.post(NS, json={"namespace": name, "objects": [{"name": "o b?"}]})
    assert r.status_code == 201, r.text
    self_link = r.json()["self"]
    got = admin.get(self_link)
    assert got.status_code == 200 and got.json()["namespace"] == name
    obj = admin.get(got.json()["objects"][0]["self"])
    assert obj.status_code == 200 and obj.json()["name"] == "o b?"
    assert admin.get(NS + "/a%2Fb").status_code == 404
    assert admin.delete(self_link).status_code == 204


def test_list_filters_sorting_and_pages(admin):
    prefix = "OS::Page::" + unique("p")
    names = ["%s::%d" % (prefix, i) for i in range(5)]
    for i, n in enumerate(names):
        make_ns(admin, namespace=n, visibility="public" if i % 2 else "private",
                resource_type_associations=[{"name": "OS::Nova::Flavor"}] if i == 3 else [])
    seen, url, params = [], NS, {"limit": 2, "sort_key": "namespace", "sort_dir": "asc"}
    for _ in range(100):
        r = admin.get(url, params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [n["namespace"] for n in body["namespaces"]]
        assert len(body["namespaces"]) <= 2
        if "next" not in body:
            break
        url, params = body["next"], None
    mine = [n for n in seen if n.startswith(prefix)]
    assert mine == names
    assert len(seen) == len(set(seen))
    desc = [n["namespace"] for n in admin.get(NS, params={"sort_key": "namespace", "sort_dir": "desc",
                                                          "limit": 1000}).json()["namespaces"]]
    assert [n for n in desc if n.startswith(prefix)] == names[::-1]
    pub = [n["namespace"] for n in admin.get(NS, params={"visibility": "public", "limit": 1000}).json()["namespaces"]]
    assert [n for n in names if n in pub] == [names[1], names[3]]
    flav = [n["namespace"] for n in admin.get(NS, params={"resource_types": "OS::Nova::Flavor,Nope",
                                                         "limit": 1000}).json()["namespaces"]]
    assert [n for n in names if n in flav] == [names[3]]
    for bad in ({"limit": "x"}, {"limit": "-1"}, {"sort_dir": "up"}, {"sort_key": "owner"},
                {"visibility": "shared"}):
        assert admin.get(NS, params=bad).status_code == 400, bad
    assert admin.get(NS, params={"marker": "OS::NoSuch::" + unique()}).status_code == 404
    for n in names:
        assert admin.delete("%s/%s" % (NS, n)).status_code == 204


def test_visibility_and_ownership(admin, alice, bob):
    mine = make_ns(admin, namespace=ns_name(), visibility="private", owner=alice.project_id)["namespace"]
    hidden = make_ns(admin, namespace=ns_name(), visibility="private")["namespace"]
    public = make_ns(admin, namespace=ns_name(), visibility="public")["namespace"]
    listed = {n["namespace"] for n in alice.get(NS, params={"limit": 1000}).json()["namespaces"]}
    assert mine in listed and public in listed and hidden not in listed
    assert alice.get("%s/%s" % (NS, hidden)).status_code == 404
    assert alice.get("%s/%s/objects" % (NS, hidden)).status_code == 404
    assert alice.get("%s/%s" % (NS, mine)).json()["owner"] == alice.project_id
    assert bob.get("%s/%s" % (NS, mine)).status_code == 404
    assert hidden not in {n["namespace"] for n in bob.get(NS, params={"limit": 1000}).json()["namespaces"]}
    # the marker must be one the caller sees
    assert alice.get(NS, params={"marker": hidden}).status_code == 404
    for n in (mine, hidden, public):
        assert admin.delete("%s/%s" % (NS, n)).status_code == 204


def test_writes_are_the_cloud_administrators(admin, alice):
    own = make_ns(admin, namespace=ns_name(), visibility="private", owner=alice.project_id)["namespace"]
    hidden = make_ns(admin, namespace=ns_name(), visibility="private")["namespace"]
    r = alice.post(NS, json={"namespace": ns_name()})
    assert r.status_code == 403, r.text
    # even in a namespace its project owns: Glance 25's default policy
    for method, path, body in [
            ("PUT", "%s/%s" % (NS, own), {"namespace": own}),
            ("DELETE", "%s/%s" % (NS, own), None),
            ("POST", "%s/%s/objects" % (NS, own), {"name": "o"}),
            ("POST", "%s/%s/properties" % (NS, own), {"name": "p", "title": "P", "type": "string"}),
            ("POST", "%s/%s/tags/t" % (NS, own), None),
            ("POST", "%s/%s/resource_types" % (NS, own), {"name": "OS::Nova::Flavor"}),
            ("DELETE", "%s/%s/tags" % (NS, own), None)]:
        r = alice.request(method, path, json=body)
        assert r.status_code == 403, (method, path, r.status_code, r.text)
    # what it cannot see is not there
    assert alice.delete("%s/%s" % (NS, hidden)).status_code == 404
    assert alice.put("%s/%s" % (NS, hidden), json={"namespace": hidden}).status_code == 404
    assert admin.get("%s/%s" % (NS, own)).json().get("objects") is None
    for n in (own, hidden):
        assert admin.delete("%s/%s" % (NS, n)).status_code == 204


def test_protected_namespaces_cannot_be_deleted(admin):
    name = make_ns(admin, namespace=ns_name(), protected=True, visibility="public",
                   objects=[{"name": "o"}], tags=[{"name": "t"}],
                   properties={"p": {"title": "P", "type": "string"}},
                   resource_type_associations=[{"name": "OS::Glance::Image"}])["namespace"]
    base = "%s/%s" % (NS, name)
    for path in (base, base + "/objects", base + "/properties", base + "/tags", base + "/objects/o",
                 base + "/properties/p", base + "/tags/t", base + "/resource_types/OS::Glance::Image"):
        r = admin.delete(path)
        assert r.status_code == 403, (path, r.status_code, r.text)
        assert "protected" in r.text
    got = admin.get(base).json()
    assert got["objects"] and got["tags"] and got["properties"] and got["resource_type_associations"]
    r = admin.put(base, json={"namespace": name, "protected": False})
    assert r.status_code == 200 and r.json()["protected"] is False
    assert admin.delete(base).status_code == 204
    assert admin.get(base).status_code == 404
    assert admin.get(base + "/objects/o").status_code == 404


def test_rename_and_conflicts(admin):
    a = make_ns(admin, namespace=ns_name(), objects=[{"name": "o"}])["namespace"]
    b = make_ns(admin, namespace=ns_name())["namespace"]
    assert admin.post(NS, json={"namespace": a}).status_code == 409
    assert admin.put("%s/%s" % (NS, a), json={"namespace": b}).status_code == 409
    renamed = ns_name()
    r = admin.put("%s/%s" % (NS, a), json={"namespace": renamed, "display_name": "R"})
    assert r.status_code == 200 and r.json()["namespace"] == renamed, r.text
    assert admin.get("%s/%s" % (NS, a)).status_code == 404
    # what it holds went with it
    assert admin.get("%s/%s/objects/o" % (NS, renamed)).status_code == 200
    for n in (renamed, b):
        assert admin.delete("%s/%s" % (NS, n)).status_code == 204


@pytest.mark.parametrize("body,status", [
    ({"namespace": "x", "unknown": 1}, 400),
    ({"display_name": "no namespace"}, 400),
    ({"namespace": ""}, 400),
    ({"namespace": "a/b"}, 400),
    ({"namespace": "x" * 81}, 400),
    ({"namespace": "ctl\u0001"}, 400),
    ({"namespace": "x", "visibility": "shared"}, 400),
    ({"namespace": "x", "protected": "yes"}, 400),
    ({"namespace": "x", "description": "d" * 501}, 400),
    ({"namespace": "x", "self": "/v2/x"}, 403),
    ({"namespace": "x", "created_at": "2020-01-01T00:00:00Z"}, 403),
    ({"namespace": "x", "properties": {"p": {"title": "P"}}}, 400),
    ({"namespace": "x", "properties": {"p": {"title": "P", "type": "strange"}}}, 400),
    ({"namespace": "x", "properties": {"p": {"title": "P", "type": "string", "bogus": 1}}}, 400),
    ({"namespace": "x", "properties": {"p": {"title": "P", "type": "string", "minLength": -1}}}, 400),
    ({"namespace": "x", "objects": [{"description": "no name"}]}, 400),
    ({"namespace": "x", "objects": [{"name": "o"}, {"name": "o"}]}, 409),
    ({"namespace": "x", "tags": [{"name": "t"}, {"name": "t"}]}, 409),
    ({"namespace": "x", "objects": "o"}, 400),
    ({"namespace": "x", "tags": [{"name": "t"}] * 1001}, 400),
])
def test_bad_namespace_bodies(admin, body, status):
    body = dict(body)
    if body.get("namespace") == "x":
        body["namespace"] = ns_name()
    r = admin.post(NS, json=body)
    assert r.status_code == status, (body, r.status_code, r.text)
    if "namespace" in body and isinstance(body["namespace"], str) and body["namespace"].startswith("OS::"):
        assert admin.get("%s/%s" % (NS, body["namespace"])).status_code == 404


def test_bodies_that_are_not_json(admin):
    for raw in (b"", b"{", b"[]", b"\xff\xfe", b'{"namespace": "a", "namespace": "b"}',
                b'{"namespace": "\\u0000x"}'):
        r = admin.post(NS, data=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (raw, r.status_code, r.text)


# ------------------------------------------------------------------ objects, properties
def test_objects_and_properties_with_glance_cli(imsd, admin, public_ns):
    ns = public_ns
    r = glance(imsd, "md-property-create", ns, "--name", "speed", "--title", "Speed",
               "--schema", json.dumps({"type": "integer", "minimum": 1, "maximum": 10}))
    assert table(r.stdout)["maximum"] == "10"
    r = glance(imsd, "md-property-update", ns, "speed", "--title", "Speed!")
    assert table(r.stdout)["title"] == "Speed!"
    r = glance(imsd, "md-property-list", ns)
    assert [row[0] for row in rows(r.stdout)] == ["speed"]
    r = glance(imsd, "md-object-create", ns, "--name", "Car", "--schema",
               json.dumps({"description": "a car", "required": ["wheels"],
                           "properties": {"wheels": {"title": "Wheels", "type": "integer"}}}))
    assert table(r.stdout)["name"] == "Car"
    r = glance(imsd, "md-object-property-show", ns, "Car", "wheels")
    assert table(r.stdout)["type"] == "integer"
    r = glance(imsd, "md-object-update", ns, "Car", "--name", "Truck")
    assert table(r.stdout)["name"] == "Truck"
    r = glance(imsd, "md-object-list", ns)
    assert [row[0] for row in rows(r.stdout)] == ["Truck"]
    obj = admin.get("%s/%s/objects/Truck" % (NS, ns)).json()
    assert obj["required"] == ["wheels"] and obj["description"] == "a car"
    assert obj["self"] == "%s/%s/objects/Truck" % (NS, ns)
    glance(imsd, "md-object-delete", ns, "Truck")
    glance(imsd, "md-property-delete", ns, "speed")
    got = admin.get("%s/%s" % (NS, ns)).json()
    assert "objects" not in got and "properties" not in got


def test_object_and_property_refusals(admin, public_ns):
    base = "%s/%s" % (NS, public_ns)
    assert admin.post(base + "/objects", json={"name": "o"}).status_code == 201
    assert admin.post(base + "/objects", json={"name": "o"}).status_code == 409
    assert admin.post(base + "/objects", json={"name": "p", "schema": "/x"}).status_code == 403
    assert admin.post(base + "/objects", json={"name": "p", "required": ["a", "a"]}).status_code == 400
    # names as long as Glance's schemas allow (80), no longer
    assert admin.post(base + "/objects", json={"name": "n" * 81}).status_code == 400
    assert admin.post(base + "/objects", json={"name": "n" * 80}).status_code == 201
    assert admin.post(base + "/tags/" + "t" * 81).status_code == 404
    assert admin.post(base + "/properties", json={"name": "p" * 81, "title": "T", "type": "string"}).status_code == 400
    assert admin.post(base + "/properties", json={"name": "p", "type": "string"}).status_code == 400
    assert admin.post(base + "/properties", json={"title": "T", "type": "string"}).status_code == 400
    r = admin.post(base + "/properties", json={"name": "p", "title": "T", "type": "array",
                                               "items": {"type": "string", "enum": ["x"]}})
    assert r.status_code == 201 and r.json()["items"] == {"type": "string", "enum": ["x"]}, r.text
    assert admin.post(base + "/properties", json={"name": "p", "title": "T", "type": "string"}).status_code == 409
    assert admin.put(base + "/objects/nope", json={"name": "nope"}).status_code == 404
    assert admin.get(base + "/properties/nope").status_code == 404
    assert admin.delete(base + "/objects/nope").status_code == 404
    # renaming onto another item's name conflicts and changes nothing
    assert admin.post(base + "/objects", json={"name": "o2"}).status_code == 201
    assert admin.put(base + "/objects/o2", json={"name": "o"}).status_code == 409
    assert admin.get(base + "/objects/o2").status_code == 200
    assert admin.delete(base + "/objects").status_code == 204
    assert admin.get(base + "/objects").json()["objects"] == []
    assert admin.delete(base + "/properties").status_code == 204
    assert admin.get(base + "/properties").json() == {"properties": {}}


# ------------------------------------------------------------------ tags
def test_tags_with_glance_cli(imsd, admin, public_ns):
    ns = public_ns
    glance(imsd, "md-tag-create", ns, "--name", "solo")
    r = glance(imsd, "md-tag-create-multiple", ns, "--names", "a,b,c")
    assert [row[0] for row in rows(r.stdout)] == ["a", "b", "c"]
    # without X-Openstack-Append the list replaces every tag, as in Glance
    r = glance(imsd, "md-tag-list", ns)
    assert sorted(row[0] for row in rows(r.stdout)) == ["a", "b", "c"]
    r = glance(imsd, "md-tag-update", ns, "a", "--name", "aa")
    assert table(r.stdout)["name"] == "aa"
    r = glance(imsd, "md-tag-show", ns, "aa")
    assert table(r.stdout)["name"] == "aa"
    glance(imsd, "md-tag-delete", ns, "aa")
    r = admin.post("%s/%s/tags" % (NS, ns), json={"tags": [{"name": "d"}]},
                   headers={"X-Openstack-Append": "True"})
    assert r.status_code == 201, r.text
    names = [t["name"] for t in admin.get("%s/%s/tags" % (NS, ns)).json()["tags"]]
    assert sorted(names) == ["b", "c", "d"]
    assert admin.post("%s/%s/tags/d" % (NS, ns)).status_code == 409
    assert admin.post("%s/%s/tags" % (NS, ns), json={"tags": [{"name": "x"}, {"name": "x"}]}).status_code == 409
    # a refused list changes nothing
    assert sorted(t["name"] for t in admin.get("%s/%s/tags" % (NS, ns)).json()["tags"]) == ["b", "c", "d"]
    glance(imsd, "md-namespace-tags-delete", ns)
    assert admin.get("%s/%s/tags" % (NS, ns)).json()["tags"] == []


# ------------------------------------------------------------------ resource types
def test_resource_types_and_associations_with_glance_cli(imsd, admin, public_ns):
    ns = public_ns
    r = glance(imsd, "md-resource-type-list")
    assert {"OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor"} <= {row[0] for row in rows(r.stdout)}
    new_type = "OS::Test::" + unique("rt")
    r = glance(imsd, "md-resource-type-associate", ns, "--name", new_type, "--prefix", "t_",
               "--properties-target", "image")
    t = table(r.stdout)
    assert t["name"] == new_type and t["prefix"] == "t_" and t["properties_target"] == "image"
    # associating with a new name makes the resource type, as Glance does
    r = glance(imsd, "md-resource-type-list")
    assert new_type in {row[0] for row in rows(r.stdout)}
    r = glance(imsd, "md-namespace-resource-type-list", ns)
    assert [row[0] for row in rows(r.stdout)] == [new_type]
    assert admin.post("%s/%s/resource_types" % (NS, ns), json={"name": new_type}).status_code == 409
    glance(imsd, "md-resource-type-deassociate", ns, new_type)
    assert admin.get("%s/%s/resource_types" % (NS, ns)).json() == {"resource_type_associations": []}
    assert admin.delete("%s/%s/resource_types/%s" % (NS, ns, new_type)).status_code == 404


# ------------------------------------------------------------------ imsctl metadefs load
def write(dirpath, name, doc):
    p = Path(dirpath) / name
    p.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return p


def test_imsctl_loads_namespace_files(imsd, admin, alice, tmp_path):
    good = ns_name("OS::Load")
    private = ns_name("OS::Load")
    write(tmp_path, "a-good.json", {
        "namespace": good, "display_name": "Good", "description": "loaded", "visibility": "public",
        "protected": True,
        "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"},
                                       {"name": "OS::Nova::Flavor", "prefix": "hw:"}],
        "properties": {"cpu": {"title": "CPU", "type": "string", "enum": ["x", "y"]},
                       "port": {"title": "Port", "type": "integer", "default": 80}},
        "objects": [{"name": "Obj", "description": "o",
                     "properties": {"k": {"title": "K", "type": "boolean"}}}]})
    write(tmp_path, "b-private.json", {"namespace": private})
    write(tmp_path, "c-broken.json", {"namespace": ns_name(), "properties": {"p": {"title": "no type"}}})
    write(tmp_path, "d-not-json.json", "{")
    write(tmp_path, "notes.txt", "not a namespace")
    r = imsctl_run(imsd, "metadefs", "load", str(tmp_path))
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "c-broken.json" in r.stderr and "d-not-json.json" in r.stderr
    assert "2 loaded" in r.stdout
    got = admin.get("%s/%s" % (NS, good)).json()
    assert got["protected"] is True and got["display_name"] == "Good"
    assert got["properties"]["port"] == {"type": "integer", "title": "Port", "default": 80}
    assert [a["name"] for a in got["resource_type_associations"]] == ["OS::Glance::Image", "OS::Nova::Flavor"]
    assert got["objects"][0]["properties"] == {"k": {"type": "boolean", "title": "K"}}
    # a file without an owner belongs to the admin project: private to it
    assert admin.get("%s/%s" % (NS, private)).json()["owner"] == admin.project_id
    assert alice.get("%s/%s" % (NS, private)).status_code == 404
    assert alice.get("%s/%s" % (NS, good)).status_code == 200
    # again: kept as they are
    (tmp_path / "c-broken.json").unlink()
    (tmp_path / "d-not-json.json").unlink()
    write(tmp_path, "a-good.json", {"namespace": good, "description": "changed"})
    r = imsctl_run(imsd, "metadefs", "load", str(tmp_path))
    assert r.returncode == 0 and "0 loaded, 2 skipped" in r.stdout, (r.stdout, r.stderr)
    assert admin.get("%s/%s" % (NS, good)).json()["description"] == "loaded"
    # --overwrite replaces the namespace with all it holds, protected or not
    r = imsctl_run(imsd, "metadefs", "load", str(tmp_path), "--overwrite")
    assert r.returncode == 0 and "2 loaded" in r.stdout, (r.stdout, r.stderr)
    got = admin.get("%s/%s" % (NS, good)).json()
    assert got["description"] == "changed" and "properties" not in got and got["visibility"] == "private"
    r = imsctl_run(imsd, "metadefs", "load", "--help")
    assert r.returncode == 0 and "Glance" in r.stdout
    assert imsctl_run(imsd, "metadefs", "load", str(tmp_path / "nope")).returncode == 1
    for n in (good, private):
        assert admin.delete("%s/%s" % (NS, n)).status_code == 204


def test_routes_match_exactly(admin, public_ns):
    # as Glance's (Python Routes): a trailing slash is another, unknown path
    for path in (NS + "/", "%s/%s/" % (NS, public_ns), "%s/%s/objects/" % (NS, public_ns),
                 "/v2/metadefs/resource_types/", "/v2/schemas/metadefs/namespace/"):
        assert admin.get(path).status_code == 404, path
