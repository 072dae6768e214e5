"""Shared helpers for the imsd API suite (imported by conftest.py and tests).

Everything here talks to a real imsd process over loopback HTTP.
"""
import hashlib
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

import obs_fixtures
import pg_fixture

REPO = Path(__file__).resolve().parents[2]
IMSD_BIN = os.environ.get("IMSD_BIN", str(REPO / "build" / "imsd"))
IMSCTL_BIN = os.environ.get("IMSCTL_BIN", str(REPO / "build" / "imsctl"))
ADMIN_PASSWORD = "Adm1n-Secret-pw"
ADMIN_USER = "admin"
ADMIN_PROJECT = "admin"
DEFAULT_DOMAIN = "Default"
DEFAULT_DOMAIN_ID = "default"

PATCH_21 = "application/openstack-images-v2.1-json-patch"
PATCH_20 = "application/openstack-images-v2.0-json-patch"


def imsd_is_sanitized():
    """Whether IMSD_BIN is the ASan + UBSan build (scripts/test.sh asan): its
    allocator is ASan's, which keeps freed memory in a quarantine."""
    with open(IMSD_BIN, "rb") as f:
        return b"__asan_init" in f.read()


def unique(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:12])


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(extra=None):
    """Environment without OS_* variables or proxies, for CLIs and imsd."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("OS_") and k.lower() not in
           ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    if extra:
        env.update(extra)
    return env


def write_ini(path, config):
    """config: {"section": {"key": value}} -> INI file."""
    lines = []
    for section, kv in config.items():
        lines.append("[%s]" % section)
        for k, v in kv.items():
            lines.append("%s = %s" % (k, v))
        lines.append("")
    Path(path).write_text("\n".join(lines))


class Api(requests.Session):
    """requests.Session bound to a base URL, optionally carrying a token."""

    def __init__(self, base, token=None):
        super().__init__()
        self.trust_env = False          # no proxies, no netrc
        self.base = base
        self.token = token
        if token:
            self.headers["X-Auth-Token"] = token
        self.project_id = None
        # Glance chooses its error body by Accept (webob): the tests read JSON
        self.headers["Accept"] = "application/json"
        self.project_name = None
        self.user_id = None
        self.user_name = None
        self.password = None

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base + url
        kwargs.setdefault("timeout", 300)
        return super().request(method, url, *args, **kwargs)


def concurrently(api, calls):
    """Runs calls (functions of an Api) at once, each on its own session
    with api's token; returns their results in order."""
    start = threading.Barrier(len(calls))

    def run(fn):
        s = Api(api.base, api.token)
        try:
            start.wait()
            return fn(s)
        finally:
            s.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def password_auth_body(user, password, project=None, domain=DEFAULT_DOMAIN,
                       user_id=None, project_id=None, domain_scope_id=None):
    if user_id:
        u = {"id": user_id, "password": password}
    else:
        u = {"name": user, "domain": {"name": domain}, "password": password}
    body = {"auth": {"identity": {"methods": ["password"],
                                  "password": {"user": u}}}}
    if project_id:
        body["auth"]["scope"] = {"project": {"id": project_id}}
    elif project:
        body["auth"]["scope"] = {"project": {"name": project,
                                             "domain": {"name": domain}}}
    elif domain_scope_id:
        body["auth"]["scope"] = {"domain": {"id": domain_scope_id}}
    return body


class Server:
    """One imsd process on a free loopback port with its own data dir."""

    def __init__(self, config=None, data_dir=None, admin_password=ADMIN_PASSWORD):
        self.root = Path(tempfile.mkdtemp(prefix="imsd-api-"))
        self.data_dir = Path(data_dir) if data_dir else self.root / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.config_path = None
        if config:
            self.config_path = self.root / "imsd.ini"
            write_ini(self.config_path, config)
        self.admin_password = admin_password
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.auth_url = self.url + "/v3"
        self.proc = None
        self.ended_by_test = False      # set by tests that kill/stop it themselves
        # IMSD_TEST_DATABASE=postgresql: a database of this data dir's own,
        # unless the configuration names one
        self.database = None
        if pg_fixture.ON_PG and "connection" not in (config or {}).get("database", {}):
            self.database = pg_fixture.database_for(self.data_dir)
        # IMSD_TEST_STORE=s3: image data in a bucket of this data dir's own,
        # unless the configuration chooses a store
        self.store_env = {}
        if obs_fixtures.ON_S3 and "store" not in (config or {}):
            self.store_env = obs_fixtures.store_env(self.data_dir)
        self.log_path = self.data_dir / "imsd-test.log"
        self._log = None
        self._ping = requests.Session()
        self._ping.trust_env = False

    # -- process control -------------------------------------------------
    def start(self, timeout=20):
        env = clean_env({
            "IMSD_LISTEN": "127.0.0.1:%d" % self.port,
            "IMSD_DATA_DIR": str(self.data_dir),
            "IMSD_ADMIN_PASSWORD": self.admin_password,
        })
        if self.config_path:
            env["IMSD_CONFIG"] = str(self.config_path)
        if self.database:
            env["IMSD_DATABASE"] = self.database
        env.update(self.store_env)
        self._log = open(self.log_path, "ab")
        log_start = self.log_path.stat().st_size
        self.proc = subprocess.Popen([IMSD_BIN], env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("imsd exited with %s during startup\n%s"
                                     % (self.proc.returncode, self.log_tail()))
            try:
                r = self._ping.get(self.url + "/", timeout=2)
                # ready once it also said so: it answers before its job workers
                # have started and its start-up lines are printed
                if r.status_code == 300 and b"imsd is running" in self.log_path.read_bytes()[log_start:]:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError("imsd did not answer GET / with 300 within %ss\n%s"
                             % (timeout, self.log_tail()))

    def log_tail(self, n=60):
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "---- imsd log tail (%s) ----\n%s" % (self.log_path, "\n".join(lines[-n:]))

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=20):
        """SIGTERM and wait; return the exit code."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("imsd did not exit within %ss of SIGTERM\n%s"
                                     % (timeout, self.log_tail()))
        rc = self.proc.returncode
        self._close_log()
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._close_log()

    def _close_log(self):
        if self._log:
            self._log.close()
            self._log = None

    # -- the database, for tests that set up what the API cannot -----------
    def sql(self, query, params=()):
        """Runs query ('?' placeholders) on this server's database, SQLite
        or PostgreSQL; returns its rows (PostgreSQL's as strings)."""
        if self.database:
            return pg_fixture.query(self.database, query, params)
        import sqlite3
        db = sqlite3.connect(str(self.data_dir / "imsd.db"))
        try:
            with db:
                return db.execute(query, params).fetchall()
        finally:
            db.close()

    # -- admin CLI -------------------------------------------------------
    def ctl_env(self):
        """imsctl's environment: the server's configuration file, if any."""
        extra = {"IMSD_CONFIG": str(self.config_path)} if self.config_path else {}
        if self.database:
            extra["IMSD_DATABASE"] = self.database
        extra.update(self.store_env)
        return clean_env(extra)

    def imsctl(self, *args):
        r = subprocess.run([IMSCTL_BIN, "--data-dir", str(self.data_dir)] + list(args),
                           capture_output=True, text=True, env=self.ctl_env(), timeout=60)
        assert r.returncode == 0, "imsctl %s failed (%d): %s %s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr)
        return r.stdout.strip()

    # -- identity --------------------------------------------------------
    def issue(self, body):
        return self._ping.post(self.url + "/v3/auth/tokens", json=body, timeout=30)

    def token(self, user, password, project=None, domain=DEFAULT_DOMAIN):
        r = self.issue(password_auth_body(user, password, project, domain))
        assert r.status_code == 201, "token for %s: %s %s" % (user, r.status_code, r.text)
        return r.headers["X-Subject-Token"], r.json()["token"]

    def session(self, user, password, project):
        tok, body = self.token(user, password, project)
        api = Api(self.url, tok)
        api.user_name, api.password, api.project_name = user, password, project
        api.user_id = body["user"]["id"]
        api.project_id = body["project"]["id"]
        return api

    def admin(self):
        return self.session(ADMIN_USER, self.admin_password, ADMIN_PROJECT)

    def project_user(self, name=None):
        """New project + member user; returns an Api logged into it."""
        name = name or unique("p")
        pid = self.imsctl("project", "create", name)
        password = "pw-" + uuid.uuid4().hex[:10]
        uname = name + "-user"
        uid = self.imsctl("user", "create", uname, "--password", password,
                          "--project", name)
        api = self.session(uname, password, name)
        assert api.project_id == pid, (api.project_id, pid)
        assert api.user_id == uid, (api.user_id, uid)
        return api


# -- image helpers ---------------------------------------------------------
def sdk_connect(srv, user=ADMIN_USER, password=ADMIN_PASSWORD, project=ADMIN_PROJECT):
    """An openstacksdk connection to srv as user (the administrator by
    default), from these arguments alone (no clouds.yaml, no OS_*)."""
    import openstack
    return openstack.connect(auth_url=srv.auth_url, username=user, password=password, project_name=project,
                             user_domain_name=DEFAULT_DOMAIN, project_domain_name=DEFAULT_DOMAIN,
                             load_yaml_config=False, load_envvars=False)


def create_image(api, **attrs):
    attrs.setdefault("name", unique("img"))
    r = api.post("/v2/images", json=attrs)
    assert r.status_code == 201, "create image: %s %s" % (r.status_code, r.text)
    return r.json()


def upload(api, image_id, data, **kw):
    headers = {"Content-Type": "application/octet-stream"}
    headers.update(kw.pop("headers", {}))
    r = api.put("/v2/images/%s/file" % image_id, data=data, headers=headers, **kw)
    return r


def active_image(api, data=b"hello image data\n", **attrs):
    attrs.setdefault("disk_format", "raw")
    attrs.setdefault("container_format", "bare")
    img = create_image(api, **attrs)
    r = upload(api, img["id"], data)
    assert r.status_code == 204, "upload: %s %s" % (r.status_code, r.text)
    return get_image(api, img["id"])


def get_image(api, image_id):
    r = api.get("/v2/images/%s" % image_id)
    assert r.status_code == 200, "get image: %s %s" % (r.status_code, r.text)
    return r.json()


def patch(api, image_id, ops, media=PATCH_21):
    return api.patch("/v2/images/%s" % image_id, json=ops,
                     headers={"Content-Type": media})


def md5(data):
    return hashlib.md5(data).hexdigest()


def list_all(api, params=None, max_pages=100):
    """Follow 'next' links; return the list of images."""
    out = []
    r = api.get("/v2/images", params=params)
    for _ in range(max_pages):
        assert r.status_code == 200, (r.status_code, r.text)
        body = r.json()
        out.extend(body["images"])
        if "next" not in body:
            return out
        r = api.get(body["next"])
    raise AssertionError("too many pages")


def list_ids(api, **params):
    r = api.get("/v2/images", params=params)
    assert r.status_code == 200, (r.status_code, r.text)
    return [i["id"] for i in r.json()["images"]]


class RawUpload:
    """PUT /v2/images/{id}/file over a raw socket, so a test controls timing.

    send() tolerates the server closing early; response() parses what came back.
    """

    def __init__(self, server, token, image_id, content_length=None, headers=None,
                 path=None):
        import socket as _s
        self.sock = _s.create_connection(("127.0.0.1", server.port), timeout=60)
        self.closed_early = False
        hdrs = {"Host": "127.0.0.1:%d" % server.port,
                "X-Auth-Token": token,
                "Content-Type": "application/octet-stream",
                "Connection": "close"}
        if content_length is not None:
            hdrs["Content-Length"] = str(content_length)
        hdrs.update(headers or {})
        path = path or "/v2/images/%s/file" % image_id
        head = "PUT %s HTTP/1.1\r\n" % path
        head += "".join("%s: %s\r\n" % kv for kv in hdrs.items()) + "\r\n"
        self.sock.sendall(head.encode())

    def readable(self):
        import select
        r, _, _ = select.select([self.sock], [], [], 0)
        return bool(r)

    def send(self, data):
        """Send data unless the server already answered/closed; return False then."""
        if self.closed_early:
            return False
        if self.readable():
            self.closed_early = True
            return False
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            self.closed_early = True
            return False

    def response(self):
        import http.client
        resp = http.client.HTTPResponse(self.sock)
        resp.begin()
        try:
            body = resp.read()
        except (ConnectionResetError, http.client.IncompleteRead):
            body = b""
        status = resp.status
        headers = dict(resp.getheaders())
        self.close()
        return status, headers, body

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def pattern_chunks(total, chunk=1 << 20, seed=b"imsd"):
    """Deterministic pseudo-random chunks without holding `total` bytes."""
    block = hashlib.sha512(seed).digest() * (chunk // 64 + 1)
    block = bytearray(block[:chunk])
    sent = 0
    n = 0
    while sent < total:
        size = min(chunk, total - sent)
        block[0:8] = n.to_bytes(8, "little")
        yield bytes(block[:size])
        sent += size
        n += 1


def trickle(raw, total):
    """Sends total bytes of pattern data through a RawUpload in small steps,
    then waits, so imsd has taken them in (a crash test's half-sent body)."""
    for chunk in pattern_chunks(total, chunk=256 * 1024):
        assert raw.send(chunk)
        time.sleep(0.01)
    time.sleep(0.5)


def kill_hard(srv, raw):
    """SIGKILLs srv (the test's own doing) and closes raw."""
    srv.ended_by_test = True
    srv.proc.kill()
    srv.proc.wait()
    raw.close()


def stored_blobs(srv):
    """The sizes of srv's blobs, whichever store holds them (the file store
    under its data dir, or its bucket with IMSD_TEST_STORE=s3)."""
    if srv.store_env:
        return list(obs_fixtures.s3_keys(obs_fixtures.server_env(), srv.store_env["IMSD_STORE_BUCKET"],
                                         "images/").values())
    return [f.stat().st_size for f in files_under(srv.data_dir / "images")]


def store_has(srv, location):
    """Whether srv's store holds the blob at location (file://<2 hex>/<id>
    under the data dir's images/, or s3://<id> as images/<id> of its
    bucket with IMSD_TEST_STORE=s3)."""
    scheme, _, key = location.partition("://")
    if scheme == "s3":
        assert srv.store_env, location
        return "images/" + key in obs_fixtures.s3_keys(obs_fixtures.server_env(),
                                                       srv.store_env["IMSD_STORE_BUCKET"], "images/")
    assert scheme == "file", location
    return (srv.data_dir / "images" / key).exists()


def files_under(path):
    out = []
    p = Path(path)
    if not p.exists():
        return out
    for f in p.rglob("*"):
        if f.is_file() or f.is_symlink():
            out.append(f)
    return out


# -- IAM administration through imsctl -------------------------------------
def imsctl_run(server, *args, input=None):
    """imsctl against `server`'s data dir; returns the CompletedProcess unchecked.

    Retries briefly when the binary is being relinked by a concurrent build."""
    for attempt in range(50):
        try:
            return subprocess.run([IMSCTL_BIN, "--data-dir", str(server.data_dir)] + list(args),
                                  input=input, capture_output=True, text=True,
                                  env=server.ctl_env(), timeout=60)
        except OSError:     # ETXTBSY / EACCES / ENOENT while `make` rewrites it
            if attempt == 49:
                raise
            time.sleep(0.1)


def policy_doc(effect, actions, condition=None):
    """A one-statement IAM policy document (Version 1.1)."""
    st = {"Effect": effect, "Action": list(actions)}
    if condition:
        st["Condition"] = condition
    return {"Version": "1.1", "Statement": [st]}


class Iam:
    """Users whose permissions come only from policy grants made with imsctl.

    user(project, grants) creates a user that may log in to `project` with no
    role (``--role none``), a group of its own holding `grants`, and returns an
    Api logged into `project`.  A grant is (policy, scope): policy is a system
    policy name or a policy document (dict, created once per distinct
    document); scope is "project" (the user's project), "project:NAME",
    "all-projects", "domain-wide" or "ep:ID".
    """

    def __init__(self, server, domain=None):
        self.server = server
        self.domain = domain            # None = Default
        self._policies = {}

    def _dom(self):
        return ["--domain", self.domain] if self.domain else []

    def ctl(self, *args, input=None):
        r = imsctl_run(self.server, *(list(args) + self._dom()), input=input)
        assert r.returncode == 0, "imsctl %s failed (%d): %s %s" % (
            " ".join(args), r.returncode, r.stdout, r.stderr)
        return r.stdout.strip()

    def policy(self, doc):
        if isinstance(doc, str):
            return doc
        key = json.dumps(doc, sort_keys=True)
        if key not in self._policies:
            name = unique("pol")
            self.ctl("policy", "create", name, "--file", "-", input=key)
            self._policies[key] = name
        return self._policies[key]

    def grant(self, group, policy, scope, project=None, revoke=False):
        args = ["grant", self.policy(policy), "--group", group]
        if scope == "project":
            args += ["--project", project]
        elif scope.startswith("project:"):
            args += ["--project", scope[len("project:"):]]
        elif scope.startswith("ep:"):
            args += ["--enterprise-project", scope[len("ep:"):]]
        elif scope in ("all-projects", "domain-wide"):
            args += ["--" + scope]
        else:
            raise ValueError("unknown grant scope %r" % scope)
        if revoke:
            args.append("--revoke")
        self.ctl(*args)

    def user(self, project, grants=(), role="none", name=None, group=None):
        name = name or unique("u")
        password = "pw-" + uuid.uuid4().hex[:12]
        uid = self.ctl("user", "create", name, "--password", password,
                       "--project", project, "--role", role)
        if grants or group:
            group = group or unique("g")
            self.ctl("group", "create", group)
            self.ctl("group", "add-user", group, name)
            for pol, scope in grants:
                self.grant(group, pol, scope, project)
        api = self.login(name, password, project)
        assert api.user_id == uid, (api.user_id, uid)
        api.group = group
        return api

    def login(self, name, password, project):
        dom = self.domain or DEFAULT_DOMAIN
        tok, body = self.server.token(name, password, project, domain=dom)
        api = Api(self.server.url, tok)
        api.user_name, api.password, api.project_name = name, password, project
        api.user_id = body["user"]["id"]
        api.project_id = body["project"]["id"]
        api.domain = dom
        return api


# -- raw HTTP (what clients libraries would not send) ------------------------
class RawReply:
    """A response read off a raw socket: status, headers (lower-case names), body."""

    def __init__(self, raw):
        self.raw = raw
        head, _, self.body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else None
        self.headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            self.headers[k.strip().lower()] = v.strip()

    def json(self):
        return json.loads(self.body)


def read_one_reply(sock):
    """Reads one answer with a Content-Length from a kept-alive connection."""
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = sock.recv(4096)
        assert chunk, got
        got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(4096)
        assert chunk, got
        body += chunk
    return head + b"\r\n\r\n" + body


def raw_request(port, data, timeout=10, host="127.0.0.1", source=None):
    """Sends `data` on a new connection and reads until the server closes it
    (the requests should say Connection: close, or be refused with a close).
    Returns a RawReply; a reset after a complete answer still returns it."""
    sock = socket.create_connection((host, port), timeout=timeout,
                                    source_address=(source, 0) if source else None)
    out = b""
    try:
        sock.sendall(data)
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
    except ConnectionResetError:
        pass
    finally:
        sock.close()
    return RawReply(out)


def libvirt_domain(name, domain_id, disks, memory_mib=512, pflash=False, project=None, os_version=None,
                   runstate=None, more_devices=""):
    """A domain of libvirt's test driver (a node file's <domain>): disks are
    (file, driver type or None, target, boot order or None); the metadata
    names project and OS version when given; runstate 5 is shut off."""
    loader = "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader>" if pflash else ""
    devices = "".join(
        "<disk type='file' device='disk'>%s<source file='%s'/><target dev='%s' bus='virtio'/>%s</disk>\n" % (
            "<driver name='qemu' type='%s'/>" % fmt if fmt else "", path, target,
            "<boot order='%d'/>" % boot if boot else "") for path, fmt, target, boot in disks)
    meta = ""
    if project or os_version:
        meta = ("<metadata><ims:server xmlns:ims=\"https://imsd.invalid/compute/1\">%s%s</ims:server></metadata>"
                % ("<ims:project>%s</ims:project>" % project if project else "",
                   "<ims:os_version>%s</ims:os_version>" % os_version if os_version else ""))
    state = "<test:runstate>%d</test:runstate>" % runstate if runstate is not None else ""
    return ("<domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>\n"
            "<name>%s</name><uuid>%s</uuid><memory unit='MiB'>%d</memory>\n"
            "<os><type>hvm</type>%s</os>\n<devices>\n%s%s</devices>\n%s%s\n</domain>\n"
            % (name, domain_id, memory_mib, loader, devices, more_devices, meta, state))


def libvirt_node(*domains):
    """A node file of libvirt's test driver (test:///PATH) holding the domains."""
    return "<node>\n%s</node>\n" % "".join(domains)


def libvirt_imsd(start_imsd, tmp_path, disks, os_version, state=5):
    """imsd on the libvirt source (the test driver), whose one domain has
    disks (as libvirt_domain takes them), a pflash loader, and belongs to a
    project user's project: the test driver reads its node file when imsd
    starts, so imsd starts once to make the user, and again once the file
    names the project. Returns (server, user, domain id)."""
    domain = str(uuid.uuid4())
    node = tmp_path / "node.xml"

    def write(project):
        node.write_text(libvirt_node(libvirt_domain("lv-" + domain[:8], domain, disks, memory_mib=1024, pflash=True,
                                                    project=project, os_version=os_version, runstate=state)))

    write("0" * 32)
    config = {"compute": {"backend": "libvirt", "uri": "test://" + str(node)}}
    first = start_imsd(config=config)
    a = first.project_user()
    assert first.stop() == 0
    first.ended_by_test = True
    write(a.project_id)
    s = start_imsd(config=config, data_dir=first.data_dir)
    return s, s.session(a.user_name, a.password, a.project_name), domain
