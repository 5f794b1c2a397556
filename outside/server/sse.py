"""Where an ``EventStream`` response leaves the request/response cycle: the event loop owns it.

``start_event_stream`` runs in the thread that served the request. It writes the response
head (chunked on HTTP/1.1, delimited by the connection's close on HTTP/1.0; always the
connection's last response), then hands the connection to the worker's loop with a
``StreamSession`` (``Transport.keep_in_loop``) and returns: the thread goes back to the pool.

From then on every write is non-blocking. ``EventStream.send`` (any thread) formats,
compresses and frames the event and sends what the socket takes at once; the rest waits
in the session's buffer, which the loop's thread writes out on its sweeps (and every
later ``send`` first). A buffer past ``sse_max_buffer`` drops the client (reset). The
loop reads the socket only to notice the client's end of stream. The sweep also sends a
heartbeat comment after ``sse_heartbeat`` seconds of silence. A graceful server stop
closes every stream (its last chunk), so the stop does not wait for the clients.
"""
from __future__ import annotations

import logging
import socket
import ssl
import struct
import time
from typing import TYPE_CHECKING, Iterator, Optional

from ..http.compression import GZIP, StreamCompressor, choose_encoding
from ..http.sse import CONTENT_TYPE, HEARTBEAT
from ..response import Response
from .access_log import log_access
from .host import Host
from .transport import Transport

if TYPE_CHECKING:
    from ..request import Request
    from ..sse import EventStream

logger = logging.getLogger("outside")

_LAST_CHUNK = b"0\r\n\r\n"
_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST
_WOULD_BLOCK = (BlockingIOError, InterruptedError, ssl.SSLWantWriteError, ssl.SSLWantReadError)


def start_event_stream(host: Host, transport: Transport, response: Response, request: Request) -> None:
    """Send the head of the ``EventStream`` response and give the stream to the loop
    (``transport.in_loop`` is then true; otherwise the caller closes the connection)."""
    stream: EventStream = response.content
    app = host.app
    if stream.taken:  # one stream, one client
        logger.error("an EventStream was returned twice (%s): 500", request)
        transport.send_response(app.error_response(500, request, "EventStream already in use"), request)
        return
    if not isinstance(response.headers, dict):  # render refuses it: the 500 handler answers
        transport.send_response(response, request)
        return
    config = app.config
    headers = dict(response.headers)
    names = {name.lower(): name for name in headers if isinstance(name, str)}
    headers.setdefault(names.get("content-type", "Content-Type"), CONTENT_TYPE)
    headers.setdefault(names.get("cache-control", "Cache-Control"), "no-cache")
    encoding = None
    if (config.get("compression", True) and getattr(response, "compress", True)
            and "content-encoding" not in names
            and "no-transform" not in str(headers.get(names.get("cache-control", ""), "")).lower()):
        # gzip only: brotli's streaming state is much larger, for many long-lived streams
        encoding = choose_encoding(request.headers.get("Accept-Encoding"), (GZIP,))
        headers.setdefault(names.get("vary", "Vary"), "Accept-Encoding")
        if encoding is not None:
            headers["Content-Encoding"] = encoding
    for name in ("content-length", "transfer-encoding"):
        headers.pop(names.get(name, ""), None)
    rendered = app.render(Response(response.status_code, headers, iter(()), response.cookies,
                                   compress=False), request, False)
    framed = isinstance(rendered.body, Iterator)  # else render refused it: an error page
    if framed:
        rendered.body.close()  # type: ignore[union-attr]
    try:
        transport.send(rendered.head if framed else rendered.head + bytes(rendered.body))  # type: ignore[arg-type]
    except OSError:
        transport.abort()
        stream.ended()
        return
    if host.access_log:
        log_access(transport.address, request, rendered)
    if not framed or request.method == "HEAD":
        stream.ended()
        return  # the connection closes
    session = StreamSession(host, transport, stream, request.version == "HTTP/1.1",
                            StreamCompressor(encoding, small=True) if encoding else None)
    # The connection is this thread's until it returns, so the loop sees the session only
    # once it is complete, whatever other threads send meanwhile.
    if not stream.attach(session, request.headers.get("Last-Event-ID")):
        logger.error("an EventStream was returned twice (%s): the second response is closed", request)
        session.cancel()
        return
    transport.keep_in_loop(session)
    if host.stopping:
        stream.close()


class StreamSession:
    """An open event stream in the worker's loop: the socket, the unsent bytes, timers.

    ``write`` and ``finish`` run with the stream's lock held (from the sender's thread);
    ``on_readable`` and ``expired`` (the loop) take it themselves; ``ended`` runs when the
    connection closes, from whichever thread closed it.
    """

    def __init__(self, host: Host, transport: Transport, stream: EventStream, chunked: bool,
                 compressor: Optional[StreamCompressor]) -> None:
        config = host.app.config
        self.sock = transport.sock
        self._transport = transport
        self._stream = stream
        self._chunked = chunked
        self._compressor = compressor
        self._buffer = bytearray()
        self._max_buffer = int(config.get("sse_max_buffer", 1024 * 1024))
        self._heartbeat = float(config.get("sse_heartbeat", 15))
        self._timeout = host.settings.process_timeout
        self._last_write = time.monotonic()
        self._finished = False    # the last chunk is queued
        self._finish_deadline = 0.0
        self._failed = False      # dropped or the socket failed: the loop resets it
        self._cancel_stop = host.on_stop(stream.close)

    # -- under the stream's lock ----------------------------------------------------

    def write(self, payload: bytes) -> bool:
        if self._failed or self._finished:
            return False
        if self._compressor is not None:
            payload = self._compressor.compress(payload)
        self._queue(payload)
        return not self._failed

    def finish(self) -> None:
        if self._finished or self._failed:
            return
        self._finished = True
        self._finish_deadline = time.monotonic() + self._timeout
        if self._compressor is not None:
            self._queue(self._compressor.finish(), last=True)
        elif self._chunked:
            self._buffer += _LAST_CHUNK
            self._flush()
        if not self._buffer:
            self._shut_down()

    def _queue(self, payload: bytes, last: bool = False) -> None:
        if self._chunked:
            if payload:
                self._buffer += b"%x\r\n%b\r\n" % (len(payload), payload)
            if last:
                self._buffer += _LAST_CHUNK
        else:
            self._buffer += payload
        self._last_write = time.monotonic()
        self._flush()
        if len(self._buffer) > self._max_buffer:
            logger.warning("EventStream client %s read nothing while %d bytes queued: dropped",
                           self._transport.address, len(self._buffer))
            self._fail()

    def _flush(self) -> None:
        buffer = self._buffer
        while buffer:
            try:
                sent = self.sock.send(buffer)
            except _WOULD_BLOCK:
                return
            except OSError:
                self._fail()
                return
            del buffer[:sent]

    def _fail(self) -> None:
        """Drop the client: no more writes; the loop sees the shutdown and resets."""
        self._failed = True
        self._stream.closed = True
        self._buffer = bytearray()
        self._shut_down()

    def _shut_down(self) -> None:
        try:  # wakes the loop (end of stream) without closing the fd under its feet
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- the loop -------------------------------------------------------------------

    def on_readable(self) -> None:
        with self._stream.lock:
            try:
                data = self.sock.recv(4096)
            except _WOULD_BLOCK:
                return  # TLS bookkeeping; nothing for us
            except OSError:
                data = b""
            failed = self._failed
        if failed:
            self._reset()
        elif not data:
            self._transport.close()
        # what a client sends on an event stream is ignored

    def expired(self, now: float) -> bool:
        with self._stream.lock:
            if not self._failed:
                self._flush()
            if self._failed:
                failed = True
            else:
                failed = False
                if self._finished:
                    return not self._buffer or now > self._finish_deadline
                if now - self._last_write >= self._heartbeat and not self._buffer:
                    self._queue(HEARTBEAT if self._compressor is None
                                else self._compressor.compress(HEARTBEAT))
                    failed = self._failed
        if failed:
            self._reset()
        return False

    def ended(self) -> None:
        self._cancel_stop()
        self._transport.abort()
        self._stream.ended()

    def _reset(self) -> None:
        """Close with a reset: a client that stopped reading gets nothing more."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        except OSError:
            pass
        self._transport.close()

    def cancel(self) -> None:
        """The stream was not ours after all (already attached elsewhere): end quietly."""
        self._cancel_stop()
