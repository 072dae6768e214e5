#!/usr/bin/python3
"""Backups of a running QEMU domain (issue 12, item 3): how fast QEMU's
backup job copies a running domain's disk, as imsd has libvirt make it
(push mode, a raw target imsd made, REUSE_EXTERNAL), against `cp` + sync of
the same file to the same file system, in interleaved rounds; and the same
job through QMP with QEMU 7.2's x-perf knobs (max-workers, max-chunk,
use-copy-range), which libvirt 9.0 does not offer, to see what they would
give. A libvirt daemon of the bench's own (tests/api/libvirt_qemu.py: needs
root, qemu-system-x86, libvirt-daemon); an emulated domain with no OS.
Exits 0 whatever the figures.

  BENCH_MIB (1024), BENCH_RUNS (3), BENCH_DIR (a temporary directory under
  /var/tmp: the same file system as a data dir there)"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "api"))
from libvirt_qemu import QemuLibvirt, missing  # noqa: E402

from bench_harness import Imsd  # noqa: E402

MIB = int(os.environ.get("BENCH_MIB", "1024"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def sync():
    subprocess.run(["sync"], check=True)


def drop_file(p):
    if os.path.exists(p):
        os.unlink(p)


def make_target(path, cluster=None):
    """raw (as imsd makes it), or qcow2 of the given cluster size"""
    if cluster:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=%d" % cluster, str(path),
                        str(MIB << 20)], check=True)
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.ftruncate(fd, MIB << 20)
    os.close(fd)


def cp_once(src, dst):
    t = time.monotonic()
    shutil.copyfile(src, dst)
    sync()
    return time.monotonic() - t


def libvirt_once(lv, dom, dst, xmlfile, cluster=None):
    make_target(dst, cluster)
    xmlfile.write_text("<domainbackup mode='push'><disks><disk name='vda' backup='yes' type='file'>"
                       "<target file='%s'/><driver type='%s'/></disk></disks></domainbackup>"
                       % (dst, "qcow2" if cluster else "raw"))
    t = time.monotonic()
    lv.virsh("backup-begin", dom, xmlfile, "--reuse-external")
    while lv.backup_running(dom):
        time.sleep(0.01)
    sync()
    took = time.monotonic() - t
    info = lv.virsh("domjobinfo", dom, "--completed").stdout
    assert "Completed" in info, info
    return took


def imsd_once(srv, dom):
    """POST /v1/admin/backups of the running domain: imsd's whole path
    (files made, libvirt's job begun and polled, files fsynced, recorded)."""
    t = time.monotonic()
    r = srv.s.post(srv.url + "/v1/admin/backups", json={"server_id": dom}, timeout=600)
    assert r.status_code == 201, r.text
    sync()
    took = time.monotonic() - t
    r = srv.s.delete(srv.url + "/v1/admin/backups/" + r.json()["backup"]["id"], timeout=60)
    assert r.status_code == 204, r.text
    return took


def qmp(lv, dom, cmd, **args):
    r = lv.virsh("qemu-monitor-command", dom, json.dumps({"execute": cmd, "arguments": args}))
    return json.loads(r.stdout)


def qmp_once(lv, dom, dst, perf, n, discard=None):
    """blockdev-backup straight through QMP into a raw file node, x-perf
    as given; the job's end is waited for through query-jobs."""
    make_target(dst)
    node = "bench-target-%d" % n
    qmp(lv, dom, "blockdev-add", **{"node-name": node, "driver": "raw",
                                    "file": dict({"driver": "file", "filename": str(dst)},
                                                 **({"discard": discard} if discard else {}))})
    args = {"job-id": "bench-%d" % n, "device": "libvirt-1-format", "target": node, "sync": "full",
            "auto-dismiss": True}
    if perf:
        args["x-perf"] = perf
    t = time.monotonic()
    out = qmp(lv, dom, "blockdev-backup", **args)
    assert "error" not in out, out
    while any(j["id"] == "bench-%d" % n for j in qmp(lv, dom, "query-jobs")["return"]):
        time.sleep(0.01)
    sync()
    took = time.monotonic() - t
    qmp(lv, dom, "blockdev-del", **{"node-name": node})
    return took


def main():
    why = missing()
    if why:
        print("skipped: %s" % why)
        return 0
    base = Path(tempfile.mkdtemp(prefix="running-backup-bench-", dir=os.environ.get("BENCH_DIR", "/var/tmp")))
    lv = QemuLibvirt(base / "libvirtd")
    srv = None
    try:
        why = lv.start()
        if why:
            print("skipped: %s" % why)
            return 0
        disk = base / "disk.raw"
        with open(disk, "wb") as f:
            for _ in range(MIB):
                f.write(os.urandom(1 << 20))
        sync()
        (base / "imsd").mkdir()
        srv = Imsd(str(base / "imsd"), conf="[compute]\nbackend = libvirt\nuri = %s\n" % lv.uri)
        dom = lv.start_domain("bench", [(str(disk), "raw", "vda")], project=srv.project,
                              os_version="Ubuntu 22.04 server 64bit")
        cases = {
            "cp + sync": lambda i: cp_once(disk, base / "cp.raw"),
            "imsd: POST /v1/admin/backups": lambda i: imsd_once(srv, dom),
            "libvirt push (as imsd)": lambda i: libvirt_once(lv, dom, base / "lv.raw", base / "b.xml"),
            "libvirt push, qcow2 target, 64 KiB": lambda i: libvirt_once(lv, dom, base / "l64.qcow2",
                                                                         base / "b.xml", 64 << 10),
            "libvirt push, qcow2 target, 2 MiB": lambda i: libvirt_once(lv, dom, base / "l2m.qcow2",
                                                                        base / "b.xml", 2 << 20),
            "QMP, x-perf default": lambda i: qmp_once(lv, dom, base / "q0.raw", None, i),
            "QMP, target discard=unmap (as libvirt)": lambda i: qmp_once(lv, dom, base / "q4.raw", None, 4000 + i,
                                                                         "unmap"),
            "QMP, x-perf workers 64, chunk 16 MiB": lambda i: qmp_once(
                lv, dom, base / "q1.raw", {"max-workers": 64, "max-chunk": 16 << 20}, 1000 + i),
            "QMP, x-perf copy-range": lambda i: qmp_once(
                lv, dom, base / "q2.raw", {"use-copy-range": True, "max-chunk": 16 << 20}, 2000 + i),
            "QMP, x-perf copy-range, 64 KiB chunks": lambda i: qmp_once(
                lv, dom, base / "q3.raw", {"use-copy-range": True}, 3000 + i),
        }
        times = {k: [] for k in cases}
        for i in range(RUNS):
            for name, fn in cases.items():
                times[name].append(fn(i))
                for p in ("cp.raw", "lv.raw", "l64.qcow2", "l2m.qcow2", "q0.raw", "q1.raw", "q2.raw", "q3.raw", "q4.raw"):
                    drop_file(base / p)
        load = os.getloadavg()[0]
        print("running-domain backup, %d MiB random raw disk, best of %d (load %.1f at the end)" % (MIB, RUNS, load))
        cp = min(times["cp + sync"])
        for name, ts in times.items():
            best = min(ts)
            print("  %-40s best %6.2f s  (%s)  %.2f of cp" % (name, best, ", ".join("%.2f" % t for t in ts),
                                                               cp / best))
    finally:
        if srv:
            srv.stop()
        lv.stop()
        if not os.environ.get("BENCH_KEEP"):
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
