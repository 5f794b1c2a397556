"""outside: an HTTP/1.1 and WebSocket server framework, inspired by Flask, needing nothing in front of it."""
from __future__ import annotations

from ._version import __version__
from .app import OutsideHTTP, OutsideHTTP_Redirect, ScheduledResponse
from .cookies import ResponseCookie
from .files import FilePath
from .headers import get_insensitive_header
from .request import Request
from .response import Response
from .status import get_description

__all__ = [
    "FilePath", "OutsideHTTP", "OutsideHTTP_Redirect", "Request", "Response", "ResponseCookie",
    "ScheduledResponse", "__version__", "get_description", "get_insensitive_header",
]

# The WebSocket names land separately; everything else works without them.
try:
    from .websocket import WebSocket
    __all__.append("WebSocket")
except ImportError:  # pragma: no cover
    pass
try:
    from .websocket import WebSocketConnection
    __all__.append("WebSocketConnection")
except ImportError:  # pragma: no cover
    pass
