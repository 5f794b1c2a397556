"""``Request``: built from a parsed head (the server's path) and by hand (1.5.x)."""
from __future__ import annotations

import io
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outside import Request
from outside.headers import Headers
from outside.http.events import RequestHead

ADDRESS = ("192.0.2.7", 50123)


def head(target="/", method="GET", headers=(("Host", "example.com"),), version="HTTP/1.1",
         upgrade=False):
    return RequestHead(method, target, version, list(headers), keep_alive=True, upgrade=upgrade,
                       expect_continue=False, chunked=False, content_length=None)


def request(target="/", body=b"", **kwargs):
    return Request.from_head(head(target, **kwargs), ADDRESS, body)


class TrickleStream:
    """A body stream like the server's: hands out at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int = 3) -> None:
        self.data, self.step, self.reads = data, step, 0

    def read(self, size: int = -1) -> bytes:
        self.reads += 1
        size = self.step if size < 0 else min(size, self.step)
        piece, self.data = self.data[:size], self.data[size:]
        return piece


def test_seed_attributes():
    r = Request.from_head(head("/hello?name=x", method="POST"), ADDRESS, b"body", scheme="https")
    assert (r.method, r.url, r.version, r.address, r.content) == ("POST", "/hello", "HTTP/1.1", ADDRESS, b"body")
    assert (r.target, r.scheme, r.upgrade) == ("/hello?name=x", "https", False)
    assert r.headers == {"Host": "example.com"}
    assert isinstance(r.headers, dict)


def test_headers_case_insensitive_with_duplicates_joined():
    r = request(headers=[("Host", "h"), ("X-Tag", "a"), ("x-tag", "b")])
    assert r.headers["x-tag"] == "a, b" and r.headers["HOST"] == "h"
    assert r.header_list == [("Host", "h"), ("X-Tag", "a"), ("x-tag", "b")]


def test_headers_are_built_once_and_may_be_replaced():
    r = request(headers=[("Host", "h"), ("Cookie", "a=1")])
    assert r.headers is r.headers and isinstance(r.headers, Headers)
    assert r.cookies == {"a": "1"}
    r.headers = {"X-Own": "1"}  # a plain attribute in 1.5.x: handlers and middleware assign it
    assert r.headers == {"X-Own": "1"} and type(r.headers) is dict
    r.note = "handlers may add attributes"
    assert r.note == "handlers may add attributes"


@pytest.mark.parametrize("target, url", [
    ("/", "/"),
    ("/a/b?c=d", "/a/b"),
    ("/a?", "/a"),
    ("/caf%C3%A9", "/café"),
    ("/a%2Fb", "/a/b"),
    ("/a%20b?x=%20", "/a b"),
    ("/bad%FFbyte", "/bad\ufffdbyte"),
    ("/100%", "/100%"),
    ("/caf\xc3\xa9", "/café"),                         # raw UTF-8, as the parser's latin-1 gives it
    ("http://example.com/abs/path?q=1", "/abs/path"),  # absolute-form
    ("http://example.com", "/"),
    ("*", "*"),
])
def test_url_is_decoded_path(target, url):
    r = request(target)
    assert r.url == url and r.target == target


def test_params_and_query():
    r = request("/s?a=1&b=two+words&a=2&c=&d=%C3%A9&flag")
    assert r.params == {"a": "1", "b": "two words", "c": "", "d": "é", "flag": ""}
    assert r.query == {"a": ["1", "2"], "b": ["two words"], "c": [""], "d": ["é"], "flag": [""]}
    assert request("/s").params == {} and request("/s").query == {}


def test_cookies():
    r = request(headers=[("Cookie", "a=1; b=\"two\""), ("cookie", "c=3")])
    assert r.cookies == {"a": "1", "b": "two", "c": "3"}
    assert request().cookies == {}


def test_utf8_cookie_values():
    raw = "name=Jürgen".encode().decode("latin-1")  # as the parser hands it over
    assert request(headers=[("Cookie", raw)]).cookies == {"name": "Jürgen"}


@pytest.mark.parametrize("body, expected", [
    (b'{"a": [1, 2]}', {"a": [1, 2]}),
    (b"[1]", [1]),
    ('"é"'.encode("utf-16"), "é"),
    (b"", None),
    (b"{nope", None),
    (b"\xff\xfe\xfd", None),
    (b"[" * 100000 + b"]" * 100000, None),
])
def test_json(body, expected):
    assert request(body=body).json() == expected


def test_streamed_body_read_in_pieces():
    stream = TrickleStream(b"0123456789")
    r = request(body=stream)
    assert r.body.read(4) == b"012"
    assert r.body.read(4) == b"345"
    assert list(r.body) == [b"678", b"9"]
    assert r.body.read() == b""


def test_streamed_body_content_reads_everything():
    r = request(body=TrickleStream(b"x" * 100, step=7))
    assert r.content == b"x" * 100
    assert r.content == b"x" * 100
    assert r.json() is None


def test_content_after_partial_body_read_is_the_rest():
    r = request(body=TrickleStream(b"abcdef", step=2))
    assert r.body.read(2) == b"ab"
    assert r.content == b"cdef"


def test_bytes_body_as_stream():
    r = request(body=b"hello world")
    assert r.body.read(5) == b"hello"
    assert b"".join(r.body) == b" world"
    assert r.content == b"hello world"


def test_body_iteration_uses_large_pieces():
    stream = io.BytesIO(b"z" * 200_000)
    assert [len(piece) for piece in request(body=stream).body] == [65536, 65536, 65536, 3392]


def test_upgrade_flag_from_head():
    assert request(upgrade=True).upgrade is True


def test_seed_constructor():
    r = Request("GET", {"Content-Type": "text/plain", "Cookie": "k=v", "Connection": "Upgrade",
                        "Upgrade": "websocket"}, b"{}", "HTTP/1.0", "/path?x=1&x=2", ("::1", 1))
    assert r.url == "/path" and r.params == {"x": "1"} and r.query == {"x": ["1", "2"]}
    assert r.headers["content-type"] == "text/plain" and isinstance(r.headers, Headers)
    assert r.cookies == {"k": "v"} and r.json() == {} and r.version == "HTTP/1.0"
    assert r.upgrade is True and r.target == "/path?x=1&x=2"


def test_blank():
    r = Request.blank()
    assert (r.method, r.url, r.content, r.headers, r.params) == ("GET", "/", b"", {}, {})


def test_from_the_active_parser_twin():
    """The head a real parser produces (C or pure, as ``outside.speedups`` chose) builds the
    same Request as everywhere else."""
    from outside.speedups import RequestParser
    raw = (b"POST /caf%C3%A9?x=1&x=2 HTTP/1.1\r\nHost: example.com\r\nCookie: k=v\r\n"
           b"X-A: 1\r\nx-a: 2\r\nContent-Length: 9\r\n\r\n")
    events = RequestParser().feed(raw + b'{"a": 1}\n')
    head = events[0]
    body = b"".join(event for event in events if isinstance(event, bytes))
    r = Request.from_head(head, ADDRESS, body)
    assert (r.method, r.url, r.target, r.version) == ("POST", "/café", "/caf%C3%A9?x=1&x=2", "HTTP/1.1")
    assert r.params == {"x": "1"} and r.query == {"x": ["1", "2"]} and r.cookies == {"k": "v"}
    assert r.headers["x-a"] == "1, 2" and r.headers["content-length"] == "9"
    assert r.json() == {"a": 1} and r.upgrade is False


@settings(max_examples=400, deadline=None)
@given(query=st.text(st.sampled_from("ab=&;+%2Fé0 "), max_size=16))
def test_query_is_what_parse_qsl_reads(query):
    # The fast path for a query with nothing to decode must agree with the standard library.
    expected: dict = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        expected.setdefault(name, []).append(value)
    request = Request.blank(url="/p?" + query)
    assert request.query == expected
    assert request.params == {name: values[0] for name, values in expected.items()}
