"""A job runs with its submitter's rights as they are when a worker takes
it: a grant revoked while the job waits in the queue, or while imsd is down
mid-job, ends the job with IMG.0161 ("You do not have permission") instead
of running it. Slow jobs come from the test hook IMSD_TEST_JOB_DELAY_MS."""
import time
import uuid

from helpers import Iam, active_image, policy_doc, unique
from job_helpers import job_of, submit, wait_job

ALL_IMS = policy_doc("Allow", ["ims:*:*"])
# what the user keeps: enough to log in to the project and read images
READ_ONLY = policy_doc("Allow", ["ims:images:get", "ims:images:list"])


def _slow_server(start_imsd, monkeypatch, lease):
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", "1500")
    try:
        return start_imsd(config={"jobs": {"workers": 1, "lease_seconds": lease}})
    finally:
        monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")


def _granted_user(srv):
    iam = Iam(srv)
    project = unique("ja")
    iam.ctl("project", "create", project)
    api = iam.user(project, [(ALL_IMS, "project")])
    return iam, project, api


def _demote(iam, api, project):
    iam.grant(api.group, READ_ONLY, "project", project)
    iam.grant(api.group, ALL_IMS, "project", project, revoke=True)


def _copy(api, image_id, name):
    return submit(api, "POST", "/v1/cloudimages/%s/copy" % image_id, {"name": name})


def _wait_status(api, job_id, status, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_of(api, job_id).json()
        if job["status"] == status:
            return job
        time.sleep(0.05)
    raise AssertionError("job %s never %s: %s" % (job_id, status, job))


def _revoked(job, action):
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0161", job
    assert action in job["fail_reason"], job
    return job


def test_grant_revoked_while_queued(start_imsd, monkeypatch):
    srv = _slow_server(start_imsd, monkeypatch, lease=30)
    iam, project, api = _granted_user(srv)
    src = active_image(api, visibility="private")
    busy = _copy(api, src["id"], "busy")              # holds the only worker
    _wait_status(api, busy, "RUNNING")
    queued = _copy(api, src["id"], "queued")
    shares = submit(api, "POST", "/v1/cloudimages/members",
                    {"images": [src["id"]], "projects": [uuid.uuid4().hex]})
    assert job_of(api, queued).json()["status"] == "INIT"
    _demote(iam, api, project)
    # taken after the revocation, the queued jobs fail without running
    _revoked(wait_job(api, queued, timeout=60), "ims:images:copy")
    _revoked(wait_job(api, shares, timeout=60), "ims:images:share")
    # nothing was shared (the first member would have made the image shared)
    assert api.get("/v2/images/%s" % src["id"]).json()["visibility"] == "private"
    assert not [i for i in api.get("/v2/images").json()["images"] if i["name"] == "queued"]
    # the job taken before the revocation was authorized when it was taken
    assert wait_job(api, busy, timeout=60)["status"] == "SUCCESS"


def test_grant_revoked_while_down(start_imsd, monkeypatch):
    srv = _slow_server(start_imsd, monkeypatch, lease=2)
    iam, project, api = _granted_user(srv)
    src = active_image(api, visibility="private")
    job_id = _copy(api, src["id"], "interrupted")
    deadline = time.monotonic() + 20
    new = None
    while not new and time.monotonic() < deadline:      # until the copy is staged
        staged = job_of(api, job_id).json()["entities"].get("image_id")
        if staged and api.get("/v2/images/%s" % staged).status_code == 200:
            new = staged
        time.sleep(0.05)
    assert new, "the copy was never staged"
    srv.kill()
    srv.ended_by_test = True
    _demote(iam, api, project)                          # imsctl on the data directory
    srv2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=srv.data_dir)
    api2 = Iam(srv2).login(api.user_name, api.password, project)
    job = _revoked(wait_job(api2, job_id, timeout=30), "ims:images:copy")
    assert job["entities"]["image_id"] == new
    # the half-made copy is removed with the job
    assert api2.get("/v2/images/%s" % new).status_code == 404
    assert api2.get("/v2/images/%s" % src["id"]).status_code == 200


def test_copy_into_enterprise_project_rechecks_its_deferred_action(start_imsd, monkeypatch):
    # a copy placed in an enterprise project also needs ims:serverImages:create
    # there (the route's deferred action); it is checked again at the take
    srv = _slow_server(start_imsd, monkeypatch, lease=30)
    iam, project, api = _granted_user(srv)
    ep = iam.ctl("ep", "create", unique("ja-ep"))
    src = active_image(api, visibility="private")
    busy = _copy(api, src["id"], "busy")
    _wait_status(api, busy, "RUNNING")
    queued = submit(api, "POST", "/v1/cloudimages/%s/copy" % src["id"],
                    {"name": "into-ep", "enterprise_project_id": ep})
    # still allowed to copy, no longer to create images in the enterprise project
    iam.grant(api.group, policy_doc("Allow", ["ims:images:*"]), "project", project)
    iam.grant(api.group, ALL_IMS, "project", project, revoke=True)
    _revoked(wait_job(api, queued, timeout=60), "ims:serverImages:create")
    assert wait_job(api, busy, timeout=60)["status"] == "SUCCESS"
