"""The sans-I/O multipart/form-data parser: bytes in, parts out, fed every way, and
compared with two independent parsers from PyPI (``multipart``, ``python-multipart``)."""
from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import List, Optional, Tuple

import multipart as peer_multipart
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_multipart.multipart import MultipartParser as PythonMultipartParser
from python_multipart.multipart import parse_options_header as pm_options

from outside.http.errors import BadRequest
from outside.http.multipart import (
    PART_END,
    MultipartError,
    MultipartParser,
    PartHead,
    boundary_from_content_type,
    parse_options_header,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fuzz.multipart_outcome import build_body

Part = Tuple[str, Optional[str], bytes]  # (name, filename, data)


def splits(data: bytes) -> List[List[bytes]]:
    """Whole, byte by byte, and five random splits (seeded, so a failure replays)."""
    rng = random.Random(len(data))
    ways = [[data], [data[i:i + 1] for i in range(len(data))]]
    for _ in range(5):
        cuts = sorted(rng.randrange(len(data) + 1) for _ in range(rng.randint(1, 6)))
        ways.append([data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)])])
    return ways


def parts_of(boundary: bytes, chunks: List[bytes], **options) -> List[Tuple[PartHead, bytes]]:
    parser = MultipartParser(boundary, **options)
    parts: list = []
    data = bytearray()
    for chunk in chunks:
        for event in parser.feed(chunk):
            if isinstance(event, PartHead):
                parts.append([event, b""])
                data = bytearray()
            elif event is PART_END:
                parts[-1][1] = bytes(data)
            else:
                assert isinstance(event, bytes) and event
                data += event
    parser.end()
    return [tuple(part) for part in parts]


def simple(boundary: bytes, body: bytes) -> List[Part]:
    """The parts, checked to be the same however the body is cut."""
    results = [[(head.name, head.filename, data) for head, data in parts_of(boundary, chunks)]
               for chunks in splits(body)]
    for other in results[1:]:
        assert other == results[0]
    return results[0]


def error_of(boundary: bytes, body: bytes, **options) -> str:
    """The reason the body is refused, the same however it is cut."""
    reasons = set()
    for chunks in splits(body):
        with pytest.raises(MultipartError) as caught:
            parts_of(boundary, chunks, **options)
        reasons.add(caught.value.reason)
        assert caught.value.status == 400
    assert len(reasons) == 1, reasons
    return reasons.pop()


CD = b'Content-Disposition: form-data; name="'


def test_fields_and_files():
    body = (b"--xyz\r\n" + CD + b'a"\r\n\r\nhello\r\n'
            b"--xyz\r\n" + CD + b'f"; filename="x.txt"\r\nContent-Type: text/x\r\n\r\n'
            b"\r\n--xy\r\r\n--xyz\r\n" + CD + b'a"\r\n\r\n\r\n--xyz--\r\n')
    assert simple(b"xyz", body) == [("a", None, b"hello"), ("f", "x.txt", b"\r\n--xy\r"), ("a", None, b"")]
    head = parts_of(b"xyz", [body])[1][0]
    assert head.content_type == "text/x"
    assert head.headers == [("Content-Disposition", 'form-data; name="f"; filename="x.txt"'),
                            ("Content-Type", "text/x")]


def test_preamble_epilogue_padding_and_default_type():
    body = b"ignored preamble\r\n--b \t\r\n" + CD + b'n"\r\n\r\nv\r\n--b--\r\nignored epilogue\r\n--b\r\n'
    assert simple(b"b", body) == [("n", None, b"v")]
    assert parts_of(b"b", [body])[0][0].content_type == "text/plain"


def test_delimiter_lookalikes_stay_data():
    data = b"--b\r\n--bX\r\n-b\r\n--\r--b" + b"\r\n--" * 10
    assert b"\r\n--b\r\n" not in data and b"\r\n--b-" not in data
    body = b"--b\r\n" + CD + b'n"\r\n\r\n' + data.replace(b"\r\n--b", b"\r\n--c") + b"\r\n--b--"
    assert simple(b"b", body) == [("n", None, data.replace(b"\r\n--b", b"\r\n--c"))]


def test_non_ascii_names_and_extended_filename():
    body = ("--b\r\nContent-Disposition: form-data; name=\"caf\u00e9\"; filename=\"\u00fc.txt\"\r\n\r\n1\r\n"
            "--b\r\nContent-Disposition: form-data; name=\"g\"; filename=\"fallback.txt\"; "
            "filename*=UTF-8''%E2%82%AC%20rates.txt\r\n\r\n2\r\n--b--").encode("utf-8")
    assert simple(b"b", body) == [("caf\u00e9", "\u00fc.txt", b"1"), ("g", "\u20ac rates.txt", b"2")]


def test_latin1_header_when_not_utf8():
    body = b"--b\r\n" + CD + b'n"; filename="\xe9.txt"\r\n\r\n1\r\n--b--'
    assert simple(b"b", body) == [("n", "\u00e9.txt", b"1")]


@pytest.mark.parametrize("body,reason", [
    (b"no delimiter at all", "does not contain the multipart boundary"),
    (b"--other\r\n" + CD + b'a"\r\n\r\n1\r\n--other--', "does not contain the multipart boundary"),
    (b"--b\r\n" + CD + b'a"\r\n\r\nunfinished', "ended before its closing boundary"),
    (b"--b\r\n" + CD + b'a"\r\n', "ended before its closing boundary"),
    (b"--b\r\nContent-Disposition: form-data\r\n\r\n1\r\n--b--", "no field name"),
    (b"--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--b--", "not form-data"),
    (b"--b\r\nContent-Type: text/plain\r\n\r\n1\r\n--b--", "no Content-Disposition"),
    (b"--b\r\n\r\n1\r\n--b--", "no Content-Disposition"),
    (b"--b\r\nno colon here\r\n\r\n1\r\n--b--", "malformed header line"),
    (b"--b\r\n" + CD + b'a"\r\n continued\r\n\r\n1\r\n--b--', "malformed header line"),
    (b"--b\r\n" + CD + b'a"; junk\r\n\r\n1\r\n--b--', "malformed header parameter"),
    (b"--b\r\n" + CD + b"a\"; name*=nocharset\r\n\r\n1\r\n--b--", "malformed extended"),
    (b"--b\r\n" + CD + b"a\"; name*=UTF-8''%FF\r\n\r\n1\r\n--b--", "not valid UTF-8"),
    (b"--bX\r\n" + CD + b'a"\r\n\r\n1\r\n--b--', "followed by junk"),
    (b"--b\r\n" + CD + b'a"\r\n\r\n1\r\n--b-x', "followed by junk"),
])
def test_malformed_bodies(body, reason):
    assert reason in error_of(b"b", body)


def test_an_error_carries_the_events_its_feed_completed():
    parser = MultipartParser(b"b")
    with pytest.raises(MultipartError, match="not form-data") as caught:
        parser.feed(b"--b\r\n" + CD + b'a"\r\n\r\n1\r\n--b\r\nContent-Disposition: inline\r\n\r\n')
    assert [e if not isinstance(e, PartHead) else e.name for e in caught.value.events] == ["a", b"1", PART_END]


def test_oversized_part_header():
    body = b"--b\r\n" + CD + b'a"\r\nX-Long: ' + b"v" * 200 + b"\r\n\r\n1\r\n--b--"
    assert "too large" in error_of(b"b", body, max_header_size=100)
    assert simple(b"b", body) == [("a", None, b"1")]  # under the default limit


def test_endless_header_is_refused_before_it_ends():
    parser = MultipartParser(b"b", max_header_size=100)
    parser.feed(b"--b\r\n")
    with pytest.raises(MultipartError, match="too large"):
        for _ in range(10):
            parser.feed(b"X" * 20)


def test_a_failed_parser_stays_failed():
    parser = MultipartParser(b"b")
    with pytest.raises(MultipartError) as first:
        parser.feed(b"--b\r\n\r\n1\r\n--b--")
    for call in (lambda: parser.feed(b"--b--"), parser.end):
        with pytest.raises(MultipartError) as again:
            call()
        assert again.value.reason == first.value.reason and again.value.events == []
    assert isinstance(first.value, BadRequest)


def test_memory_is_bounded_on_a_long_part():
    parser = MultipartParser(b"b")
    parser.feed(b"--b\r\n" + CD + b'a"\r\n\r\n')
    total = 0
    for _ in range(200):
        total += sum(len(e) for e in parser.feed(b"z" * 9999 + b"\r") if isinstance(e, bytes))
        assert len(parser._buffer) <= len(b"\r\n--b")
    assert total == 200 * 10000 - 1  # all but the last CR, which may begin a delimiter


@pytest.mark.parametrize("value,expected", [
    ('form-data; name="a"', ("form-data", {"name": "a"})),
    ('Form-Data; NAME="a b"; filename="c\\"d.txt"', ("form-data", {"name": "a b", "filename": 'c"d.txt'})),
    ('form-data; name=plain; filename="C:\\dir\\x.txt"',
     ("form-data", {"name": "plain", "filename": "C:\\dir\\x.txt"})),
    ("form-data; name=\"a;b\"; filename*=utf-8'en'%C3%A9", ("form-data", {"name": "a;b", "filename": "\u00e9"})),
    ("form-data; name*=iso-8859-1''%E9", ("form-data", {"name": "\u00e9"})),
    ("form-data", ("form-data", {})),
    ("multipart/form-data; boundary=----x; charset=utf-8",
     ("multipart/form-data", {"boundary": "----x", "charset": "utf-8"})),
])
def test_parse_options_header(value, expected):
    assert parse_options_header(value) == expected


def test_boundary_from_content_type():
    assert boundary_from_content_type('multipart/form-data; boundary="a b:c"') == b"a b:c"
    assert boundary_from_content_type("Multipart/Form-Data; boundary=----WebKitX") == b"----WebKitX"
    for bad in ("multipart/form-data", "multipart/form-data; boundary=", "multipart/mixed; boundary=x",
                "multipart/form-data; boundary=" + "x" * 71, 'multipart/form-data; boundary="ends "',
                "multipart/form-data; boundary=caf\u00e9", "text/plain"):
        with pytest.raises(MultipartError):
            boundary_from_content_type(bad)


# --- the same bodies through two independent parsers ------------------------------------

def with_multipart(boundary: bytes, body: bytes) -> List[Part]:
    """What the ``multipart`` package makes of ``body`` (fed in 7-byte pieces)."""
    parser = peer_multipart.PushMultipartParser(boundary, max_header_count=16)
    parts: list = []
    for start in [*range(0, len(body), 7), len(body)]:
        for event in parser.parse(body[start:start + 7]):
            if isinstance(event, peer_multipart.MultipartSegment):
                parts.append([event.name, event.filename, b""])
            elif event is not None:
                parts[-1][2] += bytes(event)
    return [tuple(part) for part in parts]


def with_python_multipart(boundary: bytes, body: bytes) -> List[Part]:
    """What ``python-multipart`` makes of ``body``: it leaves Content-Disposition to the caller."""
    parts: list = []
    header = {"field": b"", "value": b""}

    def on_part_begin():
        parts.append({"headers": {}, "data": b""})

    def on_header_field(data, start, end):
        header["field"] += data[start:end]

    def on_header_value(data, start, end):
        header["value"] += data[start:end]

    def on_header_end():
        parts[-1]["headers"][header["field"].lower()] = header["value"]
        header["field"] = header["value"] = b""

    def on_part_data(data, start, end):
        parts[-1]["data"] += data[start:end]

    parser = PythonMultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_part_data": on_part_data}, max_header_count=16)
    for start in range(0, len(body), 5):
        parser.write(body[start:start + 5])
    parser.finalize()
    result = []
    for part in parts:
        _, params = pm_options(part["headers"][b"content-disposition"])
        filename = params.get(b"filename")
        result.append((params[b"name"].decode(), None if filename is None else filename.decode(), part["data"]))
    return result


_TOKEN = st.text(st.characters(codec="utf-8", exclude_characters='"\\\r\n%', exclude_categories=["Cs", "Cc"]),
                 min_size=1, max_size=12)
_DATA = st.binary(max_size=300) | st.sampled_from([b"", b"\r\n", b"--", b"\r\n--", b"\r\n\r\n", b"\r\r\n-"])
_BOUNDARY = st.from_regex(r"\A[0-9A-Za-z'()+_,\-./:=?]{1,40}\Z")


@st.composite
def forms(draw):
    boundary = draw(_BOUNDARY).encode()
    expected: List[Part] = []
    parts = []
    for name, filename, data in draw(st.lists(st.tuples(_TOKEN, st.none() | _TOKEN, _DATA), max_size=5)):
        data = data.replace(b"\r\n--" + boundary, b"\r\n-+" + boundary)
        disposition = b'form-data; name="' + name.encode() + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename.encode() + b'"'
        headers = [(b"Content-Disposition", disposition)]
        if draw(st.booleans()):
            headers.append((b"Content-Type", b"application/octet-stream"))
        parts.append((headers, data))
        expected.append((name, filename, data))
    return boundary, build_body(boundary, parts), expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(forms())
def test_generated_forms_agree_with_both_peers(form):
    boundary, body, expected = form
    assert simple(boundary, body) == expected
    assert with_multipart(boundary, body) == expected
    assert with_python_multipart(boundary, body) == expected


TRICKY = {
    "data-full-of-near-delimiters": (b"AaB03x", b"--AaB03x\r\n" + CD + b'a"\r\n\r\n'
                                     b"\r\n--AaB03\r\n-AaB03x\r--AaB03x\r\n--AaB0\r\n--AaB03x--"),
    "empty-data-and-empty-filename": (b"b", b"--b\r\n" + CD + b'a"; filename=""\r\n\r\n\r\n--b--'),
    "crlf-only-data": (b"b", b"--b\r\n" + CD + b'a"\r\n\r\n\r\n\r\n\r\n--b--'),
    "binary-file": (b"b", b"--b\r\n" + CD + b'f"; filename="z.bin"\r\n\r\n' + bytes(range(256)) * 4
                    + b"\r\n--b\r\n" + CD + b'g"\r\n\r\nx\r\n--b--\r\n'),
    "boundary-of-dashes": (b"--", b"----\r\n" + CD + b'a"\r\n\r\n-\r\n---\r\n------'),
    "long-boundary": (b"q" * 70, b"--" + b"q" * 70 + b"\r\n" + CD + b'a"\r\n\r\n1\r\n--' + b"q" * 70 + b"--"),
    "preamble": (b"b", b"This is a preamble.\r\n--b\r\n" + CD + b'a"\r\n\r\n1\r\n--b--'),
    "many-parts": (b"b", b"".join(b"--b\r\n" + CD + b"%d\"\r\n\r\n%d\r\n" % (i, i) for i in range(50)) + b"--b--"),
}


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_tricky_bodies_agree_with_both_peers(name):
    boundary, body = TRICKY[name]
    ours = simple(boundary, body)
    assert ours  # every body here holds parts
    assert ours == with_multipart(boundary, body)
    if name not in NO_PREAMBLE_IN_PYTHON_MULTIPART:
        assert ours == with_python_multipart(boundary, body)


NO_PREAMBLE_IN_PYTHON_MULTIPART = {"preamble"}  # it refuses any byte before the first delimiter
