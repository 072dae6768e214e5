"""Slowloris (issue 9 item 7): a deadline for the request head, a cap of
connections per client address answered 503, and ordinary clients keep
being answered quickly during a bounded attack. The attack comes from
127.0.0.2 (its own address on the loopback), ordinary clients from 127.0.0.1."""
import socket
import threading
import time

import pytest
import requests

from helpers import RawReply, Server, raw_request

HEAD_TIMEOUT = 2
ADDRESS_CAP = 40
SLOW = 60
ATTACKER = "127.0.0.2"


@pytest.fixture(scope="module")
def guarded():
    srv = Server(config={"server": {"head_timeout": HEAD_TIMEOUT,
                                    "address_connection_limit": ADDRESS_CAP,
                                    "connection_limit": 200}})
    srv.start()
    yield srv
    assert srv.stop() == 0


def _dribbler(port, out, idx, stop):
    """Sends a request line, then a header line every 0.3 s, never ending the
    head; records when and how the server ended the connection."""
    t0 = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), source_address=(ATTACKER, 0), timeout=10)
    s.settimeout(0.3)
    got = b""
    try:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        while not stop.is_set():
            try:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
            except socket.timeout:
                s.sendall(b"X-Slow: 1\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        s.close()
    out[idx] = (time.monotonic() - t0, got)


def test_slow_heads_are_cut_and_others_answered(guarded):
    stop = threading.Event()
    results = [None] * SLOW
    threads = [threading.Thread(target=_dribbler, args=(guarded.port, results, i, stop))
               for i in range(SLOW)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        # Over the cap for its address: a complete request is refused with a body.
        r = raw_request(guarded.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", source=ATTACKER)
        assert r.status == 503, r.raw[:300]
        assert r.headers.get("retry-after") == "1"
        assert "Too many open connections from your address" in r.json()["message"]
        # Everyone else is answered quickly during the attack.
        with requests.Session() as ordinary:
            ordinary.trust_env = False
            worst = 0.0
            deadline = time.monotonic() + HEAD_TIMEOUT + 1
            n = 0
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                assert ordinary.get(guarded.url + "/", timeout=5).status_code == 300
                worst = max(worst, time.monotonic() - t0)
                n += 1
                time.sleep(0.05)
        assert n > 10 and worst < 0.5, (n, worst)
        for t in threads:
            t.join(HEAD_TIMEOUT + 5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    for elapsed, got in results:
        # Cut at the deadline (plus the reaper's and this machine's slack), told why.
        assert HEAD_TIMEOUT - 0.5 < elapsed < HEAD_TIMEOUT + 3, results
        reply = RawReply(got)
        assert reply.status == 408, got[:200]
        assert reply.json()["message"] == "The request head did not arrive in time."


def test_idle_keep_alive_connection_is_closed_silently(guarded):
    s = socket.create_connection(("127.0.0.1", guarded.port), timeout=HEAD_TIMEOUT + 5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    first = s.recv(65536)
    assert first.startswith(b"HTTP/1.1 300"), first[:100]
    t0 = time.monotonic()
    rest = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    s.close()
    assert rest == b"" and time.monotonic() - t0 < HEAD_TIMEOUT + 3


def test_connections_under_the_cap_are_served(guarded):
    socks = [socket.create_connection(("127.0.0.1", guarded.port), source_address=(ATTACKER, 0))
             for _ in range(ADDRESS_CAP - 1)]
    try:
        r = raw_request(guarded.port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        source=ATTACKER)
        assert r.status == 300, r.raw[:300]
    finally:
        for s in socks:
            s.close()


def test_global_cap_answers_503():
    srv = Server(config={"server": {"connection_limit": 20, "address_connection_limit": 0}})
    srv.start()
    try:
        socks = [socket.create_connection(("127.0.0.1", srv.port), source_address=("127.0.0.3", 0))
                 for _ in range(25)]
        try:
            time.sleep(0.2)
            r = raw_request(srv.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert r.status == 503, r.raw[:300]
            assert "too many open connections" in r.json()["message"]
        finally:
            for s in socks:
                s.close()
    finally:
        assert srv.stop() == 0
    srv.kill()
