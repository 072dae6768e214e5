"""Object storage through `imsctl obs`: the same cases against the embedded
store (directories under the data dir) and against a real S3-compatible
server (OpenStack Swift with s3api, which checks SigV4 signatures), started
by the obs_s3 fixture (tests/fixtures/start-s3-server.sh)."""
import hashlib
import os
import subprocess
import uuid

import pytest

from helpers import IMSCTL_BIN, IMSD_BIN, clean_env, free_port, write_ini
from obs_fixtures import s3_config

MIB = 1024 * 1024
PART = 5 * MIB          # the smallest part S3 takes: multipart from 5 MiB up


class Obs:
    """imsctl obs against one configured backend."""

    def __init__(self, root, backend, config):
        self.root = root
        self.backend = backend
        self.data_dir = root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config_path = root / "imsd.ini"
        self.config = config
        write_ini(self.config_path, config)

    def run(self, *args, config_path=None, input=None):
        env = clean_env({"IMSD_CONFIG": str(config_path or self.config_path),
                         "IMSD_DATA_DIR": str(self.data_dir)})
        return subprocess.run([IMSCTL_BIN, "obs"] + [str(a) for a in args], input=input,
                              capture_output=True, env=env, timeout=300)

    def ok(self, *args):
        r = self.run(*args)
        assert r.returncode == 0, "imsctl obs %s: %d %s" % (
            " ".join(map(str, args)), r.returncode, r.stderr.decode(errors="replace"))
        return r.stdout.decode()

    def ls(self, bucket, prefix=None, *extra):
        out = self.ok("ls", bucket, *([prefix] if prefix is not None else []), *extra)
        rows = []
        for line in out.splitlines():
            size, _when, key = line.split(None, 2)
            rows.append((key, int(size)))
        return rows


@pytest.fixture(scope="module", params=["embedded", "s3"])
def obs(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("obs-" + request.param)
    if request.param == "embedded":
        config = {"obs": {"backend": "embedded", "dir": str(root / "buckets")}}
    else:
        config = {"obs": dict(s3_config(request.getfixturevalue("obs_s3")), part_size=PART,
                              server_copy_max=PART)}
    return Obs(root, request.param, config)


def new_bucket(obs):
    b = "b-" + uuid.uuid4().hex[:16]
    obs.ok("mb", b)
    return b


def write(path, data):
    path.write_bytes(data)
    return path


def test_put_get_list_remove(obs, tmp_path):
    b = new_bucket(obs)
    data = os.urandom(MIB + 123)
    obs.ok("put", b, "images/disk one.raw", write(tmp_path / "in", data))
    obs.ok("put", b, "top.img", write(tmp_path / "small", b"small\n"))
    obs.ok("get", b, "images/disk one.raw", tmp_path / "out")
    assert (tmp_path / "out").read_bytes() == data
    assert obs.ls(b) == [("images/disk one.raw", len(data)), ("top.img", 6)]
    assert obs.ls(b, "images/") == [("images/disk one.raw", len(data))]
    assert obs.ls(b, "nothing") == []
    stat = obs.ok("stat", b, "top.img")
    assert "size: 6\n" in stat
    if obs.backend == "s3":     # S3's ETag of a single PUT is the MD5
        assert "etag: %s\n" % hashlib.md5(b"small\n").hexdigest() in stat
    # a put replaces
    obs.ok("put", b, "top.img", write(tmp_path / "small2", b"replaced"))
    obs.ok("get", b, "top.img", "-")
    assert obs.run("get", b, "top.img", "-").stdout == b"replaced"
    obs.ok("rm", b, "top.img")
    assert obs.ls(b) == [("images/disk one.raw", len(data))]
    r = obs.run("get", b, "top.img", tmp_path / "gone")
    assert r.returncode == 3 and b"no such object" in r.stderr, r
    # a failed download leaves no file, not even a partial one
    assert not (tmp_path / "gone").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("gone")] == []
    r = obs.run("rm", b, "top.img")
    assert r.returncode == 3 and b"no such object" in r.stderr, r


def test_server_side_copy(obs, tmp_path):
    b, b2 = new_bucket(obs), new_bucket(obs)
    data = os.urandom(300000)
    obs.ok("put", b, "src/disk.raw", write(tmp_path / "in", data))
    obs.ok("cp", b, "src/disk.raw", b2, "copies/disk.raw")
    obs.ok("cp", b, "src/disk.raw", b, "again.raw")
    assert obs.run("get", b2, "copies/disk.raw", "-").stdout == data
    assert obs.run("get", b, "again.raw", "-").stdout == data
    r = obs.run("cp", b, "missing", b2, "x")
    assert r.returncode == 3 and b"no such object" in r.stderr, r
    r = obs.run("cp", b, "src/disk.raw", "nob-" + uuid.uuid4().hex[:12], "x")
    assert r.returncode == 3 and b"no such bucket" in r.stderr, r
    assert obs.ls(b2) == [("copies/disk.raw", len(data))]
    # larger than [obs] server_copy_max: streamed through imsctl into a
    # multipart put on S3 (libcurl 7.88 cannot sign UploadPartCopy)
    big = os.urandom(2 * PART + 777)
    obs.ok("put", b, "big.raw", write(tmp_path / "big", big))
    obs.ok("cp", b, "big.raw", b2, "big-copy.raw")
    assert obs.run("get", b2, "big-copy.raw", "-").stdout == big
    if obs.backend == "s3":
        assert "-3\n" in obs.ok("stat", b2, "big-copy.raw").split("etag: ")[1]


def test_ranges(obs, tmp_path):
    b = new_bucket(obs)
    data = bytes(range(256)) * 40
    obs.ok("put", b, "r.bin", write(tmp_path / "in", data))
    for off, length in ((0, 10), (100, 1), (1000, 5000), (len(data) - 3, 3), (len(data) - 3, 100)):
        r = obs.run("get", b, "r.bin", "-", "--offset", off, "--length", length)
        assert r.returncode == 0, r.stderr
        assert r.stdout == data[off:off + length], (off, length)
    r = obs.run("get", b, "r.bin", "-", "--offset", 5000)
    assert r.stdout == data[5000:]
    r = obs.run("get", b, "r.bin", "-", "--offset", len(data))
    assert r.returncode == 0 and r.stdout == b""
    r = obs.run("get", b, "r.bin", "-", "--offset", len(data) + 1)
    assert r.returncode == 1 and b"range not satisfiable" in r.stderr, r
    r = obs.run("get", b, "r.bin", "-", "--offset", "-1")
    assert r.returncode == 2, r


def test_multipart_upload(obs, tmp_path):
    """Larger than [obs] part_size: S3 gets it in parts (its ETag says how
    many), and every byte comes back, also by a range across a part
    boundary."""
    b = new_bucket(obs)
    data = os.urandom(2 * PART + 12345)
    obs.ok("put", b, "big/disk.raw", write(tmp_path / "big", data))
    obs.ok("get", b, "big/disk.raw", tmp_path / "back")
    assert hashlib.sha256((tmp_path / "back").read_bytes()).digest() == hashlib.sha256(data).digest()
    stat = obs.ok("stat", b, "big/disk.raw")
    assert "size: %d\n" % len(data) in stat
    if obs.backend == "s3":
        md5s = b"".join(hashlib.md5(data[i:i + PART]).digest() for i in range(0, len(data), PART))
        assert "etag: %s-3\n" % hashlib.md5(md5s).hexdigest() in stat, stat
    r = obs.run("get", b, "big/disk.raw", "-", "--offset", PART - 10, "--length", 20)
    assert r.stdout == data[PART - 10:PART + 10]
    assert obs.ls(b) == [("big/disk.raw", len(data))]


def test_stream_put_and_abort(obs, request):
    """`put ... - --size N` stores exactly N bytes from stdin; a stream that
    ends early stores nothing (S3: the multipart upload is aborted, no part
    stays behind) and leaves the old object as it was."""
    b = new_bucket(obs)
    size = 2 * PART + 5
    data = os.urandom(size)
    r = obs.run("put", b, "s.raw", "-", "--size", size, input=data)
    assert r.returncode == 0, r.stderr
    assert obs.run("get", b, "s.raw", "-").stdout == data
    short = os.urandom(PART + 123)          # one whole part, then the stream ends
    r = obs.run("put", b, "s.raw", "-", "--size", size, input=short)
    assert r.returncode == 1 and b"ended" in r.stderr, r
    r = obs.run("put", b, "new.raw", "-", "--size", size, input=short)
    assert r.returncode == 1, r
    assert obs.run("get", b, "s.raw", "-").stdout == data
    assert obs.run("stat", b, "new.raw").returncode == 3
    assert obs.ls(b) == [("s.raw", size)]
    if obs.backend == "s3":
        env = request.getfixturevalue("obs_s3")
        listing = subprocess.run(
            ["curl", "-fsS", "--netrc-file", env["S3_CURL_NETRC"], "--aws-sigv4",
             "aws:amz:%s:s3" % env["S3_REGION"], "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
             "%s/%s?uploads=" % (env["S3_ENDPOINT"], b)], capture_output=True, timeout=60)
        assert listing.returncode == 0, listing.stderr
        assert b"ListMultipartUploadsResult" in listing.stdout and b"<Upload>" not in listing.stdout, \
            listing.stdout
    # a stream needs its size; --size is for streams only
    assert obs.run("put", b, "x", "-", input=b"x").returncode == 2
    assert obs.run("put", b, "x", __file__, "--size", "3").returncode == 2


def test_listing_pages(obs, tmp_path):
    b = new_bucket(obs)
    src = write(tmp_path / "x", b"x")
    keys = ["a/%d" % i for i in range(7)] + ["b", "a-", "c/d/e"]
    for k in keys:
        obs.ok("put", b, k, src)
    assert [k for k, _ in obs.ls(b, None, "--page-size", "3")] == sorted(keys)
    assert [k for k, _ in obs.ls(b, "a/", "--page-size", "2")] == sorted(k for k in keys if k.startswith("a/"))


def test_missing_and_invalid(obs, tmp_path):
    b = new_bucket(obs)
    src = write(tmp_path / "x", b"x")
    nob = "nob-" + uuid.uuid4().hex[:12]
    for args in (("get", nob, "x", tmp_path / "o"), ("put", nob, "x", src), ("ls", nob),
                 ("stat", nob, "x"), ("rm", nob, "x")):
        r = obs.run(*args)
        assert r.returncode == 3 and b"no such bucket" in r.stderr, (args, r)
    r = obs.run("stat", b, "missing")
    assert r.returncode == 3 and b"no such object" in r.stderr, r
    r = obs.run("mb", b)
    assert r.returncode == 5 and b"exists" in r.stderr, r
    for bucket, key in (("Bad_Bucket", "x"), ("ab", "x"), ("192.168.1.1", "x"), (b, "../x"),
                        (b, "/etc/passwd"), (b, "a/../../x"), (b, "a//b"), (b, "x" * 1025)):
        r = obs.run("put", bucket, key, src)
        assert r.returncode == 2 and b"invalid" in r.stderr, (bucket, key, r)
    r = obs.run("put", b, "x", tmp_path / "no-such-file")
    assert r.returncode == 1 and b"cannot read" in r.stderr, r
    r = obs.run("frobnicate", b)
    assert r.returncode == 2, r
    r = obs.run("get", b, "x")
    assert r.returncode == 2, r


def test_daemon_starts_on_the_configured_obs(obs):
    """imsd opens the object storage at start (and refuses to start without it)."""
    env = clean_env({"IMSD_CONFIG": str(obs.config_path), "IMSD_DATA_DIR": str(obs.data_dir),
                     "IMSD_LISTEN": "127.0.0.1:%d" % free_port(), "IMSD_ADMIN_PASSWORD": "x-Adm1n-pw"})
    p = subprocess.Popen([IMSD_BIN], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(3)
    finally:
        p.terminate()
        out = p.communicate(timeout=30)[0]
    assert p.returncode == 0, out


def test_config_show_hides_the_secret(obs):
    r = subprocess.run([IMSCTL_BIN, "config", "show"], capture_output=True, text=True, timeout=30,
                       env=clean_env({"IMSD_CONFIG": str(obs.config_path)}))
    assert r.returncode == 0
    assert "[obs]\nbackend = %s\n" % obs.backend in r.stdout
    secret = obs.config["obs"].get("secret_key")
    if secret:
        assert "secret_key = (set)" in r.stdout and secret not in r.stdout


def test_embedded_bucket_symlinks_are_not_followed(tmp_path):
    buckets = tmp_path / "buckets"
    obs = Obs(tmp_path, "embedded", {"obs": {"backend": "embedded", "dir": str(buckets)}})
    b = new_bucket(obs)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    (buckets / b / "link").symlink_to(outside)
    r = obs.run("get", b, "link/secret", "-")
    assert r.returncode == 4 and r.stdout == b"" and b"symbolic link" in r.stderr, r
    r = obs.run("put", b, "link/planted", outside / "secret")
    assert r.returncode == 4, r
    assert sorted(p.name for p in outside.iterdir()) == ["secret"]
    assert obs.ls(b) == []
    # the default directory is <data_dir>/obs
    default = Obs(tmp_path / "default", "embedded", {"obs": {"backend": "embedded"}})
    new_bucket(default)
    assert len(list((default.data_dir / "obs").iterdir())) == 2   # .tmp and the bucket


def test_s3_wrong_secret_is_an_auth_error(obs_s3, tmp_path):
    cfg = s3_config(obs_s3)
    good = Obs(tmp_path / "good", "s3", {"obs": cfg})
    b = new_bucket(good)
    bad = Obs(tmp_path / "bad", "s3", {"obs": dict(cfg, secret_key="not-the-secret")})
    for args in (("ls", b), ("put", b, "x", write(tmp_path / "x", b"x")), ("stat", b, "x"), ("mb", b + "x")):
        r = bad.run(*args)
        err = r.stderr.decode()
        assert r.returncode == 4, (args, r)
        # a HEAD (stat) answer has no document naming the reason
        why = "HTTP 403: credentials, signature or permissions refused" if args[0] == "stat" \
            else "HTTP 403 SignatureDoesNotMatch"
        assert "access denied" in err and why in err, err
        assert "not-the-secret" not in err
    # the secret may come from a file instead
    (tmp_path / "secret").write_text(cfg["secret_key"] + "\n")
    from_file = Obs(tmp_path / "file", "s3", {"obs": dict(
        {k: v for k, v in cfg.items() if k != "secret_key"}, secret_key_file=str(tmp_path / "secret"))})
    assert from_file.ls(b) == []
