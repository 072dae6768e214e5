"""Secrets and files (issue: hardening): the admin password is printed by
the start that set it only; the database and its companions are owner-only;
a server-side failure's answer carries no server path."""
import os
import stat

from helpers import create_image, upload


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_password_printed_at_initialisation_only(start_imsd):
    srv = start_imsd()
    first = srv.log_path.read_text()
    assert srv.admin_password in first
    assert srv.stop() == 0
    srv.log_path.write_text("")
    srv.start()
    later = srv.log_path.read_text()
    assert "imsd is running" in later
    assert srv.admin_password not in later
    assert "admin-openrc.sh" in later
    # the file it points at still has what a user needs, for its owner only
    openrc = srv.data_dir / "admin-openrc.sh"
    assert mode(openrc) == 0o600
    assert "OS_PASSWORD='%s'" % srv.admin_password in openrc.read_text()


def test_database_files_are_owner_only(start_imsd, tmp_path):
    # SQLite's files, whatever engine the suite runs on
    data = tmp_path / "data"
    srv = start_imsd(config={"database": {"connection": "sqlite://%s" % (data / "imsd.db")}}, data_dir=data)
    admin = srv.admin()
    create_image(admin)                       # a write, so the WAL exists
    for name in ("imsd.db", "imsd.db-wal", "imsd.db-shm", "imsd.db-signals", "token.key"):
        assert mode(srv.data_dir / name) == 0o600, name
    # an installation made before this fix is repaired at the next start
    srv.stop()
    for name in ("imsd.db", "imsd.db-wal", "imsd.db-shm"):
        if (srv.data_dir / name).exists():
            os.chmod(srv.data_dir / name, 0o644)
    srv.start()
    create_image(srv.admin())
    for name in ("imsd.db", "imsd.db-wal", "imsd.db-shm"):
        assert mode(srv.data_dir / name) == 0o600, name
    srv.imsctl("db", "check")
    assert mode(srv.data_dir / "imsd.db") == 0o600


def test_server_failure_names_no_path(start_imsd):
    """A store that cannot take the blob (every images/<xx> directory name
    taken by a file) answers 5xx with the request id, and the log has the
    cause with its path."""
    srv = start_imsd(config={"store": {"backend": "file"}})  # the file store's directories
    admin = srv.admin()
    images = srv.data_dir / "images"
    for i in range(256):
        d = images / ("%02x" % i)
        if not d.exists():
            d.write_text("")
    img = create_image(admin, disk_format="raw", container_format="bare")
    r = upload(admin, img["id"], b"x" * 4096)
    assert r.status_code >= 500, r.text
    assert str(srv.data_dir) not in r.text and "/images/" not in r.text, r.text
    rid = r.headers["X-Openstack-Request-Id"]
    assert rid in r.text
    log = srv.log_path.read_text()
    assert any(rid in line and str(images) in line for line in log.splitlines()), srv.log_tail()
