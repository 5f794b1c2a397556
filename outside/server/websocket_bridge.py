"""Where an accepted WebSocket upgrade leaves the HTTP engine.

``serve_websocket`` runs in the handler thread that served the upgrade request (so it
counts in ``max_workers``) and owns the connection until it returns; the engine then
closes the socket. ``docs/engine.md`` describes the ``Transport`` it receives.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..request import Request
    from .transport import Transport


def serve_websocket(route: Any, request: "Request", transport: "Transport") -> None:
    """Run the WebSocket ``route`` over ``transport`` (not wired yet: answers 501)."""
    response = transport.app.error_response(501, request, "WebSocket connections are not served yet")
    transport.send_response(response, request)
