"""Fixtures for the imsd API suite.

Run with Debian's python:  /usr/bin/python3 -m pytest tests/api
Binaries: IMSD_BIN (default build/imsd), IMSCTL_BIN (default build/imsctl).
"""
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import (IMSD_BIN, IMSCTL_BIN, Server)  # noqa: E402
from obs_fixtures import obs_s3  # noqa: E402,F401  (the S3 test server, session-wide)
from libvirt_qemu import qemu_libvirt, qemu_libvirt_user  # noqa: E402,F401  (libvirt daemons with QEMU, module-wide)

# The session server: big enough for the 1 GiB round trip.
SESSION_CONFIG = {
    "images": {"max_image_size": 2 * 1024 ** 3 + 4096},
    "identity": {"region": "RegionOne"},
}


def _check_binaries():
    for b in (IMSD_BIN, IMSCTL_BIN):
        if not os.access(b, os.X_OK):
            pytest.fail("binary %s is missing or not executable (build with make all, "
                        "or set IMSD_BIN/IMSCTL_BIN)" % b, pytrace=False)


def _stop_checked(srv):
    if srv.proc is None:
        return
    if srv.running():
        rc = srv.stop()
        assert rc == 0, "imsd exited with %s after SIGTERM\n%s" % (rc, srv.log_tail())
    elif not srv.ended_by_test:
        raise AssertionError("imsd died during the tests (exit status %s; negative = "
                             "signal)\n%s" % (srv.proc.returncode, srv.log_tail()))


@pytest.fixture(scope="session")
def imsd():
    """The shared imsd for most tests (SIGTERM at the end, expects exit 0)."""
    _check_binaries()
    srv = Server(config=SESSION_CONFIG)
    srv.start()
    yield srv
    _stop_checked(srv)
    _cleanup([srv])


def _cleanup(servers):
    """Remove the temp dirs of servers that ended well (kept on failure)."""
    for srv in servers:
        shutil.rmtree(srv.root, ignore_errors=True)


@pytest.fixture(scope="session")
def admin(imsd):
    """requests.Session with an admin project-scoped token; .base is the URL."""
    api = imsd.admin()
    yield api
    api.close()


@pytest.fixture(scope="session")
def make_project_user(imsd):
    """make_project_user(name=None) -> Api for a new project + member user."""
    made = []

    def make(name=None):
        api = imsd.project_user(name)
        made.append(api)
        return api

    yield make
    for api in made:
        api.close()


@pytest.fixture(scope="module")
def alice(make_project_user):
    """A non-admin user in its own project (shared by the tests of a module)."""
    return make_project_user()


@pytest.fixture(scope="module")
def bob(make_project_user):
    return make_project_user()


@pytest.fixture
def start_imsd():
    """start_imsd(config=None, data_dir=None) -> started Server (stopped at teardown)."""
    _check_binaries()
    servers = []

    def start(config=None, data_dir=None):
        srv = Server(config=config, data_dir=data_dir)
        servers.append(srv)
        return srv.start()

    yield start
    errors = []
    for srv in servers:
        try:
            _stop_checked(srv)
        except AssertionError as e:
            errors.append(str(e))
    assert not errors, "\n".join(errors)
    _cleanup(servers)


@pytest.fixture(scope="module")
def module_imsd():
    """Factory for module-scoped special servers (e.g. the pagination one)."""
    _check_binaries()
    servers = []

    def start(config=None):
        srv = Server(config=config)
        servers.append(srv)
        return srv.start()

    yield start
    for srv in servers:
        _stop_checked(srv)
    _cleanup(servers)


@pytest.fixture(autouse=True)
def _session_server_alive(request):
    """Report, at the test that caused it, a shared imsd that died."""
    yield
    if "imsd" in request.fixturenames:
        srv = request.getfixturevalue("imsd")
        if srv.proc is not None and not srv.running() and not srv.ended_by_test:
            srv.ended_by_test = True     # report once, not at every later test
            raise AssertionError("the shared imsd died during this test (exit status %s)\n%s"
                                 % (srv.proc.returncode, srv.log_tail()))
