"""imsd's memory stays flat (issue 15 item 4): what a request allocates is
given back, whatever the requests were. The figures under load with 100,000
images are bench/catalog_bench.py's (bench/README.md)."""
import threading

import pytest

from helpers import ADMIN_PASSWORD, ADMIN_PROJECT, ADMIN_USER, imsd_is_sanitized, password_auth_body

NO_LIMITS = {"login_rate_per_address": 0, "login_rate_per_user": 0}


def vm_rss_kib(srv):
    with open("/proc/%d/status" % srv.proc.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for imsd")


def test_logins_give_back_the_hashing_memory(start_imsd):
    """16 logins, 4 at a time: each argon2id hash takes 19 MiB on a deferred
    thread. glibc kept it resident after the first hash (RSS grew by 19 MiB
    per deferred thread, about 40 MiB here); now it is unmapped when freed."""
    if imsd_is_sanitized():
        pytest.skip("glibc's allocator is what this measures; ASan's replaces it and quarantines what is freed")
    srv = start_imsd(config={"identity": NO_LIMITS})
    before = vm_rss_kib(srv)
    codes = []

    def client():
        for _ in range(4):
            codes.append(srv.issue(password_auth_body(ADMIN_USER, ADMIN_PASSWORD, ADMIN_PROJECT)).status_code)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [201] * 16, codes
    grown = vm_rss_kib(srv) - before
    assert grown < 12 * 1024, "RSS grew by %d KiB over 16 logins" % grown
