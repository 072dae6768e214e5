"""Image names: one rule per API, the same on every route that sets a name
(ims_image_name_check). The IMS routes (PATCH /v2/cloudimages, copy, the
create/import bodies, images from servers and whole images) take the IMS
reference's names: 1 to 128 ASCII letters, digits, hyphens, periods,
underscores and spaces, no space at either end. The Glance routes (create,
PATCH) take Glance's: any text of at most 255 characters without control
characters. Before, the copy body took non-ASCII names the IMS PATCH refused."""
import uuid

import pytest

from helpers import active_image, create_image, patch, unique

CLOUDIMAGES = "/v2/cloudimages/action"
QUICK = "/v2/cloudimages/quickimport/action"
DATA = "/v1/cloudimages/dataimages/action"
WHOLE = "/v1/cloudimages/wholeimages/action"

# name, IMS answer (None: accepted), Glance answer (None: accepted)
NAMES = [
    ("plain-name_1.0 x", None, None),
    ("caf\u00e9", "IMG.0003", None),
    ("\u4e2d\u6587", "IMG.0003", None),
    ("x" * 129, "IMG.0002", None),
    ("\u00e9" * 129, "IMG.0002", None),
    ("a\u0001b", "IMG.0003", 400),
    ("x" * 256, "IMG.0002", 400),
    (" lead", "IMG.0003", None),
]


@pytest.fixture(scope="module")
def src(alice):
    return active_image(alice, name=unique("names-src"), visibility="private")


def file_body(name):
    return {"name": name, "image_url": "ims-image:centos70.qcow2", "os_version": "CentOS 7.0 64bit", "min_disk": 40}


def ims_routes(alice, src):
    """Each IMS route that sets a name, as a function of the name."""
    target = create_image(alice, name=unique("names-target"))
    return {
        "ims patch": lambda n: alice.patch("/v2/cloudimages/%s" % target["id"],
                                           json=[{"op": "replace", "path": "/name", "value": n}]),
        "copy": lambda n: alice.post("/v1/cloudimages/%s/copy" % src["id"], json={"name": n}),
        "create from file": lambda n: alice.post(CLOUDIMAGES, json=file_body(n)),
        "quick import": lambda n: alice.post(QUICK, json=dict(file_body(n), image_url="ims-image:c.zvhd2",
                                                              type="ECS")),
        "data image": lambda n: alice.post(DATA, json={"name": n, "image_url": "image-test:d.qcow2",
                                                       "min_disk": 40, "os_type": "Linux"}),
        "from server": lambda n: alice.post(CLOUDIMAGES, json={"name": n, "instance_id": str(uuid.uuid4())}),
        "whole image": lambda n: alice.post(WHOLE, json={"name": n, "instance_id": str(uuid.uuid4())}),
    }


def error_code(r):
    try:
        return r.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


@pytest.mark.parametrize("name,ims,glance", NAMES)
def test_every_ims_route_applies_the_same_name_rule(alice, src, name, ims, glance):
    for route, call in ims_routes(alice, src).items():
        r = call(name)
        if ims:
            assert r.status_code == 400 and error_code(r) == ims, (route, r.status_code, r.text)
        else:
            # accepted as a name: whatever else the route answers, it is not about the name
            assert error_code(r) not in ("IMG.0002", "IMG.0003", "IMG.0013"), (route, r.status_code, r.text)
            assert r.status_code < 500, (route, r.status_code, r.text)


@pytest.mark.parametrize("name,ims,glance", NAMES)
def test_glance_routes_apply_glances_name_rule(alice, name, ims, glance):
    r = alice.post("/v2/images", json={"name": name})
    assert r.status_code == (glance or 201), r.text
    img = create_image(alice, name=unique("names-g"))
    r = patch(alice, img["id"], [{"op": "replace", "path": "/name", "value": name}])
    assert r.status_code == (glance or 200), r.text
    if not glance:
        assert r.json()["name"] == name


def test_copy_refuses_the_non_ascii_name_ims_patch_refuses(alice, src):
    """The inconsistency that was: the copy took it, the PATCH did not."""
    r = alice.post("/v1/cloudimages/%s/copy" % src["id"], json={"name": "r\u00e9plica"})
    assert r.status_code == 400 and error_code(r) == "IMG.0003", r.text
    r = alice.post("/v1/cloudimages/%s/copy" % src["id"], json={"name": "x"})
    assert r.status_code == 200 and "job_id" in r.json(), r.text
