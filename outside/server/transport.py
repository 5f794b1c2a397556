"""The byte stream a WebSocket connection runs on once the HTTP engine lets go of it.

One thread (the WebSocket handler's) reads with ``recv``; any thread may ``send``:
writes are serialized by a lock, so a frame is never interleaved with another. Every
wait is bounded by ``timeout`` (the config's ``process_timeout``): ``recv`` raises
``ClientTimeout`` when nothing arrived for that long, ``send`` when the client read
nothing for that long.
"""
from __future__ import annotations

import socket
import ssl
import threading
from typing import TYPE_CHECKING, Any, Callable, Optional

from . import io

if TYPE_CHECKING:
    from ..request import Request
    from ..response import Response
    from .connection import Connection


class Transport:
    """A connection after an accepted ``Upgrade``: ``initial_data``, ``recv``, ``send``,
    ``close``, ``on_server_stop``."""

    def __init__(self, connection: "Connection", initial_data: bytes) -> None:
        self._connection = connection
        self._sock: socket.socket = connection.sock
        self._send_lock = threading.Lock()
        self.initial_data = initial_data  # bytes the client sent after the upgrade request
        self.app: Any = connection.worker.app  # for error responses (app.error_response)
        self.address: Any = connection.address
        self.timeout: float = connection.settings.process_timeout
        self.read_size: int = connection.settings.recv_size
        self._cancel_stop_callback: Callable[[], None] = lambda: None
        self._tls_guard = threading.Lock() if isinstance(self._sock, ssl.SSLSocket) else io.NO_GUARD
        self._reader = io.Reader(self._sock, self._tls_guard)

    def recv(self, size: Optional[int] = None, timeout: Optional[float] = None) -> bytes:
        """The next bytes from the client (blocking); ``b""`` once it has closed."""
        if self._connection.closed:
            return b""
        try:
            return self._reader.recv(size or self.read_size,
                                     self.timeout if timeout is None else timeout)
        except ConnectionError:
            return b""

    def send(self, data: bytes) -> None:
        """Write all of ``data`` (thread-safe). Raises ``OSError`` if the client is gone."""
        with self._send_lock:
            io.send_all(self._sock, data, self.timeout, self._tls_guard)

    def send_pieces(self, pieces) -> None:
        """Write the buffers ``pieces`` one after the other, like ``send`` of their join,
        without joining them (one ``sendmsg`` where the socket has it)."""
        with self._send_lock:
            io.send_pieces(self._sock, pieces, self.timeout, self._tls_guard)

    def send_response(self, response: "Response", request: "Request") -> None:
        """Answer with an HTTP response instead (a refused handshake); the connection then closes."""
        with self._send_lock:
            self._connection.send_response(response, request, False)

    def on_server_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (from another thread) if a graceful stop begins while this
        connection is open, e.g. to send a WebSocket close frame with code 1001."""
        self._cancel_stop_callback = self._connection.worker.on_stop(callback)

    def close(self) -> None:
        """Close the connection (idempotent; the engine also closes it when the handler returns)."""
        self._cancel_stop_callback()
        with self._send_lock:
            self._connection.close()

    @property
    def closed(self) -> bool:
        return self._connection.closed
