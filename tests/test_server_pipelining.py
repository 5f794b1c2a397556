"""Pipelined requests answered in one write: ``Connection`` over a socket pair with a fake
host (as in ``test_server_connection``), its server end wrapped to record every ``send``.

The rule under test (``outside.server.connection``): the small responses of one read's
batch are held back and go out together with the last one; anything that may block or
must follow them on the wire (a streamed body, 100 Continue, a file, an upgrade, an
error answer) sends them first; a handler starting after they waited ``OUT_DELAY`` too.
"""
from __future__ import annotations

import logging
import re
import socket
import threading
import time
from typing import Callable

import pytest

from outside import OutsideHTTP, Response, WebSocket
from outside.files import FilePath
from outside.server import connection as connection_module
from outside.server.connection import Connection, State
from outside.server.metrics import Cells, WorkerMetrics

from fake_host import FakeClock, FakeHost, Reader, parse_responses, received
from servers import start_app

pytestmark = pytest.mark.timeout(30)

BIG = bytes(range(256)) * 80  # 20,480 bytes: a bytes body sent with its head


class RecordingSocket(socket.socket):
    """A socket that records what each ``send`` was given (and can fail on demand)."""

    sends: list[bytes]
    fail_at: int | None

    def send(self, data, *args):  # type: ignore[override]
        self.sends.append(bytes(data))
        if self.fail_at is not None and len(self.sends) > self.fail_at:
            raise ConnectionResetError(104, "reset by the test")
        return super().send(data, *args)


def connect(host: FakeHost, clock: Callable[[], float] | None = None,
            fail_at: int | None = None) -> tuple[Connection, RecordingSocket, socket.socket]:
    server_end, client = socket.socketpair()
    recording = RecordingSocket(fileno=server_end.detach())
    recording.sends, recording.fail_at = [], fail_at
    recording.setblocking(False)
    client.settimeout(5)
    conn = Connection(recording, ("127.0.0.1", 40000), host, clock or FakeClock())
    return conn, recording, client


def make_app(clock: FakeClock | None = None, files: str | None = None) -> OutsideHTTP:
    app = OutsideHTTP(("127.0.0.1", 0))

    def echo(request):
        return Response(200, {"Content-Type": "text/plain"}, request.target)

    def slow(request):  # a handler that takes a second (of the fake clock)
        if clock is not None:
            clock.advance(1.0)
        return Response(200, {}, "slow")

    def big(request):
        return Response(200, {}, BIG)

    def upload(request):
        return Response(200, {}, b"got " + request.body.read())

    app.set_route("/echo", echo)
    app.set_route("/slow", slow)
    app.set_route("/big", big)
    app.set_route("/upload", upload)
    if files is not None:
        app.set_route("/file", lambda request: Response(200, {}, FilePath(files)))
    return app


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: test\r\n\r\n".encode()


def without_date(data: bytes) -> bytes:
    return re.sub(rb"\r\nDate: [^\r]*", b"\r\nDate: -", data)


def answers(data: bytes) -> list[bytes]:
    return [body for _, _, body in parse_responses(data)]


def test_a_pipelined_batch_of_16_is_answered_in_one_send_byte_for_byte_as_one_by_one():
    targets = [f"/echo?n={n}" for n in range(16)]
    conn, sock, client = connect(FakeHost(make_app()))
    client.sendall(b"".join(get(target) for target in targets))
    conn.on_readable()
    batched = received(client)
    assert len(sock.sends) == 1
    assert conn.state is State.IDLE and conn.out == []

    one_by_one = []
    conn2, sock2, client2 = connect(FakeHost(make_app()))
    for target in targets:
        client2.sendall(get(target))
        conn2.on_readable()
        one_by_one.append(received(client2))
    assert len(sock2.sends) == 16
    assert without_date(batched) == without_date(b"".join(one_by_one))
    assert answers(batched) == [target.encode() for target in targets]


def test_a_lone_request_is_one_send_and_not_held_back():
    conn, sock, client = connect(FakeHost(make_app()))
    for n in range(3):
        client.sendall(get(f"/echo?n={n}"))
        conn.on_readable()
        assert answers(received(client)) == [f"/echo?n={n}".encode()]
    assert len(sock.sends) == 3 and conn.out == []


def test_a_slow_handler_in_a_pipeline_loses_and_reorders_nothing():
    clock = FakeClock()
    conn, sock, client = connect(FakeHost(make_app(clock)), clock)
    targets = ["/echo?n=0", "/echo?n=1", "/slow", "/echo?n=3", "/echo?n=4"]
    client.sendall(b"".join(get(target) for target in targets))
    conn.on_readable()
    assert answers(received(client)) == [b"/echo?n=0", b"/echo?n=1", b"slow",
                                         b"/echo?n=3", b"/echo?n=4"]
    # the answers held back during the slow handler went out before the next handler ran
    assert [answers(data) for data in sock.sends] == [
        [b"/echo?n=0", b"/echo?n=1", b"slow"], [b"/echo?n=3", b"/echo?n=4"]]
    assert connection_module.OUT_DELAY < 1.0  # the slow handler outlasted the bound


def test_a_really_blocking_handler_in_a_pipeline_keeps_the_order():
    app = OutsideHTTP(("127.0.0.1", 0))
    release = threading.Event()

    def wait(request):
        release.wait(5)
        return Response(200, {}, "waited")

    app.set_route("/wait", wait)
    app.set_route("/echo", lambda request: Response(200, {}, request.target))
    conn, sock, client = connect(FakeHost(app), clock=time.monotonic)
    client.sendall(get("/echo?n=0") + get("/wait") + get("/echo?n=2"))
    server = threading.Thread(target=conn.on_readable)
    server.start()
    threading.Timer(0.2, release.set).start()
    server.join(10)
    assert not server.is_alive()
    assert answers(received(client)) == [b"/echo?n=0", b"waited", b"/echo?n=2"]
    assert sum(len(answers(data)) for data in sock.sends) == 3


def test_held_back_answers_go_out_before_a_streamed_body_is_waited_for():
    conn, sock, client = connect(FakeHost(make_app()))
    head = b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\n"
    client.sendall(get("/echo?n=0") + get("/echo?n=1") + head + b"01234")
    early = []

    def client_side():  # the rest of the body only once the first two answers came
        data = b""
        while data.count(b"HTTP/1.1 200") < 2:
            data += client.recv(65536)
        early.append(data)
        client.sendall(b"56789")

    helper = threading.Thread(target=client_side)
    helper.start()
    conn.on_readable()
    helper.join(5)
    assert answers(early[0]) == [b"/echo?n=0", b"/echo?n=1"]
    assert answers(received(client)) == [b"got 0123456789"]
    assert conn.state is State.IDLE


def test_held_back_answers_precede_100_continue():
    conn, sock, client = connect(FakeHost(make_app()))
    head = (b"POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 3\r\n"
            b"Expect: 100-continue\r\n\r\n")
    client.sendall(get("/echo?n=0") + head)

    def client_side():
        data = b""
        while b"100 Continue" not in data:
            data += client.recv(65536)
        early.append(data)
        client.sendall(b"abc")

    early: list[bytes] = []
    helper = threading.Thread(target=client_side)
    helper.start()
    conn.on_readable()
    helper.join(5)
    first, _, rest = early[0].partition(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert answers(first) == [b"/echo?n=0"] and rest == b""
    assert answers(received(client)) == [b"got abc"]


def test_a_file_and_a_large_body_in_a_pipeline_keep_their_place(tmp_path):
    path = tmp_path / "data.bin"
    content = bytes(range(256)) * 300
    path.write_bytes(content)
    conn, sock, client = connect(FakeHost(make_app(files=str(path))))
    reader = Reader(client)
    client.sendall(get("/echo?n=0") + get("/file") + get("/echo?n=2") + get("/big")
                   + get("/echo?n=4"))
    conn.on_readable()
    conn.close()
    assert answers(reader.all()) == [b"/echo?n=0", content, b"/echo?n=2", BIG, b"/echo?n=4"]


def test_the_buffer_is_sent_when_it_passes_its_bound():
    count = 12  # 12 x 20 KiB: more than OUT_LIMIT, yet one read
    conn, sock, client = connect(FakeHost(make_app()))
    reader = Reader(client)
    client.sendall(get("/big") * count)
    conn.on_readable()
    conn.close()
    assert answers(reader.all()) == [BIG] * count
    assert 1 < len(sock.sends) < count
    assert all(len(data) <= connection_module.OUT_LIMIT + len(BIG) + 1024 for data in sock.sends)


def test_an_upgrade_in_a_pipeline_comes_after_the_answers_before_it():
    app = make_app()
    ws = WebSocket()
    ws.on_message(lambda connection, message: None)
    app.set_route("/ws", ws)
    host = FakeHost(app)
    conn, sock, client = connect(host)
    client.sendall(get("/echo?n=0") + get("/echo?n=1") +
                   b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    conn.on_readable()
    data = received(client)
    first, switch, _ = data.partition(b"HTTP/1.1 101 ")
    assert switch and answers(first) == [b"/echo?n=0", b"/echo?n=1"]
    assert conn.state is State.UPGRADED and len(host.replaced) == 1
    host.replaced[0][1].ended()


def test_a_malformed_request_after_a_batch_is_answered_after_it():
    conn, sock, client = connect(FakeHost(make_app()))
    client.sendall(get("/echo?n=0") + get("/echo?n=1") + b"NOT HTTP AT ALL\r\n\r\n")
    conn.on_readable()
    assert [status for status, _, _ in parse_responses(received(client))] == [200, 200, 400]
    assert [len(parse_responses(data)) for data in sock.sends] == [2, 1]  # the batch, the error
    assert conn.state is State.LINGERING
    conn.close()


def test_a_write_error_mid_batch_closes_the_connection_and_runs_no_further_handler():
    app = make_app()
    seen = []
    app.set_route("/big", lambda request: (seen.append(request.target), Response(200, {}, BIG))[1])
    host = FakeHost(app)
    conn, sock, client = connect(host, fail_at=0)
    client.sendall(b"".join(get(f"/big?n={n}") for n in range(12)))
    conn.on_readable()  # no exception: the failure is the client's, not the server's
    assert conn.state is State.CLOSED and host.forgotten == [conn]
    assert len(sock.sends) == 1 and conn.out == []
    assert len(seen) * len(BIG) >= connection_module.OUT_LIMIT  # the bound made it write...
    assert len(seen) < 12  # ...and nothing after the failure was served


def test_a_failed_write_before_a_streamed_body_is_read_closes_the_connection():
    app = make_app()
    failures = []

    def upload(request):
        try:
            request.body.read()
        except OSError as exc:
            failures.append(exc)
            raise
        return Response(200, {}, "read it")

    app.set_route("/upload", upload)
    host = FakeHost(app)
    conn, sock, client = connect(host, fail_at=0)
    client.sendall(get("/echo?n=0") + b"POST /upload HTTP/1.1\r\nHost: test\r\n"
                   b"Content-Length: 10\r\n\r\n01234")
    conn.on_readable()  # the answer held back for /echo cannot go out before the body wait
    assert len(failures) == 1 and isinstance(failures[0], ConnectionAbortedError)
    assert conn.state is State.CLOSED and host.forgotten == [conn]
    assert len(sock.sends) == 1 and conn.out == []


def test_the_access_log_and_the_metrics_see_every_pipelined_request(caplog):
    app = make_app()
    host = FakeHost(app)
    host.access_log = True
    metrics = WorkerMetrics(Cells(2), 1, app)
    host.metrics = metrics
    conn, sock, client = connect(host)
    client.sendall(b"".join(get(f"/echo?n={n}") for n in range(16)))
    with caplog.at_level(logging.INFO, logger="outside.access"):
        conn.on_readable()
    data = received(client)
    assert len(sock.sends) == 1
    lines = [record.getMessage() for record in caplog.records if record.name == "outside.access"]
    assert [re.search(r'"GET (\S+) ', line).group(1) for line in lines] == \
        [f"/echo?n={n}" for n in range(16)]
    assert sum(row[2] for row in metrics.requests.values()) == 16  # sixteen 2xx
    assert metrics.bytes_out == len(data)


def test_a_real_server_serves_others_while_a_pipeline_waits_on_a_slow_handler():
    """Through a server process: a pipeline with a blocking handler in its middle keeps
    its order, and meanwhile another client is answered (the watchdog still promotes)."""
    with start_app("sleepy") as server, \
            socket.create_connection(server.address, timeout=10) as piped, \
            socket.create_connection(server.address, timeout=10) as other:
        piped.sendall(get("/") * 3 + get("/sleep?s=2") + get("/") * 3)
        time.sleep(0.1)  # the slow handler runs now
        other.sendall(get("/"))
        assert answers(read_answers(other, 1)) == [b"hello"]
        piped.setblocking(False)
        try:
            early = piped.recv(65536)  # what the pipeline got while the handler sleeps
        except BlockingIOError:
            early = b""
        piped.settimeout(10)
        assert b"slept" not in early, "the other client was answered only after the slow handler"
        data = early + read_answers(piped, 7 - len(parse_responses(early)))
        assert answers(data) == [b"hello"] * 3 + [b"slept"] + [b"hello"] * 3


def read_answers(client: socket.socket, count: int) -> bytes:
    data = b""
    while data.count(b"HTTP/1.1 ") < count or len(parse_responses(data)) < count:
        chunk = client.recv(65536)
        assert chunk, "the server closed before answering"
        data += chunk
    return data
