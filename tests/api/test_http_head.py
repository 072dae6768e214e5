"""Request heads the server must refuse with a status, never a silent close
(issue 9 items 6 and 10): smuggling-prone framing, no Host, too many query
parameters, too long a URI, too large a head."""
from helpers import raw_request


def _get(port, target, extra=b""):
    return raw_request(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + extra
                       + b"Connection: close\r\n\r\n")


def test_thousand_query_parameters_get_400(imsd, admin):
    query = "&".join("param%d=v" % i for i in range(1000)).encode()
    assert len(query) > 7000
    r = _get(imsd.port, b"/v2/images?" + query,
             b"X-Auth-Token: " + admin.token.encode() + b"\r\n")
    assert r.status == 400, r.raw[:300]
    assert "Too many query parameters" in r.json()["message"]


def test_too_long_uri_gets_414(imsd):
    r = _get(imsd.port, b"/v2/images?name=" + b"x" * 70000)
    assert r.status == 414, r.raw[:300]


def test_too_large_header_gets_431(imsd):
    r = _get(imsd.port, b"/", b"X-Big: " + b"x" * 70000 + b"\r\n")
    assert r.status == 431, r.raw[:300]


def test_too_many_headers_get_431(imsd):
    r = _get(imsd.port, b"/", b"".join(b"X-H%d: v\r\n" % i for i in range(4000)))
    assert r.status == 431, r.raw[:300]


def _post_token(port, headers, body):
    return raw_request(port, b"POST /v3/auth/tokens HTTP/1.1\r\n" + headers
                       + b"Content-Type: application/json\r\nConnection: close\r\n\r\n" + body)


def test_two_different_content_lengths_get_400(imsd):
    r = _post_token(imsd.port, b"Host: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n", b"{}xxx")
    assert r.status == 400, r.raw[:300]
    assert r.json()["message"] == "Conflicting Content-Length headers."
    assert r.headers.get("connection") == "close"


def test_repeated_equal_content_length_is_one_length(imsd):
    r = _post_token(imsd.port, b"Host: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n", b"{}")
    assert r.status == 400, r.raw[:300]
    # the body was read: {} lacks "auth" (the token route answers in Keystone's shape)
    assert "Content-Length" not in r.json()["error"]["message"]


def test_content_length_with_transfer_encoding_gets_400(imsd):
    r = _post_token(imsd.port, b"Host: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n",
                    b"0\r\n\r\n")
    assert r.status == 400, r.raw[:300]
    assert r.json()["message"] == "Content-Length and Transfer-Encoding must not be sent together."


def test_http11_without_host_gets_400(imsd):
    r = raw_request(imsd.port, b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert r.status == 400, r.raw[:300]
    assert r.json()["message"] == "An HTTP/1.1 request must have a Host header."
    r = raw_request(imsd.port, b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n")
    assert r.status == 400, r.raw[:300]


def test_http10_without_host_is_fine(imsd):
    r = raw_request(imsd.port, b"GET / HTTP/1.0\r\n\r\n")
    assert r.status == 300, r.raw[:300]


def test_connection_memory_bounds_the_head(imsd, start_imsd):
    """[server] connection_memory_kib is each connection's buffer, the
    request head included: a 24 KiB head fits the default 64 KiB and is
    refused with 431 where it is set to 16 KiB."""
    extra = b"X-Big: " + b"x" * (24 * 1024) + b"\r\n"
    assert _get(imsd.port, b"/", extra).status == 300  # the version list
    small = start_imsd(config={"server": {"connection_memory_kib": 16}})
    r = _get(small.port, b"/", extra)
    assert r.status == 431, r.raw[:300]
    assert _get(small.port, b"/").status == 300
