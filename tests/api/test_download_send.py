"""The send path of a file body (lib/http/unsent.c, server.c's fd responses):
the socket keeps one libmicrohttpd send unsent at most, and the body, its
ranges, keep-alive after it and a client that stops early all still work."""
import ctypes
import os
import socket

from helpers import RawReply, active_image, read_one_reply

SYS_PIDFD_GETFD = 438  # x86-64 and aarch64 alike
UNSENT_LOWAT = 128 * 1024  # HTTP_UNSENT_LOWAT, libmicrohttpd's sendfile chunk


def server_socket_option(pid, client, level, opt):
    """getsockopt on imsd's end of the client's connection, taken through pidfd_getfd."""
    libc = ctypes.CDLL(None, use_errno=True)
    want = (client.getpeername()[1], client.getsockname()[1])
    pidfd = os.pidfd_open(pid)
    try:
        for name in os.listdir("/proc/%d/fd" % pid):
            if not os.readlink("/proc/%d/fd/%s" % (pid, name)).startswith("socket:"):
                continue
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                continue
            with socket.socket(fileno=fd) as s:
                try:
                    if s.type != socket.SOCK_STREAM or (s.getsockname()[1], s.getpeername()[1]) != want:
                        continue
                except OSError:  # a listener or an unconnected socket
                    continue
                return s.getsockopt(level, opt)
    finally:
        os.close(pidfd)
    raise AssertionError("imsd has no socket for this connection")


def get(sock, path, token, extra=""):
    sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n%s\r\n" % (path, token, extra)).encode())


def test_file_body_socket_keeps_one_send_unsent_and_stays_usable(imsd, alice):
    data = os.urandom(5 * 1024 * 1024 + 7)
    iid = active_image(alice, data=data)["id"]
    path = "/v2/images/%s/file" % iid
    with socket.create_connection(("127.0.0.1", imsd.port)) as sock:
        get(sock, path, alice.token)
        head = b""
        while b"\r\n\r\n" not in head:  # answered: imsd has set up its end
            head += sock.recv(4096)
        if not imsd.store_env:  # a file store's body is a file; S3's comes through a reader
            assert server_socket_option(imsd.proc.pid, sock, socket.IPPROTO_TCP,
                                        socket.TCP_NOTSENT_LOWAT) == UNSENT_LOWAT
        head, body = head.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200")
        while len(body) < len(data):
            chunk = sock.recv(1 << 20)
            assert chunk, "closed after %d of %d bytes" % (len(body), len(data))
            body += chunk
        assert body == data
        # the same connection answers again after the body: a suffix range
        get(sock, path, alice.token, "Range: bytes=-1000\r\n")
        reply = RawReply(read_one_reply(sock))
        assert reply.status == 206
        assert reply.body == data[-1000:]


def test_large_body_and_its_ranges_over_one_keep_alive_session(alice):
    data = os.urandom(3 * 1024 * 1024 + 5)
    iid = active_image(alice, data=data)["id"]
    url = "/v2/images/%s/file" % iid
    n = len(data)
    r = alice.get(url)
    assert r.status_code == 200 and r.content == data
    cases = {
        "bytes=0-": (data, "bytes 0-%d/%d" % (n - 1, n)),
        "bytes=1048575-": (data[1048575:], "bytes 1048575-%d/%d" % (n - 1, n)),
        "bytes=-2097153": (data[-2097153:], "bytes %d-%d/%d" % (n - 2097153, n - 1, n)),
        "bytes=131071-2228224": (data[131071:2228225], "bytes 131071-2228224/%d" % n),
        "bytes=%d-%d" % (n - 1, n + 100): (data[-1:], "bytes %d-%d/%d" % (n - 1, n - 1, n)),
    }
    for rng, (want, content_range) in cases.items():
        r = alice.get(url, headers={"Range": rng})
        assert r.status_code == 206, rng
        assert r.headers["Content-Range"] == content_range, rng
        assert int(r.headers["Content-Length"]) == len(want), rng
        assert r.content == want, rng
    assert alice.get(url).content == data  # still whole after the ranges


def test_client_that_stops_early_leaves_the_server_serving(imsd, alice):
    data = os.urandom(8 * 1024 * 1024 + 3)
    iid = active_image(alice, data=data)["id"]
    path = "/v2/images/%s/file" % iid
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", imsd.port))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        get(sock, path, alice.token)
        got = b""
        while len(got) < 256 * 1024:
            got += sock.recv(65536)
        assert got.startswith(b"HTTP/1.1 200")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # a reset in the middle of the body
    r = alice.get("/v2/images/%s/file" % iid)
    assert r.status_code == 200 and r.content == data
    assert imsd.running()


def test_head_of_a_file_sends_no_body_and_keeps_the_connection(imsd, alice):
    data = os.urandom(2 * 1024 * 1024 + 9)
    iid = active_image(alice, data=data)["id"]
    path = "/v2/images/%s/file" % iid
    with socket.create_connection(("127.0.0.1", imsd.port)) as sock:
        sock.sendall(("HEAD %s HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n\r\n" % (path, alice.token)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            assert chunk, head
            head += chunk
        head, rest = head.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200"), head
        assert b"\r\ncontent-length: %d\r\n" % len(data) in head.lower() + b"\r\n"
        assert rest == b""  # no body bytes after a HEAD's head
        # the next answer on the connection is the next request's, not the file
        get(sock, path, alice.token, "Range: bytes=100-199\r\n")
        reply = RawReply(read_one_reply(sock))
        assert reply.status == 206
        assert reply.body == data[100:200]
