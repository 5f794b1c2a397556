"""Sans-I/O WebSocket (RFC 6455): frames, masking, handshake, permessage-deflate, protocol.

Nothing here knows sockets, threads or clocks, so that the server, a test client and
the benchmarks all drive the same code; importing it loads no HTTP or server code.
The adapters that run it over a socket are in ``outside.server.websocket``; the route
users create, ``WebSocket``, is ``outside.websocket_route.WebSocket``. Both stay
importable from here (loaded on first use).
"""
from __future__ import annotations

import importlib
from typing import Any

from .errors import ConnectionEnded

# name -> the module that defines it, imported when the name is first asked for
_ELSEWHERE = {
    "WebSocket": "outside.websocket_route",
    "WebSocketConnection": "outside.server.websocket.blocking",
}

__all__ = ["ConnectionEnded", "WebSocket", "WebSocketConnection"]


def __getattr__(name: str) -> Any:
    if name in _ELSEWHERE:
        value = getattr(importlib.import_module(_ELSEWHERE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
