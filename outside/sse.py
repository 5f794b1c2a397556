"""``EventStream``: Server-Sent Events pushed to a browser's ``EventSource``.

    streams = set()

    def events(request):
        stream = EventStream(request)          # stream.last_event_id: where a reconnect resumes
        stream.on_close = streams.discard      # runs once the client is gone
        streams.add(stream)
        return stream.response()

    # from any thread, any time later:
    for stream in list(streams):
        stream.send("price: 12", event="tick", id="42")

Once the handler has returned the stream, the worker's event loop owns the connection: no
thread waits on it. ``send`` formats the event (``outside.http.sse``), and writes it from
the calling thread without blocking; what the socket cannot take at once is queued and
written by the loop. A client whose queue passes ``config["sse_max_buffer"]`` is dropped.
After ``config["sse_heartbeat"]`` seconds without an event, a comment line goes out so
proxies keep the connection open; a client that left is noticed (end of stream, or the
next write fails) and the stream closes.
"""
from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Dict, List, Optional

from .http.sse import CONTENT_TYPE, HEARTBEAT, format_comment, format_event
from .response import Response

logger = logging.getLogger("outside")

DEFAULT_MAX_BUFFER = 1024 * 1024


class EventStream:
    """An open ``text/event-stream`` response (see the module's docstring).

    ``request`` (optional): the request it answers, for ``last_event_id`` (the
    ``Last-Event-ID`` header a reconnecting ``EventSource`` sends, ``None`` on a first
    connection); the engine also fills it in when it takes the stream. ``on_close``: called
    with the stream, once, when its connection has ended (the client left or was dropped,
    ``close()``, the server stopping). ``closed``: True once the stream takes no more events.
    """

    is_event_stream = True  # how the response layer recognizes it without importing it

    def __init__(self, request: Any = None,
                 on_close: Optional[Callable[[EventStream], Any]] = None) -> None:
        self.on_close = on_close
        self.last_event_id: Optional[str] = None
        if request is not None:
            self.last_event_id = request.headers.get("Last-Event-ID")
        self.closed = False
        self.lock = threading.Lock()  # serializes writes (the engine's session uses it too)
        self._pending: List[bytes] = []  # events sent before the engine took the stream
        self._pending_size = 0
        self._session: Any = None
        self._ended = False

    def response(self, headers: Optional[Dict[str, Any]] = None, status: int = 200) -> Response:
        """A ``Response`` carrying this stream (``text/event-stream``, ``no-cache``)."""
        fields = {"Content-Type": CONTENT_TYPE, "Cache-Control": "no-cache"}
        fields.update(headers or {})
        return Response(status, fields, self)

    def send(self, data: Any = None, event: Optional[str] = None, id: Optional[str] = None,
             retry: Optional[int] = None) -> bool:
        """Queue one event; True if it was taken, False if the stream is closed (the
        client left, was dropped, or ``close()`` was called). Never blocks.

        ``data`` is a ``str`` (or UTF-8 ``bytes``) of any number of lines; ``event`` the
        event type (``addEventListener(event, ...)``; default ``message``); ``id`` what the
        client sends back as ``Last-Event-ID`` when it reconnects; ``retry`` the client's
        reconnection delay in milliseconds. Raises ``ValueError`` for a line break in
        ``event`` or ``id`` (see ``outside.http.sse.format_event``).
        """
        return self._write(format_event(data, event, id, retry))

    def comment(self, text: str = "") -> bool:
        """Send a comment (``: text``), which clients ignore; as ``send`` otherwise."""
        return self._write(format_comment(text) if text else HEARTBEAT)

    def close(self) -> None:
        """End the stream: what is queued is still written, then the connection closes."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            session = self._session
            if session is not None:
                session.finish()

    # -- publish/subscribe (outside.pubsub) ----------------------------------------------

    def subscribe(self, topic: str) -> None:
        """Send every message ``server.publish(topic, ...)`` publishes from now on as an
        event (``data:`` lines of its text), until ``unsubscribe(topic)`` or the stream's
        end. Raises ``TypeError``/``ValueError`` for a topic that is not a ``str`` of 1 to
        256 characters."""
        from .pubsub import hub
        hub.subscribe(topic, self)
        if self._ended:
            hub.leave_all(self)

    def unsubscribe(self, topic: str) -> None:
        """Stop sending ``topic`` (nothing happens if it was not subscribed)."""
        from .pubsub import hub
        hub.unsubscribe(topic, self)

    @property
    def topics(self) -> frozenset:
        """The topics this stream is subscribed to."""
        from .pubsub import hub
        return hub.topics_of(self)

    def deliver(self, message: Any) -> None:
        """The hub's side: queue a published message (never blocks)."""
        try:
            taken = self._write(message.event())
        except OverflowError:
            taken = False
        if not taken:
            from .pubsub import hub
            hub.leave_all(self)

    def _write(self, payload: bytes) -> bool:
        with self.lock:
            if self.closed:
                return False
            session = self._session
            if session is not None:
                return bool(session.write(payload))
            if self._pending_size + len(payload) > DEFAULT_MAX_BUFFER:
                raise OverflowError("more than 1 MiB of events sent before the stream was returned")
            self._pending.append(payload)
            self._pending_size += len(payload)
            return True

    # -- the engine's side -------------------------------------------------------------

    @property
    def taken(self) -> bool:
        """Whether a response already carries this stream (or it is over)."""
        return self._session is not None or self._ended

    def attach(self, session: Any, last_event_id: Optional[str]) -> bool:
        """Called by the engine once the response head is out: ``session`` now writes
        (under ``lock``); what was sent before goes first. False if the stream already
        belongs to another response."""
        with self.lock:
            if self._session is not None or self._ended:
                return False
            if self.last_event_id is None:
                self.last_event_id = last_event_id
            self._session = session
            pending, self._pending, self._pending_size = self._pending, [], 0
            if pending:
                session.write(b"".join(pending))
            if self.closed:
                session.finish()
        return True

    def ended(self) -> None:
        """The connection is over: close, and run ``on_close`` (once)."""
        with self.lock:
            self.closed = True
            if self._ended:
                return
            self._ended = True
        from .pubsub import hub
        hub.leave_all(self)
        if self.on_close is not None:
            try:
                self.on_close(self)
            except Exception:
                logger.exception("EventStream on_close callback %r failed", self.on_close)

    def __repr__(self) -> str:
        return f"<EventStream {'closed' if self.closed else 'open'}>"
