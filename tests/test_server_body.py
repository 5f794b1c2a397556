"""Request bodies while they arrive: ``BodyStream`` on its own (a queue of parser events
and a pull function) and through ``Connection`` over ``socket.socketpair()`` with a fake
host: 100-continue, Content-Length and chunked bodies, a body over the limit, a client
that vanishes mid-body."""
from __future__ import annotations

import threading
from collections import deque

import pytest

from outside import OutsideHTTP, Response
from outside.http.errors import BadRequest, PayloadTooLarge
from outside.http.events import MessageEnd
from outside.server.body import CONTINUE, BodyStream
from outside.server.connection import State

from fake_host import WAIT, FakeHost, at_eof, connect, parse_responses, received

pytestmark = pytest.mark.timeout(30)

BODY = bytes(range(256)) * 64  # 16 KiB


# -- BodyStream alone -------------------------------------------------------------

def stream_over(pieces, queued=(), continue_calls=None):
    """A BodyStream whose pull() appends the next of ``pieces`` (then MessageEnd)."""
    events = deque(queued)
    supply = deque(pieces)

    def pull():
        if not supply:
            raise BadRequest("the connection closed before the body ended")
        events.append(supply.popleft())

    send_continue = None
    if continue_calls is not None:
        def send_continue():
            continue_calls.append(len(supply))
    return BodyStream(events, pull, send_continue), events


def test_a_queued_body_is_read_without_pulling_or_continue():
    calls = []
    stream, _ = stream_over([], queued=[b"abc", b"def", MessageEnd([])], continue_calls=calls)
    assert stream.read(4) == b"abcd"
    assert stream.read() == b"ef"
    assert stream.read() == b"" and stream.finished
    assert calls == []  # everything was there: no 100 Continue


def test_continue_is_sent_once_on_the_first_read_that_needs_the_network():
    calls = []
    stream, _ = stream_over([b"hello ", b"world", MessageEnd([])], continue_calls=calls)
    assert stream.read(3) == b"hel"
    assert stream.read() == b"lo world"
    assert calls == [3]  # once, before the first pull
    assert stream.finished


def test_reads_in_pieces_return_at_most_size():
    stream, _ = stream_over([BODY[i:i + 1000] for i in range(0, len(BODY), 1000)] + [MessageEnd([])])
    got = []
    while True:
        piece = stream.read(700)
        if not piece:
            break
        assert len(piece) <= 700
        got.append(piece)
    assert b"".join(got) == BODY


def test_the_next_request_head_stays_queued_after_the_body():
    head_of_next = object()
    stream, events = stream_over([], queued=[b"x", MessageEnd([]), head_of_next])
    assert stream.read() == b"x"
    assert list(events) == [head_of_next]


def test_a_client_vanishing_mid_body_fails_every_later_read():
    stream, _ = stream_over([b"part"])
    assert stream.read(4) == b"part"
    with pytest.raises(BadRequest):
        stream.read()
    assert isinstance(stream.error, BadRequest)
    with pytest.raises(BadRequest):
        stream.read(1)
    assert not stream.finished


# -- through the connection ---------------------------------------------------------

def upload_app(results):
    app = OutsideHTTP(("127.0.0.1", 0))

    def upload(request):
        pieces = []
        try:
            while True:
                piece = request.body.read(4096)
                if not piece:
                    break
                pieces.append(piece)
        except Exception as exc:
            results.append(exc)
            raise
        results.append(b"".join(pieces))
        return Response(200, {}, str(len(b"".join(pieces))))

    app.set_route("/upload", upload)
    return app


def send_later(client, pieces, wait_for_continue=False):
    def run():
        if wait_for_continue:
            assert client.recv(len(CONTINUE)) == CONTINUE
        for piece in pieces:
            client.sendall(piece)
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_expect_100_continue_is_answered_before_the_body_is_sent():
    results = []
    host = FakeHost(upload_app(results))
    conn, client = connect(host)
    client.sendall(f"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {len(BODY)}\r\n"
                   "Expect: 100-continue\r\n\r\n".encode())
    sender = send_later(client, [BODY], wait_for_continue=True)
    conn.on_readable()
    sender.join(WAIT)
    assert results == [BODY]
    [(status, _, answer)] = parse_responses(received(client))
    assert (status, answer) == (200, str(len(BODY)).encode())
    assert conn.state is State.IDLE


def test_no_continue_when_the_body_came_with_the_head():
    results = []
    host = FakeHost(upload_app(results))
    conn, client = connect(host)
    client.sendall(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n"
                   b"Expect: 100-continue\r\n\r\nhello")
    conn.on_readable()
    data = received(client)
    assert not data.startswith(b"HTTP/1.1 100")
    assert results == [b"hello"] and parse_responses(data)[0][0] == 200


def test_a_content_length_body_arriving_in_pieces():
    results = []
    host = FakeHost(upload_app(results))
    conn, client = connect(host)
    client.sendall(f"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {len(BODY)}\r\n\r\n"
                   .encode() + BODY[:10])
    sender = send_later(client, [BODY[i:i + 999] for i in range(10, len(BODY), 999)])
    conn.on_readable()
    sender.join(WAIT)
    assert results == [BODY]
    assert parse_responses(received(client))[0][0] == 200


def test_a_chunked_body_arriving_in_pieces():
    results = []
    host = FakeHost(upload_app(results))
    conn, client = connect(host)
    chunks = [BODY[i:i + 3000] for i in range(0, len(BODY), 3000)]
    wire = [f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" for chunk in chunks] + [b"0\r\n\r\n"]
    client.sendall(b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    sender = send_later(client, wire)
    conn.on_readable()
    sender.join(WAIT)
    assert results == [BODY]
    assert parse_responses(received(client))[0][0] == 200
    assert conn.state is State.IDLE


def test_a_declared_body_over_the_limit_gets_413_before_any_handler():
    results = []
    host = FakeHost(upload_app(results), max_body_size_mb=0.01)  # about 10 KiB
    conn, client = connect(host)
    client.sendall(f"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {len(BODY)}\r\n\r\n"
                   .encode())
    conn.on_readable()
    [(status, _, _)] = parse_responses(received(client))
    assert status == 413 and results == []
    assert conn.state is State.LINGERING


def test_a_chunked_body_growing_over_the_limit_fails_the_read_and_gets_413():
    results = []
    host = FakeHost(upload_app(results), max_body_size_mb=0.01)
    conn, client = connect(host)
    wire = [f"{4000:x}\r\n".encode() + BODY[:4000] + b"\r\n" for _ in range(4)] + [b"0\r\n\r\n"]
    client.sendall(b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    sender = send_later(client, wire)
    conn.on_readable()
    sender.join(WAIT)
    assert len(results) == 1 and isinstance(results[0], PayloadTooLarge)
    [(status, headers, _)] = parse_responses(received(client))
    assert status == 413 and headers["connection"] == "close"
    assert conn.state is State.LINGERING


def test_a_client_vanishing_mid_body_ends_the_request_and_the_connection():
    results = []
    host = FakeHost(upload_app(results))
    conn, client = connect(host)
    client.sendall(f"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {len(BODY)}\r\n\r\n"
                   .encode() + BODY[:100])
    client.shutdown(2)  # gone: the rest never comes
    conn.on_readable()
    assert len(results) == 1 and isinstance(results[0], BadRequest)
    assert conn.state in (State.LINGERING, State.CLOSED)
    assert at_eof(client)


def test_a_body_the_handler_left_unread_closes_the_connection_after_the_answer():
    app = OutsideHTTP(("127.0.0.1", 0))
    app.set_route("/ignore", lambda request: Response(200, {}, "ignored"))
    host = FakeHost(app)
    conn, client = connect(host)
    client.sendall(f"POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: {len(BODY)}\r\n\r\n"
                   .encode() + BODY[:100])
    conn.on_readable()
    [(status, headers, answer)] = parse_responses(received(client))
    assert (status, answer, headers["connection"]) == (200, b"ignored", "close")
    assert conn.state is State.LINGERING
