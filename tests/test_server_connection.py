"""The connection driver in-process: ``Connection`` over ``socket.socketpair()`` with a
fake host (no server process, no event loop). Each test plays the worker: it calls
``on_readable`` when it has sent bytes, ``expired`` as the sweep would. The last test
checks ``max_pipeline`` once more through a real server process."""
from __future__ import annotations

import re
import socket
import threading
import time

import pytest

from outside import OutsideHTTP, Response, WebSocket
from outside.http.events import RequestHead
from outside.server import connection as connection_module
from outside.server.connection import FEED_SLICE, Connection, IllegalTransition, State

from fake_host import (
    FakeClock,
    FakeHost,
    Reader,
    at_eof,
    connect,
    parse_responses,
    received,
)
from servers import start_app

pytestmark = pytest.mark.timeout(30)


def make_app() -> OutsideHTTP:
    app = OutsideHTTP(("127.0.0.1", 0))

    def hello(request):
        return Response(200, {"Content-Type": "text/plain"}, "hello, world!")

    def echo(request):
        return Response(200, {}, request.target)

    app.set_route("/", hello)
    app.set_route("/echo", echo)
    return app


def get(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n{extra}\r\n".encode()


def test_one_request_is_answered_and_the_connection_waits_for_the_next():
    host = FakeHost(make_app(), keep_alive_timeout=7)
    clock = FakeClock()
    conn, client = connect(host, clock)
    client.sendall(get("/"))
    conn.on_readable()
    [(status, headers, body)] = parse_responses(received(client))
    assert (status, body) == (200, b"hello, world!")
    assert headers.get("connection") != "close"
    assert conn.state is State.IDLE
    assert conn.deadline == clock.now + 7
    assert host.forgotten == []


def test_pipelined_requests_are_answered_in_order():
    host = FakeHost(make_app())
    conn, client = connect(host)
    client.sendall(b"".join(get(f"/echo?n={n}") for n in range(10)))
    conn.on_readable()
    answers = parse_responses(received(client))
    assert [body for _, _, body in answers] == [f"/echo?n={n}".encode() for n in range(10)]
    assert conn.state is State.IDLE


def test_keep_alive_serves_requests_one_after_another_then_closes_on_request():
    host = FakeHost(make_app())
    conn, client = connect(host)
    for n in range(3):
        client.sendall(get(f"/echo?n={n}"))
        conn.on_readable()
        [(status, _, body)] = parse_responses(received(client))
        assert (status, body) == (200, f"/echo?n={n}".encode())
        assert conn.state is State.IDLE
    client.sendall(get("/", "Connection: close\r\n"))
    conn.on_readable()
    [(status, headers, _)] = parse_responses(received(client))
    assert status == 200 and headers["connection"] == "close"
    assert conn.state is State.CLOSED and host.forgotten == [conn]
    assert at_eof(client)


def test_max_socket_reuse_ends_the_connection_after_that_many_requests():
    host = FakeHost(make_app(), max_socket_reuse=2)
    conn, client = connect(host)
    client.sendall(get("/") * 3)
    conn.on_readable()
    answers = parse_responses(received(client))
    assert len(answers) == 2 and answers[1][1]["connection"] == "close"
    assert conn.state is State.CLOSED


def test_a_bad_request_gets_400_after_the_good_ones_then_the_connection_lingers_and_closes():
    host = FakeHost(make_app())
    clock = FakeClock()
    conn, client = connect(host, clock)
    client.sendall(get("/echo?n=1") + b"NOT HTTP AT ALL\r\n\r\n")
    conn.on_readable()
    answers = parse_responses(received(client))
    assert [status for status, _, _ in answers] == [200, 400]
    assert answers[1][1]["connection"] == "close"
    assert conn.state is State.LINGERING
    assert at_eof(client)  # our side is shut: the client reads the answer, then the end
    client.sendall(b"more garbage")  # dropped while lingering
    conn.on_readable()
    assert conn.state is State.LINGERING
    assert not conn.expired(clock.now)
    clock.advance(connection_module.LINGER + 0.1)
    assert conn.expired(clock.now)  # the sweep would close it now
    client.close()
    conn.on_readable()
    assert conn.state is State.CLOSED and host.forgotten == [conn]


def test_a_head_that_does_not_arrive_within_header_timeout_is_cut_off():
    host = FakeHost(make_app(), header_timeout=3)
    clock = FakeClock()
    conn, client = connect(host, clock)
    client.sendall(b"GET / HTTP/1.1\r\n")
    conn.on_readable()
    assert conn.state is State.READING_HEAD
    clock.advance(2)
    client.sendall(b"Host: test\r\n")  # trickling bytes does not extend the deadline
    conn.on_readable()
    assert conn.state is State.READING_HEAD
    assert not conn.expired(clock.now)
    clock.advance(1.5)
    assert conn.expired(clock.now)  # idle past its deadline: the sweep closes it
    client.sendall(b"X-Slow: 1\r\n")
    assert not conn.expired(clock.now)  # unread input: the loop is late, not the client
    conn.on_readable()  # read, still incomplete, past the deadline: closed here
    assert conn.state is State.CLOSED
    assert received(client) == b""  # no response, only the end


def test_the_header_clock_of_a_keep_alive_connection_starts_at_the_first_byte():
    host = FakeHost(make_app(), header_timeout=3, keep_alive_timeout=100)
    clock = FakeClock()
    conn, client = connect(host, clock)
    client.sendall(get("/"))
    conn.on_readable()
    received(client)
    clock.advance(50)  # idle for a while: fine under keep_alive_timeout
    client.sendall(b"GET / HTTP/1.1\r\n")
    conn.on_readable()
    assert conn.state is State.READING_HEAD and conn.deadline == clock.now + 3
    client.sendall(b"Host: test\r\n\r\n")
    conn.on_readable()
    assert [status for status, _, _ in parse_responses(received(client))] == [200]


def test_a_body_is_read_in_pieces_as_it_arrives():
    app = make_app()
    pieces_seen = []

    def upload(request):
        while True:
            piece = request.body.read(1000)
            if not piece:
                break
            pieces_seen.append(piece)
        return Response(200, {}, str(sum(len(piece) for piece in pieces_seen)))

    app.set_route("/upload", upload)
    host = FakeHost(app)
    conn, client = connect(host)
    body = bytes(range(256)) * 40  # 10,240 bytes
    client.sendall(f"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n\r\n"
                   .encode() + body[:100])

    def send_rest():
        for start in range(100, len(body), 3000):
            client.sendall(body[start:start + 3000])

    sender = threading.Thread(target=send_rest)
    sender.start()
    conn.on_readable()  # blocks in the handler until the whole body came
    sender.join()
    [(status, _, answer)] = parse_responses(received(client))
    assert (status, answer) == (200, b"10240")
    assert b"".join(pieces_seen) == body
    assert all(len(piece) <= 1000 for piece in pieces_seen) and len(pieces_seen) >= 11
    assert conn.state is State.IDLE


def _pipelined_batch(count: int) -> bytes:
    return b"".join(get(f"/echo?n={n:04d}") for n in range(count))


@pytest.mark.parametrize("max_pipeline", [1, 4, 16])
def test_max_pipeline_bounds_the_requests_parsed_ahead_and_all_are_answered_in_order(max_pipeline):
    app = make_app()
    holder = {}
    queued = []

    def count(request):
        conn = holder["conn"]
        queued.append(sum(1 for event in conn.events if type(event) is RequestHead))
        return Response(200, {}, request.target)

    app.set_route("/echo", count)
    host = FakeHost(app, max_pipeline=max_pipeline, max_socket_reuse=1000)
    conn, client = connect(host)
    holder["conn"] = conn
    batch = _pipelined_batch(300)  # about 13 KiB: one read
    client.sendall(batch)
    reader = Reader(client)
    conn.on_readable()
    conn.close()
    answers = parse_responses(reader.all())
    assert [body for _, _, body in answers] == [f"/echo?n={n:04d}".encode() for n in range(300)]
    per_slice = FEED_SLICE // len(get("/echo?n=0000")) + 1
    assert max(queued) <= max_pipeline + per_slice  # never the whole read at once
    assert max(queued) < 300 - 1 - per_slice
    assert conn.unparsed == b""


def test_without_the_bound_a_whole_read_is_parsed_at_once():
    """The counterpart of the test above: it can tell a bound from none."""
    app = make_app()
    holder = {}
    queued = []

    def count(request):
        queued.append(sum(1 for event in holder["conn"].events if type(event) is RequestHead))
        return Response(200, {}, request.target)

    app.set_route("/echo", count)
    host = FakeHost(app, max_pipeline=10**6, max_socket_reuse=1000)
    conn, client = connect(host)
    holder["conn"] = conn
    client.sendall(_pipelined_batch(300))
    reader = Reader(client)
    conn.on_readable()
    conn.close()
    assert len(parse_responses(reader.all())) == 300
    assert queued[0] == 299


def test_an_upgrade_to_an_event_driven_websocket_replaces_the_watched_object():
    app = make_app()
    ws = WebSocket()
    messages = []
    ws.on_message(lambda connection, message: messages.append(message))
    app.set_route("/ws", ws)
    host = FakeHost(app)
    conn, client = connect(host)
    client.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    conn.on_readable()
    assert re.match(rb"HTTP/1\.1 101 ", received(client))
    assert conn.state is State.UPGRADED
    [(old, session)] = host.replaced
    assert old is conn and session.sock is conn.sock
    assert host.websockets == 1 and host.forgotten == []
    # a masked text frame "hi", read by the session as the loop would
    client.sendall(bytes([0x81, 0x82, 1, 2, 3, 4, ord("h") ^ 1, ord("i") ^ 2]))
    session.on_readable()
    assert messages == ["hi"]
    session.ended()  # the loop drops it (e.g. at shutdown): the socket closes, counted once
    session.ended()
    assert host.websockets == 0 and host.forgotten[-1] is session
    assert at_eof(client)


def test_a_refused_upgrade_is_answered_and_closed():
    app = make_app()
    app.set_route("/ws", WebSocket())
    host = FakeHost(app)
    conn, client = connect(host)
    client.sendall(b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    conn.on_readable()
    [(status, _, _)] = parse_responses(received(client))
    assert status in (400, 426)
    assert conn.state is State.CLOSED and host.replaced == [] and host.websockets == 0


def test_a_graceful_stop_closes_the_connection_after_its_answer():
    host = FakeHost(make_app())
    conn, client = connect(host)
    host.stopping = True
    client.sendall(get("/"))
    conn.on_readable()
    [(status, headers, _)] = parse_responses(received(client))
    assert status == 200 and headers["connection"] == "close"
    assert conn.state is State.CLOSED


def test_the_client_leaving_closes_the_connection_once():
    host = FakeHost(make_app())
    conn, client = connect(host)
    client.close()
    conn.on_readable()
    conn.close()
    assert conn.state is State.CLOSED and host.forgotten == [conn]


def test_moves_outside_the_state_table_raise():
    conn, client = connect(FakeHost(make_app()))
    with pytest.raises(IllegalTransition):
        conn._enter(State.UPGRADED)  # READING_HEAD -> UPGRADED is not a move
    conn.close()
    with pytest.raises(IllegalTransition):
        conn._enter(State.IDLE)
    client.close()


def test_the_state_table_in_the_docstring_is_the_one_enforced():
    table = {}
    source = None
    for line in connection_module.__doc__.splitlines():
        match = re.match(r"\s+(?:([A-Z_]+)\s+)?->\s+([A-Z_]+)\s", line + " ")
        if match:
            source = match.group(1) or source
            table.setdefault(State[source], set()).add(State[match.group(2)])
    table[State.CLOSED] = set()
    assert table == {state: set(moves) for state, moves in connection_module._NEXT.items()}
    assert set(table) == set(State)


def test_a_tls_connection_starts_in_handshaking():
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    conn_plain, client = connect(FakeHost(make_app()))
    assert conn_plain.state is State.READING_HEAD
    server_end = context.wrap_socket(conn_plain.sock, server_side=True,
                                     do_handshake_on_connect=False)
    conn = Connection(server_end, ("127.0.0.1", 1), FakeHost(make_app()), FakeClock())
    assert conn.state is State.HANDSHAKING and conn.scheme == "https"
    client.sendall(get("/"))  # plain HTTP to the TLS side: the handshake fails
    conn.on_readable()
    assert conn.state is State.CLOSED


def test_a_real_server_answers_more_pipelined_requests_than_max_pipeline_in_order():
    """The same through a server process and a raw socket: 500 pipelined requests (about
    22 KiB, several reads' worth of slices) against ``max_pipeline`` 4."""
    count = 500
    with start_app("echo_target", config={"max_pipeline": 4, "max_socket_reuse": 1000}) as server, \
            socket.create_connection(server.address, timeout=10) as client:
        client.sendall(_pipelined_batch(count))
        data = b""
        deadline = time.monotonic() + 10
        while data.count(b"HTTP/1.1 200") < count or not data.endswith(f"{count - 1:04d}".encode()):
            assert time.monotonic() < deadline, "not every request was answered in time"
            chunk = client.recv(65536)
            assert chunk, "the server closed before answering every request"
            data += chunk
    answers = parse_responses(data)
    assert [body for _, _, body in answers] == [f"/echo?n={n:04d}".encode() for n in range(count)]
