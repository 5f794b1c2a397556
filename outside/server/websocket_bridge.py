"""Where an accepted WebSocket upgrade leaves the HTTP engine.

``serve_websocket`` runs in the handler thread that served the upgrade request (so it
counts in ``max_workers``: each open WebSocket holds one of those threads for its whole
life) and owns the connection until it returns; the engine then closes the socket.
``docs/engine.md`` describes the ``Transport`` it receives.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..websocket.connection import WebSocketConnection
from ..websocket.errors import GOING_AWAY, INTERNAL_ERROR, ConnectionClosed
from ..websocket.handshake import HandshakeError

if TYPE_CHECKING:
    from ..request import Request
    from .transport import Transport

logger = logging.getLogger("outside")


def serve_websocket(route: Any, request: "Request", transport: "Transport") -> None:
    """Run the WebSocket ``route`` over ``transport`` until the connection ends.

    A request that is not a valid handshake is answered by the app's error handler for
    400, 426 or 403. Otherwise the 101 is sent, ``route.connection_handler`` runs with a
    ``WebSocketConnection``, and ``route.exit_handler`` runs exactly once afterwards,
    whichever way the connection ended. Errors in either handler are logged.
    """
    try:
        handshake = route.handshake(request.method, request.version, request.header_list)
    except HandshakeError as exc:
        response = transport.app.error_response(exc.status, request, exc.reason)
        for name, value in exc.headers:
            response.headers[name] = value
        transport.send_response(response, request)
        return
    try:
        transport.send(handshake.response_head())
    except OSError:
        return  # the client left before the connection opened: no handler runs
    connection = WebSocketConnection(transport, route.protocol(handshake), request,
                                     handshake.subprotocol, transport.timeout or None)
    transport.on_server_stop(lambda: connection.close(GOING_AWAY, "server stopping"))
    try:
        _run_handler(route, connection)
    finally:
        transport.close()
        _run_exit_handler(route, request)


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


def _run_exit_handler(route: Any, request: "Request") -> None:
    if route.exit_handler is None:
        return
    try:
        route.exit_handler()
    except Exception:
        logger.exception("WebSocket on_exit handler for %s failed", request.url)
