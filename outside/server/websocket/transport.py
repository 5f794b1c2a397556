"""What the WebSocket adapters need of the byte stream under them.

``outside.server.transport.Transport`` is the server's; a test gives its own over a
``socket.socketpair()``. Each adapter asks for no more than it uses: the blocking
connection a ``StreamTransport``, the event-loop session an ``EventTransport``, the
upgrade an ``UpgradeTransport``. The names are those of ``Transport``.
"""
from __future__ import annotations

import socket
from collections.abc import Sequence
from typing import Any, Callable, Protocol


class StreamTransport(Protocol):
    """A byte stream: one reader, thread-safe writers, an idempotent close."""

    initial_data: bytes  # bytes that came after the upgrade request, before any recv

    def recv(self, size: int | None = None, timeout: float | None = None) -> bytes:
        """The next bytes (blocking, raises ``TimeoutError`` after ``timeout``); b"" at the end."""

    def send(self, data: bytes) -> None:
        """Write all of ``data`` (thread-safe); ``OSError`` if the peer is gone."""

    def send_pieces(self, pieces: Sequence[Any]) -> None:
        """Write the buffers one after the other, like ``send`` of their join."""

    def close(self) -> None:
        """Close the stream (idempotent)."""

    @property
    def closed(self) -> bool:
        """Whether the stream is closed."""


class EventTransport(StreamTransport, Protocol):
    """A stream the worker's event loop reads, and that counts as an open WebSocket."""

    def receive_ready(self, size: int) -> bytes | None:
        """What has arrived, without waiting: None if nothing, b"" at the end."""

    def writable(self) -> bool:
        """Whether a small write would go out without waiting for the peer."""

    def close_websocket(self) -> None:
        """The WebSocket counted by ``open_websocket`` is over."""

    def abort(self) -> None:
        """Close at once, even under a write in progress in another thread (idempotent)."""


class UpgradeTransport(EventTransport, Protocol):
    """A connection whose request asked for an upgrade, still able to answer in HTTP."""

    app: Any          # for error responses (``app.error_response``)
    timeout: float    # the idle timeout of its WebSocket (0: none)

    @property
    def sock(self) -> socket.socket:
        """The socket the worker's selector watches once the loop owns it."""

    def send_response(self, response: Any, request: Any) -> None:
        """Answer with an HTTP response instead (a refused handshake)."""

    def on_server_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` if a graceful stop begins while the connection is open."""

    def keep_in_loop(self, session: Any) -> None:
        """Hand the connection to the event loop, which then drives ``session``."""

    def open_websocket(self) -> bool:
        """Count an open WebSocket; False at ``max_websockets``."""

    def release_thread(self) -> bool:
        """Take the calling thread out of the handler pool; False if it cannot be spared."""
