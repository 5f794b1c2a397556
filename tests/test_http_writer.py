"""The sans-I/O response writer, driven directly: heads and bodies compared byte for byte.

Every test runs against both twins (the ``writer`` fixture of ``conftest.py``)."""
from __future__ import annotations

import re

import pytest

from outside.http.cookies import ResponseCookie
from outside.http.writer import CHUNKED, FIXED, NO_BODY, UNTIL_CLOSE, ResponseError

# A Date and Server of the caller's own, so that every expected head is literal.
OWN = [("Date", "Sun, 06 Nov 1994 08:49:37 GMT"), ("Server", "test")]
OWN_LINES = b"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: test\r\n"


class Source:
    """An iterable of pieces that records whether it was closed."""

    def __init__(self, pieces):
        self.pieces = list(pieces)
        self.closed = False

    def __iter__(self):
        return iter(self.pieces)

    def close(self):
        self.closed = True


def test_fixed_length(writer):
    head = writer.write_head(200, [*OWN, ("Content-Type", "text/plain")], length=5)
    assert head.data == (b"HTTP/1.1 200 OK\r\n" + OWN_LINES +
                         b"Content-Type: text/plain\r\nContent-Length: 5\r\n\r\n")
    assert (head.status, head.reason, head.version) == (200, "OK", "HTTP/1.1")
    assert (head.framing, head.length, head.keep_alive, head.sends_body) == (FIXED, 5, True, True)
    assert head.fields == [*OWN, ("Content-Type", "text/plain"), ("Content-Length", "5")]


def test_chunked_for_a_stream_to_http11(writer):
    head = writer.write_head(200, OWN, length=None)
    assert head.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"Transfer-Encoding: chunked\r\n\r\n"
    assert (head.framing, head.length, head.keep_alive) == (CHUNKED, None, True)
    source = Source([b"ab", b"", b"0123456789abcdef"])
    assert list(writer.frame_body(head, source)) == [b"2\r\nab\r\n", b"10\r\n0123456789abcdef\r\n", b"0\r\n\r\n"]
    assert source.closed


def test_stream_to_http10_is_delimited_by_the_close(writer):
    head = writer.write_head(200, OWN, request_version="HTTP/1.0", keep_alive=True)
    assert head.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"Connection: close\r\n\r\n"
    assert (head.framing, head.keep_alive) == (UNTIL_CLOSE, False)
    source = Source([b"a", b"", b"bc"])
    assert list(writer.frame_body(head, source)) == [b"a", b"bc"] and source.closed
    # A HEAD has no body to delimit: the connection may stay.
    head = writer.write_head(200, OWN, request_method="HEAD", request_version="HTTP/1.0", keep_alive=True)
    assert head.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"Connection: keep-alive\r\n\r\n"
    assert (head.framing, head.keep_alive, head.sends_body) == (UNTIL_CLOSE, True, False)


def test_head_has_the_get_fields_and_no_body(writer):
    head = writer.write_head(200, OWN, request_method="HEAD", length=9, default_type="text/plain")
    assert head.data == (b"HTTP/1.1 200 OK\r\n" + OWN_LINES +
                         b"Content-Type: text/plain\r\nContent-Length: 9\r\n\r\n")
    assert head.sends_body is False
    source = Source([b"123456789"])
    assert list(writer.frame_body(head, source)) == [] and source.closed
    streamed = writer.write_head(200, OWN, request_method="HEAD")
    assert streamed.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"Transfer-Encoding: chunked\r\n\r\n"


@pytest.mark.parametrize("status, line", [
    (204, b"HTTP/1.1 204 No Content\r\n"),
    (304, b"HTTP/1.1 304 Not Modified\r\n"),
    (100, b"HTTP/1.1 100 Continue\r\n"),
    (103, b"HTTP/1.1 103 Early Hints\r\n"),
])
@pytest.mark.parametrize("length", [7, None])
def test_bodiless_statuses_have_no_framing(writer, status, line, length):
    head = writer.write_head(status, [*OWN, ("Content-Length", "7"), ("Transfer-Encoding", "chunked")], length=length)
    assert head.data == line + OWN_LINES + b"\r\n"
    assert (head.framing, head.length, head.sends_body) == (NO_BODY, None, False)
    source = Source([b"ignored"])
    assert list(writer.frame_body(head, source)) == [] and source.closed


@pytest.mark.parametrize("version, keep_alive, connection, expected, stays", [
    ("HTTP/1.1", True, None, b"", True),
    ("HTTP/1.1", False, None, b"Connection: close\r\n", False),
    ("HTTP/1.0", True, None, b"Connection: keep-alive\r\n", True),
    ("HTTP/1.0", False, None, b"Connection: close\r\n", False),
    ("HTTP/1.1", True, "close", b"Connection: close\r\n", False),
    ("HTTP/1.1", True, "Keep-Alive, CLOSE", b"Connection: close\r\n", False),
    ("HTTP/1.0", True, "close", b"Connection: close\r\n", False),
    ("HTTP/1.1", True, "keep-alive", b"", True),  # the writer decides; the field is not copied
    ("HTTP/1.1", False, "keep-alive", b"Connection: close\r\n", False),
    ("HTTP/1.1", True, "closed", b"", True),  # a token, not a substring
])
def test_keep_alive_or_close(writer, version, keep_alive, connection, expected, stays):
    fields = OWN if connection is None else [*OWN, ("Connection", connection)]
    head = writer.write_head(200, fields, request_version=version, keep_alive=keep_alive, length=0)
    assert head.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"Content-Length: 0\r\n" + expected + b"\r\n"
    assert head.keep_alive is stays


@pytest.mark.parametrize("fields", [
    [("X-A", "1\r\nInjected: yes")],
    [("X-A", "1\nInjected: yes")],
    [("X-A", "1\rInjected: yes")],
    [("X-A", "nul\0")],
    [("Content-Type", "text/plain\r\n\r\n<html>")],
    [("Date", "now\r\nX: 1")],
    [("Location", "/\r\nSet-Cookie: a=1")],
])
def test_cr_lf_nul_in_a_value_is_refused(writer, fields):
    with pytest.raises(ResponseError, match="CR, LF or NUL"):
        writer.write_head(200, fields, length=0)


@pytest.mark.parametrize("name", ["X Bad", "X:Bad", "", "Bad\r\nX-Injected", "X-Bad\0", "Bé", 5, None, b"X-Bytes"])
def test_invalid_field_names_are_refused(writer, name):
    with pytest.raises(ResponseError, match="invalid header name"):
        writer.write_head(200, [(name, "v")], length=0)


def test_other_injection_paths_are_refused(writer):
    with pytest.raises(ResponseError, match="CR, LF or NUL"):
        writer.write_head(200, [], length=0, extra=[("Set-Cookie", "a=1\r\nX-Injected: 1")])
    with pytest.raises(ResponseError, match="CR, LF or NUL"):
        writer.write_head(200, [], length=0, reason="OK\r\nX-Injected: 1")
    with pytest.raises(ResponseError, match="CR, LF or NUL"):
        writer.write_head(200, [], length=0, default_type="text/plain\r\nX-Injected: 1")
    with pytest.raises(ResponseError, match="outside latin-1"):
        writer.write_head(200, [("X-A", "snowman \u2603")], length=0)


@pytest.mark.parametrize("status", [99, 1000, -200, "200", 200.0, None, True])
def test_invalid_status_is_refused(writer, status):
    with pytest.raises(ResponseError, match="invalid status code"):
        writer.write_head(status, [], length=0)


def test_reason_unknown_and_custom(writer):
    assert writer.write_head(299, OWN, length=0).data.startswith(b"HTTP/1.1 299 Unknown\r\n")
    head = writer.write_head(200, OWN, length=0, reason="Fine")
    assert head.data.startswith(b"HTTP/1.1 200 Fine\r\n") and head.reason == "Fine"


def test_content_length_of_a_known_body_overrides_the_callers(writer):
    head = writer.write_head(200, [*OWN, ("Content-Length", "99"), ("content-length", "98")], length=3)
    assert head.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"Content-Length: 3\r\n\r\n"


def test_declared_content_length_frames_a_stream(writer):
    head = writer.write_head(200, [*OWN, ("Content-Length", " 3"), ("CONTENT-LENGTH", 3)])
    assert head.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"Content-Length: 3\r\n\r\n"
    assert (head.framing, head.length) == (FIXED, 3)
    assert list(writer.frame_body(head, Source([b"a", b"", b"bc"]))) == [b"a", b"bc"]
    # To an HTTP/1.0 client too: the length, not the close, ends the body.
    old = writer.write_head(200, [*OWN, ("Content-Length", "3")], request_version="HTTP/1.0")
    assert old.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"Content-Length: 3\r\nConnection: keep-alive\r\n\r\n"


@pytest.mark.parametrize("values, message", [
    (["3", "4"], "conflicting Content-Length"),
    (["-1"], "invalid Content-Length"),
    (["abc"], "invalid Content-Length"),
    (["1e3"], "invalid Content-Length"),
    (["\uff13"], "invalid Content-Length"),  # a full-width digit: isdigit() alone would take it
    (["3, 3"], "invalid Content-Length"),
])
def test_invalid_or_conflicting_declared_lengths_are_refused(writer, values, message):
    with pytest.raises(ResponseError, match=message):
        writer.write_head(200, [("Content-Length", value) for value in values])


def test_a_stream_must_match_its_declared_length(writer):
    assert list(writer.exactly(iter([b"ab", b"c"]), 3)) == [b"ab", b"c"]
    longer = writer.exactly(iter([b"ab", b"cd"]), 3)
    assert next(longer) == b"ab"
    with pytest.raises(ResponseError, match="longer than its Content-Length 3"):
        next(longer)
    source = Source([b"ab"])
    with pytest.raises(ResponseError, match="body of 2 bytes, shorter than its Content-Length 3"):
        list(writer.exactly(source, 3))
    assert source.closed


def test_transfer_encoding_of_the_caller_is_dropped(writer):
    head = writer.write_head(200, [*OWN, ("Transfer-Encoding", "gzip, chunked")], length=2)
    assert head.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"Content-Length: 2\r\n\r\n"


def test_default_content_type_only_when_none_is_set(writer):
    head = writer.write_head(200, OWN, length=0, default_type="application/json")
    assert head.data == (b"HTTP/1.1 200 OK\r\n" + OWN_LINES +
                         b"Content-Type: application/json\r\nContent-Length: 0\r\n\r\n")
    head = writer.write_head(200, [*OWN, ("content-TYPE", "text/html")], length=0, default_type="application/json")
    assert head.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"content-TYPE: text/html\r\nContent-Length: 0\r\n\r\n"


def test_set_cookie_from_cookies_and_forbidden_fields(writer):
    cookies = [("Set-Cookie", ResponseCookie("1", path="/", http_only=True).header_value("a")),
               ("Set-Cookie", ResponseCookie("x y").header_value("b"))]
    head = writer.write_head(200, OWN, length=0, extra=cookies, forbidden={"set-cookie": "cookies go elsewhere"})
    assert head.data == (b"HTTP/1.1 200 OK\r\n" + OWN_LINES +
                         b"Set-Cookie: a=1; HttpOnly; Path=/\r\nSet-Cookie: b=x y\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(ResponseError, match="cookies go elsewhere"):
        writer.write_head(200, [("SET-COOKIE", "a=1")], length=0, forbidden={"set-cookie": "cookies go elsewhere"})
    plain = writer.write_head(200, [*OWN, ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")], length=0)
    assert plain.data == (b"HTTP/1.1 200 OK\r\n" + OWN_LINES +
                          b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n\r\n")


def test_values_are_made_text_and_names_keep_their_case(writer):
    head = writer.write_head(200, [*OWN, ("x-NUMBER", 42)], length=0)
    assert head.data == b"HTTP/1.1 200 OK\r\n" + OWN_LINES + b"x-NUMBER: 42\r\nContent-Length: 0\r\n\r\n"


def test_date_and_server_of_the_writer(writer):
    head = writer.write_head(200, [], length=0)
    match = re.fullmatch(rb"HTTP/1\.1 200 OK\r\nDate: (\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT)\r\n"
                         rb"Server: outside\r\nContent-Length: 0\r\n\r\n", head.data)
    assert match is not None
    assert head.fields[0] == ("Date", match.group(1).decode()) and head.fields[1] == ("Server", "outside")
    only_server = writer.write_head(200, [("server", "mine")], length=0)
    assert only_server.data.count(b"Server") == 0 and only_server.data.count(b"server: mine\r\n") == 1
    assert only_server.data.count(b"Date: ") == 1


def test_framing_helpers_close_their_source_when_abandoned(writer):
    def pieces(log):
        try:
            yield b"a"
            yield b"b"
        finally:
            log.append("closed")

    for frame in (writer.chunked, writer.until_close, lambda source: writer.exactly(source, 2)):
        log = []
        framed = frame(pieces(log))
        next(framed)
        framed.close()
        assert log == ["closed"]


def test_repeated_date_fields_of_the_caller_are_all_kept(writer):
    head = writer.write_head(200, [("Date", "one"), ("date", "two"), ("Server", "s")], length=0)
    assert head.data == b"HTTP/1.1 200 OK\r\nDate: one\r\ndate: two\r\nServer: s\r\nContent-Length: 0\r\n\r\n"
    assert head.fields == [("Date", "one"), ("date", "two"), ("Server", "s"), ("Content-Length", "0")]


def test_fields_split_at_the_end_of_the_name(writer):
    head = writer.write_head(200, [*OWN, ("X-A", "a: b"), ("X-Empty", "")], length=0)
    assert head.fields == [*OWN, ("X-A", "a: b"), ("X-Empty", ""), ("Content-Length", "0")]
