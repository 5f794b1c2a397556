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
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Callable

from . import io
from .host import Host, Watched
from .pubsub_outbox import Outbox

if TYPE_CHECKING:
    from ..request import Request
    from ..response import Response


class Transport:
    """A connection after an accepted ``Upgrade``: ``initial_data``, ``recv``, ``send``,
    ``close``, ``on_server_stop``.

    It owns the socket from the upgrade on and asks only its ``host`` (the worker) for
    the rest. ``owner`` is what the worker watches for this socket (the HTTP connection
    that served the upgrade); ``refuse(response, request)`` writes an HTTP answer
    instead of the handshake's.

    Closing is idempotent without a lock: each step (leaving the worker's watch,
    closing the socket, the session's end) may run twice harmlessly, and the session
    runs its exit handler once.
    """

    def __init__(self, host: Host, sock: socket.socket, address: Any, initial_data: bytes,
                 owner: Watched, refuse: Callable[[Response, Request], None]) -> None:
        self._host = host
        self._sock = sock
        self._owner = owner
        self._refuse = refuse
        self._session: Watched | None = None
        self._closed = False
        self._send_lock = threading.Lock()
        self.initial_data = initial_data  # bytes the client sent after the upgrade request
        self.app = host.app  # for error responses (app.error_response)
        self.address: Any = address
        self.timeout: float = host.settings.process_timeout
        self.read_size: int = host.settings.recv_size
        self._cancel_stop_callback: Callable[[], None] = _nothing
        self._tls_guard = threading.Lock() if isinstance(sock, ssl.SSLSocket) else io.NO_GUARD
        self._reader = io.Reader(sock, self._tls_guard)
        self._outbox: Outbox | None = None  # published messages not yet sent (pubsub)

    @property
    def sock(self) -> socket.socket:
        """The socket, for the worker's selector (read and write through the transport)."""
        return self._sock

    def recv(self, size: int | None = None, timeout: float | None = None) -> bytes:
        """The next bytes from the client (blocking); ``b""`` once it has closed."""
        if self._closed:
            return b""
        try:
            return self._reader.recv(size or self.read_size,
                                     self.timeout if timeout is None else timeout)
        except ConnectionError:
            return b""

    def receive_ready(self, size: int) -> bytes | None:
        """What the client has sent (reads of ``size`` bytes), without waiting: None
        when nothing is there yet, ``b""`` once it has closed (or the connection failed)."""
        sock = self._sock
        try:
            with self._tls_guard:
                data = sock.recv(size)
                if self._tls_guard is not io.NO_GUARD:  # TLS: decrypted bytes poll cannot see
                    while data and sock.pending():  # type: ignore[attr-defined]
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
            if self._outbox is not None:
                self._outbox.write_out(self.timeout)
            io.send_all(self._sock, data, self.timeout, self._tls_guard)
        if self._outbox is not None:
            self._outbox.drain()

    def send_pieces(self, pieces: Iterable[io.Buffer]) -> None:
        """Write the buffers ``pieces`` one after the other, like ``send`` of their join,
        without joining them (one ``sendmsg`` where the socket has it)."""
        with self._send_lock:
            if self._outbox is not None:
                self._outbox.write_out(self.timeout)
            io.send_pieces(self._sock, pieces, self.timeout, self._tls_guard)
        if self._outbox is not None:
            self._outbox.drain()

    def outbox(self, limit: int) -> Outbox:
        """The queue of non-blocking writes (published messages), made on first use."""
        with self._send_lock:
            if self._outbox is None:
                self._outbox = Outbox(self._sock, self._send_lock, self._tls_guard, limit)
            return self._outbox

    def send_response(self, response: Response, request: Request) -> None:
        """Answer with an HTTP response instead (a refused handshake); the connection then closes."""
        with self._send_lock:
            self._refuse(response, request)

    def on_server_stop(self, callback: Callable[[], None]) -> None:
        """Call ``callback()`` (from another thread) if a graceful stop begins while this
        connection is open, e.g. to send a WebSocket close frame with code 1001."""
        self._cancel_stop_callback = self._host.on_stop(callback)

    def keep_in_loop(self, session: Watched) -> None:
        """Hand the connection back to the worker's event loop in ``session``'s name: the
        loop calls ``session.on_readable()`` when bytes arrive, ``session.expired(now)``
        on its sweeps and ``session.ended()`` when it drops the connection; ``close()``
        calls ``session.ended()`` too."""
        self._host.replace(self._owner, session)
        self._owner = self._session = session
        if self.closed:  # closed meanwhile (the worker shutting down): the loop never reads it
            session.ended()

    @property
    def in_loop(self) -> bool:
        """Whether ``keep_in_loop`` handed the connection to the event loop."""
        return self._session is not None

    def open_websocket(self) -> bool:
        """Count this connection among the worker's open WebSockets; False at ``max_websockets``."""
        return self._host.open_websocket()

    def close_websocket(self) -> None:
        """The WebSocket counted by ``open_websocket`` is over (its stop callback too).

        Takes no lock of this transport: the loop's sweep calls it for a connection it
        dropped while another thread may still be stuck writing to it."""
        self._cancel_stop_callback()
        self._host.close_websocket()

    def release_thread(self) -> bool:
        """Take the calling thread out of the worker's pool of handler threads for as
        long as it runs this connection; False if the worker cannot spare it."""
        return self._host.release_thread()

    def close(self) -> None:
        """Close the connection once the writes in progress are out (idempotent); then
        an event-driven session ends (its exit handler runs, with no lock held)."""
        self._cancel_stop_callback()
        with self._send_lock:
            self.abort()
        if self._session is not None:
            self._session.ended()

    def abort(self) -> None:
        """Close the socket now, even under a write in progress in another thread (the
        loop's sweep must not wait behind a stuck writer); idempotent."""
        self._closed = True
        self._host.forget(self._owner)
        try:
            self._sock.close()
        except OSError:
            pass

    @property
    def closed(self) -> bool:
        return self._closed or self._sock.fileno() < 0


def _nothing() -> None:
    pass
