"""``WebSocketConnection``: the blocking, thread-safe face of one WebSocket connection.

It drives a sans-I/O ``WebSocketProtocol`` over a byte stream (a ``StreamTransport``:
the server's ``outside.server.transport.Transport``, or a test's). One thread reads: the
handler's, or, for an ``event_driven`` connection (a route with ``on_message``), the
server's event loop, whose ``EventDrivenSession`` (``.event``) feeds it bytes through
the underscore methods below, which handlers do not see. Any thread may send, ping or close:
one lock covers each protocol call together with the write of its bytes, so frames and
the compression context stay in order.

When the connection ends (the peer's close frame, our own close, a protocol error, the
client vanishing, the idle timeout) ``recv`` raises ``ConnectionEnded``. The server
catches it, so the usual ``while True: connection.send(connection.recv())`` handler
simply stops there; ``for message in connection`` stops without raising.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Any, Callable, Union

from ...websocket.errors import (
    ABNORMAL_CLOSURE,
    GOING_AWAY,
    NORMAL_CLOSURE,
    ConnectionClosed,
    ConnectionEnded,
    ProtocolError,
)
from ...websocket.protocol import BinaryMessage, State, TextMessage, WebSocketProtocol
from .transport import StreamTransport

# Seconds to wait for the peer's close frame once ours is sent (RFC 6455 section 7.1.1
# wants the server to close TCP after the handshake, but not to hang on a silent peer).
CLOSE_TIMEOUT = 2.0
# Reads are SMALL_READ bytes while messages are small, READ_SIZE once a read fills its
# buffer (a large message streaming in: fewer system calls). Small reads matter: glibc
# gives a buffer of 128 KiB or more a fresh mmap and munmap on every read.
SMALL_READ = 64 * 1024
READ_SIZE = 256 * 1024
# Binary messages at least this long are written as a header and the payload (one
# system call where the transport can gather): no copy of the payload into a frame.
GATHER_SIZE = 64 * 1024
# How long one wait lasts when there is no idle timeout (the wait is simply renewed).
_NO_TIMEOUT_WAIT = 3600.0


def next_read_size(received: int) -> int:
    """The size of the read after one that returned ``received`` bytes."""
    return READ_SIZE if received >= SMALL_READ else SMALL_READ


Data = Union[str, bytes, bytearray, memoryview]


class WebSocketConnection:
    """One open WebSocket connection, made by the server for the route's handler.

    ``request``: the handshake's ``Request``. ``subprotocol``: the one agreed, or None.
    ``timeout``: seconds without any message sent or received after which the
    connection is closed (code 1001); None: never. ``event_driven``: the server's event
    loop reads the connection and hands its messages to the route's ``on_message``
    handler; ``recv`` is then not available. ``clock``: where the idle timeout reads
    the time (``time.monotonic``; a test may pass its own).
    """

    def __init__(self, transport: StreamTransport, protocol: WebSocketProtocol, request: Any,
                 subprotocol: str | None = None, timeout: float | None = None,
                 event_driven: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.request = request
        self.subprotocol = subprotocol
        self.timeout = timeout
        self._transport = transport
        self._protocol = protocol
        self._lock = threading.Lock()  # protocol calls plus the writes of their bytes
        self._events: deque[Any] = deque()
        self._ended: ConnectionEnded | None = None
        self._clock = clock
        self._last_activity = clock()
        self._close_deadline = 0.0  # set when our close frame is sent
        self._read_size = SMALL_READ
        # the handler's thread, the one that reads (None: the event loop reads)
        self._reader = None if event_driven else threading.get_ident()
        self._send_pieces = transport.send_pieces  # gathered writes
        self._subscriber: Any = None  # made by the first subscribe()
        initial = transport.initial_data
        if initial:
            self._feed(initial)

    # --- receiving (the handler's thread) ---

    def recv(self) -> bytes:
        """The next whole message as bytes (text arrives UTF-8 encoded); blocks.

        Raises ``ConnectionEnded`` once the connection is over.
        """
        message = self.recv_message()
        return message.encode("utf-8") if isinstance(message, str) else message

    def recv_message(self) -> str | bytes:
        """The next whole message: ``str`` for text, ``bytes`` for binary; blocks.

        Pings are answered on the way. Raises ``ConnectionEnded`` once the connection
        is over.
        """
        if self._reader is None:
            raise RuntimeError("this WebSocket route delivers messages to its on_message "
                               "handler: recv() is for on_connection handlers")
        events = self._events
        while True:
            while events:
                event = events.popleft()
                kind = type(event)
                if kind is BinaryMessage:
                    return event.data
                if kind is TextMessage:
                    return event.text
                if kind is ConnectionEnded:  # queued after a protocol error
                    self._end(event.code, event.reason)
            if self._ended is not None:
                raise self._ended
            self._read()

    def __iter__(self) -> Iterator[str | bytes]:
        """Each incoming message (``str`` or ``bytes``) until the connection ends."""
        while True:
            try:
                yield self.recv_message()
            except ConnectionEnded:
                return

    def _read(self) -> None:
        """Wait for bytes from the peer and turn them into events (or end the connection)."""
        protocol = self._protocol
        if protocol.state is State.CLOSED:  # close frames exchanged, or the peer is gone
            self._end(protocol.close_code or ABNORMAL_CLOSURE, protocol.close_reason or "")
            return
        data = self._receive()
        if data is None:
            return
        if not data:
            self._protocol.receive_eof()
            self._end(ABNORMAL_CLOSURE)
            return
        self._feed(data)

    def _receive(self) -> bytes | None:
        """Bytes (``b""`` at the end of the stream), or None when the idle timeout ended it."""
        closing = self._protocol.state is State.CLOSING
        while True:
            if closing:
                remaining = self._close_deadline - self._clock()
            elif self.timeout is not None:
                remaining = self._last_activity + self.timeout - self._clock()
            else:
                remaining = _NO_TIMEOUT_WAIT
            if remaining <= 0:
                break
            try:
                data = self._transport.recv(self._read_size, remaining)
            except TimeoutError:
                continue  # a send may have happened meanwhile: the loop checks again
            except OSError:
                data = b""
            self._read_size = next_read_size(len(data))
            self._last_activity = self._clock()
            return data
        if closing:  # the peer never answered our close
            self._end(ABNORMAL_CLOSURE)
        else:
            self._close_and_wait(GOING_AWAY, "idle timeout")
        return None

    def _feed(self, data: bytes) -> None:
        failure = None
        with self._lock:
            try:
                events = self._protocol.receive_data(data)
            except ProtocolError as exc:  # the close frame with its code is queued
                events, failure = exc.events, exc
            reply = self._protocol.data_to_send()
            if reply:
                try:
                    self._write(reply)
                except ConnectionEnded:  # the peer is gone: the next read ends the connection
                    pass
        self._events.extend(events)
        if failure is not None:
            self._events.append(ConnectionEnded(failure.code, failure.reason))

    def _end(self, code: int, reason: str = "") -> None:
        """The connection is over: close the stream (the server speaks last, RFC 6455 7.1.1).

        No lock is held: closing may run the route's exit handler, which may send on
        other connections (the transport serializes the close with writes itself).
        """
        if self._ended is None:
            self._ended = ConnectionEnded(code, reason)
            self._leave_topics()
            self._transport.close()

    # --- the event loop's side (event_driven connections; outside.server.websocket.event) ---

    def _take_messages(self, data: bytes = b"") -> list[str | bytes]:
        """Feed ``data`` from the peer (if any); return the whole messages waiting.

        Pings are answered on the way. A protocol error stays queued behind the messages
        before it: ``_end_if_over`` acts on it once they are handled.
        """
        if data:
            self._last_activity = self._clock()
            self._feed(data)
        messages: list[str | bytes] = []
        events = self._events
        while events:
            kind = type(events[0])
            if kind is ConnectionEnded:
                break
            event = events.popleft()
            if kind is BinaryMessage:
                messages.append(event.data)
            elif kind is TextMessage:
                messages.append(event.text)
        return messages

    def _lost(self) -> None:
        """The stream ended (or failed) without the close handshake: the connection is over."""
        self._protocol.receive_eof()
        self._end(ABNORMAL_CLOSURE)

    def _end_if_over(self) -> bool:
        """End the connection if its close handshake is done or a protocol error ended
        it; whether it is over."""
        if self._ended is None:
            if self._events and type(self._events[0]) is ConnectionEnded:
                failure = self._events.popleft()
                self._end(failure.code, failure.reason)
            elif self._protocol.state is State.CLOSED:
                self._end(self._protocol.close_code or ABNORMAL_CLOSURE,
                          self._protocol.close_reason or "")
        return self._ended is not None

    def _check_timeouts(self, now: float, writable: Callable[[], bool]) -> bool:
        """Send the idle timeout's close frame when it is due; True when the caller
        should drop the connection: the peer has not answered our close frame within
        ``CLOSE_TIMEOUT``, a write failed, or the idle peer reads nothing (``writable()``
        is false), so that not even a close frame could go out without waiting."""
        state = self._protocol.state
        if state is State.CLOSED:  # a write failed: the peer is gone
            return True
        if state is State.CLOSING:
            return now > self._close_deadline
        if self.timeout is not None and now > self._last_activity + self.timeout:
            if not writable():
                return True
            self._send_close(GOING_AWAY, "idle timeout")
        return False

    # --- sending (any thread) ---

    def send(self, data: Data) -> None:
        """Send one message: ``str`` as a text frame, bytes-like as a binary frame.

        Raises ``ConnectionEnded`` when the connection is over (or the write failed).
        """
        protocol = self._protocol
        send: Callable[[Any], None] | None = None
        frame: Any
        with self._lock:
            try:
                if isinstance(data, str):
                    frame = protocol.send_text(data)
                elif len(data) >= GATHER_SIZE:
                    frame, send = protocol.send_binary_pieces(data), self._send_pieces
                else:
                    frame = protocol.send_binary(data)
            except ConnectionClosed:
                raise self._ended_error() from None
            self._write(frame, send)

    def ping(self, payload: bytes = b"") -> None:
        """Send a ping (at most 125 bytes); the peer's pong needs no handling."""
        with self._lock:
            try:
                frame = self._protocol.send_ping(payload)
            except ConnectionClosed:
                raise self._ended_error() from None
            self._write(frame)

    def close(self, code: int = NORMAL_CLOSURE, reason: str = "") -> None:
        """Start the close handshake with ``code`` and ``reason``.

        On the handler's thread this waits (``CLOSE_TIMEOUT`` at most) for the peer's
        close frame and closes the stream; later ``recv`` calls raise ``ConnectionEnded``.
        From another thread it only sends the close frame: the handler's ``recv`` ends
        when the peer answers. Does nothing on a connection already closing or over.
        """
        if threading.get_ident() == self._reader:
            self._close_and_wait(code, reason)
        else:
            self._send_close(code, reason)

    def exit(self) -> None:
        """Close the connection normally and end the handler (the 1.5.x API).

        On the handler's thread it raises ``ConnectionEnded``, which the server catches;
        from another thread it works like ``close()``.
        """
        self.close()
        if threading.get_ident() == self._reader:
            raise self._ended_error()

    def _close_and_wait(self, code: int, reason: str) -> None:
        self._send_close(code, reason)
        while self._ended is None:  # messages still arriving are dropped
            try:
                self.recv_message()
            except ConnectionEnded:
                pass

    def _send_close(self, code: int, reason: str) -> None:
        with self._lock:
            frame = self._protocol.send_close(code, reason)
            if not frame:
                return
            self._close_deadline = self._clock() + CLOSE_TIMEOUT
            try:
                self._write(frame)
            except ConnectionEnded:  # the peer is gone: the reader ends the connection
                pass

    def _write(self, data: Any, send: Callable[[Any], None] | None = None) -> None:
        """Write under ``_lock``; a failed write means the peer is gone."""
        try:
            (send or self._transport.send)(data)
        except OSError:
            self._protocol.receive_eof()
            raise ConnectionEnded(ABNORMAL_CLOSURE) from None
        self._last_activity = self._clock()

    def _ended_error(self) -> ConnectionEnded:
        if self._ended is not None:
            return self._ended
        protocol = self._protocol
        return ConnectionEnded(protocol.close_code or ABNORMAL_CLOSURE, protocol.close_reason or "")

    # --- publish/subscribe (outside.pubsub) ---

    def subscribe(self, topic: str) -> None:
        """Receive every message ``server.publish(topic, ...)`` sends from now on, until
        ``unsubscribe(topic)`` or the connection's end. Raises ``TypeError`` or
        ``ValueError`` for a topic that is not a ``str`` of 1 to 256 characters."""
        from ...pubsub import hub
        subscriber = self._subscriber
        if subscriber is None:
            from .subscriber import WebSocketSubscriber
            subscriber = self._subscriber = WebSocketSubscriber(self)
        hub.subscribe(topic, subscriber)
        if self._ended is not None:  # it ended meanwhile: leave again
            hub.leave_all(subscriber)

    def unsubscribe(self, topic: str) -> None:
        """Stop receiving ``topic`` (nothing happens if it was not subscribed)."""
        from ...pubsub import check_topic, hub
        check_topic(topic)
        if self._subscriber is not None:
            hub.unsubscribe(topic, self._subscriber)

    @property
    def topics(self) -> frozenset[str]:
        """The topics this connection is subscribed to."""
        if self._subscriber is None:
            return frozenset()
        from ...pubsub import hub
        return hub.topics_of(self._subscriber)

    def _leave_topics(self) -> None:
        if self._subscriber is not None:
            from ...pubsub import hub
            hub.leave_all(self._subscriber)

    # --- state ---

    @property
    def closed(self) -> bool:
        """Whether the close handshake has started or the connection is over."""
        return self._ended is not None or self._protocol.state is not State.OPEN

    @property
    def _server_closed(self) -> bool:
        """Whether this side started the close handshake (messages after it are dropped)."""
        return self._close_deadline > 0.0

    @property
    def close_code(self) -> int | None:
        """The peer's close code (1005: none given, 1006: it vanished), None while open."""
        return self._protocol.close_code

    @property
    def close_reason(self) -> str | None:
        """The peer's close reason, None while open."""
        return self._protocol.close_reason

    @property
    def address(self) -> Any:
        """The client's address, as the handshake request has it."""
        return getattr(self.request, "address", None)

    def __repr__(self) -> str:
        state = "ended" if self._ended is not None else self._protocol.state.value
        return f"<WebSocketConnection {self.address} {state}>"
