"""Helpers for the asynchronous IMS calls (jobs)."""
import time


def job_of(api, job_id, project_id=None):
    return api.get("/v1/%s/jobs/%s" % (project_id or api.project_id, job_id))


def wait_job(api, job_id, timeout=60, until=("SUCCESS", "FAIL")):
    """Polls GET /v1/{project}/jobs/{id} until its status is in `until`."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        r = job_of(api, job_id)
        assert r.status_code == 200, "job %s: %s %s" % (job_id, r.status_code, r.text)
        last = r.json()
        if last["status"] in until:
            return last
        time.sleep(0.05)
    raise AssertionError("job %s did not reach %s within %ss: %s" % (job_id, until, timeout, last))


def submit(api, method, url, body, expect=200):
    r = api.request(method, url, json=body)
    assert r.status_code == expect, "%s %s: %s %s" % (method, url, r.status_code, r.text)
    if expect != 200:
        return r.json()
    job_id = r.json()["job_id"]
    assert set(r.json()) == {"job_id"}
    return job_id


def run(api, method, url, body, timeout=60):
    return wait_job(api, submit(api, method, url, body), timeout=timeout)


def ims_error(r, status, code):
    assert r.status_code == status, "expected %s %s: %s %s" % (status, code, r.status_code, r.text)
    assert r.json()["error"]["code"] == code, r.text
    return r.json()["error"]["message"]


def start_racing(start_imsd, monkeypatch, job_delay_ms):
    """An imsd whose requests pause between their checks and the recording
    of their job (IMSD_TEST_SUBMIT_DELAY_MS): concurrent requests that all
    passed the checks then race to be recorded. One worker, each job step
    followed by job_delay_ms, so a recorded job is still unfinished when the
    others are recorded."""
    monkeypatch.setenv("IMSD_TEST_JOB_DELAY_MS", str(job_delay_ms))
    monkeypatch.setenv("IMSD_TEST_SUBMIT_DELAY_MS", "400")
    s = start_imsd(config={"jobs": {"workers": 1}, "server": {"threads": 8}})
    monkeypatch.delenv("IMSD_TEST_JOB_DELAY_MS")
    monkeypatch.delenv("IMSD_TEST_SUBMIT_DELAY_MS")
    return s


def one_taken(replies, code):
    """Exactly one of replies recorded its job; every other is 400 with the
    IMS error code. Returns the recorded job's id."""
    taken = [r for r in replies if r.status_code == 200]
    assert len(taken) == 1, [(r.status_code, r.text) for r in replies]
    for r in replies:
        if r.status_code != 200:
            ims_error(r, 400, code)
    return taken[0].json()["job_id"]
