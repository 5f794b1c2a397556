"""Running a WebSocket route's handlers: a failing handler closes its connection with
1011 and is logged; the server never fails with it."""
from __future__ import annotations

import logging
from typing import Any, Callable

from ...websocket.errors import INTERNAL_ERROR, ConnectionClosed
from .blocking import WebSocketConnection

logger = logging.getLogger("outside")


def call_handler(handler: Callable[..., None], connection: WebSocketConnection,
                 *args: Any) -> None:
    """``handler(connection, *args)``; one that fails closes the connection with 1011."""
    try:
        handler(connection, *args)
    except ConnectionClosed:  # it sent on a connection that had ended, or exit()
        pass
    except Exception:
        logger.exception("WebSocket handler for %s failed", _url(connection))
        connection.close(INTERNAL_ERROR, "internal error")


def run_blocking_handler(route: Any, connection: WebSocketConnection) -> None:
    """The route's connection handler, then a normal close (1011 if it failed)."""
    call_handler(_handle_then_close, connection,
                 route.connection_handler or _read_until_closed)


def run_exit_handler(route: Any, connection: WebSocketConnection) -> None:
    """The route's exit handler, if any; a failure is logged. The connection has left
    its pub/sub topics by then."""
    connection._leave_topics()
    try:
        route.run_exit_handler(connection)
    except Exception:
        logger.exception("WebSocket on_exit handler for %s failed", _url(connection))


def _handle_then_close(connection: WebSocketConnection,
                       handler: Callable[[WebSocketConnection], None]) -> None:
    handler(connection)
    connection.close()


def _read_until_closed(connection: WebSocketConnection) -> None:
    for _ in connection:  # no handler: keep the connection until the peer closes
        pass


def _url(connection: WebSocketConnection) -> Any:
    return getattr(connection.request, "url", None)
