#!/usr/bin/python3
"""bench/catalog_bench.py: the catalog read matrix of issue 15 (see bench/README.md).

For each image count (CATALOG_IMAGES, default "10000 100000") it starts its
own imsd on a fresh data directory (so imsd's migrations make the schema),
stops it, seeds the images by direct SQL into that SQLite database (fast:
100,000 images in seconds, where the API creates a few thousand a second),
starts imsd again and measures with wrk:

  - every list filter at three selectivities: "all" (99.8% of the images
    match), "0.2%" (every 500th image matches) and "none";
  - sort keys with and without a marker;
  - the list variants and GET /v2/images/{id}, next to nginx (Debian's
    nginx-light, installed by this script if missing, started on loopback)
    serving the very same response bytes as static files, as a ratio.

Not a test: it prints figures and exits 0 whether or not targets are met.

Environment: CATALOG_IMAGES="10000 100000", BENCH_BUILD=build,
BENCH_THREADS=2, BENCH_CONNS=32, BENCH_DURATION=3 (seconds per wrk run),
CATALOG_ONLY=regex (run only the rows whose key matches), BENCH_OUT=FILE
(key=value lines), CATALOG_ANSWER_KIB=N ([images] answer_cache_kib; 0 turns
the whole-answer cache off, for an A/B), CATALOG_UNCACHED=0 (skips the
second pass below).

The matrix repeats one URL per row, so with the whole-answer cache on
(the default) it measures that cache. Each image count therefore runs a
second pass with imsd started again on the same data with
answer_cache_kib = 0: the matrix, the first page and pages at random
markers (a different URL each, so the rendered-document cache misses too)
answered by the query path, keys "nN.uncached.*", printed beside the first
page of the same pass (on a loaded machine the ratio holds where req/s do
not) and against issue 15's 10,000 req/s.
"""
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
BUILD = os.environ.get("BENCH_BUILD", "build")
if not BUILD.startswith("/"):
    BUILD = os.path.join(REPO, BUILD)
COUNTS = [int(x) for x in os.environ.get("CATALOG_IMAGES", "10000 100000").split()]
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNS = int(os.environ.get("BENCH_CONNS", "32"))
DURATION = int(os.environ.get("BENCH_DURATION", "3"))
ONLY = re.compile(os.environ.get("CATALOG_ONLY", ""))
OUT = os.environ.get("BENCH_OUT")
ANSWER_KIB = int(os.environ["CATALOG_ANSWER_KIB"]) if os.environ.get("CATALOG_ANSWER_KIB") else None
UNCACHED = os.environ.get("CATALOG_UNCACHED", "1") != "0"
TARGET_RPS = 10000  # issue 15 item 1: no list or filter below it
RARE = 500  # every RARE-th image is the rare one: 0.2%
RARE_EP = "e1e1e1e1-0000-4000-8000-000000000001"

results = {}


def log(msg):
    print("[catalog %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def put(key, value):
    results[key] = value
    if OUT:
        with open(OUT, "a") as f:
            f.write("%s=%s\n" % (key, value))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def need(tool, package):
    if shutil.which(tool):
        return
    if os.getuid() != 0:
        sys.exit("catalog_bench: missing %s (apt-get install %s)" % (tool, package))
    log("installing %s" % package)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "-qq", "--no-install-recommends", package]
    if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode != 0:
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "update", "-qq"], env=env, check=True)
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)


def wait_http(url, proc):
    for _ in range(600):
        if proc.poll() is not None:
            return False
        try:
            urllib.request.urlopen(url, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.1)
    return False


class Imsd:
    def __init__(self, tmp, count):
        self.dir = os.path.join(tmp, "imsd")
        os.makedirs(self.dir, exist_ok=True)
        self.ini = os.path.join(tmp, "imsd.ini")
        self.count = count
        self.configure(ANSWER_KIB)
        self.pw = "bench-%d" % os.getpid()
        self.proc = None
        self.logf = open(os.path.join(tmp, "imsd.log"), "a")

    def configure(self, answer_kib):
        """Writes imsd.ini (read at the next start); answer_kib None leaves
        [images] answer_cache_kib at its default."""
        with open(self.ini, "w") as f:
            # the seed writes by SQL, past any quota; 100000 is the setting's maximum
            f.write("[images]\nquota_default = %d\n" % min(self.count * 2 + 1000, 100000))
            if answer_kib is not None:  # 0 turns the whole-answer cache off
                f.write("answer_cache_kib = %d\n" % answer_kib)
            # the memory phase logs in without pause (each login an argon2id hash of 19 MiB)
            f.write("[identity]\nlogin_rate_per_address = 0\nlogin_rate_per_user = 0\n")

    def start(self):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = dict(os.environ, IMSD_CONFIG=self.ini, IMSD_DATA_DIR=self.dir,
                   IMSD_LISTEN="127.0.0.1:%d" % self.port, IMSD_ADMIN_PASSWORD=self.pw,
                   IMSD_LOG_LEVEL="warning")
        self.proc = subprocess.Popen([os.path.join(BUILD, "imsd")], env=env, stdout=self.logf,
                                     stderr=subprocess.STDOUT)
        if not wait_http(self.url + "/", self.proc):
            sys.exit("catalog_bench: imsd did not start (see %s)" % self.logf.name)
        self.token, self.project = self.login()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def login(self):
        body = json.dumps({"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "admin", "domain": {"name": "Default"}, "password": self.pw}}},
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}).encode()
        req = urllib.request.Request(self.url + "/v3/auth/tokens", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.headers["X-Subject-Token"], json.load(r)["token"]["project"]["id"]

    def get(self, path):
        req = urllib.request.Request(self.url + path, headers={"X-Auth-Token": self.token})
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.read()


def seed(dbpath, count, owner):
    """count images, as tests/unit/test_list_plans.c seeds them: image k
    (1..count) created at second k; the rare ones (k % RARE == 0) differ in
    every filtered column (status active, name rare, raw/ovf, size 1, public,
    owner p-rare, __os_type Windows, enterprise project RARE_EP, tag rare,
    custom=x); the others are queued, common, qcow2/bare, private, the
    admin project's, tagged all, custom=y."""
    db = sqlite3.connect(dbpath)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("BEGIN")
    db.execute(
        "WITH RECURSIVE n(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM n WHERE k < ?), "
        "r(k, rare) AS (SELECT k, k % ? = 0 FROM n) "
        "INSERT INTO images (id, owner, name, status, visibility, protected, os_hidden, container_format, "
        "disk_format, size, virtual_size, checksum, os_hash_algo, os_hash_value, min_disk, min_ram, "
        "enterprise_project_id, created_at, updated_at, p_os_type, p_platform, p_os_bit, p_imagetype, "
        "p_isregistered, p_virtual_env_type, p_image_source_type, p_os_version, p_is_config_init, "
        "p_image_size, extras, tags_text, revision) "
        "SELECT printf('%08x-0000-4000-8000-%012x', k, k), CASE WHEN rare THEN 'p-rare' ELSE ? END, "
        "CASE WHEN rare THEN 'rare' ELSE 'common' END, CASE WHEN rare THEN 'active' ELSE 'queued' END, "
        "CASE WHEN rare THEN 'public' ELSE 'private' END, rare, 0, CASE WHEN rare THEN 'ovf' ELSE 'bare' END, "
        "CASE WHEN rare THEN 'raw' ELSE 'qcow2' END, CASE WHEN rare THEN 1 ELSE 1000 END, "
        "CASE WHEN rare THEN 2 ELSE 2000 END, NULL, NULL, NULL, 0, 0, "
        "CASE WHEN rare THEN ? ELSE '0' END, 1700000000 + k, 1700000000 + k, "
        "CASE WHEN rare THEN 'Windows' ELSE 'Linux' END, CASE WHEN rare THEN 'Windows' ELSE 'Ubuntu' END, "
        "'64', CASE WHEN rare THEN 'gold' ELSE 'private' END, 'true', 'FusionCompute', 'uds', "
        "CASE WHEN rare THEN 'Windows Server 2019' ELSE 'Ubuntu 22.04 server 64bit' END, 'true', '1', 1, "
        "CASE WHEN rare THEN '4:rare' ELSE '3:all' END, 1 FROM r",
        (count, RARE, owner, RARE_EP))
    db.execute("INSERT INTO image_tags (image_id, value, created_at) SELECT id, CASE WHEN name = 'rare' "
               "THEN 'rare' ELSE 'all' END, created_at FROM images")
    # image_properties.created_at since migration 23 (an older build's schema has none)
    dated = any(r[1] == "created_at" for r in db.execute("PRAGMA table_info(image_properties)"))
    dated = ", created_at" if dated else ""
    db.execute("INSERT INTO image_properties (image_id, name, value%s) SELECT id, 'custom', CASE WHEN "
               "name = 'rare' THEN 'x' ELSE 'y' END%s FROM images" % (dated, dated))
    # images.props_text since migration 26: the custom properties in the row, as imsd writes them
    if any(r[1] == "props_text" for r in db.execute("PRAGMA table_info(images)")):
        db.execute("UPDATE images SET props_text = CASE WHEN name = 'rare' THEN '6:custom1:x' ELSE '6:custom1:y' END")
    db.execute("DELETE FROM project_image_counts")
    db.execute("INSERT INTO project_image_counts (project_id, slot, n) SELECT owner, 0, COUNT(*) FROM images "
               "GROUP BY owner")
    db.execute("COMMIT")
    db.close()


def proc_status(pid):
    """VmRSS and VmHWM of pid in kB (0 when gone)."""
    rss = hwm = 0
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    return rss, hwm


def reset_hwm(pid):
    """Starts VmHWM afresh (Linux: 5 to clear_refs), so the peak is the
    load's and not the first login's hash; False where not allowed."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """The peak of VmRSS sampled every 0.2 s; VmHWM (the kernel's own peak,
    which no sampling misses) is read at the end."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stopped = pid, 0, False

    def run(self):
        while not self.stopped:
            rss, _ = proc_status(self.pid)
            if not rss:
                return
            self.peak = max(self.peak, rss)
            time.sleep(0.2)


def wrk(url, path, token, script="get.lua", ids=None):
    env = dict(os.environ, BENCH_LUA_DIR=os.path.join(HERE, "lua"), BENCH_PATH=path, BENCH_TOKEN=token or "",
               BENCH_HDRS="", BENCH_IDS=ids or "")
    out = subprocess.run(["wrk", "-t%d" % THREADS, "-c%d" % CONNS, "-d%ds" % DURATION, "--timeout", "10s",
                          "--latency", "-s", os.path.join(HERE, "lua", script), url],
                         env=env, capture_output=True, text=True).stdout
    m = re.search(r"^BENCH (.*)$", out, re.M)
    if not m:
        return None
    return dict(kv.split("=", 1) for kv in m.group(1).split())


# The process each system's CPU time is read from (with its children: nginx's workers).
CPU_PIDS = {}


def cpu_seconds(pid):
    """utime + stime of pid and its child processes (0 when gone)."""
    tck = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:
            total += int(fields[11]) + int(fields[12])
    return total / tck


def measure(sysname, url, key, path, token, script="get.lua", ids=None):
    """req/s and p99 of a wrk run, and the server's CPU time per request
    (what holds still on a machine others load, where req/s do not)."""
    pid = CPU_PIDS.get(sysname)
    c0 = cpu_seconds(pid) if pid else 0
    r = wrk(url, path, token, script, ids)
    if not r:
        log("%-6s %-34s wrk gave no result" % (sysname, key))
        return None
    rps = float(r["rps"])
    cpu_us = (cpu_seconds(pid) - c0) / (rps * DURATION) * 1e6 if pid and rps else 0
    put("%s.%s.rps" % (sysname, key), "%.0f" % rps)
    put("%s.%s.p99_ms" % (sysname, key), r["p99_ms"])
    put("%s.%s.cpu_us" % (sysname, key), "%.1f" % cpu_us)
    log("%-6s %-34s %9.0f req/s  p99 %8s ms  %6.1f us CPU/req  codes %s" % (sysname, key, rps, r["p99_ms"], cpu_us,
                                                                              r["codes"]))
    return rps


# (key, path for all, for 0.2%, for none); IMS rows on /v2/cloudimages
FILTERS = [
    ("status", "/v2/images?status=queued", "/v2/images?status=active", "/v2/images?status=killed"),
    ("name", "/v2/images?name=common", "/v2/images?name=rare", "/v2/images?name=none"),
    ("owner", "/v2/images?owner={owner}", "/v2/images?owner=p-rare", "/v2/images?owner=nobody"),
    ("visibility", "/v2/images?visibility=private", "/v2/images?visibility=public",
     "/v2/images?visibility=community"),
    ("disk_format", "/v2/images?disk_format=qcow2", "/v2/images?disk_format=raw", "/v2/images?disk_format=vhd"),
    ("container_format", "/v2/images?container_format=bare", "/v2/images?container_format=ovf",
     "/v2/images?container_format=ova"),
    ("size", "/v2/images?size=1000", "/v2/images?size=1", "/v2/images?size=3"),
    ("protected", "/v2/images?protected=false", "/v2/images?protected=true", None),
    ("tag", "/v2/images?tag=all", "/v2/images?tag=rare", "/v2/images?tag=none"),
    ("property", "/v2/images?custom=y", "/v2/images?custom=x", "/v2/images?custom=z"),
    ("os_type", "/v2/images?__os_type=Linux", "/v2/images?__os_type=Windows", "/v2/images?__os_type=Other"),
    ("status_in", "/v2/images?status=in:queued,killed", "/v2/images?status=in:active,killed",
     "/v2/images?status=in:killed,deleted"),
    ("ims.platform", "/v2/cloudimages?__platform=Ubuntu", "/v2/cloudimages?__platform=Windows",
     "/v2/cloudimages?__platform=Other"),
    ("ims.ep", "/v2/cloudimages?enterprise_project_id=0", "/v2/cloudimages?enterprise_project_id=" + RARE_EP,
     "/v2/cloudimages?enterprise_project_id=e9e9e9e9-0000-4000-8000-000000000009"),
    ("ims.status", "/v2/cloudimages?status=queued", "/v2/cloudimages?status=active",
     "/v2/cloudimages?status=killed"),
]
SORTS = ["name", "status", "disk_format", "size", "updated_at", "id"]


def run_count(tmp, count, nginx):
    imsd = Imsd(tmp, count)
    imsd.start()
    owner = imsd.project
    imsd.stop()
    t0 = time.time()
    seed(os.path.join(imsd.dir, "imsd.db"), count, owner)
    put("n%d.seed_secs" % count, "%.1f" % (time.time() - t0))
    log("seeded %d images by SQL in %.1f s" % (count, time.time() - t0))
    imsd.start()
    CPU_PIDS["imsd"] = imsd.proc.pid
    put("%s.rss_idle_kb" % ("n%d" % count), proc_status(imsd.proc.pid)[0])
    if not reset_hwm(imsd.proc.pid):
        log("cannot reset VmHWM (not root?): it includes the first login's 19 MiB hash")
    sampler = RssSampler(imsd.proc.pid)
    sampler.start()
    tag = "n%d" % count
    mid = "%08x-0000-4000-8000-%012x" % (count // 2 + 1, count // 2 + 1)
    matrix(tag, imsd, owner, mid)
    # the list variants and GET beside nginx serving the same bytes
    variants = [("list", "/v2/images?limit=25"), ("list_marker", "/v2/images?limit=25&marker=" + mid),
                ("list_tag", "/v2/images?limit=25&tag=rare"), ("get", "/v2/images/" + mid)]
    for key, path in variants:
        k = "%s.%s" % (tag, key)
        if not ONLY.search(k):
            continue
        body = imsd.get(path)
        fname = "%s.json" % k
        with open(os.path.join(nginx["root"], fname), "wb") as f:
            f.write(body)
        a = measure("imsd", imsd.url, k, path, imsd.token)
        b = measure("nginx", nginx["url"], k, "/" + fname, None)
        if a and b:
            put("ratio.%s" % k, "%.2f" % (a / b))
            ca, cb = float(results["imsd.%s.cpu_us" % k]), float(results["nginx.%s.cpu_us" % k])
            cpu = cb / ca if ca else 0
            put("ratio_cpu.%s" % k, "%.2f" % cpu)
            log("%-6s %-34s %9.2f of nginx (%d bytes); CPU per request: nginx's %.2f of imsd's" % (
                "ratio", k, a / b, len(body), cpu))
    memory_phase(tmp, tag, count, imsd)
    sampler.stopped = True
    rss, hwm = proc_status(imsd.proc.pid)
    put("%s.rss_peak_kb" % tag, sampler.peak)
    put("%s.rss_end_kb" % tag, rss)
    put("%s.hwm_kb" % tag, hwm)
    log("imsd memory with %d images: VmRSS %d kB idle after start, %d kB peak under load, %d kB at the end; "
        "VmHWM %d kB" % (count, results["%s.rss_idle_kb" % tag], sampler.peak, rss, hwm))
    imsd.stop()
    if UNCACHED:
        uncached_pass(tmp, tag, count, imsd, owner, mid)
    shutil.rmtree(imsd.dir)


def matrix(tag, imsd, owner, mid):
    """Every filter at its three selectivities, every sort key with and
    without a marker: keys tag.<filter>.<level>, tag.sort_<key>[.marker]."""
    for key, *paths in FILTERS:
        for level, path in zip(("all", "0.2%", "none"), paths):
            k = "%s.%s.%s" % (tag, key, level)
            if path is None or not ONLY.search(k):
                continue
            path = path.format(owner=owner)
            measure("imsd", imsd.url, k, path + "&limit=25", imsd.token)
    for key in SORTS:
        for marker in (False, True):
            k = "%s.sort_%s%s" % (tag, key, ".marker" if marker else "")
            if not ONLY.search(k):
                continue
            path = "/v2/images?limit=25&sort_key=%s" % key + ("&marker=" + mid if marker else "")
            measure("imsd", imsd.url, k, path, imsd.token)


def ids_file(tmp, count):
    """Every image id, one a line: what lua/show.lua and lua/list_markers.lua pick from."""
    ids = os.path.join(tmp, "ids")
    with open(ids, "w") as f:
        for k in range(1, count + 1):
            f.write("%08x-0000-4000-8000-%012x\n" % (k, k))
    return ids


def uncached_pass(tmp, tag, count, imsd, owner, mid):
    """The query path: imsd again on the same data with answer_cache_kib = 0
    (no whole answers kept; rendered documents still are). The first page,
    the matrix, then pages at random markers (a different URL each: the
    document cache misses where it cannot hold the catalog)."""
    utag = tag + ".uncached"
    keys = [utag + ".list", utag + ".list_random_marker"] + ["%s.%s.%s" % (utag, f[0], level) for f in FILTERS
                                                              for level in ("all", "0.2%", "none")]
    keys += ["%s.sort_%s%s" % (utag, key, m) for key in SORTS for m in ("", ".marker")]
    if not any(ONLY.search(k) for k in keys):
        return
    imsd.configure(0)
    imsd.start()
    CPU_PIDS["imsd"] = imsd.proc.pid
    log("second pass, the whole-answer cache off (answer_cache_kib = 0): the query path")
    try:
        # the first page always: the rows' yardstick
        first = measure("imsd", imsd.url, utag + ".list", "/v2/images?limit=25", imsd.token)
        matrix(utag, imsd, owner, mid)
        if ONLY.search(utag + ".list_random_marker"):
            measure("imsd", imsd.url, utag + ".list_random_marker", "", imsd.token, "list_markers.lua",
                    ids_file(tmp, count))
    finally:
        imsd.stop()
        imsd.configure(ANSWER_KIB)
    if not first:
        return
    slow = []
    for k, v in sorted(results.items()):
        if not (k.startswith("imsd.%s." % utag) and k.endswith(".rps")):
            continue
        row = k[len("imsd.%s." % utag):-4]
        put("ratio_first.%s.%s" % (utag, row), "%.2f" % (float(v) / first))
        if float(v) < TARGET_RPS:
            slow.append(row)
    log("uncached, %d images: %d rows under %d req/s (the first page: %.0f req/s in this pass): %s" % (
        count, len(slow), TARGET_RPS, first, " ".join(slow) or "none"))


def memory_phase(tmp, tag, count, imsd):
    """What fills every cache: GETs of random images and pages at random
    markers (each HTTP thread's document cache, each connection's SQLite
    page cache); VmHWM after them is the reads' peak. Then the random GETs
    again with two clients logging in without pause: each login's argon2id
    hash holds 19 MiB while it runs, one per [server] deferred_threads."""
    if not ONLY.search("%s.memory" % tag):
        return
    ids = ids_file(tmp, count)
    measure("imsd", imsd.url, "%s.memory.get_random" % tag, "", imsd.token, "show.lua", ids)
    measure("imsd", imsd.url, "%s.memory.list_random_marker" % tag, "", imsd.token, "list_markers.lua", ids)
    rss, hwm = proc_status(imsd.proc.pid)
    put("%s.memory.reads_hwm_kb" % tag, hwm)
    log("memory phase: VmHWM %d kB after the list variants and the random reads (VmRSS now %d kB)" % (hwm, rss))
    stop = threading.Event()
    logins = []

    def login():
        while not stop.is_set():
            imsd.login()
            logins.append(1)

    clients = [threading.Thread(target=login, daemon=True) for _ in range(2)]
    for c in clients:
        c.start()
    try:
        measure("imsd", imsd.url, "%s.memory.get_random_logins" % tag, "", imsd.token, "show.lua", ids)
    finally:
        stop.set()
        for c in clients:
            c.join()
    rss, hwm = proc_status(imsd.proc.pid)
    put("%s.memory.logins" % tag, len(logins))
    put("%s.memory.logins_hwm_kb" % tag, hwm)
    log("memory phase: VmHWM %d kB with %d logins beside random GETs (VmRSS after them %d kB)" % (
        hwm, len(logins), rss))


def start_nginx(tmp):
    root = os.path.join(tmp, "www")
    os.makedirs(root)
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""daemon off; worker_processes %d; pid %s/nginx.pid; error_log %s/nginx.err;
events { worker_connections 1024; }
http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  types { application/json json; }
  client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;
  server { listen 127.0.0.1:%d; root %s; } }
""" % (os.cpu_count() or 1, tmp, tmp, tmp, tmp, tmp, tmp, tmp, port, root))
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    if not wait_http("http://127.0.0.1:%d/" % port, proc):
        sys.exit("catalog_bench: nginx did not start")
    return {"proc": proc, "url": "http://127.0.0.1:%d" % port, "root": root}


def main():
    need("wrk", "wrk")
    need("nginx", "nginx-light")
    if not os.access(os.path.join(BUILD, "imsd"), os.X_OK):
        sys.exit("catalog_bench: %s/imsd not built (make all)" % BUILD)
    if OUT:
        open(OUT, "w").close()
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    put("meta.commit", commit)
    put("meta.build", BUILD)
    put("meta.load_start", load)
    log("catalog bench: commit %s (imsd from %s), %d CPUs, load %s, wrk -t%d -c%d -d%ds" % (
        commit, BUILD, os.cpu_count(), load, THREADS, CONNS, DURATION))
    tmp = tempfile.mkdtemp(prefix="imsd-catalog.")
    nginx = start_nginx(tmp)
    CPU_PIDS["nginx"] = nginx["proc"].pid
    try:
        for count in COUNTS:
            run_count(tmp, count, nginx)
    finally:
        nginx["proc"].terminate()
        nginx["proc"].wait()
        shutil.rmtree(tmp, ignore_errors=True)
    with open("/proc/loadavg") as f:
        put("meta.load_end", " ".join(f.read().split()[:3]))
    # 100k beside 10k, the answer cache's figures and then the query path's
    if len(COUNTS) >= 2:
        a, b = "n%d." % COUNTS[0], "n%d." % COUNTS[-1]
        for label, uncached in (("answer cache on (repeated URLs: the cache's figures)", False),
                                ("answer cache off (answer_cache_kib = 0: the query path)", True)):
            log("%s, %d images beside %d:" % (label, COUNTS[-1], COUNTS[0]))
            for k, v in sorted(results.items()):
                if not (k.startswith("imsd." + a) and k.endswith(".rps")) or (".uncached." in k) != uncached:
                    continue
                other = results.get(k.replace(a, b, 1))
                if other:
                    row = k[len("imsd." + a):-4]
                    low = " below %d" % TARGET_RPS if min(float(v), float(other)) < TARGET_RPS else ""
                    log("%-44s %d images: %6s  %d images: %6s  (%.2f)%s" % (row, COUNTS[0], v, COUNTS[-1], other,
                                                                           float(other) / float(v), low))
    log("load average at the end: %s" % results["meta.load_end"])


if __name__ == "__main__":
    main()
