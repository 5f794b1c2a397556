"""Where an accepted WebSocket upgrade leaves the HTTP engine.

``serve_websocket`` runs in the handler thread that served the upgrade request (so it
counts in ``max_workers``) and owns the connection until it returns; the engine closes
the socket afterwards. ``docs/engine.md`` describes the transport it receives.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..request import Request
    from .connection import Connection


def serve_websocket(route: Any, request: "Request", connection: "Connection") -> None:
    """Run the WebSocket ``route`` over ``connection`` (not wired yet: answers 501)."""
    response = connection.worker.app.error_response(
        501, request, "WebSocket connections are not served yet")
    connection.send_response(response, request, False)
