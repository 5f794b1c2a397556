"""A request body that is still arriving while the handler runs.

The handler pulls it with ``read``; the socket is read only then, so a handler that
stops consuming stops the client (TCP backpressure) and a large upload never sits in
memory as a whole.
"""
from __future__ import annotations

from collections import deque
from typing import Callable

from ..http.events import MessageEnd

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class BodyStream:
    """A file-like, read-only view of one request body.

    ``events`` is the connection's queue of parser events, positioned just after this
    request's head; ``pull()`` blocks until the connection has appended more events to
    it; ``send_continue()`` answers ``Expect: 100-continue`` (called once, on the first
    read that needs the network).
    """

    def __init__(self, events: deque[object], pull: Callable[[], None],
                 send_continue: Callable[[], None] | None = None) -> None:
        self._events = events
        self._pull = pull
        self._send_continue = send_continue
        self._buffer = bytearray()
        self.finished = False   # the whole body was received (MessageEnd taken)
        self.error: BaseException | None = None  # why reading failed, if it did

    def _take_queued(self) -> None:
        """Move the body pieces already received into the buffer."""
        events = self._events
        while events and not self.finished:
            event = events[0]
            if isinstance(event, MessageEnd):
                self.finished = True
            elif isinstance(event, (bytes, bytearray)):
                self._buffer += event
            else:  # a head: cannot happen before this body's end
                break
            events.popleft()

    def _fill(self, wanted: int) -> None:
        """Receive until ``wanted`` bytes are buffered (all when negative) or the end."""
        try:
            self._take_queued()
            while not self.finished and (wanted < 0 or len(self._buffer) < wanted):
                if self._send_continue is not None:
                    self._send_continue()
                    self._send_continue = None
                self._pull()
                self._take_queued()
        except Exception as exc:
            self.error = exc
            raise

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes of the body (all of the rest when negative); ``b""`` at the end."""
        if self.error is not None:
            raise self.error
        if size is None or size < 0:
            self._fill(-1)
            data = bytes(self._buffer)
            self._buffer.clear()
            return data
        if not self._buffer:
            self._fill(1)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data
