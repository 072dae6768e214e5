#!/usr/bin/python3
"""One HTTP GET to a sink, read the way `cat FILE > /dev/null` reads a file.

curl -o /dev/null, the bench's first client, receives in ~100 KiB pieces and
writes them to /dev/null in 4-12 KiB stdio writes (Run AE): at 1-2 GB/s that
is the client's work, not the server's. This client asks once and then only
receives:

  recv    recv_into one reused buffer (--buf, default 128 KiB, cat's own read
          size): one copy, socket to user memory, as cat copies page cache to
          user memory; nothing written anywhere. The fair twin of a warm cat.
  splice  socket -> pipe -> /dev/null: the bytes never reach user memory. Not
          a download anyone makes; what the server and loopback TCP alone can
          carry, the bound above any client.

Prints `<status> <body bytes> <seconds> <client cpu seconds>`; seconds run
from connect to the last byte, like curl's time_total. Exit 1 when the
answer is not a complete 200/206 body.

usage: fetch.py URL [--mode recv|splice] [--buf BYTES] [-H 'Name: value']...
"""
import argparse
import fcntl
import os
import socket
import sys
import time
import urllib.parse


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("url")
    p.add_argument("--mode", choices=("recv", "splice"), default="recv")
    p.add_argument("--buf", type=int, default=128 * 1024, help="bytes per receive")
    p.add_argument("-H", dest="headers", action="append", default=[], help="extra request header")
    return p.parse_args(argv)


def request(url, headers):
    u = urllib.parse.urlsplit(url)
    target = (u.path or "/") + ("?" + u.query if u.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {u.netloc}", "Connection: close", *headers]
    return u.hostname, u.port or 80, ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_head(sock):
    """The status, Content-Length and the body bytes that came with the head."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("connection closed before the response head")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    return status, length, rest


def receive(sock, left, mode, bufsize):
    """Bytes received until `left` more came or the peer closed."""
    got = 0
    if mode == "splice":
        rd, wr = os.pipe()
        bufsize = fcntl.fcntl(wr, fcntl.F_SETPIPE_SZ, min(bufsize, 1 << 20))
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            while left is None or got < left:
                n = os.splice(sock.fileno(), wr, bufsize)
                if n == 0:
                    break
                got += n
                while n:
                    n -= os.splice(rd, null, n)
        finally:
            for fd in (rd, wr, null):
                os.close(fd)
        return got
    buf = memoryview(bytearray(bufsize))
    while left is None or got < left:
        n = sock.recv_into(buf)
        if n == 0:
            break
        got += n
    return got


def main(argv):
    a = parse_args(argv)
    host, port, req = request(a.url, a.headers)
    cpu0, t0 = time.process_time(), time.monotonic()
    with socket.create_connection((host, port)) as sock:
        sock.sendall(req)
        status, length, rest = read_head(sock)
        got = len(rest) + receive(sock, None if length is None else length - len(rest), a.mode, a.buf)
    secs, cpu = time.monotonic() - t0, time.process_time() - cpu0
    print(f"{status} {got} {secs:.6f} {cpu:.3f}")
    complete = status in (200, 206) and (length is None or got == length)
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
