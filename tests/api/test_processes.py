"""Several imsd processes over one database and data directory: a start
recovers only what nobody is writing any more, tokens of one process work
on the other, imsctl works while imsd serves."""
import os
import subprocess
import time

from helpers import (IMSD_BIN, RawUpload, clean_env, create_image, files_under,
                     free_port, get_image, md5, pattern_chunks)


def test_second_process_leaves_an_upload_in_progress_alone(start_imsd):
    first = start_imsd()
    a = first.admin()
    img = create_image(a, disk_format="raw", container_format="bare")
    data = b"".join(pattern_chunks(8 << 20, chunk=256 * 1024))
    raw = RawUpload(first, a.token, img["id"], content_length=len(data))
    half = len(data) // 2
    for i in range(0, half, 256 * 1024):
        assert raw.send(data[i:i + 256 * 1024])
    time.sleep(0.5)
    assert get_image(a, img["id"])["status"] == "saving"
    if not first.store_env:  # the file store's (the S3 store keeps parts in memory and S3)
        assert files_under(first.data_dir / "tmp"), "the upload has a temporary file"

    # a second process starts on the same data: its recovery must neither
    # return the upload to queued nor remove its temporary file
    second = start_imsd(data_dir=first.data_dir)
    b = second.admin()
    # and imsctl opens the same data while both serve
    first.imsctl("project", "create", "while-serving")
    assert get_image(b, img["id"])["status"] == "saving"
    for i in range(half, len(data), 256 * 1024):
        assert raw.send(data[i:i + 256 * 1024])
    status, _, body = raw.response()
    assert status == 204, body
    on_second = get_image(b, img["id"])
    assert on_second["status"] == "active" and on_second["checksum"] == md5(data)
    r = b.get("/v2/images/%s/file" % img["id"])
    assert r.status_code == 200 and md5(r.content) == md5(data)
    assert files_under(first.data_dir / "tmp") == []

    # a token issued by the first process works on the second
    r = b.get("/v2/images/%s" % img["id"], headers={"X-Auth-Token": a.token})
    assert r.status_code == 200


def test_token_key_from_configuration(start_imsd, tmp_path):
    """Two processes with data dirs of their own over one database and one
    file store accept each other's tokens when given one key."""
    key = os.urandom(32)
    key_file = tmp_path / "token.key"
    key_file.write_bytes(key)
    shared = {"database": {"connection": "sqlite://%s" % (tmp_path / "imsd.db")},
              "storage": {"file_dir": str(tmp_path / "store")}}
    first = start_imsd(config=dict(shared, identity={"token_key": key.hex()}),
                       data_dir=tmp_path / "one")
    second = start_imsd(config=dict(shared, identity={"token_key_file": str(key_file)}),
                        data_dir=tmp_path / "two")
    a = first.admin()
    r = a.get(second.url + "/v2/images")
    assert r.status_code == 200, r.text
    r = second.admin().get(first.url + "/v2/images")
    assert r.status_code == 200, r.text
    # the configured key is used instead of one made in the data dir
    assert not (tmp_path / "one" / "token.key").exists()
    assert not (tmp_path / "two" / "token.key").exists()


def test_bad_token_key_is_refused(tmp_path):
    short = tmp_path / "short.key"
    short.write_bytes(b"x" * 31)
    for env, why in (({"IMSD_TOKEN_KEY": "ab" * 31}, "invalid token_key"),
                     ({"IMSD_TOKEN_KEY": "zz" * 32}, "invalid token_key")):
        r = subprocess.run([IMSD_BIN], capture_output=True, text=True, timeout=30,
                           env=clean_env(dict(env, IMSD_DATA_DIR=str(tmp_path / "d"),
                                              IMSD_LISTEN="127.0.0.1:%d" % free_port())))
        assert r.returncode != 0 and why in r.stderr, (env, r.stderr)
    ini = tmp_path / "imsd.ini"
    ini.write_text("[identity]\ntoken_key_file = %s\n" % short)
    r = subprocess.run([IMSD_BIN, "--config", str(ini)], capture_output=True, text=True, timeout=30,
                       env=clean_env({"IMSD_DATA_DIR": str(tmp_path / "d"),
                                      "IMSD_LISTEN": "127.0.0.1:%d" % free_port()}))
    assert r.returncode != 0 and "must hold exactly 32 bytes" in r.stderr, r.stderr
