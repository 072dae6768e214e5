#!/usr/bin/python3
"""Glance's interoperable import against the plain paths, one run, as ratios
(issue 13's benchmark): the same random file (BENCH_MIB, default 1024 MiB)
imported by glance-direct (stage + import, until the image is active) and by
web-download (from a local HTTP server, until active), against the plain
upload (PUT /v2/images/{id}/file with curl) and against curl fetching the
file from the same server to /dev/null. Target: each import at least 80% of
the throughput of the slower of the two baselines. Starts its own imsd
(the HTTP server's host and port allowed in [import_filtering_opts]) and a
Python HTTP server on free ports in a temp dir; stops both and removes the
dir at the end. BENCH_RUNS rounds of the four cases in turn (the machine is
shared and its load moves: the cases of a round ran under about the same
load); reported: the best of each case with its ratio, and the median of
the rounds' own ratios. Exits 0 whether the target is met or not.

  BENCH_BUILD (build), BENCH_MIB (1024), BENCH_RUNS (2)"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from bench_harness import Imsd as BaseImsd, free_port, interleaved, logger, wait_http

MIB = int(os.environ.get("BENCH_MIB", "1024"))
RUNS = int(os.environ.get("BENCH_RUNS", "2"))
log = logger("interop-bench")


class Imsd(BaseImsd):
    """imsd with the web server's host and port allowed to web-download from."""

    def __init__(self, tmp, web_port):
        super().__init__(tmp, conf="[images]\nmax_image_size = %d\n\n[import_filtering_opts]\n"
                                   "allowed_hosts = 127.0.0.1\nallowed_ports = %d\n" % (4 * MIB << 20, web_port))

    def image(self):
        r = self.s.post(self.url + "/v2/images", json={"name": "bench", "disk_format": "raw",
                                                        "container_format": "bare"})
        r.raise_for_status()
        return r.json()["id"]

    def wait_active(self, image_id, timeout=1800):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            st = self.s.get(self.url + "/v2/images/" + image_id).json()["status"]
            if st == "active":
                return
            tasks = self.s.get(self.url + "/v2/images/%s/tasks" % image_id).json()["tasks"]
            if tasks and tasks[-1]["status"] == "failure":
                raise SystemExit("import of %s failed: %s" % (image_id, tasks[-1]["message"]))
            time.sleep(0.05)
        raise SystemExit("import of %s did not finish" % image_id)

    def curl_put(self, path, f):
        subprocess.run(["curl", "-sf", "-o", "/dev/null", "-X", "PUT", "-T", f, "-H", "X-Auth-Token: " + self.token,
                        "-H", "Content-Type: application/octet-stream", self.url + path], check=True)

def main():
    for tool in ("curl",):
        if not shutil.which(tool):
            raise SystemExit("%s is needed" % tool)
    tmp = tempfile.mkdtemp(prefix="interop-bench-")
    web = imsd = None
    try:
        www = os.path.join(tmp, "www")
        os.mkdir(www)
        f = os.path.join(www, "disk.raw")
        log("writing %d MiB of random data" % MIB)
        with open(f, "wb") as out:
            for _ in range(MIB):
                out.write(os.urandom(1 << 20))
        web_port = free_port()
        web = subprocess.Popen([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(web_port),
                                "--directory", www], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        uri = "http://127.0.0.1:%d/disk.raw" % web_port
        wait_http(uri)
        imsd = Imsd(tmp, web_port)
        size = os.path.getsize(f)

        def curl_fetch():
            subprocess.run(["curl", "-sf", "-o", "/dev/null", uri], check=True)

        def upload():
            imsd.curl_put("/v2/images/%s/file" % imsd.image(), f)

        def glance_direct():
            i = imsd.image()
            imsd.curl_put("/v2/images/%s/stage" % i, f)
            r = imsd.s.post(imsd.url + "/v2/images/%s/import" % i, json={"method": {"name": "glance-direct"}})
            r.raise_for_status()
            imsd.wait_active(i)

        def web_download():
            i = imsd.image()
            r = imsd.s.post(imsd.url + "/v2/images/%s/import" % i,
                            json={"method": {"name": "web-download", "uri": uri}})
            r.raise_for_status()
            imsd.wait_active(i)

        times = interleaved((("curl fetch", curl_fetch), ("PUT /file upload", upload),
                             ("glance-direct (stage + import)", glance_direct), ("web-download", web_download)),
                            RUNS, log)
        mb = size / 1e6
        best = {name: min(t) for name, t in times.items()}
        slower = max(best["curl fetch"], best["PUT /file upload"])
        # each round against its own slower baseline
        round_slower = [max(a, b) for a, b in zip(times["curl fetch"], times["PUT /file upload"])]
        print()
        print("load average: %s; target: each import >= 0.80 of the slower baseline"
              % open("/proc/loadavg").read().split()[:3])
        print("%-32s %9s %9s %-14s %-14s %s" % ("case", "best s", "MB/s", "vs slower best", "rounds' median",
                                                "seconds per round"))
        for name, t in best.items():
            note = rounds = ""
            if name in ("glance-direct (stage + import)", "web-download"):
                ratio = slower / t
                note = "%.2f %s" % (ratio, "ok" if ratio >= 0.8 else "MISSED")
                rounds = "%.2f" % statistics.median(s / c for s, c in zip(round_slower, times[name]))
            print("%-32s %9.2f %9.0f %-14s %-14s %s" % (name, t, mb / t, note, rounds,
                                                        " ".join("%.2f" % x for x in times[name])))
    except SystemExit:
        log_path = os.path.join(tmp, "imsd.log")
        if os.path.exists(log_path):
            sys.stderr.write(open(log_path).read()[-3000:])
        raise
    finally:
        if imsd:
            imsd.stop()
        if web:
            web.terminate()
            web.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
