#!/usr/bin/python3
"""copy-image against the plain upload of the same file, back to back
(issue 13): an imsd with two file stores ([stores] enabled = fast:file,
cheap:file), a random file of BENCH_MIB MiB (1024) uploaded with PUT
/v2/images/{id}/file into fast, then copy-image of that image to cheap;
BENCH_RUNS pairs (3). For each: the wall time, MB/s and imsd's CPU seconds
(all threads, /proc/<pid>/stat) per GiB, which load on a shared machine
moves far less than the wall time. BENCH_PERF=1 also records `perf record
-g` of imsd during the last copy (build/copy-perf.data).

  IMSD_BIN=build/imsd IMSCTL_BIN=build/imsctl bench/copy_bench.py"""
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "api"))
from helpers import Server, create_image, unique  # noqa: E402

MIB = int(os.environ.get("BENCH_MIB", "1024"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path("/proc/%d/stat" % pid).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def stores_of(api, image_id):
    return sorted((api.get("/v2/images/%s" % image_id).json().get("stores") or "").split(","))


def main():
    srv = Server(config={"stores": {"enabled": "fast:file, cheap:file", "default": "fast"}})
    srv.start(timeout=60)
    path = srv.root / "bench.bin"
    with open(path, "wb") as f:
        for _ in range(MIB):
            f.write(os.urandom(1 << 20))
    size = MIB << 20
    pid = srv.proc.pid
    perf = None
    try:
        api, admin = srv.project_user(), srv.admin()
        print("| run | upload s | upload MB/s | upload imsd CPU s/GiB | copy s | copy MB/s | copy imsd CPU s/GiB |")
        print("|---|---|---|---|---|---|---|")
        for run in range(1, RUNS + 1):
            img = create_image(api, name=unique("copy"), disk_format="raw", container_format="bare")
            c0, t0 = cpu_seconds(pid), time.monotonic()
            with open(path, "rb") as f:
                r = api.put("/v2/images/%s/file" % img["id"], data=f,
                            headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})
            t1, c1 = time.monotonic(), cpu_seconds(pid)
            assert r.status_code == 204, r.text
            if run == RUNS and os.environ.get("BENCH_PERF") == "1":
                perf = subprocess.Popen(["perf", "record", "-g", "-o", "build/copy-perf.data", "-p", str(pid)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)
            c2, t2 = cpu_seconds(pid), time.monotonic()
            r = admin.post("/v2/images/%s/import" % img["id"],
                           json={"method": {"name": "copy-image"}, "stores": ["cheap"]})
            assert r.status_code == 202, r.text
            while stores_of(api, img["id"]) != ["cheap", "fast"]:
                time.sleep(0.05)
            t3, c3 = time.monotonic(), cpu_seconds(pid)
            if perf:
                perf.send_signal(2)
                perf.wait()
            gib = size / (1 << 30)
            print("| %d | %.2f | %.0f | %.2f | %.2f | %.0f | %.2f |" % (
                run, t1 - t0, size / (t1 - t0) / 1e6, (c1 - c0) / gib,
                t3 - t2, size / (t3 - t2) / 1e6, (c3 - c2) / gib), flush=True)
            assert api.delete("/v2/images/%s" % img["id"]).status_code == 204
    finally:
        srv.stop()
        path.unlink()


if __name__ == "__main__":
    main()
