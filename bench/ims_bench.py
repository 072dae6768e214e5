#!/usr/bin/python3
"""IMS API benchmark (issue: GET /v2/cloudimages with 10,000 images and
typical filters >= 10,000 req/s at 32 connections; 1,000 small jobs complete
at >= 500/s; IAM issue: a list filtered by enterprise project within 20% of
the same list without that filtering). Starts its own imsd on a free port
with a fresh data dir, creates the images (half of them in an enterprise
project), measures each list with wrk (bench/lua/get.lua) next to the native
GET /v2/images?limit=25 as the same-run baseline, the native list of a user
whose only grant is IMS ReadOnlyAccess on that enterprise project against the
project-level user's, then submits 1,000 batch member-add jobs and times them
to completion. Loopback only; everything it starts is stopped at the end.

  BENCH_BUILD (build), BENCH_IMAGES (10000), BENCH_JOBS (1000),
  BENCH_DURATION (10), BENCH_CONNS (32), BENCH_THREADS (2)"""
import concurrent.futures
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, os.environ.get("BENCH_BUILD", "build"))
IMAGES = int(os.environ.get("BENCH_IMAGES", "10000"))
JOBS = int(os.environ.get("BENCH_JOBS", "1000"))
DURATION = os.environ.get("BENCH_DURATION", "10")
CONNS = os.environ.get("BENCH_CONNS", "32")
THREADS = os.environ.get("BENCH_THREADS", "2")
PASSWORD = "bench-admin-pw"


def log(msg):
    print("[ims-bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(url, user, password, project):
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
    r = requests.post(url + "/v3/auth/tokens", json=body, timeout=30)
    r.raise_for_status()
    return r.headers["X-Subject-Token"], r.json()["token"]["project"]["id"]


def wrk(url, path, tok):
    env = dict(os.environ, BENCH_LUA_DIR=os.path.join(HERE, "lua"), BENCH_PATH=path, BENCH_TOKEN=tok)
    out = subprocess.run(["wrk", "-t" + THREADS, "-c" + CONNS, "-d" + DURATION + "s", "--timeout", "10s",
                          "--latency", "-s", os.path.join(HERE, "lua", "get.lua"), url],
                         env=env, capture_output=True, text=True).stdout
    m = re.search(r"^BENCH rps=([\d.]+) p50_ms=([\d.]+) p99_ms=([\d.]+).* non2xx=(\d+) errors=(\d+)", out, re.M)
    if not m:
        raise SystemExit("wrk gave no result for %s:\n%s" % (path, out))
    return float(m.group(1)), float(m.group(3)), int(m.group(4)) + int(m.group(5))


def main():
    tmp = tempfile.mkdtemp(prefix="imsd-ims-bench-")
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    ini = os.path.join(tmp, "imsd.ini")
    with open(ini, "w") as f:
        f.write("[images]\nquota_default = 100000\nlist_limit_max = 1000\n[server]\nlog_level = warning\n")
    env = dict(os.environ, IMSD_DATA_DIR=os.path.join(tmp, "data"), IMSD_LISTEN="127.0.0.1:%d" % port,
               IMSD_ADMIN_PASSWORD=PASSWORD, IMSD_CONFIG=ini)
    proc = subprocess.Popen([os.path.join(BUILD, "imsd")], env=env, stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(tmp, "imsd.log"), "w"))
    try:
        for _ in range(100):
            try:
                requests.get(url + "/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.05)
        ctl = [os.path.join(BUILD, "imsctl"), "--data-dir", env["IMSD_DATA_DIR"]]
        subprocess.run(ctl + ["project", "create", "member"], check=True, capture_output=True, env=env)
        member = subprocess.run(ctl + ["project", "create", "bench"], check=True, capture_output=True,
                                env=env).stdout.strip()
        subprocess.run(ctl + ["user", "create", "bench", "--password", "bench-pw", "--project", "bench"],
                       check=True, capture_output=True, env=env)
        ep = subprocess.run(ctl + ["ep", "create", "bench-ep"], check=True, capture_output=True,
                            env=env).stdout.strip()
        subprocess.run(ctl + ["user", "create", "epuser", "--password", "ep-reader-pw", "--project", "bench",
                              "--role", "none"], check=True, capture_output=True, env=env)
        for args in (["group", "create", "ep-readers"], ["group", "add-user", "ep-readers", "epuser"],
                     ["grant", "IMS ReadOnlyAccess", "--group", "ep-readers", "--enterprise-project", ep]):
            subprocess.run(ctl + args, check=True, capture_output=True, env=env)
        tok, project = token(url, "bench", "bench-pw", "bench")
        ep_tok, _ = token(url, "epuser", "ep-reader-pw", "bench")
        member_tok, member_project = token(url, "admin", PASSWORD, "admin")

        log("creating %d images" % IMAGES)
        t0 = time.monotonic()

        def create(i):
            body = {"name": "img-%05d" % i, "disk_format": "raw", "container_format": "bare"}
            if i % 3 == 0:
                body["__os_version"] = "Ubuntu 20.04 server 64bit"
            if i % 2 == 0:
                body["enterprise_project_id"] = ep
            r = http.post(url + "/v2/images", json=body, headers={"X-Auth-Token": tok}, timeout=30)
            r.raise_for_status()
            iid = r.json()["id"]
            if i % 100 == 0:
                http.put(url + "/v2/images/%s/tags/bench-hot" % iid, headers={"X-Auth-Token": tok},
                         timeout=30).raise_for_status()
            return iid
        http = requests.Session()
        with concurrent.futures.ThreadPoolExecutor(4) as ex:
            ids = list(ex.map(create, range(IMAGES)))
        log("created in %.1f s" % (time.monotonic() - t0))

        cases = [
            ("native GET /v2/images?limit=25 (baseline)", "/v2/images?limit=25"),
            ("cloudimages __imagetype=private", "/v2/cloudimages?__imagetype=private&limit=25"),
            ("cloudimages __platform=Ubuntu", "/v2/cloudimages?__platform=Ubuntu&limit=25"),
            ("cloudimages tag=bench-hot", "/v2/cloudimages?tag=bench-hot&limit=25"),
            ("cloudimages sort_key=name", "/v2/cloudimages?sort_key=name&sort_dir=asc&limit=25"),
        ]
        results = []
        for label, path in cases:
            rps, p99, errs = wrk(url, path, tok)
            results.append((label, rps, p99, errs))
            log("%-45s %9.1f req/s  p99 %7.2f ms  errors %d" % (label, rps, p99, errs))

        # IAM: the same list, by a user allowed only in the enterprise
        # project (the list is filtered to it) and by the project-level user
        # (GET /v2/cloudimages: the list route enterprise-project grants count for)
        ep_cases = [("cloudimages, project-level grant", tok), ("cloudimages, enterprise-project grant", ep_tok)]
        ep_results = []
        for label, t in ep_cases:
            rps, p99, errs = wrk(url, "/v2/cloudimages?limit=25", t)
            ep_results.append((label, rps, p99, errs))
            log("%-45s %9.1f req/s  p99 %7.2f ms  errors %d" % (label, rps, p99, errs))

        log("submitting %d batch member-add jobs" % JOBS)
        job_ids = []
        t0 = time.monotonic()

        def submit(i):
            r = http.post(url + "/v1/cloudimages/members", headers={"X-Auth-Token": tok}, timeout=30,
                          json={"images": [ids[i % len(ids)]], "projects": [member_project]})
            r.raise_for_status()
            return r.json()["job_id"]
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            job_ids = list(ex.map(submit, range(JOBS)))
        submitted = time.monotonic() - t0
        pending = set(job_ids)
        statuses = {}
        while pending and time.monotonic() - t0 < 600:
            for jid in list(pending):
                r = http.get(url + "/v1/%s/jobs/%s" % (project, jid), headers={"X-Auth-Token": tok}, timeout=30)
                st = r.json().get("status")
                if st in ("SUCCESS", "FAIL"):
                    statuses[st] = statuses.get(st, 0) + 1
                    pending.discard(jid)
            if pending:
                time.sleep(0.05)
        total = time.monotonic() - t0
        del member, member_tok
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)

    print()
    print("=== IMS API benchmark — %s, %d CPUs, wrk -t%s -c%s -d%ss, %d images ===" % (
        time.strftime("%Y-%m-%d %H:%M"), os.cpu_count(), THREADS, CONNS, DURATION, IMAGES))
    base = results[0][1]
    for label, rps, p99, errs in results:
        target = "" if label.startswith("native") else "  target >= 10,000 req/s: %s" % (
            "ok" if rps >= 10000 else "MISSED")
        print("%-45s %9.1f req/s  p99 %7.2f ms  errors %d  %.2fx baseline%s" % (
            label, rps, p99, errs, rps / base, target))
    ratio = ep_results[1][1] / ep_results[0][1] if not (ep_results[0][3] or ep_results[1][3]) else 0.0
    for label, rps, p99, errs in ep_results:
        print("%-45s %9.1f req/s  p99 %7.2f ms  errors %d" % (label, rps, p99, errs))
    print("%-45s %9.2fx  target >= 0.80x (within 20%%): %s" % (
        "enterprise-project filtered / unfiltered", ratio,
        "ok" if ratio >= 0.8 else "MISSED" if ratio else "no figure: requests failed"))
    rate = JOBS / total if not pending else 0.0
    print("%-45s %9.1f jobs/s (%d jobs: submitted in %.2f s, all finished in %.2f s; %s)%s" % (
        "batch member-add jobs", rate, JOBS, submitted, total, statuses,
        "  target >= 500/s: %s" % ("ok" if rate >= 500 else "MISSED")))
    if pending:
        print("  %d jobs did not finish within 600 s" % len(pending))


if __name__ == "__main__":
    sys.exit(main())
