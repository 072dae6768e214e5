"""The simplest server that sends one file over HTTP on this host: the
reference imsd's download is measured against, beside nginx and a warm cat.

Every GET on the port is answered `200` with the whole file: one blocking
`sendfile` of everything that is left (no chunks, no event loop, nothing read
into user memory, no per-request work), on a socket with imsd's options
(reno, not paced, for a peer on this host: lib/http/loopback.c; at most
128 KiB unsent, as a file body's socket: lib/http/unsent.c, Run NL). What it
costs per GiB is the kernel's loopback TCP and little else, so its ratio to
a warm cat is what serving from the page cache reaches here with a given
client, and imsd's ratio to it is what is left to imsd (bench/README.md,
Run DB: at a lighter load 0.89 of a warm cat spliced, imsd 0.73).

usage: sendfile_bound.py FILE [--host 127.0.0.1] [--port 0]
Prints the URL once it listens, then serves one connection at a time until
killed.
"""
import argparse
import os
import socket
import sys


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("file")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    return p.parse_args(argv)


def read_head(conn):
    """The request head, or None when the peer closed before sending one."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data


def serve(conn, path):
    if read_head(conn) is None:
        return
    # the same congestion control imsd gives a peer on this host
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")
    # and the unsent limit imsd gives a file body's socket (without it this
    # server ran at 0.57-0.69 of itself with it, loaded, Run NL)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, 128 * 1024)
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
        offset = 0
        while offset < size:
            sent = os.sendfile(conn.fileno(), f.fileno(), offset, size - offset)
            if sent == 0:
                break
            offset += sent


def main(argv):
    a = parse_args(argv)
    family = socket.AF_INET6 if ":" in a.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((a.host, a.port))
        ls.listen(16)
        host = f"[{a.host}]" if family == socket.AF_INET6 else a.host
        print(f"http://{host}:{ls.getsockname()[1]}/", flush=True)
        while True:
            conn, _ = ls.accept()
            with conn:
                try:
                    serve(conn, a.file)
                except OSError:
                    pass  # the client went away: serve the next one


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
