"""One client connection: bytes in, requests answered in order, bytes out.

The worker calls ``on_readable`` from the thread that currently owns the connection
(never two threads at once). That call reads what the socket has, feeds the parser and
serves every request that is ready, blocking if it must (a body that is still arriving,
a response larger than the socket buffer); every such wait is bounded by
``process_timeout``. In between, the connection sits in the worker's selector with a
deadline: ``header_timeout`` while a request head is arriving, ``keep_alive_timeout``
while idle, a short linger after an error.
"""
from __future__ import annotations

import logging
import socket
import ssl
import struct
import time
from collections import deque
from typing import IO, TYPE_CHECKING, Any, Deque, Optional, Union

from .. import speedups
from ..files import FileSpan
from ..http.errors import BadRequest, HttpParserError
from ..http.events import MessageEnd, RequestHead
from ..request import Request
from ..response import Response, ResponseError
from . import io
from .access_log import log_access
from .body import CONTINUE, BodyStream
from .transport import Transport
from .websocket.upgrade import serve_websocket

if TYPE_CHECKING:
    from .worker import Worker

logger = logging.getLogger("outside")

LINGER = 2.0  # seconds to drain a client's input after an error, so it reads our answer
_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST
_SERVER_ERROR = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                 b"Connection: close\r\n\r\n")


class Connection:
    """The state of one accepted socket."""

    __slots__ = ("sock", "address", "worker", "settings", "parser", "events", "error",
                 "served", "deadline", "idle", "closed", "closing", "handshaking",
                 "busy", "registered", "scheme", "handler_since", "websocket")

    def __init__(self, sock: socket.socket, address: Any, worker: "Worker") -> None:
        settings = worker.settings
        self.sock = sock
        self.address = address
        self.worker = worker
        self.settings = settings
        self.parser = speedups.RequestParser(
            max_header_size=settings.max_header_size, max_headers=settings.max_headers,
            max_url_size=settings.max_url_size, max_body_size=settings.max_body_size)
        self.events: Deque[Any] = deque()
        self.error: Optional[HttpParserError] = None
        self.served = 0
        self.deadline = time.monotonic() + settings.header_timeout  # the first head's clock
        self.idle = False          # between requests, nothing received yet
        self.closed = False
        self.closing = False       # answered a fatal error; draining input before close
        self.handshaking = isinstance(sock, ssl.SSLSocket)
        self.busy = False          # owned by a thread (the worker must not touch it)
        self.registered = False    # in the worker's selector
        self.scheme = "https" if self.handshaking else "http"
        self.handler_since = 0.0   # while the app handles a request: its start or last body read
        self.websocket: Any = None  # an event-driven WebSocket session, after its upgrade

    # -- reading -------------------------------------------------------------------

    def on_readable(self) -> None:
        """Read what has arrived and serve every complete request."""
        if self.websocket is not None:
            self.websocket.on_readable()
            return
        if self.handshaking and not self._handshake():
            if not self.closed and time.monotonic() > self.deadline:
                self.close()  # the handshake is part of the first head's time
            return
        try:
            data = self.sock.recv(self.settings.recv_size)
            if self.scheme == "https":
                while data and self.sock.pending():  # TLS: decrypted bytes the fd no longer shows
                    data += self.sock.recv(self.settings.recv_size)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        if self.closing:
            return  # lingering: drop what the client still sends
        self._feed(data)
        if self.events:
            self.serve_ready()
        elif self.idle:  # the first bytes of a new head: its clock starts now
            self.idle = False
            self.deadline = time.monotonic() + self.settings.header_timeout
        elif self.error is None and time.monotonic() > self.deadline:
            self.close()  # all the client sent is read and the head is still incomplete
            return
        if self.error is not None and not self.closed and not self.closing and not self.events:
            self._answer_error(self.error)

    def _handshake(self) -> bool:
        try:
            self.sock.do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except (ssl.SSLError, OSError) as exc:  # e.g. plain HTTP sent to the TLS port
            logger.debug("TLS handshake with %s failed: %s", self.address, exc)
            self.close()
            return False
        self.handshaking = False
        return True

    def _feed(self, data: bytes) -> None:
        if self.error is not None:
            return
        try:
            self.events.extend(self.parser.feed(data))
        except HttpParserError as exc:
            self.events.extend(_whole_requests(exc.events))
            self.error = exc

    def _pull(self) -> None:
        """Block until more of the current request arrives (for a streamed body)."""
        if self.error is not None:
            raise self.error
        data = io.receive(self.sock, self.settings.recv_size, self.settings.process_timeout)
        if not data:
            raise BadRequest("the connection closed before the body ended")
        if self.handler_since:  # the upload progresses: the handler is not stuck
            self.handler_since = time.monotonic()
        self._feed(data)
        if self.error is not None and not self.events:
            raise self.error

    # -- serving -------------------------------------------------------------------

    def serve_ready(self) -> None:
        """Answer, in order, every request whose head has arrived."""
        events = self.events
        while events and not self.closed and not self.closing:
            head = events.popleft()
            if not isinstance(head, RequestHead):  # stray piece of an abandoned body
                continue
            if not self._serve(head):
                return
        if self.worker.stopping:  # the stop was waiting for this response
            self.close()
        elif not self.closed and not self.closing:
            self.idle = True
            self.deadline = time.monotonic() + self.settings.keep_alive_timeout

    def _body(self, head: RequestHead) -> Union[bytes, BodyStream]:
        """The body as bytes when it has all arrived, else a stream the handler pulls."""
        events = self.events
        if events and type(events[0]) is MessageEnd:  # no body (the common case)
            events.popleft()
            return b""
        pieces = []
        for event in events:
            if type(event) is MessageEnd:
                for _ in range(len(pieces) + 1):
                    events.popleft()
                return b"".join(pieces)
            pieces.append(event)
        send_continue = self._send_continue if head.expect_continue else None
        return BodyStream(events, self._pull, send_continue)

    def _upgrade_data(self) -> bytes:
        """What the client sent after its upgrade request (the new protocol's first bytes)."""
        self.events.clear()  # the parser stops at an upgrade: nothing of HTTP is queued
        return self.parser.take_upgrade_data()

    def _send_continue(self) -> None:
        io.send_all(self.sock, CONTINUE, self.settings.process_timeout)

    def _serve(self, head: RequestHead) -> bool:
        """Answer one request; False when the connection must not serve another."""
        worker = self.worker
        self.served += 1
        body = self._body(head)
        request = Request.from_head(head, self.address, body, self.scheme)
        self.handler_since = time.monotonic()
        try:
            response = worker.dispatch(request)
        finally:
            self.handler_since = 0.0
        if head.upgrade and not isinstance(response, Response):
            serve_websocket(response, request, Transport(self, self._upgrade_data()))
            if self.websocket is None:  # over, unless the event loop now reads it
                self.close()
            return False
        unread = type(body) is BodyStream and not body.finished
        if unread:  # the rest of the body cannot be skipped safely: close after answering
            error = body.error or self.error  # a malformed body wins even if unread
            if isinstance(error, OSError):  # the client stalled or vanished mid-body
                self.close()
                return False
            if isinstance(error, HttpParserError):
                response = worker.app.error_response(error.status, request, error.reason)
        sent = self.send_response(response, request, self._may_continue(head) and not unread)
        if sent is not None and self.settings.post_callback is not None:
            worker.post_callback(request, response)
        if sent is not None and sent.keep_alive:
            return True
        if unread:
            self.linger()
        else:
            self.close()
        return False

    def _may_continue(self, head: RequestHead) -> bool:
        """Whether another request may follow this one on the connection."""
        settings = self.settings
        return (head.keep_alive and settings.keep_alive and not self.worker.stopping
                and self.served < settings.max_socket_reuse and not head.upgrade)

    def send_response(self, response: Response, request: Optional[Request], keep_alive: bool):
        """Render and write ``response``; the ``Rendered`` sent, or None if the write failed."""
        app = self.worker.app
        target = request if request is not None else Request.blank()  # a request that could not be parsed
        rendered = app.render(response, target, keep_alive)
        try:
            file = _open_file(rendered.body)
        except ResponseError as exc:
            logger.error("invalid response to %s: %s", request, exc)
            rendered = app.render(app.error_response(500, target, str(exc)), target, False)
            file = None
        try:
            self._write(rendered, file)
        except (OSError, EOFError) as exc:  # the client left or stalled (ClientTimeout)
            logger.debug("writing to %s failed: %s", self.address, exc)
            self.abort()
            return None
        except Exception:  # a streamed body failed half-way: the framing is lost
            logger.exception("streaming the response to %s %s failed", target.method, target.target)
            self.abort()
            return None
        finally:
            if file is not None:
                file.close()
        if self.worker.access_log:
            log_access(self.address, request, rendered)
        return rendered

    def _write(self, rendered: Any, file: Optional[IO[bytes]]) -> None:
        sock, timeout = self.sock, self.settings.process_timeout
        body = rendered.body
        if type(body) is bytes:
            data = rendered.head + body if len(body) < 65536 else None
            if data is not None:
                try:
                    sent = sock.send(data)
                except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                    sent = 0
                if sent < len(data):
                    io.send_all(sock, memoryview(data)[sent:], timeout)
                return
            io.send_all(sock, rendered.head, timeout)
            io.send_all(sock, body, timeout)
            return
        io.send_all(sock, rendered.head, timeout)
        if file is not None:
            io.send_file(sock, file, body.offset, body.count, timeout, self.settings.send_size)
            return
        for chunk in body:
            if chunk:
                io.send_all(sock, chunk, timeout)

    def _answer_error(self, error: HttpParserError) -> None:
        """Answer a malformed request with its status, then close (after a linger)."""
        response = self.worker.app.error_response(error.status, None, error.reason)
        if self.send_response(response, None, False) is not None:
            self.linger()

    # -- closing -------------------------------------------------------------------

    def linger(self) -> None:
        """Stop writing and drop input for a moment, so the client reads our last answer.

        Closing a socket that still has unread input makes the kernel send a reset,
        which can destroy the response in flight.
        """
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()
            return
        self.closing = True
        self.events.clear()
        self.deadline = time.monotonic() + LINGER

    def expired(self, now: float) -> bool:
        """Whether the sweep should close this idle connection now.

        Past its deadline with input still unread, the loop (busy handlers), not the
        client, is late: ``on_readable`` reads it and enforces the deadline itself.
        """
        if self.websocket is not None:
            return self.websocket.expired(now)
        return self.deadline < now and (self.closing or not io.has_input(self.sock))

    def cut_off_stuck_handler(self) -> None:
        """End a request whose handler made no progress for ``process_timeout``: the
        client sees the connection end; the handler's thread gets it back (and closes
        it) if the handler ever returns."""
        self.handler_since = 0.0
        logger.warning("a handler for %s ran %.0f s without returning: connection ended",
                       self.address, self.settings.process_timeout)
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # not close(): another thread owns the fd
        except OSError:
            pass

    def abort(self) -> None:
        """Close with a reset: drop what the kernel still holds for a client that
        stopped reading (a plain close would keep trickling it out)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        except OSError:
            pass
        self.close()

    def close(self) -> None:
        """Close the socket; an event-driven WebSocket's session then ends (once)."""
        self.close_socket()
        if self.websocket is not None:
            self.websocket.ended()

    def close_socket(self) -> None:
        if not self.closed:
            self.closed = True
            self.events.clear()
            self.worker.forget(self)
            try:
                self.sock.close()
            except OSError:
                pass

    def answer_server_error(self) -> None:
        """Last resort when serving failed inside the engine: a bare 500, then close."""
        try:
            self.sock.send(_SERVER_ERROR)
        except OSError:
            pass
        self.close()


def _open_file(body: Any) -> Optional[IO[bytes]]:
    """The file a response sends, opened before its head goes out, so that a file
    removed since ``render`` looked at it gets a 500 instead of a 200 cut short."""
    if not isinstance(body, FileSpan):
        return None
    try:
        return body.open()
    except OSError as exc:
        raise ResponseError(f"cannot send the file: {exc.strerror or type(exc).__name__}") from exc


def _whole_requests(events: list) -> list:
    """The events before a parser error, less a request the error cut short: a head
    whose end never came is broken, so no handler may see it (the client gets the error)."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if type(event) is MessageEnd:
            return events
        if type(event) is RequestHead:
            return events[:index]
    return events
