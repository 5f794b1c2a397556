"""The two WebSocket adapters in process, over ``socket.socketpair()``: no server.

``serve_websocket`` runs the upgrade over ``PairTransport``, the server end of the pair
standing in for the server's ``Transport`` (it implements the adapters' transport
protocols and records what the host is asked to do). The other end is a client made
of the sans-I/O core (``WebSocketProtocol(is_client=True)``). A blocking route's
handler runs on a thread, as in the server; for an event-driven route the test is the
event loop: it calls the session's ``on_readable``, ``expired`` and ``ended``.
"""
from __future__ import annotations

import base64
import os
import select
import socket
import threading
import time
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from outside import WebSocket
from outside.server.websocket.blocking import CLOSE_TIMEOUT, WebSocketConnection
from outside.server.websocket.event import EventDrivenSession
from outside.server.websocket.upgrade import serve_websocket
from outside.websocket.errors import (
    GOING_AWAY,
    MESSAGE_TOO_BIG,
    NORMAL_CLOSURE,
    PROTOCOL_ERROR,
    ConnectionEnded,
)
from outside.websocket.frames import OP_BINARY, OP_CONTINUATION, OP_PING, OP_TEXT
from outside.websocket.protocol import (
    BinaryMessage,
    Close,
    Ping,
    Pong,
    TextMessage,
    WebSocketProtocol,
)
from outside.websocket.twins import WebSocketFrames

MODES = ["blocking", "events"]
WAIT = 5.0  # seconds any single step may take before the test fails


class PairTransport:
    """The server end of a socketpair with the ``Transport`` API the adapters use.

    ``recv`` waits at most ``POLL`` seconds at a time (raising ``TimeoutError``), so a
    connection's idle timeout is decided by its clock, not by the wait. ``close`` ends
    an event-driven session the way the server's connection does.
    """

    POLL = 0.02

    def __init__(self, sock: socket.socket, initial_data: bytes = b"",
                 timeout: float = 0.0) -> None:
        self.sock = sock
        self.initial_data = initial_data
        self.timeout = timeout
        self.app = SimpleNamespace(error_response=self._error_response)
        self.session: EventDrivenSession | None = None
        self.responses: list[int] = []
        self.websockets = 0          # open_websocket minus close_websocket
        self.stop_callbacks: list[Callable[[], None]] = []
        self.can_write = True
        self._closed = False
        self._send_lock = threading.Lock()

    # --- the stream ---

    def recv(self, size: int | None = None, timeout: float | None = None) -> bytes:
        if self._closed:
            return b""
        ready, _, _ = select.select([self.sock], [], [], min(timeout or self.POLL, self.POLL))
        if not ready:
            raise TimeoutError
        try:
            return self.sock.recv(size or 65536)
        except OSError:
            return b""

    def receive_ready(self, size: int) -> bytes | None:
        try:
            return self.sock.recv(size, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return None
        except OSError:
            return b""

    def writable(self) -> bool:
        return self.can_write

    def send(self, data: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(data)

    def send_pieces(self, pieces: Any) -> None:
        with self._send_lock:
            for piece in pieces:
                self.sock.sendall(piece)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            with self._send_lock:
                self.sock.close()
        if self.session is not None:  # as Connection.close does: each time, the session ends once
            self.session.ended()

    def abort(self) -> None:
        self._closed = True
        self.sock.close()  # idempotent, like Transport.abort: no lock, no session end

    @property
    def closed(self) -> bool:
        return self._closed

    # --- the host ---

    def send_response(self, response: Any, request: Any) -> None:
        self.responses.append(response.status)
        self.close()

    def on_server_stop(self, callback: Callable[[], None]) -> None:
        self.stop_callbacks.append(callback)

    def keep_in_loop(self, session: EventDrivenSession) -> None:
        self.session = session

    def open_websocket(self) -> bool:
        self.websockets += 1
        return True

    def close_websocket(self) -> None:
        self.websockets -= 1

    def release_thread(self) -> bool:
        return True

    @staticmethod
    def _error_response(status: int, request: Any, reason: str) -> Any:
        return SimpleNamespace(status=status, headers={})


class Client:
    """The client end: the sans-I/O core as a client, over a blocking socket."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.sock.settimeout(WAIT)
        self.protocol = WebSocketProtocol(is_client=True, max_size=None)
        self.events: list[Any] = []
        self.eof = False

    def send_text(self, text: str) -> None:
        self.sock.sendall(self.protocol.send_text(text))

    def send_binary(self, data: bytes) -> None:
        self.sock.sendall(self.protocol.send_binary(data))

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self, code: int = NORMAL_CLOSURE, reason: str = "") -> None:
        self.sock.sendall(self.protocol.send_close(code, reason))

    def next_event(self) -> Any:
        """The next event from the server (pongs owed are sent on the way)."""
        while not self.events:
            if self.eof:
                raise AssertionError("the server closed the stream")
            data = self.sock.recv(65536)
            if not data:
                self.eof = True
                continue
            self.events.extend(self.protocol.receive_data(data))
            reply = self.protocol.data_to_send()
            if reply:
                try:
                    self.sock.sendall(reply)
                except (BrokenPipeError, ConnectionResetError):  # it failed us and left
                    pass
        return self.events.pop(0)

    def next_message(self) -> Any:
        while True:
            event = self.next_event()
            if isinstance(event, (TextMessage, BinaryMessage)):
                return event
            assert not isinstance(event, Close), f"closed with {event.code} {event.reason!r}"

    def next_close(self) -> Close:
        while True:
            event = self.next_event()
            if isinstance(event, Close):
                return event

    def wait_eof(self) -> None:
        """Read until the server closes the stream (what arrives is dropped). A server
        that failed the connection may close with our bytes unread: a reset, also the end."""
        try:
            while self.sock.recv(65536):
                pass
        except ConnectionResetError:
            pass


def masked_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    return WebSocketFrames.serialize_frame(opcode, payload, fin, False, os.urandom(4))


def handshake_request() -> Any:
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    headers = [("Host", "example.test"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
               ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]
    return SimpleNamespace(method="GET", version="HTTP/1.1", header_list=headers,
                           url="/ws", address=("127.0.0.1", 50000))


class Exits:
    """An on_exit handler that counts its calls and remembers how each connection ended."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self.done = threading.Event()

    def __call__(self, connection: WebSocketConnection) -> None:
        self.calls.append((connection.close_code, connection.close_reason))
        self.done.set()


class Run:
    """One connection of ``route`` in ``mode``: the client, the transport, the exits."""

    def __init__(self, route: WebSocket, transport_timeout: float = 0.0) -> None:
        self.route = route
        self.exits = Exits()
        route.on_exit(self.exits)
        client_sock, server_sock = socket.socketpair()
        self.client = Client(client_sock)
        self.transport = PairTransport(server_sock, timeout=transport_timeout)
        self.errors: list[BaseException] = []
        self.thread: threading.Thread | None = None
        if route.message_handler is None:  # blocking: the handler's own thread
            self.thread = threading.Thread(target=self._serve, daemon=True)
            self.thread.start()
        else:
            self._serve()
            assert self.transport.session is not None
        head = b""
        while b"\r\n\r\n" not in head:
            head += client_sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101 ")

    def _serve(self) -> None:
        try:
            serve_websocket(self.route, handshake_request(), self.transport)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            self.errors.append(exc)

    @property
    def session(self) -> EventDrivenSession:
        assert self.transport.session is not None
        return self.transport.session

    def pump(self, wait: float = 0.2) -> None:
        """The event loop's part, for an event-driven route: read what has arrived."""
        if self.transport.session is None:
            return
        deadline = time.monotonic() + wait
        while not self.transport.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            ready, _, _ = select.select([self.transport.sock], [], [], remaining)
            if not ready:
                return
            self.session.on_readable()

    def finish(self) -> None:
        """Wait until the connection is over; then the exit handler has run exactly once."""
        deadline = time.monotonic() + WAIT
        while not self.exits.done.is_set() and time.monotonic() < deadline:
            self.pump(0.05)
            self.exits.done.wait(0.01)
        if self.thread is not None:
            self.thread.join(WAIT)
            assert not self.thread.is_alive()
        if self.transport.session is not None:  # the loop may report the close again
            self.transport.close()
        assert not self.errors
        assert self.exits.done.is_set(), "the connection did not end"
        assert len(self.exits.calls) == 1
        assert self.transport.websockets == 0
        assert self.transport.closed

    def close_client(self) -> None:
        self.client.sock.close()


def echo_route(mode: str, **options: Any) -> WebSocket:
    route = WebSocket(**options)
    if mode == "blocking":
        @route.on_connection
        def echo(connection: WebSocketConnection) -> None:
            for message in connection:
                connection.send(message)
    else:
        @route.on_message
        def reply(connection: WebSocketConnection, message: Any) -> None:
            connection.send(message)
    return route


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_messages_both_ways(mode: str) -> None:
    run = Run(echo_route(mode))
    client = run.client
    large = os.urandom(200_000)  # sent as a header and the payload (gathered write)
    for message in ["hello", "ünïcode ✓", "", b"\x00\x01binary", b"", large]:
        if isinstance(message, str):
            client.send_text(message)
        else:
            client.send_binary(message)
        run.pump()
        received = client.next_message()
        if isinstance(message, str):
            assert received == TextMessage(message)
        else:
            assert received == BinaryMessage(message)
    client.close(NORMAL_CLOSURE, "bye")
    run.pump()
    assert client.next_close().code == NORMAL_CLOSURE
    run.finish()
    assert run.exits.calls == [(NORMAL_CLOSURE, "bye")]


def test_fragmented_message_with_a_ping_inside(mode: str) -> None:
    run = Run(echo_route(mode))
    client = run.client
    client.send_raw(masked_frame(OP_TEXT, b"frag", fin=False))
    client.send_raw(masked_frame(OP_PING, b"between"))
    client.send_raw(masked_frame(OP_CONTINUATION, b"mented ", fin=False))
    client.send_raw(masked_frame(OP_CONTINUATION, "✓".encode(), fin=True))
    client.send_raw(masked_frame(OP_BINARY, b"\x01\x02", fin=False))
    client.send_raw(masked_frame(OP_CONTINUATION, b"\x03", fin=True))
    run.pump()
    assert client.next_event() == Pong(b"between")  # answered before the message ended
    assert client.next_message() == TextMessage("fragmented ✓")
    assert client.next_message() == BinaryMessage(b"\x01\x02\x03")
    client.close()
    run.pump()
    client.next_close()
    run.finish()


def test_server_ping_gets_the_clients_pong(mode: str) -> None:
    route = WebSocket()
    pinged = threading.Event()
    if mode == "blocking":
        @route.on_connection
        def ping(connection: WebSocketConnection) -> None:
            connection.ping(b"are you there")
            pinged.set()
            for message in connection:
                connection.send(message)
    else:
        @route.on_connection
        def greet(connection: WebSocketConnection) -> None:
            connection.ping(b"are you there")
            pinged.set()

        route.on_message(lambda connection, message: connection.send(message))
    run = Run(route)
    assert pinged.wait(WAIT)
    assert run.client.next_event() == Ping(b"are you there")  # its pong is sent back
    run.client.send_text("after the pong")
    run.pump()
    assert run.client.next_message() == TextMessage("after the pong")
    run.client.close()
    run.pump()
    run.client.next_close()
    run.finish()


def test_server_starts_the_close_handshake(mode: str) -> None:
    route = WebSocket()
    if mode == "blocking":
        @route.on_connection
        def once(connection: WebSocketConnection) -> None:
            connection.send(connection.recv_message())
            connection.close(4000, "done here")
            with pytest.raises(ConnectionEnded):
                connection.recv()
    else:
        @route.on_message
        def once(connection: WebSocketConnection, message: Any) -> None:
            connection.send(message)
            connection.close(4000, "done here")
    run = Run(route)
    run.client.send_text("one")
    run.client.send_text("dropped: it comes after the server's close")
    run.pump()
    assert run.client.next_message() == TextMessage("one")
    close = run.client.next_close()
    assert (close.code, close.reason) == (4000, "done here")
    assert run.client.events == []  # nothing after the close frame
    run.pump()  # the client's echo (sent by next_close) completes the handshake
    run.client.wait_eof()
    run.finish()
    assert run.exits.calls == [(4000, "")]  # the client echoed our code


def test_client_starts_the_close_handshake(mode: str) -> None:
    run = Run(echo_route(mode))
    run.client.close(4321, "leaving")
    run.pump()
    close = run.client.next_close()
    assert close.code == 4321  # echoed
    run.client.wait_eof()  # the server closes the stream after the handshake
    run.finish()
    assert run.exits.calls == [(4321, "leaving")]


def test_oversize_message_closes_with_1009(mode: str) -> None:
    run = Run(echo_route(mode, max_message_size=100))
    run.client.send_binary(b"x" * 100)  # at the limit: fine
    run.pump()
    assert run.client.next_message() == BinaryMessage(b"x" * 100)
    run.client.send_binary(b"x" * 101)
    run.pump()
    assert run.client.next_close().code == MESSAGE_TOO_BIG
    run.client.wait_eof()
    run.finish()


def test_unmasked_frame_closes_with_1002(mode: str) -> None:
    route = WebSocket()
    received: list[Any] = []
    if mode == "blocking":
        route.on_connection(lambda connection: received.extend(connection))
    else:
        route.on_message(lambda connection, message: received.append(message))
    run = Run(route)
    run.client.send_raw(masked_frame(OP_TEXT, b"before") +
                        WebSocketFrames.serialize_frame(OP_TEXT, b"unmasked"))
    run.pump()
    close = run.client.next_close()
    assert (close.code, close.reason) == (PROTOCOL_ERROR, "unmasked frame from a client")
    run.client.wait_eof()
    run.finish()
    assert received == ["before"]  # what came whole before the bad frame is still delivered


def test_client_that_vanishes_ends_the_connection(mode: str) -> None:
    run = Run(echo_route(mode))
    run.close_client()
    run.pump()
    run.finish()
    assert run.exits.calls == [(1006, "")]


def test_exit_from_another_thread(mode: str) -> None:
    route = WebSocket()
    opened: list[WebSocketConnection] = []
    if mode == "blocking":
        @route.on_connection
        def keep(connection: WebSocketConnection) -> None:
            opened.append(connection)
            for message in connection:
                connection.send(message)
    else:
        route.on_connection(opened.append)
        route.on_message(lambda connection, message: connection.send(message))
    run = Run(route)
    deadline = time.monotonic() + WAIT
    while not opened and time.monotonic() < deadline:
        time.sleep(0.01)
    other = threading.Thread(target=opened[0].exit)  # not the handler's thread: no raise
    other.start()
    other.join(WAIT)
    assert run.client.next_close().code == NORMAL_CLOSURE  # (the client's echo went back)
    run.pump()
    run.finish()
    assert opened[0].closed


def test_server_stop_callback_closes_with_1001(mode: str) -> None:
    run = Run(echo_route(mode))
    deadline = time.monotonic() + WAIT  # (registered just after the 101 is sent)
    while not run.transport.stop_callbacks and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(run.transport.stop_callbacks) == 1
    run.transport.stop_callbacks[0]()
    assert run.client.next_close().code == GOING_AWAY  # (the client's echo went back)
    run.pump()
    run.finish()


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def direct(mode: str, timeout: float) -> Any:
    """A connection made directly with an injected clock (as ``serve_websocket`` would)."""
    client_sock, server_sock = socket.socketpair()
    transport = PairTransport(server_sock)
    clock = Clock()
    route = echo_route(mode)
    exits = Exits()
    route.on_exit(exits)
    connection = WebSocketConnection(transport, WebSocketProtocol(), handshake_request(),
                                     timeout=timeout, event_driven=mode == "events",
                                     clock=clock)
    return SimpleNamespace(client=Client(client_sock), transport=transport, clock=clock,
                           route=route, connection=connection, exits=exits)


def test_idle_timeout_in_the_event_loop_with_an_injected_clock() -> None:
    setup = direct("events", timeout=30.0)
    session = EventDrivenSession(setup.route, setup.connection, setup.transport,
                                 setup.transport.sock)
    setup.transport.keep_in_loop(session)
    session.start()
    assert session.sock is setup.transport.sock
    clock = setup.clock
    start = clock.now
    clock.now = start + 29
    assert not session.expired(clock.now)
    setup.client.send_text("activity")
    session.on_readable()
    assert setup.client.next_message() == TextMessage("activity")
    clock.now = start + 31
    assert not session.expired(clock.now)  # the message renewed the timeout
    clock.now = start + 29 + 31
    assert not session.expired(clock.now)  # due: the close goes out, then wait for the answer
    close = setup.client.next_close()
    assert (close.code, close.reason) == (GOING_AWAY, "idle timeout")
    clock.now += CLOSE_TIMEOUT - 0.5
    assert not session.expired(clock.now)
    clock.now += 1.0
    assert session.expired(clock.now)  # its close was never answered: drop it
    setup.transport.close()  # what the loop does with an expired connection
    setup.transport.close()
    assert len(setup.exits.calls) == 1


def test_idle_peer_that_reads_nothing_is_dropped_at_once() -> None:
    setup = direct("events", timeout=5.0)
    session = EventDrivenSession(setup.route, setup.connection, setup.transport)
    setup.transport.can_write = False
    assert not session.expired(setup.clock.now + 4)
    assert session.expired(setup.clock.now + 6)  # not even a close frame could go out


def test_idle_timeout_of_a_blocking_handler_with_an_injected_clock() -> None:
    client_sock, server_sock = socket.socketpair()
    client, transport, clock = Client(client_sock), PairTransport(server_sock), Clock()
    outcome: list[Any] = []

    def handler() -> None:  # made on its thread, as serve_websocket does: it reads
        connection = WebSocketConnection(transport, WebSocketProtocol(), handshake_request(),
                                         timeout=30.0, clock=clock)
        try:
            connection.recv()
        except ConnectionEnded as exc:
            outcome.append(exc.code)

    thread = threading.Thread(target=handler)
    thread.start()
    time.sleep(0.1)
    assert not outcome and thread.is_alive()  # the clock has not moved: still waiting
    clock.now += 31
    close = client.next_close()  # (its echo goes back at once)
    assert (close.code, close.reason) == (GOING_AWAY, "idle timeout")
    thread.join(WAIT)
    assert not thread.is_alive()
    assert outcome == [GOING_AWAY]  # the client's answer ended it
    assert transport.closed


def test_recv_is_refused_in_an_event_driven_route() -> None:
    setup = direct("events", timeout=0.0)
    with pytest.raises(RuntimeError, match="on_message"):
        setup.connection.recv()
