"""One client connection: bytes in, requests answered in order, bytes out.

The worker calls ``on_readable`` from the thread that currently owns the connection
(never two threads at once). That call reads what the socket has, feeds the parser and
serves every request that is ready, blocking if it must (a body that is still arriving,
a response larger than the socket buffer); every such wait is bounded by
``process_timeout``. In between, the connection sits in the worker's selector with a
deadline: ``header_timeout`` while a request head is arriving, ``keep_alive_timeout``
while idle, a short linger after an error.

The connection is in exactly one ``State``; these are all the moves it makes
(anything else raises ``IllegalTransition``)::

    HANDSHAKING  -> READING_HEAD   TLS handshake done (the first head's clock runs on)
                 -> CLOSED         handshake failed or too slow
    READING_HEAD -> SERVING        a whole request head arrived
                 -> LINGERING      a malformed head was answered (4xx/5xx)
                 -> CLOSED         header_timeout, client gone
    SERVING      -> IDLE           every queued request answered, keep-alive
                 -> LINGERING      an error after the answered requests, a body left unread
                 -> UPGRADED       the app accepted an Upgrade (the WebSocket code owns the socket)
                 -> CLOSED         Connection: close, a write failed, graceful stop
    IDLE         -> READING_HEAD   the first bytes of the next head
                 -> SERVING        a whole request arrived in one read
                 -> LINGERING      the next head is malformed
                 -> CLOSED         keep_alive_timeout, client gone, graceful stop
    LINGERING    -> CLOSED         the client closed, or LINGER passed
    UPGRADED     -> CLOSED         the handler is over, or the worker shuts down
    CLOSED       (final)

A connection starts in READING_HEAD (plain) or HANDSHAKING (TLS), with the first head's
``header_timeout`` counted from the accept. ``close`` is the only way to CLOSED: the
thread that owns the connection (or the loop, while none does) calls it, so it needs no
lock, and a second call does nothing. After an upgrade to an event-driven WebSocket the
worker watches the session instead of this object (``Host.replace``); the ``Transport``
then owns the socket and its closing.

Pipelined responses go out together. While further requests of the same read wait in
the queue, a small response (bytes, head and body) is appended to an output buffer
instead of being sent; the buffer goes out in one ``send`` with the response that
finds the queue empty, so a batch of pipelined requests costs one write. It is also
sent first before anything that may block or that must follow it on the wire: reading
a streamed body (and its ``100 Continue``), a file or streamed body, an upgrade or an
event stream, an error answer, a linger; and when it passes ``OUT_LIMIT`` bytes. The
latency rule: before a handler runs, the buffer is sent if its oldest response's
request began more than ``OUT_DELAY`` ago; so a buffered response waits at most ``OUT_DELAY``
plus the run of one handler (a slow handler in a pipeline holds back the responses
rendered just before it, never more). Nothing is buffered between two calls of
``on_readable``: the buffer is empty whenever the connection is back in the loop.
"""
from __future__ import annotations

import enum
import logging
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
from collections import deque
from typing import IO, Any, Callable, Sequence

from .. import speedups
from ..files import FileSpan
from ..http.errors import BadRequest, HttpParserError
from ..http.events import MessageEnd, RequestHead
from ..request import Request
from ..response import Rendered, Response, ResponseError
from ..sse import EventStream
from . import io
from .access_log import log_access, with_request_id
from .body import CONTINUE, BodyStream
from .host import Host
from .sse import start_event_stream
from .transport import Transport
from .websocket.upgrade import serve_websocket

logger = logging.getLogger("outside")
_get_ident = threading.get_ident

STOP_GRACE = 0.5  # seconds a kept-alive connection may still send a request once a stop began
LINGER = 2.0  # seconds to drain a client's input after an error, so it reads our answer
FEED_SLICE = 1024  # a larger read is parsed in slices, to stop at max_pipeline
SMALL_BODY = 65536  # a bytes body under this goes out in one piece with its head
OUT_LIMIT = 65536  # bytes of pipelined responses held back before they are sent anyway
OUT_DELAY = 0.002  # seconds a held-back response may wait before the next handler runs
_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST
_SERVER_ERROR = (b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
                 b"Connection: close\r\n\r\n")


class State(enum.IntEnum):  # IntEnum: hashed and compared in C on the hot path
    HANDSHAKING = 1
    READING_HEAD = 2
    SERVING = 3
    IDLE = 4
    LINGERING = 5
    UPGRADED = 6
    CLOSED = 7


HANDSHAKING, READING_HEAD, SERVING, IDLE, LINGERING, UPGRADED, CLOSED = State

_NEXT: dict[State, frozenset[State]] = {
    HANDSHAKING: frozenset({READING_HEAD, CLOSED}),
    READING_HEAD: frozenset({SERVING, LINGERING, CLOSED}),
    SERVING: frozenset({IDLE, LINGERING, UPGRADED, CLOSED}),
    IDLE: frozenset({READING_HEAD, SERVING, LINGERING, CLOSED}),
    LINGERING: frozenset({CLOSED}),
    UPGRADED: frozenset({CLOSED}),
    CLOSED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """A connection was asked to make a move its state table does not have (a bug)."""


class Connection:
    """The state of one accepted socket, served for ``host`` (see ``outside.server.host``)."""

    __slots__ = (
        "_clock",
        "address",
        "deadline",
        "error",
        "events",
        "handler_since",
        "handler_thread",
        "host",
        "out",
        "out_since",
        "out_size",
        "parser",
        "scheme",
        "send_mark",
        "served",
        "settings",
        "sock",
        "started",
        "state",
        "unparsed",
        "writing",
    )

    def __init__(self, sock: socket.socket, address: Any, host: Host,
                 clock: Callable[[], float] = time.monotonic) -> None:
        settings = host.settings
        self.sock = sock
        self.address = address
        self.host = host
        self.settings = settings
        self.parser = speedups.RequestParser(
            max_header_size=settings.max_header_size, max_headers=settings.max_headers,
            max_url_size=settings.max_url_size, max_body_size=settings.max_body_size)
        self.events: deque[Any] = deque()  # parsed, not yet served: heads, body pieces, ends
        self.unparsed = b""  # read but held back from the parser (max_pipeline queued)
        self.error: HttpParserError | None = None
        self.served = 0
        self._clock = clock
        self.deadline = clock() + settings.header_timeout  # the first head's clock
        tls = isinstance(sock, ssl.SSLSocket)
        self.state = HANDSHAKING if tls else READING_HEAD
        self.scheme = "https" if tls else "http"
        self.handler_since = 0.0   # while the app handles a request: its start or last body read
        self.started = 0.0         # when the current request's head was taken up (access log)
        self.handler_thread = 0    # the thread running the current handler (its stack if stuck)
        self.writing = False       # a response is being written (the slow-reader check)
        self.send_mark: tuple[float, int] | None = None  # (time, bytes acknowledged) for the slow-reader check
        self.out: list[bytes] = []  # rendered responses held back while the batch is served
        self.out_size = 0           # their bytes
        self.out_since = 0.0        # when the request of the first of them began

    def __repr__(self) -> str:
        return f"<Connection {self.address} {self.state.name}>"

    @property
    def closed(self) -> bool:
        return self.state is CLOSED

    def _enter(self, state: State) -> None:
        if state not in _NEXT[self.state]:
            raise IllegalTransition(f"connection {self.state.name} -> {state.name}")
        self.state = state

    # -- reading -------------------------------------------------------------------

    def on_readable(self) -> None:
        """Read what has arrived and serve every complete request."""
        if self.state is HANDSHAKING and not self._handshake():
            if self.state is HANDSHAKING and self._clock() > self.deadline:
                self.close()  # the handshake is part of the first head's time
            return
        sock = self.sock
        try:
            data = sock.recv(self.settings.recv_size)
            if self.scheme == "https":  # TLS: decrypted bytes the fd no longer shows
                while data and sock.pending():  # type: ignore[attr-defined]
                    data += sock.recv(self.settings.recv_size)
        except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return
        except OSError:
            data = b""
        state = self.state
        if not data:
            self.close()
            return
        metrics = self.host.metrics
        if metrics is not None:
            metrics.bytes_in += len(data)
        if state is LINGERING:
            return  # drop what the client still sends
        self._feed(data)
        if self.events:
            self._serve_ready()
        elif state is IDLE:  # the first bytes of a new head: its clock starts now
            self._enter(READING_HEAD)
            self.deadline = self._clock() + self.settings.header_timeout
        elif self.error is None and self._clock() > self.deadline:
            self.close()  # all the client sent is read and the head is still incomplete
            return
        if self.error is not None and not self.events and self.state in (IDLE, READING_HEAD):
            self._answer_error(self.error)

    def _handshake(self) -> bool:
        try:
            self.sock.do_handshake()  # type: ignore[attr-defined]
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            return False
        except (ssl.SSLError, OSError) as exc:  # e.g. plain HTTP sent to the TLS port
            logger.debug("TLS handshake with %s failed: %s", self.address, exc)
            self.close()
            return False
        self._enter(READING_HEAD)
        return True

    def _feed(self, data: bytes) -> None:
        """Parse ``data``, but stop queueing requests at ``max_pipeline``: the rest waits
        in ``unparsed`` (and the socket is not read) until the queue is served.

        A read larger than ``FEED_SLICE`` is parsed in slices: after one that completed
        requests, the next is sized (from their average length) to fill the room left;
        after one inside a body, the next is twice as large, so an upload costs few
        parser calls. The queue can overshoot the bound by the requests of one slice.
        """
        if self.error is not None:
            return
        if len(data) <= FEED_SLICE:  # the common case: one parser call
            try:
                self.events.extend(self.parser.feed(data))
            except HttpParserError as exc:
                self.events.extend(_whole_requests(exc.events))
                self.error = exc
            return
        limit = self.settings.max_pipeline
        view = memoryview(data)
        queued = sum(1 for event in self.events if type(event) is RequestHead)
        start, step = 0, FEED_SLICE
        while start < len(data):
            if queued >= limit:
                self.unparsed = bytes(view[start:])
                return
            new = self._parse(view[start:start + step])
            if self.error is not None:
                return
            heads = sum(1 for event in new if type(event) is RequestHead)
            queued += heads
            start += step
            step = max(256, (limit - queued) * (step // heads)) if heads else step * 2

    def _feed_unparsed(self) -> None:
        data, self.unparsed = self.unparsed, b""
        self._feed(data)

    def _parse(self, data: bytes | memoryview) -> list[Any]:
        """Feed the parser; the events it completed (those before an error, if one)."""
        try:
            events = self.parser.feed(data)
        except HttpParserError as exc:
            events = _whole_requests(exc.events)
            self.error = exc
            self.unparsed = b""
        self.events.extend(events)
        return events

    def _pull(self) -> None:
        """Block until more of the current request arrives (for a streamed body)."""
        if self.out and not self._flush():  # the client may wait for them to send the rest
            raise ConnectionAbortedError("writing the answers before this request failed")
        if self.error is not None:
            raise self.error
        if self.unparsed:
            self._feed_unparsed()
        else:
            data = io.receive(self.sock, self.settings.recv_size, self.settings.process_timeout)
            if not data:
                raise BadRequest("the connection closed before the body ended")
            metrics = self.host.metrics
            if metrics is not None:
                metrics.bytes_in += len(data)
            if self.handler_since:  # the upload progresses: the handler is not stuck
                self.handler_since = self._clock()
            self._feed(data)
        if self.error is not None and not self.events:
            raise self.error

    # -- serving -------------------------------------------------------------------

    def _serve_ready(self) -> None:
        """Answer, in order, every request whose head has arrived (and those held back
        in ``unparsed``)."""
        if SERVING not in _NEXT[self.state]:  # _enter, inlined on the hot path
            raise IllegalTransition(f"connection {self.state.name} -> SERVING")
        self.state = SERVING
        self.handler_thread = _get_ident()  # the batch's handlers run on this thread
        events = self.events
        while True:
            while events:
                head = events.popleft()
                if type(head) is not RequestHead:  # stray piece of an abandoned body
                    continue
                if not self._serve(head):
                    return
            if not self.unparsed:
                break
            self._feed_unparsed()
        if self.out and not self._flush():  # the batch ended on a stray body piece
            return
        # kept alive, even when a stop began meanwhile: the response promised it, so the
        # client may send another request now; the stop's grace bounds the wait
        self.state = IDLE  # SERVING -> IDLE, a move in the table
        self.deadline = self._clock() + (STOP_GRACE if self.host.stopping
                                         else self.settings.keep_alive_timeout)

    def _body(self, head: RequestHead) -> bytes | BodyStream:
        """The body as bytes when it has all arrived, else a stream the handler pulls
        (``_serve`` takes the common case, no body at all, itself)."""
        events = self.events
        pieces: list[bytes] = []
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
        if self.unparsed:  # an upgraded parser keeps what it is fed, untouched
            self.parser.feed(self.unparsed)
            self.unparsed = b""
        return self.parser.take_upgrade_data()

    def _send_continue(self) -> None:
        if self.out and not self._flush():  # in order: the answers before this request first
            raise ConnectionAbortedError("writing the answers before this request failed")
        io.send_all(self.sock, CONTINUE, self.settings.process_timeout)

    def _serve(self, head: RequestHead) -> bool:
        """Answer one request; False when the connection must not serve another."""
        host = self.host
        self.served += 1
        events = self.events
        if events and type(events[0]) is MessageEnd:  # no body (the common case; see _body)
            events.popleft()
            body: bytes | BodyStream = b""
        else:
            body = self._body(head)
        request = Request.from_head(head, self.address, body, self.scheme)
        self.started = self.handler_since = now = self._clock()
        if self.out and now - self.out_since > OUT_DELAY and not self._flush():
            return False
        try:
            response = host.dispatch(request)
        finally:
            self.handler_since = 0.0
        if head.upgrade and not isinstance(response, Response):
            if self.out and not self._flush():
                return False
            self._upgrade(response, request)
            return False
        if type(getattr(response, "content", None)) is EventStream:
            if self.out and not self._flush():
                return False
            self._stream_events(response, request)
            return False
        unread = type(body) is BodyStream and not body.finished
        if unread:  # the rest of the body cannot be skipped safely: close after answering
            error = body.error or self.error  # type: ignore[union-attr]  # a malformed body wins
            if isinstance(error, OSError):  # the client stalled or vanished mid-body
                self.close()
                return False
            if isinstance(error, HttpParserError):
                response = host.app.error_response(error.status, request, error.reason)
        settings = self.settings
        keep_alive = (head.keep_alive and settings.keep_alive and host.keep_alive and not unread
                      and self.served < settings.max_socket_reuse and not head.upgrade)
        sent = self.send_response(response, request, keep_alive)
        if request._files:  # uploads: their temporary files go now, whatever the handler did
            request.close()
        if sent is None:
            return False
        if settings.post_callback is not None:
            host.post_callback(request, response)
        if sent.keep_alive:
            return True
        if unread:
            self.linger()
        else:
            self.close()
        return False

    def _upgrade(self, route: Any, request: Request) -> None:
        """Hand the socket to the WebSocket code; close it when that is over, unless an
        event-driven session now sits in the worker's loop in this object's place."""
        self._enter(UPGRADED)
        transport = Transport(self.host, self.sock, self.address, self._upgrade_data(),
                              self, self._refuse_upgrade)
        serve_websocket(route, request, transport)
        if not transport.in_loop:
            self.close()

    def _stream_events(self, response: Response, request: Request) -> None:
        """Give the socket to an ``EventStream``: the worker's loop owns it from now on
        (in this object's place), or it closes here if the stream could not start."""
        self._enter(UPGRADED)
        transport = Transport(self.host, self.sock, self.address, b"", self, self._refuse_upgrade)
        start_event_stream(self.host, transport, response, request)
        if not transport.in_loop:
            self.close()

    def _refuse_upgrade(self, response: Response, request: Request) -> None:
        self.send_response(response, request, False)

    def send_response(self, response: Response, request: Request | None,
                      keep_alive: bool) -> Rendered | None:
        """Render and write ``response``; the ``Rendered`` sent, or None if the write failed."""
        host = self.host
        app = host.app
        target = request if request is not None else Request.blank()  # a request that could not be parsed
        if request is not None and host.access_log_format == "json":
            _ = request.id  # made before the head is rendered, so the response carries it
        rendered = app.render(response, target, keep_alive)
        request_id = getattr(request, "_request_id", None)  # set only when asked for (no dict made)
        if request_id is not None:
            rendered.head = with_request_id(rendered.head, request_id)
        file: IO[bytes] | None = None
        body = rendered.body
        if type(body) is bytes and len(body) < SMALL_BODY:  # the hot path: no file, no wait
            if self._write_small(rendered.head + body, rendered.keep_alive):
                self._log(request, rendered)
                return rendered
            return None
        try:
            file = _open_file(body)
        except ResponseError as exc:
            logger.error("invalid response to %s: %s", request, exc)
            rendered = app.render(app.error_response(500, target, str(exc)), target, False)
            file = None
        self.writing = True
        try:
            if self.out:  # what the batch answered so far goes first
                self._send_out()
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
            self.writing = False
            self.send_mark = None
            if file is not None:
                file.close()
        self._log(request, rendered)
        return rendered

    def _log(self, request: Request | None, rendered: Rendered) -> None:
        """The access line and the metrics of one response handed to the socket."""
        host = self.host
        if host.access_log:
            log_access(self.address, request, rendered, self.started, host.access_log_format)
        metrics = host.metrics
        if metrics is not None:
            metrics.observe(request, rendered, self.started)

    def _write_small(self, data: bytes, keep_alive: bool) -> bool:
        """Send (or hold back, see the module's docstring) one whole small response;
        False, with the connection aborted, when the write failed."""
        out = self.out
        if keep_alive and (self.events or self.unparsed):  # more of the batch follows
            if not out:
                self.out_since = self.started
            out.append(data)
            self.out_size += len(data)
            return self.out_size < OUT_LIMIT or self._flush()
        if out:
            out.append(data)
            return self._flush()
        try:  # the common case: one request, one send, no wait
            sent = self.sock.send(data)
        except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
            sent = 0
        except OSError as exc:
            return self._write_failed(exc)
        if sent == len(data):
            return True
        out.append(data[sent:])
        return self._flush()

    def _flush(self) -> bool:
        """Send the held-back responses, waiting for the client if it must; False, with
        the connection aborted, when the write failed."""
        self.writing = True
        try:
            self._send_out()
        except (OSError, EOFError) as exc:
            return self._write_failed(exc)
        finally:
            self.writing = False
            self.send_mark = None
        return True

    def _send_out(self) -> None:
        """Send the held-back responses (raises what the write raises)."""
        out = self.out
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        self.out_size = 0
        io.send_all(self.sock, data, self.settings.process_timeout)

    def _write_failed(self, exc: BaseException) -> bool:
        logger.debug("writing to %s failed: %s", self.address, exc)
        self.abort()
        return False

    def _write(self, rendered: Rendered, file: IO[bytes] | None) -> None:
        sock, timeout = self.sock, self.settings.process_timeout
        body = rendered.body
        if isinstance(body, bytes):
            io.send_all(sock, rendered.head, timeout)
            io.send_all(sock, body, timeout)
            return
        io.send_all(sock, rendered.head, timeout)
        if isinstance(body, FileSpan):
            assert file is not None, "the file of a FileSpan is opened before the head is sent"
            io.send_file(sock, file, body.offset, body.count, timeout, self.settings.send_size)
            return
        for chunk in body:
            if chunk:
                io.send_all(sock, chunk, timeout)

    def _answer_error(self, error: HttpParserError) -> None:
        """Answer a malformed request with its status, then close (after a linger)."""
        response = self.host.app.error_response(error.status, None, error.reason)
        if self.send_response(response, None, False) is not None:
            self.linger()

    # -- closing -------------------------------------------------------------------

    def linger(self) -> None:
        """Stop writing and drop input for a moment, so the client reads our last answer.

        Closing a socket that still has unread input makes the kernel send a reset,
        which can destroy the response in flight.
        """
        if self.out and not self._flush():
            return
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self.close()
            return
        self._enter(LINGERING)
        self.events.clear()
        self.unparsed = b""
        self.deadline = self._clock() + LINGER

    def expired(self, now: float) -> bool:
        """Whether the sweep should close this idle connection now.

        Past its deadline with input still unread, the loop (busy handlers), not the
        client, is late: ``on_readable`` reads it and enforces the deadline itself.
        """
        return self.deadline < now and (self.state is LINGERING or not io.has_input(self.sock))

    def cut_off_stuck_handler(self) -> None:
        """End a request whose handler made no progress for ``process_timeout``: the
        client sees the connection end; the handler's thread gets it back (and closes
        it) if the handler ever returns."""
        self.handler_since = 0.0
        frame = sys._current_frames().get(self.handler_thread)
        stack = "".join(traceback.format_stack(frame)) if frame is not None else "(unknown)\n"
        logger.warning("a handler for %s ran %.0f s without returning: connection ended; "
                       "its thread is at:\n%s", self.address, self.settings.process_timeout,
                       stack.rstrip("\n"))
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # not close(): another thread owns the fd
        except OSError:
            pass

    def cut_off_slow_reader(self, rate: float, grace: float) -> None:
        """End a response the client reads slower than ``min_send_rate``: the blocked
        write fails, and its thread resets the connection."""
        logger.warning("%s read a response slower than %g bytes/s for %g s: connection ended",
                       self.address, rate, grace)
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
        """Close the socket and leave the worker's watch (idempotent)."""
        if self.state is CLOSED:
            return
        self._enter(CLOSED)
        self.events.clear()
        self.unparsed = b""
        self.out.clear()  # only after a failed write: every other path sent it
        self.host.forget(self)
        try:
            self.sock.close()
        except OSError:
            pass

    ended = close  # what the worker calls when it drops a watched object

    def answer_server_error(self) -> None:
        """Last resort when serving failed inside the engine: a bare 500, then close."""
        try:
            self.sock.send(b"".join(self.out) + _SERVER_ERROR)  # the batch's answers first
        except OSError:
            pass
        self.close()


def _open_file(body: object) -> IO[bytes] | None:
    """The file a response sends, opened before its head goes out, so that a file
    removed since ``render`` looked at it gets a 500 instead of a 200 cut short."""
    if not isinstance(body, FileSpan):
        return None
    try:
        return body.open()
    except OSError as exc:
        raise ResponseError(f"cannot send the file: {exc.strerror or type(exc).__name__}") from exc


def _whole_requests(events: Sequence[Any]) -> list[Any]:
    """The events before a parser error, less a request the error cut short: a head
    whose end never came is broken, so no handler may see it (the client gets the error)."""
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if type(event) is MessageEnd:
            return list(events)
        if type(event) is RequestHead:
            return list(events[:index])
    return list(events)
