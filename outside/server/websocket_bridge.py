"""Where an accepted WebSocket upgrade leaves the HTTP engine.

``serve_websocket`` runs in the handler thread that served the upgrade request. A route
has one of two shapes:

- ``on_connection`` only (the blocking API): the handler runs on that thread, which
  leaves the worker's pool of ``max_workers`` threads for the connection's whole life,
  and reads with a blocking ``recv()``.
- ``on_message``: the connection goes back to the worker's event loop, which reads it and
  calls the handler with each whole message on the loop's thread (handed to another
  thread by the watchdog if a handler blocks). No thread waits on an idle connection.

Either way ``max_websockets`` bounds the open connections of a worker process, and the
route's exit handler runs exactly once. ``docs/engine.md`` describes the ``Transport``.
"""
from __future__ import annotations

import logging
import socket
import threading
from typing import TYPE_CHECKING, Any, Callable, List, Union

from ..websocket.connection import SMALL_READ, WebSocketConnection, next_read_size
from ..websocket.errors import GOING_AWAY, INTERNAL_ERROR, ConnectionClosed
from ..websocket.handshake import HandshakeError

if TYPE_CHECKING:
    from ..request import Request
    from .transport import Transport

logger = logging.getLogger("outside")


def serve_websocket(route: Any, request: "Request", transport: "Transport") -> None:
    """Open the WebSocket ``route`` over ``transport``.

    A request that is not a valid handshake is answered by the app's error handler for
    400, 426 or 403; one beyond ``max_websockets`` (or when no thread can be spared)
    gets 503. Otherwise the 101 is sent and the route runs: a blocking handler until the
    connection ends; an ``on_message`` route is handed to the event loop
    (``transport.keep_in_loop``) and this returns at once.
    """
    try:
        handshake = route.handshake(request.method, request.version, request.header_list)
    except HandshakeError as exc:
        response = transport.app.error_response(exc.status, request, exc.reason)
        for name, value in exc.headers:
            response.headers[name] = value
        transport.send_response(response, request)
        return
    event_driven = route.message_handler is not None
    if not transport.open_websocket():
        _refuse(transport, request, "too many WebSocket connections")
        return
    if not event_driven and not transport.release_thread():
        transport.close_websocket()
        _refuse(transport, request, "no thread for another WebSocket connection")
        return
    try:
        transport.send(handshake.response_head())
    except OSError:  # the client left before the connection opened: no handler runs
        transport.close_websocket()
        return
    connection = WebSocketConnection(transport, route.protocol(handshake), request,
                                     handshake.subprotocol, transport.timeout or None,
                                     event_driven=event_driven)
    transport.on_server_stop(lambda: connection.close(GOING_AWAY, "server stopping"))
    if event_driven:
        session = EventDrivenSession(route, connection, transport)
        transport.keep_in_loop(session)
        session.start()
        return
    try:
        _run_handler(route, connection)
    finally:
        transport.close()
        transport.close_websocket()
        _run_exit_handler(route, connection)


def _refuse(transport: "Transport", request: "Request", reason: str) -> None:
    logger.warning("WebSocket %s refused: %s", request.url, reason)
    response = transport.app.error_response(503, request, reason)
    response.headers["Retry-After"] = "1"
    transport.send_response(response, request)


def _run_handler(route: Any, connection: WebSocketConnection) -> None:
    """The connection handler, then a normal close; a failing handler closes with 1011."""
    try:
        if route.connection_handler is None:
            for _ in connection:  # no handler: keep the connection until the peer closes
                pass
        else:
            route.connection_handler(connection)
        connection.close()
    except ConnectionClosed:  # the connection ended (peer's close, exit(), ...)
        pass
    except Exception:
        logger.exception("WebSocket handler for %s failed", connection.request.url)
        connection.close(INTERNAL_ERROR, "internal error")


def _run_exit_handler(route: Any, connection: WebSocketConnection) -> None:
    try:
        route.run_exit_handler(connection)
    except Exception:
        logger.exception("WebSocket on_exit handler for %s failed", connection.request.url)


class EventDrivenSession:
    """A WebSocket of an ``on_message`` route, driven by the worker's event loop.

    The loop calls ``on_readable`` when bytes arrive (from the thread that owns the
    connection at that moment: one at a time), ``expired`` on its sweeps, and ``ended``
    whenever the connection is closed, by whichever side.
    """

    def __init__(self, route: Any, connection: WebSocketConnection,
                 transport: "Transport") -> None:
        self._route = route
        self._connection = connection
        self._transport = transport
        self._ended = threading.Lock()  # taken once: the exit handler runs once
        self._read_size = SMALL_READ

    def start(self) -> None:
        """Run the route's ``on_connection`` handler (if any), then the messages that
        came with the upgrade request."""
        if self._route.connection_handler is not None:
            self._call(self._route.connection_handler, self._connection)
        self._deliver(self._connection.take_messages())

    def on_readable(self) -> None:
        data = self._transport.receive_ready(self._read_size)
        if data is None:
            return
        self._read_size = next_read_size(len(data))
        if not data:
            self._connection.lost()
            return
        self._deliver(self._connection.take_messages(data))

    @property
    def sock(self) -> socket.socket:
        """The socket the worker's selector watches for this session."""
        return self._transport.sock

    def expired(self, now: float) -> bool:
        """Whether the loop should drop the connection now (its close went unanswered)."""
        return self._connection.check_timeouts(now, self._transport.writable)

    def ended(self) -> None:
        """The connection is over (closed by either side, or dropped by the loop): close
        the socket if it is not yet, then the exit handler, once."""
        if not self._ended.acquire(blocking=False):
            return
        self._transport.abort()
        self._transport.close_websocket()
        _run_exit_handler(self._route, self._connection)

    def _deliver(self, messages: List[Union[str, bytes]]) -> None:
        connection = self._connection
        handler = self._route.message_handler
        for message in messages:
            if connection.server_closed:  # what the peer sends after our close is dropped
                break
            self._call(handler, connection, message)
        connection.end_if_over()

    def _call(self, handler: Callable[..., None], *args: Any) -> None:
        """Run a handler; one that fails closes the connection with 1011."""
        try:
            handler(*args)
        except ConnectionClosed:  # it sent on a connection that had ended, or exit()
            pass
        except Exception:
            logger.exception("WebSocket handler for %s failed", self._connection.request.url)
            self._connection.close(INTERNAL_ERROR, "internal error")
