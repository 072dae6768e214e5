"""What the benchmarks that start their own imsd share (import_bench.py,
interop_bench.py, whole_image_bench.py): an imsd on a free port with a fresh
data dir under a temporary directory, logged in as the first account's
administrator; its jobs waited for; imsctl on the same data dir; best-of-N
timing. BENCH_BUILD (build) names the build, BENCH_LOG_LEVEL (warning)
imsd's log level."""
import os
import shutil
import socket
import subprocess
import time

import requests

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, os.environ.get("BENCH_BUILD", "build"))
PASSWORD = "bench-admin-pw"


def logger(name):
    """A log function whose lines start with the benchmark's name and the time."""
    def log(msg):
        print("[%s %s] %s" % (name, time.strftime("%H:%M:%S"), msg), flush=True)
    return log


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(*args):
    subprocess.run([str(a) for a in args], check=True, stdout=subprocess.DEVNULL)


def best(fn, runs, after=None):
    """The least of runs timings of fn() (the machine is shared: the minimum
    is the least disturbed); after(), if given, runs untimed after each
    (work fn left running in the background, waited for so that it does
    not slow what is timed next)."""
    times = []
    for _ in range(runs):
        t0 = time.monotonic()
        fn()
        times.append(time.monotonic() - t0)
        if after:
            after()
    return min(times)


def interleaved(cases, runs, log=None):
    """Timings of each (name, fn) of cases, runs rounds of every case in
    turn: {name: [seconds per round]}. On a shared machine whose load moves,
    the cases of one round ran under about the same load, where best() of
    one case after another compares different minutes."""
    times = {name: [] for name, _ in cases}
    for r in range(runs):
        for name, fn in cases:
            if log:
                log("round %d/%d: %s" % (r + 1, runs, name))
            t0 = time.monotonic()
            fn()
            times[name].append(time.monotonic() - t0)
    return times


def wait_http(url, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("%s did not answer" % url)


class Imsd:
    """imsd of BUILD in tmp (data dir tmp/data, log tmp/imsd.log); conf: the
    text of its configuration file (none by default)."""

    def __init__(self, tmp, conf=None):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.data = os.path.join(tmp, "data")
        env = dict(os.environ, IMSD_DATA_DIR=self.data, IMSD_LISTEN="127.0.0.1:%d" % self.port,
                   IMSD_ADMIN_PASSWORD=PASSWORD, IMSD_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "warning"))
        env.pop("IMSD_CONFIG", None)
        if conf is not None:
            env["IMSD_CONFIG"] = os.path.join(tmp, "imsd.ini")
            with open(env["IMSD_CONFIG"], "w") as f:
                f.write(conf)
        self.proc = subprocess.Popen([os.path.join(BUILD, "imsd")], env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(tmp, "imsd.log"), "w"))
        wait_http(self.url + "/")
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": PASSWORD}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}
        r = requests.post(self.url + "/v3/auth/tokens", json=body, timeout=30)
        r.raise_for_status()
        self.token = r.headers["X-Subject-Token"]
        self.s = requests.Session()
        self.s.headers["X-Auth-Token"] = self.token
        self.project = r.json()["token"]["project"]["id"]

    def ctl(self, *args):
        run(os.path.join(BUILD, "imsctl"), "--data-dir", self.data, *args)

    def ctl_out(self, *args):
        return subprocess.run([os.path.join(BUILD, "imsctl"), "--data-dir", self.data] + [str(a) for a in args],
                              check=True, capture_output=True, text=True).stdout

    def job(self, method, path, body):
        """Submits an IMS asynchronous call and waits for its job to succeed."""
        r = self.s.request(method, self.url + path, json=body, timeout=60)
        r.raise_for_status()
        job_id = r.json()["job_id"]
        while True:
            j = self.s.get("%s/v1/%s/jobs/%s" % (self.url, self.project, job_id), timeout=30).json()
            if j["status"] in ("SUCCESS", "FAIL"):
                if j["status"] != "SUCCESS":
                    raise SystemExit("job failed: %s" % j)
                return j
            time.sleep(0.02)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def clean_up(srv, tmp, log):
    """Stops srv (if it started) and removes tmp, unless BENCH_KEEP is set."""
    if srv:
        srv.stop()
    if os.environ.get("BENCH_KEEP"):
        log("kept " + tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
