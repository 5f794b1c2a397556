"""``EventDrivenSession``: a WebSocket of an ``on_message`` route, driven by the worker's
event loop instead of a thread of its own.

The loop watches ``sock`` and calls ``on_readable()`` when bytes arrive (from the thread
that owns the connection at that moment: one at a time), ``expired(now)`` on its
sweeps, and ``ended()`` whenever the connection is closed, by whichever side. Handlers
run inline on the loop's thread (the watchdog moves the loop on if one blocks).
"""
from __future__ import annotations

import threading
from typing import Any

from ...pubsub import turn
from .blocking import SMALL_READ, WebSocketConnection, next_read_size
from .handlers import call_handler, run_exit_handler
from .transport import EventTransport


class EventDrivenSession:
    """One event-driven connection: the route's handlers over ``connection``, bytes
    from ``transport``. ``sock``: the socket the loop's selector watches for it."""

    def __init__(self, route: Any, connection: WebSocketConnection,
                 transport: EventTransport, sock: Any = None) -> None:
        self.sock = sock
        self.connection = connection
        self._route = route
        self._transport = transport
        self._ended = threading.Lock()  # taken once: the exit handler runs once
        self._read_size = SMALL_READ

    def start(self) -> None:
        """Run the route's ``on_connection`` handler (if any), then the messages that
        came with the upgrade request."""
        if self._route.connection_handler is not None:
            call_handler(self._route.connection_handler, self.connection)
        self._deliver(self.connection._take_messages())

    def on_readable(self) -> None:
        """Read what has arrived and hand each whole message to ``on_message``."""
        data = self._transport.receive_ready(self._read_size)
        if data is None:
            return
        self._read_size = next_read_size(len(data))
        if not data:
            self.connection._lost()
            return
        self._deliver(self.connection._take_messages(data))

    def expired(self, now: float) -> bool:
        """Whether the loop should drop the connection now (its close went unanswered,
        or the idle peer reads nothing); sends the idle timeout's close when it is due."""
        return self.connection._check_timeouts(now, self._transport.writable)

    def ended(self) -> None:
        """The connection is over (closed by either side, or dropped by the loop): close
        the socket if it is not yet, release its count and run the exit handler, once."""
        if not self._ended.acquire(blocking=False):
            return
        self._transport.abort()
        self._transport.close_websocket()
        run_exit_handler(self._route, self.connection)

    def _deliver(self, messages: list[str | bytes]) -> None:
        connection = self.connection
        handler = self._route.message_handler
        with turn():  # what the handlers publish goes out once they are done
            for message in messages:
                if connection._server_closed:  # what the peer sends after our close is dropped
                    break
                call_handler(handler, connection, message)
        connection._end_if_over()
