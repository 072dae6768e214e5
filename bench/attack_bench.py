#!/usr/bin/python3
"""Attack benchmark (issue 9): latency of ordinary GETs quiet, then while
(a) a bounded slowloris and (b) a login flood run, in the same run against
one fresh imsd. Prints median and p99 and the ratios to quiet; the target is
p99 under attack within 2x of the quiet p99. A benchmark: exits 0 whether the
target is met or not.

  /usr/bin/python3 bench/attack_bench.py     (IMSD_BIN / IMSCTL_BIN: default build/)

Attackers run in their own processes (no GIL shared with the measuring
client); the slowloris comes from 127.0.0.2, so it does not share the
per-address connection cap with the measured client on 127.0.0.1."""
import http.client
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMSD = os.environ.get("IMSD_BIN", os.path.join(ROOT, "build", "imsd"))
IMSCTL = os.environ.get("IMSCTL_BIN", os.path.join(ROOT, "build", "imsctl"))
ADMIN_PW = "Bench-adm1n-pw"
PHASE_SECONDS = float(os.environ.get("ATTACK_PHASE_SECONDS", "10"))
SLOW_CONNECTIONS = 400
FLOOD_CLIENTS = 8


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers=dict(headers or {}, **({"Content-Type": "application/json"} if body is not None else {})))
    r = c.getresponse()
    data = r.read()
    c.close()
    return r, data


def auth_body(user, password, project):
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}


def slowloris(port, stop, statuses):
    """SLOW_CONNECTIONS sockets that send a header line every second and
    never end their head; reopened when the server cuts them."""
    socks = {}
    while not stop.is_set():
        for i in range(SLOW_CONNECTIONS):
            s = socks.get(i)
            try:
                if s is None:
                    s = socket.create_connection(("127.0.0.1", port), source_address=("127.0.0.2", 0), timeout=2)
                    s.sendall(b"GET /v2/images HTTP/1.1\r\nHost: x\r\n")
                    socks[i] = s
                else:
                    s.sendall(b"X-Slow: 1\r\n")
            except OSError:
                if s is not None:
                    s.close()
                    with statuses.get_lock():
                        statuses[408] += 1  # cut by the server (a 408 or a close)
                socks.pop(i, None)
        stop.wait(1.0)
    for s in socks.values():
        s.close()


def login_flood(port, stop, statuses):
    """FLOOD_CLIENTS threads posting logins back to back, half with a wrong
    password (of their own user, so the right ones keep working)."""
    def one(k):
        while not stop.is_set():
            if k % 2:
                body = auth_body("flood-right", "Flood-right-pw1", "bench")
            else:
                body = auth_body("flood-wrong", "not-the-password", "bench")
            try:
                r, _ = call(port, "POST", "/v3/auth/tokens", body)
                with statuses.get_lock():
                    statuses[min(r.status, 599)] += 1
            except OSError:
                with statuses.get_lock():
                    statuses[0] += 1
                time.sleep(0.01)
    threads = [threading.Thread(target=one, args=(k,)) for k in range(FLOOD_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def measure(port, token, image_id, seconds):
    """Sequential GET /v2/images/{id} on one keep-alive connection."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    lat = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        c.request("GET", "/v2/images/" + image_id, headers={"X-Auth-Token": token})
        r = c.getresponse()
        r.read()
        lat.append(time.perf_counter() - t0)
        if r.status != 200:
            raise SystemExit("GET answered %d" % r.status)
    c.close()
    lat.sort()
    return statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))], len(lat)


def proc_status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def phase(name, port, token, image_id, attack, imsd_pid):
    """Measures GETs beside the attack; prints what the attack got back,
    how many answers a second it got, and imsd's peak RSS over the phase
    (VmHWM, reset at its start)."""
    stop = multiprocessing.Event()
    statuses = multiprocessing.Array("i", 600)
    proc = None
    with open("/proc/%d/clear_refs" % imsd_pid, "w") as f:
        f.write("5")  # VmHWM := VmRSS
    t0 = time.monotonic()
    if attack:
        proc = multiprocessing.Process(target=attack, args=(port, stop, statuses))
        proc.start()
        time.sleep(2)  # let the attack build up
    try:
        return measure(port, token, image_id, PHASE_SECONDS)
    finally:
        if proc:
            stop.set()
            proc.join(10)
            if proc.is_alive():
                proc.terminate()
            secs = time.monotonic() - t0
            seen = ", ".join("%s: %d" % (k or "connection error", v) for k, v in enumerate(statuses[:]) if v)
            hashed = statuses[201] + statuses[401]  # a password checked (429s are not)
            print("  %s attack outcomes: %s (%.1f a second answered after a password check)" % (
                name, seen or "none", hashed / secs))
        print("  %s: imsd VmHWM %.1f MiB, VmRSS %.1f MiB after" % (
            name, proc_status_kib(imsd_pid, "VmHWM") / 1024, proc_status_kib(imsd_pid, "VmRSS") / 1024))


def main():
    for b in (IMSD, IMSCTL):
        if not os.access(b, os.X_OK):
            raise SystemExit("missing %s (make all)" % b)
    tmp = tempfile.mkdtemp(prefix="imsd-attack-")
    port = free_port()
    env = dict(os.environ, IMSD_LISTEN="127.0.0.1:%d" % port, IMSD_DATA_DIR=tmp,
               IMSD_ADMIN_PASSWORD=ADMIN_PW, IMSD_LOG_LEVEL="warning")
    log = open(os.path.join(tmp, "imsd.log"), "wb")
    proc = subprocess.Popen([IMSD], env=env, stdout=log, stderr=log)
    try:
        for _ in range(200):
            try:
                call(port, "GET", "/")
                break
            except OSError:
                time.sleep(0.05)
        ctl = [IMSCTL, "--data-dir", tmp]
        subprocess.run(ctl + ["project", "create", "bench"], check=True, capture_output=True)
        for user, pw in (("flood-right", "Flood-right-pw1"), ("flood-wrong", "Flood-wrong-pw1")):
            subprocess.run(ctl + ["user", "create", user, "--password", pw, "--project", "bench"],
                           check=True, capture_output=True)
        r, _ = call(port, "POST", "/v3/auth/tokens", auth_body("admin", ADMIN_PW, "admin"))
        token = r.getheader("X-Subject-Token")
        r, data = call(port, "POST", "/v2/images", {"name": "attack-bench"}, {"X-Auth-Token": token})
        image_id = json.loads(data)["id"]

        print("imsd attack benchmark: GET /v2/images/{id}, one keep-alive client, %.0f s per phase" % PHASE_SECONDS)
        quiet = phase("quiet", port, token, image_id, None, proc.pid)
        rows = [("quiet", quiet),
                ("slowloris (%d conns)" % SLOW_CONNECTIONS,
                 phase("slowloris", port, token, image_id, slowloris, proc.pid)),
                ("login flood (%d clients)" % FLOOD_CLIENTS,
                 phase("flood", port, token, image_id, login_flood, proc.pid))]
        print("%-26s %9s %9s %8s %10s %9s" % ("phase", "median ms", "p99 ms", "samples", "median/q", "p99/q"))
        for name, (med, p99, n) in rows:
            print("%-26s %9.2f %9.2f %8d %10.2f %9.2f" % (name, med * 1e3, p99 * 1e3, n, med / quiet[0], p99 / quiet[1]))
        print("target: p99 under attack within 2x of quiet p99")
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
