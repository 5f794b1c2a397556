"""The request parser contract, checked on both twins (``py-parser`` and ``c-parser``).

Every corpus request is fed whole, byte by byte and at seeded random splits, and must
give the same outcome each way.
"""
from __future__ import annotations

import random
import tracemalloc

import pytest

from outside.http.errors import ERRORS_BY_STATUS, BadRequest, PayloadTooLarge
from outside.http.events import MessageEnd, RequestHead

from helpers_parser import byte_by_byte, join_body_pieces, random_splits, run, whole
from parser_corpus import AT_LIMITS, BROWSER_GET, INVALID, LIMITS, VALID, head

BYTE_BY_BYTE_UP_TO = 4096  # longer inputs are fed at random splits only, to keep CI quick


def feedings(name: str, data: bytes):
    """The ways each corpus entry is fed: whole, byte by byte, three random splits."""
    rng = random.Random(name)
    ways = [whole(data)]
    if len(data) <= BYTE_BY_BYTE_UP_TO:
        ways.append(byte_by_byte(data))
    ways.extend(random_splits(data, rng) for _ in range(3))
    return ways


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_requests(parser_class, name):
    data, expected, leftover = VALID[name]
    for pieces in feedings(name, data):
        events, error, upgraded, rest = run(parser_class, pieces)
        assert error is None, (name, pieces)
        if expected is not None:
            assert events == join_body_pieces(expected)
        assert upgraded == (leftover is not None)
        assert rest == (leftover or b"")


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_requests(parser_class, name):
    data, status = INVALID[name]
    outcomes = {repr(run(parser_class, pieces)) for pieces in feedings(name, data)}
    assert len(outcomes) == 1, outcomes
    _, error, _, _ = run(parser_class, [data])
    assert error is ERRORS_BY_STATUS[status]


@pytest.mark.parametrize("name", sorted(LIMITS))
def test_limits(parser_class, name):
    data, limits, status = LIMITS[name]
    for pieces in feedings(name, data):
        _, error, _, _ = run(parser_class, pieces, **limits)
        assert error is ERRORS_BY_STATUS[status], pieces


@pytest.mark.parametrize("name", sorted(AT_LIMITS))
def test_at_limits(parser_class, name):
    data, limits, expected = AT_LIMITS[name]
    for pieces in feedings(name, data):
        assert run(parser_class, pieces, **limits) == (join_body_pieces(expected), None, False, b"")


def test_browser_get_fields(parser_class):
    first, end = parser_class().feed(BROWSER_GET)
    assert (first.method, first.target, first.version) == ("GET", "/articles/42?ref=home&lang=en", "HTTP/1.1")
    assert len(first.headers) == 10 and first.headers[0] == ("Host", "www.example.org")
    assert first.keep_alive and not first.upgrade and first.content_length is None
    assert end == MessageEnd()


def test_events_before_an_error_are_carried_by_it(parser_class):
    good = b"GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
    parser = parser_class()
    with pytest.raises(BadRequest) as caught:
        parser.feed(good + b"GET /2 HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n")
    assert caught.value.events == [head(target="/1", headers=[("Host", "a")]), MessageEnd()]
    assert caught.value.status == 400
    with pytest.raises(BadRequest) as again:
        parser.feed(good)
    assert again.value.events == []
    with pytest.raises(BadRequest):
        parser.feed_eof()


def test_error_as_soon_as_the_bad_byte_arrives(parser_class):
    parser = parser_class()
    assert parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\nX-Bad") == []
    with pytest.raises(BadRequest):
        parser.feed(b"\x00")


def test_body_pieces_are_not_accumulated(parser_class):
    parser = parser_class()
    [first] = parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3000000\r\n\r\n")
    assert first.content_length == 3000000
    chunk = b"x" * 100000
    for _ in range(29):
        assert parser.feed(chunk) == [chunk]
    assert parser.feed(chunk + b"GET") == [chunk, MessageEnd()]
    assert parser.feed(b" / HTTP/1.1\r\nHost: a\r\n\r\n") == [head(headers=[("Host", "a")]), MessageEnd()]


def test_chunked_body_limit_counts_every_chunk(parser_class):
    parser = parser_class(max_body_size=8)
    events = parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n")
    assert events[1:] == [b"abcd"]
    assert parser.feed(b"4\r\nefgh\r\n") == [b"efgh"]
    with pytest.raises(PayloadTooLarge):
        parser.feed(b"1\r\n")


def test_an_endless_chunk_extension_is_not_kept(parser_class):
    parser = parser_class()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=")
    piece = b"v" * 1000
    tracemalloc.start()
    try:
        for _ in range(2000):  # 2 MB of one extension value
            assert parser.feed(piece) == []
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 200_000
    assert parser.feed(b";q=\"\\\"\"\r\nhello\r\n0\r\n\r\n") == [b"hello", MessageEnd()]


def test_end_of_input(parser_class):
    parser = parser_class()
    parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\r\n")
    parser.feed_eof()  # between requests: fine
    parser = parser_class()
    parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab")
    with pytest.raises(BadRequest):
        parser.feed_eof()


def test_upgrade_keeps_later_bytes_untouched(parser_class):
    parser = parser_class()
    events = parser.feed(b"GET /chat HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81")
    assert events[0].upgrade and events[1] == MessageEnd() and parser.upgraded
    assert parser.feed(b"\x02\x00") == []
    assert parser.take_upgrade_data() == b"\x81\x02\x00"
    assert parser.take_upgrade_data() == b""
    parser.feed_eof()


def test_upgrade_request_with_a_body_reads_the_body_first(parser_class):
    parser = parser_class()
    events = parser.feed(b"POST / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: x\r\n"
                         b"Content-Length: 2\r\n\r\nokrest")
    assert [type(event) for event in events] == [RequestHead, bytes, MessageEnd]
    assert events[1] == b"ok" and parser.upgraded and parser.take_upgrade_data() == b"rest"


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview], ids=["bytes", "bytearray", "memoryview"])
def test_any_buffer(parser_class, wrap):
    events = parser_class().feed(wrap(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"))
    assert events[1] == b"hi" and type(events[1]) is bytes
