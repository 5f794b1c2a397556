"""Rendered responses read back by an independent HTTP/1.1 client parser (h11)."""
from __future__ import annotations

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outside import FilePath, Request, Response, ResponseCookie
from outside.config import default_config
from outside.files import FileSpan
from outside.http.events import RequestHead
from outside.response import ResponseError, render

CONFIG = default_config(("127.0.0.1", 0))


def make_request(method="GET", version="HTTP/1.1", headers=()):
    head = RequestHead(method, "/", version, [("Host", "x"), *headers], keep_alive=True,
                       upgrade=False, expect_continue=False, chunked=False, content_length=None)
    return Request.from_head(head, ("127.0.0.1", 1), b"")


def wire_bytes(rendered) -> bytes:
    body = rendered.body
    if isinstance(body, FileSpan):
        with body.open() as file:
            file.seek(body.offset)
            data = file.read(body.count)
    elif isinstance(body, bytes):
        data = body
    else:
        data = b"".join(body)
    return rendered.head + data


def read_back(response: Response, method="GET", request_headers=()):
    """(h11 Response event, body bytes, h11 saw the end) for ``response`` rendered to a request."""
    request = make_request(method, "HTTP/1.1", request_headers)
    rendered = render(response, request, True, CONFIG)
    client = h11.Connection(our_role=h11.CLIENT)
    client.send(h11.Request(method=method, target="/", headers=[("Host", "x"), *request_headers],
))
    client.send(h11.EndOfMessage())
    client.receive_data(wire_bytes(rendered))
    head, body, ended = None, b"", False
    while True:
        event = client.next_event()
        if isinstance(event, h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            ended = True
            break
        else:
            break
    return head, body, ended


def header(event, name: str):
    values = [value.decode("latin-1") for key, value in event.headers if key == name.lower().encode()]
    return values[0] if len(values) == 1 else values


@pytest.mark.parametrize("content, expected", [
    ("Hello, World!", b"Hello, World!"),
    (b"\x00bin", b"\x00bin"),
    ({"k": "v"}, b'{"k": "v"}'),
    (iter([b"a", b"bc", b"", b"d"]), b"abcd"),
    ([b"x" * 70000, b"y"], b"x" * 70000 + b"y"),
])
def test_every_content_kind_reads_back(content, expected):
    event, body, ended = read_back(Response(200, {"X-Test": "1"}, content))
    assert event.status_code == 200 and header(event, "X-Test") == "1"
    assert body == expected and ended


def test_declared_length_stream_reads_back():
    event, body, ended = read_back(Response(200, {"Content-Length": "3"}, iter([b"a", b"bc"])))
    assert header(event, "Content-Length") == "3" and body == b"abc" and ended


def test_file_and_range_read_back(tmp_path):
    path = tmp_path / "f.txt"
    path.write_bytes(b"0123456789" * 10)
    config_range = dict(CONFIG, allow_range_from_mb=0)
    request = make_request(headers=[("Range", "bytes=-5")])
    rendered = render(Response(200, {}, FilePath(str(path))), request, True, config_range)
    client = h11.Connection(our_role=h11.CLIENT)
    client.send(h11.Request(method="GET", target="/", headers=[("Host", "x"), ("Range", "bytes=-5")]))
    client.send(h11.EndOfMessage())
    client.receive_data(wire_bytes(rendered))
    event, data, end = client.next_event(), client.next_event(), client.next_event()
    assert event.status_code == 206 and header(event, "Content-Range") == "bytes 95-99/100"
    assert data.data == b"56789" and isinstance(end, h11.EndOfMessage)


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_statuses_read_back(status):
    event, body, ended = read_back(Response(status, {}, "ignored"))
    assert event.status_code == status and body == b"" and ended


def test_head_reads_back_without_body():
    event, body, ended = read_back(Response(200, {}, "some text"), method="HEAD")
    assert header(event, "Content-Length") == "9" and body == b"" and ended


def test_cookies_read_back():
    event, _, _ = read_back(Response(200, {}, "", cookies={"a": ResponseCookie("1", path="/"), "b": "2"}))
    assert header(event, "Set-Cookie") == ["a=1; Path=/", "b=2"]


header_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x17F), max_size=20)
header_name = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(header_name, header_text, max_size=4))
def test_headers_are_sent_exactly_or_refused(headers):
    """Whatever a handler puts in headers: either exactly those fields reach the client, or
    ``render`` refuses. No value can add a field of its own (response splitting)."""
    response = Response(200, {f"X-{name}": value for name, value in headers.items()}, "body")
    try:
        event, body, ended = read_back(response)
    except ResponseError:
        assert any(ch in name for name in headers for ch in " \t\"(),/:;<=>?@[\\]{}") or any(
            ch in "\r\n\0" or ord(ch) > 0xFF for value in headers.values() for ch in value)
        return
    except h11.RemoteProtocolError:
        # h11 refuses control characters and edge whitespace that RFC 9110 only
        # discourages; still, nothing we sent may add a line.
        head = render(response, make_request(), True, CONFIG).head
        assert head.count(b"\r\n") == head.count(b"\n") == head.count(b"\r") == len(headers) + 6
        return
    sent = {key.decode("latin-1").lower() for key, _ in event.headers}
    assert sent == {"date", "server", "content-type", "content-length"} | {
        f"x-{name}".lower() for name in headers}
    assert body == b"body" and ended
