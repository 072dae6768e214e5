"""IAM authorization matrix, generated from spec/api-permissions.tsv.

Every row of the permission table becomes a set of cases (DESIGN.md
"Authorization"):

  (a) a user holding exactly the row's required actions, granted on its
      project, is allowed (the route's success status; 501 IMG.0105 for the
      IMS routes that are not built yet, which authorize first);
  (b) the same minus any one action -> 403 naming that action;
  (c) IMS FullAccess plus an explicit Deny of one required action -> 403;
  (d) the actions granted only on an enterprise project E: allowed iff the
      row's enterprise_project column is Y and the target (image, or the
      enterprise project named in the body) is in E;
  (e) users of another project / another account get 404 for the image and
      do not see it in the lists.

plus the table's conditional rows and the N/A rows.  The rows are read at
collection time; RECIPES says how to call each (method, path), and a test
fails when a row has no recipe.
"""
import re
import subprocess
import uuid
from pathlib import Path

import pytest

from helpers import (PATCH_21, Api, Iam, create_image, list_ids, policy_doc, unique)

TSV = Path(__file__).resolve().parents[2] / "spec" / "api-permissions.tsv"
ACTION_RE = re.compile(r"ims:[a-z*]+:[a-z*]+", re.I)


# ---------------------------------------------------------------- the table
def load_rows():
    header, rows = None, []
    for line in TSV.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if header is None:
            header = cells
            continue
        cells += [""] * (len(header) - len(cells))
        rows.append(Row(dict(zip(header, cells))))
    return rows


class Row:
    def __init__(self, d):
        self.d = d
        self.method, self.path = d["method"], d["path"]
        self.key = (self.method, self.path)
        self.actions = d["actions"].strip()
        self.condition = d["condition"].strip()
        self.notes = d["notes"].strip()
        self.na = self.actions == "N/A"
        self.ep = d["enterprise_project"].strip() == "Y"
        self.iam_project = d["iam_project"].strip() == "Y"
        # "a|b": the request selects one; "a+b": all, except the one the
        # condition column makes conditional.
        self.alternatives = self.actions.split("|") if "|" in self.actions else None
        self.required = [] if self.na or self.alternatives else self.actions.split("+")
        self.conditional = None
        if self.condition and len(self.required) > 1:
            cond = [a for a in self.required if self.condition.startswith(a)]
            assert len(cond) == 1, "cannot tell the conditional action of %s %s" % self.key
            self.conditional = cond[0]
        self.ep_default_only = "only for the default enterprise project" in self.notes
        # Glance 25's admin-only routes (tasks, metadata definition writes):
        # IAM is checked first, then the handler refuses all but the admin role.
        self.admin_only = "cloud administrators only" in self.notes
        # The notes' dependent permission, granted beside the row's actions,
        # on the project: object storage (the recipes name an OBS file), or
        # the backup service (the full-ECS recipe backs a server up into a
        # vault: cbr:vaults:backup).
        self.obs = ("obs:object:GetObject" if "OBS read permission" in self.notes else
                    "obs:object:PutObject" if "OBS write permission" in self.notes else
                    "cbr:vaults:backup" if "backup (CSBS/CBR) administrator permission" in self.notes else None)

    def cases(self):
        """(variant, actions) pairs: one per alternative for "a|b" rows."""
        if self.na:
            return []
        if self.alternatives:
            return [(a, [a]) for a in self.alternatives]
        return [(None, [a for a in self.required if a != self.conditional])]

    def __repr__(self):
        return "%s %s" % self.key


ROWS = load_rows()


def case_id(row, variant=None, extra=None):
    s = "%s %s" % row.key
    if variant:
        s += " [%s]" % variant
    if extra:
        s += " -" + extra
    return s


# ---------------------------------------------------------------- recipes
class Recipe:
    """How to call one route.

    build(w, caller, ep, variant) -> request dict (method, url, json, data,
    headers); ep is the enterprise project of the target image or the one
    named in the body.  ok: success statuses of an implemented route, None
    for the IMS routes that answer 501.  target: what the enterprise
    project check looks at -- "image", "body" (the request names it), "any"
    (no resource: any enterprise-project grant counts) or None.
    """

    def __init__(self, build, ok=None, target=None, ims=False):
        self.build, self.ok, self.target, self._ims = build, ok, target, ims

    @property
    def ims(self):
        """Answers with IMS error bodies (built IMS routes pass ims=True)."""
        return self.ok is None or self._ims


def rq(method, url, json=None, data=None, headers=None):
    return {"method": method, "url": url, "json": json, "data": data, "headers": headers or {}}


def data_put(where):
    """An upload (where="file") or a stage into a new queued image."""
    return Recipe(lambda w, c, ep, v: rq("PUT", "/v2/images/%s/%s" % (w.fresh(ep, disk_format="raw",
                                                                             container_format="bare")["id"], where),
                                         data=b"authz matrix image data\n",
                                         headers={"Content-Type": "application/octet-stream"}),
                  ok={204}, target="image")


def quick_body(variant, ep):
    b = {"name": unique("qi"), "os_version": "Ubuntu 20.04 server 64bit",
         "image_url": "bucket:disk.qcow2", "min_disk": 40, "enterprise_project_id": ep}
    if variant == "ims:dataImages:create":
        b["type"] = "DataImage"
    else:
        b["type"] = "ECS"
    return b


MD = "/v2/metadefs/namespaces"


def md_read(sub):
    """A read of the world's namespace (or of what it holds)."""
    return Recipe(lambda w, c, ep, v: rq("GET", w.ns() + sub), ok={200})


def md_write(method, sub, body=None, ok=204):
    """A write in a namespace of its own (a write changes or removes it)."""
    return Recipe(lambda w, c, ep, v: rq(method, w.ns(True) + sub, json=body), ok={ok})


def ns_update(url):
    return rq("PUT", url, json={"namespace": url.rsplit("/", 1)[1], "display_name": "matrix", "visibility": "public"})


RECIPES = {
    # ---- IMS image API
    ("GET", "/v2/cloudimages"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/cloudimages"), ok={200}, ims=True, target="any"),
    ("GET", "/v1/cloudimages/os_version"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v1/cloudimages/os_version"), ok={200}, ims=True),
    # IMS updates only active images
    ("PATCH", "/v2/cloudimages/{image_id}"): Recipe(
        lambda w, c, ep, v: rq("PATCH", "/v2/cloudimages/%s" % w.active(ep)["id"],
                               json=[{"op": "replace", "path": "/name", "value": unique("n")}]),
        ok={200}, ims=True, target="image"),
    ("POST", "/v2/cloudimages/action"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/cloudimages/action",
                               json={"name": unique("si"), "instance_id": str(uuid.uuid4()),
                                     "enterprise_project_id": ep}),
        # allowed: the request reaches the server lookup (no such server, IMG.0005)
        ok={400}, ims=True, target="body"),
    # the object-storage calls: allowed means a job (the world's bucket
    # holds the files they name)
    ("POST", "/v2/cloudimages/quickimport/action"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/cloudimages/quickimport/action", json=quick_body(v, ep)),
        ok={200}, ims=True, target="body"),
    ("POST", "/v1/cloudimages/dataimages/action"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v1/cloudimages/dataimages/action",
                               json={"name": unique("di"), "image_url": "bucket:data.qcow2",
                                     "min_disk": 40, "os_type": "Linux",
                                     "enterprise_project_id": ep}),
        ok={200}, ims=True, target="body"),
    ("POST", "/v1/cloudimages/wholeimages/action"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v1/cloudimages/wholeimages/action",
                               json={"name": unique("wi"), "instance_id": str(uuid.uuid4()),
                                     "vault_id": str(uuid.uuid4()), "enterprise_project_id": ep}),
        # allowed: the request reaches the server lookup (no such server, IMG.0005)
        ok={400}, ims=True, target="body"),
    # a registration makes its image active: a fresh queued one each time
    ("PUT", "/v1/cloudimages/{image_id}/upload"): Recipe(
        lambda w, c, ep, v: rq("PUT", "/v1/cloudimages/%s/upload" % w.fresh(ep)["id"],
                               json={"image_url": "bucket:disk.qcow2"}),
        ok={200}, ims=True, target="image"),
    # an export never overwrites: a new object name each time
    ("POST", "/v1/cloudimages/{image_id}/file"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v1/cloudimages/%s/file" % w.active(ep)["id"],
                               json={"bucket_url": "bucket:%s.qcow2" % unique("export"),
                                     "file_format": "qcow2"}),
        ok={200}, ims=True, target="image"),
    ("POST", "/v1/cloudimages/{image_id}/copy"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v1/cloudimages/%s/copy" % w.active(ep)["id"],
                               json={"name": unique("copy")}),
        ok={200}, ims=True, target="image"),
    ("GET", "/v1/cloudimages/quota"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v1/cloudimages/quota"), ok={200}, ims=True, target="any"),

    # ---- native OpenStack Image API
    ("GET", "/v2/images"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/images"), ok={200}),
    ("GET", "/v2/images/{image_id}"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/images/%s" % w.image(ep)["id"]), ok={200}, target="image"),
    ("PATCH", "/v2/images/{image_id}"): Recipe(
        lambda w, c, ep, v: rq("PATCH", "/v2/images/%s" % w.image(ep)["id"],
                               json=[{"op": "replace", "path": "/min_ram", "value": 64}],
                               headers={"Content-Type": PATCH_21}),
        ok={200}, target="image"),
    ("DELETE", "/v2/images/{image_id}"): Recipe(
        lambda w, c, ep, v: rq("DELETE", "/v2/images/%s" % w.fresh(ep)["id"]), ok={204}, target="image"),
    ("POST", "/v2/images"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/images", json={"name": unique("new"),
                                                           "enterprise_project_id": ep}),
        ok={201}, target="body"),
    ("PUT", "/v2/images/{image_id}/file"): data_put("file"),
    ("GET", "/"): Recipe(lambda w, c, ep, v: rq("GET", "/"), ok={300}),
    ("GET", "/v1.1/images/detail"): Recipe(lambda w, c, ep, v: rq("GET", "/v1.1/images/detail"), ok={200}),
    ("HEAD", "/v1/images/{image_id}"): Recipe(
        lambda w, c, ep, v: rq("HEAD", "/v1/images/%s" % w.image(ep)["id"]), ok={200}, target="image"),
    ("DELETE", "/v1.1/images/{image_id}"): Recipe(
        lambda w, c, ep, v: rq("DELETE", "/v1.1/images/%s" % w.fresh(ep)["id"]), ok={200, 204},
        target="image"),

    # ---- tags
    ("PUT", "/v2/images/{image_id}/tags/{tag}"): Recipe(
        lambda w, c, ep, v: rq("PUT", "/v2/images/%s/tags/%s" % (w.image(ep)["id"], "matrix")),
        ok={204}, target="image"),
    ("DELETE", "/v2/images/{image_id}/tags/{tag}"): Recipe(
        lambda w, c, ep, v: rq("DELETE", "/v2/images/%s/tags/%s" % (w.fresh(ep, tags=["gone"])["id"],
                                                                    "gone")),
        ok={204}, target="image"),
    ("PUT", "/v1/cloudimages/tags"): Recipe(
        lambda w, c, ep, v: rq("PUT", "/v1/cloudimages/tags",
                               json={"image_id": w.image(ep)["id"], "tag": "key.value"}),
        ok={204}, ims=True, target="image"),
    ("GET", "/v1/cloudimages/tags"): Recipe(lambda w, c, ep, v: rq("GET", "/v1/cloudimages/tags"),
                                            ok={200}, ims=True),
    ("POST", "/v2/{project_id}/images/resource_instances/action"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/%s/images/resource_instances/action" % c.project_id,
                               json={"action": "filter", "tags": [{"key": "k", "values": ["v"]}]}),
        ok={200}, ims=True),
    ("POST", "/v2/{project_id}/images/{image_id}/tags/action"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/%s/images/%s/tags/action" % (c.project_id, w.image(ep)["id"]),
                               json={"action": "create", "tags": [{"key": "k", "value": "v"}]}),
        ok={204}, ims=True, target="image"),
    ("POST", "/v2/{project_id}/images/{image_id}/tags"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/%s/images/%s/tags" % (c.project_id, w.image(ep)["id"]),
                               json={"tag": {"key": "k", "value": "v"}}),
        ok={204}, ims=True, target="image"),
    ("DELETE", "/v2/{project_id}/images/{image_id}/tags/{key}"): Recipe(
        lambda w, c, ep, v: rq("DELETE", "/v2/%s/images/%s/tags/k" % (c.project_id,
                                                                     w.fresh(ep, tags=["k=v"])["id"])),
        ok={204}, ims=True, target="image"),
    ("GET", "/v2/{project_id}/images/{image_id}/tags"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/%s/images/%s/tags" % (c.project_id, w.image(ep)["id"])),
        ok={200}, ims=True, target="image"),
    ("GET", "/v2/{project_id}/images/tags"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/%s/images/tags" % c.project_id), ok={200}, ims=True),

    # ---- sharing
    ("POST", "/v2/images/{image_id}/members"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/images/%s/members" % w.fresh(ep, visibility="shared")["id"],
                               json={"member": w.qid}),
        ok={200}, target="image"),
    # the member (the matrix users' project) accepts an image another project shares with it
    ("PUT", "/v2/images/{image_id}/members/{member_id}"): Recipe(
        lambda w, c, ep, v: rq("PUT", "/v2/images/%s/members/%s" % (w.incoming(ep)["id"], w.pid),
                               json={"status": "accepted"}),
        ok={200}, target="image"),
    ("GET", "/v2/images/{image_id}/members/{member_id}"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/images/%s/members/%s" % (w.shared(ep)["id"], w.qid)),
        ok={200}, target="image"),
    ("GET", "/v2/images/{image_id}/members"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/images/%s/members" % w.shared(ep)["id"]),
        ok={200}, target="image"),
    ("DELETE", "/v2/images/{image_id}/members/{member_id}"): Recipe(
        lambda w, c, ep, v: rq("DELETE", "/v2/images/%s/members/%s" % (w.shared(ep, fresh=True)["id"],
                                                                       w.qid)),
        ok={204}, target="image"),
    ("POST", "/v1/cloudimages/members"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v1/cloudimages/members",
                               json={"images": [w.image(ep)["id"]], "projects": [w.qid]}),
        ok={200}, ims=True, target="image"),
    ("PUT", "/v1/cloudimages/members"): Recipe(
        lambda w, c, ep, v: rq("PUT", "/v1/cloudimages/members",
                               json={"images": [w.incoming(ep)["id"]], "project_id": w.pid,
                                     "status": "accepted"}),
        ok={200}, ims=True, target="image"),
    ("DELETE", "/v1/cloudimages/members"): Recipe(
        lambda w, c, ep, v: rq("DELETE", "/v1/cloudimages/members",
                               json={"images": [w.image(ep)["id"]], "projects": [w.qid]}),
        ok={200}, ims=True, target="image"),

    # ---- schemas (N/A)
    ("GET", "/v2/schemas/image"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/schemas/image"), ok={200}),
    ("GET", "/v2/schemas/images"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/schemas/images"), ok={200}),
    ("GET", "/v2/schemas/member"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/schemas/member"), ok={200}),
    ("GET", "/v2/schemas/members"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/schemas/members"), ok={200}),

    # ---- the native routes the reference's tables do not list
    ("POST", "/v2/images/{image_id}/actions/deactivate"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/images/%s/actions/deactivate" % w.with_data(ep)["id"]),
        ok={204}, target="image"),
    ("POST", "/v2/images/{image_id}/actions/reactivate"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/images/%s/actions/reactivate" % w.with_data(ep)["id"]),
        ok={204}, target="image"),
    ("GET", "/v2/images/{image_id}/file"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/images/%s/file" % w.active(ep)["id"]), ok={200}, target="image"),
    ("PUT", "/v2/images/{image_id}/stage"): data_put("stage"),
    ("POST", "/v2/images/{image_id}/import"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/images/%s/import" % w.with_data(ep, "stage")["id"],
                               json={"method": {"name": "glance-direct"}}),
        ok={202}, target="image"),
    ("GET", "/v2/info/import"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/info/import"), ok={200}),
    ("GET", "/v2/info/stores"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/info/stores"), ok={200}),
    # one store in this world: Glance answers 404 without enabled_backends (test_stores.py deletes for real)
    ("DELETE", "/v2/stores/{store_id}/{image_id}"): Recipe(
        lambda w, c, ep, v: rq("DELETE", "/v2/stores/file/%s" % w.active(ep)["id"]), ok={404}, target="image"),
    # [images] location_api is off in this world: Glance 25 has no such route, 404 (test_locations.py
    # switches it on)
    ("POST", "/v2/images/{image_id}/locations"): Recipe(
        lambda w, c, ep, v: rq("POST", "/v2/images/%s/locations" % w.fresh(ep)["id"],
                               json={"url": "s3://nothing"}), ok={404}, target="image"),
    ("GET", "/v2/images/{image_id}/locations"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/images/%s/locations" % w.active(ep)["id"]), ok={404}, target="image"),
    ("GET", "/v2/images/{image_id}/tasks"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/images/%s/tasks" % w.image(ep)["id"]), ok={200}, target="image"),
    ("GET", "/v2/tasks"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/tasks"), ok={200}),
    ("GET", "/v2/tasks/{task_id}"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/tasks/%s" % w.task()), ok={200}),
    ("GET", "/v2/schemas/task"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/schemas/task"), ok={200}),
    ("GET", "/v2/schemas/tasks"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/schemas/tasks"), ok={200}),
    ("GET", "/v2/schemas/metadefs/{name}"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/schemas/metadefs/namespace"), ok={200}),

    # ---- metadata definitions: reads take list; writes are the admin role's
    ("GET", MD): md_read(""),
    ("POST", MD): Recipe(lambda w, c, ep, v: rq("POST", MD, json={"namespace": unique("OS::Mx::n")}), ok={201}),
    ("GET", MD + "/{namespace}"): md_read(""),
    ("PUT", MD + "/{namespace}"): Recipe(lambda w, c, ep, v: ns_update(w.ns(True)), ok={200}),
    ("DELETE", MD + "/{namespace}"): md_write("DELETE", ""),
    ("GET", MD + "/{namespace}/objects"): md_read("/objects"),
    ("POST", MD + "/{namespace}/objects"): md_write("POST", "/objects", {"name": "o2"}, 201),
    ("DELETE", MD + "/{namespace}/objects"): md_write("DELETE", "/objects"),
    ("GET", MD + "/{namespace}/objects/{object_name}"): md_read("/objects/o"),
    ("PUT", MD + "/{namespace}/objects/{object_name}"): md_write("PUT", "/objects/o",
                                                                 {"name": "o", "description": "d"}, 200),
    ("DELETE", MD + "/{namespace}/objects/{object_name}"): md_write("DELETE", "/objects/o"),
    ("GET", MD + "/{namespace}/properties"): md_read("/properties"),
    ("POST", MD + "/{namespace}/properties"): md_write("POST", "/properties",
                                                       {"name": "p2", "title": "P2", "type": "string"}, 201),
    ("DELETE", MD + "/{namespace}/properties"): md_write("DELETE", "/properties"),
    ("GET", MD + "/{namespace}/properties/{property_name}"): md_read("/properties/p"),
    ("PUT", MD + "/{namespace}/properties/{property_name}"): md_write(
        "PUT", "/properties/p", {"name": "p", "title": "P again", "type": "string"}, 200),
    ("DELETE", MD + "/{namespace}/properties/{property_name}"): md_write("DELETE", "/properties/p"),
    ("GET", MD + "/{namespace}/tags"): md_read("/tags"),
    ("POST", MD + "/{namespace}/tags"): md_write("POST", "/tags", {"tags": [{"name": "t2"}]}, 201),
    ("DELETE", MD + "/{namespace}/tags"): md_write("DELETE", "/tags"),
    ("GET", MD + "/{namespace}/tags/{tag_name}"): md_read("/tags/t"),
    ("POST", MD + "/{namespace}/tags/{tag_name}"): md_write("POST", "/tags/t3", None, 201),
    ("PUT", MD + "/{namespace}/tags/{tag_name}"): md_write("PUT", "/tags/t", {"name": "t4"}, 200),
    ("DELETE", MD + "/{namespace}/tags/{tag_name}"): md_write("DELETE", "/tags/t"),
    ("GET", "/v2/metadefs/resource_types"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v2/metadefs/resource_types"), ok={200}),
    ("GET", MD + "/{namespace}/resource_types"): md_read("/resource_types"),
    ("POST", MD + "/{namespace}/resource_types"): md_write("POST", "/resource_types", {"name": "OS::Nova::Flavor"},
                                                           201),
    ("DELETE", MD + "/{namespace}/resource_types/{resource_type}"): md_write("DELETE",
                                                                            "/resource_types/OS::Glance::Image"),

    # ---- Glance's cache API: cloud administrators only (the admin's calls: test_image_cache.py too)
    ("GET", "/v2/cache"): Recipe(lambda w, c, ep, v: rq("GET", "/v2/cache"), ok={200}),
    ("DELETE", "/v2/cache"): Recipe(lambda w, c, ep, v: rq("DELETE", "/v2/cache"), ok={204}),
    ("PUT", "/v2/cache/{image_id}"): Recipe(
        lambda w, c, ep, v: rq("PUT", "/v2/cache/%s" % w.active(ep)["id"]), ok={202}, target="image"),
    ("DELETE", "/v2/cache/{image_id}"): Recipe(
        lambda w, c, ep, v: rq("DELETE", "/v2/cache/%s" % w.image(ep)["id"]), ok={204}, target="image"),

    # ---- jobs (N/A; not built yet)
    ("GET", "/v1/{project_id}/jobs/{job_id}"): Recipe(
        lambda w, c, ep, v: rq("GET", "/v1/%s/jobs/%s" % (c.project_id, uuid.uuid4().hex))),
}

# Rows whose condition / notes need their own tests (below); a new conditional
# row must get one too.
CONDITIONAL_TESTS = {
    ("PATCH", "/v2/cloudimages/{image_id}"): "test_cond_patch_moving_enterprise_project",
    ("POST", "/v2/cloudimages/quickimport/action"): "test_cond_quickimport_type_selects_action",
    ("POST", "/v1/cloudimages/{image_id}/copy"): "test_cond_copy_into_enterprise_project",
    ("PUT", "/v1/cloudimages/{image_id}/upload"): "test_cond_upload_registration_default_ep_only",
}


# ---------------------------------------------------------------- the world
class World:
    """Project P (the matrix users log in to it, its owner makes the images),
    project Q (a sharing partner), enterprise projects E and E2, and a
    cache of users keyed by their grants."""

    def __init__(self, srv):
        self.srv = srv
        self.iam = Iam(srv)
        self.P = unique("mx-p")
        self.pid = self.iam.ctl("project", "create", self.P)
        self.owner = self.iam.user(self.P, role="member")     # Tenant Administrator on P
        self.Q = unique("mx-q")
        self.qid = self.iam.ctl("project", "create", self.Q)
        self.qowner = self.iam.user(self.Q, role="member")
        # the bucket the object-storage calls name, with their files
        srv.imsctl("obs", "mb", "bucket")
        disk = srv.root / "matrix-disk.qcow2"
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(disk), "1M"], check=True)
        for key in ("disk.qcow2", "data.qcow2"):
            srv.imsctl("obs", "put", "bucket", key, str(disk))
        self.E = self.iam.ctl("ep", "create", unique("mx-ep"))
        self.E2 = self.iam.ctl("ep", "create", unique("mx-ep2"))
        self._images = {}
        self._users = {}
        self.admin = srv.admin()                             # a cloud administrator (the admin role)
        self.sessions = [self.owner, self.qowner, self.admin]

    # images ----------------------------------------------------------
    def fresh(self, ep="0", owner=None, **attrs):
        attrs.setdefault("visibility", "private")
        if ep != "0":
            attrs["enterprise_project_id"] = ep
        img = create_image(owner or self.owner, **attrs)
        assert img["enterprise_project_id"] == ep, img
        return img

    def image(self, ep="0"):
        """A private image of P in `ep` (shared by the read-only cases)."""
        k = ("private", ep)
        if k not in self._images:
            self._images[k] = self.fresh(ep)
        return self._images[k]

    def active(self, ep="0"):
        """A private image of P in `ep` with data (a copy needs an active source)."""
        k = ("active", ep)
        if k not in self._images:
            img = self.fresh(ep, disk_format="raw", container_format="bare")
            r = self.owner.put("/v2/images/%s/file" % img["id"], data=b"matrix copy source\n",
                               headers={"Content-Type": "application/octet-stream"})
            assert r.status_code == 204, r.text
            self._images[k] = img
        return self._images[k]

    def shared(self, ep="0", fresh=False):
        """An image of P shared with Q."""
        k = ("shared", ep)
        if fresh or k not in self._images:
            img = self.fresh(ep, visibility="shared")
            r = self.owner.post("/v2/images/%s/members" % img["id"], json={"member": self.qid})
            assert r.status_code == 200, r.text
            if fresh:
                return img
            self._images[k] = img
        return self._images[k]

    def incoming(self, ep="0"):
        """An image of Q shared with P (P may accept it)."""
        k = ("incoming", ep)
        if k not in self._images:
            img = self.fresh(ep, owner=self.qowner, visibility="shared")
            r = self.qowner.post("/v2/images/%s/members" % img["id"], json={"member": self.pid})
            assert r.status_code == 200, r.text
            self._images[k] = img
        return self._images[k]

    def with_data(self, ep="0", where="file"):
        """A new private image of P in `ep` with data uploaded (where="file":
        deactivation changes it) or staged (where="stage": an import takes it)."""
        img = self.fresh(ep, disk_format="raw", container_format="bare")
        r = self.owner.put("/v2/images/%s/%s" % (img["id"], where), data=b"matrix data\n",
                           headers={"Content-Type": "application/octet-stream"})
        assert r.status_code == 204, r.text
        return img

    def task(self):
        """The id of an import task of P's (the task API's target)."""
        if "task" not in self._images:
            img = self.with_data(where="stage")
            r = self.owner.post("/v2/images/%s/import" % img["id"], json={"method": {"name": "glance-direct"}})
            assert r.status_code == 202, r.text
            r = self.owner.get("/v2/images/%s/tasks" % img["id"])
            assert r.status_code == 200 and r.json()["tasks"], r.text
            self._images["task"] = r.json()["tasks"][0]["id"]
        return self._images["task"]

    def ns(self, fresh=False):
        """The URL of a public metadata definition namespace with an object
        o, a property p, a tag t and the OS::Glance::Image association (a
        new one for each write: a write changes or removes it)."""
        if fresh or "ns" not in self._images:
            name = unique("OS::Mx::n")
            r = self.admin.post(MD, json={"namespace": name, "visibility": "public", "objects": [{"name": "o"}],
                                          "properties": {"p": {"title": "P", "type": "string"}},
                                          "tags": [{"name": "t"}],
                                          "resource_type_associations": [{"name": "OS::Glance::Image"}]})
            assert r.status_code == 201, r.text
            if fresh:
                return "%s/%s" % (MD, name)
            self._images["ns"] = "%s/%s" % (MD, name)
        return self._images["ns"]

    # users -----------------------------------------------------------
    def user(self, grants):
        """A user of P holding exactly `grants` ((policy, scope) pairs)."""
        key = tuple((p if isinstance(p, str) else repr(sorted(p["Statement"][0].items())), s)
                    for p, s in grants)
        if key not in self._users:
            api = self.iam.user(self.P, list(grants))
            self.sessions.append(api)
            self._users[key] = api
        return self._users[key]

    def exact(self, actions, scope="project", obs=None):
        actions = sorted(set(actions))
        grants = [(policy_doc("Allow", actions), scope)] if actions else []
        if obs:
            grants.append((policy_doc("Allow", [obs]), "project"))
        return self.user(grants)

    def full_but(self, action, obs=None):
        grants = [("IMS FullAccess", "project"), (policy_doc("Deny", [action]), "project")]
        if obs:
            grants.append((policy_doc("Allow", [obs]), "project"))
        return self.user(grants)


@pytest.fixture(scope="module")
def world(module_imsd):
    w = World(module_imsd())
    yield w
    for s in w.sessions:
        s.close()


@pytest.fixture(scope="module")
def strangers(world):
    """Tenant Administrators of another project and of another account."""
    oname = unique("mx-o")
    world.iam.ctl("project", "create", oname)
    other = world.iam.user(oname, role="member")
    dom = unique("mx-dom")
    world.iam.ctl("domain", "create", dom)
    fiam = Iam(world.srv, domain=dom)
    fname = unique("mx-f")
    fiam.ctl("project", "create", fname)
    foreign = fiam.user(fname, role="member")
    world.sessions += [other, foreign]
    return {"other-project": other, "other-account": foreign}


# ---------------------------------------------------------------- calling
def send(api, req):
    kw = {"headers": req["headers"]}
    if req["json"] is not None:
        kw["json"] = req["json"]
    if req["data"] is not None:
        kw["data"] = req["data"]
    return api.request(req["method"], req["url"], **kw)


def call(world, api, row, ep="0", variant=None):
    req = RECIPES[row.key].build(world, api, ep, variant)
    return req, send(api, req)


def show(req, r):
    return "%s %s -> %s %s" % (req["method"], req["url"], r.status_code, r.text[:300])


def assert_allowed(row, req, r):
    rec = RECIPES[row.key]
    if row.admin_only:
        # IAM let it through; Glance's admin rule refuses it, naming no IAM action
        assert r.status_code == 403, "expected the admin rule's 403: " + show(req, r)
        assert not ACTION_RE.search(r.text), "refused by IAM, not by the admin rule: " + show(req, r)
        return
    if rec.ok is None:
        assert r.status_code == 501, "expected allowed (501): " + show(req, r)
        assert r.json()["error"]["code"] == "IMG.0105", show(req, r)
    else:
        assert r.status_code in rec.ok, "expected allowed %s: %s" % (sorted(rec.ok), show(req, r))


def assert_denied(row, req, r, action=None):
    assert r.status_code == 403, "expected 403%s: %s" % (
        " naming %s" % action if action else "", show(req, r))
    if req["method"] == "HEAD":
        return
    body = r.json()
    if RECIPES[row.key].ims:
        assert body["error"]["code"] == "IMG.0026", show(req, r)
        msg = body["error"]["message"]
    else:
        assert {"code", "title", "message"} <= set(body), show(req, r)
        msg = body["message"]
    if action:
        assert action.lower() in msg.lower(), "403 does not name %s: %s" % (action, msg)
    else:
        assert ACTION_RE.search(msg), "403 names no action: %s" % msg


# ---------------------------------------------------------------- parameters
def _cases():
    return [pytest.param(row, variant, actions, id=case_id(row, variant))
            for row in ROWS for variant, actions in row.cases()]


def _minus_one():
    return [pytest.param(row, variant, actions, a, id=case_id(row, variant, "no " + a))
            for row in ROWS for variant, actions in row.cases() for a in actions]


def _ep_sides():
    out = []
    for row in ROWS:
        rec = RECIPES.get(row.key)
        if rec is None:
            continue
        sides = ["in-E", "in-0"] if rec.target in ("image", "body") else ["none"]
        for variant, actions in row.cases():
            for side in sides:
                out.append(pytest.param(row, variant, actions, side, id=case_id(row, variant, side)))
    return out


def _image_rows():
    return [pytest.param(row, who, id=case_id(row, None, who))
            for row in ROWS if "{image_id}" in row.path
            for who in ("other-project", "other-account")]


def _na_rows():
    return [pytest.param(row, id=case_id(row)) for row in ROWS if row.na]


# ---------------------------------------------------------------- coverage
def test_table_is_read():
    assert len(ROWS) >= 40, "spec/api-permissions.tsv: only %d rows" % len(ROWS)
    for row in ROWS:
        assert row.method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"), row
        assert row.path.startswith("/"), row
        assert row.na or all(ACTION_RE.fullmatch(a) for a in
                             (row.alternatives or row.required)), row


def test_every_row_has_a_recipe():
    missing = [r.key for r in ROWS if r.key not in RECIPES]
    assert not missing, "rows of %s without a recipe in RECIPES: %s" % (TSV.name, missing)
    stale = set(RECIPES) - {r.key for r in ROWS}
    assert not stale, "recipes for routes not in the table: %s" % sorted(stale)
    special = [r.key for r in ROWS if r.conditional or r.alternatives or r.ep_default_only]
    uncovered = [k for k in special if k not in CONDITIONAL_TESTS]
    assert not uncovered, "conditional rows without their own test: %s" % uncovered
    for k, name in CONDITIONAL_TESTS.items():
        assert name in globals(), name


# ---------------------------------------------------------------- (a) (b) (c)
@pytest.mark.parametrize("row,variant,actions", _cases())
def test_a_exact_actions_allowed(world, row, variant, actions):
    api = world.exact(actions, obs=row.obs)
    req, r = call(world, api, row, variant=variant)
    assert_allowed(row, req, r)


@pytest.mark.parametrize("row", [pytest.param(r, id=case_id(r)) for r in ROWS if r.admin_only and not r.na])
def test_a_admin_only_rows_allow_the_admin_role(world, row):
    """(a) for Glance's admin-only routes: the admin role passes both IAM and
    the handler's rule."""
    req, r = call(world, world.admin, row)
    assert r.status_code in RECIPES[row.key].ok, show(req, r)


@pytest.mark.parametrize("row,variant,actions,missing", _minus_one())
def test_b_missing_one_action_denied(world, row, variant, actions, missing):
    api = world.exact([a for a in actions if a != missing], obs=row.obs)
    req, r = call(world, api, row, variant=variant)
    assert_denied(row, req, r, missing)


@pytest.mark.parametrize("row,variant,actions,missing", _minus_one())
def test_c_fullaccess_with_explicit_deny(world, row, variant, actions, missing):
    api = world.full_but(missing, obs=row.obs)
    req, r = call(world, api, row, variant=variant)
    assert_denied(row, req, r, missing)


def test_c_fullaccess_alone_allows(world):
    """Sanity for (c): IMS FullAccess without the Deny passes a few routes."""
    api = world.user([("IMS FullAccess", "project")])
    for key in [("GET", "/v2/images/{image_id}"), ("PATCH", "/v2/images/{image_id}"),
                ("PUT", "/v2/images/{image_id}/file"), ("GET", "/v1/cloudimages/quota"),
                ("POST", "/v1/cloudimages/{image_id}/copy")]:
        row = next(r for r in ROWS if r.key == key)
        req, r = call(world, api, row)
        assert_allowed(row, req, r)


# ---------------------------------------------------------------- (d)
@pytest.mark.parametrize("row,variant,actions,side", _ep_sides())
def test_d_enterprise_project_grant(world, row, variant, actions, side):
    api = world.exact(actions, scope="ep:" + world.E, obs=row.obs)
    ep = world.E if side == "in-E" else "0"
    req, r = call(world, api, row, ep=ep, variant=variant)
    allowed = row.ep and not row.ep_default_only and side in ("in-E", "none")
    if allowed:
        assert_allowed(row, req, r)
    else:
        assert_denied(row, req, r)


def test_d_list_returns_only_granted_enterprise_project(world):
    """GET /v2/images is 'x': an enterprise-project grant of list does not
    authorize it; a project grant lists both enterprise projects."""
    in_e, in_0 = world.image(world.E), world.image("0")
    api = world.exact(["ims:images:list"], scope="ep:" + world.E)
    assert api.get("/v2/images").status_code == 403
    proj = world.exact(["ims:images:list"])
    ids = list_ids(proj, limit=1000)
    assert in_e["id"] in ids and in_0["id"] in ids


# ---------------------------------------------------------------- (e)
@pytest.mark.parametrize("row,who", _image_rows())
def test_e_other_project_gets_404(world, strangers, row, who):
    api = strangers[who]
    req, r = call(world, api, row)
    if row.admin_only:
        # refused for the role before the image is looked up: says nothing of it
        assert_allowed(row, req, r)
    elif RECIPES[row.key].ims:
        # IMS routes: IMG.0027 "image ID does not exist" (400 in the IMS error
        # table), or 501 where the route does not look the image up yet --
        # never a 403 or anything else that says the image exists.
        if r.status_code != 501:
            assert r.status_code in (400, 404), show(req, r)
            assert r.json()["error"]["code"] == "IMG.0027", show(req, r)
    else:
        assert r.status_code == 404, "expected 404: " + show(req, r)


@pytest.mark.parametrize("who", ["other-project", "other-account"])
def test_e_other_project_does_not_list(world, strangers, who):
    api = strangers[who]
    mine = {world.image("0")["id"], world.image(world.E)["id"], world.shared("0")["id"]}
    ids = set(list_ids(api, limit=1000))
    assert not mine & ids
    r = api.get("/v1.1/images/detail")
    assert r.status_code == 200, r.text
    assert not mine & {i["id"] for i in r.json()["images"]}
    # the owner does see them
    assert mine <= set(list_ids(world.owner, limit=1000))


# ---------------------------------------------------------------- N/A rows
@pytest.mark.parametrize("row", _na_rows())
def test_na_rows_need_only_a_token(world, row):
    nobody = world.exact([])                      # valid token, no permissions at all
    anon = Api(world.srv.url)
    try:
        req, r = call(world, nobody, row)
        req_anon = RECIPES[row.key].build(world, nobody, "0", None)
        ra = send(anon, req_anon)
    finally:
        anon.close()
    if row.admin_only:
        assert_allowed(row, req, r)
        req, r = call(world, world.admin, row)
        assert r.status_code in RECIPES[row.key].ok, "the admin role: " + show(req, r)
    else:
        assert r.status_code not in (401, 403), show(req, r)
        if RECIPES[row.key].ok:
            assert r.status_code in RECIPES[row.key].ok, show(req, r)
    if row.path == "/":
        assert ra.status_code == 300, show(req_anon, ra)
        with Api(world.srv.url) as a2:
            rv = a2.get("/v2")
            assert rv.status_code < 400, "GET /v2 anonymous: %s %s" % (rv.status_code, rv.text[:200])
    else:
        assert ra.status_code == 401, show(req_anon, ra)


# ---------------------------------------------------------------- conditional rows
def row_of(key):
    return next(r for r in ROWS if r.key == key)


def test_cond_patch_moving_enterprise_project(world):
    row = row_of(("PATCH", "/v2/cloudimages/{image_id}"))
    # an active image of its own: the moves below really move it
    img = world.fresh("0", disk_format="raw", container_format="bare")
    r = world.owner.put("/v2/images/%s/file" % img["id"], data=b"matrix move\n",
                        headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 204, r.text
    url = "/v2/cloudimages/%s" % img["id"]

    def move(api, to):
        req = rq("PATCH", url, json=[{"op": "replace", "path": "/enterprise_project_id", "value": to}])
        return req, send(api, req)

    upd = world.exact(["ims:images:update"])
    both = world.exact(["ims:images:update", "ims:serverImages:create"])
    # no move: update alone
    req, r = move(upd, "0")
    assert_allowed(row, req, r)
    # a move needs ims:serverImages:create too
    req, r = move(upd, world.E2)
    assert_denied(row, req, r, "ims:serverImages:create")
    req, r = move(both, world.E2)
    assert_allowed(row, req, r)
    assert r.json()["enterprise_project_id"] == world.E2

    def back():
        req, r = move(both, "0")
        assert_allowed(row, req, r)

    back()
    # ... where the image goes: create granted only on E2
    there = world.user([(policy_doc("Allow", ["ims:images:update"]), "project"),
                        (policy_doc("Allow", ["ims:serverImages:create"]), "ep:" + world.E2)])
    req, r = move(there, world.E2)
    assert_allowed(row, req, r)
    back()
    req, r = move(there, world.E)
    assert_denied(row, req, r, "ims:serverImages:create")
    # FullAccess with create denied may rename but not move
    deny = world.full_but("ims:serverImages:create")
    req, r = move(deny, world.E2)
    assert_denied(row, req, r, "ims:serverImages:create")
    req, r = call(world, deny, row)
    assert_allowed(row, req, r)


def test_cond_quickimport_type_selects_action(world):
    row = row_of(("POST", "/v2/cloudimages/quickimport/action"))
    server = world.exact(["ims:serverImages:create"], obs=row.obs)
    data = world.exact(["ims:dataImages:create"], obs=row.obs)

    def go(api, typ):
        body = quick_body(None, "0")
        if typ is None:
            del body["type"]
        else:
            body["type"] = typ
        req = rq("POST", "/v2/cloudimages/quickimport/action", json=body)
        return req, send(api, req)

    for typ in ("ECS", "BMS", None):
        req, r = go(server, typ)
        assert_allowed(row, req, r)
        req, r = go(data, typ)
        assert_denied(row, req, r, "ims:serverImages:create")
    req, r = go(data, "DataImage")
    assert_allowed(row, req, r)
    req, r = go(server, "DataImage")
    assert_denied(row, req, r, "ims:dataImages:create")
    # FullAccess minus one kind
    req, r = go(world.full_but("ims:dataImages:create", obs=row.obs), "ECS")
    assert_allowed(row, req, r)
    req, r = go(world.full_but("ims:dataImages:create", obs=row.obs), "DataImage")
    assert_denied(row, req, r, "ims:dataImages:create")


def test_cond_copy_into_enterprise_project(world):
    row = row_of(("POST", "/v1/cloudimages/{image_id}/copy"))
    url = "/v1/cloudimages/%s/copy" % world.active("0")["id"]

    def go(api, ep=None):
        body = {"name": unique("copy")}
        if ep is not None:
            body["enterprise_project_id"] = ep
        req = rq("POST", url, json=body)
        return req, send(api, req)

    copy = world.exact(["ims:images:copy"])
    both = world.exact(["ims:images:copy", "ims:serverImages:create"])
    req, r = go(copy)
    assert_allowed(row, req, r)
    req, r = go(copy, world.E)
    assert_denied(row, req, r, "ims:serverImages:create")
    req, r = go(both, world.E)
    assert_allowed(row, req, r)
    # create granted only on E: copies may go to E, not to E2
    there = world.user([(policy_doc("Allow", ["ims:images:copy"]), "project"),
                        (policy_doc("Allow", ["ims:serverImages:create"]), "ep:" + world.E)])
    req, r = go(there, world.E)
    assert_allowed(row, req, r)
    req, r = go(there, world.E2)
    assert_denied(row, req, r, "ims:serverImages:create")


def test_cond_upload_registration_default_ep_only(world):
    row = row_of(("PUT", "/v1/cloudimages/{image_id}/upload"))
    assert row.ep and row.ep_default_only

    def go(api, ep):
        req = rq("PUT", "/v1/cloudimages/%s/upload" % world.fresh(ep)["id"],
                 json={"image_url": "bucket:disk.qcow2"})
        return req, send(api, req)

    on0 = world.exact(["ims:images:upload"], scope="ep:0", obs=row.obs)
    req, r = go(on0, "0")
    assert_allowed(row, req, r)
    req, r = go(on0, world.E)
    assert_denied(row, req, r)
    onE = world.exact(["ims:images:upload"], scope="ep:" + world.E, obs=row.obs)
    req, r = go(onE, world.E)
    assert_denied(row, req, r)
    req, r = go(onE, "0")
    assert_denied(row, req, r)
    # a project grant covers every enterprise project
    proj = world.exact(["ims:images:upload"], obs=row.obs)
    req, r = go(proj, world.E)
    assert_allowed(row, req, r)
    # contrast: another Y row honours the E grant for images in E
    exp = row_of(("POST", "/v1/cloudimages/{image_id}/file"))
    req, r = call(world, world.exact(["ims:images:export"], scope="ep:" + world.E, obs=exp.obs), exp, ep=world.E)
    assert_allowed(exp, req, r)


# ---------------------------------------------------------------- OBS
def _obs_rows():
    return [pytest.param(row, variant, actions, id=case_id(row, variant))
            for row in ROWS if row.obs and row.obs.startswith("obs:") for variant, actions in row.cases()]


def test_obs_rows_are_the_documented_ones():
    got = {(r.key, r.obs) for r in ROWS if r.obs and r.obs.startswith("obs:")}
    assert got == {
        (("POST", "/v2/cloudimages/action"), "obs:object:GetObject"),
        (("POST", "/v2/cloudimages/quickimport/action"), "obs:object:GetObject"),
        (("POST", "/v1/cloudimages/dataimages/action"), "obs:object:GetObject"),
        (("PUT", "/v1/cloudimages/{image_id}/upload"), "obs:object:GetObject"),
        (("POST", "/v1/cloudimages/{image_id}/file"), "obs:object:PutObject"),
    }, got


def obs_call(world, api, row, variant=None):
    """The row's recipe, made to name an OBS file (creating an image takes
    one only in its image_url variant; the recipe creates from a server)."""
    req = RECIPES[row.key].build(world, api, "0", variant)
    if row.key == ("POST", "/v2/cloudimages/action"):
        req["json"] = {"name": unique("obs"), "image_url": "bucket:disk.qcow2", "min_disk": 40,
                       "os_version": "Ubuntu 20.04 server 64bit"}
    return req, send(api, req)


def assert_obs_allowed(req, r):
    """Allowed, with the file named: the call queued its job."""
    assert r.status_code == 200 and set(r.json()) == {"job_id"}, "expected a job: " + show(req, r)


@pytest.mark.parametrize("row,variant,actions", _obs_rows())
def test_obs_permission_is_required_too(world, row, variant, actions):
    """The row's IMS actions without the dependent OBS action -> 403 naming
    it and the bucket; an explicit Deny of it beats Tenant Administrator's
    '*'; with it, the route authorizes and queues its job."""
    req, r = obs_call(world, world.exact(actions), row, variant)
    assert_denied(row, req, r, row.obs)
    assert "bucket bucket" in r.json()["error"]["message"], show(req, r)
    api = world.user([("Tenant Administrator", "project"), (policy_doc("Deny", [row.obs]), "project")])
    req, r = obs_call(world, api, row, variant)
    assert_denied(row, req, r, row.obs)
    req, r = obs_call(world, world.exact(actions, obs=row.obs), row, variant)
    assert_obs_allowed(req, r)


@pytest.mark.parametrize("row,variant,actions", _obs_rows())
def test_obs_wildcard_grant_counts(world, row, variant, actions):
    api = world.user([(policy_doc("Allow", sorted(set(actions))), "project"),
                      (policy_doc("Allow", ["obs:*:*"]), "project")])
    req, r = obs_call(world, api, row, variant)
    assert_obs_allowed(req, r)


def test_obs_not_needed_without_an_obs_file(world):
    """Creating an image from a server reads no OBS file."""
    row = row_of(("POST", "/v2/cloudimages/action"))
    req, r = call(world, world.exact(row.required), row)
    assert_allowed(row, req, r)


def test_obs_object_url_must_name_bucket_and_object(world):
    row = row_of(("PUT", "/v1/cloudimages/{image_id}/upload"))
    api = world.exact(row.required, obs=row.obs)
    img = world.image("0")
    for bad in ("no-colon", ":object", "bucket:", 42):
        r = api.put("/v1/cloudimages/%s/upload" % img["id"], json={"image_url": bad})
        assert r.status_code == 400, (bad, r.status_code, r.text)
        assert r.json()["error"]["code"] == "IMG.0001", r.text
