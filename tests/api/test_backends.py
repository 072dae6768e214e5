"""Backends chosen at start from the configuration: the database by its
connection string ([database] connection), the file store's directory
([storage] file_dir); image locations name their store (file://...)."""
import sqlite3
import subprocess

from helpers import (IMSD_BIN, active_image, clean_env, files_under, free_port,
                     md5, stored_blobs)


def locations(db_path):
    with sqlite3.connect(str(db_path)) as db:
        return [r[0] for r in db.execute(
            "SELECT location FROM images WHERE location IS NOT NULL")]


def test_database_and_file_store_where_configured(start_imsd, tmp_path):
    db = tmp_path / "meta" / "catalog.db"
    db.parent.mkdir()
    blobs = tmp_path / "blobs"
    srv = start_imsd(config={"database": {"connection": "sqlite://%s" % db},
                             "storage": {"file_dir": str(blobs)}, "store": {"backend": "file"}})
    a = srv.admin()
    data = b"configured backends\n" * 100
    img = active_image(a, data=data)
    r = a.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 200 and md5(r.content) == img["checksum"]
    # the metadata is in the configured database, the data in the
    # configured store, neither in the data dir
    assert locations(db) and all(loc.startswith("file://") for loc in locations(db))
    assert not (srv.data_dir / "imsd.db").exists()
    assert [f.stat().st_size for f in files_under(blobs / "images")] == [len(data)]
    assert files_under(srv.data_dir / "images") == []
    # imsctl reads the same configuration
    report = srv.imsctl("db", "check")
    assert "engine: sqlite" in report and "integrity: ok" in report


def test_new_locations_name_their_store(imsd, admin):
    img = active_image(admin, data=b"scheme\n")
    ((loc,),) = imsd.sql("SELECT location FROM images WHERE id = ?", (img["id"],))
    if imsd.store_env:  # IMSD_TEST_STORE=s3: s3://<uuid>, the object images/<uuid>
        assert loc.startswith("s3://"), loc
        assert stored_blobs(imsd).count(len(b"scheme\n")) >= 1
        return
    assert loc.startswith("file://"), loc
    blob = imsd.data_dir / "images" / loc[len("file://"):]
    assert blob.read_bytes() == b"scheme\n"


def test_unknown_database_engine_is_refused(tmp_path):
    for conn, why in (("mysql://imsd@db/imsd", "unsupported database engine 'mysql'"),
                      ("sqlite://", "names no database"),
                      ("postgresql://", "names no database"),
                      # nothing listens on port 1: the engine is known, the server is not there
                      ("postgresql://imsd@127.0.0.1:1/imsd", "cannot connect to postgresql")):
        r = subprocess.run([IMSD_BIN], capture_output=True, text=True, timeout=30,
                           env=clean_env({"IMSD_DATABASE": conn,
                                          "IMSD_DATA_DIR": str(tmp_path / "data"),
                                          "IMSD_LISTEN": "127.0.0.1:%d" % free_port()}))
        assert r.returncode != 0, conn
        assert why in r.stderr, (conn, r.stderr)
