"""``Response`` and ``render``: the HTTP/1.1 serialization of every kind of content."""
from __future__ import annotations

import inspect
import json
import time
from email.utils import parsedate_to_datetime

import pytest

from outside import Request, Response, ResponseCookie
from outside.config import default_config
from outside.http.events import RequestHead
from outside.response import Rendered, ResponseError, render

CONFIG = default_config(("127.0.0.1", 0))


def make_request(method="GET", version="HTTP/1.1", headers=()):
    head = RequestHead(method, "/", version, [("Host", "x"), *headers], keep_alive=True,
                       upgrade=False, expect_continue=False, chunked=False, content_length=None)
    return Request.from_head(head, ("127.0.0.1", 1), b"")


GET = make_request()


def split_head(rendered: Rendered):
    """(status line, [(name, value)...]) of a rendered head, checking its framing."""
    text = rendered.head.decode("latin-1")
    assert text.endswith("\r\n\r\n") and "\n\n" not in text
    status_line, *lines = text[:-4].split("\r\n")
    return status_line, [tuple(line.split(": ", 1)) for line in lines]


def fields(rendered: Rendered) -> dict:
    pairs = split_head(rendered)[1]
    result = {}
    for name, value in pairs:
        result.setdefault(name.lower(), []).append(value)
    return result


def test_hello_world_exact():
    rendered = render(Response(200, {"Content-Type": "text/plain"}, "Hello, World!"), GET, True, CONFIG)
    status_line, pairs = split_head(rendered)
    assert status_line == "HTTP/1.1 200 OK"
    assert [name for name, _ in pairs] == ["Date", "Server", "Content-Type", "Content-Length"]
    assert dict(pairs)["Server"] == "outside"
    assert dict(pairs)["Content-Type"] == "text/plain" and dict(pairs)["Content-Length"] == "13"
    assert abs(parsedate_to_datetime(dict(pairs)["Date"]).timestamp() - time.time()) < 3
    assert dict(pairs)["Date"].endswith(" GMT")
    assert (rendered.body, rendered.keep_alive, rendered.status) == (b"Hello, World!", True, 200)


def test_seed_defaults():
    assert Response(200, {}, "").content == ""
    response = Response()
    assert (response.status_code, response.headers, response.content, response.cookies) == (200, {}, b"", {})


@pytest.mark.parametrize("content, body, content_type", [
    ("héllo", "héllo".encode(), "text/plain; charset=utf-8"),
    (b"\x00\x01", b"\x00\x01", "text/plain"),
    (bytearray(b"ab"), b"ab", "text/plain"),
    ({"a": [1, "é"]}, json.dumps({"a": [1, "é"]}).encode(), "application/json"),
    ({}, b"{}", "application/json"),
])
def test_default_content_types(content, body, content_type):
    rendered = render(Response(200, {}, content), GET, True, CONFIG)
    assert rendered.body == body
    assert fields(rendered)["content-type"] == [content_type]
    assert fields(rendered)["content-length"] == [str(len(body))]


def test_none_content_is_empty():
    rendered = render(Response(200, {}, None), GET, True, CONFIG)
    assert rendered.body == b"" and fields(rendered)["content-length"] == ["0"]
    assert "content-type" not in fields(rendered)


def test_handler_content_type_kept_once_with_its_case():
    rendered = render(Response(200, {"content-type": "text/html"}, "<p>"), GET, True, CONFIG)
    assert ("content-type", "text/html") in split_head(rendered)[1]
    assert fields(rendered)["content-type"] == ["text/html"]


def test_server_owned_fields_from_handler_are_replaced():
    headers = {"Content-Length": "999", "Transfer-Encoding": "chunked", "Connection": "keep-alive"}
    rendered = render(Response(200, headers, "abc"), GET, True, CONFIG)
    assert fields(rendered)["content-length"] == ["3"]
    assert "transfer-encoding" not in fields(rendered) and "connection" not in fields(rendered)


def test_handler_date_and_server_override_ours():
    rendered = render(Response(200, {"Server": "custom", "date": "yesterday"}, ""), GET, True, CONFIG)
    assert fields(rendered)["server"] == ["custom"] and fields(rendered)["date"] == ["yesterday"]


def test_other_headers_and_integer_values():
    rendered = render(Response(201, {"X-Count": 3, "Location": "/new"}, ""), GET, True, CONFIG)
    assert split_head(rendered)[0] == "HTTP/1.1 201 Created"
    assert fields(rendered)["x-count"] == ["3"] and fields(rendered)["location"] == ["/new"]


def test_unknown_status_code_has_a_phrase():
    assert split_head(render(Response(299, {}, ""), GET, True, CONFIG))[0] == "HTTP/1.1 299 Unknown"


@pytest.mark.parametrize("keep_alive, headers, version, expected_alive, connection", [
    (True, {}, "HTTP/1.1", True, None),
    (False, {}, "HTTP/1.1", False, ["close"]),
    (True, {"Connection": "close"}, "HTTP/1.1", False, ["close"]),
    (True, {"connection": "Close"}, "HTTP/1.1", False, ["close"]),
    (True, {}, "HTTP/1.0", True, ["keep-alive"]),
    (False, {}, "HTTP/1.0", False, ["close"]),
])
def test_connection_decision(keep_alive, headers, version, expected_alive, connection):
    rendered = render(Response(200, headers, "x"), make_request(version=version), keep_alive, CONFIG)
    assert rendered.keep_alive is expected_alive
    assert fields(rendered).get("connection") == connection


def test_head_has_get_headers_and_no_body():
    response = Response(200, {"X-A": "1"}, "twelve bytes")
    get, head = render(response, GET, True, CONFIG), render(response, make_request("HEAD"), True, CONFIG)
    assert head.body == b""
    assert head.head.split(b"\r\n")[2:] == get.head.split(b"\r\n")[2:]  # all but status line and Date
    assert fields(head)["content-length"] == ["12"]


def closing_generator(log, pieces=(b"a", b"b")):
    try:
        yield from pieces
    finally:
        log.append("closed")


def test_head_closes_generator_unconsumed():
    generator = closing_generator([])
    rendered = render(Response(200, {}, generator), make_request("HEAD"), True, CONFIG)
    assert rendered.body == b"" and inspect.getgeneratorstate(generator) == inspect.GEN_CLOSED
    assert fields(rendered)["transfer-encoding"] == ["chunked"]


@pytest.mark.parametrize("status", [100, 101, 103, 204, 304])
def test_no_body_statuses(status):
    generator = closing_generator([])
    for content in ("text", b"bytes", {"a": 1}, generator):
        rendered = render(Response(status, {"Content-Length": "4"}, content), GET, True, CONFIG)
        assert rendered.body == b"" and rendered.status == status
        assert "content-length" not in fields(rendered) and "transfer-encoding" not in fields(rendered)
    assert inspect.getgeneratorstate(generator) == inspect.GEN_CLOSED


def test_generator_chunked_in_http11():
    rendered = render(Response(200, {}, iter([b"hello", b"", "wörld", bytearray(b"!")])), GET, True, CONFIG)
    assert fields(rendered)["transfer-encoding"] == ["chunked"] and "content-length" not in fields(rendered)
    assert fields(rendered)["content-type"] == ["text/plain"]
    assert b"".join(rendered.body) == b"5\r\nhello\r\n6\r\nw\xc3\xb6rld\r\n1\r\n!\r\n0\r\n\r\n"
    assert rendered.keep_alive is True


@pytest.mark.parametrize("content", [[b"ab", "c"], (b"a", bytearray(b"bc"))])
def test_list_or_tuple_of_pieces_is_joined(content):
    rendered = render(Response(200, {}, content), GET, True, CONFIG)
    assert rendered.body == b"abc" and fields(rendered)["content-length"] == ["3"]


def test_list_of_non_bytes_is_refused_before_sending():
    with pytest.raises(ResponseError):
        render(Response(200, {}, [1, 2, 3]), GET, True, CONFIG)


def test_empty_generator_is_just_the_last_chunk():
    assert b"".join(render(Response(200, {}, iter(())), GET, True, CONFIG).body) == b"0\r\n\r\n"


def test_generator_with_declared_length():
    rendered = render(Response(200, {"Content-Length": "6"}, iter([b"abc", b"def"])), GET, True, CONFIG)
    assert fields(rendered)["content-length"] == ["6"] and "transfer-encoding" not in fields(rendered)
    assert list(rendered.body) == [b"abc", b"def"]


@pytest.mark.parametrize("pieces", [[b"abc", b"defg"], [b"abc"]])
def test_generator_length_mismatch_raises_while_sending(pieces):
    log = []
    rendered = render(Response(200, {"Content-Length": "6"}, closing_generator(log, pieces)), GET, True, CONFIG)
    with pytest.raises(ResponseError):
        list(rendered.body)
    assert log == ["closed"]


def test_generator_in_http10_is_close_delimited():
    rendered = render(Response(200, {}, iter([b"ab", b"cd"])), make_request(version="HTTP/1.0"), True, CONFIG)
    assert rendered.keep_alive is False and fields(rendered)["connection"] == ["close"]
    assert "content-length" not in fields(rendered) and "transfer-encoding" not in fields(rendered)
    assert list(rendered.body) == [b"ab", b"cd"]


def test_head_in_http10_keeps_connection_for_streams():
    request = make_request("HEAD", version="HTTP/1.0")
    rendered = render(Response(200, {}, iter([b"ab"])), request, True, CONFIG)
    assert rendered.keep_alive is True and rendered.body == b""


def test_extra_attributes_allowed():
    response = Response(200, {}, "")
    response.note = "kept"
    GET.user = "alice"
    assert (response.note, GET.user) == ("kept", "alice")


def test_abandoned_chunked_body_closes_generator():
    log = []
    body = render(Response(200, {}, closing_generator(log)), GET, True, CONFIG).body
    next(body)
    body.close()
    assert log == ["closed"]


def test_bad_piece_type_raises_while_sending():
    with pytest.raises(ResponseError):
        list(render(Response(200, {}, iter([1, 2])), GET, True, CONFIG).body)


def test_cookies_become_set_cookie_lines():
    cookies = {"id": ResponseCookie("42", max_age=60, http_only=True), "theme": "dark"}
    rendered = render(Response(200, {}, "", cookies=cookies), GET, True, CONFIG)
    assert fields(rendered)["set-cookie"] == ["id=42; Max-Age=60; HttpOnly", "theme=dark"]


@pytest.mark.parametrize("response", [
    Response(200, {"X-Evil": "a\r\nSet-Cookie: admin=1"}, ""),
    Response(200, {"X-Evil": "a\nb"}, ""),
    Response(200, {"X-Evil": "a\rb"}, ""),
    Response(200, {"X-Evil": "a\x00b"}, ""),
    Response(200, {"X-Evil\r\nInjected": "1"}, ""),
    Response(200, {"Bad Name": "1"}, ""),
    Response(200, {"Colon:": "1"}, ""),
    Response(200, {"": "1"}, ""),
    Response(200, {1: "1"}, ""),
    Response(200, {"Content-Type": "text/html\r\n\r\n<script>"}, ""),
    Response(200, {"Set-Cookie": "a=1"}, ""),
    Response(200, {"set-cookie": "a=1"}, ""),
    Response(200, {"X-Snow": "☃"}, ""),
    Response(200, {}, "", cookies={"a": ResponseCookie("1\r\nX: y")}),
    Response(200, {}, "", cookies={"bad name": "1"}),
    Response(200, {"Content-Length": "abc"}, iter([b"x"])),
    Response(99, {}, ""),
    Response(1000, {}, ""),
    Response("200", {}, ""),
    Response(200, [("A", "b")], ""),
    Response(200, {}, 12345),
    Response(200, {}, {"not": {1, 2}}),
])
def test_unsendable_responses_raise(response):
    with pytest.raises(ResponseError):
        render(response, GET, True, CONFIG)


def test_response_error_is_a_value_error():
    assert issubclass(ResponseError, ValueError)


def test_latin1_values_are_sent():
    rendered = render(Response(200, {"X-Name": "café"}, ""), GET, True, CONFIG)
    assert b"X-Name: caf\xe9\r\n" in rendered.head


def test_rendered_carries_the_writer_head_and_the_unframed_payload():
    rendered = render(Response(200, {"X-A": "1"}, iter([b"ab", "c"])), GET, True, CONFIG)
    head = rendered.response_head
    assert rendered.head == head.data and (rendered.status, rendered.keep_alive) == (200, True)
    assert head.framing == "chunked" and ("Transfer-Encoding", "chunked") in head.fields
    assert list(rendered.payload) == [b"ab", b"c"]  # what a WSGI server or the test client takes
    framed = render(Response(200, {}, iter([b"ab", "c"])), GET, True, CONFIG)
    assert list(framed.body) == [b"2\r\nab\r\n", b"1\r\nc\r\n", b"0\r\n\r\n"]
    fixed = render(Response(200, {}, "text"), GET, True, CONFIG)
    assert fixed.payload is fixed.body and fixed.body == b"text"


def test_moved_names_stay_importable_from_their_old_modules():
    import outside.cookies
    import outside.files
    import outside.headers
    import outside.http.conditional
    import outside.http.cookies
    import outside.http.dates
    import outside.http.headers
    import outside.http.status
    import outside.http.writer
    import outside.status

    assert ResponseError is outside.http.writer.ResponseError
    assert outside.headers.Headers is outside.http.headers.Headers
    assert outside.headers.TOKEN is outside.http.headers.TOKEN
    assert outside.headers.get_insensitive_header is outside.http.headers.get_insensitive_header
    assert outside.cookies.ResponseCookie is outside.http.cookies.ResponseCookie
    assert outside.cookies.parse_cookie is outside.http.cookies.parse_cookie
    assert outside.status.get_description is outside.http.status.get_description
    assert outside.status.STATUS_DESCRIPTIONS is outside.http.status.STATUS_DESCRIPTIONS
    for name in ("evaluate_preconditions", "parse_range", "UNSATISFIABLE", "Range"):
        assert getattr(outside.files, name) is getattr(outside.http.conditional, name)
    for name in ("http_date", "parse_http_date"):
        assert getattr(outside.files, name) is getattr(outside.http.dates, name)
    for name in ("FilePath", "FileSpan", "FilePlan", "plan_file", "entity_tag", "regular_file_stat"):
        assert hasattr(outside.files, name)
