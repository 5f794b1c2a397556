"""A WebSocket connection as a pub/sub subscriber: published frames go out through the
transport's non-blocking ``Outbox``; a connection that lets more than
``max_backpressure`` bytes pile up is closed with 1008 and counted."""
from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING, Any

from ...pubsub import Published, hub
from ...websocket.errors import POLICY_VIOLATION
from ...websocket.protocol import State
from ..pubsub_outbox import outbox_for

if TYPE_CHECKING:
    from .blocking import WebSocketConnection

# Seconds a dropped subscriber gets to take its close frame before its socket is closed.
DROP_GRACE = 2.0


class WebSocketSubscriber:
    """The subscriptions of one ``WebSocketConnection``: the hub's fan-out offers its
    ``outbox`` the frames of its ``form`` (``deliver`` serves a connection without one)."""

    __slots__ = ("_connection", "_dropped", "form", "outbox")

    def __init__(self, connection: WebSocketConnection) -> None:
        self._connection = connection
        self._dropped = False
        transport = connection._transport
        self.outbox = outbox_for(transport, hub.max_backpressure)
        if self.outbox is not None:
            self.outbox.open_while(connection._protocol, State.OPEN)
        deflate = connection._protocol._deflate
        # no context takeover: every such connection can share one compressed frame;
        # with takeover the frame goes out uncompressed (RFC 7692 allows either)
        self.form = 0
        if deflate is not None and deflate._compress_reset:
            self.form = deflate._compress_bits

    def deliver(self, message: Published) -> None:
        """A connection without an outbox (a test's stream): a plain send."""
        connection = self._connection
        if connection._protocol.state is not State.OPEN:
            return
        outbox = self.outbox
        if outbox is None:
            connection.send(message.payload if message.kind else message.payload.decode())
        elif not outbox.offer(message.deflated_frame(self.form) if self.form
                              else message.websocket_frame(), outbox.is_open):
            self.overflowed()

    def overflowed(self) -> None:
        """The outbox refused (past ``max_backpressure``): close with 1008."""
        self._drop(self.outbox.pending if self.outbox is not None else 0)

    def _drop(self, pending: int) -> None:
        if self._dropped:
            return
        self._dropped = True
        hub.leave_all(self)
        hub.dropped(self._connection, pending)
        threading.Thread(target=_close_slow, args=(self._connection,),
                         name="outside-pubsub-drop", daemon=True).start()

    def __repr__(self) -> str:
        return f"<WebSocketSubscriber {self._connection!r}>"


def _close_slow(connection: Any) -> None:
    """Send the 1008 close after what is queued; close the socket if it never gets out."""
    transport = connection._transport
    timer = threading.Timer(DROP_GRACE, _give_up, args=(transport,))
    timer.daemon = True
    timer.start()
    try:
        connection.close(POLICY_VIOLATION, "subscriber too slow")
    finally:
        timer.cancel()
    if connection._reader is None:  # event-driven: nobody reads on to see the end
        transport.close()


def _give_up(transport: Any) -> None:
    """End the connection now: ``shutdown`` first, which wakes every thread waiting on
    the socket (the handler's read, the close's write) and ends the stream after what
    is already in the kernel, where a plain close would wait for those threads."""
    try:
        transport.sock.shutdown(socket.SHUT_RDWR)
    except (OSError, AttributeError):
        pass
    transport.abort()
