"""A loopback HTTP proxy that injects faults between imsd and the S3 test
server (bench/latency_proxy.py delays bytes; this one understands requests,
so it can fail chosen ones). One request per client connection: each answer
says `Connection: close`, and each request goes to the server on a
connection of its own, its head and body unchanged (SigV4 signs the Host the
client sent, which reaches the server as it was).

Faults, counted down as they are injected (a request meets one at most):
    proxy.fail(n, status=503, code="SlowDown", method=None, match=None)
        the next n requests (of method, and whose path and query contain
        match, if given) are answered `status` with an S3 error document,
        without reaching the server; n=None: all
    proxy.reset(n, method=None, match=None)
        the next n requests (of method, whose path and query contain match)
        have their connection reset (RST) after the head
    proxy.drop(n, method=None, match=None, on_drop=None)
        the next n requests (of method, whose path and query contain match)
        reach the server, which answers; the answer is read whole and the
        client's connection reset without a byte of it (a lost answer);
        on_drop() runs before the reset, if given
    proxy.hold(n, method=None, match=None, on_hold=None)
        the next n requests (of method, whose path and query contain match)
        reach the server, whose answer head is read, then on_hold() runs
        before the answer goes on unchanged (a slow service)
    proxy.stall(n, method=None)
        the next n requests get no answer: the connection stays silent
        until the client gives up (or 60 s)
    proxy.cut(n, after, method="GET", on_cut=None, stall=False)
        the next n successful answers (of method) longer than `after` bytes
        are cut after that many body bytes: the connection is reset (or,
        with stall, stays silent); on_cut() runs first, if given
    proxy.cut_request(n, after, method="PUT", match=None)
        the next n requests (of method, whose path and query contain match)
        reach the server with their head
        and the first `after` bytes of their body, then both connections
        are reset (a request body broken midway)
    proxy.rewrite(n, headers, method=None, match=None)
        the next n answers (to requests of method, whose path and query
        contain match) reach the client with the headers given (a dict:
        each replaces the header of that name, or is added): an answer
        the server did not give, as a service of another kind gives it
    proxy.clear()                   (also forgets what was seen)
proxy.seen: [(method, path-and-query, what happened)] of every request."""
import socket
import struct
import threading


def _read_head(sock, buf):
    """(head bytes, the bytes after it) or (None, buf) at EOF."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return None, buf
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head + b"\r\n\r\n", rest


def _headers(head):
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        if ":" in line:
            k, _, v = line.partition(":")
            fields[k.strip().lower()] = v.strip()
    return lines[0], fields


def _silent(sock):
    """Holds the connection without a byte until the client closes it."""
    sock.settimeout(60)
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass


def _drain(u, buf, no_body, fields):
    """Reads the rest of an answer whose head was read (buf: what followed
    it): to the last chunk, by Content-Length, or to the end."""
    if no_body:
        return
    if "chunked" in fields.get("transfer-encoding", "").lower():
        while not buf.endswith(b"0\r\n\r\n"):
            data = u.recv(65536)
            if not data:
                return
            buf = buf[-16:] + data
        return
    length = fields.get("content-length")
    left = int(length) - len(buf) if length is not None else None
    while left is None or left > 0:
        data = u.recv(65536)
        if not data:
            return
        if left is not None:
            left -= len(data)


def _rst(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FaultProxy:
    def __init__(self, target_host, target_port):
        self.target = (target_host, target_port)
        self.lock = threading.Lock()
        self.clear()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.endpoint = "http://127.0.0.1:%d" % self.port
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    def for_endpoint(cls, endpoint):
        host, _, port = endpoint.split("//", 1)[1].rstrip("/").partition(":")
        return cls(host, int(port))

    def clear(self):
        """No faults any more, nothing seen."""
        with self.lock:
            self.faults = []  # [kind, count (None: always), method, args]
            self.rewrites = []  # [count (None: always), method, match, headers]
            self.seen = []

    def fail(self, n, status=503, code="SlowDown", method=None, match=None):
        with self.lock:
            self.faults.append(["fail", n, method, (status, code, match)])

    def reset(self, n, method=None, match=None):
        with self.lock:
            self.faults.append(["reset", n, method, (match,)])

    def drop(self, n, method=None, match=None, on_drop=None):
        with self.lock:
            self.faults.append(["drop", n, method, (match, on_drop)])

    def hold(self, n, method=None, match=None, on_hold=None):
        with self.lock:
            self.faults.append(["hold", n, method, (match, on_hold)])

    def cut_request(self, n, after, method="PUT", match=None):
        with self.lock:
            self.faults.append(["cut_request", n, method, (after, match)])

    def rewrite(self, n, headers, method=None, match=None):
        with self.lock:
            self.rewrites.append([n, method, match, dict(headers)])

    def _rewritten(self, method, target, head_lines):
        """The answer's head lines with the first matching rewrite applied."""
        with self.lock:
            for r in self.rewrites:
                n, m, match, headers = r
                if (n is not None and n <= 0) or (m and m != method) or (match and match not in target):
                    continue
                if n is not None:
                    r[0] -= 1
                names = {k.lower().encode() for k in headers}
                kept = [line for line in head_lines if line.split(b":", 1)[0].strip().lower() not in names]
                return kept + [("%s: %s" % (k, v)).encode() for k, v in headers.items()]
        return head_lines

    def stall(self, n, method=None):
        with self.lock:
            self.faults.append(["stall", n, method, None])

    def cut(self, n, after, method="GET", on_cut=None, stall=False):
        with self.lock:
            self.faults.append(["cut", n, method, (after, on_cut, stall)])

    def count(self, what):
        with self.lock:
            return sum(1 for s in self.seen if s[2] == what)

    def close(self):
        self.closed = True
        self.sock.close()

    def _take(self, method, target, answer=None):
        """The fault this request meets now (kind, args) or None. Before the
        answer (answer None): fail or reset; with the answer's (status,
        body length or -1): a cut, of a successful answer longer than where
        it cuts."""
        with self.lock:
            for f in self.faults:
                kind, n, m, args = f
                if (n is not None and n <= 0) or (m and m != method):
                    continue
                if (kind == "cut") != (answer is not None):
                    continue
                if kind == "cut" and not (200 <= answer[0] < 300 and (answer[1] < 0 or answer[1] > args[0])):
                    continue
                if kind == "fail" and args[2] and args[2] not in target:
                    continue
                if kind in ("drop", "reset", "hold") and args[0] and args[0] not in target:
                    continue
                if kind == "cut_request" and args[1] and args[1] not in target:
                    continue
                if n is not None:
                    f[1] -= 1
                return kind, args
        return None

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            self._one(c)
        except OSError:
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def _note(self, method, target, what):
        with self.lock:
            self.seen.append((method, target, what))

    def _cut_request(self, c, head, rest, fields, method, target, length, after):
        """Passes the head and `after` bytes of the body to the server (the
        server's 100 Continue to the client), then resets both sides."""
        u = socket.create_connection(self.target, timeout=120)
        try:
            u.sendall(head)
            if "100-continue" in fields.get("expect", "").lower():
                interim, _ = _read_head(u, b"")
                if interim is None:
                    self._note(method, target, "server closed")
                    return
                c.sendall(interim)
            passed = 0
            buf = rest
            while passed < min(after, length):
                if not buf:
                    buf = c.recv(65536)
                    if not buf:
                        break
                take = buf[:min(after, length) - passed]
                u.sendall(take)
                passed += len(take)
                buf = buf[len(take):]
            self._note(method, target, "cut request %d" % passed)
            _rst(c)
        finally:
            _rst(u)

    def _one(self, c):
        head, rest = _read_head(c, b"")
        if head is None:
            return
        first, fields = _headers(head)
        method, target = first.split(" ")[:2]
        length = int(fields.get("content-length", "0"))
        fault = self._take(method, target)
        if fault and fault[0] == "stall":
            self._note(method, target, "stall")
            _silent(c)
            return
        if fault and fault[0] == "reset":
            self._note(method, target, "reset")
            _rst(c)
            return
        if fault and fault[0] == "cut_request":
            self._cut_request(c, head, rest, fields, method, target, length, fault[1][0])
            return
        if fault and fault[0] == "fail":
            status, code, _ = fault[1]
            self._note(method, target, "fail %d" % status)
            if "100-continue" not in fields.get("expect", "").lower():  # the body comes anyway: take it first
                left = length - len(rest)
                while left > 0:
                    data = c.recv(min(65536, left))
                    if not data:
                        break
                    left -= len(data)
            body = ("<?xml version='1.0' encoding='UTF-8'?>\n<Error><Code>%s</Code><Message>injected by the "
                    "test proxy</Message></Error>" % code).encode()
            c.sendall(b"HTTP/1.1 %d Injected\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n" % (status, len(body)) + (body if method != "HEAD" else b""))
            return
        u = socket.create_connection(self.target, timeout=120)
        try:
            u.sendall(head + rest)
            sent = [len(rest)]

            def upload():  # the request's body, as the client sends it (after a 100 Continue, maybe)
                try:
                    while sent[0] < length:
                        data = c.recv(min(65536, length - sent[0]))
                        if not data:
                            return
                        u.sendall(data)
                        sent[0] += len(data)
                except OSError:
                    pass
            t = threading.Thread(target=upload, daemon=True)
            t.start()
            buf = b""
            while True:  # interim answers (100 Continue) pass through
                rhead, buf = _read_head(u, buf)
                if rhead is None:
                    self._note(method, target, "server closed")
                    return
                status_line, rfields = _headers(rhead)
                status = int(status_line.split(" ")[1])
                if status >= 200:
                    break
                c.sendall(rhead)
            t.join()
            if fault and fault[0] == "hold":
                self._note(method, target, "hold %d" % status)
                if fault[1][1]:
                    fault[1][1]()
            if fault and fault[0] == "drop":  # the server did it; the client never hears
                _drain(u, buf, method == "HEAD" or status in (204, 304), rfields)
                self._note(method, target, "drop %d" % status)
                if fault[1][1]:
                    fault[1][1]()
                _rst(c)
                return
            lines = [line for line in rhead[:-4].split(b"\r\n") if not line.lower().startswith(b"connection:")]
            lines = lines[:1] + self._rewritten(method, target, lines[1:])
            out_head = b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n"
            no_body = method == "HEAD" or status in (204, 304)
            blen = 0 if no_body else int(rfields.get("content-length", "-1"))
            fault = self._take(method, target, answer=(status, blen))
            c.sendall(out_head)
            limit = blen
            if fault:
                after, on_cut, stall = fault[1]
                limit = after
            passed = 0
            while limit < 0 or passed < limit:
                if not buf:
                    buf = u.recv(65536)
                    if not buf:
                        break
                take = buf[:limit - passed] if limit >= 0 else buf
                c.sendall(take)
                passed += len(take)
                buf = buf[len(take):]
            if fault:
                self._note(method, target, "%s %d" % ("stall" if stall else "cut", passed))
                if on_cut:
                    on_cut()
                if stall:
                    _silent(c)
                else:
                    _rst(c)
                return
            self._note(method, target, "%d" % status)
        finally:
            u.close()
