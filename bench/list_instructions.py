#!/usr/bin/python3
"""Instructions per page at random markers, counted by callgrind: an A/B
figure that other engineers' load does not move (CPU time per request moved
±15 % between runs of one binary at load 9; these counts ±1 %).

Usage: bench/list_instructions.py BUILD [BUILD...]   (each a build directory)

For each image count (CATALOG_IMAGES, default "100000") it seeds a catalogue
once as catalog_bench.py does (LIST_INSTR_DIR/catN, kept between runs), then
for each build starts imsd under valgrind's callgrind (one HTTP thread,
answer_cache_kib = 0, the default document cache), logs in natively,
switches instrumentation on, asks LIST_INSTR_WARM pages at random markers
(default 1000: fills the 8 MiB document cache), zeroes the counters and
counts LIST_INSTR_N more (default 300), the same markers for every build
(a seeded generator). Prints k instructions per page. User space only: the
kernel's work (sendmsg, SQLite's pread) is not counted, nor what a cold
cache line costs. LIST_INSTR_CACHE=1 adds callgrind's cache simulation
(its D1 and last-level misses, slower). Run KS."""
import glob
import http.client
import os
import random
import subprocess
import sys
import time

import catalog_bench as cb

COUNTS = [int(x) for x in os.environ.get("CATALOG_IMAGES", "100000").split()]
WARM = int(os.environ.get("LIST_INSTR_WARM", "1000"))
N = int(os.environ.get("LIST_INSTR_N", "300"))
ROOT = os.environ.get("LIST_INSTR_DIR", "/tmp/list_instructions")
CACHE = os.environ.get("LIST_INSTR_CACHE") == "1"
PASSWORD = "bench-list-instructions"  # the seeded catalogue's admin, kept across runs


def catalogue(count, build):
    """The seeded data dir for count images (made on first use)."""
    tmp = os.path.join(ROOT, "cat%d" % count)
    os.makedirs(tmp, exist_ok=True)
    imsd = cb.Imsd(tmp, count)
    imsd.pw = PASSWORD
    if not os.path.exists(os.path.join(tmp, "seeded")):
        cb.BUILD = build
        imsd.start()
        owner = imsd.project
        imsd.stop()
        cb.seed(os.path.join(imsd.dir, "imsd.db"), count, owner)
        open(os.path.join(tmp, "seeded"), "w").close()
        cb.log("seeded %d images in %s" % (count, tmp))
    return imsd


def measure(imsd, count, build):
    imsd.configure(0)
    out = os.path.join(ROOT, "callgrind.%s.%d" % (os.path.basename(build.rstrip("/")), os.getpid()))
    port = cb.free_port()
    env = dict(os.environ, IMSD_CONFIG=imsd.ini, IMSD_DATA_DIR=imsd.dir, IMSD_LISTEN="127.0.0.1:%d" % port,
               IMSD_ADMIN_PASSWORD=imsd.pw, IMSD_LOG_LEVEL="warning", IMSD_THREADS="1")
    cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=" + out]
    cmd += ["--cache-sim=yes"] if CACHE else []
    proc = subprocess.Popen(cmd + [os.path.join(build, "imsd")], env=env, stdout=imsd.logf, stderr=subprocess.STDOUT)
    imsd.proc, imsd.port, imsd.url = proc, port, "http://127.0.0.1:%d" % port
    try:
        if not cb.wait_http(imsd.url + "/", proc):
            sys.exit("list_instructions: imsd did not start (see %s)" % imsd.logf.name)
        token, _ = imsd.login()  # its password hash runs uninstrumented
        subprocess.run(["callgrind_control", "-i", "on", str(proc.pid)], capture_output=True, check=True)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        rnd = random.Random(42)

        def pages(n):
            for _ in range(n):
                k = rnd.randrange(1, count + 1)
                conn.request("GET", "/v2/images?limit=25&marker=%08x-0000-4000-8000-%012x" % (k, k),
                             headers={"X-Auth-Token": token})
                r = conn.getresponse()
                r.read()
                if r.status != 200:
                    sys.exit("list_instructions: a page answered %d" % r.status)

        pages(WARM)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, check=True)
        pages(N)
        subprocess.run(["callgrind_control", "-d", "counted", str(proc.pid)], capture_output=True, check=True)
    finally:
        proc.terminate()
        proc.wait()
    events = summary = None
    for f in glob.glob(out + ".*"):  # the dump taken after the counters were zeroed
        with open(f) as fh:
            for line in fh:
                if line.startswith("events:"):
                    events = line.split()[1:]
                elif line.startswith("summary:"):
                    summary = [int(x) for x in line.split()[1:]]
    for f in glob.glob(out + "*"):
        os.unlink(f)
    return dict(zip(events or [], summary or []))


def main():
    builds = [os.path.abspath(b) for b in sys.argv[1:]]
    if not builds:
        sys.exit(__doc__)
    for count in COUNTS:
        imsd = catalogue(count, builds[0])
        for b in builds:
            ev = measure(imsd, count, b)
            cb.log("%d images, %s: %s" % (count, b, "  ".join(
                "%s %.1f k/page" % (k, v / N / 1e3) for k, v in ev.items())))


if __name__ == "__main__":
    main()
