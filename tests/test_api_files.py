"""``FilePath`` responses: validators, preconditions (RFC 9110 section 13), ranges (section 14)."""
from __future__ import annotations

import os
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from outside import FilePath, Request, Response
from outside.config import default_config
from outside.files import (
    UNSATISFIABLE,
    FileSpan,
    entity_tag,
    http_date,
    parse_http_date,
    parse_range,
)
from outside.http.events import RequestHead
from outside.response import ResponseError, render

DATA = bytes(range(100))
OLD = 1_600_000_000  # a modification time long past, so Last-Modified is a strong validator


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    os.utime(path, (OLD, OLD))
    return str(path)


def config(range_from_mb=0):
    result = default_config(("127.0.0.1", 0))
    result["allow_range_from_mb"] = range_from_mb
    return result


def send(path, method="GET", range_from_mb=0, status=200, **headers):
    fields = [("Host", "x")] + [(name.replace("_", "-"), value) for name, value in headers.items()]
    head = RequestHead(method, "/f", "HTTP/1.1", fields, keep_alive=True, upgrade=False,
                       expect_continue=False, chunked=False, content_length=None)
    request = Request.from_head(head, ("127.0.0.1", 1), b"")
    rendered = render(Response(status, {}, FilePath(path)), request, True, config(range_from_mb))
    text = rendered.head.decode("latin-1")
    lines = text.split("\r\n")[1:-2]
    found = {name.lower(): value for name, value in (line.split(": ", 1) for line in lines)}
    return rendered, found


def sent_bytes(span: FileSpan) -> bytes:
    with span.open() as file:
        file.seek(span.offset)
        return file.read(span.count)


def test_whole_file(data_file):
    rendered, found = send(data_file)
    assert rendered.status == 200 and rendered.body == FileSpan(data_file, 0, 100)
    assert sent_bytes(rendered.body) == DATA
    assert found["content-length"] == "100" and found["content-type"] == "application/octet-stream"
    assert found["etag"] == entity_tag(os.stat(data_file)) and found["etag"].startswith('W/"')
    assert found["last-modified"] == http_date(OLD) == "Sun, 13 Sep 2020 12:26:40 GMT"
    assert found["accept-ranges"] == "bytes"


@pytest.mark.parametrize("name, content_type", [
    ("page.html", "text/html"), ("notes.txt", "text/plain"), ("pic.png", "image/png"),
    ("archive.tar.gz", "application/octet-stream"), ("noextension", "application/octet-stream"),
])
def test_content_type_guessed(tmp_path, name, content_type):
    path = tmp_path / name
    path.write_bytes(b"x")
    assert send(str(path))[1]["content-type"] == content_type


def test_etag_changes_with_the_file(data_file):
    before = send(data_file)[1]["etag"]
    os.utime(data_file, (OLD + 5, OLD + 5))
    assert send(data_file)[1]["etag"] != before


def test_ranges_not_advertised_below_threshold(data_file):
    for range_from_mb in (-1, 50):
        rendered, found = send(data_file, range_from_mb=range_from_mb, Range="bytes=0-0")
        assert rendered.status == 200 and "accept-ranges" not in found
        assert rendered.body.count == 100


@pytest.mark.parametrize("field, start, end", [
    ("bytes=0-0", 0, 0),
    ("bytes=10-19", 10, 19),
    ("bytes=90-", 90, 99),
    ("bytes=0-", 0, 99),
    ("bytes=-10", 90, 99),
    ("bytes=-100", 0, 99),
    ("bytes=-200", 0, 99),             # a suffix longer than the file is the whole file
    ("bytes=50-1000", 50, 99),         # last-pos past the end is clipped
    ("bytes=99-99", 99, 99),
    ("bytes=0-" + "9" * 40, 0, 99),    # absurdly long numbers do not break the arithmetic
    ("Bytes=5-6", 5, 6),
    ("bytes= 5-6 ", 5, 6),
    ("bytes=5-6,", 5, 6),              # empty list elements are allowed (RFC 9110 5.6.1)
])
def test_satisfiable_range(data_file, field, start, end):
    rendered, found = send(data_file, Range=field)
    assert rendered.status == 206
    assert found["content-range"] == f"bytes {start}-{end}/100"
    assert found["content-length"] == str(end - start + 1)
    assert sent_bytes(rendered.body) == DATA[start:end + 1]


@pytest.mark.parametrize("field", ["bytes=100-", "bytes=150-160", "bytes=100-100", "bytes=-0",
                                   "bytes=" + "9" * 40 + "-"])
def test_unsatisfiable_range(data_file, field):
    rendered, found = send(data_file, Range=field)
    assert rendered.status == 416 and rendered.body == b""
    assert found["content-range"] == "bytes */100" and found["content-length"] == "0"


@pytest.mark.parametrize("field", [
    "bytes=5-2",            # last < first
    "bytes=0-1,5-6",        # several ranges: not served as multipart
    "bytes=-5,10-",
    "items=0-1",            # unknown unit
    "bytes=abc",
    "bytes=1-x",
    "bytes=--5",
    "bytes=",
    "bytes 0-1",
    "bytes=٣-٤",            # non-ASCII digits
    "bytes=+1-2",
])
def test_invalid_or_multiple_ranges_send_whole_file(data_file, field):
    rendered, found = send(data_file, Range=field)
    assert rendered.status == 200 and rendered.body.count == 100 and "content-range" not in found


def test_empty_file_ranges(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert parse_range("bytes=0-", 0) == UNSATISFIABLE
    assert parse_range("bytes=-5", 0) == UNSATISFIABLE
    # Ranges are for files *larger* than the threshold: an empty file never is.
    rendered, found = send(str(path), Range="bytes=0-")
    assert rendered.status == 200 and found["content-length"] == "0" and "accept-ranges" not in found


def test_range_only_for_get(data_file):
    rendered, found = send(data_file, method="HEAD", Range="bytes=0-0")
    assert rendered.status == 200 and found["content-length"] == "100" and rendered.body == b""
    assert send(data_file, method="POST", Range="bytes=0-0")[0].status == 200


def test_range_ignored_for_other_statuses(data_file):
    rendered, found = send(data_file, status=404, Range="bytes=0-0", If_None_Match="*")
    assert rendered.status == 404 and rendered.body.count == 100 and "etag" not in found


@pytest.mark.parametrize("if_range, status", [
    (http_date(OLD), 206),
    (http_date(OLD - 1), 200),
    (http_date(OLD + 1), 200),
    ("not a date", 200),
    ("WEAK", 200),           # placeholder: replaced by the file's weak ETag below
    ('"strong-but-other"', 200),
])
def test_if_range(data_file, if_range, status):
    if if_range == "WEAK":
        if_range = entity_tag(os.stat(data_file))  # weak tags never satisfy If-Range
    assert send(data_file, Range="bytes=0-0", If_Range=if_range)[0].status == status


def test_if_range_date_of_a_file_changed_this_second(data_file):
    now = int(time.time())
    os.utime(data_file, (now, now))
    # Last-Modified within the current second is weak (RFC 9110 8.8.2.2): whole file.
    assert send(data_file, Range="bytes=0-0", If_Range=http_date(now))[0].status == 200


def etag_of(path):
    return entity_tag(os.stat(path))


@pytest.mark.parametrize("method, build, status", [
    ("GET", lambda tag: {"If-None-Match": tag}, 304),
    ("HEAD", lambda tag: {"If-None-Match": tag}, 304),
    ("GET", lambda tag: {"If-None-Match": "*"}, 304),
    ("GET", lambda tag: {"If-None-Match": f'"other", {tag}'}, 304),
    ("GET", lambda tag: {"If-None-Match": tag[2:]}, 304),        # weak comparison ignores W/
    ("GET", lambda tag: {"If-None-Match": '"other"'}, 200),
    ("POST", lambda tag: {"If-None-Match": tag}, 412),
    ("GET", lambda tag: {"If-Modified-Since": http_date(OLD)}, 304),
    ("GET", lambda tag: {"If-Modified-Since": http_date(OLD + 60)}, 304),
    ("GET", lambda tag: {"If-Modified-Since": http_date(OLD - 60)}, 200),
    ("GET", lambda tag: {"If-Modified-Since": "garbage"}, 200),
    ("POST", lambda tag: {"If-Modified-Since": http_date(OLD)}, 200),
    # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2 step 4 needs it absent)
    ("GET", lambda tag: {"If-None-Match": '"other"', "If-Modified-Since": http_date(OLD)}, 200),
    ("GET", lambda tag: {"If-Match": "*"}, 200),
    ("GET", lambda tag: {"If-Match": tag}, 412),                  # strong comparison: weak never matches
    ("GET", lambda tag: {"If-Match": '"other"'}, 412),
    ("GET", lambda tag: {"If-Unmodified-Since": http_date(OLD - 60)}, 412),
    ("GET", lambda tag: {"If-Unmodified-Since": http_date(OLD)}, 200),
    ("GET", lambda tag: {"If-Match": "*", "If-Unmodified-Since": http_date(OLD - 60)}, 200),
    ("GET", lambda tag: {"If-Match": '"x"', "If-None-Match": tag}, 412),
])
def test_preconditions(data_file, method, build, status):
    headers = {name.replace("-", "_"): value for name, value in build(etag_of(data_file)).items()}
    rendered, found = send(data_file, method=method, **headers)
    assert rendered.status == status
    if status == 304:
        assert rendered.body == b"" and "content-length" not in found
        assert found["etag"] == etag_of(data_file) and "last-modified" in found
    if status == 412:
        assert rendered.body == b"" and found["content-length"] == "0"


def test_conditional_304_beats_range(data_file):
    assert send(data_file, Range="bytes=0-0", If_None_Match="*")[0].status == 304


@pytest.mark.parametrize("make", [lambda tmp: tmp / "missing", lambda tmp: tmp])
def test_missing_file_or_directory_is_a_response_error(tmp_path, make):
    with pytest.raises(ResponseError):
        send(str(make(tmp_path)))
    with pytest.raises(ResponseError):
        send(str(make(tmp_path)), status=404)


def test_filepath_seed_attributes_and_read(data_file):
    file = FilePath(data_file)
    assert (file.path, file.read_start, file.read_end) == (data_file, 0, 100)
    assert file.read() == DATA
    assert file.read((10, 20)) == DATA[10:20]
    with open(data_file, "wb") as handle:
        handle.write(b"new")
    assert file.read() == DATA                    # cached
    assert file.read(twice=True) == b"new"        # read again
    assert FilePath(os.path.join(os.path.dirname(data_file), "nope")).read_end == 0


def test_filepath_accepts_pathlike(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("hi")
    assert FilePath(path).path == str(path) and FilePath(path).read() == b"hi"


@pytest.mark.parametrize("field, size, expected", [
    ("bytes=0-0", 1, (0, 1)), ("bytes=-1", 1, (0, 1)), ("bytes=1-", 1, UNSATISFIABLE),
    ("bytes=0-1,2-3", 10, None), ("bytes=3-2", 10, None),
])
def test_parse_range_directly(field, size, expected):
    assert parse_range(field, size) == expected


@pytest.mark.parametrize("text, expected", [
    ("Sun, 06 Nov 1994 08:49:37 GMT", 784111777),
    ("Sunday, 06-Nov-94 08:49:37 GMT", 784111777),
    ("Sun Nov  6 08:49:37 1994", 784111777),
    ("yesterday", None), ("", None),
])
def test_parse_http_date(text, expected, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")  # HTTP dates are GMT whatever the local zone
    time.tzset()
    try:
        assert parse_http_date(text) == expected
    finally:
        monkeypatch.undo()
        time.tzset()


@given(size=st.integers(0, 300), first=st.one_of(st.none(), st.integers(0, 400)),
       last=st.one_of(st.none(), st.integers(0, 400)))
def test_parse_range_matches_rfc9110_arithmetic(size, first, last):
    """``bytes=first-last`` / ``bytes=-suffix`` against the rules of RFC 9110 section 14.1.2."""
    assume(first is not None or last is not None)
    field = f"bytes={'' if first is None else first}-{'' if last is None else last}"
    result = parse_range(field, size)
    if first is None:  # suffix: the last `last` bytes
        expected = UNSATISFIABLE if last == 0 or size == 0 else (max(0, size - last), size)
    elif last is not None and last < first:
        expected = None
    elif first >= size:
        expected = UNSATISFIABLE
    else:
        expected = (first, size if last is None else min(last + 1, size))
    assert result == expected
    if isinstance(result, tuple):
        start, end = result
        assert 0 <= start < end <= size
