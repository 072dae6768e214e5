"""Enumerated list filters (spec/query-enums.tsv): every value the table lists
is accepted, any other is a 400 in the API's own error shape, on GET /v2/images
(Glance's body), GET /v2/cloudimages and GET /v1/cloudimages/tags (the IMS body
with the row's code); "in:" lists are checked item by item; real clients' list
filters keep working."""
from pathlib import Path

import pytest

from helpers import active_image, get_image, sdk_connect, unique

TSV = Path(__file__).resolve().parents[2] / "spec" / "query-enums.tsv"


def load_rows():
    lines = [line for line in TSV.read_text().splitlines() if line and not line.startswith("#")]
    header = lines[0].split("\t")
    assert header == ["parameter", "apis", "values", "ims_code"], header
    rows = []
    for line in lines[1:]:
        param, apis, values, code = line.split("\t")
        rows.append({"param": param, "apis": apis.split(","), "values": values.split("|"), "code": code})
    return rows


ROWS = load_rows()
PATHS = {"glance": ["/v2/images"], "ims": ["/v2/cloudimages", "/v1/cloudimages/tags"]}
CASES = [(row, api, path) for row in ROWS for api in row["apis"] for path in PATHS[api]]


def case_id(case):
    row, _, path = case
    return "%s-%s" % (path.strip("/").replace("/", "_"), row["param"])


def test_table_is_the_documented_one():
    """The rows the issue names are there, with the reference's values."""
    by = {r["param"]: r for r in ROWS}
    for p in ("__imagetype", "__platform", "__os_type", "status", "disk_format", "__isregistered"):
        assert p in by and set(by[p]["apis"]) == {"glance", "ims"}, p
    assert {"queued", "saving", "deleted", "killed", "active"} <= set(by["status"]["values"])
    assert {"deactivated", "importing", "uploading"} <= set(by["status"]["values"])  # Glance's
    assert {"zvhd2", "vhd", "zvhd", "raw", "qcow2"} <= set(by["disk_format"]["values"])
    assert by["__imagetype"]["values"] == ["gold", "private", "shared"]
    assert by["__os_type"]["values"] == ["Linux", "Windows", "Other"]
    assert by["__os_type"]["code"] == "IMG.0122"


def assert_refused(r, api, row, value):
    assert r.status_code == 400, (row["param"], value, r.status_code, r.text)
    body = r.json()
    if api == "glance":
        assert body["code"] == "400 Bad Request", r.text
        assert "Invalid value '%s' for '%s'" % (value, row["param"]) in body["message"], r.text
    else:
        assert body["error"]["code"] == row["code"], r.text
        assert "Invalid value '%s' for '%s'" % (value, row["param"]) in body["error"]["message"], r.text


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_unknown_value_refused(alice, case):
    row, api, path = case
    # an unknown word, and a near miss of a listed value (values match exactly)
    first = row["values"][0]
    near = first.swapcase() if first.swapcase() != first else first + "0"
    for value in ("no-such-value", near, ""):
        assert_refused(alice.get(path, params={row["param"]: value}), api, row, value)


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_every_listed_value_accepted(alice, case):
    row, _, path = case
    for value in row["values"]:
        r = alice.get(path, params={row["param"]: value})
        assert r.status_code == 200, (row["param"], value, r.status_code, r.text)


def test_ims_only_rows_stay_free_on_glance(alice):
    """A row for the IMS lists only is a plain property filter on /v2/images."""
    for row in ROWS:
        if "glance" not in row["apis"]:
            r = alice.get("/v2/images", params={row["param"]: "no-such-value"})
            assert r.status_code == 200, (row["param"], r.text)
            assert r.json()["images"] == []


@pytest.mark.parametrize("param,good,bad", [
    ("status", "in:active,deactivated,importing,uploading,queued", "in:active,activ"),
    ("disk_format", 'in:qcow2,"raw",iso', "in:qcow2,qcow3"),
    ("container_format", "in:bare,ovf", "in:bare,ovf,tar"),
])
def test_in_lists_checked_item_by_item(alice, param, good, bad):
    assert alice.get("/v2/images", params={param: good}).status_code == 200
    assert alice.get("/v2/images", params={param: "eq:" + good[3:].split(",")[0].strip('"')}).status_code == 200
    r = alice.get("/v2/images", params={param: bad})
    assert r.status_code == 400, r.text
    assert "for '%s'" % param in r.json()["message"], r.text


def test_legacy_list_enforces_glance_rows(alice):
    r = alice.get("/v1.1/images/detail", params={"status": "activ"})
    assert r.status_code == 400, r.text
    assert alice.get("/v1.1/images/detail", params={"status": "active"}).status_code == 200


def test_documented_filters_still_find_images(alice):
    tag = unique("enum")
    img = active_image(alice, name=unique("en"), tags=[tag], __os_type="Linux", __platform="Red Hat")
    for path in ("/v2/images", "/v2/cloudimages"):
        r = alice.get(path, params={"tag": tag, "__platform": "Red Hat", "__os_type": "Linux",
                                    "status": "active"})
        assert r.status_code == 200, r.text
        assert [i["id"] for i in r.json()["images"]] == [img["id"]], path
    r = alice.get("/v1/cloudimages/tags", params={"__platform": "Red Hat", "status": "active"})
    assert r.status_code == 200, r.text


# ---------------------------------------------------------------- real clients

@pytest.fixture(scope="module")
def conn(imsd):
    c = sdk_connect(imsd)
    yield c
    c.close()


def test_sdk_status_filters(conn, admin):
    import openstack.exceptions
    img = active_image(admin, name=unique("sdk-deact"))
    r = admin.post("/v2/images/%s/actions/deactivate" % img["id"])
    assert r.status_code == 204, r.text
    assert get_image(admin, img["id"])["status"] == "deactivated"
    found = [i.id for i in conn.image.images(status="deactivated", name=img["name"])]
    assert found == [img["id"]]
    for status in ("importing", "uploading", "queued"):
        assert [i.id for i in conn.image.images(status=status, name=img["name"])] == []
    with pytest.raises(openstack.exceptions.BadRequestException):
        list(conn.image.images(status="deactivate"))


def test_glanceclient_filters(alice):
    import glanceclient
    gc = glanceclient.Client("2", endpoint=alice.base, token=alice.token)
    img = active_image(alice, name=unique("gc-enum"))
    got = [i["id"] for i in gc.images.list(filters={"status": "active", "name": img["name"]})]
    assert got == [img["id"]]
    got = [i["id"] for i in gc.images.list(filters={"__os_bit": "32", "name": img["name"]})]
    assert got == []
    got = [i["id"] for i in gc.images.list(filters={"status": "in:queued,deactivated,active",
                                                    "name": img["name"]})]
    assert got == [img["id"]]
