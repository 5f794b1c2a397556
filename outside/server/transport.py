"""The byte stream a WebSocket connection runs on once the HTTP engine lets go of it.

One thread reads: a blocking handler's, with ``recv``, or the worker's event loop, with
``receive_ready``, for a connection handed back to it (``keep_in_loop``). Any thread may
``send``: writes are serialized by a lock, so a frame is never interleaved with another.
Every wait is bounded by ``timeout`` (the config's ``process_timeout``): ``recv`` raises
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

    def receive_ready(self, size: int) -> Optional[bytes]:
        """What the client has sent (reads of ``size`` bytes), without waiting: None
        when nothing is there yet, ``b""`` once it has closed (or the connection failed)."""
        sock = self._sock
        try:
            with self._tls_guard:
                data = sock.recv(size)
                if self._tls_guard is not io.NO_GUARD:  # TLS: decrypted bytes poll cannot see
                    while data and sock.pending():
                        data += sock.recv(size)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return None
        except OSError:
            return b""
        return data

    def writable(self) -> bool:
        """Whether a small write would go out now, without waiting for the client to read."""
        return io.can_write(self._sock)

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

    def keep_in_loop(self, session: Any) -> None:
        """Hand the connection back to the worker's event loop, which calls
        ``session.on_readable()`` when bytes arrive, ``session.expired(now)`` on its
        sweeps and ``session.ended()`` once the connection is closed."""
        self._connection.websocket = session

    def open_websocket(self) -> bool:
        """Count this connection among the worker's open WebSockets; False at ``max_websockets``."""
        return self._connection.worker.open_websocket()

    def close_websocket(self) -> None:
        """The WebSocket counted by ``open_websocket`` is over (its stop callback too).

        Takes no lock of this transport: the loop's sweep calls it for a connection it
        dropped while another thread may still be stuck writing to it."""
        self._cancel_stop_callback()
        self._connection.worker.close_websocket()

    def release_thread(self) -> bool:
        """Take the calling thread out of the worker's pool of handler threads for as
        long as it runs this connection; False if the worker cannot spare it."""
        return self._connection.worker.release_thread()

    def close(self) -> None:
        """Close the connection (idempotent; the engine also closes it when the handler returns)."""
        self._cancel_stop_callback()
        with self._send_lock:
            self._connection.close_socket()
        self._connection.close()  # outside the lock: it may run the route's exit handler

    @property
    def closed(self) -> bool:
        return self._connection.closed
