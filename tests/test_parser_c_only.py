"""What only the compiled parser can get wrong: that it is loaded, and its hand-built objects.

The behaviour both twins share is tested in ``test_parser.py``; these tests look at the
C side's own machinery (slots filled without ``__init__``, the header-name cache, the
reference counting behind them) and skip when the extension is not in use.
"""
from __future__ import annotations

import gc
import tracemalloc

import pytest

from outside import speedups
from outside.http.errors import HeaderFieldsTooLarge, HttpParserError
from outside.http.events import MessageEnd, RequestHead

compiled = pytest.mark.skipif(speedups.RequestParserC is None,
                              reason="the C parser is not in use (OUTSIDE_NO_EXTENSIONS or not built)")

GET = b"GET /a?b=1 HTTP/1.1\r\nHost: example.org\r\nAccept: */*\r\nX-Latin: caf\xe9\r\n\r\n"


def test_the_active_parser_is_the_one_the_build_promises():
    if speedups.NO_EXTENSIONS:
        assert speedups.RequestParserC is None
        assert speedups.RequestParser is speedups.RequestParserPy
    else:
        assert "_http_parser" not in speedups.IMPORT_ERRORS, speedups.IMPORT_ERRORS
        assert speedups.RequestParser is speedups.RequestParserC
        assert speedups.RequestParserC.__module__ == "outside._speedups._http_parser"


@compiled
def test_events_are_the_shared_classes_with_every_slot_filled():
    head, end = speedups.RequestParserC().feed(GET)
    assert type(head) is RequestHead and type(end) is MessageEnd
    assert head == RequestHead("GET", "/a?b=1", "HTTP/1.1",
                               [("Host", "example.org"), ("Accept", "*/*"), ("X-Latin", "caf\xe9")],
                               True, False, False, False, None)
    assert end == MessageEnd() and end.trailers == []
    head.headers.append(("X", "y"))  # the objects are ordinary, mutable and unshared
    end.trailers.append(("T", "1"))
    again_head, again_end = speedups.RequestParserC().feed(GET)
    assert len(again_head.headers) == 3 and again_end.trailers == []


@compiled
@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview], ids=["bytes", "bytearray", "memoryview"])
def test_any_buffer_in_plain_bytes_out(wrap):
    parser = speedups.RequestParserC()
    data = b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET /ws HTTP/1.1\r\n" \
           b"Host: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x80rest"
    events = parser.feed(wrap(data))
    assert [type(event) for event in events] == [RequestHead, bytes, MessageEnd, RequestHead, MessageEnd]
    assert events[1] == b"abc"
    assert parser.upgraded
    leftover = parser.take_upgrade_data()
    assert type(leftover) is bytes and leftover == b"\x81\x80rest"
    assert parser.feed(wrap(b"more")) == [] and parser.take_upgrade_data() == b"more"


@compiled
def test_header_name_cache_returns_each_name_as_sent():
    # Far more distinct names than the cache has entries, so entries collide and get replaced.
    parser = speedups.RequestParserC(max_headers=200)
    for batch in range(20):
        names = [f"X-Name-{batch}-{index}" for index in range(150)] + ["Host"]
        request = "GET / HTTP/1.1\r\n" + "".join(f"{name}: {i}\r\n" for i, name in enumerate(names)) + "\r\n"
        head = parser.feed(request.encode())[0]
        assert head.headers == [(name, str(i)) for i, name in enumerate(names)]


@compiled
def test_repeated_parsing_does_not_leak():
    parser = speedups.RequestParserC()
    pipelined = GET * 8 + b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" \
                          b"3\r\nabc\r\n0\r\nTrailer-Field: t\r\n\r\n"

    def parse_many() -> None:
        for _ in range(300):
            parser.feed(pipelined)
            try:
                speedups.RequestParserC(max_header_size=32).feed(GET)
            except HeaderFieldsTooLarge:
                pass

    parse_many()  # warm up caches and free lists
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        parse_many()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 64 * 1024, f"{grown} bytes still allocated after parsing"


@compiled
def test_parsers_keep_separate_state_when_interleaved():
    first, second = speedups.RequestParserC(), speedups.RequestParserC()
    first.feed(b"GET /first HTTP/1.1\r\nHo")
    second.feed(b"GET /second HTTP/1.1\r\nHost: b\r\nX-A")
    (head_one, _end_one) = first.feed(b"st: a\r\n\r\n")
    (head_two, _end_two) = second.feed(b": 1\r\n\r\n")
    assert (head_one.target, head_one.headers) == ("/first", [("Host", "a")])
    assert (head_two.target, head_two.headers) == ("/second", [("Host", "b"), ("X-A", "1")])


@compiled
def test_an_error_in_a_callback_leaves_the_parser_dead_but_usable_as_an_object():
    parser = speedups.RequestParserC(max_url_size=4)
    with pytest.raises(HttpParserError) as first:
        parser.feed(b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /toolong HTTP/1.1\r\n")
    assert first.value.status == 414
    assert [type(event) for event in first.value.events] == [RequestHead, MessageEnd]
    for _ in range(3):
        with pytest.raises(HttpParserError) as again:
            parser.feed(b"GET / HTTP/1.1\r\n")
        assert type(again.value) is type(first.value) and again.value.events == []
