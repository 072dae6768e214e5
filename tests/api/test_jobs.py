"""The job engine through GET /v1/{project_id}/jobs/{job_id}: the documented
shape, project isolation, many jobs on few workers, resumption after a crash
(SIGKILL) or a stop (SIGTERM) mid-job, clean failure, and purging after the
retention time. Slow jobs come from the test hook IMSD_TEST_JOB_DELAY_MS
(every job step pauses that long)."""
import re
import time
import uuid

from helpers import Server, active_image, list_all
from job_helpers import ims_error, job_of, run, submit, wait_job

KEYS = {"job_id", "job_type", "begin_time", "end_time", "status", "error_code", "fail_reason", "entities"}
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def copy(api, image_id, name):
    return submit(api, "POST", "/v1/cloudimages/%s/copy" % image_id, {"name": name})


def test_shape_and_isolation(alice, bob):
    src = active_image(alice, visibility="private")
    job_id = copy(alice, src["id"], "shape")
    assert re.fullmatch(r"[0-9a-f]{32}", job_id)
    job = wait_job(alice, job_id)
    assert set(job) == KEYS
    assert job["job_id"] == job_id and job["status"] == "SUCCESS"
    assert TIME.match(job["begin_time"]) and TIME.match(job["end_time"])
    assert job["begin_time"] <= job["end_time"]
    assert set(job["entities"]) == {"image_id", "image_name"}
    # another project's job does not exist for bob, under either URL
    for pid in (bob.project_id, alice.project_id):
        ims_error(job_of(bob, job_id, pid), 404, "IMG.0023")
    # nor for alice under another project's URL
    ims_error(job_of(alice, job_id, bob.project_id), 404, "IMG.0023")
    ims_error(job_of(alice, uuid.uuid4().hex), 404, "IMG.0023")
    # a token is needed
    r = alice.get("/v1/%s/jobs/%s" % (alice.project_id, job_id), headers={"X-Auth-Token": ""})
    assert r.status_code == 401


def test_many_jobs_few_workers(module_imsd):
    srv = module_imsd({"jobs": {"workers": 2}})
    api = srv.project_user()
    src = active_image(api, data=b"many\n", visibility="private")
    names = ["many-%02d" % i for i in range(30)]
    ids = [copy(api, src["id"], n) for n in names]
    # member jobs interleaved with the copies
    mids = [submit(api, "POST", "/v1/cloudimages/members",
                   {"images": [src["id"]], "projects": [uuid.uuid4().hex]}) for _ in range(10)]
    jobs = [wait_job(api, j, timeout=120) for j in ids + mids]
    assert all(j["status"] == "SUCCESS" for j in jobs), [j for j in jobs if j["status"] != "SUCCESS"]
    # each copy ran once: one image per name, each with the source's data
    imgs = [i for i in list_all(api) if i["name"] and i["name"].startswith("many-")]
    assert sorted(i["name"] for i in imgs) == names
    assert {i["checksum"] for i in imgs} == {src["checksum"]}
    assert len(api.get("/v2/images/%s/members" % src["id"]).json()["members"]) == 10


def _slow_server(start_imsd, monkeypatch, data_dir=None, delay=1500, lease=2):
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", str(delay))
    try:
        return start_imsd(config={"jobs": {"workers": 1, "lease_seconds": lease}}, data_dir=data_dir)
    finally:
        monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")


def _staged(api, job_id, timeout=20):
    """Waits until the copy's half-made image exists; returns its id."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_of(api, job_id).json()
        assert job["status"] in ("INIT", "RUNNING"), job
        new = job["entities"].get("image_id")
        if new and api.get("/v2/images/%s" % new).status_code == 200:
            return new
        time.sleep(0.05)
    raise AssertionError("the copy was never staged")


def _relogin(srv, api):
    again = srv.session(api.user_name, api.password, api.project_name)
    return again


def test_sigkill_mid_job_resumes(start_imsd, monkeypatch):
    srv = _slow_server(start_imsd, monkeypatch)
    api = srv.project_user()
    data = b"survives a crash\n" * 100
    src = active_image(api, data=data, visibility="private")
    job_id = copy(api, src["id"], "resumed")
    new = _staged(api, job_id)
    half = api.get("/v2/images/%s" % new).json()
    assert half["status"] == "importing"            # the job's: the API cannot write it
    assert job_of(api, job_id).json()["status"] == "RUNNING"
    srv.kill()
    srv.ended_by_test = True
    srv2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=srv.data_dir)
    api2 = _relogin(srv2, api)
    job = wait_job(api2, job_id, timeout=30)
    assert job["status"] == "SUCCESS", job
    assert job["entities"]["image_id"] == new          # the same image, finished
    img = api2.get("/v2/images/%s" % new).json()
    assert img["status"] == "active" and img["checksum"] == src["checksum"]
    assert api2.get("/v2/images/%s/file" % new).content == data
    assert [i["id"] for i in list_all(api2) if i["name"] == "resumed"] == [new]


def test_sigterm_mid_job_is_resumed_at_next_start(start_imsd, monkeypatch):
    srv = _slow_server(start_imsd, monkeypatch, lease=30)
    api = srv.project_user()
    src = active_image(api, visibility="private")
    job_id = copy(api, src["id"], "after-restart")
    new = _staged(api, job_id)
    assert srv.stop() == 0                  # SIGTERM: the worker ends its step and hands the job back
    srv.ended_by_test = True
    # lease 30 s, but a job given back on stop is taken at once
    srv2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 30}}, data_dir=srv.data_dir)
    api2 = _relogin(srv2, api)
    job = wait_job(api2, job_id, timeout=15)
    assert job["status"] == "SUCCESS", job
    assert api2.get("/v2/images/%s" % new).json()["status"] == "active"


def test_crash_with_source_gone_fails_cleanly(start_imsd, monkeypatch):
    srv = _slow_server(start_imsd, monkeypatch)
    api = srv.project_user()
    src = active_image(api, visibility="private")
    job_id = copy(api, src["id"], "orphan")
    new = _staged(api, job_id)
    assert api.delete("/v2/images/%s" % src["id"]).status_code == 204
    srv.kill()
    srv.ended_by_test = True
    srv2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=srv.data_dir)
    api2 = _relogin(srv2, api)
    job = wait_job(api2, job_id, timeout=30)
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0027", job
    assert job["fail_reason"]
    # the half-made image is gone, and no data is left behind
    assert api2.get("/v2/images/%s" % new).status_code == 404
    assert not [i for i in list_all(api2) if i["name"] == "orphan"]


def test_staged_copy_cannot_be_written(start_imsd, monkeypatch):
    # the copy's staged image belongs to the job: no upload, change or delete
    # through the API, and the copy ends with the source's data
    srv = _slow_server(start_imsd, monkeypatch, lease=30)
    api = srv.project_user()
    data = b"the source's bytes\n" * 50
    src = active_image(api, data=data, visibility="private")
    job_id = copy(api, src["id"], "guarded")
    new = _staged(api, job_id)
    assert api.get("/v2/images/%s" % new).json()["status"] == "importing"
    r = api.put("/v2/images/%s/file" % new, data=b"forged bytes",
                headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 409, r.text
    r = api.patch("/v2/images/%s" % new, json=[{"op": "replace", "path": "/name", "value": "x"}],
                  headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})
    assert r.status_code == 409, r.text
    assert api.put("/v2/images/%s/tags/t" % new).status_code == 409
    assert api.delete("/v2/images/%s" % new).status_code == 409
    ims_error(api.patch("/v2/cloudimages/%s" % new, json=[{"op": "replace", "path": "/name", "value": "x"}]),
              400, "IMG.0046")
    job = wait_job(api, job_id, timeout=30)
    assert job["status"] == "SUCCESS", job
    img = api.get("/v2/images/%s" % new).json()
    assert img["status"] == "active" and img["name"] == "guarded" and img["tags"] == []
    assert img["checksum"] == src["checksum"] and img["size"] == src["size"]
    assert img["os_hash_value"] == src["os_hash_value"]
    assert api.get("/v2/images/%s/file" % new).content == data
    # finished, it is an ordinary image of its owner
    assert api.delete("/v2/images/%s" % new).status_code == 204


def test_resumed_copy_verifies_an_active_destination(start_imsd, monkeypatch):
    # a resumed copy that finds its destination active accepts it only with
    # the source's data (here forged in the database while imsd was down)
    srv = _slow_server(start_imsd, monkeypatch)
    api = srv.project_user()
    src = active_image(api, data=b"source\n", visibility="private")
    other = active_image(api, data=b"something else\n", visibility="private")
    job_id = copy(api, src["id"], "verified")
    new = _staged(api, job_id)
    srv.kill()
    srv.ended_by_test = True
    srv.sql("UPDATE images SET (status, size, checksum, os_hash_algo, os_hash_value, location) = "
            "(SELECT 'active', size, checksum, os_hash_algo, os_hash_value, location FROM images "
            " WHERE id = ?) WHERE id = ?", (other["id"], new))
    srv2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=srv.data_dir)
    api2 = _relogin(srv2, api)
    job = wait_job(api2, job_id, timeout=30)
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0061", job
    assert "does not hold the data" in job["fail_reason"], job


def test_repository_errors_stay_out_of_the_fail_reason(start_imsd, monkeypatch):
    # a database failure while finishing a copy: the tenant reads IMS's
    # generic message, the detail goes to the log
    srv = _slow_server(start_imsd, monkeypatch)
    api = srv.project_user()
    src = active_image(api, visibility="private")
    job_id = copy(api, src["id"], "db-failure")
    new = _staged(api, job_id)
    srv.kill()
    srv.ended_by_test = True
    # the staged row's update fails inside the database (an overflow)
    if srv.database:
        srv.sql("CREATE FUNCTION fail_finish() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.id = '%s' THEN PERFORM abs(-9223372036854775807 - 1); END IF; RETURN NEW; END $$" % new)
        srv.sql("CREATE TRIGGER fail_finish BEFORE UPDATE ON images FOR EACH ROW EXECUTE FUNCTION fail_finish()")
        overflow = "bigint out of range"
    else:
        srv.sql("CREATE TRIGGER fail_finish BEFORE UPDATE ON images WHEN NEW.id = '%s' "
                "BEGIN SELECT abs(-9223372036854775807 - 1); END" % new)
        overflow = "integer overflow"
    srv2 = start_imsd(config={"jobs": {"workers": 1, "lease_seconds": 2}}, data_dir=srv.data_dir)
    api2 = _relogin(srv2, api)
    job = wait_job(api2, job_id, timeout=30)
    assert job["status"] == "FAIL" and job["error_code"] == "IMG.0061", job
    assert job["fail_reason"] == "Unknown system error.", job
    assert overflow in srv2.log_tail(200)


def test_finished_jobs_are_purged_after_retention(start_imsd):
    srv = start_imsd(config={"jobs": {"retention_seconds": 1}})
    api = srv.project_user()
    src = active_image(api, visibility="private")
    job = run(api, "POST", "/v1/cloudimages/%s/copy" % src["id"], {"name": "purged"})
    assert job["status"] == "SUCCESS"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and job_of(api, job["job_id"]).status_code == 200:
        time.sleep(0.2)
    ims_error(job_of(api, job["job_id"]), 404, "IMG.0023")
    # the job's work stays
    assert api.get("/v2/images/%s" % job["entities"]["image_id"]).status_code == 200


def test_help_documents_workers_and_test_hook():
    import subprocess
    from helpers import IMSD_BIN
    out = subprocess.run([IMSD_BIN, "--help"], capture_output=True, text=True).stdout
    assert "--workers" in out and "IMSD_TEST_JOB_DELAY_MS" in out and "[jobs] retention_seconds" in out
