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

from typing import TYPE_CHECKING, Any

from ...websocket.errors import GOING_AWAY
from ...websocket.handshake import HandshakeError
from .blocking import WebSocketConnection
from .event import EventDrivenSession
from .handlers import logger, run_blocking_handler, run_exit_handler
from .transport import UpgradeTransport

if TYPE_CHECKING:
    from ...request import Request


def serve_websocket(route: Any, request: Request, transport: UpgradeTransport) -> None:
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
        session = EventDrivenSession(route, connection, transport, transport.sock)
        transport.keep_in_loop(session)
        session.start()
        return
    try:
        run_blocking_handler(route, connection)
    finally:
        transport.close()
        transport.close_websocket()
        run_exit_handler(route, connection)



def _refuse(transport: UpgradeTransport, request: Request, reason: str) -> None:
    logger.warning("WebSocket %s refused: %s", request.url, reason)
    response = transport.app.error_response(503, request, reason)
    response.headers["Retry-After"] = "1"
    transport.send_response(response, request)
