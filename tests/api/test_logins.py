"""Logins under attack: password hashing runs on a pool of its own (not on
the HTTP event loops), logins are rate-limited per address and per user
(429 + Retry-After), an unknown user costs as much as a wrong password, and
failed logins lock a user for the failing address only (imsctl user unlock
ends it). Other source addresses are loopback aliases (127.0.0.x)."""
import http.client
import json
import os
import statistics
import threading
import time

from helpers import ADMIN_PASSWORD, ADMIN_PROJECT, ADMIN_USER, password_auth_body

NO_LIMITS = {"login_rate_per_address": 0, "login_rate_per_user": 0}


def login_from(srv, source, body, timeout=30):
    """POST /v3/auth/tokens from the loopback address `source`: (status, headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request("POST", "/v3/auth/tokens", json.dumps(body), {"Content-Type": "application/json"})
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read().decode()
    finally:
        conn.close()


def admin_body(pw=ADMIN_PASSWORD):
    return password_auth_body(ADMIN_USER, pw, ADMIN_PROJECT)


def test_logins_do_not_stall_other_requests(start_imsd):
    """6 logins whose password check is long (a slow argon2 hash, about
    0.7 s of CPU each) on 2 hashing threads, scheduled as the 2 event loops
    are (deferred_priority 0, not idle, so no priority helps the GETs): 40 GETs, each
    on a connection of its own (any loop), all complete while every login
    is provably still in flight (imsd's CPU shows the checks running, and
    none has answered yet). With argon2 on the event loops (as before) a
    GET on a loop running a check waited for it, so the logins answered
    first. Proved by order, not by a latency bound (no timing on a loaded
    machine decides it)."""
    srv = start_imsd(config={"identity": NO_LIMITS, "server": {"threads": 2, "deferred_threads": 2,
                                                                       "deferred_priority": "0"}})
    admin = srv.admin()
    r = admin.post("/v3/users", json={"user": {"name": "slow_login_user", "password": "Slow-pw-123"}})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    srv.sql("UPDATE users SET password_hash = ? WHERE id = ?", (slow_hash("Slow-pw-123", 10), uid))
    answered = []

    def client():
        status, _, _ = login_from(srv, "127.0.0.1", password_auth_body(None, "Slow-pw-123", user_id=uid),
                                  timeout=600)
        answered.append(status)

    before = cpu_seconds(srv.proc.pid)
    threads = [threading.Thread(target=client) for _ in range(6)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 300
        while cpu_seconds(srv.proc.pid) - before < 0.3:  # the checks run: the logins are in imsd
            assert time.monotonic() < deadline, "the logins' password checks did not start"
            time.sleep(0.01)
        assert not answered, "a login answered before the GETs began: make its hash slower"
        for _ in range(40):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=600)
            try:
                conn.request("GET", "/v2/images?limit=1", headers={"X-Auth-Token": admin.token})
                assert conn.getresponse().status == 200
            finally:
                conn.close()
        assert not answered, "a login answered before the 40 GETs: they waited behind password checks"
    finally:
        for t in threads:
            t.join(600)
    assert answered == [201] * 6, answered


def test_full_hashing_queue_answers_429(start_imsd):
    """Logins beyond the queue of password checks are answered at once: 429
    with Retry-After, in Keystone's error shape (they do not wait)."""
    srv = start_imsd(config={"server": {"deferred_threads": 1, "deferred_max": 1}, "identity": NO_LIMITS})
    barrier = threading.Barrier(12)
    out = []

    def client():
        barrier.wait()
        r = srv.issue(admin_body())
        out.append((r.status_code, r.headers.get("Retry-After"), r.json() if r.status_code == 429 else None))

    threads = [threading.Thread(target=client) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = [c for c, _, _ in out]
    assert set(codes) <= {201, 429} and 201 in codes and 429 in codes, codes
    assert all(ra == "1" for c, ra, _ in out if c == 429), out
    err = next(body for c, _, body in out if c == 429)["error"]
    assert err["code"] == 429 and "password checks" in err["message"], err
    assert srv.issue(admin_body()).status_code == 201


def test_rate_per_address_429_with_retry_after(start_imsd):
    srv = start_imsd(config={"identity": {"login_rate_per_address": 3, "login_rate_per_user": 0}})
    for _ in range(3):
        assert login_from(srv, "127.0.0.2", admin_body("wrong-pw"))[0] == 401
    status, headers, body = login_from(srv, "127.0.0.2", admin_body())
    assert status == 429, body
    assert int(headers["Retry-After"]) >= 1
    err = json.loads(body)["error"]             # Keystone's shape, as the token API's 401s
    assert err["code"] == 429 and err["title"] and "Too many" in err["message"], err
    # another address is not limited by it
    assert login_from(srv, "127.0.0.3", admin_body())[0] == 201


def test_rate_per_user_counts_failures_and_spares_known_addresses(start_imsd):
    srv = start_imsd(config={"identity": {"login_rate_per_address": 0, "login_rate_per_user": 2,
                                          "lockout_failures": 0}})
    srv.imsctl("project", "create", "ratep")
    srv.imsctl("user", "create", "target", "--password", "target-pw", "--project", "ratep")
    good = password_auth_body("target", "target-pw", "ratep")
    assert login_from(srv, "127.0.0.5", good)[0] == 201        # its usual address
    # failures from two addresses exhaust the user's bucket ...
    assert login_from(srv, "127.0.0.6", password_auth_body("target", "x", "ratep"))[0] == 401
    assert login_from(srv, "127.0.0.7", password_auth_body("target", "y", "ratep"))[0] == 401
    status, headers, _ = login_from(srv, "127.0.0.8", good)
    assert status == 429 and int(headers["Retry-After"]) >= 1
    # ... the same for an unknown user
    for src in ("127.0.0.6", "127.0.0.7"):
        assert login_from(srv, src, password_auth_body("nobody-here", "x"))[0] == 401
    assert login_from(srv, "127.0.0.8", password_auth_body("nobody-here", "x"))[0] == 429
    # but the address the user logged in from before still gets in, and other users are untouched
    assert login_from(srv, "127.0.0.5", good)[0] == 201
    assert login_from(srv, "127.0.0.8", admin_body())[0] == 201


def test_unknown_user_costs_as_much_as_a_wrong_password(start_imsd):
    srv = start_imsd(config={"identity": dict(NO_LIMITS, lockout_failures=0)})

    bodies = {"wrong password": admin_body("wrong-pw"),
              "unknown user": password_auth_body("no-such-user", "wrong-pw"),
              "unknown domain": password_auth_body("admin", "wrong-pw", domain="NoSuchDomain")}
    times = {k: [] for k in bodies}
    for _ in range(9):                  # interleaved, so a busy moment hits all three alike
        for kind, body in bodies.items():
            t0 = time.monotonic()
            assert srv.issue(body).status_code == 401
            times[kind].append(time.monotonic() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    # before: ~30 ms against ~0.3 ms
    for kind in ("unknown user", "unknown domain"):
        assert 0.4 < med[kind] / med["wrong password"] < 2.5, med


def test_lockout_is_per_address_and_imsctl_unlocks(start_imsd):
    srv = start_imsd(config={"identity": {"lockout_failures": 3, "lockout_seconds": 600}})
    srv.imsctl("project", "create", "lockp")
    srv.imsctl("user", "create", "victim", "--password", "victim-pw", "--project", "lockp")
    good = password_auth_body("victim", "victim-pw", "lockp")
    for _ in range(3):
        assert login_from(srv, "127.0.0.2", password_auth_body("victim", "nope", "lockp"))[0] == 401
    status, _, body = login_from(srv, "127.0.0.2", good)
    assert status == 401 and "locked" in body
    # the attacker's address is locked out, the user's own is not
    assert login_from(srv, "127.0.0.3", good)[0] == 201
    srv.imsctl("user", "unlock", "victim")
    assert login_from(srv, "127.0.0.2", good)[0] == 201


def test_password_change_ends_the_locks(start_imsd):
    srv = start_imsd(config={"identity": {"lockout_failures": 2, "lockout_seconds": 600}})
    admin = srv.admin()
    r = admin.post("/v3/users", json={"user": {"name": "lockme_user", "password": "Old-pw-123"}})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    for _ in range(2):
        assert login_from(srv, "127.0.0.2", password_auth_body(None, "guess", user_id=uid))[0] == 401
    assert login_from(srv, "127.0.0.2", password_auth_body(None, "Old-pw-123", user_id=uid))[0] == 401
    r = admin.patch("/v3/users/" + uid, json={"user": {"password": "New-pw-456"}})
    assert r.status_code == 200, r.text
    assert login_from(srv, "127.0.0.2", password_auth_body(None, "New-pw-456", user_id=uid))[0] == 201


def test_admin_cannot_be_locked_out_from_elsewhere(start_imsd):
    srv = start_imsd(config={"identity": {"lockout_failures": 2, "lockout_seconds": 600,
                                          "login_rate_per_user": 3}})
    assert srv.issue(admin_body()).status_code == 201          # the admin's usual address
    for src in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        for _ in range(3):
            assert login_from(srv, src, admin_body("guess"))[0] in (401, 429)
    assert login_from(srv, "127.0.0.2", admin_body())[0] in (401, 429)
    assert srv.issue(admin_body()).status_code == 201


def slow_hash(password, t_cost):
    """An argon2id hash imsd verifies as any other, but t_cost passes over
    64 MiB long (libargon2, as imsd links it)."""
    import ctypes
    import os
    lib = ctypes.CDLL("libargon2.so.1")
    f = lib.argon2id_hash_encoded
    f.argtypes = [ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_char_p, ctypes.c_size_t,
                  ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]
    out = ctypes.create_string_buffer(256)
    pw = password.encode()
    assert f(t_cost, 65536, 1, pw, len(pw), os.urandom(16), 16, 32, out, len(out)) == 0
    return out.value.decode()


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_login_under_way_when_the_password_changes_gets_no_usable_token(start_imsd):
    """A login reads the password hash, then checks it (argon2, long):
    its token's time is taken before the read, so a password change that
    commits during the check ends the token it gives (with the old
    password, which matched what it read). The user's hash is made slow to
    check (about two seconds of CPU); the change is made once imsd's CPU shows the
    check running, by a second hashing thread."""
    srv = start_imsd(config={"identity": NO_LIMITS, "server": {"deferred_threads": 2}})
    admin = srv.admin()
    r = admin.post("/v3/users", json={"user": {"name": "racer_user", "password": "Old-pw-123"}})
    assert r.status_code == 201, r.text
    uid = r.json()["user"]["id"]
    srv.sql("UPDATE users SET password_hash = ? WHERE id = ?", (slow_hash("Old-pw-123", 30), uid))
    before = cpu_seconds(srv.proc.pid)
    got = []
    # the hashing threads may run at SCHED_IDLE: on a busy machine the check takes long
    login = threading.Thread(target=lambda: got.append(
        login_from(srv, "127.0.0.2", password_auth_body(None, "Old-pw-123", user_id=uid), timeout=600)))
    login.start()
    try:
        deadline = time.monotonic() + 300
        while cpu_seconds(srv.proc.pid) - before < 0.3:  # the check runs: the old hash was read
            assert time.monotonic() < deadline, "the login's password check did not start"
            time.sleep(0.02)
        r = admin.patch("/v3/users/" + uid, json={"user": {"password": "New-pw-456"}})
        assert r.status_code == 200, r.text
        assert login.is_alive(), "the login ended before the change: the race was not met"
    finally:
        login.join(600)
    assert got, "the login did not answer"
    status, headers, body = got[0]
    assert status == 201, body  # the old password matched the hash it read ...
    token = headers["X-Subject-Token"]
    r = admin.get("/v3/auth/tokens", headers={"X-Subject-Token": token})
    assert r.status_code == 404, r.text  # ... but its token counts for nothing
